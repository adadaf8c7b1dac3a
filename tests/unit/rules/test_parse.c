/* test_parse.c - the rule language's diagnostics: malformed rules and
 * actions with their exact line:column and message, the caret rendering,
 * and what must compile. */
#include "harness/nt.h"
#include "unit/rules/fixture.h"

struct bad {
    const char *rule;
    int         rc;
    const char *want;     /* "line:col: message" */
};

static const struct bad bad_rules[] = {
    { "temperature > > 75", NANO_EPARSE, "1:15: expected an expression" },
    { "", NANO_EPARSE, "1:1: expected an expression" },
    { "temperature >", NANO_EPARSE, "1:14: expected an expression" },
    { "temperature > 75 or", NANO_EPARSE, "1:20: expected an expression" },
    { "not", NANO_EPARSE, "1:4: expected an expression" },
    { "(temperature > 75", NANO_EPARSE,
      "1:18: expected ')' to close the '(' at 1:1" },
    { "temperature > 75)", NANO_EPARSE,
      "1:17: unexpected ')'; expected an operator such as 'and' or '>'" },
    { "temperature > 75 75", NANO_EPARSE,
      "1:18: unexpected '75'; expected an operator such as 'and' or '>'" },
    { "temprature > 75", NANO_ENOTFOUND,
      "1:1: unknown name 'temprature' (did you mean 'temperature'?); known "
      "quantities: temperature, humidity, pressure" },
    { "probe.temprature > 3", NANO_ENOTFOUND,
      "1:1: unknown name 'probe.temprature' (did you mean "
      "'probe.temperature'?); known quantities of this instance: temperature" },
    { "nobody.temperature > 3", NANO_ENOTFOUND,
      "1:1: unknown name 'nobody.temperature'; known instances: probe, room" },
    { "avg(temperature) > 70", NANO_ETYPE,
      "1:1: avg() takes 2 arguments: an input and a window such as "
      "avg(temperature, 30s); got 1" },
    { "avg(temperature, 30) > 70", NANO_ETYPE,
      "1:18: the window of avg() must be a duration such as 30s or 5m" },
    { "avg(temperature + 1, 30s) > 1", NANO_ETYPE,
      "1:5: the first argument of avg() must be an input name, such as "
      "avg(temperature, 30s)" },
    { "avg(temperature, 0s) > 1", NANO_ETYPE,
      "1:18: the window of avg() must be between 1ms and 1d" },
    { "avg(temperature, 30d) > 1", NANO_ETYPE,
      "1:18: the window of avg() must be between 1ms and 1d" },
    { "avgg(temperature, 5s) > 1", NANO_ENOTFOUND,
      "1:1: unknown function 'avgg' (did you mean 'avg'?); functions: abs, "
      "min, max, avg, sum, count, stddev, delta, rate, ewma, age, hour, "
      "minute, weekday" },
    { "temperature > \"hot\"", NANO_ETYPE,
      "1:13: text can only be compared with == or !=" },
    { "temperature + 1", NANO_ETYPE,
      "1:1: a rule must be a condition such as 'temperature > 75', not a "
      "number" },
    { "temperature > 75 and 3", NANO_ETYPE,
      "1:22: 'and' needs a condition such as 'temperature > 75', not a number" },
    { "not humidity * 2", NANO_ETYPE,
      "1:5: 'not' needs a condition such as 'temperature > 75', not a number" },
    { "temperature >= 7.5.1", NANO_EPARSE, "1:16: malformed number '7.5.1'" },
    { "\"unterminated", NANO_EPARSE, "1:1: unterminated string" },
    { "temperature @ 5", NANO_EPARSE, "1:13: unexpected character '@'" },
    { "ewma(temperature, 1.5) > 3", NANO_ETYPE,
      "1:19: the weight of ewma() must be a number above 0 and at most 1, "
      "such as 0.2" },
    { "age(5) > 3", NANO_ETYPE,
      "1:5: the first argument of age() must be an input name, such as "
      "age(temperature)" },
    { "hour(3) > 1", NANO_ETYPE, "1:1: hour() takes no arguments" },
    { "1e999 > temperature", NANO_EPARSE, "1:1: number '1e999' is out of range" },
    { "temperature = 75", NANO_EPARSE,
      "1:13: unexpected '='; write '==' to compare" },
    { "temperature < humidity < 3", NANO_EPARSE,
      "1:24: comparisons cannot be chained; write 'a < b and b < c'" },
    { "temperature > 30x", NANO_EPARSE,
      "1:15: malformed duration '30x'; write a number and a unit: ms, s, m, "
      "h or d, such as 30s" },
    { "gpio.set(led_pin, HIGH)", NANO_ETYPE,
      "1:1: gpio.set() is an action; it belongs in \"action\", not in a "
      "condition" },
    { "{\"a\": 1}", NANO_EPARSE,
      "1:1: objects such as {\"value\": x} are only allowed in action "
      "arguments" },
    { "temperature > 75 & humidity < 3", NANO_EPARSE,
      "1:18: unexpected '&'; write 'and' (or '&&')" },
    { "humidity == 'a'", NANO_EPARSE,
      "1:13: strings use double quotes: \"text\"" },
    { "temperature > 75 and\n  humidity >", NANO_EPARSE,
      "2:13: expected an expression" },
    { "temperature > 75 # comment\n  and (", NANO_EPARSE,
      "2:8: expected an expression" },
    { "`probe.temperature > 3", NANO_EPARSE, "1:1: unterminated quoted name" },
    { "probe. > 3", NANO_EPARSE, "1:8: expected a name after '.', found '>'" },
    { "min(temperature) > 3", NANO_ETYPE,
      "1:1: min() takes 2 arguments: two values, or an input and a window "
      "such as min(temperature, 30s)" },
    { "abs(\"x\") > 1", NANO_ETYPE,
      "1:5: text can only be compared with == or != against an input" },
    { "PI == \"x\"", NANO_ETYPE, "1:1: 'PI' is a number; it cannot equal text" },
    { "avg(PI, 5s) > 1", NANO_ETYPE, "1:5: avg() needs an input; 'PI' is a constant" },
    { "temperature > 1 and \"on\"", NANO_ETYPE,
      "1:21: text can only be compared with == or != against an input" },
    { "max(temperature, 1, 2) > 1", NANO_ETYPE,
      "1:1: max() takes 2 arguments: two values, or an input and a window "
      "such as max(temperature, 30s)" },
    { "delta(temperature 5s) > 1", NANO_EPARSE,
      "1:19: expected ',' or ')' after an argument, found '5s'" },
};

