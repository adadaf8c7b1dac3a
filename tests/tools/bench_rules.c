/* SPDX-License-Identifier: MIT
 *
 * bench_rules.c - the rule engine's speed and cost (bench/rules/run.sh).
 *
 * Pure engine (no loop, no bus), one core, simulated time:
 *   eval       nano_rule_eval(): the compiled rule alone
 *   reading    nano_rule_set_input() + nano_rule_step(): what one sensor
 *              reading costs a service (windows, state machine; values
 *              alternate around the threshold so it fires and clears)
 *   message    a topic service: nano_rule_set_message() on a JSON payload
 *              (fields scanned without allocating) + step, firing a
 *              publish with a JSON payload built from fields on 1 in 2
 * and allocations per operation over the whole run.
 *
 * In the daemon's setting (engine.c on a real loop and bus):
 *   reading -> gpio   publish sensors/probe/temperature, the service's
 *                     gpio.set() callback runs: p50/p99 latency
 *   msg -> msg        publish a JSON reading, a topic service publishes
 *                     alerts/<instance>, a subscriber receives it (the
 *                     Node-RED flow mqtt in -> switch -> mqtt out, in
 *                     process)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "rules/rules.h"

static double min_secs = 1.0;

/* ---- pure engine ------------------------------------------------------------ */

static int
resolve(void *arg, const char *name, unsigned want, struct nano_rule_sym *out)
{
    static char key[128];
    bool topic = arg != NULL;

    if (want == NANO_RSYM_WANT_PIN) {
        snprintf(key, sizeof key, "pins/%s", name);
        out->kind = NANO_RSYM_PIN;
        out->key = key;
        out->name = name;
        return NANO_OK;
    }
    snprintf(key, sizeof key, topic ? "%s" : "sensors/probe/%s", name);
    out->kind = topic ? NANO_RSYM_FIELD : NANO_RSYM_INPUT;
    out->key = key;
    out->interval_ns = 10 * NANO_NS_PER_MS;      /* a 100 Hz sensor */
    return NANO_OK;
}

static int
sink_set(void *arg, struct nano_rule_state *st, const char *pin, bool high)
{
    (void)arg; (void)st; (void)pin; (void)high;
    return NANO_OK;
}

static int
sink_pub(void *arg, struct nano_rule_state *st, const char *topic,
         const struct nano_value *v)
{
    (void)arg; (void)st; (void)topic; (void)v;
    return NANO_OK;
}

static const struct nano_rule_sink sink = {
    .gpio_set = sink_set, .publish = sink_pub,
};

static struct nano_rule *
compile(const char *rule, const char *action, const char *clear_action,
        const char *input)
{
    const char *acts[] = { action }, *clears[] = { clear_action };
    struct nano_rule_def def = {
        .name = "bench", .rule = rule, .action = acts, .n_action = action ? 1 : 0,
        .on_clear = clears, .n_on_clear = clear_action ? 1 : 0, .input = input,
    };
    struct nano_rule_resolver res = { resolve, input ? (void *)1 : NULL };
    struct nano_rule *r;
    struct nano_diag d;

    if (nano_rule_compile(&def, &res, &r, &d) != NANO_OK) {
        fprintf(stderr, "%s: %u:%u: %s\n", rule, d.line, d.col, d.msg);
        exit(1);
    }
    return r;
}

struct result {
    double per_sec;
    double allocs_per_op;
};

static void
print_row(const char *what, const char *rule, struct result res)
{
    printf("| %s | `%s` | %.2f M/s | %.0f ns | %.3f |\n", what, rule,
           res.per_sec / 1e6, 1e9 / res.per_sec, res.allocs_per_op);
}

/* nano_rule_eval() alone. */
static struct result
bench_eval(const char *rule)
{
    struct nano_rule *r = compile(rule, NULL, NULL, NULL);
    struct nano_rule_state *st;
    struct nano_value v = nano_value_num(74.5, NULL);
    uint64_t t0, t1, a0, ops = 0, t = 0;
    volatile double sink_v = 0;

    nano_rule_state_new(r, NULL, 0, &st);
    nano_rule_set_input(st, 0, &v, 1);
    a0 = nano_mem_alloc_count();
    t0 = nano_time_mono_ns();
    do {
        for (int i = 0; i < 100000; i++)
            sink_v += nano_rule_eval(st, t += 1000);
        ops += 100000;
        t1 = nano_time_mono_ns();
    } while ((double)(t1 - t0) < min_secs * 1e9);
    struct result res = { ops / ((double)(t1 - t0) / 1e9),
                          (double)(nano_mem_alloc_count() - a0) / (double)ops };
    nano_rule_state_free(st);
    nano_rule_free(r);
    return res;
}

