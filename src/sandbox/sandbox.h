/* SPDX-License-Identifier: MIT
 *
 * sandbox.h - WebAssembly modules as Nano services.
 *
 * Business logic a rule cannot express (filters, feature extraction, small
 * models) runs as a WebAssembly module, each in its own instance of Nano's
 * engine (wasm/wasm.h).  A module subscribes to bus topics; every message is
 * handed to its `on_message` export, and it acts through the imports of
 * module "nano": publish, log, clocks, latest values, pins, a small
 * persisted key-value store.  docs/wasm-abi.md is the module authors'
 * reference; docs/internals/sandbox.md explains the design.
 *
 * Modules come from the config file's `sandbox:` section and from the API
 * (`nanoctl sandbox load`).  API changes are persisted in the state
 * directory (sandbox.json plus each module's bytes under sandbox/) and
 * layered over the config file at startup and on SIGHUP, like devices.
 *
 * Isolation: a module only touches the topics, pins and values its grants
 * name (deny by default; a denied call is an error code for the module and
 * a counter for the operator).  Each call is bounded by fuel and a wall-
 * clock deadline; a call that traps is aborted, counted per trap kind and
 * logged, and a module with too many faults in a window is quarantined:
 * no more calls, its queued and incoming messages are dropped and counted,
 * until `nanoctl sandbox enable` (or a reload) brings it back.
 *
 * Hot swap: a new version is loaded, linked and initialised beside the
 * running one and replaces it between two messages; if any step fails the
 * old version keeps running and the error is returned.  Subscriptions and
 * their queues belong to the service, not the instance, so a swap neither
 * loses nor repeats a message.
 *
 * Threads: calls run on the loop thread (docs/internals/sandbox.md says
 * why).  Every function here is for the loop thread only.
 *
 * Compiled only with NANO_WITH_WASM; without it the functions below that
 * the daemon, the API and nanoctl call are inline stubs answering
 * NANO_EDISABLED, so their call sites need no #if.
 */
#ifndef NANO_SANDBOX_SANDBOX_H
#define NANO_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"
#include "nano_config.h"

struct nano_loop;
struct nano_bus;
struct nano_buf;
struct nano_cfg_node;
struct nano_json;
struct nano_sandbox;

#define NANO_SANDBOX_NAME_MAX   48
#define NANO_SANDBOX_MODULE_MAX (512u * 1024)   /* bytes of one .wasm */

/* Defaults of a module's settings (each can be set per module). */
#define NANO_SANDBOX_FUEL        1000000u  /* units per message */
#define NANO_SANDBOX_DEADLINE_MS 20u       /* wall clock per message */
#define NANO_SANDBOX_MEMORY      (1u << 20)/* linear memory ceiling, bytes */
#define NANO_SANDBOX_QUEUE       256u      /* messages per subscription */
#define NANO_SANDBOX_MAX_FAULTS  5u        /* faults within ... */
#define NANO_SANDBOX_WINDOW_MS   60000u    /* ... this window: quarantine */
#define NANO_SANDBOX_KV_MAX      4096u     /* bytes of keys plus values */
#define NANO_SANDBOX_MAX_PUBLISH 64u       /* publishes per message */

/* Drive a named output pin for a module: NANO_OK or a negative code
 * (NANO_ENOTFOUND for an unknown pin, -EPERM for an input).  By default
 * modules' set_pin calls the HAL's nano_pins_set(); a hook replaces it (an
 * embedder with its own pins, tests). */
typedef int nano_sandbox_pin_fn(void *arg, const char *pin, int level);

enum nano_sandbox_state {
    NANO_SANDBOX_RUNNING,
    NANO_SANDBOX_QUARANTINED,   /* too many faults; waits for enable */
    NANO_SANDBOX_DISABLED,      /* by the operator */
    NANO_SANDBOX_FAILED,        /* could not be loaded (config, state) */
};

/* Trap kinds counted per module: the engine's kinds (wasm.h) in order. */
#define NANO_SANDBOX_TRAP_KINDS 14

