/* SPDX-License-Identifier: MIT
 *
 * window.c - time windows over one input: a bounded ring of readings with
 * running aggregates.
 *
 * A window of W keeps the good readings whose time t satisfies
 * now - W < t, in arrival order, in a ring whose capacity the compiler fixed
 * from W and the input's sample interval (rules.h: NANO_RULE_WINDOW_CAP at
 * most).  Every function is exact over the readings held:
 *
 *   count  n                          sum    sum of v (0 when empty)
 *   avg    sum / n                    min, max  smallest, largest v
 *   stddev sqrt(sum (v - avg)^2 / n)  (population)
 *   delta  v_newest - v_oldest        rate   delta / (t_newest - t_oldest) s
 *
 * avg, min, max, stddev are NaN (unknown) on an empty window; delta and rate
 * need two readings.  When readings arrive faster than the interval the ring
 * was sized for and it fills, the oldest reading is dropped early and
 * counted (explain and status show `window_overflows`): memory never grows.
 *
 * Cost: O(1) per reading and per query.  Sums are kept relative to a shift
 * (the oldest value when the window was last rebuilt) so that the variance
 * does not cancel catastrophically, and are recomputed from the ring after
 * every `cap` evictions so rounding cannot drift (amortised O(1)).  min and
 * max are kept incrementally and rescanned only when the evicted reading was
 * the extreme (O(n) then, O(1) on average for noisy data).
 */
#include <math.h>
#include <string.h>

#include "rules/rules_int.h"

void
rules__win_reset(struct rwin *w)
{
    w->head = w->n = 0;
    w->evictions = 0;
    w->mm_ok = false;
    w->shift = w->sum = w->sumsq = 0;
    w->min = w->max = 0;
}

static void
rebuild(struct rwin *w)
{
    w->evictions = 0;
    w->sum = w->sumsq = 0;
    if (!w->n)
        return;
    w->shift = w->ring[w->head].v;
    for (uint32_t i = 0; i < w->n; i++) {
        double d = w->ring[(w->head + i) % w->cap].v - w->shift;
        w->sum += d;
        w->sumsq += d * d;
    }
}

static void
evict(struct rwin *w)
{
    double v = w->ring[w->head].v, d;

    w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
    if (--w->n == 0) {
        rules__win_reset(w);
        return;
    }
    d = v - w->shift;
    w->sum -= d;
    w->sumsq -= d * d;
    if (v <= w->min || v >= w->max)
        w->mm_ok = false;
    if (++w->evictions >= w->cap)
        rebuild(w);
}

void
rules__win_push(struct rwin *w, uint64_t t, double v)
{
    uint32_t idx;
    double d;

    if (w->cap == 0)
        return;
    if (w->n == w->cap) {
        evict(w);
        w->overflow++;
    }
    if (w->n == 0) {
        w->shift = v;
        w->sum = w->sumsq = 0;
        w->min = w->max = v;
        w->mm_ok = true;
        w->evictions = 0;
    }
    idx = w->head + w->n;
    if (idx >= w->cap)
        idx -= w->cap;
    w->ring[idx].t = t;
    w->ring[idx].v = v;
    w->n++;
    d = v - w->shift;
    w->sum += d;
    w->sumsq += d * d;
    if (w->mm_ok) {
        if (v < w->min)
            w->min = v;
        if (v > w->max)
            w->max = v;
    }
}

void
rules__win_advance(struct rwin *w, uint64_t win_ns, uint64_t now)
{
    while (w->n && w->ring[w->head].t + win_ns <= now)
        evict(w);
}

static void
rescan(struct rwin *w)
{
    double mn = INFINITY, mx = -INFINITY;

    for (uint32_t i = 0; i < w->n; i++) {
        double v = w->ring[(w->head + i) % w->cap].v;
        if (v < mn)
            mn = v;
        if (v > mx)
            mx = v;
    }
    w->min = mn;
    w->max = mx;
    w->mm_ok = true;
}

double
rules__win_value(struct rwin *w, unsigned op)
{
    const struct rsample *first, *last;
    double mean, var, dt;

    if (w->n == 0)
        return op == RULE_OP_W_SUM || op == RULE_OP_W_COUNT ? 0.0 : NAN;
    switch (op) {
    case RULE_OP_W_COUNT:
        return (double)w->n;
    case RULE_OP_W_SUM:
        return w->shift * w->n + w->sum;
    case RULE_OP_W_AVG:
        return w->shift + w->sum / w->n;
    case RULE_OP_W_MIN:
        if (!w->mm_ok)
            rescan(w);
        return w->min;
    case RULE_OP_W_MAX:
        if (!w->mm_ok)
            rescan(w);
        return w->max;
    case RULE_OP_W_STDDEV:
        mean = w->sum / w->n;
        var = w->sumsq / w->n - mean * mean;
        return var > 0 ? sqrt(var) : 0.0;
    case RULE_OP_W_DELTA:
    case RULE_OP_W_RATE:
        if (w->n < 2)
            return NAN;
        first = &w->ring[w->head];
        last = &w->ring[(w->head + w->n - 1) % w->cap];
        if (op == RULE_OP_W_DELTA)
            return last->v - first->v;
        dt = (double)(last->t - first->t) / 1e9;
        return dt > 0 ? (last->v - first->v) / dt : NAN;
    default:
        return NAN;
    }
}
