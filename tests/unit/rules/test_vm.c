/* test_vm.c - evaluation semantics: arithmetic, comparisons, three-valued
 * conditions (NaN, division by zero, stale and missing inputs), text
 * comparisons, constant folding and the fused compare instruction. */
#include "harness/nt.h"
#include "unit/rules/fixture.h"

/* Compile `rule` alone and return a state at time 0. */
static struct nano_rule_state *
make(const char *rule, struct nano_rule **r)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins };
    struct nano_rule_def def = { .name = "t", .rule = rule };
    struct nano_rule_state *st = NULL;
    struct nano_diag d;

    NT_MSG("rule: %s", rule);
    if (fx_compile(&f, &def, r, &d) != NANO_OK) {
        NT_MSG("%s: %u:%u: %s", rule, d.line, d.col, d.msg);
        NT_CHECK(!"compile");
        return NULL;
    }
    NT_ASSERT(nano_rule_state_new(*r, NULL, 0, &st) == NANO_OK);
    return st;
}

#define UNKNOWN(v) isnan(v)

static void
test_arithmetic_and_compare(void)
{
    struct fx_probe p;
    struct nano_diag d;
    static const char *const ex[] = {
        "(temperature - 32) * 5 / 9", "temperature % 7", "-temperature + 1",
        "abs(humidity - temperature)", "min(temperature, humidity)",
        "max(temperature, humidity)", "led_pin + 1", "2 + 3 * 4", NULL,
    };

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    fx_set(p.st, FX_T, 77, S(1));
    fx_set(p.st, FX_H, 40, S(1));
    NT_NEAR(fx_probe_value(&p, 0, S(1)), 25.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 1, S(1)), 0.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 2, S(1)), -76.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 3, S(1)), 37.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 4, S(1)), 40.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 5, S(1)), 77.0, 1e-12);
    NT_CHECK(UNKNOWN(fx_probe_value(&p, 6, S(1))));   /* pin never reported */
    fx_set(p.st, "pins/led_pin", 1, S(1));
    NT_NEAR(fx_probe_value(&p, 6, S(1)), 2.0, 1e-12);
    NT_NEAR(fx_probe_value(&p, 7, S(1)), 14.0, 1e-12);
    fx_probe_free(&p);

    struct nano_rule *r;
    struct nano_rule_state *st = make("temperature >= 75 and humidity != 40", &r);
    fx_set(st, FX_T, 75, S(1));
    fx_set(st, FX_H, 41, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    fx_set(st, FX_H, 40, S(2));
    NT_EQ_INT((int)nano_rule_eval(st, S(2)), 0);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_division_by_zero_is_unknown(void)
{
    struct nano_rule *r;
    struct nano_rule_state *st = make("temperature / humidity > 1", &r);

    fx_set(st, FX_T, 5, S(1));
    fx_set(st, FX_H, 2, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    fx_set(st, FX_H, 0, S(2));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(2))));
    nano_rule_state_free(st);
    nano_rule_free(r);

    st = make("temperature % humidity == 0", &r);
    fx_set(st, FX_T, 5, S(1));
    fx_set(st, FX_H, 0, S(1));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(1))));
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* folded at compile time to the same answer */
    st = make("1 / 0 > 1 or temperature > 100", &r);
    fx_set(st, FX_T, 5, S(1));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(1))));
    fx_set(st, FX_T, 500, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_kleene_logic(void)
{
    struct nano_rule *r;
    struct nano_rule_state *st;
    static const struct {
        const char *rule;
        double t, h;          /* NaN: input never set */
        double want;          /* 1, 0, NaN */
    } cases[] = {
        { "temperature > 1 or humidity > 1", 5, NAN, 1 },
        { "temperature > 1 or humidity > 1", 0, NAN, NAN },
        { "temperature > 1 and humidity > 1", 0, NAN, 0 },
        { "temperature > 1 and humidity > 1", 5, NAN, NAN },
        { "not (humidity > 1)", 0, NAN, NAN },
        { "not (humidity > 1)", 0, 0, 1 },
        { "temperature == humidity", 1, NAN, NAN },
        { "temperature != humidity", 1, NAN, NAN },
        { "max(temperature, humidity) > 0", 1, NAN, NAN },
        { "humidity", 0, 3, 1 },
        { "humidity", 0, 0, 0 },
        { "humidity or temperature > 0", 1, NAN, 1 },
    };

    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        st = make(cases[i].rule, &r);
        NT_ASSERT(st);
        fx_set(st, FX_T, cases[i].t, S(1));
        if (!isnan(cases[i].h))
            fx_set(st, FX_H, cases[i].h, S(1));
        double v = nano_rule_eval(st, S(1));
        NT_MSG("case %zu: %s -> %g", i, cases[i].rule, v);
        if (isnan(cases[i].want))
            NT_CHECK(UNKNOWN(v));
        else
            NT_CHECK(v == cases[i].want);
        nano_rule_state_free(st);
        nano_rule_free(r);
    }
}