/* Figures of one module, for status views and tests. */
struct nano_sandbox_module_stats {
    enum nano_sandbox_state state;
    unsigned version;            /* 1 at load, +1 per successful reload */
    uint64_t calls;              /* on_message calls made */
    uint64_t traps[NANO_SANDBOX_TRAP_KINDS];   /* by enum nano_wasm_trap_kind */
    uint64_t faults;             /* calls that trapped (sum of traps) */
    uint64_t denied;             /* imports refused for lack of a grant */
    uint64_t published;          /* messages the module published */
    uint64_t dropped;            /* messages dropped while not running */
    uint64_t truncated;          /* payloads that did not fit the inbox */
    uint64_t fuel_used;          /* total over all calls */
    uint64_t quarantines;        /* times it was quarantined */
    uint32_t kv_bytes, kv_keys;
};

struct nano_sandbox_stats {
    unsigned modules, running, quarantined, disabled, failed;
    uint64_t calls, faults;
};

const char *nano_sandbox_state_name(enum nano_sandbox_state s);

#if NANO_WITH_WASM

/* Returns NANO_OK and *sb_out (Returns owned; free with nano_sandbox_free),
 * or -ENOMEM.  Keeps loop and bus; copies state_dir (NULL: nothing is
 * persisted, the key-value stores live in memory only). */
int  nano_sandbox_new(struct nano_loop *loop, struct nano_bus *bus,
                      const char *state_dir, struct nano_sandbox **sb_out);

/* Unloads every module (flushing key-value stores first).  NULL is a
 * no-op. */
void nano_sandbox_free(struct nano_sandbox *sb);

/* Route modules' set_pin through fn instead of the HAL (NULL: the HAL).
 * Keeps arg until the hook is replaced or sb is freed. */
void nano_sandbox_set_pin_hook(struct nano_sandbox *sb,
                               nano_sandbox_pin_fn *fn, void *arg);

/*
 * nano_sandbox_validate - check a `sandbox:` section (a map of module name
 * -> settings) without changing anything: schema, names, filters, and that
 * each module's file exists and is a valid module that fits the host
 * interface.  Relative `file:` paths are relative to the directory of
 * config_path (NULL: the working directory).
 * Returns NANO_OK or NANO_ESCHEMA with d filled (line:col of the culprit).
 */
int  nano_sandbox_validate(const struct nano_cfg_node *section,
                           const char *config_path, struct nano_diag *d);

/*
 * nano_sandbox_apply_config - make the running set match a validated
 * section (NULL: none) plus the persisted run-time changes.  A module
 * whose settings and bytes are unchanged keeps running untouched; a
 * changed one is hot-swapped (its old version stays if the new one fails);
 * one no longer configured is unloaded.  Problems are logged and shown as
 * state "failed"; nothing here stops the daemon.  Keeps section (to know
 * which modules the config declares) until the next apply or
 * nano_sandbox_free(): free the old config only after applying the new
 * one.  Modules keep copies of their settings.
 */
int  nano_sandbox_apply_config(struct nano_sandbox *sb,
                               const struct nano_cfg_node *section,
                               const char *config_path);

/* Read sandbox.json from the state directory.  A missing file is fine; a
 * corrupt one is reported in d, set aside, and ignored (NANO_ECORRUPT so
 * the caller can log it). */
int  nano_sandbox_load_state(struct nano_sandbox *sb, struct nano_diag *d);

/*
 * nano_sandbox_load - start a module at run time from wasm[0..len) with
 * settings (a map with the same keys as a config entry, without `file`).
 * The module is validated, instantiated and its init run before anything
 * is kept; on any failure nothing is installed and d says why.
 * NANO_EEXISTS for a name in use, NANO_ESCHEMA for bad settings, -EINVAL
 * for a module that does not load or link, NANO_ETRAP when its start
 * function or init trapped, -E2BIG for a module over the size limit.
 * Persisted.  Borrows settings and wasm (copied).
 */
int  nano_sandbox_load(struct nano_sandbox *sb, const char *name,
                       const struct nano_cfg_node *settings,
                       const uint8_t *wasm, size_t len, struct nano_diag *d);

/* Replace a module's code, keeping its settings, subscriptions (with the
 * messages queued on them) and key-value store.  On failure the running
 * version stays and d says why (errors as for load; NANO_ENOTFOUND for an
 * unknown name).  A successful reload also ends a quarantine.  Persisted.
 * Borrows wasm (copied). */
int  nano_sandbox_reload(struct nano_sandbox *sb, const char *name,
                         const uint8_t *wasm, size_t len, struct nano_diag *d);

