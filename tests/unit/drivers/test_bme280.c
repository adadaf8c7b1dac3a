/* test_bme280.c - the bme280 driver on the emulated chip through a real
 * loop, bus and device manager: the data sheet's worked example, the
 * physical environment round trip (driver's integer compensation against
 * the emulator's double-precision inversion), NACK, timeout, corruption,
 * power-on, unplug and replug with stale marking and recovery, and
 * readings outside the physical range. */
#include "rig.h"

#define T "sensors/air/temperature"
#define H "sensors/air/humidity"
#define P "sensors/air/pressure"

static const char *const settings =
    "{\"driver\":\"bme280\",\"bus\":\"sim:i2c1\",\"address\":\"0x76\","
    "\"interval\":\"50ms\"}";

static void
test_datasheet_example(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    /* BMP280 data sheet (BST-BMP280-DS001) section 3.12: with its
     * calibration (the emulator's default), adc_T = 519888 gives
     * t_fine = 128422, T = 25.08 °C, and adc_P = 415148 gives
     * p = 100653.27 Pa.  The BME280 shares both formulas. */
    NT_ASSERT(nano_sim_bme280_set_raw("i2c1", 0x76, 519888, 415148, 0x6A00) == NANO_OK);
    rig_install_ok(&r, "air", settings);
    NT_ASSERT(rig_wait(&r, P, NANO_Q_OK, 1, 2000));
    NT_NEAR(rig_last(&r, T)->num, 25.08, 1e-9);
    /* The 64-bit integer formula yields 25767233 in Q24.8 (100653.254 Pa);
     * the table's 100653.27 Pa comes from the floating-point version and
     * differs by less than its 0.01 Pa display resolution plus rounding. */
    NT_NEAR(rig_last(&r, P)->num, 25767233 / 25600.0, 1e-9);
    NT_NEAR(rig_last(&r, P)->num * 100, 100653.27, 0.02);
    NT_CHECK(rig_last(&r, H)->num > 0 && rig_last(&r, H)->num <= 100);
    NT_EQ_INT(rig_last(&r, T)->quality, NANO_Q_OK);
    rig_down(&r);
}

static void
test_environment_round_trip(void)
{
    static const struct { double t, h, p; } env[] = {
        { 21.5, 40.0, 1013.25 }, { -10.0, 10.0, 900.0 }, { 40.0, 90.0, 1050.0 },
        { 0.0, 55.5, 1000.0 }, { 84.0, 2.0, 320.0 },
    };
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    rig_install_ok(&r, "air", settings);
    for (size_t i = 0; i < NANO_ARRAY_LEN(env); i++) {
        NT_MSG("environment %zu", i);
        NT_ASSERT(nano_sim_bme280_set_env("i2c1", 0x76, env[i].t, env[i].h,
                                          env[i].p) == NANO_OK);
        rig_forget(&r);
        /* Two readings: the first may have been triggered before the set. */
        NT_ASSERT(rig_wait(&r, P, NANO_Q_OK, 2, 2000));
        NT_NEAR(rig_last(&r, T)->num, env[i].t, 0.01);
        NT_NEAR(rig_last(&r, H)->num, env[i].h, 0.05);
        NT_NEAR(rig_last(&r, P)->num, env[i].p, 0.02);
    }
    rig_down(&r);
}

static void
test_units_and_catalogue(void)
{
    struct nano_buf b;
    struct nano_json w;

    nano_buf_init(&b, 1 << 16);
    nano_json_init(&w, &b);
    NT_EQ_INT(nano_devmgr_write_driver("bme280", &w), NANO_OK);
    NT_CHECK(strstr(b.data, "\"name\":\"address\"") != NULL);
    NT_CHECK(strstr(b.data, "\"unit\":\"hPa\"") != NULL);
    NT_CHECK(strstr(b.data, "\"min\":300") != NULL);
    nano_buf_free(&b);

    struct rig r;
    struct nano_diag d = { 0 };
    rig_up(&r);
    NT_EQ_INT(rig_install(&r, "x", "{\"driver\":\"bme280\",\"address\":\"0x75\"}", &d),
              NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "between 118 and 119") != NULL);
    NT_EQ_INT(rig_install(&r, "x", "{\"driver\":\"bme280\",\"oversampling\":\"3\"}", &d),
              NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "1, 2, 4, 8, 16") != NULL);
    rig_down(&r);
}

static void
test_absent_then_plugged_in(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    NT_ASSERT(nano_sim_unplug("i2c1", "0x76") == NANO_OK);
    rig_install_ok(&r, "air", settings);
    NT_ASSERT(rig_wait_state(&r, "air", NANO_DEV_BACKOFF, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "air"), "device did not acknowledge") != NULL);
    NT_EQ_INT(rig_count(&r, T, -1), 0);
    /* Plugged in: the manager re-probes by itself and values flow. */
    NT_ASSERT(nano_sim_replug("i2c1", "0x76") == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 1, 3000));
    NT_EQ_INT(nano_dev_state(nano_devmgr_find(r.dm, "air")), NANO_DEV_OK);
    rig_down(&r);
}

/* Inject a fault while running, expect the named error, stale marking,
 * then recovery without help. */
