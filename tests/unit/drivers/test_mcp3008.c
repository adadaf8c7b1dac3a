/* test_mcp3008.c - the mcp3008 driver on the emulated ADC: voltage and a
 * linearly scaled quantity with its unit and derived range, differential
 * pairs, averaging, MISO stuck high, garbled frames, SPI errors, and the
 * parameter checks. */
#include "rig.h"

static void
test_voltage_and_scaling(void)
{
    struct rig r;
    const struct nano_msg *m;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "0") == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch0", 0.75) == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch2", 2.2) == NANO_OK);
    /* TMP36: 10 mV/°C with 500 mV at 0 °C. */
    rig_install_ok(&r, "tmp36", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.0\","
                   "\"channel\":0,\"scale\":100,\"offset\":-50,\"quantity\":"
                   "\"temperature\",\"unit\":\"°C\",\"interval\":\"30ms\"}");
    rig_install_ok(&r, "tank", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.0\","
                   "\"channel\":2,\"samples\":8,\"interval\":\"30ms\"}");
    NT_ASSERT(rig_wait(&r, "sensors/tmp36/temperature", NANO_Q_OK, 1, 2000));
    NT_ASSERT(rig_wait(&r, "sensors/tank/voltage", NANO_Q_OK, 1, 2000));
    /* 0.75 V -> code 232 -> 0.7477 V -> 24.77 °C (10-bit steps of 3.2 mV). */
    NT_NEAR(rig_last(&r, "sensors/tmp36/voltage")->num, 232 * 3.3 / 1024, 1e-9);
    NT_NEAR(rig_last(&r, "sensors/tmp36/temperature")->num,
            232 * 3.3 / 1024 * 100 - 50, 1e-9);
    NT_NEAR(rig_last(&r, "sensors/tank/voltage")->num, 682 * 3.3 / 1024, 1e-9);
    m = nano_bus_latest(r.bus, "sensors/tmp36/temperature");
    NT_ASSERT(m);
    NT_EQ_STR(m->v.unit, "°C");
    m = nano_bus_latest(r.bus, "sensors/tank/voltage");
    NT_EQ_STR(m->v.unit, "V");
    NT_CHECK(nano_bus_latest(r.bus, "sensors/tank/temperature") == NULL);
    rig_down(&r);
}

static void
test_differential_and_vref(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "1") == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "1", "vref", 2.5) == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "1", "ch4", 1.5) == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "1", "ch5", 0.5) == NANO_OK);
    rig_install_ok(&r, "bridge", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.1\","
                   "\"channel\":4,\"differential\":true,\"vref\":2.5,"
                   "\"interval\":\"30ms\"}");
    NT_ASSERT(rig_wait(&r, "sensors/bridge/voltage", NANO_Q_OK, 1, 2000));
    NT_NEAR(rig_last(&r, "sensors/bridge/voltage")->num, 1.0, 2.5 / 1024);
    rig_down(&r);
}

static void
test_faults(void)
{
    struct rig r;
    const char *v = "sensors/adc/voltage";

    rig_up(&r);
    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "0") == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch1", 1.0) == NANO_OK);
    rig_install_ok(&r, "adc", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.0\","
                   "\"channel\":1,\"interval\":\"30ms\"}");
    NT_ASSERT(rig_wait(&r, v, NANO_Q_OK, 1, 2000));

    /* Unplugged: MISO floats high.  SPI cannot NACK; the null bit tells. */
    NT_ASSERT(nano_sim_unplug("spi0", "0") == NANO_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_STALE, 1, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "adc"), "acknowledge") != NULL);
    NT_ASSERT(nano_sim_replug("spi0", "0") == NANO_OK);
    int ok = rig_count(&r, v, NANO_Q_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_OK, ok + 1, 3000));

    /* Garbled frame. */
    NT_ASSERT(nano_sim_fault("spi0", "0", NANO_SIM_FAULT_CRC, 1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_STALE, 2, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "adc"), "corrupt data") != NULL);
    ok = rig_count(&r, v, NANO_Q_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_OK, ok + 1, 3000));

    /* The controller fails the transfer. */
    NT_ASSERT(nano_sim_fault("spi0", "0", NANO_SIM_FAULT_TIMEOUT, 1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_STALE, 3, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "adc"), "timed out") != NULL);
    ok = rig_count(&r, v, NANO_Q_OK);
    NT_ASSERT(rig_wait(&r, v, NANO_Q_OK, ok + 1, 3000));
    /* No bad value ever got through as a reading. */
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.log[i].topic, v) == 0)
            NT_NEAR(r.log[i].num, 310 * 3.3 / 1024, 1e-9);
    rig_down(&r);
}

