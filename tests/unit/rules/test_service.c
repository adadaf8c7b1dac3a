/* test_service.c - the service state machine: the seed example, hysteresis
 * on a noisy signal, `for`, cooldown, min_on/min_off, safe actions on stale
 * and silent inputs, unknown results, failing actions, and the wake-ups it
 * asks for (for, age, windows) instead of polling. */
#include "harness/nt.h"
#include "unit/rules/fixture.h"

struct svc {
    struct fx               f;
    struct nano_rule       *r;
    struct nano_rule_state *st;
    struct fx_sink          sink;
};

static void
svc_new(struct svc *s, struct nano_rule_def *def)
{
    struct nano_diag d;

    memset(s, 0, sizeof *s);
    s->f.insts = fx_single;
    s->f.pins = fx_pins;
    s->f.interval_ns = S(1);
    fx_sink_init(&s->sink);
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    if (fx_compile(&s->f, def, &s->r, &d) != NANO_OK) {
        NT_MSG("%s: %u:%u: %s", d.origin ? d.origin : "", d.line, d.col, d.msg);
        NT_ASSERT(!"compile failed");
    }
    NT_ASSERT(nano_rule_state_new(s->r, NULL, 0, &s->st) == NANO_OK);
}

static void
svc_free(struct svc *s)
{
    nano_rule_state_free(s->st);
    nano_rule_free(s->r);
}

/* A reading of temperature at t, then a step. */
static void
reading(struct svc *s, double v, uint64_t t)
{
    fx_set(s->st, FX_T, v, t);
    nano_rule_step(s->st, t, &s->sink.sink);
}

static void
timer(struct svc *s, uint64_t t)
{
    nano_rule_step(s->st, t, &s->sink.sink);
}

static enum nano_rule_phase
phase(struct svc *s)
{
    struct nano_rule_status st;

    nano_rule_get_status(s->st, &st);
    return st.phase;
}

static void
test_seed_example(void)
{
    const char *acts[] = { "gpio.set(led_pin, HIGH)" };
    struct nano_rule_def def = { .name = "temp-guard", .rule = "temperature > 75.0",
                                 .action = acts, .n_action = 1 };
    struct nano_rule_status st;
    struct svc s;

    svc_new(&s, &def);
    NT_EQ_STR(nano_rule_input_key(s.r, 0), "sensors/probe/temperature");
    reading(&s, 70, S(1));
    NT_EQ_INT(s.sink.n, 0);
    NT_EQ_INT(phase(&s), NANO_RULE_IDLE);
    reading(&s, 76, S(2));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "gpio.set led_pin HIGH");
    NT_EQ_INT(phase(&s), NANO_RULE_ACTIVE);
    reading(&s, 77, S(3));                 /* still active: no repeat */
    NT_EQ_INT(s.sink.n, 1);
    reading(&s, 74, S(4));                 /* no clear text: rule false clears */
    NT_EQ_INT(phase(&s), NANO_RULE_CLEARED);
    NT_EQ_INT(s.sink.n, 1);                /* no on_clear actions */
    reading(&s, 76, S(5));                 /* fires again */
    NT_EQ_INT(s.sink.n, 2);
    nano_rule_get_status(s.st, &st);
    NT_EQ_INT(st.fires, 2);
    NT_EQ_INT(st.clears, 1);
    NT_EQ_INT(st.evals, 5);
    NT_EQ_INT(st.actions_ok, 2);
    NT_EQ_STR(st.last_action, "gpio.set(led_pin, HIGH)");
    NT_EQ_INT(st.wake_ns, 0);              /* nothing timed: sleeps */
    svc_free(&s);
}

/* A deterministic noisy signal: center + noise in [-amp, amp]. */
static double
noisy(uint32_t *seed, double center, double amp)
{
    *seed = *seed * 1664525u + 1013904223u;
    return center + ((double)(*seed >> 8) / (1 << 24) * 2 - 1) * amp;
}

