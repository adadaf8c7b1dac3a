/* test_topic.c - topic services: the JSON field scanner, per-topic state
 * (windows, for, hysteresis), payload fields, matched segments and
 * templates in actions, publish and webhook payloads. */
#include "harness/nt.h"
#include "unit/rules/fixture.h"

static void
test_scanner(void)
{
    static const char *const keys[] = { "value", "ts", "status", "meta", "flag", "none" };
    struct nano_value v[6];
    bool found[6];
    const char *js = " { \"meta\": {\"a\": [1, {\"b\": \"}\"}], \"c\": null}, "
                     "\"value\" : -80.25e0, \"st\\u0061tus\": \"al\\\"arm\", "
                     "\"ts\": 1764777600123456, \"flag\": true, \"none\": null, "
                     "\"value\": 1 }";

    NT_EQ_INT(nano_rule_json_scan(js, strlen(js), keys, 6, v, found), NANO_OK);
    NT_CHECK(found[0] && v[0].type == NANO_VT_NUM && v[0].u.num == -80.25);
    NT_CHECK(found[1] && v[1].u.num == 1764777600123456.0);
    NT_CHECK(found[2] && v[2].type == NANO_VT_STR);       /* escaped key matched */
    NT_CHECK(v[2].u.s.len == 7 && memcmp(v[2].u.s.p, "al\\\"arm", 7) == 0);
    NT_CHECK(found[3] && v[3].type == NANO_VT_JSON);
    NT_CHECK(v[3].u.s.len == 33 && v[3].u.s.p[0] == '{' && v[3].u.s.p[32] == '}');
    NT_CHECK(found[4] && v[4].type == NANO_VT_BOOL && v[4].u.b);
    NT_CHECK(found[5] && v[5].type == NANO_VT_NONE);

    static const char *const bad[] = {
        "", "[1]", "{", "{\"a\"", "{\"a\":}", "{\"a\":1,}", "{\"a\":01x}",
        "{\"a\":\"x}", "{\"a\":\"\\q\"}", "{\"a\":tru}", "{\"a\":[1,2}",
        "{\"a\":1 \"b\":2}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":\"\x01\"}",
        "{\"a\":\"\\u12\"}", "{'a':1}",
    };
    for (size_t i = 0; i < NANO_ARRAY_LEN(bad); i++) {
        NT_MSG("bad json %zu: %s", i, bad[i]);
        NT_EQ_INT(nano_rule_json_scan(bad[i], strlen(bad[i]), keys, 6, v, found), -EPROTO);
    }
    /* nesting beyond the bound is refused, not recursed into */
    char deep[300];
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"x\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    NT_EQ_INT(nano_rule_json_scan(deep, n, keys, 6, v, found), -EPROTO);
    /* an empty object finds nothing */
    NT_EQ_INT(nano_rule_json_scan("{}", 2, keys, 6, v, found), NANO_OK);
    NT_CHECK(!found[0]);
}

struct tsvc {
    struct fx               f;
    struct nano_rule       *r;
    struct fx_sink          sink;
};

static void
tsvc_new(struct tsvc *s, struct nano_rule_def *def)
{
    struct nano_diag d;

    memset(s, 0, sizeof *s);
    s->f.insts = fx_single;
    s->f.pins = fx_pins;
    s->f.topic_mode = true;
    fx_sink_init(&s->sink);
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    if (fx_compile(&s->f, def, &s->r, &d) != NANO_OK) {
        NT_MSG("%s: %u:%u: %s", d.origin ? d.origin : "", d.line, d.col, d.msg);
        NT_ASSERT(!"compile failed");
    }
}

static void
msg(struct tsvc *s, struct nano_rule_state *st, const char *json, uint64_t t)
{
    struct nano_value v = nano_value_str(json, strlen(json));

    v.type = NANO_VT_JSON;
    v.ts_wall_us = 1764777600000000 + (int64_t)(t / 1000);
    NT_EQ_INT(nano_rule_set_message(st, &v, t), NANO_OK);
    nano_rule_step(st, t, &s->sink.sink);
}