static void
fault_and_recover(enum nano_sim_fault f, int count, const char *err_text)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    rig_install_ok(&r, "air", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 2, 2000));
    NT_ASSERT(nano_sim_fault("i2c1", "0x76", f, count) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_STALE, 1, 2000));
    NT_MSG("%s", rig_dev_json(&r, "air"));
    NT_CHECK(strstr(rig_dev_json(&r, "air"), err_text) != NULL);
    NT_EQ_INT(rig_last(&r, T)->quality, NANO_Q_STALE);
    int ok_before = rig_count(&r, T, NANO_Q_OK);
    if (count < 0)
        NT_ASSERT(nano_sim_fault("i2c1", "0x76", NANO_SIM_FAULT_NONE, -1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, ok_before + 1, 3000));
    NT_EQ_INT(rig_last(&r, T)->quality, NANO_Q_OK);
    NT_ASSERT(rig_wait_state(&r, "air", NANO_DEV_OK, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "air"), "\"errors\":0") == NULL);
    rig_down(&r);
}

static void
test_nack(void)
{
    fault_and_recover(NANO_SIM_FAULT_NACK, 1, "device did not acknowledge");
}

static void
test_timeout(void)
{
    fault_and_recover(NANO_SIM_FAULT_TIMEOUT, -1, "device timed out");
}

static void
test_power_on_values(void)
{
    /* The chip browns out before each transaction: the data registers
     * hold their reset value, which must not become a reading. */
    fault_and_recover(NANO_SIM_FAULT_POWERON, -1, "power-on reset value");
}

static void
test_unplug_replug_marks_stale(void)
{
    struct rig r;
    struct nano_dev *dev;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    NT_ASSERT(nano_sim_bme280_set_env("i2c1", 0x76, 22.0, 50.0, 1000.0) == NANO_OK);
    rig_install_ok(&r, "air", settings);
    NT_ASSERT(rig_wait(&r, H, NANO_Q_OK, 2, 2000));
    dev = nano_devmgr_find(r.dm, "air");

    NT_ASSERT(nano_sim_unplug("i2c1", "0x76") == NANO_OK);
    NT_ASSERT(rig_wait(&r, H, NANO_Q_STALE, 1, 2000));
    /* All three quantities are marked, and keep their last value. */
    NT_EQ_INT(rig_last(&r, T)->quality, NANO_Q_STALE);
    NT_EQ_INT(rig_last(&r, P)->quality, NANO_Q_STALE);
    NT_NEAR(rig_last(&r, T)->num, 22.0, 0.01);
    const struct nano_msg *m = nano_bus_latest(r.bus, T);
    NT_ASSERT(m);
    NT_EQ_INT(m->v.quality, NANO_Q_STALE);
    /* Backs off and keeps failing while unplugged. */
    rig_run_for(&r, 400);
    NT_CHECK(nano_dev_state(dev) == NANO_DEV_BACKOFF ||
             nano_dev_state(dev) == NANO_DEV_FAILING);
    int stale = rig_count(&r, T, NANO_Q_STALE);
    NT_EQ_INT(stale, 1);                           /* marked once, not per try */

    /* Replugged in reset state: the driver must configure it again. */
    NT_ASSERT(nano_sim_bme280_set_env("i2c1", 0x76, 23.0, 51.0, 1001.0) == NANO_OK);
    NT_ASSERT(nano_sim_replug("i2c1", "0x76") == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 3, 5000));
    NT_NEAR(rig_last(&r, T)->num, 23.0, 0.01);
    NT_NEAR(rig_last(&r, H)->num, 51.0, 0.05);
    NT_EQ_INT(nano_dev_state(dev), NANO_DEV_OK);
    rig_down(&r);
}

static void
test_outside_physical_range(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    /* 100 °C and 1200 hPa: the chip can encode them, the part is not made
     * for them (-40..85 °C, 300..1100 hPa), so they are faults. */
    NT_ASSERT(nano_sim_bme280_set_env("i2c1", 0x76, 100.0, 30.0, 1200.0) == NANO_OK);
    rig_install_ok(&r, "air", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_FAULT, 1, 2000));
    NT_EQ_INT(rig_last(&r, P)->quality, NANO_Q_FAULT);
    NT_EQ_INT(rig_last(&r, H)->quality, NANO_Q_OK);
    NT_NEAR(rig_last(&r, T)->num, 100.0, 0.01);
    struct nano_devmgr_stats st;
    nano_devmgr_get_stats(r.dm, &st);
    NT_CHECK(st.faults >= 2);
    rig_down(&r);
}

static void
test_oversampling_timing(void)
{
    struct rig r;
    uint64_t t0;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x77") == NANO_OK);
    t0 = nano_time_mono_ns();
    rig_install_ok(&r, "slow", "{\"driver\":\"bme280\",\"bus\":\"sim:i2c1\","
                   "\"address\":\"0x77\",\"oversampling\":\"16\",\"filter\":\"4\","
                   "\"interval\":\"1s\"}");
    NT_ASSERT(rig_wait(&r, "sensors/slow/temperature", NANO_Q_OK, 1, 2000));
    /* x16 takes 113 ms at most (datasheet 9.1): the reading cannot come
     * sooner than the emulator's typical 98 ms, and the loop never slept. */
    NT_CHECK(nano_time_mono_ns() - t0 >= 98 * NANO_NS_PER_MS);
    NT_CHECK(nano_loop_iterations(r.loop) > 10);
    rig_down(&r);
}

NT_LIST = {
    { "datasheet_example",         test_datasheet_example },
    { "environment_round_trip",    test_environment_round_trip },
    { "units_and_catalogue",       test_units_and_catalogue },
    { "absent_then_plugged_in",    test_absent_then_plugged_in },
    { "nack",                      test_nack },
    { "timeout",                   test_timeout },
    { "power_on_values",           test_power_on_values },
    { "unplug_replug_marks_stale", test_unplug_replug_marks_stale },
    { "outside_physical_range",    test_outside_physical_range },
    { "oversampling_timing",       test_oversampling_timing },
    { NULL, NULL }
};