static void
test_malformed_rules(void)
{
    char got[400];

    for (size_t i = 0; i < NANO_ARRAY_LEN(bad_rules); i++) {
        struct nano_diag d;
        int rc = fx_try(bad_rules[i].rule, &d);
        NT_MSG("rule %zu: %s", i, bad_rules[i].rule);
        NT_EQ_STR(nano_errname(rc), nano_errname(bad_rules[i].rc));
        snprintf(got, sizeof got, "%u:%u: %s", d.line, d.col, d.msg);
        NT_EQ_STR(got, bad_rules[i].want);
        NT_EQ_STR(d.origin, "rule");
    }
}

static void
test_ambiguous_quantity(void)
{
    struct fx f = { .insts = fx_two_temps, .pins = fx_pins };
    struct nano_rule_def def = { .name = "t", .rule = "level > 3 and temperature > 75" };
    struct nano_rule *r = NULL;
    struct nano_diag d;

    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_EAMBIG);
    NT_CHECK(r == NULL);
    NT_EQ_INT(d.line, 1);
    NT_EQ_INT(d.col, 15);
    NT_EQ_STR(d.msg, "'temperature' is ambiguous: provided by instances "
              "boiler, tank; write boiler.temperature");
    /* Naming the instance resolves it. */
    def.rule = "level > 3 and tank.temperature > 75";
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_OK);
    NT_ASSERT(r);
    NT_EQ_INT(nano_rule_n_inputs(r), 2);
    NT_EQ_STR(nano_rule_input_key(r, 1), "sensors/tank/temperature");
    NT_EQ_STR(nano_rule_input_label(r, 1), "tank.temperature");
    nano_rule_free(r);
}

static void
test_caret(void)
{
    struct nano_diag d;
    char out[300];

    NT_EQ_INT(fx_try("temperature > > 75", &d), NANO_EPARSE);
    nano_rule_diag_caret(&d, "temperature > > 75", out, sizeof out);
    NT_EQ_STR(out, "1:15: expected an expression\n"
                   "  temperature > > 75\n"
                   "                ^");
    /* second line of a multi-line rule */
    const char *src = "temperature > 75 and\n  humidty > 3";
    NT_EQ_INT(fx_try(src, &d), NANO_ENOTFOUND);
    NT_EQ_INT(d.line, 2);
    NT_EQ_INT(d.col, 3);
    nano_rule_diag_caret(&d, src, out, sizeof out);
    NT_EQ_STR(out, "2:3: unknown name 'humidty' (did you mean 'humidity'?); "
              "known quantities: temperature, humidity, pressure\n"
              "    humidty > 3\n"
              "    ^");
    /* columns count characters, not bytes */
    src = "humidity == \"°C\" and > 3";
    NT_EQ_INT(fx_try(src, &d), NANO_EPARSE);
    NT_EQ_INT(d.col, 22);
    nano_rule_diag_caret(&d, src, out, sizeof out);
    NT_EQ_STR(strchr(out, '\n') + 1, "  humidity == \"°C\" and > 3\n"
              "                       ^");
    NT_MSG("%s", out);
}

