/* SPDX-License-Identifier: MIT
 *
 * metrics.c - the metrics registry (see metrics.h).  A registry holds a few
 * hundred entries at most; lookup by name is linear and only happens when a
 * module registers, never on an update.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/metrics.h"

static struct nano_metric **reg;
static size_t reg_len, reg_cap;
static uint64_t scratch_buckets[NANO_HIST_BUCKETS];
static struct nano_metric scratch = { .name = (char *)"scratch",
                                      .buckets = scratch_buckets };

struct nano_metric *
nano_metric_find(const char *name)
{
    for (size_t i = 0; i < reg_len; i++)
        if (strcmp(reg[i]->name, name) == 0)
            return reg[i];
    return NULL;
}

static struct nano_metric *
get_or_add(const char *name, const char *help, enum nano_metric_type type)
{
    struct nano_metric *m = nano_metric_find(name);

    if (m)
        return m->type == type ? m : &scratch;
    if (reg_len == reg_cap) {
        size_t cap = reg_cap ? reg_cap * 2 : 32;
        struct nano_metric **r = nano_realloc(reg, cap * sizeof *r);
        if (!r)
            return &scratch;
        reg = r;
        reg_cap = cap;
    }
    m = nano_calloc(1, sizeof *m);
    if (!m)
        return &scratch;
    m->name = nano_strdup(name);
    if (type == NANO_METRIC_HISTOGRAM)
        m->buckets = nano_calloc(NANO_HIST_BUCKETS, sizeof *m->buckets);
    if (!m->name || (type == NANO_METRIC_HISTOGRAM && !m->buckets)) {
        nano_free(m->name);
        nano_free(m->buckets);
        nano_free(m);
        return &scratch;
    }
    m->help = help;
    m->type = type;
    reg[reg_len++] = m;
    return m;
}

struct nano_metric *
nano_metric_counter(const char *name, const char *help)
{
    return get_or_add(name, help, NANO_METRIC_COUNTER);
}

struct nano_metric *
nano_metric_gauge(const char *name, const char *help)
{
    return get_or_add(name, help, NANO_METRIC_GAUGE);
}

struct nano_metric *
nano_metric_histogram(const char *name, const char *help)
{
    return get_or_add(name, help, NANO_METRIC_HISTOGRAM);
}

/* Bucket 0: v < 1.  Then for each power of two 2^e (e = 0..39), four
 * sub-buckets of equal width: [2^e * (1 + k/4), 2^e * (1 + (k+1)/4)).
 * Integer log2 instead of frexp/ldexp keeps libm out of the daemon. */
unsigned
nano_hist_bucket(double v)
{
    unsigned e;
    double frac;

    if (!(v >= 1.0))
        return 0;
    if (v >= 1099511627776.0)        /* 2^40 */
        return NANO_HIST_BUCKETS - 1;
    e = 63 - (unsigned)__builtin_clzll((uint64_t)v);
    frac = v / (double)(1ull << e);  /* in [1, 2) */
    return 1 + e * 4 + (unsigned)((frac - 1) * 4);
}

double
nano_hist_bucket_upper(unsigned b)
{
    unsigned e, k;

    if (b == 0)
        return 1.0;
    if (b >= NANO_HIST_BUCKETS - 1)
        return INFINITY;
    e = (b - 1) / 4;
    k = (b - 1) % 4;
    return (1.0 + (k + 1) / 4.0) * (double)(1ull << e);
}

void
nano_metric_observe(struct nano_metric *m, double v)
{
    if (!m->buckets)
        return;
    m->buckets[nano_hist_bucket(v)]++;
    m->count++;
    m->sum += v;
    if (v > m->max)
        m->max = v;
}

double
nano_metric_percentile(const struct nano_metric *m, double p)
{
    uint64_t rank, seen = 0;

    if (!m->buckets || m->count == 0)
        return 0;
    double want = p / 100.0 * (double)m->count;
    rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;                      /* ceil */
    if (rank == 0)
        rank = 1;
    for (unsigned b = 0; b < NANO_HIST_BUCKETS; b++) {
        seen += m->buckets[b];
        if (seen >= rank) {
            double up = nano_hist_bucket_upper(b);
            return up < m->max ? up : m->max;
        }
    }
    return m->max;
}

void
nano_metric_foreach(nano_metric_each_fn *fn, void *arg)
{
    for (size_t i = 0; i < reg_len; i++)
        fn(arg, reg[i]);
}

static void
metric_free(struct nano_metric *m)
{
    nano_free(m->name);
    nano_free(m->buckets);
    nano_free(m);
}

void
nano_metric_remove(const char *name)
{
    for (size_t i = 0; i < reg_len; i++) {
        if (strcmp(reg[i]->name, name) == 0) {
            metric_free(reg[i]);
            memmove(&reg[i], &reg[i + 1], (reg_len - i - 1) * sizeof *reg);
            reg_len--;
            return;
        }
    }
}

void
nano_metrics_reset(void)
{
    for (size_t i = 0; i < reg_len; i++)
        metric_free(reg[i]);
    nano_free(reg);
    reg = NULL;
    reg_len = reg_cap = 0;
}
