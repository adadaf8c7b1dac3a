/* SPDX-License-Identifier: MIT
 *
 * devmgr.c - device instances, sampling scheduler and run-time management
 * (contract in devmgr.h and driver.h).
 *
 * Ownership: the manager owns every struct nano_dev.  An instance owns a
 * private copy of its settings (a cfg document whose root is the settings
 * map), so STR and NODE parameters stay valid however the config file
 * changes; its driver context; and its quantity table, where each entry
 * carries the pre-built bus topic so reporting a reading formats nothing.
 *
 * Persistence (devices.json in the state directory):
 *   { "installed": { "<name>": { "driver": ..., ... } },
 *     "disabled": [ "<name>", ... ],   (instances the API disabled)
 *     "removed":  [ "<name>", ... ] }  (config-file instances the API removed)
 * The config file is the starting state; this overlay is the user's changes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/topic.h"
#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/overlay.h"
#include "core/state.h"
#include "core/time.h"
#include "drivers/devmgr.h"
#include "drivers/driver.h"
#include "nano_config.h"

#define STATE_FILE      "devices.json"
#define FAILING_AFTER   5
#define MIN_INTERVAL_NS (1 * NANO_NS_PER_MS)

struct dev_quantity {
    char   *name;
    char   *unit;
    char   *topic;                 /* "sensors/<instance>/<name>" */
    double  min, max;
};

struct nano_dev {
    struct nano_list          link;
    struct nano_devmgr       *dm;
    char                     *name;
    const struct nano_driver *drv;
    struct nano_cfg_doc      *conf;      /* owned: root is the settings map */
    void                     *ctx;       /* owned: drv->ctx_size bytes */
    struct dev_quantity      *q;
    unsigned                  nq, q_cap;
    uint64_t                  interval_ns, timeout_ns, backoff_ns;
    struct nano_timer         tick;
    struct nano_timer         watchdog;
    enum nano_dev_state       state;
    bool                      enabled;
    bool                      probed;
    bool                      in_sample;
    bool                      from_config;
    bool                      installed;   /* from the API (persisted) */
    uint32_t                  consecutive;
    uint64_t                  samples, errors, faults, overruns;
    int                       last_error;
    char                      last_error_msg[96];
    int64_t                   last_ok_wall_us;
};

struct nano_devmgr {
    struct nano_loop   *loop;
    struct nano_bus    *bus;
    char               *state_dir;
    struct nano_list    devs;
    struct nano_overlay ov;         /* the persisted run-time changes */
    const struct nano_cfg_node *config_devices;  /* Borrows: last applied */
    unsigned            start_seq;
    struct nano_metric *m_samples, *m_errors, *m_faults, *m_timeouts;
};

static const char *const common_keys[] = {
    "driver", "interval", "timeout", "enabled", NULL
};

const char *
nano_dev_state_name(enum nano_dev_state s)
{
    switch (s) {
    case NANO_DEV_OK:       return "ok";
    case NANO_DEV_BACKOFF:  return "backoff";
    case NANO_DEV_FAILING:  return "failing";
    case NANO_DEV_DISABLED: return "disabled";
    case NANO_DEV_STARTING: return "starting";
    }
    return "?";
}

/* ---- parameters ------------------------------------------------------------ */

static bool
valid_instance_name(const char *s)
{
    return nano_name_valid(s, NANO_DEV_NAME_MAX, NULL);
}

static const struct nano_param *
find_param(const struct nano_driver *drv, const char *key)
{
    for (const struct nano_param *p = drv->params; p && p->name; p++)
        if (strcmp(p->name, key) == 0)
            return p;
    return NULL;
}

/* Parse one parameter from config text.  n (may be NULL for defaults) gives
 * the position for messages.  Writes the field when ctx is not NULL. */
static int
apply_param(const struct nano_param *p, const struct nano_cfg_node *n,
            const char *text, void *ctx, const char *inst,
            struct nano_diag *d)
{
    void *field = ctx ? (char *)ctx + p->offset : NULL;
    unsigned line = n ? n->line : 0, col = n ? n->col : 0;
    char *end;

