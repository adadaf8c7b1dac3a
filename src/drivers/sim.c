/* SPDX-License-Identifier: MIT
 *
 * sim.c - the simulated sensor: waveforms, noise and scripted faults.
 *
 * It lets the bundled config show live readings on a machine with no
 * hardware, and lets tests and benchmarks drive every path of the device
 * manager (asynchronous samples, timeouts, errors, out-of-range values).
 *
 *   devices:
 *     boiler:
 *       driver: sim
 *       interval: 1s
 *       latency: 5ms              # > 0: samples complete from a timer
 *       quantities:
 *         temperature: { wave: sine, min: 60, max: 80, period: 5m,
 *                        noise: 0.2, unit: "°C", range: [-40, 125] }
 *         pressure:    { wave: steps, steps: [1.2, 1.4, 1.3], period: 30s,
 *                        unit: bar }
 *       faults:
 *         - { kind: timeout, after: 30s, for: 10s, every: 5m }
 *
 * Waves (t is the time since the instance started):
 *   constant     value
 *   sine         min..max, one cycle per period
 *   ramp         min -> max over period, then again from min (sawtooth)
 *   random_walk  starts at value (default mid), Gaussian steps of `step`,
 *                clamped to [min, max]
 *   steps        the values of `steps`, each held for `period`
 * noise: standard deviation of Gaussian noise added to every reading.
 * Faults: timeout (the sample never completes), error (the sample fails with
 * EIO), out_of_range (a reading far outside `range`).  Active from `after`
 * for `for`, repeating every `every` when given.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/cfg.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/time.h"
#include "drivers/driver.h"

enum wave { W_CONSTANT, W_SINE, W_RAMP, W_RANDOM_WALK, W_STEPS };
enum fault_kind { F_TIMEOUT, F_ERROR, F_OUT_OF_RANGE };

static const char *const wave_names[] = {
    "constant", "sine", "ramp", "random_walk", "steps", NULL
};
static const char *const fault_names[] = {
    "timeout", "error", "out_of_range", NULL
};

#define SIM_MAX_QUANTITIES 16
#define SIM_MAX_STEPS      32
#define SIM_MAX_FAULTS     8

struct sim_quantity {
    const char *name;              /* borrowed from the instance config */
    enum wave   wave;
    double      value, min, max, noise, step;
    uint64_t    period_ns;
    double     *steps;             /* owned: nsteps values, wave steps only */
    unsigned    nsteps;
    double      range_lo, range_hi;
    double      walk;              /* random walk state */
};

struct sim_fault {
    enum fault_kind kind;
    uint64_t        after_ns, for_ns, every_ns;
};

struct sim {
    /* parameters */
    const struct nano_cfg_node *quantities_node;
    const struct nano_cfg_node *faults_node;
    uint64_t                    latency_ns;
    int                         seed;
    /* state */
    struct nano_dev            *dev;
    struct sim_quantity        *q;     /* owned: nq, allocated at probe */
    unsigned                    nq;
    struct sim_fault           *f;     /* owned: nf, NULL when none */
    unsigned                    nf;
    uint64_t                    start_ns;
    uint64_t                    rng;
    struct nano_timer           done;
};

static const struct nano_param params[] = {
    NANO_PARAM_NODE("quantities", struct sim, quantities_node, NULL,
                    "map of quantity name to waveform settings"),
    NANO_PARAM_NODE("faults", struct sim, faults_node, "[]",
                    "list of scripted faults: kind, after, for, every"),
    NANO_PARAM_DURATION("latency", struct sim, latency_ns, "0",
                        "time a sample takes; > 0 completes from a timer"),
    NANO_PARAM_INT("seed", struct sim, seed, "1",
                   "random seed for noise and random walks", 0, 2147483647),
    NANO_PARAM_END
};

/* ---- parsing (shared by validate and probe) ---------------------------------- */