static void
test_hysteresis_on_noisy_signal(void)
{
    const char *on[] = { "gpio.set(fan, HIGH)" };
    const char *off[] = { "gpio.set(fan, LOW)" };
    struct nano_rule_def def = { .name = "fan", .rule = "temperature > 75",
                                 .clear = "temperature < 70", .action = on,
                                 .n_action = 1, .on_clear = off, .n_on_clear = 1 };
    struct svc s;
    uint32_t seed = 7;
    uint64_t t = 0;
    int crossings75 = 0, crossings70 = 0;
    double prev = 72;

    svc_new(&s, &def);
    /* hover around 75 (crosses it many times), stay in the band, hover
     * around 70 (crosses it many times), stay low, then hover at 75 again */
    static const struct { double center, amp; int n; } legs[] = {
        { 72, 1, 50 }, { 75, 1, 200 }, { 72.5, 2, 200 }, { 70, 1, 200 },
        { 65, 3, 100 }, { 75, 1, 200 },
    };
    for (size_t l = 0; l < NANO_ARRAY_LEN(legs); l++)
        for (int i = 0; i < legs[l].n; i++) {
            double v = noisy(&seed, legs[l].center, legs[l].amp);
            crossings75 += (prev <= 75) != (v <= 75);
            crossings70 += (prev < 70) != (v < 70);
            prev = v;
            t += S(1);
            reading(&s, v, t);
        }
    NT_CHECK(crossings75 > 50);            /* the signal really is noisy */
    NT_CHECK(crossings70 > 50);
    /* one switch per band crossing: on, off, on */
    NT_EQ_INT(s.sink.n, 3);
    NT_EQ_STR(s.sink.log[0], "gpio.set fan HIGH");
    NT_EQ_STR(s.sink.log[1], "gpio.set fan LOW");
    NT_EQ_STR(s.sink.log[2], "gpio.set fan HIGH");
    svc_free(&s);

    /* the same signal without `clear` switches on every crossing */
    def.clear = NULL;
    svc_new(&s, &def);
    seed = 7;
    t = 0;
    for (int i = 0; i < 250; i++) {
        t += S(1);
        reading(&s, noisy(&seed, i < 50 ? 72 : 75, 1), t);
    }
    NT_CHECK(s.sink.n > 20);
    svc_free(&s);
}

static void
test_for(void)
{
    const char *on[] = { "gpio.set(led_pin, HIGH)" };
    struct nano_rule_def def = { .name = "f", .rule = "temperature > 75",
                                 .for_ns = S(10), .action = on, .n_action = 1 };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 76, S(0));
    NT_EQ_INT(phase(&s), NANO_RULE_PENDING);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(10));   /* asks for a timer */
    reading(&s, 74, S(5));                 /* interrupted: starts over */
    NT_EQ_INT(phase(&s), NANO_RULE_IDLE);
    NT_EQ_INT(s.sink.wake, 0);             /* timer no longer needed */
    reading(&s, 76, S(6));
    NT_EQ_INT((long long)s.sink.wake, (long long)S(16));
    timer(&s, S(10));                      /* a stale timer: too early */
    NT_EQ_INT(s.sink.n, 0);
    reading(&s, 77, S(12));                /* still holding */
    NT_EQ_INT(s.sink.n, 0);
    timer(&s, S(16));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_INT(phase(&s), NANO_RULE_ACTIVE);
    svc_free(&s);

    /* an unknown reading does not count as holding */
    svc_new(&s, &def);
    reading(&s, 76, S(0));
    reading(&s, NAN, S(4));
    NT_EQ_INT(phase(&s), NANO_RULE_IDLE);
    timer(&s, S(10));
    NT_EQ_INT(s.sink.n, 0);
    svc_free(&s);
}

static void
test_cooldown(void)
{
    const char *on[] = { "log(info, \"hot {temperature}\")" };
    struct nano_rule_def def = { .name = "c", .rule = "temperature > 75",
                                 .cooldown_ns = S(60), .action = on, .n_action = 1 };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 80, S(0));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "log info hot 80");
    reading(&s, 70, S(1));                 /* clears */
    reading(&s, 81, S(2));                 /* would fire: cooldown holds it */
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_INT(phase(&s), NANO_RULE_PENDING);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(60));
    reading(&s, 82, S(30));
    NT_EQ_INT(s.sink.n, 1);
    timer(&s, S(60));
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_STR(s.sink.log[1], "log info hot 82");
    /* the condition went away during the cooldown: nothing fires */
    reading(&s, 70, S(61));
    reading(&s, 90, S(62));
    reading(&s, 70, S(63));
    timer(&s, S(120));
    NT_EQ_INT(s.sink.n, 2);
    svc_free(&s);
}