    if (p->type == NANO_PT_NODE) {
        if (n && n->kind != NANO_CFG_MAP && n->kind != NANO_CFG_LIST)
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' expects a map "
                                 "or a list", p->name, inst);
        if (field)
            *(const struct nano_cfg_node **)field = n;
        return NANO_OK;
    }
    if (n && n->kind != NANO_CFG_SCALAR)
        return nano_diag_set(d, NANO_ESCHEMA, line, col,
                             "parameter '%s' of device '%s' expects a %s, got "
                             "a %s", p->name, inst, nano_param_type_name(p->type),
                             n->kind == NANO_CFG_MAP ? "map" :
                             n->kind == NANO_CFG_LIST ? "list" : "null");
    switch (p->type) {
    case NANO_PT_STR:
        if (field)
            *(const char **)field = text;
        return NANO_OK;
    case NANO_PT_INT: {
        long long v;
        errno = 0;
        v = strtoll(text, &end, 0);
        if (errno || end == text || *end)
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' expects an "
                                 "integer, got '%s'", p->name, inst, text);
        if (p->max > p->min && (v < p->min || v > p->max))
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' must be "
                                 "between %g and %g, got %lld", p->name, inst,
                                 p->min, p->max, v);
        if (field)
            *(int *)field = (int)v;
        return NANO_OK;
    }
    case NANO_PT_NUM: {
        double v = strtod(text, &end);
        if (end == text || *end || !isfinite(v))
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' expects a "
                                 "number, got '%s'", p->name, inst, text);
        if (p->max > p->min && (v < p->min || v > p->max))
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' must be "
                                 "between %g and %g, got %g", p->name, inst,
                                 p->min, p->max, v);
        if (field)
            *(double *)field = v;
        return NANO_OK;
    }
    case NANO_PT_BOOL: {
        bool v;
        if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "on"))
            v = true;
        else if (!strcmp(text, "false") || !strcmp(text, "no") ||
                 !strcmp(text, "off"))
            v = false;
        else
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' expects true "
                                 "or false, got '%s'", p->name, inst, text);
        if (field)
            *(bool *)field = v;
        return NANO_OK;
    }
    case NANO_PT_DURATION: {
        uint64_t ns;
        if (nano_duration_parse(text, &ns) != NANO_OK)
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' expects a "
                                 "duration such as 500ms or 30s, got '%s'",
                                 p->name, inst, text);
        if (field)
            *(uint64_t *)field = ns;
        return NANO_OK;
    }
    case NANO_PT_ENUM:
        for (int i = 0; p->choices && p->choices[i]; i++) {
            if (strcmp(p->choices[i], text) == 0) {
                if (field)
                    *(int *)field = i;
                return NANO_OK;
            }
        }
        {
            char list[160] = "";
            for (int i = 0; p->choices && p->choices[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "",
                         p->choices[i]);
            }
            return nano_diag_set(d, NANO_ESCHEMA, line, col,
                                 "parameter '%s' of device '%s' must be one of "
                                 "%s, got '%s'", p->name, inst, list, text);
        }
    case NANO_PT_NODE:
        break;
    }
    return NANO_OK;
}

/* Validate (ctx NULL) or apply (ctx set) an instance's settings map. */
static int
process_settings(const char *inst, const struct nano_cfg_node *map,
                 const struct nano_driver **drv_out, void *ctx,
                 uint64_t *interval_ns, uint64_t *timeout_ns, bool *enabled,
                 struct nano_diag *d)
{
    const struct nano_cfg_node *dn, *n;
    const struct nano_driver *drv;
    int rc;

    if (!valid_instance_name(inst))
        return nano_diag_set(d, NANO_ESCHEMA, map ? map->key_line : 0,
                             map ? map->key_col : 0,
                             "device name '%s' must be 1-%d letters, digits, "
                             "'_' or '-' (it becomes a topic level)", inst,
                             NANO_DEV_NAME_MAX);
    if (!map || map->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, map ? map->line : 0,
                             map ? map->col : 0,
                             "device '%s' expects a map of settings", inst);
    /* "Missing" points at the device's own key, as the schema checks do. */
    unsigned mline = map->key_line ? map->key_line : map->line;
    unsigned mcol = map->key_line ? map->key_col : map->col;
    dn = nano_cfg_get(map, "driver");
    if (!dn)
        return nano_diag_set(d, NANO_ESCHEMA, mline, mcol,
                             "missing required key 'driver' in device '%s'",
                             inst);
    if (dn->kind != NANO_CFG_SCALAR)
        return nano_diag_set(d, NANO_ESCHEMA, dn->line, dn->col,
                             "'driver' of device '%s' expects a driver name",
                             inst);
    drv = nano_driver_find(dn->str);
    if (!drv) {
        if (nano_driver_known_elsewhere(dn->str))
            return nano_diag_set(d, NANO_ESCHEMA, dn->line, dn->col,
                                 "driver '%s' is not in this build (profile %s)",
                                 dn->str, NANO_PROFILE);
        const char *names[64];
        size_t k = 0;
        for (const struct nano_driver *const *x = nano_drivers; *x && k < 63; x++)
            names[k++] = (*x)->name;
        names[k] = NULL;
        const char *sug = nano_suggest(dn->str, names);
        char list[256] = "";
        for (size_t i = 0; i < k; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
        }
        if (sug)
            return nano_diag_set(d, NANO_ESCHEMA, dn->line, dn->col,
                                 "unknown driver '%s' (did you mean '%s'?)",
                                 dn->str, sug);
        return nano_diag_set(d, NANO_ESCHEMA, dn->line, dn->col,
                             "unknown driver '%s'; available: %s", dn->str, list);
    }
    if (drv_out)
        *drv_out = drv;

