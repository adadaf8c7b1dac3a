/* test_alloc.c - evaluation allocates nothing: setting inputs, stepping the
 * state machine (firing, clearing, safe mode, templates, payloads) and
 * scanning JSON payloads, counted with nano_mem_alloc_count(). */
#include "harness/nt.h"
#include "core/mem.h"
#include "unit/rules/fixture.h"

static void
test_named_service_path(void)
{
    const char *on[] = { "gpio.set(led_pin, HIGH)",
                         "publish(\"alerts/heat\", {\"t\": temperature, \"avg\": avg(temperature, 30s)})",
                         "log(warn, \"hot: {temperature:.1} (avg {avg(temperature, 30s)})\")" };
    const char *off[] = { "gpio.set(led_pin, LOW)" };
    const char *safe[] = { "gpio.set(led_pin, LOW)" };
    struct nano_rule_def def = {
        .name = "a", .rule = "temperature > 75 and avg(temperature, 30s) > 70 and "
                             "stddev(temperature, 1m) < 50 and ewma(temperature, 0.3) > 0",
        .clear = "temperature < 70 or max(temperature, 30s) < 72",
        .action = on, .n_action = 3, .on_clear = off, .n_on_clear = 1,
        .safe = safe, .n_safe = 1, .cooldown_ns = S(5), .min_on_ns = S(2),
        .stale_after_ns = S(600),
    };
    struct fx f = { .insts = fx_single, .pins = fx_pins, .interval_ns = S(1) };
    struct nano_rule *r;
    struct nano_rule_state *st;
    struct nano_rule_status s;
    struct fx_sink sink;
    struct nano_diag d;
    uint64_t before, t = 0;

    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    fx_sink_init(&sink);
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    before = nano_mem_alloc_count();
    for (int i = 0; i < 20000; i++) {
        t += S(0.5);
        sink.n = 0;                          /* keep the recorder from filling */
        fx_set(st, FX_T, 60 + (i % 40), t);
        if (i % 1000 == 999)
            fx_set_q(st, FX_T, 0, NANO_Q_STALE, t);
        nano_rule_step(st, t, &sink.sink);
    }
    NT_EQ_INT(nano_mem_alloc_count() - before, 0);
    nano_rule_get_status(st, &s);
    NT_CHECK(s.fires > 100);                  /* the loop did fire and clear */
    NT_CHECK(s.clears > 100);
    NT_CHECK(s.safes > 10);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_topic_service_path(void)
{
    const char *on[] = { "publish(\"alerts/{1}\", {\"value\": value, \"ts\": ts, \"s\": status})" };
    struct nano_rule_def def = {
        .name = "t", .input = "sensors/+/temperature",
        .rule = "value > 75 and status != \"maintenance\" and avg(value, 10s) > 0",
        .clear = "value < 70", .action = on, .n_action = 1,
    };
    struct fx f = { .insts = fx_single, .pins = fx_pins, .topic_mode = true };
    struct nano_rule *r;
    struct nano_rule_state *st;
    struct nano_rule_status s;
    struct fx_sink sink;
    struct nano_diag d;
    char payload[128];
    uint64_t before, t = 0;

    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    fx_sink_init(&sink);
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, "sensors/boiler/temperature", 0, &st) == NANO_OK);
    before = nano_mem_alloc_count();
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(payload, sizeof payload,
                         "{\"value\": %d.5, \"ts\": %d, \"status\": \"ok\"}",
                         60 + i % 30, 1000 + i);
        struct nano_value v = nano_value_str(payload, (size_t)n);
        v.type = NANO_VT_JSON;
        t += S(0.1);
        sink.n = 0;
        nano_rule_set_message(st, &v, t);
        nano_rule_step(st, t, &sink.sink);
    }
    NT_EQ_INT(nano_mem_alloc_count() - before, 0);
    nano_rule_get_status(st, &s);
    NT_CHECK(s.fires > 100);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

NT_LIST = {
    { "named_service_path", test_named_service_path },
    { "topic_service_path", test_topic_service_path },
    { NULL, NULL },
};
