/* SPDX-License-Identifier: MIT
 *
 * devmgr.h - device instances: configuration, sampling scheduler, faults,
 * run-time management and persistence.
 *
 * An instance is a named use of a driver ("boiler" = bme280 on i2c1 at 0x76).
 * Instances come from the config file's `devices:` section and from the API
 * (`nanoctl driver install`); API changes persist in the state directory
 * (devices.json) and are layered over the config file at startup and reload.
 *
 * Scheduling: one timer per instance (the loop's timer heap orders them), a
 * watchdog timer for asynchronous samples, nothing else - 1,000 instances
 * cost 1,000 heap entries and no threads.  See driver.h for what a driver
 * may and may not do.
 *
 * Faults: a failed or timed-out sample is counted, the instance's values on
 * the bus are marked stale, the driver is closed, and the instance retries
 * with exponential backoff (interval x 2^n, capped at 60 s), re-probing
 * first, so an unplugged sensor recovers by itself when it is plugged back.
 * States: ok, backoff (1-4 consecutive failures), failing (5 or more),
 * disabled.
 *
 * Context: loop thread only.
 */
#ifndef NANO_DRIVERS_DEVMGR_H
#define NANO_DRIVERS_DEVMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct nano_loop;
struct nano_bus;
struct nano_cfg_node;
struct nano_json;
struct nano_devmgr;
struct nano_dev;

#define NANO_DEV_NAME_MAX 48
#define NANO_DEV_BACKOFF_MAX_MS 60000

enum nano_dev_state {
    NANO_DEV_OK,
    NANO_DEV_BACKOFF,
    NANO_DEV_FAILING,
    NANO_DEV_DISABLED,
    NANO_DEV_STARTING,     /* not sampled yet */
};

const char *nano_dev_state_name(enum nano_dev_state s);

/* Returns NANO_OK and *dm_out (Returns owned; free with nano_devmgr_free).
 * Keeps loop and bus; copies state_dir (NULL: nothing is persisted). */
int  nano_devmgr_new(struct nano_loop *loop, struct nano_bus *bus,
                     const char *state_dir, struct nano_devmgr **dm_out);
void nano_devmgr_free(struct nano_devmgr *dm);

/* Check a `devices:` section (a map of instance name -> settings) without
 * changing anything.  NANO_OK or NANO_ESCHEMA with d filled. */
int  nano_devmgr_validate(const struct nano_cfg_node *devices,
                          struct nano_diag *d);

/* Make the running set match the config's devices (NULL: none) plus the
 * persisted run-time changes.  Unchanged instances keep running untouched.
 * The section must have passed nano_devmgr_validate(). */
int  nano_devmgr_apply_config(struct nano_devmgr *dm,
                              const struct nano_cfg_node *devices);

/* Read devices.json from the state directory.  A missing file is fine; a
 * corrupt one is reported in d, set aside, and startup continues without it
 * (returns NANO_ECORRUPT so the caller can log it). */
int  nano_devmgr_load_state(struct nano_devmgr *dm, struct nano_diag *d);

/* Install an instance at run time.  settings is a map: `driver` (required),
 * optional `interval`, `timeout`, `enabled`, and the driver's parameters.
 * Validation errors fill d (NANO_ESCHEMA), a duplicate name is NANO_EEXISTS;
 * nothing is half-installed on error.  Persisted. */
int  nano_devmgr_install(struct nano_devmgr *dm, const char *name,
                         const struct nano_cfg_node *settings, bool enable,
                         struct nano_diag *d);

/* Enable or disable; persisted.  NANO_ENOTFOUND for an unknown instance. */
int  nano_devmgr_set_enabled(struct nano_devmgr *dm, const char *name,
                             bool enabled);

/* Remove (closing the driver); persisted, also for config-file instances. */
int  nano_devmgr_remove(struct nano_devmgr *dm, const char *name);

/* JSON views for the API: the list of instances, or one instance. */
void nano_devmgr_write_list(struct nano_devmgr *dm, struct nano_json *w);
int  nano_devmgr_write_one(struct nano_devmgr *dm, const char *name,
                           struct nano_json *w);

/* Driver catalogue for the API: all drivers (name, summary) or one with its
 * parameters and quantities. */
void nano_devmgr_write_drivers(struct nano_json *w);
int  nano_devmgr_write_driver(const char *name, struct nano_json *w);

struct nano_devmgr_stats {
    unsigned instances, ok, failing, disabled;
    uint64_t samples, errors, faults;
};
void nano_devmgr_get_stats(const struct nano_devmgr *dm,
                           struct nano_devmgr_stats *out);

/* Look up an instance (for other modules such as rules: which instances
 * provide a quantity).  Returns borrowed or NULL. */
struct nano_dev *nano_devmgr_find(struct nano_devmgr *dm, const char *name);

/* Call fn for every instance that declares quantity q (all when q is NULL). */
typedef void nano_devmgr_each_fn(void *arg, struct nano_dev *dev,
                                 const char *quantity);
void nano_devmgr_foreach_quantity(struct nano_devmgr *dm, const char *q,
                                  nano_devmgr_each_fn *fn, void *arg);

enum nano_dev_state nano_dev_state(const struct nano_dev *dev);

#endif
