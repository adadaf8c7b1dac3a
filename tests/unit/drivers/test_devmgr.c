/* test_devmgr.c - the device manager with the sim driver: readings on the
 * bus, physical-range faults, timeouts with backoff and recovery, stale
 * marking, validation messages, persistence of run-time changes. */
#include <stdlib.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/bus.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/time.h"
#include "drivers/devmgr.h"

struct rig {
    struct nano_loop   *loop;
    struct nano_bus    *bus;
    struct nano_devmgr *dm;
    char                dir[64];
};

static void
rig_up(struct rig *r, const char *dir)
{
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    NT_ASSERT(nano_loop_new(&r->loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(r->loop, &r->bus) == NANO_OK);
    if (dir)
        snprintf(r->dir, sizeof r->dir, "%s", dir);
    else {
        snprintf(r->dir, sizeof r->dir, "/tmp/nano-devmgr-XXXXXX");
        NT_ASSERT(mkdtemp(r->dir));
    }
    NT_ASSERT(nano_devmgr_new(r->loop, r->bus, r->dir, &r->dm) == NANO_OK);
}

static void
rig_down(struct rig *r)
{
    nano_devmgr_free(r->dm);
    nano_bus_free(r->bus);
    nano_loop_free(r->loop);
    nano_metrics_reset();
}

static void
run_for(struct rig *r, unsigned ms)
{
    uint64_t end = nano_time_mono_ns() + ms * NANO_NS_PER_MS;

    while (nano_time_mono_ns() < end)
        nano_loop_run_once(r->loop, 5);
}

static struct nano_cfg_doc *
json(const char *text)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { .origin = "test" };

    if (nano_cfg_parse_json(text, strlen(text), "test", &doc, &d) != NANO_OK) {
        fprintf(stderr, "bad test JSON: %u:%u: %s\n", d.line, d.col, d.msg);
        abort();
    }
    return doc;
}

static int
install(struct rig *r, const char *name, const char *settings, bool enable,
        struct nano_diag *d)
{
    struct nano_cfg_doc *doc = json(settings);
    int rc = nano_devmgr_install(r->dm, name, nano_cfg_root(doc), enable, d);

    nano_cfg_free(doc);
    return rc;
}

static const char *
state_of(struct rig *r, const char *name)
{
    struct nano_dev *dev = nano_devmgr_find(r->dm, name);

    return dev ? nano_dev_state_name(nano_dev_state(dev)) : "(none)";
}

static void
test_sim_readings_reach_the_bus(void)
{
    struct rig r;
    struct nano_diag d = { 0 };

    rig_up(&r, NULL);
    NT_EQ_INT(install(&r, "boiler",
        "{\"driver\":\"sim\",\"interval\":\"20ms\",\"quantities\":{"
        "\"temperature\":{\"wave\":\"constant\",\"value\":21.5,\"unit\":\"°C\"},"
        "\"pressure\":{\"wave\":\"steps\",\"steps\":[1,2],\"period\":\"1h\"}}}",
        true, &d), NANO_OK);
    NT_MSG("%s", d.msg);
    run_for(&r, 120);
    const struct nano_msg *m = nano_bus_latest(r.bus, "sensors/boiler/temperature");
    NT_ASSERT(m);
    NT_NEAR(m->v.u.num, 21.5, 1e-9);
    NT_EQ_STR(m->v.unit, "°C");
    NT_EQ_INT(m->v.quality, NANO_Q_OK);
    m = nano_bus_latest(r.bus, "sensors/boiler/pressure");
    NT_ASSERT(m);
    NT_NEAR(m->v.u.num, 1, 0);
    NT_EQ_STR(state_of(&r, "boiler"), "ok");
    struct nano_devmgr_stats st;
    nano_devmgr_get_stats(r.dm, &st);
    NT_CHECK(st.samples >= 3);
    NT_EQ_INT(st.errors, 0);
    rig_down(&r);
}

static void
test_async_latency_and_range_fault(void)
{
    struct rig r;
    struct nano_diag d = { 0 };

    rig_up(&r, NULL);
    NT_EQ_INT(install(&r, "probe",
        "{\"driver\":\"sim\",\"interval\":\"20ms\",\"latency\":\"5ms\","
        "\"quantities\":{\"t\":{\"wave\":\"constant\",\"value\":200,"
        "\"range\":[-40,125]}}}", true, &d), NANO_OK);
    run_for(&r, 100);
    const struct nano_msg *m = nano_bus_latest(r.bus, "sensors/probe/t");
    NT_ASSERT(m);
    NT_EQ_INT(m->v.quality, NANO_Q_FAULT);      /* 200 is outside [-40, 125] */
    struct nano_devmgr_stats st;
    nano_devmgr_get_stats(r.dm, &st);
    NT_CHECK(st.faults >= 2);
    NT_CHECK(st.samples >= 2);
    rig_down(&r);
}