static int
get_num(const struct nano_cfg_node *map, const char *key, double def,
        double *out, struct nano_diag *d)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);

    if (!n) {
        *out = def;
        return NANO_OK;
    }
    return nano_cfg_as_num(n, out, d);
}

static int
get_dur(const struct nano_cfg_node *map, const char *key, uint64_t def,
        uint64_t *out, struct nano_diag *d)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);

    if (!n) {
        *out = def;
        return NANO_OK;
    }
    return nano_cfg_as_duration(n, out, d);
}

static int
check_keys(const struct nano_cfg_node *map, const char *const *keys,
           const char *what, struct nano_diag *d)
{
    for (const struct nano_cfg_node *n = map->child; n; n = n->next) {
        bool ok = false;
        for (const char *const *k = keys; *k; k++)
            if (strcmp(*k, n->key) == 0)
                ok = true;
        if (ok)
            continue;
        const char *sug = nano_suggest(n->key, keys);
        if (sug)
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "unknown key '%s' in %s (did you mean '%s'?)",
                                 n->key, what, sug);
        return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                             "unknown key '%s' in %s", n->key, what);
    }
    return NANO_OK;
}

static int
enum_index(const struct nano_cfg_node *n, const char *const *names,
           const char *what, struct nano_diag *d)
{
    for (int i = 0; names[i]; i++)
        if (n->kind == NANO_CFG_SCALAR && strcmp(names[i], n->str) == 0)
            return i;
    char list[128] = "";
    for (int i = 0; names[i]; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
    }
    nano_diag_set(d, NANO_ESCHEMA, n->line, n->col, "%s must be one of %s, got '%s'",
                  what, list, n->kind == NANO_CFG_SCALAR ? n->str : "?");
    return -1;
}

static int
parse_quantity(const struct nano_cfg_node *qn, struct sim_quantity *q,
               struct nano_diag *d)
{
    static const char *const keys[] = {
        "wave", "unit", "value", "min", "max", "period", "step", "steps",
        "noise", "range", NULL
    };
    char what[96];
    const struct nano_cfg_node *n;
    int rc, w;

    snprintf(what, sizeof what, "sim quantity '%s'", qn->key);
    if (qn->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, qn->line, qn->col,
                             "%s expects a map such as {wave: sine, min: 0, "
                             "max: 10}", what);
    if ((rc = check_keys(qn, keys, what, d)) != NANO_OK)
        return rc;
    memset(q, 0, sizeof *q);
    q->name = qn->key;
    n = nano_cfg_get(qn, "wave");
    if (!n)
        q->wave = W_CONSTANT;
    else if ((w = enum_index(n, wave_names, "'wave'", d)) < 0)
        return NANO_ESCHEMA;
    else
        q->wave = (enum wave)w;
    if ((rc = get_num(qn, "min", 0, &q->min, d)) != NANO_OK ||
        (rc = get_num(qn, "max", q->wave == W_CONSTANT ? 0 : 100, &q->max, d)) != NANO_OK ||
        (rc = get_num(qn, "value", (q->min + q->max) / 2, &q->value, d)) != NANO_OK ||
        (rc = get_num(qn, "noise", 0, &q->noise, d)) != NANO_OK ||
        (rc = get_num(qn, "step", (q->max - q->min) / 100, &q->step, d)) != NANO_OK ||
        (rc = get_dur(qn, "period", 60 * NANO_NS_PER_S, &q->period_ns, d)) != NANO_OK)
        return rc;
    if (q->max < q->min) {
        n = nano_cfg_get(qn, "max");
        return nano_diag_set(d, NANO_ESCHEMA, n ? n->line : qn->line,
                             n ? n->col : qn->col, "%s: max (%g) is below min "
                             "(%g)", what, q->max, q->min);
    }
    if (q->period_ns == 0) {
        n = nano_cfg_get(qn, "period");
        return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                             "%s: period must be above zero", what);
    }
    if (q->noise < 0) {
        n = nano_cfg_get(qn, "noise");
        return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                             "%s: noise is a standard deviation, >= 0", what);
    }
    n = nano_cfg_get(qn, "steps");
    if (q->wave == W_STEPS) {
        if (!n || n->kind != NANO_CFG_LIST || n->count == 0)
            return nano_diag_set(d, NANO_ESCHEMA, n ? n->line : qn->line,
                                 n ? n->col : qn->col, "%s: wave 'steps' needs "
                                 "'steps', a list of values", what);
        if (n->count > SIM_MAX_STEPS)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "%s: at most %d steps", what, SIM_MAX_STEPS);
        q->steps = nano_calloc(n->count, sizeof *q->steps);
        if (!q->steps)
            return -ENOMEM;
        for (const struct nano_cfg_node *s = n->child; s; s = s->next)
            if ((rc = nano_cfg_as_num(s, &q->steps[q->nsteps++], d)) != NANO_OK)
                return rc;
    }
    n = nano_cfg_get(qn, "range");
    if (n) {
        if (n->kind != NANO_CFG_LIST || n->count != 2 ||
            nano_cfg_as_num(n->child, &q->range_lo, NULL) != NANO_OK ||
            nano_cfg_as_num(n->child->next, &q->range_hi, NULL) != NANO_OK ||
            q->range_hi <= q->range_lo)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "%s: 'range' expects [low, high] with low < "
                                 "high", what);
    }
    return NANO_OK;
}

