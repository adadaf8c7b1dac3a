/* test_window.c - every windowed function against hand-computed windows,
 * ewma, age, schedules (hour/minute/weekday), window bounds and overflow,
 * and the running sums against a recomputation over a long noisy run. */
#include <stdlib.h>

#include "harness/nt.h"
#include "unit/rules/fixture.h"
#include "rules/rules_int.h"

static const char *const win_exprs[] = {
    "avg(temperature, 3s)", "min(temperature, 3s)", "max(temperature, 3s)",
    "sum(temperature, 3s)", "count(temperature, 3s)",
    "stddev(temperature, 3s)", "delta(temperature, 3s)",
    "rate(temperature, 3s)", NULL,
};

enum { AVG, MIN, MAX, SUM, COUNT, STDDEV, DELTA, RATE };

static void
test_functions_on_a_window(void)
{
    /* Readings 10 12 11 15 9 13 at t = 1..6 s. */
    static const double vals[] = { 10, 12, 11, 15, 9, 13 };
    struct fx_probe p;
    struct nano_diag d;

    NT_ASSERT(fx_probe_new(&p, NULL, win_exprs, &d) == NANO_OK);
    for (int i = 0; i < 6; i++)
        fx_set(p.st, FX_T, vals[i], S(i + 1));

    /* now = 6 s: the window (3 s, 6 s] holds t = 4, 5, 6: 15, 9, 13. */
    NT_NEAR(fx_probe_value(&p, AVG, S(6)), 37.0 / 3, 1e-9);
    NT_NEAR(fx_probe_value(&p, MIN, S(6)), 9, 0);
    NT_NEAR(fx_probe_value(&p, MAX, S(6)), 15, 0);
    NT_NEAR(fx_probe_value(&p, SUM, S(6)), 37, 1e-9);
    NT_NEAR(fx_probe_value(&p, COUNT, S(6)), 3, 0);
    /* mean 12.333..; deviations 2.667, -3.333, 0.667; squares sum 18.667 */
    NT_NEAR(fx_probe_value(&p, STDDEV, S(6)), 2.494438258, 1e-8);
    NT_NEAR(fx_probe_value(&p, DELTA, S(6)), 13 - 15, 1e-12);
    NT_NEAR(fx_probe_value(&p, RATE, S(6)), -2.0 / 2, 1e-12);

    /* now = 7.5 s, no new reading: (4.5, 7.5] holds t = 5, 6: 9, 13. */
    NT_NEAR(fx_probe_value(&p, AVG, S(7.5)), 11, 1e-12);
    NT_NEAR(fx_probe_value(&p, MIN, S(7.5)), 9, 0);
    NT_NEAR(fx_probe_value(&p, MAX, S(7.5)), 13, 0);
    NT_NEAR(fx_probe_value(&p, SUM, S(7.5)), 22, 1e-12);
    NT_NEAR(fx_probe_value(&p, COUNT, S(7.5)), 2, 0);
    NT_NEAR(fx_probe_value(&p, STDDEV, S(7.5)), 2, 1e-12);
    NT_NEAR(fx_probe_value(&p, DELTA, S(7.5)), 4, 1e-12);
    NT_NEAR(fx_probe_value(&p, RATE, S(7.5)), 4, 1e-12);

    /* now = 8 s: only t = 6 remains (t = 5 is exactly 3 s old: out). */
    NT_NEAR(fx_probe_value(&p, COUNT, S(8)), 1, 0);
    NT_NEAR(fx_probe_value(&p, STDDEV, S(8)), 0, 0);
    NT_CHECK(isnan(fx_probe_value(&p, DELTA, S(8))));   /* needs two */
    NT_CHECK(isnan(fx_probe_value(&p, RATE, S(8))));

    /* now = 10 s: empty. */
    NT_CHECK(isnan(fx_probe_value(&p, AVG, S(10))));
    NT_CHECK(isnan(fx_probe_value(&p, MIN, S(10))));
    NT_CHECK(isnan(fx_probe_value(&p, MAX, S(10))));
    NT_NEAR(fx_probe_value(&p, SUM, S(10)), 0, 0);
    NT_NEAR(fx_probe_value(&p, COUNT, S(10)), 0, 0);
    NT_CHECK(isnan(fx_probe_value(&p, STDDEV, S(10))));

    /* a new reading starts over */
    fx_set(p.st, FX_T, 20, S(11));
    NT_NEAR(fx_probe_value(&p, AVG, S(11)), 20, 0);
    NT_NEAR(fx_probe_value(&p, MIN, S(11)), 20, 0);
    fx_probe_free(&p);
}

