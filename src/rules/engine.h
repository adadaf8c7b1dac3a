/* SPDX-License-Identifier: MIT
 *
 * engine.h - services in the running daemon: the rule engine bound to the
 * loop, the bus, the device manager, pins and the webhook client.
 *
 * A service is a named rule with its actions (docs/rules.md).  Services come
 * from the config file's `services:` section and from the API (`nanoctl
 * service start NAME --config '{...}'`); API changes persist in the state
 * directory (services.json) and are layered over the config file at startup
 * and reload, the way devices are.
 *
 * Each running service subscribes to exactly the topics it reads: the
 * sensors/<instance>/<quantity> of every input (and pins/<name> of pins it
 * reads), or its `input` topic filter.  A reading is evaluated when it is
 * delivered; timers exist only while a `for`, hold-off, window or age()
 * needs one.  Nothing polls.
 *
 * Names resolve against the devices (devmgr) and the readings already on
 * the bus: `temperature` needs exactly one provider.  A service whose names
 * cannot be resolved yet because devices are still starting waits, retries
 * and shows "waiting" with the reason.
 *
 * Context: loop thread only.
 */
#ifndef NANO_RULES_ENGINE_H
#define NANO_RULES_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "nano_config.h"

struct nano_loop;
struct nano_bus;
struct nano_devmgr;
struct nano_cfg_node;
struct nano_cfg_field;
struct nano_json;
struct nano_rules;

/* What services act on besides the bus.  The pins come from hal/pins.h,
 * webhooks from the HTTP client; every slot is optional (an action through
 * a missing slot fails with NANO_EDISABLED, counted and logged). */
struct nano_rules_io {
    int  (*gpio_set)(void *arg, const char *pin, bool high);
    int  (*gpio_toggle)(void *arg, const char *pin);
    /* Is pin a configured pin?  And every pin's name (NULL-terminated,
     * Returns borrowed until the next call), for error messages. */
    bool (*pin_exists)(void *arg, const char *pin);
    const char *const *(*pin_names)(void *arg);
    /* Queue an HTTP POST; must not block.  Borrows url and body. */
    int  (*webhook)(void *arg, const char *url, const char *body, size_t len,
                    bool is_json);
    void *arg;
};

/* Where a rule text error sits, for API responses and nanoctl. */
struct nano_rules_error {
    char     field[16];       /* "rule", "clear", "action[1]", ... or "" */
    unsigned line, col;       /* inside that text; 0 when not about a text */
    char     caret[768];      /* "1:15: msg\n  <line>\n  <spaces>^" or "" */
};

/* Schema of one service (an entry of `services:`). */
extern const struct nano_cfg_field nano_rules_service_fields[];

#if NANO_WITH_RULES

/* Returns NANO_OK and *rs_out (Returns owned; free with nano_rules_free).
 * Keeps loop, bus and dm (dm may be NULL: no devices); copies state_dir
 * (NULL: nothing is persisted). */
int  nano_rules_new(struct nano_loop *loop, struct nano_bus *bus,
                    struct nano_devmgr *dm, const char *state_dir,
                    struct nano_rules **rs_out);
void nano_rules_free(struct nano_rules *rs);     /* stops every service */

/* Install the pins/webhook hooks.  Copies io (keeps io->arg).  Running
 * services pick it up at their next action. */
void nano_rules_set_io(struct nano_rules *rs, const struct nano_rules_io *io);

/* ---- the config file ---------------------------------------------------- */

/* Check a `services:` section (name -> settings) without starting
 * anything: schema, rule syntax and types (names are resolved later, when
 * the devices run).  NANO_OK, or NANO_ESCHEMA/NANO_EPARSE/NANO_ETYPE with d
 * at the file position of the error:
 *   "12:20: service 'temp-guard': rule 1:15: expected an expression" */
int  nano_rules_validate(const struct nano_cfg_node *services,
                         struct nano_diag *d);

/* Make the running services match the section (NULL: none) plus the
 * persisted run-time changes; unchanged services keep running with their
 * state.  The section must have passed nano_rules_validate().  Keeps
 * nothing from it (settings are copied). */
