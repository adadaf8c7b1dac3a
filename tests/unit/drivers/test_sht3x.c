/* test_sht3x.c - the sht3x driver on the emulated sensor: conversion
 * formulas, timer-driven single shot at each repeatability, CRC errors,
 * NACK and unplug with stale marking and recovery, physical range. */
#include "rig.h"

#define T "sensors/room/temperature"
#define H "sensors/room/humidity"

static const char *const settings =
    "{\"driver\":\"sht3x\",\"bus\":\"sim:i2c1\",\"address\":\"0x44\","
    "\"interval\":\"40ms\"}";

static void
test_readings(void)
{
    static const char *const reps[] = { "high", "medium", "low" };
    struct rig r;
    char json[256], topic[64];

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "sht3x", "0x44") == NANO_OK);
    NT_ASSERT(nano_sim_set("i2c1", "0x44", "temperature", 23.45) == NANO_OK);
    NT_ASSERT(nano_sim_set("i2c1", "0x44", "humidity", 61.2) == NANO_OK);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        snprintf(json, sizeof json, "{\"driver\":\"sht3x\",\"bus\":\"sim:i2c1\","
                 "\"repeatability\":\"%s\",\"interval\":\"30ms\"}", reps[i]);
        rig_install_ok(&r, name, json);
    }
    for (int i = 0; i < 3; i++) {
        NT_MSG("repeatability %s", reps[i]);
        snprintf(topic, sizeof topic, "sensors/r%d/temperature", i);
        NT_ASSERT(rig_wait(&r, topic, NANO_Q_OK, 2, 2000));
        /* 16-bit ticks: 175/65535 = 0.0027 °C, 100/65535 = 0.0015 %RH. */
        NT_NEAR(rig_last(&r, topic)->num, 23.45, 0.003);
        snprintf(topic, sizeof topic, "sensors/r%d/humidity", i);
        NT_NEAR(rig_last(&r, topic)->num, 61.2, 0.002);
    }
    rig_down(&r);
}

static void
test_crc_error(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "sht3x", "0x44") == NANO_OK);
    rig_install_ok(&r, "room", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 2, 2000));
    int ok = rig_count(&r, T, NANO_Q_OK);
    /* Corrupt the next answers: the measurement read fails its CRC. */
    NT_ASSERT(nano_sim_fault("i2c1", "0x44", NANO_SIM_FAULT_CRC, -1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_STALE, 1, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "room"), "checksum mismatch") != NULL);
    /* No corrupted value was ever published as a reading. */
    NT_EQ_INT(rig_count(&r, T, NANO_Q_OK), ok);
    NT_ASSERT(nano_sim_fault("i2c1", "0x44", NANO_SIM_FAULT_NONE, -1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, ok + 1, 3000));
    rig_down(&r);
}

static void
test_nack_unplug_replug(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "sht3x", "0x45") == NANO_OK);
    rig_install_ok(&r, "room", "{\"driver\":\"sht3x\",\"bus\":\"sim:i2c1\","
                   "\"address\":\"0x45\",\"interval\":\"40ms\"}");
    NT_ASSERT(rig_wait(&r, H, NANO_Q_OK, 1, 2000));
    NT_ASSERT(nano_sim_fault("i2c1", "0x45", NANO_SIM_FAULT_NACK, 1) == NANO_OK);
    NT_ASSERT(rig_wait(&r, H, NANO_Q_STALE, 1, 2000));
    NT_ASSERT(rig_wait(&r, H, NANO_Q_OK, rig_count(&r, H, NANO_Q_OK) + 1, 3000));

    NT_ASSERT(nano_sim_unplug("i2c1", "0x45") == NANO_OK);
    NT_ASSERT(rig_wait(&r, H, NANO_Q_STALE, 2, 2000));
    rig_run_for(&r, 200);
    NT_CHECK(nano_dev_state(nano_devmgr_find(r.dm, "room")) != NANO_DEV_OK);
    NT_ASSERT(nano_sim_set("i2c1", "0x45", "humidity", 33.0) == NANO_OK);
    NT_ASSERT(nano_sim_replug("i2c1", "0x45") == NANO_OK);
    rig_forget(&r);
    NT_ASSERT(rig_wait(&r, H, NANO_Q_OK, 1, 5000));
    NT_NEAR(rig_last(&r, H)->num, 33.0, 0.002);
    rig_down(&r);
}

static void
test_timeout_is_distinct(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "sht3x", "0x44") == NANO_OK);
    NT_ASSERT(nano_sim_fault("i2c1", "0x44", NANO_SIM_FAULT_TIMEOUT, -1) == NANO_OK);
    rig_install_ok(&r, "room", settings);
    NT_ASSERT(rig_wait_state(&r, "room", NANO_DEV_BACKOFF, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "room"), "device timed out") != NULL);
    NT_CHECK(strstr(rig_dev_json(&r, "room"), "acknowledge") == NULL);
    rig_down(&r);
}

static void
test_outside_physical_range(void)
{
    struct rig r;

    rig_up(&r);
    NT_ASSERT(nano_sim_add("i2c1", "sht3x", "0x44") == NANO_OK);
    NT_ASSERT(nano_sim_set("i2c1", "0x44", "temperature", 128.0) == NANO_OK);
    rig_install_ok(&r, "room", settings);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_FAULT, 1, 2000));
    NT_EQ_INT(rig_last(&r, H)->quality, NANO_Q_OK);
    NT_ASSERT(nano_sim_set("i2c1", "0x44", "temperature", 20.0) == NANO_OK);
    NT_ASSERT(rig_wait(&r, T, NANO_Q_OK, 1, 2000));
    rig_down(&r);
}

NT_LIST = {
    { "readings",                test_readings },
    { "crc_error",               test_crc_error },
    { "nack_unplug_replug",      test_nack_unplug_replug },
    { "timeout_is_distinct",     test_timeout_is_distinct },
    { "outside_physical_range",  test_outside_physical_range },
    { NULL, NULL }
};