static void
test_nan_and_stale_readings(void)
{
    struct nano_rule *r;
    struct nano_rule_state *st = make("temperature > 75", &r);

    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(1))));       /* no reading yet */
    fx_set(st, FX_T, 80, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    fx_set(st, FX_T, NAN, S(2));                        /* a NaN reading */
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(2))));
    fx_set_q(st, FX_T, 80, NANO_Q_STALE, S(3));         /* stale */
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(3))));
    fx_set_q(st, FX_T, 80, NANO_Q_FAULT, S(4));         /* faulty */
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(4))));
    fx_set(st, FX_T, 80, S(5));
    NT_EQ_INT((int)nano_rule_eval(st, S(5)), 1);
    /* text where a number is expected is unknown, not zero */
    struct nano_value txt = nano_value_str("hot", 3);
    nano_rule_set_input(st, fx_slot(r, FX_T), &txt, S(6));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(6))));
    /* booleans are 0/1 */
    struct nano_value b = nano_value_bool(true);
    nano_rule_set_input(st, fx_slot(r, FX_T), &b, S(7));
    NT_EQ_INT((int)nano_rule_eval(st, S(7)), 0);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_text_comparisons(void)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins, .topic_mode = true };
    struct nano_rule_def def = { .name = "t", .input = "doors/+",
                                 .rule = "state == \"open\" and \"x\\ty\" != label" };
    struct nano_rule *r = NULL;
    struct nano_rule_state *st;
    struct nano_diag d;

    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, "doors/front", 0, &st) == NANO_OK);
    struct nano_value v = nano_value_str("{\"state\":\"open\",\"label\":\"x\\ty\"}", 31);
    v.type = NANO_VT_JSON;
    NT_EQ_INT(nano_rule_set_message(st, &v, S(1)), NANO_OK);
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 0);         /* label is "x<TAB>y" */
    v = nano_value_str("{\"state\":\"op\\u0065n\",\"label\":\"door\"}", 36);
    NT_EQ_INT(nano_rule_set_message(st, &v, S(2)), NANO_OK);
    NT_EQ_INT((int)nano_rule_eval(st, S(2)), 1);         /* escapes decoded */
    v = nano_value_str("{\"state\":\"closed\",\"label\":\"door\"}", 33);
    nano_rule_set_message(st, &v, S(3));
    NT_EQ_INT((int)nano_rule_eval(st, S(3)), 0);
    v = nano_value_str("{\"label\":\"door\"}", 16);
    nano_rule_set_message(st, &v, S(4));
    NT_EQ_INT((int)nano_rule_eval(st, S(4)), 0);         /* no text: not equal */
    v = nano_value_str("{\"state\":\"open\",\"label\":\"door\"}", 31);
    v.quality = NANO_Q_STALE;
    nano_rule_set_message(st, &v, S(5));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(5))));
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* two literals fold */
    struct nano_rule_state *s2 = make("\"a\" == \"a\" and not (\"a\" == \"b\")", &r);
    NT_EQ_INT((int)nano_rule_eval(s2, 0), 1);
    NT_EQ_INT(nano_rule_code_len(r), 2);                 /* CONST, RET */
    nano_rule_state_free(s2);
    nano_rule_free(r);
}