static void
test_per_topic_state(void)
{
    const char *on[] = { "publish(\"alerts/{1}\", {\"value\": value, \"ts\": ts})" };
    const char *off[] = { "publish(\"alerts/{1}/clear\", \"{1} back to {value:.1}\")" };
    struct nano_rule_def def = {
        .name = "hot", .input = "sensors/+/temperature",
        .rule = "value > 75", .clear = "value < 70", .for_ns = S(2),
        .action = on, .n_action = 1, .on_clear = off, .n_on_clear = 1,
    };
    struct nano_rule_state *boiler, *tank;
    struct tsvc s;

    tsvc_new(&s, &def);
    NT_EQ_INT(nano_rule_state_new(s.r, "sensors/boiler/humidity", 0, &boiler), -EINVAL);
    NT_ASSERT(nano_rule_state_new(s.r, "sensors/boiler/temperature", 0, &boiler) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(s.r, "sensors/tank/temperature", 0, &tank) == NANO_OK);

    msg(&s, boiler, "{\"value\": 80.2, \"ts\": 1764777600123456}", S(0));
    msg(&s, tank, "{\"value\": 60, \"ts\": 1764777600123457}", S(0));
    msg(&s, tank, "{\"value\": 76}", S(1));          /* tank starts its own `for` */
    NT_EQ_INT(s.sink.n, 0);
    msg(&s, boiler, "{\"value\": 81, \"ts\": 1764777602000000}", S(2));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "publish alerts/boiler json:{\"value\":81,\"ts\":1764777602000000}");
    msg(&s, tank, "{\"value\": 77}", S(2.5));         /* held 1.5 s: not yet */
    NT_EQ_INT(s.sink.n, 1);
    nano_rule_step(tank, S(3), &s.sink.sink);         /* its timer */
    NT_EQ_INT(s.sink.n, 2);
    /* no ts in the payload: the message's own time (µs) */
    NT_EQ_STR(s.sink.log[1], "publish alerts/tank json:{\"value\":77,\"ts\":1764777602500000}");
    msg(&s, boiler, "{\"value\": 69.96}", S(4));
    NT_EQ_INT(s.sink.n, 3);
    NT_EQ_STR(s.sink.log[2], "publish alerts/boiler/clear str:boiler back to 70.0");
    msg(&s, tank, "{\"value\": 72}", S(4));           /* in the band: stays */
    NT_EQ_INT(s.sink.n, 3);
    nano_rule_state_free(boiler);
    nano_rule_state_free(tank);
    nano_rule_free(s.r);
}

static void
test_fields_and_templates(void)
{
    const char *on[] = {
        "log(warn, \"{service}: {topic} {1}/{2} status={status} level={level:.2} "
        "meta={meta} x={level * 2} alarm={alarm} missing={nope}\")",
        "publish(\"out/{2}\", status)",
        "publish(\"out/{2}/n\", level * 10)",
        "publish(\"out/{2}/b\", alarm)",
        "publish(\"out/{2}/c\", level > 3)",
        "webhook(\"http://hub.local/{1}\", {\"s\": status, \"m\": meta, \"t\": \"{1}-{level}\", "
        "\"n\": {\"lvl\": level}})",
        "webhook(\"http://hub.local/t\", \"plain {status}\")",
        "gpio.set(led_pin, alarm)",
    };
    struct nano_rule_def def = {
        .name = "tanks", .input = "site/+/+/state",
        .rule = "status == \"alarm\" and level > 3",
        .action = on, .n_action = 8,
    };
    struct nano_rule_state *st;
    struct tsvc s;

    tsvc_new(&s, &def);
    NT_ASSERT(nano_rule_state_new(s.r, "site/north/t1/state", 0, &st) == NANO_OK);
    msg(&s, st, "{\"status\":\"alarm\",\"level\":4.256,\"alarm\":true,"
                "\"meta\":{\"unit\":\"m\"}}", S(1));
    NT_EQ_INT(s.sink.n, 8);
    NT_EQ_STR(s.sink.log[0], "log warn tanks: site/north/t1/state north/t1 status=alarm "
                             "level=4.26 meta={\"unit\":\"m\"} x=8.512 alarm=true missing=unknown");
    NT_EQ_STR(s.sink.log[1], "publish out/t1 str:alarm");
    NT_EQ_STR(s.sink.log[2], "publish out/t1/n num:42.56");
    NT_EQ_STR(s.sink.log[3], "publish out/t1/b bool:true");
    NT_EQ_STR(s.sink.log[4], "publish out/t1/c bool:true");
    NT_EQ_STR(s.sink.log[5], "webhook http://hub.local/north json:{\"s\":\"alarm\","
                             "\"m\":{\"unit\":\"m\"},\"t\":\"north-4.256\",\"n\":{\"lvl\":4.256}}");
    NT_EQ_STR(s.sink.log[6], "webhook http://hub.local/t text:plain alarm");
    NT_EQ_STR(s.sink.log[7], "gpio.set led_pin HIGH");
    nano_rule_state_free(st);
    nano_rule_free(s.r);
}

static void
test_escaped_text_round_trips(void)
{
    const char *on[] = { "publish(\"o\", {\"s\": status})", "log(info, \"{status}\")" };
    struct nano_rule_def def = { .name = "e", .input = "x/+", .rule = "true",
                                 .action = on, .n_action = 2 };
    struct nano_rule_state *st;
    struct tsvc s;

    tsvc_new(&s, &def);
    NT_ASSERT(nano_rule_state_new(s.r, "x/1", 0, &st) == NANO_OK);
    msg(&s, st, "{\"status\":\"a \\\"q\\\" \\u00e9\\n\"}", S(1));
    NT_EQ_INT(s.sink.n, 2);
    /* JSON out: the original escapes are kept */
    NT_EQ_STR(s.sink.log[0], "publish o json:{\"s\":\"a \\\"q\\\" \\u00e9\\n\"}");
    /* text out: decoded */
    NT_EQ_STR(s.sink.log[1], "log info a \"q\" é\n");
    nano_rule_state_free(st);
    nano_rule_free(s.r);
}