static int
parse_fault(const struct nano_cfg_node *fn, struct sim_fault *f,
            struct nano_diag *d)
{
    static const char *const keys[] = { "kind", "after", "for", "every", NULL };
    const struct nano_cfg_node *n;
    int rc, k;

    if (fn->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, fn->line, fn->col,
                             "a sim fault expects a map such as {kind: timeout, "
                             "after: 10s, for: 5s}");
    if ((rc = check_keys(fn, keys, "sim fault", d)) != NANO_OK)
        return rc;
    n = nano_cfg_get(fn, "kind");
    if (!n)
        return nano_diag_set(d, NANO_ESCHEMA, fn->line, fn->col,
                             "missing required key 'kind' in sim fault");
    if ((k = enum_index(n, fault_names, "fault 'kind'", d)) < 0)
        return NANO_ESCHEMA;
    f->kind = (enum fault_kind)k;
    if ((rc = get_dur(fn, "after", 0, &f->after_ns, d)) != NANO_OK ||
        (rc = get_dur(fn, "for", UINT64_MAX / 4, &f->for_ns, d)) != NANO_OK ||
        (rc = get_dur(fn, "every", 0, &f->every_ns, d)) != NANO_OK)
        return rc;
    return NANO_OK;
}

/* Parse quantities and faults from the instance map into s (or a scratch
 * struct when only validating). */
static int
parse_all(const struct nano_cfg_node *map, struct sim *s, struct nano_diag *d)
{
    const struct nano_cfg_node *qs = nano_cfg_get(map, "quantities");
    const struct nano_cfg_node *fs = nano_cfg_get(map, "faults");
    int rc;

    if (!qs || qs->kind != NANO_CFG_MAP || qs->count == 0)
        return nano_diag_set(d, NANO_ESCHEMA, qs ? qs->line : map->line,
                             qs ? qs->col : map->col,
                             "'quantities' of a sim device expects a map of "
                             "quantity name to waveform settings");
    if (qs->count > SIM_MAX_QUANTITIES)
        return nano_diag_set(d, NANO_ESCHEMA, qs->line, qs->col,
                             "a sim device has at most %d quantities",
                             SIM_MAX_QUANTITIES);
    /* Exactly as many entries as configured: 1,000 instances of one
     * quantity each should not pay for sixteen. */
    s->q = nano_calloc(qs->count, sizeof *s->q);
    if (!s->q)
        return -ENOMEM;
    s->nq = 0;
    for (const struct nano_cfg_node *n = qs->child; n; n = n->next)
        if ((rc = parse_quantity(n, &s->q[s->nq++], d)) != NANO_OK)
            return rc;
    s->nf = 0;
    if (fs && fs->kind == NANO_CFG_LIST) {
        if (fs->count > SIM_MAX_FAULTS)
            return nano_diag_set(d, NANO_ESCHEMA, fs->line, fs->col,
                                 "a sim device has at most %d faults",
                                 SIM_MAX_FAULTS);
        if (fs->count && !(s->f = nano_calloc(fs->count, sizeof *s->f)))
            return -ENOMEM;
        for (const struct nano_cfg_node *n = fs->child; n; n = n->next)
            if ((rc = parse_fault(n, &s->f[s->nf++], d)) != NANO_OK)
                return rc;
    } else if (fs && fs->kind != NANO_CFG_NULL) {
        return nano_diag_set(d, NANO_ESCHEMA, fs->line, fs->col,
                             "'faults' expects a list");
    }
    return NANO_OK;
}