static void
test_folding_and_fusion(void)
{
    struct nano_rule *r;
    struct nano_rule_state *st;

    /* input > constant expression: one fused instruction and RET */
    st = make("temperature > 60 + 3 * 5", &r);
    NT_EQ_INT(nano_rule_code_len(r), 2);
    fx_set(st, FX_T, 75.5, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    fx_set(st, FX_T, 75, S(2));
    NT_EQ_INT((int)nano_rule_eval(st, S(2)), 0);
    nano_rule_state_free(st);
    nano_rule_free(r);

    st = make("temperature < -(2 * 3)", &r);
    NT_EQ_INT(nano_rule_code_len(r), 2);
    fx_set(st, FX_T, -7, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* durations are seconds */
    st = make("age(temperature) > 1m + 30s", &r);
    fx_set(st, FX_T, 1, S(0));
    NT_EQ_INT((int)nano_rule_eval(st, S(90)), 0);
    NT_EQ_INT((int)nano_rule_eval(st, S(90.5)), 1);
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* true/false, HIGH/LOW */
    st = make("(true and not false) == HIGH and LOW == 0", &r);
    NT_EQ_INT((int)nano_rule_eval(st, 0), 1);
    NT_EQ_INT(nano_rule_code_len(r), 2);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_pins_as_inputs(void)
{
    struct nano_rule *r;
    struct nano_rule_state *st = make("led_pin == LOW and temperature > 75", &r);

    NT_EQ_STR(nano_rule_input_key(r, 0), "pins/led_pin");
    NT_EQ_INT(nano_rule_input_kind(r, 0), NANO_RSYM_PIN);
    fx_set(st, FX_T, 80, S(1));
    NT_CHECK(UNKNOWN(nano_rule_eval(st, S(1))));
    struct nano_value b = nano_value_bool(false);
    nano_rule_set_input(st, 0, &b, S(1));
    NT_EQ_INT((int)nano_rule_eval(st, S(1)), 1);
    b = nano_value_bool(true);
    nano_rule_set_input(st, 0, &b, S(2));
    NT_EQ_INT((int)nano_rule_eval(st, S(2)), 0);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

/* `%` is computed without libm; it must agree with fmod exactly (== on
 * doubles: every bit, except that a zero's sign is not a rule's concern). */
static void
test_modulo_matches_fmod(void)
{
    static const char *const ex[] = { "temperature % humidity", NULL };
    static const double fixed[][2] = {
        { 7.5, 2 }, { -7.5, 2 }, { 7.5, -2 }, { 1e300, 3 }, { 1e-300, 7e-301 },
        { 5e-324, 1e-320 }, { 1e308, 1e-308 }, { 0.3, 0.1 }, { -0.0, 5 },
        { 123456789.123, 0.001 }, { 1.7976931348623157e308, 3.3 },
    };
    struct fx_probe p;
    struct nano_diag d;
    uint64_t seed = 0x9E3779B97F4A7C15ull;

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    for (int i = 0; i < 2000; i++) {
        double x, y;
        if (i < (int)NANO_ARRAY_LEN(fixed)) {
            x = fixed[i][0];
            y = fixed[i][1];
        } else {
            /* random doubles over the whole exponent range, both signs */
            uint64_t a, b;
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; a = seed;
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; b = seed;
            memcpy(&x, &a, 8);
            memcpy(&y, &b, 8);
            if (!isfinite(x) || !isfinite(y) || y == 0)
                continue;
        }
        fx_set(p.st, FX_T, x, S(1));
        fx_set(p.st, FX_H, y, S(1));
        double got = fx_probe_value(&p, 0, S(1)), want = fmod(x, y);
        NT_MSG("%a %% %a: got %a want %a", x, y, got, want);
        NT_CHECK(got == want);
    }
    fx_probe_free(&p);
}

NT_LIST = {
    { "modulo_matches_fmod", test_modulo_matches_fmod },
    { "arithmetic_and_compare", test_arithmetic_and_compare },
    { "division_by_zero_is_unknown", test_division_by_zero_is_unknown },
    { "kleene_logic", test_kleene_logic },
    { "nan_and_stale_readings", test_nan_and_stale_readings },
    { "text_comparisons", test_text_comparisons },
    { "folding_and_fusion", test_folding_and_fusion },
    { "pins_as_inputs", test_pins_as_inputs },
    { NULL, NULL },
};