int  nano_rules_apply_config(struct nano_rules *rs,
                             const struct nano_cfg_node *services);

/* Read services.json.  Missing is fine; a corrupt file is reported in d,
 * set aside, and ignored (NANO_ECORRUPT). */
int  nano_rules_load_state(struct nano_rules *rs, struct nano_diag *d);

/* ---- run time (the API) ---------------------------------------------------- */

/*
 * nano_rules_start - start service name.
 *
 * With config (a map: rule, action, ...): create it, fully validated and
 * resolved; persisted.  A service of that name with the same settings is
 * started if stopped (NANO_OK); with other settings it is NANO_EEXISTS.
 * Without config: start an existing stopped service (NANO_ENOTFOUND if
 * there is none).
 * Errors fill d (position in config's document) and, when err is not NULL,
 * err (position inside the rule text and a caret rendering): NANO_ESCHEMA,
 * NANO_EPARSE, NANO_ETYPE, NANO_ENOTFOUND (unknown name: the message lists
 * the known quantities), NANO_EAMBIG (lists the instances), -ENOMEM.
 * Nothing is half-started on error.
 */
int  nano_rules_start(struct nano_rules *rs, const char *name,
                      const struct nano_cfg_node *config, struct nano_diag *d,
                      struct nano_rules_error *err);

/* Stop (keeps the definition; persisted), restart (fresh state: windows,
 * timers and the state machine start over), remove (persisted; also for
 * config-file services).  NANO_OK or NANO_ENOTFOUND. */
int  nano_rules_stop(struct nano_rules *rs, const char *name);
int  nano_rules_restart(struct nano_rules *rs, const char *name);
int  nano_rules_remove(struct nano_rules *rs, const char *name);

/* ---- views -------------------------------------------------------------- */

/* [{"name":..,"status":"running"|"stopped"|"waiting","state":"active",...}] */
void nano_rules_write_list(struct nano_rules *rs, struct nano_json *w);

/* One service: settings, status, state machine, counters, last action; a
 * topic service lists its topics (at most 100; "topics_total" counts all).
 * NANO_OK or NANO_ENOTFOUND. */
int  nano_rules_write_status(struct nano_rules *rs, const char *name,
                             struct nano_json *w);

/* Every input and sub-expression's current value and why the service is
 * or is not firing.  topic selects one topic of a topic service (NULL: all,
 * at most 20).  NANO_OK, NANO_ENOTFOUND (no such service or topic). */
int  nano_rules_write_explain(struct nano_rules *rs, const char *name,
                              const char *topic, struct nano_json *w);

struct nano_rules_stats {
    unsigned services, running, waiting, stopped;
    uint64_t evaluations, fires, actions_failed, topics_dropped;
};
void nano_rules_get_stats(const struct nano_rules *rs,
                          struct nano_rules_stats *out);

#else /* !NANO_WITH_RULES: the rule engine is compiled out; nanod's calls
       * stay free of #if and a `services:` section is refused clearly. */

static inline int
nano_rules_new(struct nano_loop *loop, struct nano_bus *bus,
               struct nano_devmgr *dm, const char *state_dir,
               struct nano_rules **rs_out)
{
    (void)loop; (void)bus; (void)dm; (void)state_dir;
    *rs_out = NULL;
    return NANO_OK;
}
static inline void nano_rules_free(struct nano_rules *rs) { (void)rs; }
static inline void
nano_rules_set_io(struct nano_rules *rs, const struct nano_rules_io *io)
{
    (void)rs; (void)io;
}
static inline int
nano_rules_validate(const struct nano_cfg_node *services, struct nano_diag *d)
{
    if (!services)
        return NANO_OK;
    return nano_diag_set(d, NANO_EDISABLED, 0, 0, "services need the rule "
                         "engine, which this build leaves out");
}
static inline int
nano_rules_apply_config(struct nano_rules *rs, const struct nano_cfg_node *s)
{
    (void)rs; (void)s;
    return NANO_OK;
}
static inline int
nano_rules_load_state(struct nano_rules *rs, struct nano_diag *d)
{
    (void)rs; (void)d;
    return NANO_OK;
}
/* The API's service routes are left out with the engine (api_int.h). */
#endif

#endif
