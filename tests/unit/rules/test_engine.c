/* test_engine.c - services in the daemon: a real loop, bus and device
 * manager (sim driver).  The seed example end to end, resolution against
 * devices and bus topics (unknown and ambiguous names, waiting for devices
 * that have not probed), topic services over the bus, config validation
 * with file positions, persistence, stop/restart/remove, JSON views. */
#include <stdlib.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/bus.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"
#include "drivers/devmgr.h"
#include "rules/engine.h"

struct rig {
    struct nano_loop   *loop;
    struct nano_bus    *bus;
    struct nano_devmgr *dm;
    struct nano_rules  *rs;
    char                dir[64];
    /* recorded pin actions */
    char                pins[32][48];
    int                 npins;
    int                 sets;         /* every gpio.set, recorded or not */
    bool                led;
    const char         *pin_list[4];
};

static bool
io_pin_exists(void *arg, const char *pin)
{
    (void)arg;
    return strcmp(pin, "led_pin") == 0 || strcmp(pin, "fan") == 0;
}

static const char *const *
io_pin_names(void *arg)
{
    struct rig *r = arg;

    r->pin_list[0] = "led_pin";
    r->pin_list[1] = "fan";
    r->pin_list[2] = NULL;
    return r->pin_list;
}

static int
io_gpio_set(void *arg, const char *pin, bool high)
{
    struct rig *r = arg;

    r->sets++;
    if (r->npins < 32)
        snprintf(r->pins[r->npins++], sizeof r->pins[0], "%s=%d", pin, high);
    if (strcmp(pin, "led_pin") == 0)
        r->led = high;
    return NANO_OK;
}

