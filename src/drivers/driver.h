/* SPDX-License-Identifier: MIT
 *
 * driver.h - the contract between device drivers and the device manager.
 *
 * A driver is a const descriptor of callbacks plus a context struct: the
 * device manager (devmgr.c) allocates ctx_size zeroed bytes per configured
 * instance, fills the parameter fields from config by the schema (offsetof),
 * then calls probe() once, sample() every `interval`, and close() at the end.
 *
 * Rules for drivers (they run on the loop thread):
 *   - never block: a bus transaction of a few hundred microseconds is fine, a
 *     conversion wait is not.  "Trigger, timer, read" - sample() returns
 *     -EINPROGRESS and finishes later with nano_dev_done() / nano_dev_fail()
 *     from a timer or fd callback.  The manager times out a sample that never
 *     finishes (timeout_ms below, default 2 x interval, at most 10 s);
 *   - report readings with nano_dev_report(): the manager publishes them on
 *     sensors/<instance>/<quantity>, checks the quantity's physical range and
 *     marks impossible values as faults;
 *   - return errors, do not retry: the manager counts, backs off
 *     exponentially, closes and re-probes, and marks values stale;
 *   - close() must tolerate a failed or partial probe, and is called at most
 *     once per successful or failed probe.
 *
 * Parameters: every driver declares its parameters (type, default, range,
 * help text) in a NANO_PARAM_END-terminated table.  The same table validates
 * config files and `nanoctl driver install --param k=v`, and is what `nanoctl
 * driver show NAME` prints.  STR and NODE parameters point into the
 * instance's configuration, which lives as long as the instance.
 */
#ifndef NANO_DRIVERS_DRIVER_H
#define NANO_DRIVERS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "core/value.h"

struct nano_dev;
struct nano_loop;
struct nano_cfg_node;

enum nano_param_type {
    NANO_PT_STR,        /* const char *  */
    NANO_PT_INT,        /* int, within [min, max]; accepts 0x.. */
    NANO_PT_NUM,        /* double, within [min, max] when max > min */
    NANO_PT_BOOL,       /* bool */
    NANO_PT_DURATION,   /* uint64_t nanoseconds */
    NANO_PT_ENUM,       /* int: index into choices */
    NANO_PT_NODE,       /* const struct nano_cfg_node *: parsed by the driver */
};

struct nano_param {
    const char          *name;      /* NULL ends the table */
    enum nano_param_type type;
    size_t               offset;    /* of the field in the driver's ctx */
    const char          *def;       /* default as config text; NULL: required */
    const char          *help;      /* one line, shown by the CLI */
    double               min, max;  /* INT, NUM; max <= min: unbounded */
    const char *const   *choices;   /* ENUM: NULL-terminated */
};

#define NANO_PARAM_STR(n, type, field, def, help) \
    { n, NANO_PT_STR, offsetof(type, field), def, help, 0, 0, NULL }
#define NANO_PARAM_INT(n, type, field, def, help, lo, hi) \
    { n, NANO_PT_INT, offsetof(type, field), def, help, lo, hi, NULL }
#define NANO_PARAM_NUM(n, type, field, def, help, lo, hi) \
    { n, NANO_PT_NUM, offsetof(type, field), def, help, lo, hi, NULL }
#define NANO_PARAM_BOOL(n, type, field, def, help) \
    { n, NANO_PT_BOOL, offsetof(type, field), def, help, 0, 0, NULL }
#define NANO_PARAM_DURATION(n, type, field, def, help) \
    { n, NANO_PT_DURATION, offsetof(type, field), def, help, 0, 0, NULL }
#define NANO_PARAM_ENUM(n, type, field, def, help, choices) \
    { n, NANO_PT_ENUM, offsetof(type, field), def, help, 0, 0, choices }
#define NANO_PARAM_NODE(n, type, field, def, help) \
    { n, NANO_PT_NODE, offsetof(type, field), def, help, 0, 0, NULL }
#define NANO_PARAM_END { NULL, 0, 0, NULL, NULL, 0, 0, NULL }

/* A quantity a driver reports.  min/max is the device's physical range
 * (datasheet); a reading outside it is published with quality FAULT. */
struct nano_quantity {
    const char *name;      /* NULL ends the table */
    const char *unit;      /* SI: "°C", "%RH", "hPa", "V"; NULL: none */
    double      min, max;  /* max <= min: no range check */
    const char *help;
};

struct nano_driver {
    const char                 *name;        /* `driver:` in config */
    const char                 *summary;     /* one line for `driver list` */
    const struct nano_param    *params;
    size_t                      ctx_size;
    const struct nano_quantity *quantities;  /* static set, or NULL if the
                                                driver declares them at probe */
    uint64_t                    default_interval_ms; /* 0: 1000 */
    uint32_t                    timeout_ms;  /* async sample; 0: derived */

    /* Optional deeper check of parameters at config time (NODE params):
     * n is the instance's config map.  Return NANO_OK or fill d. */
    int  (*validate)(const struct nano_cfg_node *n, struct nano_diag *d);

    /* Open the bus, check the chip, read calibration.  Few bus transactions
     * at most.  On error close() is still called. */
    int  (*probe)(struct nano_dev *dev);

    /* Start one measurement: NANO_OK when values were reported now,
     * -EINPROGRESS when they will come from a callback, or an error. */
    int  (*sample)(struct nano_dev *dev);

    /* Release everything; tolerate a failed or partial probe. */
    void (*close)(struct nano_dev *dev);
};

/* ---- services the manager gives a driver instance ------------------------ */

void             *nano_dev_ctx(struct nano_dev *dev);
struct nano_loop *nano_dev_loop(struct nano_dev *dev);
const char       *nano_dev_name(const struct nano_dev *dev);

/* The instance's configuration map (for NODE parameters and helpers).
 * Returns borrowed; valid until close() returns. */
const struct nano_cfg_node *nano_dev_config(const struct nano_dev *dev);

/* Declare a quantity at probe time (drivers whose quantities come from
 * configuration: sim, modbus).  Copies name and unit.  Returns NANO_OK,
 * -EEXIST or -ENOMEM. */
int nano_dev_declare(struct nano_dev *dev, const char *quantity,
                     const char *unit, double min, double max);

/* Report one reading of a declared quantity.  Outside the physical range it
 * is published with quality FAULT and counted.  Returns NANO_OK, -ENOENT for
 * an undeclared quantity, or the bus's error. */
int nano_dev_report(struct nano_dev *dev, const char *quantity, double value);

/* Report any value (bool, string...) or with an explicit quality.  The unit
 * comes from the declaration when v->unit is NULL. */
int nano_dev_report_value(struct nano_dev *dev, const char *quantity,
                          const struct nano_value *v);

/* Finish an asynchronous sample (after -EINPROGRESS). */
void nano_dev_done(struct nano_dev *dev);

/* Finish an asynchronous sample with an error (counted, backoff). */
void nano_dev_fail(struct nano_dev *dev, int rc);

/* Log with the instance as prefix: "bme280[boiler]: chip id 0x58...". */
void nano_dev_logf(struct nano_dev *dev, enum nano_log_level level,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- registry (registry.c, generated from the build's driver list) -------- */

extern const struct nano_driver *const nano_drivers[];   /* NULL-terminated */

/* Returns the driver or NULL. */
const struct nano_driver *nano_driver_find(const char *name);

/* True when name is a known driver that this build left out. */
bool nano_driver_known_elsewhere(const char *name);

/* Text name of a parameter type ("string", "integer", "duration", ...). */
const char *nano_param_type_name(enum nano_param_type t);

#endif
