/* SPDX-License-Identifier: MIT
 *
 * metrics.h - process-wide registry of counters, gauges and histograms.
 *
 * Modules register a metric the first time they need it and keep the
 * pointer; registering the same name again returns the same metric, so
 * there is no central list to edit.  Names follow Prometheus conventions
 * and may carry labels: "nano_driver_errors_total{instance=\"boiler\"}".
 * Updating a metric is a plain add or store: no lock, loop thread only
 * (worker threads report through the loop).  The exposition format
 * (/metrics) reads the registry with nano_metric_foreach().
 *
 * Histograms use log-linear buckets (4 per power of two over 2^0..2^40), so
 * any value from 1 to ~10^12 (e.g. nanoseconds) is recorded with <= 19 %
 * relative error in 1.3 KB, and percentiles are estimated from the buckets.
 *
 * Registration never fails from the caller's point of view: on allocation
 * failure a shared scratch metric is returned, so updates stay valid.
 */
#ifndef NANO_CORE_METRICS_H
#define NANO_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum nano_metric_type {
    NANO_METRIC_COUNTER,
    NANO_METRIC_GAUGE,
    NANO_METRIC_HISTOGRAM,
};

#define NANO_HIST_BUCKETS 164

struct nano_metric {
    char                 *name;    /* read-only */
    const char           *help;    /* read-only, static */
    enum nano_metric_type type;    /* read-only */
    double                value;   /* counter / gauge */
    uint64_t             *buckets; /* histogram: NANO_HIST_BUCKETS counts */
    uint64_t              count;   /* histogram: observations */
    double                sum;     /* histogram */
    double                max;     /* histogram */
};

struct nano_metric *nano_metric_counter(const char *name, const char *help);
struct nano_metric *nano_metric_gauge(const char *name, const char *help);
struct nano_metric *nano_metric_histogram(const char *name, const char *help);

static inline void nano_metric_inc(struct nano_metric *m) { m->value += 1; }
static inline void nano_metric_add(struct nano_metric *m, double v) { m->value += v; }
static inline void nano_metric_set(struct nano_metric *m, double v) { m->value = v; }

void nano_metric_observe(struct nano_metric *m, double v);

/* Estimated p-th percentile (0..100) of a histogram; 0 when empty. */
double nano_metric_percentile(const struct nano_metric *m, double p);

/* Returns borrowed or NULL. */
struct nano_metric *nano_metric_find(const char *name);

typedef void nano_metric_each_fn(void *arg, const struct nano_metric *m);
void nano_metric_foreach(nano_metric_each_fn *fn, void *arg);

/* Remove a metric (e.g. a deleted device's labelled series). */
void nano_metric_remove(const char *name);

/* Free the whole registry (tests and clean shutdown). */
void nano_metrics_reset(void);

/* Bucket helpers, exposed for tests. */
unsigned nano_hist_bucket(double v);
double   nano_hist_bucket_upper(unsigned b);

#endif