static void
rig_up(struct rig *r, const char *dir)
{
    struct nano_rules_io io = {
        .gpio_set = io_gpio_set, .pin_exists = io_pin_exists,
        .pin_names = io_pin_names, .arg = r,
    };

    memset(r, 0, sizeof *r);
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    NT_ASSERT(nano_loop_new(&r->loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(r->loop, &r->bus) == NANO_OK);
    if (dir) {
        snprintf(r->dir, sizeof r->dir, "%s", dir);
    } else {
        snprintf(r->dir, sizeof r->dir, "/tmp/nano-rules-XXXXXX");
        NT_ASSERT(mkdtemp(r->dir));
    }
    NT_ASSERT(nano_devmgr_new(r->loop, r->bus, r->dir, &r->dm) == NANO_OK);
    NT_ASSERT(nano_rules_new(r->loop, r->bus, r->dm, r->dir, &r->rs) == NANO_OK);
    nano_rules_set_io(r->rs, &io);
}

static void
rig_down(struct rig *r)
{
    nano_rules_free(r->rs);
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
        nano_loop_run_once(r->loop, 2);
}

/* Run until cond holds or ms pass. */
#define RUN_UNTIL(r, ms, cond)                                               \
    do {                                                                     \
        uint64_t end_ = nano_time_mono_ns() + (ms) * NANO_NS_PER_MS;         \
        while (!(cond) && nano_time_mono_ns() < end_)                        \
            nano_loop_run_once((r)->loop, 2);                                \
    } while (0)

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
start(struct rig *r, const char *name, const char *config, struct nano_diag *d,
      struct nano_rules_error *err)
{
    struct nano_cfg_doc *doc = json(config);
    int rc;

    memset(d, 0, sizeof *d);
    rc = nano_rules_start(r->rs, name, nano_cfg_root(doc), d, err);
    nano_cfg_free(doc);
    return rc;
}

static void
publish_num(struct rig *r, const char *topic, double v)
{
    struct nano_value x = nano_value_num(v, NULL);

    NT_ASSERT(nano_bus_publish_value(r->bus, topic, &x) == NANO_OK);
}

static char *
status_json(struct rig *r, const char *name, bool explain, struct nano_buf *b)
{
    struct nano_json w;

    nano_buf_init(b, 1 << 20);
    nano_json_init(&w, b);
    if (explain)
        NT_EQ_INT(nano_rules_write_explain(r->rs, name, NULL, &w), NANO_OK);
    else if (name)
        NT_EQ_INT(nano_rules_write_status(r->rs, name, &w), NANO_OK);
    else
        nano_rules_write_list(r->rs, &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    return b->data;
}

static int
install_sim(struct rig *r, const char *name, const char *quantity, double value)
{
    char cfg[256];
    struct nano_diag d;
    struct nano_cfg_doc *doc;
    int rc;

    snprintf(cfg, sizeof cfg, "{\"driver\":\"sim\",\"interval\":\"50ms\","
             "\"quantities\":{\"%s\":{\"wave\":\"constant\",\"value\":%g}}}",
             quantity, value);
    doc = json(cfg);
    rc = nano_devmgr_install(r->dm, name, nano_cfg_root(doc), true, &d);
    nano_cfg_free(doc);
    return rc;
}

/* nanoctl driver install ds18b20 ... --enable, then
 * nanoctl service start temp-guard --config '{ "rule": "temperature > 75.0",
 *                                              "action": "gpio.set(led_pin, HIGH)" }'
 * with the sensor reading 76 °C: the LED goes HIGH within one interval. */
static void
test_seed_example(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_buf b;

    rig_up(&r, NULL);
    NT_EQ_INT(install_sim(&r, "probe", "temperature", 76), NANO_OK);
    /* the sim declares its quantity at probe: the service may start before
     * that and wait */
    NT_EQ_INT(start(&r, "temp-guard", "{ \"rule\": \"temperature > 75.0\", "
                    "\"action\": \"gpio.set(led_pin, HIGH)\" }", &d, NULL), NANO_OK);
    RUN_UNTIL(&r, 3000, r.led);
    NT_CHECK(r.led);
    NT_EQ_INT(r.npins, 1);
    NT_EQ_STR(r.pins[0], "led_pin=1");
    char *s = status_json(&r, "temp-guard", false, &b);
    NT_MSG("%s", s);
    NT_CHECK(strstr(s, "\"status\":\"running\""));
    NT_CHECK(strstr(s, "\"state\":\"active\""));
    NT_CHECK(strstr(s, "\"inputs\":[\"sensors/probe/temperature\"]"));
    nano_buf_free(&b);
    s = status_json(&r, "temp-guard", true, &b);
    NT_MSG("%s", s);
    NT_CHECK(strstr(s, "{\"expr\":\"temperature > 75.0\",\"value\":true}"));
    nano_buf_free(&b);
    /* more readings: still one action */
    run_for(&r, 200);
    NT_EQ_INT(r.npins, 1);
    rig_down(&r);
}

static void
test_resolution_errors(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_rules_error err;

    rig_up(&r, NULL);
    publish_num(&r, "sensors/boiler/temperature", 60);
    publish_num(&r, "sensors/tank/temperature", 50);
    publish_num(&r, "sensors/room/humidity", 40);
    run_for(&r, 10);

    NT_EQ_INT(start(&r, "a", "{\"rule\": \"temperature > 75\"}", &d, &err), NANO_EAMBIG);
    NT_EQ_STR(d.msg, "service 'a': rule 1:1: 'temperature' is ambiguous: provided "
                     "by instances boiler, tank; write boiler.temperature");
    NT_EQ_INT(d.line, 1);
    NT_EQ_INT(d.col, 11);             /* the rule text inside the JSON body */
    NT_EQ_STR(err.field, "rule");

    NT_EQ_INT(start(&r, "b", "{\"rule\": \"humidty > 75\"}", &d, &err), NANO_ENOTFOUND);
    NT_EQ_STR(d.msg, "service 'b': rule 1:1: unknown name 'humidty' (did you mean "
                     "'humidity'?); known quantities: temperature, humidity");

    NT_EQ_INT(start(&r, "c", "{\"rule\": \"temperature > > 75\"}", &d, &err), NANO_EPARSE);
    NT_EQ_STR(err.caret, "1:15: expected an expression\n"
                         "  temperature > > 75\n"
                         "                ^");
    NT_EQ_INT(err.line, 1);
    NT_EQ_INT(err.col, 15);
    NT_EQ_INT(d.col, 11 + 14);

    NT_EQ_INT(start(&r, "d", "{\"rule\": \"boiler.temperature > 1\", "
                    "\"action\": [\"gpio.set(ledpin, HIGH)\"]}", &d, &err), NANO_ENOTFOUND);
    NT_EQ_STR(d.msg, "service 'd': action 1:10: unknown pin 'ledpin' (did you mean "
                     "'led_pin'?); known pins: led_pin, fan");
    NT_EQ_STR(err.field, "action");

    NT_EQ_INT(start(&r, "e", "{\"rule\": \"boiler.temperature > 1\", \"for\": \"soon\"}",
                    &d, &err), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "'for'") != NULL);
    NT_EQ_INT(start(&r, "bad name!", "{\"rule\": \"true\"}", &d, &err), NANO_ESCHEMA);
    NT_EQ_INT(start(&r, "f", "{\"rule\": \"true\", \"speed\": 1}", &d, &err), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "unknown key 'speed'") != NULL);

    /* nothing was half-started */
    struct nano_rules_stats st;
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.services, 0);
    /* instance-qualified names work */
    NT_EQ_INT(start(&r, "g", "{\"rule\": \"tank.temperature < 55\"}", &d, &err), NANO_OK);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.running, 1);
    rig_down(&r);
}