/* Release what parse_all() allocated; safe on a partial parse. */
static void
free_all(struct sim *s)
{
    for (unsigned i = 0; s->q && i < s->nq; i++)
        nano_free(s->q[i].steps);
    nano_free(s->q);
    nano_free(s->f);
    s->q = NULL;
    s->f = NULL;
    s->nq = s->nf = 0;
}

static int
sim_validate(const struct nano_cfg_node *map, struct nano_diag *d)
{
    struct sim scratch;
    int rc;

    memset(&scratch, 0, sizeof scratch);
    rc = parse_all(map, &scratch, d);
    free_all(&scratch);
    return rc;
}

/* ---- waveforms ---------------------------------------------------------------- */

static double
uniform(struct sim *s)
{
    /* xorshift64*: tiny, good enough for test signals */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Standard normal noise as the sum of 12 uniforms minus 6 (Irwin-Hall):
 * mean 0, variance 1, tails cut at 6 sigma - right for test signals, and
 * it needs no log/sqrt/cos, so the daemon does not map libm. */
static double
gaussian(struct sim *s)
{
    double sum = 0;

    for (int i = 0; i < 12; i++)
        sum += uniform(s);
    return sum - 6;
}

/* sin(2 pi phase) for phase in [0, 1): reduce to [-pi/2, pi/2] by symmetry,
 * then the Taylor series to x^17 (error below 1e-11 there). */
static double
sine_of_phase(double phase)
{
    static const double pi = 3.14159265358979323846;
    double x, x2, term, sum;

    if (phase >= 0.5)
        return -sine_of_phase(phase - 0.5);
    x = 2 * pi * phase;                  /* [0, pi) */
    if (x > pi / 2)
        x = pi - x;                      /* sin(pi - x) = sin(x) */
    x2 = x * x;
    term = x;
    sum = x;
    for (int n = 1; n <= 8; n++) {
        term *= -x2 / (double)((2 * n) * (2 * n + 1));
        sum += term;
    }
    return sum;
}

static double
wave_value(struct sim *s, struct sim_quantity *q, uint64_t t_ns)
{
    double phase = (double)(t_ns % q->period_ns) / (double)q->period_ns;
    double v;

    switch (q->wave) {
    case W_SINE:
        v = (q->min + q->max) / 2 + (q->max - q->min) / 2 * sine_of_phase(phase);
        break;
    case W_RAMP:
        v = q->min + (q->max - q->min) * phase;
        break;
    case W_RANDOM_WALK:
        q->walk += q->step * gaussian(s);
        if (q->walk < q->min)
            q->walk = q->min;
        if (q->walk > q->max)
            q->walk = q->max;
        v = q->walk;
        break;
    case W_STEPS:
        v = q->steps[(t_ns / q->period_ns) % q->nsteps];
        break;
    case W_CONSTANT:
    default:
        v = q->value;
    }
    if (q->noise > 0)
        v += q->noise * gaussian(s);
    return v;
}

static bool
fault_active(const struct sim_fault *f, uint64_t t_ns)
{
    if (t_ns < f->after_ns)
        return false;
    t_ns -= f->after_ns;
    if (f->every_ns)
        t_ns %= f->every_ns;
    return t_ns < f->for_ns;
}

/* ---- driver callbacks ------------------------------------------------------------ */

static void
report_all(struct sim *s, bool out_of_range)
{
    uint64_t t = nano_time_mono_ns() - s->start_ns;

    for (unsigned i = 0; i < s->nq; i++) {
        struct sim_quantity *q = &s->q[i];
        double v = wave_value(s, q, t);
        if (out_of_range)
            v = q->range_hi > q->range_lo ? q->range_hi + 1000 : NAN;
        nano_dev_report(s->dev, q->name, v);
    }
}

static void
on_done(struct nano_loop *loop, struct nano_timer *t)
{
    struct sim *s = NANO_CONTAINER_OF(t, struct sim, done);
    uint64_t now = nano_time_mono_ns() - s->start_ns;
    bool oor = false;

    (void)loop;
    for (unsigned i = 0; i < s->nf; i++)
        if (s->f[i].kind == F_OUT_OF_RANGE && fault_active(&s->f[i], now))
            oor = true;
    report_all(s, oor);
    nano_dev_done(s->dev);
}

static int
sim_probe(struct nano_dev *dev)
{
    struct sim *s = nano_dev_ctx(dev);
    struct nano_diag d = { 0 };
    int rc;

    s->dev = dev;
    nano_timer_init(&s->done, on_done);
    rc = parse_all(nano_dev_config(dev), s, &d);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "%s", d.msg);
        return rc;
    }
    s->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)s->seed;
    if (!s->rng)
        s->rng = 1;
    if (!s->start_ns)
        s->start_ns = nano_time_mono_ns();   /* keeps its phase across re-probes */
    for (unsigned i = 0; i < s->nq; i++) {
        struct sim_quantity *q = &s->q[i];
        const struct nano_cfg_node *qn =
            nano_cfg_get(nano_cfg_get(nano_dev_config(dev), "quantities"), q->name);
        const struct nano_cfg_node *un = nano_cfg_get(qn, "unit");
        q->walk = q->value;
        rc = nano_dev_declare(dev, q->name,
                              un && un->kind == NANO_CFG_SCALAR ? un->str : NULL,
                              q->range_lo, q->range_hi);
        if (rc != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

static int
sim_sample(struct nano_dev *dev)
{
    struct sim *s = nano_dev_ctx(dev);
    uint64_t t = nano_time_mono_ns() - s->start_ns;
    bool oor = false;

    for (unsigned i = 0; i < s->nf; i++) {
        if (!fault_active(&s->f[i], t))
            continue;
        switch (s->f[i].kind) {
        case F_TIMEOUT:
            return -EINPROGRESS;          /* and never completes */
        case F_ERROR:
            return -EIO;
        case F_OUT_OF_RANGE:
            oor = true;
            break;
        }
    }
    if (s->latency_ns) {
        nano_timer_start_ns(nano_dev_loop(dev), &s->done, s->latency_ns, 0);
        return -EINPROGRESS;
    }
    report_all(s, oor);
    return NANO_OK;
}

static void
sim_close(struct nano_dev *dev)
{
    struct sim *s = nano_dev_ctx(dev);

    nano_timer_stop(nano_dev_loop(dev), &s->done);
    free_all(s);
}

const struct nano_driver nano_driver_sim = {
    .name                = "sim",
    .summary             = "Simulated sensor: waveforms, noise and scripted faults",
    .params              = params,
    .ctx_size            = sizeof(struct sim),
    .quantities          = NULL,          /* declared from config at probe */
    .default_interval_ms = 1000,
    .validate            = sim_validate,
    .probe               = sim_probe,
    .sample              = sim_sample,
    .close               = sim_close,
};