static void
test_timeout_backoff_stale_and_recovery(void)
{
    struct rig r;
    struct nano_diag d = { 0 };

    rig_up(&r, NULL);
    /* Answers for 100 ms, then stops answering for 300 ms, then recovers. */
    NT_EQ_INT(install(&r, "flaky",
        "{\"driver\":\"sim\",\"interval\":\"20ms\",\"timeout\":\"30ms\","
        "\"quantities\":{\"t\":{\"value\":5}},"
        "\"faults\":[{\"kind\":\"timeout\",\"after\":\"100ms\",\"for\":\"300ms\"}]}",
        true, &d), NANO_OK);
    run_for(&r, 90);
    NT_EQ_STR(state_of(&r, "flaky"), "ok");
    run_for(&r, 150);
    const char *s = state_of(&r, "flaky");
    NT_MSG("state %s", s);
    NT_CHECK(!strcmp(s, "backoff") || !strcmp(s, "failing"));
    const struct nano_msg *m = nano_bus_latest(r.bus, "sensors/flaky/t");
    NT_ASSERT(m);
    NT_EQ_INT(m->v.quality, NANO_Q_STALE);
    NT_NEAR(m->v.u.num, 5, 0);                  /* last known value kept */
    /* Backoff doubles (20, 40, 80, 160 ms...): recovery within ~1 s. */
    uint64_t end = nano_time_mono_ns() + 1500 * NANO_NS_PER_MS;
    while (strcmp(state_of(&r, "flaky"), "ok") && nano_time_mono_ns() < end)
        nano_loop_run_once(r.loop, 5);
    NT_EQ_STR(state_of(&r, "flaky"), "ok");
    m = nano_bus_latest(r.bus, "sensors/flaky/t");
    NT_EQ_INT(m->v.quality, NANO_Q_OK);
    struct nano_devmgr_stats st;
    nano_devmgr_get_stats(r.dm, &st);
    NT_CHECK(st.errors >= 2);
    NT_CHECK(nano_metric_find("nano_device_timeouts_total")->value >= 2);
    rig_down(&r);
}

static void
test_validation_messages(void)
{
    static const struct { const char *settings, *msg; } cases[] = {
        { "{\"interval\":\"1s\"}",
          "missing required key 'driver' in device 'x'" },
        { "{\"driver\":\"smi\"}", "unknown driver 'smi' (did you mean 'sim'?)" },
        /* The list goes on with whatever else this build has. */
        { "{\"driver\":\"zzzzzz\"}", "unknown driver 'zzzzzz'; available: sim*" },
        { "{\"driver\":\"sim\",\"intervall\":\"1s\",\"quantities\":{\"t\":{}}}",
          "unknown key 'intervall' in device 'x' (did you mean 'interval'?)" },
        { "{\"driver\":\"sim\",\"interval\":\"fast\",\"quantities\":{\"t\":{}}}",
          "'interval' of device 'x' expects a duration such as 500ms or 30s, got 'fast'" },
        { "{\"driver\":\"sim\"}",
          "missing required parameter 'quantities' in device 'x' (map of quantity name to waveform settings)" },
        { "{\"driver\":\"sim\",\"seed\":\"-4\",\"quantities\":{\"t\":{}}}",
          "parameter 'seed' of device 'x' must be between 0 and 2.14748e+09, got -4" },
        { "{\"driver\":\"sim\",\"quantities\":{\"t\":{\"wave\":\"square\"}}}",
          "'wave' must be one of constant, sine, ramp, random_walk, steps, got 'square'" },
        { "{\"driver\":\"sim\",\"quantities\":{\"t\":{\"wave\":\"steps\"}}}",
          "sim quantity 't': wave 'steps' needs 'steps', a list of values" },
        { "{\"driver\":\"sim\",\"quantities\":{\"t\":{\"min\":5,\"max\":1}}}",
          "sim quantity 't': max (1) is below min (5)" },
    };
    struct rig r;

    rig_up(&r, NULL);
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct nano_diag d = { 0 };
        NT_MSG("case %zu", i);
        size_t n = strlen(cases[i].msg);
        NT_EQ_INT(install(&r, "x", cases[i].settings, true, &d), NANO_ESCHEMA);
        if (cases[i].msg[n - 1] == '*')              /* a prefix */
            NT_CHECK(strncmp(d.msg, cases[i].msg, n - 1) == 0);
        else
            NT_EQ_STR(d.msg, cases[i].msg);
        NT_CHECK(nano_devmgr_find(r.dm, "x") == NULL);   /* nothing half-done */
    }
    struct nano_diag d = { 0 };
    NT_EQ_INT(install(&r, "bad/name", "{\"driver\":\"sim\"}", true, &d), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "becomes a topic level") != NULL);
    rig_down(&r);
}