static void
test_scaled_full_scale(void)
{
    struct rig r;
    const char *q = "sensors/level/fill";

    rig_up(&r);
    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "0") == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch3", 1.65) == NANO_OK);
    /* 0..3.3 V is 0..100 %: the range of "fill" is derived from vref. */
    rig_install_ok(&r, "level", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.0\","
                   "\"channel\":3,\"scale\":30.303,\"quantity\":\"fill\","
                   "\"unit\":\"%\",\"interval\":\"30ms\"}");
    NT_ASSERT(rig_wait(&r, q, NANO_Q_OK, 1, 2000));
    NT_NEAR(rig_last(&r, q)->num, 512 * 3.3 / 1024 * 30.303, 1e-6);
    /* An input above the reference clamps at the top code: full scale,
     * still inside the derived range [0, vref * scale]. */
    NT_ASSERT(nano_sim_set("spi0", "0", "ch4", 4.0) == NANO_OK);
    rig_install_ok(&r, "lvl2", "{\"driver\":\"mcp3008\",\"bus\":\"sim:spi0.0\","
                   "\"channel\":4,\"quantity\":\"fill\",\"scale\":100,"
                   "\"interval\":\"30ms\"}");
    NT_ASSERT(rig_wait(&r, "sensors/lvl2/fill", -1, 1, 2000));
    NT_EQ_INT(rig_last(&r, "sensors/lvl2/fill")->quality, NANO_Q_OK);
    NT_NEAR(rig_last(&r, "sensors/lvl2/fill")->num, 1023 * 3.3 / 1024 * 100, 1e-9);
    rig_down(&r);
}

static void
test_parameter_checks(void)
{
    static const struct { const char *json, *msg; } cases[] = {
        { "{\"driver\":\"mcp3008\"}", "missing required parameter 'channel'" },
        { "{\"driver\":\"mcp3008\",\"channel\":8}", "between 0 and 7" },
        { "{\"driver\":\"mcp3008\",\"channel\":1,\"vref\":9}", "between 0.25 and 5.5" },
        { "{\"driver\":\"mcp3008\",\"channel\":1,\"quantity\":\"Temp C\"}",
          "lower-case letters" },
        { "{\"driver\":\"mcp3008\",\"channel\":1,\"scale\":0}", "must not be 0" },
        { "{\"driver\":\"mcp3008\",\"channel\":1,\"samples\":0}", "between 1 and 64" },
    };
    struct rig r;

    rig_up(&r);
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct nano_diag d = { 0 };
        NT_MSG("case %zu: %s", i, d.msg);
        NT_EQ_INT(rig_install(&r, "x", cases[i].json, &d), NANO_ESCHEMA);
        NT_MSG("case %zu: %s", i, d.msg);
        NT_CHECK(strstr(d.msg, cases[i].msg) != NULL);
    }
    rig_down(&r);
}

NT_LIST = {
    { "voltage_and_scaling",   test_voltage_and_scaling },
    { "differential_and_vref", test_differential_and_vref },
    { "faults",                test_faults },
    { "scaled_full_scale",     test_scaled_full_scale },
    { "parameter_checks",      test_parameter_checks },
    { NULL, NULL }
};