/* Remove a module, its persisted bytes and its key-value store.
 * NANO_ENOTFOUND for an unknown name.  Persisted: a config module stays
 * unloaded while its config entry exists, and loads again once the entry
 * has been removed from the config (SIGHUP) and added back. */
int  nano_sandbox_unload(struct nano_sandbox *sb, const char *name);

/* Enable (also: end a quarantine and forget past faults) or disable.
 * A module that failed to load stays failed: enable answers -EINVAL.
 * Persisted.  NANO_ENOTFOUND for an unknown name. */
int  nano_sandbox_set_enabled(struct nano_sandbox *sb, const char *name,
                              bool enabled);

/* JSON views for the API: every module, or one (NANO_ENOTFOUND).  Borrows
 * w; writes one array or object. */
void nano_sandbox_write_list(struct nano_sandbox *sb, struct nano_json *w);
int  nano_sandbox_write_one(struct nano_sandbox *sb, const char *name,
                            struct nano_json *w);

/* NANO_OK and *out (a copy), or NANO_ENOTFOUND. */
int  nano_sandbox_module_stats(const struct nano_sandbox *sb, const char *name,
                               struct nano_sandbox_module_stats *out);

void nano_sandbox_get_stats(const struct nano_sandbox *sb,
                            struct nano_sandbox_stats *out);

/* Write every dirty key-value store to disk now (shutdown, tests). */
void nano_sandbox_flush(struct nano_sandbox *sb);

/*
 * nano_sandbox_check - does wasm[0..len) load, validate and fit the host
 * interface (imports only from "nano" with the right signatures; exports
 * on_message, init, nano_inbox and nano_inbox_size with theirs)?
 * Returns NANO_OK, or -EINVAL / -E2BIG with d->msg saying what is wrong.
 * When report is not NULL, appends one line per import and export used.
 * Pure: no daemon needed (nanoctl sandbox build calls it).  Borrows all.
 */
int  nano_sandbox_check(const uint8_t *wasm, size_t len,
                        struct nano_buf *report, struct nano_diag *d);

#else /* !NANO_WITH_WASM: stubs, so call sites need no #if */

static inline int
nano_sandbox_new(struct nano_loop *loop, struct nano_bus *bus,
                 const char *state_dir, struct nano_sandbox **sb_out)
{
    (void)loop; (void)bus; (void)state_dir;
    *sb_out = NULL;
    return NANO_OK;
}

static inline void nano_sandbox_free(struct nano_sandbox *sb) { (void)sb; }

static inline void
nano_sandbox_set_pin_hook(struct nano_sandbox *sb, nano_sandbox_pin_fn *fn,
                          void *arg)
{
    (void)sb; (void)fn; (void)arg;
}

/* An empty section is fine; a module needs the engine. */
static inline int
nano_sandbox_validate(const struct nano_cfg_node *section,
                      const char *config_path, struct nano_diag *d)
{
    (void)config_path;
    if (!section || section->kind != NANO_CFG_MAP || !section->count)
        return NANO_OK;
    return nano_diag_set(d, NANO_ESCHEMA, section->child->key_line,
                         section->child->key_col, "module '%s': this build "
                         "has no WebAssembly engine (profile %s)",
                         section->child->key, NANO_PROFILE);
}

static inline int
nano_sandbox_apply_config(struct nano_sandbox *sb,
                          const struct nano_cfg_node *section,
                          const char *config_path)
{
    (void)sb; (void)section; (void)config_path;
    return NANO_OK;
}

static inline int
nano_sandbox_load_state(struct nano_sandbox *sb, struct nano_diag *d)
{
    (void)sb; (void)d;
    return NANO_OK;
}

static inline int
nano_sandbox_check(const uint8_t *wasm, size_t len, struct nano_buf *report,
                   struct nano_diag *d)
{
    (void)wasm; (void)len; (void)report;
    return nano_diag_set(d, NANO_EDISABLED, 0, 0, "this build has no "
                         "WebAssembly engine (profile %s)", NANO_PROFILE);
}

static inline void nano_sandbox_flush(struct nano_sandbox *sb) { (void)sb; }

static inline void
nano_sandbox_get_stats(const struct nano_sandbox *sb,
                       struct nano_sandbox_stats *out)
{
    (void)sb;
    *out = (struct nano_sandbox_stats){ 0 };
}

#endif /* NANO_WITH_WASM */

#endif