static void
test_min_on_min_off(void)
{
    const char *on[] = { "gpio.set(heater, HIGH)" };
    const char *off[] = { "gpio.set(heater, LOW)" };
    struct nano_rule_def def = { .name = "h", .rule = "temperature < 18",
                                 .clear = "temperature > 21", .action = on,
                                 .n_action = 1, .on_clear = off, .n_on_clear = 1,
                                 .min_on_ns = S(30), .min_off_ns = S(20) };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 17, S(0));
    NT_EQ_INT(s.sink.n, 1);
    reading(&s, 22, S(5));                 /* clear holds, but min_on */
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_INT(phase(&s), NANO_RULE_ACTIVE);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(30));
    timer(&s, S(30));
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_STR(s.sink.log[1], "gpio.set heater LOW");
    reading(&s, 17, S(35));                /* min_off until 50 */
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(50));
    timer(&s, S(50));
    NT_EQ_INT(s.sink.n, 3);
    NT_EQ_STR(s.sink.log[2], "gpio.set heater HIGH");
    /* min_on: the clear condition must still hold when min_on ends */
    reading(&s, 22, S(55));
    reading(&s, 20, S(60));                /* back in the band */
    timer(&s, S(80));
    NT_EQ_INT(s.sink.n, 3);
    NT_EQ_INT(phase(&s), NANO_RULE_ACTIVE);
    svc_free(&s);
}

static void
test_stale_input_runs_safe_actions(void)
{
    const char *on[] = { "gpio.set(heater, HIGH)" };
    const char *off[] = { "gpio.set(heater, LOW)" };
    const char *safe[] = { "gpio.set(heater, LOW)", "log(warn, \"sensor lost at {temperature}\")" };
    struct nano_rule_def def = { .name = "h", .rule = "temperature < 18",
                                 .clear = "temperature > 21", .action = on,
                                 .n_action = 1, .on_clear = off, .n_on_clear = 1,
                                 .safe = safe, .n_safe = 2 };
    struct nano_rule_status st;
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 15, S(0));
    NT_EQ_INT(s.sink.n, 1);
    fx_set_q(s.st, FX_T, 15, NANO_Q_STALE, S(1));
    timer(&s, S(1));
    NT_EQ_INT(s.sink.n, 3);
    NT_EQ_STR(s.sink.log[1], "gpio.set heater LOW");
    NT_EQ_STR(s.sink.log[2], "log warn sensor lost at 15");
    NT_EQ_INT(phase(&s), NANO_RULE_IDLE);
    nano_rule_get_status(s.st, &st);
    NT_CHECK(st.safe_mode);
    NT_EQ_INT(st.safes, 1);
    /* still stale: nothing more */
    fx_set_q(s.st, FX_T, 15, NANO_Q_STALE, S(2));
    timer(&s, S(2));
    fx_set_q(s.st, FX_T, 15, NANO_Q_FAULT, S(3));
    timer(&s, S(3));
    NT_EQ_INT(s.sink.n, 3);
    /* recovery: the condition holds again, so the service fires again */
    reading(&s, 16, S(4));
    NT_EQ_INT(s.sink.n, 4);
    NT_EQ_STR(s.sink.log[3], "gpio.set heater HIGH");
    nano_rule_get_status(s.st, &st);
    NT_CHECK(!st.safe_mode);
    svc_free(&s);
}