static void
test_topic_service_over_bus(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_sub *sub;
    struct nano_buf b;
    const struct nano_msg *m;

    rig_up(&r, NULL);
    NT_ASSERT(nano_bus_subscribe(r.bus, "alerts/#", NULL, NULL, NULL, &sub) == NANO_OK);
    NT_EQ_INT(start(&r, "hot", "{\"input\": \"sensors/+/temperature\", "
                    "\"rule\": \"value > 75\", \"clear\": \"value < 70\", "
                    "\"action\": \"publish(\\\"alerts/{1}\\\", {\\\"value\\\": value, \\\"ts\\\": ts})\"}",
                    &d, NULL), NANO_OK);
    const char *p1 = "{\"value\": 80.2, \"ts\": 1764777600123456}";
    struct nano_value v = nano_value_str(p1, strlen(p1));
    v.type = NANO_VT_JSON;
    NT_ASSERT(nano_bus_publish_value(r.bus, "sensors/boiler/temperature", &v) == NANO_OK);
    publish_num(&r, "sensors/tank/temperature", 60);
    run_for(&r, 20);
    m = nano_sub_pop(sub);
    NT_ASSERT(m);
    NT_EQ_STR(m->topic, "alerts/boiler");
    NT_EQ_INT(m->v.type, NANO_VT_JSON);
    NT_CHECK(m->v.u.s.len == 36 && memcmp(m->v.u.s.p, "{\"value\":80.2,\"ts\":1764777600123456}", 36) == 0);
    NT_MSG("%.*s", (int)m->v.u.s.len, m->v.u.s.p);
    nano_msg_unref(m);
    NT_CHECK(nano_sub_pop(sub) == NULL);
    char *s = status_json(&r, "hot", false, &b);
    NT_MSG("%s", s);
    NT_CHECK(strstr(s, "\"topics\":2,\"active_topics\":1,\"fires\":1"));
    nano_buf_free(&b);
    nano_bus_unsubscribe(r.bus, sub);

    /* a topic service may not publish into its own input */
    NT_EQ_INT(start(&r, "echo", "{\"input\": \"loop/+\", \"rule\": \"true\", "
                    "\"action\": \"publish(\\\"loop/{1}\\\", value)\"}", &d, NULL), NANO_OK);
    publish_num(&r, "loop/a", 1);
    run_for(&r, 20);
    struct nano_rules_stats st;
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.actions_failed, 1);
    rig_down(&r);
}

static void
test_max_topics(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_rules_stats st;
    char topic[64];

    rig_up(&r, NULL);
    NT_EQ_INT(start(&r, "few", "{\"input\": \"t/+\", \"rule\": \"value > 1\", "
                    "\"max_topics\": 3}", &d, NULL), NANO_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(topic, sizeof topic, "t/%d", i);
        publish_num(&r, topic, 5);
    }
    run_for(&r, 20);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.topics_dropped, 7);
    rig_down(&r);
}

static void
test_waiting_for_devices(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_buf b;
    struct nano_cfg_doc *cfg;

    rig_up(&r, NULL);
    /* a config service naming a quantity nobody provides yet waits */
    cfg = json("{\"guard\": {\"rule\": \"pressure > 2\", "
               "\"action\": \"gpio.set(fan, HIGH)\"}}");
    NT_EQ_INT(nano_rules_validate(nano_cfg_root(cfg), &d), NANO_OK);
    NT_EQ_INT(nano_rules_apply_config(r.rs, nano_cfg_root(cfg)), NANO_OK);
    char *s = status_json(&r, NULL, false, &b);
    NT_MSG("%s", s);
    NT_CHECK(strstr(s, "\"status\":\"waiting\""));
    NT_CHECK(strstr(s, "unknown name 'pressure'"));
    nano_buf_free(&b);
    /* the device arrives; within a retry the service runs and acts */
    NT_EQ_INT(install_sim(&r, "pump", "pressure", 3), NANO_OK);
    RUN_UNTIL(&r, 3000, r.npins > 0);
    NT_EQ_INT(r.npins, 1);
    NT_EQ_STR(r.pins[0], "fan=1");
    s = status_json(&r, NULL, false, &b);
    NT_CHECK(strstr(s, "\"status\":\"running\""));
    nano_buf_free(&b);
    /* the same section applied again changes nothing */
    NT_EQ_INT(nano_rules_apply_config(r.rs, nano_cfg_root(cfg)), NANO_OK);
    run_for(&r, 100);
    NT_EQ_INT(r.npins, 1);
    nano_cfg_free(cfg);
    rig_down(&r);
}

