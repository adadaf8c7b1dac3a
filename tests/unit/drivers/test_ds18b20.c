/* test_ds18b20.c - the ds18b20 driver on the emulated w1 tree: readings
 * through the offload lane, several sensors by id, the one-sensor default,
 * "crc NO", the 85 °C power-on value, no answer, -127, unplug/replug, and a
 * read that never returns (the manager's watchdog, then recovery). */
#include "rig.h"

#define ID1 "28-000005e2fdc3"
#define ID2 "28-0000072a9b11"
#define T "sensors/boiler/temperature"

static const char *const settings =
    "{\"driver\":\"ds18b20\",\"bus\":\"sim:wire0\",\"interval\":\"40ms\"}";

static void
test_one_sensor_default_id(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", 76.0) == NANO_OK);
    rig_install_ok(&r, "boiler", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 2, 2000));
    NT_NEAR(rig_last(&r, T)->num, 76.0, 1e-9);
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", -10.0625) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 4, 2000));
    NT_NEAR(rig_last(&r, T)->num, -10.062, 1e-9);    /* w1_therm truncates */
    rig_down(&r);
}

static void
test_several_sensors_by_id(void)
{
    struct rig r;
    struct nano_diag d = { 0 };

    rig_up(&r);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID2) == NANO_OK);
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", 20.5) == NANO_OK);
    NT_ASSERT(nano_sim_set("wire0", ID2, "temperature", 60.25) == NANO_OK);
    rig_install_ok(&r, "flow", "{\"driver\":\"ds18b20\",\"bus\":\"sim:wire0\","
                   "\"id\":\"" ID1 "\",\"interval\":\"40ms\"}");
    rig_install_ok(&r, "ret", "{\"driver\":\"ds18b20\",\"bus\":\"wire0\","
                   "\"id\":\"28-0000072A9B11\",\"interval\":\"40ms\"}");
    /* Without an id on a bus of two, the instance cannot choose. */
    rig_install_ok(&r, "which", settings);
    NT_ASSERT(rig_wait(&r, "sensors/flow/temperature", NANO_Q_OK, 1, 2000));
    NT_ASSERT(rig_wait(&r, "sensors/ret/temperature", NANO_Q_OK, 1, 2000));
    NT_NEAR(rig_last(&r, "sensors/flow/temperature")->num, 20.5, 1e-9);
    NT_NEAR(rig_last(&r, "sensors/ret/temperature")->num, 60.25, 1e-9);
    NT_ASSERT(rig_wait_state(&r, "which", NANO_DEV_BACKOFF, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "which"), "ambiguous") != NULL);

    /* An id that is not on the bus. */
    rig_install_ok(&r, "gone", "{\"driver\":\"ds18b20\",\"bus\":\"sim:wire0\","
                   "\"id\":\"28-00000000beef\",\"interval\":\"40ms\"}");
    NT_ASSERT(rig_wait_state(&r, "gone", NANO_DEV_BACKOFF, 1000));
    /* A malformed id never gets installed. */
    NT_EQ_INT(rig_install(&r, "bad", "{\"driver\":\"ds18b20\",\"id\":\"28-xyz\"}", &d),
              NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "not a 1-Wire id") != NULL);
    rig_down(&r);
}

static void
fault_and_recover(enum nano_sim_fault f, const char *err_text)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    rig_install_ok(&r, "boiler", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 2, 2000));
    int ok = rig_count(&r, T, NANO_Q_OK);
    NT_ASSERT(nano_sim_fault("wire0", ID1, f, -1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_STALE, 1, 3000));
    NT_MSG("%s", rig_dev_json(&r, "boiler"));
    NT_CHECK(strstr(rig_dev_json(&r, "boiler"), err_text) != NULL);
    NT_EQ_INT(rig_count(&r, T, NANO_Q_OK), ok);       /* nothing bad published */
    for (int i = 0; i < r.n; i++)
        NT_CHECK(strcmp(r.log[i].topic, T) != 0 || r.log[i].num != 85.0);
    NT_ASSERT(nano_sim_fault("wire0", ID1, NANO_SIM_FAULT_NONE, -1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, ok + 1, 5000));
    rig_down(&r);
}

static void
test_crc_no(void)
{
    fault_and_recover(NANO_SIM_FAULT_CRC, "checksum mismatch");
}

static void
test_power_on_85(void)
{
    fault_and_recover(NANO_SIM_FAULT_POWERON, "power-on reset value");
}

static void
test_no_answer(void)
{
    fault_and_recover(NANO_SIM_FAULT_NACK, "device did not acknowledge");
}

static void
test_read_never_returns(void)
{
    /* w1_slave becomes a FIFO nobody writes: the read blocks on the lane,
     * the manager's watchdog fails the sample, close() orphans the read;
     * clearing the fault releases it and the instance recovers. */
    fault_and_recover(NANO_SIM_FAULT_TIMEOUT, "timed out");
}

static void
test_unplug_replug(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    rig_install_ok(&r, "boiler", "{\"driver\":\"ds18b20\",\"bus\":\"sim:wire0\","
                   "\"id\":\"" ID1 "\",\"interval\":\"40ms\"}");
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 1, 2000));
    NT_ASSERT(nano_sim_unplug("wire0", ID1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_STALE, 1, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "boiler"), "acknowledge") != NULL);
    rig_run_for(&r, 200);
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", 55.5) == NANO_OK);
    NT_ASSERT(nano_sim_replug("wire0", ID1) == NANO_OK);
    rig_forget(&r);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 1, 5000));
    NT_NEAR(rig_last(&r, T)->num, 55.5, 1e-9);
    rig_down(&r);
}

static void
test_minus_127_is_a_fault(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", -127.0) == NANO_OK);
    rig_install_ok(&r, "boiler", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_FAULT, 1, 2000));
    NT_NEAR(rig_last(&r, T)->num, -127.0, 1e-9);
    NT_EQ_INT(rig_count(&r, T, NANO_Q_OK), 0);
    rig_down(&r);
}

static void
test_no_w1_master(void)
{
    struct rig r;

    rig_up(&r);
    nano_w1_set_default_root("/nonexistent/w1");
    rig_install_ok(&r, "boiler", "{\"driver\":\"ds18b20\",\"interval\":\"40ms\"}");
    NT_ASSERT(rig_wait_state(&r, "boiler", NANO_DEV_BACKOFF, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "boiler"), "No such file") != NULL);
    nano_w1_set_default_root(NULL);
    rig_down(&r);
}

NT_LIST = {
    { "one_sensor_default_id",  test_one_sensor_default_id },
    { "several_sensors_by_id",  test_several_sensors_by_id },
    { "crc_no",                 test_crc_no },
    { "power_on_85",            test_power_on_85 },
    { "no_answer",              test_no_answer },
    { "read_never_returns",     test_read_never_returns },
    { "unplug_replug",          test_unplug_replug },
    { "minus_127_is_a_fault",   test_minus_127_is_a_fault },
    { "no_w1_master",           test_no_w1_master },
    { NULL, NULL }
};