struct bad_action {
    const char *action;
    int         rc;
    const char *want;
};

static const struct bad_action bad_actions[] = {
    { "gpio.set(led_pin)", NANO_ETYPE,
      "1:1: gpio.set() takes 2 arguments: a pin and HIGH or LOW; got 1" },
    { "gpio.set(temperature, HIGH)", NANO_ENOTFOUND,
      "1:10: unknown pin 'temperature'; known pins: led_pin, fan, heater" },
    { "gpio.set(ledpin, HIGH)", NANO_ENOTFOUND,
      "1:10: unknown pin 'ledpin' (did you mean 'led_pin'?); known pins: "
      "led_pin, fan, heater" },
    { "gpio.set(led_pin, \"x\")", NANO_ETYPE,
      "1:19: the level of gpio.set() must be HIGH, LOW or a condition" },
    { "gpio.blink(led_pin)", NANO_ENOTFOUND,
      "1:1: unknown action 'gpio.blink'; actions: gpio.set, gpio.toggle, "
      "publish, log, webhook" },
    { "publish(alerts, 1)", NANO_ETYPE,
      "1:9: the topic of publish() must be a string such as \"alerts/{1}\"" },
    { "publish(\"alerts/{1}\", temperature)", NANO_EPARSE,
      "1:18: {1} is a topic segment; only services with an \"input\" topic "
      "filter have them" },
    { "publish(\"a/+/b\", 1)", NANO_ETYPE,
      "1:9: bad topic: topic must not contain wildcards '+' or '#'" },
    { "log(loud, \"x\")", NANO_ETYPE,
      "1:5: unknown log level 'loud'; levels: error, warn, info, debug" },
    { "log(warn, \"hot {temprature}\")", NANO_ENOTFOUND,
      "1:17: unknown name 'temprature' (did you mean 'temperature'?); known "
      "quantities: temperature, humidity, pressure" },
    { "log(\"x {\")", NANO_EPARSE,
      "1:8: unclosed '{' in the text; write {{ for a brace" },
    { "log(warn, \"x {}\")", NANO_EPARSE,
      "1:15: empty placeholder {}; write {name}, {1} or {{ for a brace" },
    { "webhook(\"ftp://x\", 1)", NANO_ETYPE,
      "1:9: the URL of webhook() must start with http:// or https://" },
    { "avg(temperature, 5s)", NANO_ETYPE,
      "1:1: avg() is a function for conditions, not an action; actions: "
      "gpio.set, gpio.toggle, publish, log, webhook" },
    { "temperature > 1", NANO_EPARSE,
      "1:1: an action is a call such as gpio.set(led_pin, HIGH); actions: "
      "gpio.set, gpio.toggle, publish, log, webhook" },
};

static void
test_malformed_actions(void)
{
    char got[400];

    for (size_t i = 0; i < NANO_ARRAY_LEN(bad_actions); i++) {
        struct fx f = { .insts = fx_single, .pins = fx_pins };
        const char *acts[] = { bad_actions[i].action };
        struct nano_rule_def def = { .name = "t", .rule = "temperature > 1",
                                     .action = acts, .n_action = 1 };
        struct nano_rule *r = NULL;
        struct nano_diag d;
        int rc = fx_compile(&f, &def, &r, &d);

        NT_MSG("action %zu: %s", i, bad_actions[i].action);
        NT_EQ_STR(nano_errname(rc), nano_errname(bad_actions[i].rc));
        snprintf(got, sizeof got, "%u:%u: %s", d.line, d.col, d.msg);
        NT_EQ_STR(got, bad_actions[i].want);
        NT_EQ_STR(d.origin, "action");
        NT_CHECK(r == NULL);
    }
}

static void
test_origin_of_list_entries(void)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins };
    const char *acts[] = { "gpio.set(led_pin, HIGH)", "log(info, \"ok\")",
                           "gpio.toggle(nope)" };
    const char *clear_acts[] = { "gpio.set(led_pin, LOW)" };
    struct nano_rule_def def = { .name = "t", .rule = "temperature > 1",
                                 .action = acts, .n_action = 3 };
    struct nano_rule *r = NULL;
    struct nano_diag d;

    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_ENOTFOUND);
    NT_EQ_STR(d.origin, "action[2]");
    NT_EQ_INT(d.col, 13);
    def.n_action = 2;
    def.clear = "temperature < < 1";
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_EPARSE);
    NT_EQ_STR(d.origin, "clear");
    NT_EQ_INT(d.col, 15);
    def.clear = "temperature < 0.5";
    def.on_clear = clear_acts;
    def.n_on_clear = 1;
    def.input = "sensors/#/x";
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_ESCHEMA);
    NT_EQ_STR(d.origin, "input");
    def.input = NULL;
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_OK);
    NT_ASSERT(r);
    nano_rule_free(r);
}