static void
test_bare_payloads(void)
{
    const char *on[] = { "publish(\"echo/{1}\", value)" };
    struct nano_rule_def def = { .name = "b", .input = "raw/#", .rule = "value > 1",
                                 .action = on, .n_action = 1 };
    struct nano_rule_state *st;
    struct tsvc s;
    struct nano_value v = nano_value_num(5, "V");

    tsvc_new(&s, &def);
    NT_ASSERT(nano_rule_state_new(s.r, "raw/a/b/c", 0, &st) == NANO_OK);
    NT_EQ_INT(nano_rule_set_message(st, &v, S(1)), NANO_OK);
    nano_rule_step(st, S(1), &s.sink.sink);
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "publish echo/a/b/c num:5");     /* '#' = the rest */
    nano_rule_state_free(st);

    /* a text reading that is not JSON is the value itself */
    const char *on2[] = { "log(info, \"got {value}\")" };
    struct nano_rule_def def2 = { .name = "b", .input = "raw/+", .rule = "value == \"on\"",
                                  .action = on2, .n_action = 1 };
    nano_rule_free(s.r);
    tsvc_new(&s, &def2);
    NT_ASSERT(nano_rule_state_new(s.r, "raw/sw", 0, &st) == NANO_OK);
    v = nano_value_str("on", 2);
    nano_rule_set_message(st, &v, S(1));
    nano_rule_step(st, S(1), &s.sink.sink);
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "log info got on");
    /* malformed JSON: reported, fields unknown, the service stays up */
    v = nano_value_str("{\"value\": ", 10);
    v.type = NANO_VT_JSON;
    NT_EQ_INT(nano_rule_set_message(st, &v, S(2)), -EPROTO);
    nano_rule_step(st, S(2), &s.sink.sink);
    NT_EQ_INT(s.sink.n, 1);
    nano_rule_state_free(st);
    nano_rule_free(s.r);
}

static void
test_per_topic_windows(void)
{
    const char *on[] = { "log(info, \"{1} avg {avg(value, 10s)}\")" };
    struct nano_rule_def def = { .name = "w", .input = "s/+", .rule = "avg(value, 10s) > 50",
                                 .action = on, .n_action = 1 };
    struct nano_rule_state *a, *b;
    struct tsvc s;

    tsvc_new(&s, &def);
    NT_ASSERT(nano_rule_state_new(s.r, "s/a", 0, &a) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(s.r, "s/b", 0, &b) == NANO_OK);
    msg(&s, a, "{\"value\": 40}", S(1));
    msg(&s, b, "{\"value\": 100}", S(1));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "log info b avg 100");
    msg(&s, a, "{\"value\": 70}", S(2));     /* a: (40 + 70) / 2 = 55 */
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_STR(s.sink.log[1], "log info a avg 55");
    nano_rule_state_free(a);
    nano_rule_state_free(b);
    nano_rule_free(s.r);
}

static void
test_output_bounds(void)
{
    const char *on[] = { "publish(\"o/{1}\", {\"v\": value})" };
    struct nano_rule_def def = { .name = "o", .input = "in/+", .rule = "true",
                                 .action = on, .n_action = 1 };
    struct nano_rule_state *st;
    struct nano_rule_status stt;
    struct tsvc s;
    static char big[NANO_RULE_OUT_MAX + 100];

    tsvc_new(&s, &def);
    NT_ASSERT(nano_rule_state_new(s.r, "in/x", 0, &st) == NANO_OK);
    memset(big, 'a', sizeof big - 1);
    struct nano_value v = nano_value_str(big, sizeof big - 1);
    nano_rule_set_message(st, &v, S(1));
    nano_rule_step(st, S(1), &s.sink.sink);
    nano_rule_get_status(st, &stt);
    NT_EQ_INT(s.sink.n, 0);                  /* never cut: refused */
    NT_EQ_INT(stt.actions_failed, 1);
    NT_EQ_INT(stt.last_action_rc, -ENOSPC);
    nano_rule_state_free(st);
    nano_rule_free(s.r);
}

NT_LIST = {
    { "scanner", test_scanner },
    { "per_topic_state", test_per_topic_state },
    { "fields_and_templates", test_fields_and_templates },
    { "escaped_text_round_trips", test_escaped_text_round_trips },
    { "bare_payloads", test_bare_payloads },
    { "per_topic_windows", test_per_topic_windows },
    { "output_bounds", test_output_bounds },
    { NULL, NULL },
};