    /* Common settings. */
    uint64_t iv = (drv->default_interval_ms ? drv->default_interval_ms : 1000) *
                  NANO_NS_PER_MS;
    uint64_t to = 0;
    bool en = true;
    n = nano_cfg_get(map, "interval");
    if (n) {
        if (n->kind != NANO_CFG_SCALAR || nano_duration_parse(n->str, &iv) != NANO_OK)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "'interval' of device '%s' expects a duration "
                                 "such as 500ms or 30s, got '%s'", inst,
                                 n->kind == NANO_CFG_SCALAR ? n->str : "?");
        if (iv < MIN_INTERVAL_NS)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "'interval' of device '%s' must be at least "
                                 "1ms", inst);
    }
    n = nano_cfg_get(map, "timeout");
    if (n && (n->kind != NANO_CFG_SCALAR || nano_duration_parse(n->str, &to) != NANO_OK))
        return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                             "'timeout' of device '%s' expects a duration such "
                             "as 500ms or 30s", inst);
    n = nano_cfg_get(map, "enabled");
    if (n) {
        if (nano_cfg_as_bool(n, &en, NULL) != NANO_OK)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "'enabled' of device '%s' expects true or "
                                 "false", inst);
    }
    if (interval_ns)
        *interval_ns = iv;
    if (timeout_ns)
        *timeout_ns = to;
    if (enabled)
        *enabled = en;

    /* Unknown keys, with a suggestion from the driver's and common keys. */
    for (n = map->child; n; n = n->next) {
        const char *names[80];
        size_t k = 0;
        bool common = false;
        for (const char *const *c = common_keys; *c; c++)
            if (strcmp(*c, n->key) == 0)
                common = true;
        if (common || find_param(drv, n->key))
            continue;
        for (const char *const *c = common_keys; *c && k < 79; c++)
            names[k++] = *c;
        for (const struct nano_param *p = drv->params; p && p->name && k < 79; p++)
            names[k++] = p->name;
        names[k] = NULL;
        const char *sug = nano_suggest(n->key, names);
        if (sug)
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "unknown key '%s' in device '%s' (did you "
                                 "mean '%s'?)", n->key, inst, sug);
        return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                             "unknown key '%s' in device '%s' (driver %s takes: "
                             "see `nanoctl driver show %s`)", n->key, inst,
                             drv->name, drv->name);
    }

    /* Every parameter: given, defaulted, or missing. */
    for (const struct nano_param *p = drv->params; p && p->name; p++) {
        n = nano_cfg_get(map, p->name);
        if (n) {
            rc = apply_param(p, n, n->kind == NANO_CFG_SCALAR ? n->str : "", ctx,
                             inst, d);
        } else if (p->def) {
            rc = apply_param(p, NULL, p->def, ctx, inst, d);
        } else {
            return nano_diag_set(d, NANO_ESCHEMA, mline, mcol,
                                 "missing required parameter '%s' in device "
                                 "'%s' (%s)", p->name, inst, p->help ? p->help : "");
        }
        if (rc != NANO_OK)
            return rc;
    }
    if (drv->validate)
        return drv->validate(map, d);
    return NANO_OK;
}