static void
test_config_validation_positions(void)
{
    static const char yaml[] =
        "services:\n"
        "  temp-guard:\n"
        "    rule: \"temperature > > 75\"\n"
        "    action: gpio.set(led_pin, HIGH)\n";
    static const char yaml2[] =
        "services:\n"
        "  ok:\n"
        "    rule: temperature > 75\n"
        "    action:\n"
        "      - gpio.set(led_pin, HIGH)\n"
        "      - log(warn, \"hot {temperature\")\n";
    static const char yaml3[] =
        "services:\n"
        "  x:\n"
        "    rule: temperature > 75\n"
        "    cooldown: 5 minutes\n";
    struct nano_cfg_doc *doc;
    struct nano_diag d = { .origin = "nano.yaml" };

    NT_ASSERT(nano_cfg_parse_yaml(yaml, strlen(yaml), "nano.yaml", &doc, &d) == NANO_OK);
    NT_EQ_INT(nano_rules_validate(nano_cfg_get(nano_cfg_root(doc), "services"), &d),
              NANO_EPARSE);
    NT_EQ_STR(d.msg, "service 'temp-guard': rule 1:15: expected an expression");
    NT_EQ_INT(d.line, 3);
    NT_EQ_INT(d.col, 11 + 15);
    nano_cfg_free(doc);

    NT_ASSERT(nano_cfg_parse_yaml(yaml2, strlen(yaml2), "nano.yaml", &doc, &d) == NANO_OK);
    NT_EQ_INT(nano_rules_validate(nano_cfg_get(nano_cfg_root(doc), "services"), &d),
              NANO_EPARSE);
    NT_EQ_STR(d.msg, "service 'ok': action[1] 1:16: unclosed '{' in the text; "
                     "write {{ for a brace");
    NT_EQ_INT(d.line, 6);
    NT_EQ_INT(d.col, 9 + 15);
    nano_cfg_free(doc);

    NT_ASSERT(nano_cfg_parse_yaml(yaml3, strlen(yaml3), "nano.yaml", &doc, &d) == NANO_OK);
    NT_EQ_INT(nano_rules_validate(nano_cfg_get(nano_cfg_root(doc), "services"), &d),
              NANO_ESCHEMA);
    NT_EQ_INT(d.line, 4);
    NT_MSG("%s", d.msg);
    nano_cfg_free(doc);
}