static void
test_persistence_across_restart(void)
{
    struct rig r;
    struct nano_diag d = { 0 };
    struct nano_cfg_doc *cfg = json(
        "{\"kept\":{\"driver\":\"sim\",\"quantities\":{\"t\":{}}},"
        " \"dropped\":{\"driver\":\"sim\",\"quantities\":{\"t\":{}}}}");

    rig_up(&r, NULL);
    NT_EQ_INT(nano_devmgr_validate(nano_cfg_root(cfg), &d), NANO_OK);
    NT_EQ_INT(nano_devmgr_apply_config(r.dm, nano_cfg_root(cfg)), NANO_OK);
    NT_EQ_INT(install(&r, "added", "{\"driver\":\"sim\",\"interval\":\"50ms\","
                      "\"quantities\":{\"h\":{}}}", true, &d), NANO_OK);
    NT_EQ_INT(install(&r, "added", "{\"driver\":\"sim\",\"quantities\":{\"h\":{}}}",
                      true, &d), NANO_EEXISTS);
    NT_EQ_INT(nano_devmgr_set_enabled(r.dm, "kept", false), NANO_OK);
    NT_EQ_INT(nano_devmgr_remove(r.dm, "dropped"), NANO_OK);
    NT_EQ_INT(nano_devmgr_remove(r.dm, "nosuch"), NANO_ENOTFOUND);
    char dir[64];
    snprintf(dir, sizeof dir, "%s", r.dir);
    rig_down(&r);

    /* "Restart": a new manager on the same state and config. */
    rig_up(&r, dir);
    NT_EQ_INT(nano_devmgr_load_state(r.dm, &d), NANO_OK);
    NT_EQ_INT(nano_devmgr_apply_config(r.dm, nano_cfg_root(cfg)), NANO_OK);
    NT_EQ_STR(state_of(&r, "kept"), "disabled");
    NT_EQ_STR(state_of(&r, "dropped"), "(none)");
    NT_CHECK(nano_devmgr_find(r.dm, "added") != NULL);
    NT_EQ_STR(state_of(&r, "added"), "starting");
    run_for(&r, 80);
    NT_EQ_STR(state_of(&r, "added"), "ok");
    /* The JSON views are well-formed and name the instance state. */
    struct nano_buf b;
    struct nano_json w;
    nano_buf_init(&b, 1 << 16);
    nano_json_init(&w, &b);
    nano_devmgr_write_list(r.dm, &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_CHECK(strstr(b.data, "\"name\":\"kept\",\"driver\":\"sim\",\"state\":\"disabled\"") != NULL);
    NT_CHECK(strstr(b.data, "\"origin\":\"installed\"") != NULL);
    nano_buf_free(&b);
    rig_down(&r);
    nano_cfg_free(cfg);
}

static void
test_corrupt_state_is_ignored(void)
{
    struct rig r;
    struct nano_diag d = { 0 };

    rig_up(&r, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/devices.json", r.dir);
    FILE *f = fopen(path, "w");
    NT_ASSERT(f);
    fputs("NANO-STATE 1 999 deadbeef\n{\"installed\":", f);
    fclose(f);
    NT_EQ_INT(nano_devmgr_load_state(r.dm, &d), NANO_ECORRUPT);
    NT_CHECK(strstr(d.msg, "torn write") != NULL);
    /* Still usable. */
    NT_EQ_INT(install(&r, "a", "{\"driver\":\"sim\",\"quantities\":{\"t\":{}}}", true, &d), NANO_OK);
    rig_down(&r);
}

NT_LIST = {
    { "sim_readings_reach_the_bus", test_sim_readings_reach_the_bus },
    { "async_latency_and_range_fault", test_async_latency_and_range_fault },
    { "timeout_backoff_stale_and_recovery", test_timeout_backoff_stale_and_recovery },
    { "validation_messages", test_validation_messages },
    { "persistence_across_restart", test_persistence_across_restart },
    { "corrupt_state_is_ignored", test_corrupt_state_is_ignored },
    { NULL, NULL }
};
