/* SPDX-License-Identifier: MIT
 *
 * sandbox_int.h - what the sandbox's files share (not for other modules).
 *
 *   sandbox.c   the manager: config and API operations, the persisted
 *               overlay, JSON views
 *   run.c       a module's versions (load, link, init, swap), message
 *               delivery, faults and quarantine
 *   host.c      the imports of module "nano" (the host interface)
 *   kv.c        the per-module key-value store and its state file
 *   abi.c       the host interface's table and nano_sandbox_check()
 *   settings.c  the settings schema and its parser
 *
 * Ownership: the manager owns every struct sb_module; a module owns its
 * settings document, its current version (bytes, engine module, instance),
 * its bus subscriptions and its key-value store.  A version owns the
 * module bytes because the engine keeps pointers into them
 * (nano_wasm_module_load: "Keeps bytes").
 */
#ifndef NANO_SANDBOX_SANDBOX_INT_H
#define NANO_SANDBOX_SANDBOX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "core/loop.h"
#include "sandbox/sandbox.h"
#include "wasm/wasm.h"

struct nano_bus;
struct nano_cfg_doc;
struct nano_metric;
struct nano_msg;
struct nano_sub;
struct nano_wasm_imports;

#define SB_LOG             "sandbox"
#define SB_STATE_FILE      "sandbox.json"
#define SB_STATE_SUBDIR    "sandbox"       /* <state>/sandbox/<name>.wasm|.kv */
#define SB_MAX_FILTERS     16              /* subscriptions, and each grant list */
#define SB_MAX_FAULTS      64              /* ceiling of max_faults */
#define SB_INBOX_MIN       256             /* a whole topic always fits */
#define SB_KV_KEY_MAX      64
#define SB_KV_KEYS_MAX     256
#define SB_KV_FLUSH_MS     1000            /* dirty store reaches disk within */
#define SB_STACK_BYTES     (32u * 1024)    /* engine value stack per instance */
#define SB_CALL_DEPTH      256             /* wasm frames per call */
#define SB_INIT_FACTOR     10              /* init's budget vs one message's */
#define SB_SLICE_MSGS      64              /* messages per module per turn */
#define SB_SLICE_NS        (5ull * 1000000)/* ... or this long, then yield */
#define SB_LOG_BURST       20              /* module log lines at once ... */
#define SB_LOG_PER_S       10              /* ... then this many per second */

_Static_assert(NANO_SANDBOX_TRAP_KINDS == NANO_WASM_TRAP_LINK + 1,
               "one counter per engine trap kind");

/* Module return codes (docs/wasm-abi.md, examples/include/nano.h). */
enum {
    SB_OK          = 0,
    SB_E_DENIED    = -1,
    SB_E_NOTFOUND  = -2,
    SB_E_INVAL     = -3,
    SB_E_LIMIT     = -4,
    SB_E_AMBIGUOUS = -5,
    SB_E_UNAVAIL   = -6,
    SB_E_TYPE      = -7,
};

/* A module's settings, parsed.  Strings point into the settings document
 * they came from (Borrows: valid while it lives). */
struct sb_settings {
    const char *file;                     /* config entries only */
    uint64_t    fuel;                     /* 0: no fuel limit */
    uint32_t    deadline_ms;              /* 0: no deadline */
    uint32_t    memory_pages;             /* ceiling, 64 KiB pages */
    uint32_t    queue;
    uint32_t    max_faults;
    uint64_t    window_ns;
    uint32_t    kv_max;
    uint32_t    max_publish;
    bool        enabled;
    unsigned    nsub, npub, nread, npins;
    const char *sub[SB_MAX_FILTERS];
    const char *pub[SB_MAX_FILTERS];
    const char *read[SB_MAX_FILTERS];
    const char *pins[SB_MAX_FILTERS];
};

/* One loaded version of a module's code. */
struct sb_version {
    uint8_t                   *bytes;     /* owned; the engine points into it */
    size_t                     len;
    uint32_t                   crc;
    struct nano_wasm_module   *mod;       /* owned */
    struct nano_wasm_instance *inst;      /* owned */
    struct nano_wasm_func     *on_message;/* borrowed from inst; may be NULL */
    uint32_t                   inbox, inbox_size;  /* 0, 0: no inbox */
};

struct sb_kv_ent {
    char    *key;                          /* owned, NUL-terminated */
    uint8_t *val;                          /* owned (NULL when vlen is 0) */
    uint32_t klen, vlen;
};

struct sb_kv {
    struct sb_kv_ent *ents;                /* owned */
    uint32_t          n, cap;
    uint32_t          bytes;               /* sum of klen + vlen */
    bool              dirty;
};