static void
test_silent_input_goes_stale(void)
{
    const char *on[] = { "gpio.set(heater, HIGH)" };
    const char *safe[] = { "gpio.set(heater, LOW)" };
    struct nano_rule_def def = { .name = "h", .rule = "temperature < 18",
                                 .action = on, .n_action = 1, .safe = safe,
                                 .n_safe = 1, .stale_after_ns = S(30) };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 15, S(0));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(30));
    reading(&s, 15, S(10));
    NT_EQ_INT((long long)s.sink.wake, (long long)S(40));
    timer(&s, S(40));
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_STR(s.sink.log[1], "gpio.set heater LOW");
    NT_EQ_INT(s.sink.wake, 0);             /* nothing left to wait for */
    reading(&s, 15, S(50));
    NT_EQ_INT(s.sink.n, 3);
    svc_free(&s);
}

static void
test_unknown_never_fires_nor_clears(void)
{
    const char *on[] = { "gpio.set(fan, HIGH)" };
    const char *off[] = { "gpio.set(fan, LOW)" };
    struct nano_rule_def def = { .name = "u", .rule = "temperature / humidity > 2",
                                 .action = on, .n_action = 1, .on_clear = off,
                                 .n_on_clear = 1 };
    struct nano_rule_status st;
    struct svc s;

    svc_new(&s, &def);
    fx_set(s.st, FX_H, 0, S(0));
    reading(&s, 10, S(0));                 /* 10 / 0: unknown */
    NT_EQ_INT(s.sink.n, 0);
    fx_set(s.st, FX_H, 2, S(1));
    reading(&s, 10, S(1));
    NT_EQ_INT(s.sink.n, 1);
    fx_set(s.st, FX_H, 0, S(2));
    reading(&s, 1, S(2));                  /* unknown: stays active */
    NT_EQ_INT(phase(&s), NANO_RULE_ACTIVE);
    NT_EQ_INT(s.sink.n, 1);
    nano_rule_get_status(s.st, &st);
    NT_EQ_INT(st.unknowns, 2);
    NT_CHECK(isnan(st.last_result));
    svc_free(&s);
}

static void
test_failing_action_is_counted(void)
{
    const char *on[] = { "gpio.set(fan, HIGH)", "publish(\"alerts/fan\", temperature)",
                         "gpio.set(fan, humidity > 1)" };
    struct nano_rule_def def = { .name = "x", .rule = "temperature > 1",
                                 .action = on, .n_action = 3 };
    struct nano_rule_status st;
    struct svc s;

    svc_new(&s, &def);
    s.sink.fail_rc = -EIO;
    reading(&s, 5, S(0));
    nano_rule_get_status(s.st, &st);
    NT_EQ_INT(st.fires, 1);
    NT_EQ_INT(st.actions_failed, 3);
    /* the third action's level is unknown (no humidity): it never reached
     * the sink */
    NT_EQ_INT(s.sink.n, 2);
    NT_EQ_INT(st.last_action_rc, -EDOM);
    NT_EQ_STR(st.last_action, "gpio.set(fan, humidity > 1)");
    svc_free(&s);

    /* no sink at all: actions fail as not available, nothing crashes */
    svc_new(&s, &def);
    fx_set(s.st, FX_T, 5, S(0));
    fx_set(s.st, FX_H, 5, S(0));
    nano_rule_step(s.st, S(0), NULL);
    nano_rule_get_status(s.st, &st);
    NT_EQ_INT(st.actions_failed, 3);
    NT_EQ_INT(st.last_action_rc, NANO_EDISABLED);
    svc_free(&s);
}

static void
test_age_wakes_exactly(void)
{
    const char *on[] = { "log(error, \"probe silent for {age(temperature):.0}s\")" };
    struct nano_rule_def def = { .name = "a", .rule = "age(temperature) > 60",
                                 .action = on, .n_action = 1 };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 20, S(0));
    NT_EQ_INT((long long)s.sink.wake, (long long)(S(60) + 1));
    reading(&s, 20, S(30));
    NT_EQ_INT((long long)s.sink.wake, (long long)(S(90) + 1));
    timer(&s, S(90) + 1);
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_STR(s.sink.log[0], "log error probe silent for 60s");
    svc_free(&s);
}