static void
test_min_max_after_eviction(void)
{
    static const char *const ex[] = { "min(temperature, 2s)", "max(temperature, 2s)", NULL };
    struct fx_probe p;
    struct nano_diag d;

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    fx_set(p.st, FX_T, 1, S(1));      /* min leaves first */
    fx_set(p.st, FX_T, 9, S(2));      /* then max */
    fx_set(p.st, FX_T, 5, S(3));
    fx_set(p.st, FX_T, 6, S(3.5));
    NT_NEAR(fx_probe_value(&p, 0, S(3.5)), 5, 0);     /* (1.5, 3.5]: 9 5 6 */
    NT_NEAR(fx_probe_value(&p, 1, S(3.5)), 9, 0);
    NT_NEAR(fx_probe_value(&p, 1, S(4.5)), 6, 0);     /* (2.5, 4.5]: 5 6 */
    NT_NEAR(fx_probe_value(&p, 0, S(4.5)), 5, 0);
    fx_probe_free(&p);
}

static void
test_bad_and_stale_readings_stay_out(void)
{
    static const char *const ex[] = { "count(temperature, 10s)", "avg(temperature, 10s)", NULL };
    struct fx_probe p;
    struct nano_diag d;

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    fx_set(p.st, FX_T, 10, S(1));
    fx_set(p.st, FX_T, NAN, S(2));
    fx_set_q(p.st, FX_T, 1000, NANO_Q_FAULT, S(3));
    fx_set_q(p.st, FX_T, 1000, NANO_Q_STALE, S(4));
    fx_set(p.st, FX_T, 20, S(5));
    NT_NEAR(fx_probe_value(&p, 0, S(5)), 2, 0);
    NT_NEAR(fx_probe_value(&p, 1, S(5)), 15, 0);
    fx_probe_free(&p);
}

static void
test_ewma(void)
{
    static const char *const ex[] = { "ewma(temperature, 0.5)", "ewma(temperature, 1)", NULL };
    struct fx_probe p;
    struct nano_diag d;

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    NT_CHECK(isnan(fx_probe_value(&p, 0, S(0))));
    fx_set(p.st, FX_T, 10, S(1));
    NT_NEAR(fx_probe_value(&p, 0, S(1)), 10, 0);
    fx_set(p.st, FX_T, 20, S(2));
    NT_NEAR(fx_probe_value(&p, 0, S(2)), 15, 1e-12);
    fx_set(p.st, FX_T, 30, S(3));
    NT_NEAR(fx_probe_value(&p, 0, S(3)), 22.5, 1e-12);
    NT_NEAR(fx_probe_value(&p, 1, S(3)), 30, 0);
    fx_set_q(p.st, FX_T, 1000, NANO_Q_FAULT, S(4));     /* ignored */
    NT_NEAR(fx_probe_value(&p, 0, S(4)), 22.5, 1e-12);
    fx_probe_free(&p);
}

static void
test_age(void)
{
    static const char *const ex[] = { "age(temperature)", NULL };
    struct fx_probe p;
    struct nano_diag d;

    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    /* before any reading: since the service started (t = 0) */
    NT_NEAR(fx_probe_value(&p, 0, S(4)), 4, 1e-9);
    fx_set(p.st, FX_T, 10, S(2));
    NT_NEAR(fx_probe_value(&p, 0, S(5)), 3, 1e-9);
    /* a stale copy of the last value is not a fresh reading */
    fx_set_q(p.st, FX_T, 10, NANO_Q_STALE, S(6));
    NT_NEAR(fx_probe_value(&p, 0, S(7)), 5, 1e-9);
    fx_probe_free(&p);
}