static void
test_valid_rules(void)
{
    static const char *const ok[] = {
        "temperature > 75.0",
        "temperature > 75 and humidity < 80",
        "not (temperature > 75) || humidity >= 3 && pressure != 1013",
        "max(temperature, humidity) > 3",
        "led_pin and temperature > 3",
        "led_pin == HIGH or fan == LOW",
        "-temperature < -3",
        "age(temperature) > 5m",
        "age(temperature) >= 30s or 10 < age(humidity)",
        "hour() >= 22 or hour() < 6 and weekday() <= 5",
        "avg(temperature, 30s) > 70",
        "stddev(temperature, 5m) > 2 and rate(humidity, 1m) > 0.1",
        "abs(delta(temperature, 10s)) > 2",
        "count(probe.temperature, 1h) < 10",
        "ewma(temperature, 0.2) > temperature + 1",
        "`probe`.temperature > 1",
        "temperature % 2 == 1",
        "(temperature - 32) * 5 / 9 > 20",
        "true",
        "temperature > PI",
        "temperature > 75 # too hot\n  and humidity > 10",
        "min(temperature, 30s) > min(humidity, 30s) - 1",
        "sum(temperature, 1500ms) > 100 or minute() == 30",
    };
    struct nano_diag d;

    for (size_t i = 0; i < NANO_ARRAY_LEN(ok); i++) {
        NT_MSG("rule: %s", ok[i]);
        NT_EQ_INT(fx_try(ok[i], &d), NANO_OK);
        if (d.msg[0])
            NT_MSG("%s: %u:%u: %s", ok[i], d.line, d.col, d.msg);
    }
}

static void
test_limits(void)
{
    char deep[400], longr[5000];
    struct nano_diag d;
    size_t n = 0;

    for (int i = 0; i < 60; i++)
        deep[n++] = '(';
    memcpy(deep + n, "temperature > 1", 15);
    n += 15;
    for (int i = 0; i < 60; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    NT_EQ_INT(fx_try(deep, &d), NANO_EPARSE);
    NT_CHECK(strstr(d.msg, "nested too deeply") != NULL);

    n = 0;
    strcpy(longr, "temperature > 1");
    n = strlen(longr);
    while (n + 20 < sizeof longr - 1) {
        memcpy(longr + n, " or temperature > 1", 19);
        n += 19;
    }
    longr[n] = '\0';
    NT_EQ_INT(fx_try(longr, &d), NANO_EPARSE);
    char want[80];
    snprintf(want, sizeof want, "text too long (%zu bytes, at most 4096)",
             strlen(longr));
    NT_EQ_STR(d.msg, want);

    /* 33 distinct inputs: over the per-service bound */
    struct fx f = { .insts = fx_single, .pins = fx_pins, .topic_mode = true };
    char many[1200];
    n = (size_t)snprintf(many, sizeof many, "f0 > 1");
    for (int i = 1; i <= 32; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, " or f%d > 1", i);
    struct nano_rule_def def = { .name = "t", .rule = many, .input = "a/+" };
    struct nano_rule *r = NULL;
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_EPARSE);
    NT_EQ_STR(d.msg, "a service may read at most 32 inputs");
}

static void
test_fields_need_topic_service(void)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins, .topic_mode = true };
    struct nano_rule_def def = { .name = "t", .rule = "value > 1" };
    struct nano_rule *r = NULL;
    struct nano_diag d;

    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_EPARSE);
    NT_EQ_STR(d.msg, "'value' is a payload field; only services with an "
              "\"input\" topic filter read fields");
    def.input = "sensors/+/temperature";
    NT_EQ_INT(fx_compile(&f, &def, &r, &d), NANO_OK);
    nano_rule_free(r);
}

NT_LIST = {
    { "malformed_rules", test_malformed_rules },
    { "ambiguous_quantity", test_ambiguous_quantity },
    { "caret", test_caret },
    { "malformed_actions", test_malformed_actions },
    { "origin_of_list_entries", test_origin_of_list_entries },
    { "valid_rules", test_valid_rules },
    { "limits", test_limits },
    { "fields_need_topic_service", test_fields_need_topic_service },
    { NULL, NULL },
};