/* A set of module names (owned strings). */
struct sb_names {
    char   **v;
    unsigned n, cap;
};

struct sb_module {
    struct nano_list      link;
    struct nano_sandbox  *sb;
    char                  name[NANO_SANDBOX_NAME_MAX + 1];
    bool                  from_config;     /* declared in the config file */
    bool                  installed;       /* from the API: in the overlay */
    enum nano_sandbox_state state;
    struct nano_cfg_doc  *conf;            /* owned: root is the settings map */
    char                 *conf_json;       /* owned: canonical text of conf */
    struct sb_settings    set;             /* parsed conf */
    const struct sb_settings *grants;      /* what the running call may do:
                                              &set, or a candidate's in init */
    struct sb_version    *cur;             /* owned; NULL when failed */
    uint32_t              file_crc;        /* config module: bytes last tried */
    size_t                file_len;

    struct nano_sub      *subs[SB_MAX_FILTERS];  /* owned by the bus */
    unsigned              nsubs;
    struct nano_work      drain;           /* pops the subscriptions */

    /* the call in progress */
    const struct nano_msg *msg;            /* Borrows: NULL outside on_message */
    int32_t               msg_info;
    uint32_t              call_publishes;

    /* faults: timestamps of the latest, a ring of max_faults entries */
    uint64_t              fault_ns[SB_MAX_FAULTS];
    unsigned              fault_head, fault_count;
    uint64_t              fault_log_ns;    /* last fault line logged */
    uint64_t              fault_log_skipped;

    /* module log lines: a token bucket */
    double                log_tokens;
    uint64_t              log_refill_ns;
    uint64_t              log_dropped;

    struct nano_sandbox_module_stats st;
    uint64_t              fuel_last;
    char                  last_error[200];
    int64_t               last_error_us;   /* wall clock */
    int64_t               loaded_us;       /* wall clock of the running version */

    struct sb_kv          kv;
    struct nano_timer     kv_flush;

    struct nano_metric   *m_calls, *m_denied, *m_dropped, *m_published;
    struct nano_metric   *m_call_ns, *m_quarantined;
    struct nano_metric   *m_traps[NANO_SANDBOX_TRAP_KINDS];  /* on first use */
};

struct nano_sandbox {
    struct nano_loop         *loop;
    struct nano_bus          *bus;
    char                     *state_dir;   /* owned; NULL: no persistence */
    char                     *module_dir;  /* owned: <state_dir>/sandbox */
    struct nano_list          modules;
    struct nano_wasm_imports *imports;     /* owned: the "nano" functions */
    nano_sandbox_pin_fn      *pin_fn;
    void                     *pin_arg;
    const struct nano_cfg_node *config;    /* Borrows: the section last applied */
    char                     *config_path; /* owned copy; NULL: none */
    /* overlay: config modules the API removed, and modules the API
     * disabled or enabled against their settings' `enabled:` */
    struct sb_names           removed, disabled, enabled;
};

/* ---- settings.c -------------------------------------------------------------- */

/* Schema of one module's settings (the item of the `sandbox:` map). */
extern const struct nano_cfg_field sb_module_fields[];

enum sb_file_rule {
    SB_FILE_ANY,         /* already validated: take what is there */
    SB_FILE_REQUIRED,    /* a config entry names its .wasm file */
    SB_FILE_FORBIDDEN,   /* API and overlay: the bytes come separately */
};

/* Validate a settings map (what names it in messages, e.g. "module
 * 'filter'") and parse it into *out (may be NULL).  NANO_OK or
 * NANO_ESCHEMA with d filled. */
int  sb_settings_parse(const struct nano_cfg_node *map, const char *what,
                       enum sb_file_rule file, struct sb_settings *out,
                       struct nano_diag *d);

bool sb_valid_name(const char *s);

/* Resolve a config entry's file against the config file's directory. */
void sb_resolve_path(const char *config_path, const char *file, char *out,
                     size_t cap);

/* Read a whole module file (at most NANO_SANDBOX_MODULE_MAX bytes).
 * Returns NANO_OK with *bytes_out (Returns owned; nano_free), -E2BIG, or
 * -errno. */
int  sb_read_file(const char *path, uint8_t **bytes_out, size_t *len_out);

/* ---- abi.c --------------------------------------------------------------------- */

/* The host interface: every import of module "nano", one row each, with
 * its signature in the engine's notation (docs/wasm-abi.md has the
 * meaning).  abi.c checks modules against it; host.c implements it. */