/* A reading then a step, values crossing the threshold every 8 readings,
 * 100 Hz simulated time. */
static struct result
bench_reading(const char *rule, const char *clear)
{
    const char *acts[] = { "gpio.set(led_pin, HIGH)" };
    const char *offs[] = { "gpio.set(led_pin, LOW)" };
    struct nano_rule_def def = { .name = "bench", .rule = rule, .clear = clear,
                                 .action = acts, .n_action = 1,
                                 .on_clear = offs, .n_on_clear = 1 };
    struct nano_rule_resolver resv = { resolve, NULL };
    struct nano_rule *r;
    struct nano_rule_state *st;
    struct nano_diag d;
    uint64_t t0, t1, a0, ops = 0, t = 0;

    if (nano_rule_compile(&def, &resv, &r, &d) != NANO_OK) {
        fprintf(stderr, "%s: %s\n", rule, d.msg);
        exit(1);
    }
    nano_rule_state_new(r, NULL, 0, &st);
    a0 = nano_mem_alloc_count();
    t0 = nano_time_mono_ns();
    do {
        for (int i = 0; i < 100000; i++) {
            struct nano_value v = nano_value_num(((i >> 3) & 1) ? 80.0 : 60.0, NULL);
            t += 10 * NANO_NS_PER_MS;
            nano_rule_set_input(st, 0, &v, t);
            nano_rule_step(st, t, &sink);
        }
        ops += 100000;
        t1 = nano_time_mono_ns();
    } while ((double)(t1 - t0) < min_secs * 1e9);
    struct result res = { ops / ((double)(t1 - t0) / 1e9),
                          (double)(nano_mem_alloc_count() - a0) / (double)ops };
    nano_rule_state_free(st);
    nano_rule_free(r);
    return res;
}

/* A topic service on JSON payloads, publishing a JSON alert half the time. */
static struct result
bench_message(void)
{
    struct nano_rule *r = compile("value > 75", "publish(\"alerts/{1}\", "
                                  "{\"value\": value, \"ts\": ts})", NULL,
                                  "sensors/+/temperature");
    struct nano_rule_state *st;
    static const char *const payloads[2] = {
        "{\"value\": 80.2, \"ts\": 1764777600123456, \"unit\": \"C\"}",
        "{\"value\": 60.1, \"ts\": 1764777600123457, \"unit\": \"C\"}",
    };
    size_t lens[2] = { strlen(payloads[0]), strlen(payloads[1]) };
    uint64_t t0, t1, a0, ops = 0, t = 0;

    nano_rule_state_new(r, "sensors/boiler/temperature", 0, &st);
    a0 = nano_mem_alloc_count();
    t0 = nano_time_mono_ns();
    do {
        for (int i = 0; i < 100000; i++) {
            struct nano_value v = nano_value_str(payloads[i & 1], lens[i & 1]);
            v.type = NANO_VT_JSON;
            t += NANO_NS_PER_MS;
            nano_rule_set_message(st, &v, t);
            nano_rule_step(st, t, &sink);
        }
        ops += 100000;
        t1 = nano_time_mono_ns();
    } while ((double)(t1 - t0) < min_secs * 1e9);
    struct result res = { ops / ((double)(t1 - t0) / 1e9),
                          (double)(nano_mem_alloc_count() - a0) / (double)ops };
    nano_rule_state_free(st);
    nano_rule_free(r);
    return res;
}

/* ---- in the daemon's setting: loop + bus + engine ----------------------------- */

struct lat {
    struct nano_loop  *loop;
    struct nano_bus   *bus;
    struct nano_rules *rs;
    uint64_t           t_pub;
    uint64_t          *samples;
    size_t             n, cap;
    bool               got;
};

static bool
io_pin_exists(void *arg, const char *pin)
{
    (void)arg;
    return strcmp(pin, "led_pin") == 0;
}

static int
io_gpio_set(void *arg, const char *pin, bool high)
{
    struct lat *l = arg;
    uint64_t now = nano_time_mono_ns();

    (void)pin;
    (void)high;
    if (l->n < l->cap)
        l->samples[l->n++] = now - l->t_pub;
    l->got = true;
    return NANO_OK;
}