int
nano_devmgr_validate(const struct nano_cfg_node *devices, struct nano_diag *d)
{
    if (!devices || devices->kind == NANO_CFG_NULL)
        return NANO_OK;
    if (devices->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, devices->line, devices->col,
                             "'devices' expects a map of device name to "
                             "settings");
    for (const struct nano_cfg_node *n = devices->child; n; n = n->next) {
        int rc = process_settings(n->key, n, NULL, NULL, NULL, NULL, NULL, d);
        if (rc != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

/* ---- services for drivers ---------------------------------------------------- */

void *
nano_dev_ctx(struct nano_dev *dev)
{
    return dev->ctx;
}

struct nano_loop *
nano_dev_loop(struct nano_dev *dev)
{
    return dev->dm->loop;
}

const char *
nano_dev_name(const struct nano_dev *dev)
{
    return dev->name;
}

const struct nano_cfg_node *
nano_dev_config(const struct nano_dev *dev)
{
    return nano_cfg_root(dev->conf);
}

enum nano_dev_state
nano_dev_state(const struct nano_dev *dev)
{
    return dev->state;
}

void
nano_dev_logf(struct nano_dev *dev, enum nano_log_level level, const char *fmt,
              ...)
{
    char msg[NANO_LOG_LINE_MAX - 96];
    va_list ap;

    if (!nano_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nano_logf(level, "drivers", "%s[%s]: %s", dev->drv->name, dev->name, msg);
}

static struct dev_quantity *
find_quantity(struct nano_dev *dev, const char *name)
{
    for (unsigned i = 0; i < dev->nq; i++)
        if (strcmp(dev->q[i].name, name) == 0)
            return &dev->q[i];
    return NULL;
}

int
nano_dev_declare(struct nano_dev *dev, const char *quantity, const char *unit,
                 double min, double max)
{
    struct dev_quantity *q;
    size_t tlen;

    if (find_quantity(dev, quantity))
        return -EEXIST;
    if (dev->nq == dev->q_cap) {
        unsigned cap = dev->q_cap ? dev->q_cap * 2 : 1;
        q = nano_realloc(dev->q, cap * sizeof *q);
        if (!q)
            return -ENOMEM;
        dev->q = q;
        dev->q_cap = cap;
    }
    q = &dev->q[dev->nq];
    memset(q, 0, sizeof *q);
    tlen = strlen("sensors/") + strlen(dev->name) + 1 + strlen(quantity) + 1;
    q->name = nano_strdup(quantity);
    q->unit = unit ? nano_strdup(unit) : NULL;
    q->topic = nano_malloc(tlen);
    if (!q->name || (unit && !q->unit) || !q->topic) {
        nano_free(q->name);
        nano_free(q->unit);
        nano_free(q->topic);
        return -ENOMEM;
    }
    snprintf(q->topic, tlen, "sensors/%s/%s", dev->name, quantity);
    q->min = min;
    q->max = max;
    dev->nq++;
    return NANO_OK;
}

static void
quantities_free(struct nano_dev *dev)
{
    for (unsigned i = 0; i < dev->nq; i++) {
        nano_free(dev->q[i].name);
        nano_free(dev->q[i].unit);
        nano_free(dev->q[i].topic);
    }
    nano_free(dev->q);
    dev->q = NULL;
    dev->nq = dev->q_cap = 0;
}

int
nano_dev_report_value(struct nano_dev *dev, const char *quantity,
                      const struct nano_value *v)
{
    struct dev_quantity *q = find_quantity(dev, quantity);
    struct nano_value out;
    double num;

    if (!q) {
        nano_dev_logf(dev, NANO_LOG_ERR, "reported undeclared quantity '%s'",
                      quantity);
        return -ENOENT;
    }
    out = *v;
    if (!out.unit)
        out.unit = q->unit;
    if (out.quality == NANO_Q_OK && nano_value_as_num(&out, &num) &&
        out.type == NANO_VT_NUM &&
        (!isfinite(num) || (q->max > q->min && (num < q->min || num > q->max)))) {
        out.quality = NANO_Q_FAULT;
        dev->faults++;
        nano_metric_inc(dev->dm->m_faults);
        nano_dev_logf(dev, NANO_LOG_WARN, "%s = %g is outside the physical "
                      "range [%g, %g]; published as a fault", quantity, num,
                      q->min, q->max);
    }
    return nano_bus_publish_value(dev->dm->bus, q->topic, &out);
}

int
nano_dev_report(struct nano_dev *dev, const char *quantity, double value)
{
    struct nano_value v = nano_value_num(value, NULL);

    return nano_dev_report_value(dev, quantity, &v);
}

/* ---- the sampling cycle ---------------------------------------------------- */

static void on_tick(struct nano_loop *loop, struct nano_timer *t);
static void on_watchdog(struct nano_loop *loop, struct nano_timer *t);

static void
dev_close_driver(struct nano_dev *dev)
{
    if (dev->probed && dev->drv->close)
        dev->drv->close(dev);
    dev->probed = false;
}

static void
schedule_periodic(struct nano_dev *dev)
{
    nano_timer_start_ns(dev->dm->loop, &dev->tick, dev->interval_ns,
                        dev->interval_ns);
}

static void
sample_succeeded(struct nano_dev *dev)
{
    bool recovering = dev->consecutive > 0;

    dev->in_sample = false;
    nano_timer_stop(dev->dm->loop, &dev->watchdog);
    dev->samples++;
    nano_metric_inc(dev->dm->m_samples);
    dev->last_ok_wall_us = (int64_t)(nano_time_wall_ns() / 1000);
    dev->consecutive = 0;
    dev->backoff_ns = 0;
    dev->state = NANO_DEV_OK;
    if (recovering) {
        nano_dev_logf(dev, NANO_LOG_INFO, "recovered");
        schedule_periodic(dev);
    }
}

static void
sample_failed(struct nano_dev *dev, int rc)
{
    char topic_filter[NANO_DEV_NAME_MAX + 16];
    uint64_t cap = (uint64_t)NANO_DEV_BACKOFF_MAX_MS * NANO_NS_PER_MS;

    dev->in_sample = false;
    nano_timer_stop(dev->dm->loop, &dev->watchdog);
    dev->errors++;
    nano_metric_inc(dev->dm->m_errors);
    dev->last_error = rc;
    snprintf(dev->last_error_msg, sizeof dev->last_error_msg, "%s",
             nano_strerror(rc));
    if (dev->consecutive++ == 0) {
        /* Readers must know the last value is no longer current. */
        snprintf(topic_filter, sizeof topic_filter, "sensors/%s/#", dev->name);
        nano_bus_mark_stale(dev->dm->bus, topic_filter);
    }
    dev->backoff_ns = dev->backoff_ns ? dev->backoff_ns * 2 : dev->interval_ns;
    if (dev->backoff_ns > cap)
        dev->backoff_ns = cap;
    dev->state = dev->consecutive >= FAILING_AFTER ? NANO_DEV_FAILING
                                                   : NANO_DEV_BACKOFF;
    nano_dev_logf(dev, NANO_LOG_WARN, "sample failed: %s; retry in %llums",
                  nano_strerror(rc),
                  (unsigned long long)(dev->backoff_ns / NANO_NS_PER_MS));
    /* Close now and re-probe on retry: a replugged device starts clean. */
    dev_close_driver(dev);
    nano_timer_start_ns(dev->dm->loop, &dev->tick, dev->backoff_ns, 0);
}

void
nano_dev_done(struct nano_dev *dev)
{
    if (NANO_NEVER(!dev->in_sample))
        return;
    sample_succeeded(dev);
}

void
nano_dev_fail(struct nano_dev *dev, int rc)
{
    if (NANO_NEVER(!dev->in_sample))
        return;
    sample_failed(dev, rc < 0 ? rc : -EIO);
}

static void
on_watchdog(struct nano_loop *loop, struct nano_timer *t)
{
    struct nano_dev *dev = NANO_CONTAINER_OF(t, struct nano_dev, watchdog);

    (void)loop;
    if (!dev->in_sample)
        return;
    nano_metric_inc(dev->dm->m_timeouts);
    sample_failed(dev, -ETIMEDOUT);
}

static void
on_tick(struct nano_loop *loop, struct nano_timer *t)
{
    struct nano_dev *dev = NANO_CONTAINER_OF(t, struct nano_dev, tick);
    int rc;

    if (dev->in_sample) {
        dev->overruns++;           /* previous sample still running: skip */
        return;
    }
    if (!dev->probed) {
        quantities_free(dev);
        for (const struct nano_quantity *q = dev->drv->quantities; q && q->name; q++) {
            rc = nano_dev_declare(dev, q->name, q->unit, q->min, q->max);
            if (rc != NANO_OK) {
                sample_failed(dev, rc);
                return;
            }
        }
        dev->probed = true;        /* close() is owed even after a failed probe */
        rc = dev->drv->probe ? dev->drv->probe(dev) : NANO_OK;
        if (rc != NANO_OK) {
            sample_failed(dev, rc);
            return;
        }
    }
    dev->in_sample = true;
    rc = dev->drv->sample(dev);
    if (!dev->in_sample)
        return;                    /* finished (done or fail) inside sample() */
    if (rc == -EINPROGRESS)
        nano_timer_start_ns(loop, &dev->watchdog, dev->timeout_ns, 0);
    else if (rc != NANO_OK)
        sample_failed(dev, rc);
    else
        sample_succeeded(dev);
}

/* ---- instances --------------------------------------------------------------- */

static void
dev_stop(struct nano_dev *dev)
{
    nano_timer_stop(dev->dm->loop, &dev->tick);
    nano_timer_stop(dev->dm->loop, &dev->watchdog);
    dev->in_sample = false;
    dev_close_driver(dev);
}

static void
dev_start(struct nano_dev *dev)
{
    dev->state = NANO_DEV_STARTING;
    dev->consecutive = 0;
    dev->backoff_ns = 0;
    /* First sample soon, spread over 4 ms so 1,000 instances configured at
     * once do not all fire in the same millisecond. */
    uint64_t first = (dev->dm->start_seq++ % 16) * 250 * NANO_NS_PER_US;
    nano_timer_start_ns(dev->dm->loop, &dev->tick, first, dev->interval_ns);
}

static void
dev_destroy(struct nano_dev *dev)
{
    dev_stop(dev);
    nano_list_remove(&dev->link);
    quantities_free(dev);
    nano_free(dev->ctx);
    nano_cfg_free(dev->conf);
    nano_free(dev->name);
    nano_free(dev);
}

/* Destroy an instance that stops existing while nanod runs (removed, or
 * gone from a reloaded config): its last values are no longer current. */
static void
dev_retire(struct nano_dev *dev)
{
    char filter[NANO_DEV_NAME_MAX + 16];
    struct nano_bus *bus = dev->dm->bus;

    snprintf(filter, sizeof filter, "sensors/%s/#", dev->name);
    dev_destroy(dev);
    nano_bus_mark_stale(bus, filter);
}

/* Create an instance from a validated settings map (copied). */
static int
dev_create(struct nano_devmgr *dm, const char *name,
           const struct nano_cfg_node *settings, bool from_config,
           struct nano_dev **dev_out, struct nano_diag *d)
{
    struct nano_dev *dev;
    struct nano_cfg_node *root;
    int rc;

    dev = nano_calloc(1, sizeof *dev);
    if (!dev)
        return -ENOMEM;
    nano_list_init(&dev->link);
    dev->dm = dm;
    dev->from_config = from_config;
    dev->name = nano_strdup(name);
    /* One right-sized arena for the private copy of the settings. */
    dev->conf = nano_cfg_new_sized("device", nano_cfg_copy_size(settings));
    if (!dev->name || !dev->conf) {
        rc = -ENOMEM;
        goto fail;
    }
    /* The copy's root must be the settings map itself. */
    root = nano_cfg_root(dev->conf);
    for (const struct nano_cfg_node *n = settings->child; n; n = n->next) {
        if (!nano_cfg_copy(dev->conf, root, n->key, n)) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    rc = process_settings(name, root, &dev->drv, NULL, NULL, NULL, NULL, d);
    if (rc != NANO_OK)
        goto fail;
    dev->ctx = nano_calloc(1, dev->drv->ctx_size ? dev->drv->ctx_size : 1);
    if (!dev->ctx) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = process_settings(name, root, NULL, dev->ctx, &dev->interval_ns,
                          &dev->timeout_ns, &dev->enabled, d);
    if (rc != NANO_OK)
        goto fail;
    if (!dev->timeout_ns) {
        dev->timeout_ns = dev->drv->timeout_ms ?
            (uint64_t)dev->drv->timeout_ms * NANO_NS_PER_MS : 2 * dev->interval_ns;
        if (dev->timeout_ns > 10 * NANO_NS_PER_S)
            dev->timeout_ns = 10 * NANO_NS_PER_S;
    }
    nano_timer_init(&dev->tick, on_tick);
    nano_timer_init(&dev->watchdog, on_watchdog);
    dev->state = NANO_DEV_DISABLED;
    nano_list_append(&dm->devs, &dev->link);
    *dev_out = dev;
    return NANO_OK;

fail:
    nano_free(dev->ctx);
    nano_cfg_free(dev->conf);
    nano_free(dev->name);
    nano_free(dev);
    return rc;
}

struct nano_dev *
nano_devmgr_find(struct nano_devmgr *dm, const char *name)
{
    struct nano_list *it;

    nano_list_foreach(it, &dm->devs) {
        struct nano_dev *dev = NANO_CONTAINER_OF(it, struct nano_dev, link);
        if (strcmp(dev->name, name) == 0)
            return dev;
    }
    return NULL;
}

static void
dev_set_enabled(struct nano_dev *dev, bool on)
{
    if (on && dev->state == NANO_DEV_DISABLED) {
        dev->enabled = true;
        dev_start(dev);
    } else if (!on && dev->state != NANO_DEV_DISABLED) {
        char filter[NANO_DEV_NAME_MAX + 16];
        dev->enabled = false;
        dev_stop(dev);
        dev->state = NANO_DEV_DISABLED;
        snprintf(filter, sizeof filter, "sensors/%s/#", dev->name);
        nano_bus_mark_stale(dev->dm->bus, filter);
    }
}

/* ---- overlay (persisted run-time changes) ------------------------------------ */

/* devices.json: "installed" entries, and the "disabled" and "removed" lists. */
#define OV_DISABLED 0
#define OV_REMOVED  1

static int
check_saved(const struct nano_cfg_node *settings, const char *name,
            struct nano_diag *d, void *arg)
{
    (void)arg;
    return process_settings(name, settings, NULL, NULL, NULL, NULL, NULL, d);
}

int
nano_devmgr_load_state(struct nano_devmgr *dm, struct nano_diag *d)
{
    return nano_overlay_load(&dm->ov, dm->state_dir, check_saved, NULL, d);
}

/* Does the running instance already match these settings? */
static bool
same_settings(struct nano_dev *dev, const struct nano_cfg_node *settings)
{
    struct nano_buf a, b;
    bool same;

    nano_buf_init(&a, 1 << 20);
    nano_buf_init(&b, 1 << 20);
    nano_cfg_to_json(nano_cfg_root(dev->conf), &a);
    nano_cfg_to_json(settings, &b);
    same = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    nano_buf_free(&a);
    nano_buf_free(&b);
    return same;
}

/* Bring one desired instance up to date. */
static void
reconcile_one(struct nano_devmgr *dm, const char *name,
              const struct nano_cfg_node *settings, bool from_config)
{
    struct nano_dev *dev = nano_devmgr_find(dm, name);
    struct nano_diag d = { .origin = from_config ? "config" : STATE_FILE };
    bool want_on;

    if (dev && !same_settings(dev, settings)) {
        nano_logf(NANO_LOG_INFO, "drivers", "device '%s' changed; restarting",
                  name);
        dev_retire(dev);
        dev = NULL;
    }
    if (!dev) {
        if (dev_create(dm, name, settings, from_config, &dev, &d) != NANO_OK) {
            nano_logf(NANO_LOG_ERR, "drivers", "device '%s' not started: %s",
                      name, d.msg);
            return;
        }
    }
    dev->from_config = from_config;
    dev->installed = !from_config;
    /* The settings' own `enabled:`, unless the API disabled the instance. */
    want_on = true;
    const struct nano_cfg_node *en = nano_cfg_get(settings, "enabled");
    if (en && nano_cfg_as_bool(en, &want_on, NULL) != NANO_OK)
        want_on = true;
    if (nano_overlay_listed(&dm->ov, OV_DISABLED, name))
        want_on = false;
    dev_set_enabled(dev, want_on);
}

int
nano_devmgr_apply_config(struct nano_devmgr *dm,
                         const struct nano_cfg_node *devices)
{
    struct nano_list *it, *tmp;

    dm->config_devices = devices;
    /* Drop instances that are no longer wanted. */
    nano_list_foreach_safe(it, tmp, &dm->devs) {
        struct nano_dev *dev = NANO_CONTAINER_OF(it, struct nano_dev, link);
        bool in_cfg = devices && nano_cfg_get(devices, dev->name) &&
                      !nano_overlay_listed(&dm->ov, OV_REMOVED, dev->name);
        bool in_ov = nano_overlay_get(&dm->ov, dev->name) != NULL;
        if (!in_cfg && !in_ov) {
            nano_logf(NANO_LOG_INFO, "drivers", "device '%s' is no longer "
                      "configured; stopped", dev->name);
            dev_retire(dev);
        }
    }
    for (const struct nano_cfg_node *n = devices ? devices->child : NULL; n; n = n->next) {
        if (nano_overlay_listed(&dm->ov, OV_REMOVED, n->key) ||
            nano_overlay_get(&dm->ov, n->key))
            continue;
        reconcile_one(dm, n->key, n, true);
    }
    for (const struct nano_cfg_node *n = dm->ov.added->child; n; n = n->next)
        reconcile_one(dm, n->key, n, false);
    return NANO_OK;
}

int
nano_devmgr_install(struct nano_devmgr *dm, const char *name,
                    const struct nano_cfg_node *settings, bool enable,
                    struct nano_diag *d)
{
    struct nano_dev *dev;
    struct nano_cfg_node *copy;
    int rc;

    if (nano_devmgr_find(dm, name))
        return nano_diag_set(d, NANO_EEXISTS, 0, 0, "device '%s' already exists",
                             name);
    rc = process_settings(name, settings, NULL, NULL, NULL, NULL, NULL, d);
    if (rc != NANO_OK)
        return rc;
    rc = dev_create(dm, name, settings, false, &dev, d);
    if (rc != NANO_OK)
        return rc;
    copy = nano_overlay_put(&dm->ov, name, settings);
    if (!copy) {
        dev_destroy(dev);
        return -ENOMEM;
    }
    nano_overlay_list_del(&dm->ov, OV_REMOVED, name);
    nano_overlay_list_del(&dm->ov, OV_DISABLED, name);
    if (!enable)
        nano_overlay_list_add(&dm->ov, OV_DISABLED, name);
    dev->installed = true;
    rc = nano_overlay_save(&dm->ov, dm->state_dir);
    if (rc != NANO_OK) {
        /* Not persisted means not installed: undo. */
        nano_overlay_drop(&dm->ov, name);
        nano_overlay_list_del(&dm->ov, OV_DISABLED, name);
        dev_destroy(dev);
        return nano_diag_set(d, rc, 0, 0, "cannot persist device '%s': %s",
                             name, nano_strerror(rc));
    }
    dev_set_enabled(dev, enable);
    nano_logf(NANO_LOG_INFO, "drivers", "installed device '%s' (driver %s)%s",
              name, dev->drv->name, enable ? "" : ", disabled");
    return NANO_OK;
}

int
nano_devmgr_set_enabled(struct nano_devmgr *dm, const char *name, bool enabled)
{
    struct nano_dev *dev = nano_devmgr_find(dm, name);

    if (!dev)
        return NANO_ENOTFOUND;
    nano_overlay_list_del(&dm->ov, OV_DISABLED, name);
    if (!enabled)
        nano_overlay_list_add(&dm->ov, OV_DISABLED, name);
    dev_set_enabled(dev, enabled);
    nano_logf(NANO_LOG_INFO, "drivers", "device '%s' %s", name,
              enabled ? "enabled" : "disabled");
    return nano_overlay_save(&dm->ov, dm->state_dir);
}

int
nano_devmgr_remove(struct nano_devmgr *dm, const char *name)
{
    struct nano_dev *dev = nano_devmgr_find(dm, name);

    if (!dev)
        return NANO_ENOTFOUND;
    nano_overlay_drop(&dm->ov, name);
    if (dev->from_config)
        nano_overlay_list_add(&dm->ov, OV_REMOVED, name);
    nano_overlay_list_del(&dm->ov, OV_DISABLED, name);
    dev_retire(dev);
    nano_logf(NANO_LOG_INFO, "drivers", "removed device '%s'", name);
    return nano_overlay_save(&dm->ov, dm->state_dir);
}

/* ---- manager ----------------------------------------------------------------- */

int
nano_devmgr_new(struct nano_loop *loop, struct nano_bus *bus,
                const char *state_dir, struct nano_devmgr **dm_out)
{
    struct nano_devmgr *dm = nano_calloc(1, sizeof *dm);

    *dm_out = NULL;
    if (!dm)
        return -ENOMEM;
    dm->loop = loop;
    dm->bus = bus;
    nano_list_init(&dm->devs);
    if (state_dir && !(dm->state_dir = nano_strdup(state_dir))) {
        nano_free(dm);
        return -ENOMEM;
    }
    if (nano_overlay_init(&dm->ov, STATE_FILE, "drivers", "installed",
                          "disabled", "removed") != NANO_OK) {
        nano_devmgr_free(dm);
        return -ENOMEM;
    }
    dm->m_samples = nano_metric_counter("nano_device_samples_total",
                                        "Samples completed by all devices");
    dm->m_errors = nano_metric_counter("nano_device_errors_total",
                                       "Failed or timed-out samples");
    dm->m_faults = nano_metric_counter("nano_device_faults_total",
                                       "Readings outside the physical range");
    dm->m_timeouts = nano_metric_counter("nano_device_timeouts_total",
                                         "Samples that never completed");
    *dm_out = dm;
    return NANO_OK;
}

void
nano_devmgr_free(struct nano_devmgr *dm)
{
    struct nano_list *it, *tmp;

    if (!dm)
        return;
    nano_list_foreach_safe(it, tmp, &dm->devs)
        dev_destroy(NANO_CONTAINER_OF(it, struct nano_dev, link));
    nano_overlay_free(&dm->ov);
    nano_free(dm->state_dir);
    nano_free(dm);
}

void
nano_devmgr_get_stats(const struct nano_devmgr *dm,
                      struct nano_devmgr_stats *out)
{
    struct nano_list *it;

    memset(out, 0, sizeof *out);
    nano_list_foreach(it, &dm->devs) {
        const struct nano_dev *dev = NANO_CONTAINER_OF(it, struct nano_dev, link);
        out->instances++;
        out->ok += dev->state == NANO_DEV_OK;
        out->failing += dev->state == NANO_DEV_FAILING ||
                        dev->state == NANO_DEV_BACKOFF;
        out->disabled += dev->state == NANO_DEV_DISABLED;
        out->samples += dev->samples;
        out->errors += dev->errors;
        out->faults += dev->faults;
    }
}

void
nano_devmgr_foreach_quantity(struct nano_devmgr *dm, const char *q,
                             nano_devmgr_each_fn *fn, void *arg)
{
    struct nano_list *it;

    nano_list_foreach(it, &dm->devs) {
        struct nano_dev *dev = NANO_CONTAINER_OF(it, struct nano_dev, link);
        /* Static quantities are known before the first probe. */
        if (dev->nq) {
            for (unsigned i = 0; i < dev->nq; i++)
                if (!q || strcmp(dev->q[i].name, q) == 0)
                    fn(arg, dev, dev->q[i].name);
        } else {
            for (const struct nano_quantity *sq = dev->drv->quantities;
                 sq && sq->name; sq++)
                if (!q || strcmp(sq->name, q) == 0)
                    fn(arg, dev, sq->name);
        }
    }
}

/* ---- JSON views -------------------------------------------------------------- */

static void
write_dev(struct nano_devmgr *dm, struct nano_dev *dev, struct nano_json *w,
          bool detail)
{
    nano_json_obj_begin(w);
    nano_json_key(w, "name");
    nano_json_str(w, dev->name);
    nano_json_key(w, "driver");
    nano_json_str(w, dev->drv->name);
    nano_json_key(w, "state");
    nano_json_str(w, nano_dev_state_name(dev->state));
    nano_json_key(w, "origin");
    nano_json_str(w, dev->installed ? "installed" : "config");
    nano_json_key(w, "interval_ms");
    nano_json_uint(w, dev->interval_ns / NANO_NS_PER_MS);
    nano_json_key(w, "samples");
    nano_json_uint(w, dev->samples);
    nano_json_key(w, "errors");
    nano_json_uint(w, dev->errors);
    nano_json_key(w, "faults");
    nano_json_uint(w, dev->faults);
    nano_json_key(w, "last_error");
    nano_json_str(w, dev->last_error ? dev->last_error_msg : NULL);
    if (dev->state == NANO_DEV_BACKOFF || dev->state == NANO_DEV_FAILING) {
        nano_json_key(w, "retry_in_ms");
        nano_json_uint(w, dev->backoff_ns / NANO_NS_PER_MS);
    }
    nano_json_key(w, "values");
    nano_json_obj_begin(w);
    for (unsigned i = 0; i < dev->nq; i++) {
        const struct nano_msg *m = nano_bus_latest(dm->bus, dev->q[i].topic);
        nano_json_key(w, dev->q[i].name);
        if (m)
            nano_value_write_json_obj(w, &m->v);
        else
            nano_json_null(w);
    }
    nano_json_obj_end(w);
    if (detail) {
        struct nano_buf b;
        nano_json_key(w, "settings");
        nano_buf_init(&b, 1 << 20);
        if (nano_cfg_to_json(nano_cfg_root(dev->conf), &b) == NANO_OK && b.len)
            nano_json_raw(w, b.data, b.len);
        else
            nano_json_null(w);
        nano_buf_free(&b);
        nano_json_key(w, "overruns");
        nano_json_uint(w, dev->overruns);
    }
    nano_json_obj_end(w);
}

void
nano_devmgr_write_list(struct nano_devmgr *dm, struct nano_json *w)
{
    struct nano_list *it;

    nano_json_arr_begin(w);
    nano_list_foreach(it, &dm->devs)
        write_dev(dm, NANO_CONTAINER_OF(it, struct nano_dev, link), w, false);
    nano_json_arr_end(w);
}

int
nano_devmgr_write_one(struct nano_devmgr *dm, const char *name,
                      struct nano_json *w)
{
    struct nano_dev *dev = nano_devmgr_find(dm, name);

    if (!dev)
        return NANO_ENOTFOUND;
    write_dev(dm, dev, w, true);
    return NANO_OK;
}

void
nano_devmgr_write_drivers(struct nano_json *w)
{
    nano_json_arr_begin(w);
    for (const struct nano_driver *const *d = nano_drivers; *d; d++) {
        nano_json_obj_begin(w);
        nano_json_key(w, "name");
        nano_json_str(w, (*d)->name);
        nano_json_key(w, "summary");
        nano_json_str(w, (*d)->summary);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
}

int
nano_devmgr_write_driver(const char *name, struct nano_json *w)
{
    const struct nano_driver *drv = nano_driver_find(name);

    if (!drv)
        return NANO_ENOTFOUND;
    nano_json_obj_begin(w);
    nano_json_key(w, "name");
    nano_json_str(w, drv->name);
    nano_json_key(w, "summary");
    nano_json_str(w, drv->summary);
    nano_json_key(w, "default_interval_ms");
    nano_json_uint(w, drv->default_interval_ms ? drv->default_interval_ms : 1000);
    nano_json_key(w, "params");
    nano_json_arr_begin(w);
    for (const struct nano_param *p = drv->params; p && p->name; p++) {
        nano_json_obj_begin(w);
        nano_json_key(w, "name");
        nano_json_str(w, p->name);
        nano_json_key(w, "type");
        nano_json_str(w, nano_param_type_name(p->type));
        nano_json_key(w, "default");
        nano_json_str(w, p->def);
        nano_json_key(w, "required");
        nano_json_bool(w, p->def == NULL);
        nano_json_key(w, "help");
        nano_json_str(w, p->help);
        if (p->max > p->min) {
            nano_json_key(w, "min");
            nano_json_num(w, p->min);
            nano_json_key(w, "max");
            nano_json_num(w, p->max);
        }
        if (p->choices) {
            nano_json_key(w, "choices");
            nano_json_arr_begin(w);
            for (int i = 0; p->choices[i]; i++)
                nano_json_str(w, p->choices[i]);
            nano_json_arr_end(w);
        }
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
    nano_json_key(w, "quantities");
    nano_json_arr_begin(w);
    for (const struct nano_quantity *q = drv->quantities; q && q->name; q++) {
        nano_json_obj_begin(w);
        nano_json_key(w, "name");
        nano_json_str(w, q->name);
        nano_json_key(w, "unit");
        nano_json_str(w, q->unit);
        if (q->max > q->min) {
            nano_json_key(w, "min");
            nano_json_num(w, q->min);
            nano_json_key(w, "max");
            nano_json_num(w, q->max);
        }
        nano_json_key(w, "help");
        nano_json_str(w, q->help);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
    nano_json_obj_end(w);
    return NANO_OK;
}