#define SB_IMPORTS(X)                                                         \
    X(publish,      "(iiF)i")   /* topic, len, number */                      \
    X(publish_text, "(iiii)i")  /* topic, len, text, len */                   \
    X(publish_json, "(iiii)i")  /* topic, len, json, len */                   \
    X(log,          "(iii)i")   /* level, text, len */                        \
    X(time_wall_us, "()I")                                                    \
    X(time_mono_us, "()I")                                                    \
    X(read,         "(iii)i")   /* name, len, f64 out */                      \
    X(read_text,    "(iiii)i")  /* name, len, buf, cap */                     \
    X(set_pin,      "(iii)i")   /* pin, len, level */                         \
    X(kv_get,       "(iiii)i")  /* key, len, buf, cap */                      \
    X(kv_set,       "(iiii)i")  /* key, len, value, len */                    \
    X(kv_del,       "(ii)i")    /* key, len */                                \
    X(msg_info,     "()i")

/* Exports the host looks for. */
#define SB_ON_MESSAGE_SIG "(iiFii)"

/* The import set offered to every module (host.c).  Returns NANO_OK and
 * *imp_out (Returns owned; nano_wasm_imports_free), or -ENOMEM. */
int  sb_imports_build(struct nano_wasm_imports **imp_out);

/* ---- run.c --------------------------------------------------------------------- */

/* Load, link and initialise a version for m with settings s (the
 * candidate's; m's own are untouched).  Returns NANO_OK and *v_out
 * (Returns owned; sb_version_free), or an error with d filled.  Takes
 * bytes (freed on failure too). */
int  sb_version_create(struct sb_module *m, const struct sb_settings *s,
                       uint8_t *bytes, size_t len, struct sb_version **v_out,
                       struct nano_diag *d);
void sb_version_free(struct sb_version *v);

/* Make v (with settings doc conf, Takes both) the running version of m:
 * subscriptions are brought in line with the new settings (kept where the
 * filter stays, so their queues survive), then v replaces the old version
 * and the module runs again.  On error nothing changed except that v and
 * conf were freed. */
int  sb_module_swap(struct sb_module *m, struct sb_version *v,
                    struct nano_cfg_doc *conf, struct nano_diag *d);

/* Prepare m's embedded work item (once, when m is allocated). */
void sb_module_init_work(struct sb_module *m);

/* Drop every subscription (queued messages go with them). */
void sb_module_unsubscribe(struct sb_module *m);

/* A call trapped or failed: count, log (rate-limited), maybe quarantine. */
void sb_module_fault(struct sb_module *m, enum nano_wasm_trap_kind kind,
                     const char *where, const char *msg);

void sb_module_set_state(struct sb_module *m, enum nano_sandbox_state s);

void sb_module_error(struct sb_module *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Metrics named nano_sandbox_*{module="<name>"}. */
void sb_module_metrics(struct sb_module *m);
void sb_module_metrics_remove(struct sb_module *m);

/* ---- sandbox.c ------------------------------------------------------------------ */

/* Should m run?  The overlay's enable/disable wins over the settings. */
bool sb_want_enabled(const struct sb_module *m);

/* ---- host.c --------------------------------------------------------------------- */

/* Count a denied import on m. */
void sb_denied(struct sb_module *m);

/* ---- kv.c ------------------------------------------------------------------------- */

/* Returns the entry for key or NULL. */
const struct sb_kv_ent *sb_kv_get(const struct sb_kv *kv, const char *key,
                                  uint32_t klen);
/* NANO_OK, -ENOSPC (over max bytes or SB_KV_KEYS_MAX keys), -ENOMEM. */
int  sb_kv_set(struct sb_kv *kv, const char *key, uint32_t klen,
               const void *val, uint32_t vlen, uint32_t max);
/* NANO_OK or NANO_ENOTFOUND. */
int  sb_kv_del(struct sb_kv *kv, const char *key, uint32_t klen);
bool sb_kv_key_ok(const char *key, uint32_t klen);
void sb_kv_free(struct sb_kv *kv);

/* <dir>/<name>.kv: NANO_OK (also when missing), NANO_ECORRUPT (set aside),
 * or -errno.  Load replaces the store's contents. */
int  sb_kv_load(struct sb_kv *kv, const char *dir, const char *name,
                struct nano_diag *d);
int  sb_kv_save(struct sb_kv *kv, const char *dir, const char *name);

/* Mark m's store changed: it reaches disk within SB_KV_FLUSH_MS. */
void sb_kv_touch(struct sb_module *m);
/* Write m's store now if it changed. */
void sb_kv_flush(struct sb_module *m);

#endif