static void
on_alert(void *arg, const struct nano_msg *m)
{
    struct lat *l = arg;
    uint64_t now = nano_time_mono_ns();

    (void)m;
    if (l->n < l->cap)
        l->samples[l->n++] = now - l->t_pub;
    l->got = true;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
lat_report(const char *what, struct lat *l)
{
    qsort(l->samples, l->n, sizeof *l->samples, cmp_u64);
    printf("| %s | %zu | %.1f us | %.1f us | %.1f us | %.1f us |\n", what, l->n,
           (double)l->samples[l->n / 2] / 1e3,
           (double)l->samples[l->n * 99 / 100] / 1e3,
           (double)l->samples[l->n * 999 / 1000] / 1e3,
           (double)l->samples[l->n - 1] / 1e3);
}

static void
lat_setup(struct lat *l, size_t cap)
{
    struct nano_rules_io io = { .gpio_set = io_gpio_set,
                                .pin_exists = io_pin_exists, .arg = l };

    memset(l, 0, sizeof *l);
    l->cap = cap;
    l->samples = calloc(cap, sizeof *l->samples);
    if (nano_loop_new(&l->loop) || nano_bus_new(l->loop, &l->bus) ||
        nano_rules_new(l->loop, l->bus, NULL, NULL, &l->rs)) {
        fprintf(stderr, "setup failed\n");
        exit(1);
    }
    nano_rules_set_io(l->rs, &io);
}

static void
lat_teardown(struct lat *l)
{
    nano_rules_free(l->rs);
    nano_bus_free(l->bus);
    nano_loop_free(l->loop);
    free(l->samples);
}

static void
start_service(struct lat *l, const char *name, const char *json)
{
    struct nano_cfg_doc *doc;
    struct nano_diag d;

    if (nano_cfg_parse_json(json, strlen(json), "bench", &doc, &d) != NANO_OK ||
        nano_rules_start(l->rs, name, nano_cfg_root(doc), &d, NULL) != NANO_OK) {
        fprintf(stderr, "start %s: %s\n", name, d.msg);
        exit(1);
    }
    nano_cfg_free(doc);
}

/* Publish, then run the loop until the action has happened. */
static void
lat_round(struct lat *l, const char *topic, const struct nano_value *v)
{
    l->got = false;
    l->t_pub = nano_time_mono_ns();
    nano_bus_publish_value(l->bus, topic, v);
    while (!l->got) {
        nano_loop_run_once(l->loop, 0);     /* no idle wait once it acted */
        if (nano_time_mono_ns() - l->t_pub > 2 * NANO_NS_PER_S) {
            struct nano_buf b;
            struct nano_json w;
            nano_buf_init(&b, 1 << 20);
            nano_json_init(&w, &b);
            nano_rules_write_list(l->rs, &w);
            nano_json_end(&w);
            fprintf(stderr, "no action after 2 s: %s\n", b.data);
            exit(1);
        }
    }
}

static void
bench_latency_gpio(size_t rounds)
{
    struct lat l;
    struct nano_value v;

    lat_setup(&l, rounds);
    v = nano_value_num(70, NULL);
    nano_bus_publish_value(l.bus, "sensors/probe/temperature", &v);
    nano_loop_run_once(l.loop, 0);
    start_service(&l, "temp-guard", "{\"rule\": \"temperature > 75.0\", "
                  "\"action\": \"gpio.set(led_pin, HIGH)\", "
                  "\"on_clear\": \"gpio.set(led_pin, LOW)\"}");
    for (size_t i = 0; i < rounds + 1000; i++) {
        v = nano_value_num(i & 1 ? 70.0 : 76.0, NULL);   /* fire, clear, ... */
        if (i == 1000)
            l.n = 0;                                      /* warm-up done */
        lat_round(&l, "sensors/probe/temperature", &v);
    }
    lat_report("reading -> gpio.set (seed rule)", &l);
    lat_teardown(&l);
}

static void
bench_latency_msg(size_t rounds)
{
    struct lat l;
    struct nano_sub *sub;
    static const char *const payloads[2] = {
        "{\"value\": 80.2, \"ts\": 1764777600123456}",
        "{\"value\": 60.1, \"ts\": 1764777600123457}",
    };

    lat_setup(&l, rounds);
    start_service(&l, "fwd", "{\"input\": \"sensors/+/temperature\", "
                  "\"rule\": \"value > 75\", \"action\": "
                  "\"publish(\\\"alerts/{1}\\\", {\\\"value\\\": value, \\\"ts\\\": ts})\"}");
    nano_bus_subscribe(l.bus, "alerts/#", NULL, on_alert, &l, &sub);
    for (size_t i = 0; i < rounds + 1000; i++) {
        /* fire on the even rounds; the odd ones clear, publishing nothing */
        struct nano_value v = nano_value_str(payloads[0], strlen(payloads[0]));
        struct nano_value c = nano_value_str(payloads[1], strlen(payloads[1]));
        v.type = c.type = NANO_VT_JSON;
        if (i == 1000)
            l.n = 0;
        lat_round(&l, "sensors/boiler/temperature", &v);
        nano_bus_publish_value(l.bus, "sensors/boiler/temperature", &c);
        nano_loop_run_once(l.loop, 0);
    }
    lat_report("JSON msg -> topic service -> alert msg", &l);
    nano_bus_unsubscribe(l.bus, sub);
    lat_teardown(&l);
}

/* A sim device sampling every 2 ms while the loop sleeps in epoll between
 * samples: from the reading's own timestamp (taken when the driver
 * reported it) to the gpio callback. */
struct dev_lat {
    struct lat          l;
    struct nano_devmgr *dm;
};

static int
io_gpio_dev(void *arg, const char *pin, bool high)
{
    struct dev_lat *x = arg;
    const struct nano_msg *m = nano_bus_latest(x->l.bus, "sensors/probe/temperature");
    uint64_t now = nano_time_mono_ns();

    (void)pin;
    (void)high;
    if (m && x->l.n < x->l.cap)
        x->l.samples[x->l.n++] = now - (uint64_t)m->v.ts_mono_us * 1000;
    return NANO_OK;
}

static void
bench_latency_device(double secs)
{
    struct dev_lat x;
    struct nano_rules_io io = { .gpio_set = io_gpio_dev,
                                .pin_exists = io_pin_exists, .arg = &x };
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    const char *dev = "{\"driver\": \"sim\", \"interval\": \"2ms\", "
                      "\"quantities\": {\"temperature\": {\"wave\": \"steps\", "
                      "\"steps\": [70, 80], \"period\": \"2ms\"}}}";

    lat_setup(&x.l, (size_t)(secs * 600) + 16);
    nano_rules_set_io(x.l.rs, &io);
    if (nano_devmgr_new(x.l.loop, x.l.bus, NULL, &x.dm) != NANO_OK ||
        nano_cfg_parse_json(dev, strlen(dev), "bench", &doc, &d) != NANO_OK ||
        nano_devmgr_install(x.dm, "probe", nano_cfg_root(doc), true, &d) != NANO_OK) {
        fprintf(stderr, "sim device: %s\n", d.msg);
        exit(1);
    }
    nano_cfg_free(doc);
    /* let the device declare its quantity, then start the service */
    uint64_t end = nano_time_mono_ns() + 100 * NANO_NS_PER_MS;
    while (nano_time_mono_ns() < end)
        nano_loop_run_once(x.l.loop, 5);
    start_service(&x.l, "temp-guard", "{\"rule\": \"temperature > 75.0\", "
                  "\"action\": \"gpio.set(led_pin, HIGH)\", "
                  "\"on_clear\": \"gpio.set(led_pin, LOW)\"}");
    x.l.n = 0;
    end = nano_time_mono_ns() + (uint64_t)(secs * 1e9);
    while (nano_time_mono_ns() < end)
        nano_loop_run_once(x.l.loop, 50);
    if (x.l.n)
        lat_report("sim device reading, loop asleep between -> gpio.set", &x.l);
    nano_devmgr_free(x.dm);
    lat_teardown(&x.l);
}

int
main(int argc, char **argv)
{
    size_t rounds = 100000;

    if (argc > 1)
        min_secs = atof(argv[1]);
    if (argc > 2)
        rounds = (size_t)atol(argv[2]);
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("| path | rule | rate | per op | allocations/op |\n");
    printf("| --- | --- | --- | --- | --- |\n");
    print_row("eval", "temperature > 75.0", bench_eval("temperature > 75.0"));
    print_row("eval", "avg(temperature, 30s) > 70",
              bench_eval("avg(temperature, 30s) > 70"));
    print_row("reading + step", "temperature > 75.0",
              bench_reading("temperature > 75.0", NULL));
    print_row("reading + step", "avg(temperature, 30s) > 70",
              bench_reading("avg(temperature, 30s) > 70", NULL));
    print_row("reading + step (hysteresis)", "temperature > 75 / clear temperature < 70",
              bench_reading("temperature > 75", "temperature < 70"));
    print_row("JSON message + step + publish", "value > 75 (topic service)",
              bench_message());
    printf("\n| latency, %zu rounds | samples | p50 | p99 | p99.9 | max |\n", rounds);
    printf("| --- | --- | --- | --- | --- | --- |\n");
    bench_latency_gpio(rounds);
    bench_latency_msg(rounds);
    bench_latency_device(min_secs * 5);
    nano_metrics_reset();
    return 0;
}