static void
test_persistence_and_lifecycle(void)
{
    struct rig r;
    struct nano_diag d;
    struct nano_rules_stats st;
    char dir[64];

    rig_up(&r, NULL);
    snprintf(dir, sizeof dir, "%s", r.dir);
    publish_num(&r, "sensors/probe/temperature", 70);
    run_for(&r, 5);
    NT_EQ_INT(start(&r, "keep", "{\"rule\": \"temperature > 75\", "
                    "\"action\": \"gpio.set(led_pin, HIGH)\"}", &d, NULL), NANO_OK);
    NT_EQ_INT(start(&r, "halt", "{\"rule\": \"temperature > 75\"}", &d, NULL), NANO_OK);
    /* same settings again: fine; other settings: exists */
    NT_EQ_INT(start(&r, "keep", "{\"rule\": \"temperature > 75\", "
                    "\"action\": \"gpio.set(led_pin, HIGH)\"}", &d, NULL), NANO_OK);
    NT_EQ_INT(start(&r, "keep", "{\"rule\": \"temperature > 76\"}", &d, NULL), NANO_EEXISTS);
    NT_EQ_INT(nano_rules_stop(r.rs, "halt"), NANO_OK);
    NT_EQ_INT(nano_rules_stop(r.rs, "nope"), NANO_ENOTFOUND);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.running, 1);
    NT_EQ_INT(st.stopped, 1);
    rig_down(&r);

    /* a new daemon on the same state directory */
    rig_up(&r, dir);
    NT_EQ_INT(nano_rules_load_state(r.rs, &d), NANO_OK);
    NT_EQ_INT(nano_rules_apply_config(r.rs, NULL), NANO_OK);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.services, 2);
    NT_EQ_INT(st.stopped, 1);
    NT_EQ_INT(st.waiting, 1);            /* nothing publishes temperature yet */
    publish_num(&r, "sensors/probe/temperature", 80);
    RUN_UNTIL(&r, 3000, r.npins > 0);
    NT_EQ_INT(r.npins, 1);
    /* restart starts over: the condition holds, so it fires again */
    NT_EQ_INT(nano_rules_restart(r.rs, "keep"), NANO_OK);
    run_for(&r, 5);
    NT_EQ_INT(r.npins, 2);
    /* start a stopped one by name */
    NT_EQ_INT(nano_rules_start(r.rs, "halt", NULL, &d, NULL), NANO_OK);
    NT_EQ_INT(nano_rules_remove(r.rs, "keep"), NANO_OK);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.services, 1);
    NT_EQ_INT(st.running, 1);
    rig_down(&r);

    rig_up(&r, dir);
    NT_EQ_INT(nano_rules_load_state(r.rs, &d), NANO_OK);
    publish_num(&r, "sensors/probe/temperature", 80);
    run_for(&r, 5);
    NT_EQ_INT(nano_rules_apply_config(r.rs, NULL), NANO_OK);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.services, 1);
    NT_EQ_INT(st.running, 1);
    rig_down(&r);

    /* config-file services removed through the API stay removed */
    rig_up(&r, dir);
    struct nano_cfg_doc *cfg = json("{\"cfgsvc\": {\"rule\": \"true\"}}");
    NT_EQ_INT(nano_rules_load_state(r.rs, &d), NANO_OK);
    NT_EQ_INT(nano_rules_apply_config(r.rs, nano_cfg_root(cfg)), NANO_OK);
    NT_EQ_INT(nano_rules_remove(r.rs, "cfgsvc"), NANO_OK);
    rig_down(&r);
    rig_up(&r, dir);
    NT_EQ_INT(nano_rules_load_state(r.rs, &d), NANO_OK);
    NT_EQ_INT(nano_rules_apply_config(r.rs, nano_cfg_root(cfg)), NANO_OK);
    nano_rules_get_stats(r.rs, &st);
    NT_EQ_INT(st.services, 1);           /* "halt" only */
    nano_cfg_free(cfg);
    rig_down(&r);
}

static void
test_corrupt_state_is_ignored(void)
{
    struct rig r;
    struct nano_diag d;
    char path[128];
    FILE *f;

    rig_up(&r, NULL);
    snprintf(path, sizeof path, "%s/services.json", r.dir);
    f = fopen(path, "w");
    NT_ASSERT(f);
    fputs("NANO-STATE 1 5 00000000\n{\"x\":", f);
    fclose(f);
    NT_EQ_INT(nano_rules_load_state(r.rs, &d), NANO_ECORRUPT);
    NT_EQ_INT(nano_rules_apply_config(r.rs, NULL), NANO_OK);
    rig_down(&r);
}

/* In the daemon, a reading costs the bus its message and the engine
 * nothing: N readings through a firing and clearing service, N allocations. */
static void
test_daemon_path_allocations(void)
{
    struct rig r;
    struct nano_diag d;
    uint64_t before;

    rig_up(&r, NULL);
    publish_num(&r, "sensors/probe/temperature", 70);
    run_for(&r, 5);
    NT_EQ_INT(start(&r, "a", "{\"rule\": \"temperature > 75 and avg(temperature, 10s) > 0\", "
                    "\"action\": \"gpio.set(led_pin, HIGH)\", "
                    "\"on_clear\": \"gpio.set(led_pin, LOW)\"}", &d, NULL), NANO_OK);
    run_for(&r, 5);
    before = nano_mem_alloc_count();
    for (int i = 0; i < 1000; i++) {
        publish_num(&r, "sensors/probe/temperature", i & 1 ? 70 : 80);
        nano_loop_run_once(r.loop, 0);
    }
    NT_EQ_INT(nano_mem_alloc_count() - before, 1000);
    NT_EQ_INT(r.sets, 1000);                   /* every reading switched */
    rig_down(&r);
}

NT_LIST = {
    { "daemon_path_allocations", test_daemon_path_allocations },
    { "seed_example", test_seed_example },
    { "resolution_errors", test_resolution_errors },
    { "topic_service_over_bus", test_topic_service_over_bus },
    { "max_topics", test_max_topics },
    { "waiting_for_devices", test_waiting_for_devices },
    { "config_validation_positions", test_config_validation_positions },
    { "persistence_and_lifecycle", test_persistence_and_lifecycle },
    { "corrupt_state_is_ignored", test_corrupt_state_is_ignored },
    { NULL, NULL },
};