static void
test_window_expiry_wakes(void)
{
    const char *on[] = { "log(warn, \"no readings\")" };
    struct nano_rule_def def = { .name = "w", .rule = "count(temperature, 10s) < 1",
                                 .action = on, .n_action = 1 };
    struct svc s;

    svc_new(&s, &def);
    reading(&s, 20, S(0));
    reading(&s, 21, S(4));
    NT_EQ_INT((long long)s.sink.wake, (long long)S(10));  /* oldest leaves */
    timer(&s, S(10));
    NT_EQ_INT(s.sink.n, 0);
    NT_EQ_INT((long long)s.sink.wake, (long long)S(14));
    timer(&s, S(14));
    NT_EQ_INT(s.sink.n, 1);
    NT_EQ_INT(s.sink.wake, 0);
    svc_free(&s);
}

static void
test_explain_and_status(void)
{
    const char *on[] = { "gpio.set(led_pin, HIGH)" };
    struct nano_rule_def def = { .name = "e", .rule = "temperature > 75 and humidity < 50",
                                 .clear = "temperature < 70", .action = on, .n_action = 1 };
    struct nano_buf b;
    struct nano_json w;
    struct svc s;

    svc_new(&s, &def);
    nano_buf_init(&b, 1 << 16);
    nano_json_init(&w, &b);
    nano_rule_write_explain(s.st, S(1), &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_MSG("%s", b.data);
    NT_CHECK(strstr(b.data, "\"why\":\"not firing: 'temperature' has no reading yet"));

    reading(&s, 80, S(2));
    fx_set(s.st, FX_H, 60, S(2));
    nano_buf_reset(&b);
    nano_json_init(&w, &b);
    nano_rule_write_explain(s.st, S(3), &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_MSG("%s", b.data);
    NT_CHECK(strstr(b.data, "{\"expr\":\"temperature > 75\",\"value\":true}"));
    NT_CHECK(strstr(b.data, "{\"expr\":\"humidity < 50\",\"value\":false}"));
    NT_CHECK(strstr(b.data, "{\"name\":\"humidity\",\"topic\":\"sensors/room/humidity\","
                            "\"value\":60,\"quality\":\"ok\",\"age_s\":1}"));
    NT_CHECK(strstr(b.data, "\"why\":\"not firing: 'temperature > 75 and humidity < 50' is false\""));

    fx_set(s.st, FX_H, 40, S(4));
    nano_rule_step(s.st, S(4), &s.sink.sink);
    nano_buf_reset(&b);
    nano_json_init(&w, &b);
    nano_rule_write_explain(s.st, S(9), &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_MSG("%s", b.data);
    NT_CHECK(strstr(b.data, "\"state\":\"active\""));
    NT_CHECK(strstr(b.data, "\"why\":\"active for 5s: it fired when 'temperature > 75 and "
                            "humidity < 50' held and stays active until 'temperature < 70' "
                            "holds (now false)\""));

    nano_buf_reset(&b);
    nano_json_init(&w, &b);
    nano_rule_write_status(s.st, S(9), &w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_MSG("%s", b.data);
    NT_CHECK(strstr(b.data, "\"state\":\"active\",\"since_s_ago\":5,"));
    NT_CHECK(strstr(b.data, "\"fires\":1"));
    NT_CHECK(strstr(b.data, "\"last_action\":{\"action\":\"gpio.set(led_pin, HIGH)\",\"result\":\"ok\"}"));
    nano_buf_free(&b);
    svc_free(&s);
}

NT_LIST = {
    { "seed_example", test_seed_example },
    { "hysteresis_on_noisy_signal", test_hysteresis_on_noisy_signal },
    { "for", test_for },
    { "cooldown", test_cooldown },
    { "min_on_min_off", test_min_on_min_off },
    { "stale_input_runs_safe_actions", test_stale_input_runs_safe_actions },
    { "silent_input_goes_stale", test_silent_input_goes_stale },
    { "unknown_never_fires_nor_clears", test_unknown_never_fires_nor_clears },
    { "failing_action_is_counted", test_failing_action_is_counted },
    { "age_wakes_exactly", test_age_wakes_exactly },
    { "window_expiry_wakes", test_window_expiry_wakes },
    { "explain_and_status", test_explain_and_status },
    { NULL, NULL },
};