static void
test_schedules(void)
{
    static const char *const ex[] = { "hour()", "minute()", "weekday()", NULL };
    struct fx_probe p;
    struct nano_diag d;
    char out[64];

    setenv("TZ", "UTC", 1);
    tzset();
    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    /* nano_rule_preview reads the real clock; check the range only */
    NT_CHECK(fx_probe_value(&p, 0, S(1)) >= 0 && fx_probe_value(&p, 0, S(1)) <= 23);
    NT_CHECK(fx_probe_value(&p, 2, S(1)) >= 1 && fx_probe_value(&p, 2, S(1)) <= 7);
    fx_probe_free(&p);

    /* through a step, the sink's clock: Thursday 2026-12-03 17:52:23 UTC */
    struct fx f = { .insts = fx_single, .pins = fx_pins };
    const char *acts[] = { "log(info, \"{hour()} {minute()} {weekday()}\")" };
    struct nano_rule_def def = { .name = "s", .rule = "hour() >= 17 and weekday() == 4",
                                 .action = acts, .n_action = 1 };
    struct nano_rule *r;
    struct nano_rule_state *st;
    struct fx_sink sink;

    fx_sink_init(&sink);
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    sink.wall = 1796320343LL * 1000000000LL;
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    nano_rule_step(st, S(1), &sink.sink);
    NT_EQ_INT(sink.n, 1);
    NT_EQ_STR(sink.log[0], "log info 17 52 4");
    /* hour() in the rule: wakes at the next hour, 7 min 37 s later (the
     * minute() in the action's text does not make it wake every minute) */
    NT_EQ_INT((long long)sink.wake, (long long)S(1 + 7 * 60 + 37));
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* minute() in the rule: the next minute boundary, 37 s later */
    def.rule = "minute() == 53";
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    nano_rule_step(st, S(1), &sink.sink);
    NT_EQ_INT(sink.n, 1);
    NT_EQ_INT((long long)sink.wake, (long long)S(1 + 37));
    sink.wall += 37 * 1000000000LL;
    nano_rule_step(st, S(1 + 37), &sink.sink);
    NT_EQ_INT(sink.n, 2);
    NT_EQ_STR(sink.log[1], "log info 17 53 4");
    (void)out;
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_capacity_and_overflow(void)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins, .interval_ns = S(1) };
    struct nano_rule_def def = { .name = "s", .rule = "count(temperature, 5s) > 100" };
    struct nano_rule *r;
    struct nano_rule_state *st;
    struct nano_rule_status s;
    struct nano_diag d;

    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    /* 5 s at 1 s: 5 readings, + 1/4 + 4 headroom = 10 */
    NT_EQ_INT(st->win[0].cap, 10);
    for (int i = 0; i < 20; i++)
        fx_set(st, FX_T, i, S(1) + (uint64_t)i * S(0.1));
    nano_rule_get_status(st, &s);
    NT_EQ_INT(s.window_overflows, 10);
    NT_EQ_INT(st->win[0].n, 10);
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* the hard cap bounds a long window at a fast input */
    f.interval_ns = S(0.001);
    def.rule = "avg(temperature, 1h) > 1";
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    NT_EQ_INT(st->win[0].cap, NANO_RULE_WINDOW_CAP);
    NT_CHECK(nano_rule_state_size(r) < NANO_RULE_WINDOW_CAP * 16 + 2048);
    nano_rule_state_free(st);
    nano_rule_free(r);

    /* unknown interval: the service's hint, else 1 s */
    f.interval_ns = 0;
    def.interval_ns = S(0.5);
    def.rule = "avg(temperature, 10s) > 1";
    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_ASSERT(nano_rule_state_new(r, NULL, 0, &st) == NANO_OK);
    NT_EQ_INT(st->win[0].cap, 20 + 5 + 4);
    nano_rule_state_free(st);
    nano_rule_free(r);
}

static void
test_shared_windows(void)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins };
    struct nano_rule_def def = { .name = "s",
        .rule = "avg(temperature, 30s) > 1 and max(temperature, 30s) < 9 and "
                "avg(temperature, 1m) > 0 and avg(probe.temperature, 30s) > 0" };
    struct nano_rule *r;
    struct nano_diag d;

    NT_ASSERT(fx_compile(&f, &def, &r, &d) == NANO_OK);
    NT_EQ_INT(r->n_wins, 2);          /* (temperature, 30s) and (.., 1m) */
    NT_EQ_INT(r->n_inputs, 1);
    nano_rule_free(r);
}

/* Running sums against a direct computation after 200k noisy readings at
 * a large offset (where naive sums would lose digits). */
static void
test_long_run_accuracy(void)
{
    static const char *const ex[] = { "avg(temperature, 10s)", "stddev(temperature, 10s)",
                                      "min(temperature, 10s)", "max(temperature, 10s)", NULL };
    struct fx_probe p;
    struct nano_diag d;
    uint32_t seed = 12345;
    double ring[64];
    int n = 0;

    fx_probe_interval_ns = S(0.25);
    NT_ASSERT(fx_probe_new(&p, NULL, ex, &d) == NANO_OK);
    NT_EQ_INT(p.st->win[0].cap, 40 + 10 + 4);
    uint64_t t = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1664525u + 1013904223u;
        double v = 1e6 + (double)(seed >> 8) / (1 << 24) * 10.0;
        t += S(0.25);
        fx_set(p.st, FX_T, v, t);
        ring[n++ % 64] = v;
    }
    /* the window (t - 10 s, t] holds the last 40 readings */
    double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < 40; i++) {
        double v = ring[(n - 1 - i) % 64];
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    double mean = sum / 40;
    for (int i = 0; i < 40; i++) {
        double v = ring[(n - 1 - i) % 64];
        sq += (v - mean) * (v - mean);
    }
    NT_NEAR(fx_probe_value(&p, 0, t), mean, 1e-6);
    NT_NEAR(fx_probe_value(&p, 1, t), sqrt(sq / 40), 1e-5);
    NT_NEAR(fx_probe_value(&p, 2, t), mn, 1e-6);
    NT_NEAR(fx_probe_value(&p, 3, t), mx, 1e-6);
    fx_probe_free(&p);
}

NT_LIST = {
    { "functions_on_a_window", test_functions_on_a_window },
    { "min_max_after_eviction", test_min_max_after_eviction },
    { "bad_and_stale_readings_stay_out", test_bad_and_stale_readings_stay_out },
    { "ewma", test_ewma },
    { "age", test_age },
    { "schedules", test_schedules },
    { "capacity_and_overflow", test_capacity_and_overflow },
    { "shared_windows", test_shared_windows },
    { "long_run_accuracy", test_long_run_accuracy },
    { NULL, NULL },
};
