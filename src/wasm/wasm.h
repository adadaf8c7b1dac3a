/* SPDX-License-Identifier: MIT
 *
 * wasm.h - Nano's WebAssembly engine: the whole public API.
 *
 * A standalone library (libc only, nothing else from Nano) that loads,
 * validates, compiles and runs WebAssembly 1.0 modules plus the 2.0
 * features sign-extension, non-trapping float-to-int, multi-value, bulk
 * memory and reference types (no SIMD).
 *
 * Life cycle:
 *
 *     nano_wasm_module_load()      decode + validate + compile, once
 *     nano_wasm_imports_new()      host functions / objects the module needs
 *     nano_wasm_instantiate()      link, allocate memory/tables/globals, run
 *                                  segments and the start function (a module
 *                                  can be instantiated any number of times)
 *     nano_wasm_call()             run an exported function, bounded by
 *                                  fuel, a deadline and a call-depth limit
 *     nano_wasm_instance_free(), nano_wasm_imports_free(),
 *     nano_wasm_module_free()      in any order (instances keep what they use)
 *
 * Errors: functions return 0 or a negative errno-style code, and fill a
 * struct nano_wasm_error (load) or struct nano_wasm_trap (link, run) with a
 * human-readable message.  NANO_WASM_ETRAP has the value of Nano's
 * NANO_ETRAP so the service layer can pass it through unchanged.
 *
 * Threads: a module may be shared by threads once loaded (it is read-only).
 * An instance, and everything reached through it, belongs to one thread at a
 * time.
 *
 * Values cross the API as union nano_wasm_val; the interpreter's stack slots
 * have exactly this layout, so host functions read their arguments in place.
 */
#ifndef NANO_WASM_H
#define NANO_WASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NANO_WASM_ETRAP (-4099) /* the call trapped (same value as NANO_ETRAP) */

/* Value types, with their binary encoding. */
enum nano_wasm_type {
    NANO_WASM_I32       = 0x7f,
    NANO_WASM_I64       = 0x7e,
    NANO_WASM_F32       = 0x7d,
    NANO_WASM_F64       = 0x7c,
    NANO_WASM_FUNCREF   = 0x70,
    NANO_WASM_EXTERNREF = 0x6f,
};

/* One value.  `ref` is NULL for a null reference; a funcref is an opaque
 * pointer owned by the instance it came from, an externref is whatever
 * pointer the host passed in (the engine never dereferences it). */
union nano_wasm_val {
    int32_t  i32;
    uint32_t u32;
    int64_t  i64;
    uint64_t u64;
    float    f32;
    double   f64;
    void    *ref;
};

/* Feature bits, for nano_wasm_limits.features_off. */
#define NANO_WASM_FEAT_SIGNEXT  0x01u  /* sign-extension operators */
#define NANO_WASM_FEAT_SATCONV  0x02u  /* non-trapping float-to-int */
#define NANO_WASM_FEAT_MULTI    0x04u  /* multi-value */
#define NANO_WASM_FEAT_BULK     0x08u  /* bulk memory (and 2.0 segment rules) */
#define NANO_WASM_FEAT_REF      0x10u  /* reference types */
#define NANO_WASM_FEAT_ALL      0x1fu  /* features_off = this: strict 1.0 */

/*
 * Limits.  Every field may be 0, which means "the default" shown here; a
 * NULL limits pointer means all defaults.  The loader reads features_off;
 * nano_wasm_instantiate() reads the rest and copies them into the instance.
 */
struct nano_wasm_limits {
    uint32_t max_memory_pages; /* per memory, 64 KiB pages; default 1024
                                  (64 MiB); larger `min` fails to link, grow
                                  past it returns -1 */
    uint32_t max_table_size;   /* elements per table; default 65536 */
    uint32_t max_call_depth;   /* wasm frames per call; default 1000 */
    uint32_t stack_bytes;      /* value stack per instance; default 256 KiB */
    uint64_t fuel;             /* per nano_wasm_call: units (one per call
                                  and per taken backward branch); 0 = none */
    uint32_t timeout_ms;       /* per nano_wasm_call wall clock; 0 = none */
    uint32_t features_off;     /* NANO_WASM_FEAT_* to reject at load */
};

/* Load and validation errors (also used for the CLI and tools). */
struct nano_wasm_error {
    size_t offset;       /* byte offset in the module (a binary has no lines) */
    char   msg[128];
};

/* Why a call stopped.  One row per kind: name and spec message. */
#define NANO_WASM_TRAP_KINDS(X)                                               \
    X(NONE,            "none",            "no trap")                          \
    X(UNREACHABLE,     "unreachable",     "unreachable")                      \
    X(MEMORY_OOB,      "memory",          "out of bounds memory access")      \
    X(TABLE_OOB,       "table",           "out of bounds table access")       \
    X(UNINIT_ELEM,     "uninitialized",   "uninitialized element")            \
    X(INDIRECT_TYPE,   "indirect-type",   "indirect call type mismatch")      \
    X(DIV_ZERO,        "div-zero",        "integer divide by zero")           \
    X(INT_OVERFLOW,    "overflow",        "integer overflow")                 \
    X(INVALID_CONV,    "conversion",      "invalid conversion to integer")    \
    X(STACK_EXHAUSTED, "stack",           "call stack exhausted")             \
    X(OUT_OF_FUEL,     "fuel",            "out of fuel")                      \
    X(DEADLINE,        "deadline",        "deadline exceeded")                \
    X(HOST,            "host",            "host function failed")             \
    X(LINK,            "link",            "link error")

enum nano_wasm_trap_kind {
#define NANO_WASM_TRAP_ENUM(k, name, text) NANO_WASM_TRAP_##k,
    NANO_WASM_TRAP_KINDS(NANO_WASM_TRAP_ENUM)
#undef NANO_WASM_TRAP_ENUM
};

/* A trap, or (kind LINK) why instantiation failed before anything ran. */
struct nano_wasm_trap {
    enum nano_wasm_trap_kind kind;
    char msg[128];
};

/* Returns a static short name ("memory", "fuel", ...). */
const char *nano_wasm_trap_name(enum nano_wasm_trap_kind kind);

/* Returns a static name ("i32", "externref", ...) or "?". */
const char *nano_wasm_type_name(enum nano_wasm_type t);

/* ---- modules ----------------------------------------------------------- */

struct nano_wasm_module;

/*
 * nano_wasm_module_load - decode, validate and compile a binary module.
 *
 * Every malformed or invalid module is rejected: returns -EINVAL with
 * err->msg and err->offset set (the offset of the offending byte), -E2BIG
 * if an implementation limit is passed (e.g. too many locals), -ENOMEM.
 * On success returns 0 and *mod_out (Returns owned; free with
 * nano_wasm_module_free()).  Each function is translated once, here, into
 * the interpreter's internal code.
 *
 * Keeps bytes until nano_wasm_module_free(): data segments and custom
 * sections are referred to, not copied.  The bytes are never written.
 * Borrows lim (only features_off is read).
 */
int nano_wasm_module_load(const uint8_t *bytes, size_t len,
                          const struct nano_wasm_limits *lim,
                          struct nano_wasm_module **mod_out,
                          struct nano_wasm_error *err);

/* Frees mod.  Instances made from it keep it alive (refcounted), so this
 * may be called while they still run.  NULL is a no-op. */
void nano_wasm_module_free(struct nano_wasm_module *mod);

enum nano_wasm_extern_kind {
    NANO_WASM_EXTERN_FUNC   = 0,
    NANO_WASM_EXTERN_TABLE  = 1,
    NANO_WASM_EXTERN_MEMORY = 2,
    NANO_WASM_EXTERN_GLOBAL = 3,
};

/* An import or export, as seen by nano_wasm_module_import()/_export().
 * Every pointer is borrowed and valid until the module is freed; names are
 * NUL-terminated copies (name_len excludes the NUL; a name may contain NUL
 * bytes, so compare with the lengths when it matters). */
struct nano_wasm_extern_info {
    enum nano_wasm_extern_kind kind;
    const char    *module;       /* imports only; NULL for exports */
    size_t         module_len;
    const char    *name;
    size_t         name_len;
    /* FUNC: the signature */
    uint32_t       nparams, nresults;
    const uint8_t *params;       /* enum nano_wasm_type codes */
    const uint8_t *results;
    /* TABLE / MEMORY: limits (max = UINT32_MAX when absent) */
    uint32_t       min, max;
    /* TABLE element type, GLOBAL value type */
    uint8_t        type;
    uint8_t        mut;          /* GLOBAL: 1 if mutable */
};

size_t nano_wasm_module_import_count(const struct nano_wasm_module *mod);
size_t nano_wasm_module_export_count(const struct nano_wasm_module *mod);

/* Fill *out for import/export i.  Returns 0 or -ENOENT if i is too big. */
int nano_wasm_module_import(const struct nano_wasm_module *mod, size_t i,
                            struct nano_wasm_extern_info *out);
int nano_wasm_module_export(const struct nano_wasm_module *mod, size_t i,
                            struct nano_wasm_extern_info *out);

/* Write a function signature in the import-string notation, e.g. "(ii)I",
 * to buf (always NUL-terminated when cap > 0).  Returns buf.  Borrows info. */
char *nano_wasm_sig_string(const struct nano_wasm_extern_info *info,
                           char *buf, size_t cap);

/* Print the internal code of every defined function to out: one line per
 * instruction with its slots, immediates and branch targets (a debugging
 * and tuning aid; the format is not stable).  Borrows mod and out. */
void nano_wasm_module_dump(const struct nano_wasm_module *mod, FILE *out);

/* ---- imports and host functions ------------------------------------------ */

struct nano_wasm_imports;
struct nano_wasm_instance;
struct nano_wasm_call_ctx;

/*
 * A host function.  args holds the parameters (read them in place; they may
 * be overwritten once the callback writes results), results receives the
 * results.  Return 0 on success.  Any other value traps the wasm caller
 * with kind HOST; set a message first with nano_wasm_ctx_trap().
 * Context: runs on the thread that called into the instance; must not call
 * back into the same instance (that returns -EBUSY).
 */
typedef int nano_wasm_host_fn(struct nano_wasm_call_ctx *ctx,
                              const union nano_wasm_val *args,
                              union nano_wasm_val *results, void *user);

/* Returns owned (free with nano_wasm_imports_free()) or NULL on -ENOMEM. */
struct nano_wasm_imports *nano_wasm_imports_new(void);

/* Frees the set.  Instances already linked keep what they took. */
void nano_wasm_imports_free(struct nano_wasm_imports *imp);

/*
 * nano_wasm_imports_add_func - offer a host function as module.name.
 *
 * sig is "(params)results" with one letter per value: i i32, I i64, f f32,
 * F f64, r externref, R funcref; e.g. "(iiii)i", "()", "(F)fi".  A module's
 * import must have exactly this type or linking fails.
 * Returns 0, -EINVAL (bad signature), -EEXIST (name taken), -ENOMEM.
 * Borrows module, name and sig (copied).  Keeps user until every instance
 * linked against it is freed.
 */
int nano_wasm_imports_add_func(struct nano_wasm_imports *imp,
                               const char *module, const char *name,
                               const char *sig, nano_wasm_host_fn *fn,
                               void *user);

/* A host global of type t, initial value v.  Returns as above. */
int nano_wasm_imports_add_global(struct nano_wasm_imports *imp,
                                 const char *module, const char *name,
                                 enum nano_wasm_type t, int mutable_,
                                 union nano_wasm_val v);

/* A host memory of min pages, at most max (UINT32_MAX: no maximum). */
int nano_wasm_imports_add_memory(struct nano_wasm_imports *imp,
                                 const char *module, const char *name,
                                 uint32_t min, uint32_t max);

/* A host table of reference type t (FUNCREF/EXTERNREF), all null. */
int nano_wasm_imports_add_table(struct nano_wasm_imports *imp,
                                const char *module, const char *name,
                                enum nano_wasm_type t, uint32_t min,
                                uint32_t max);

/* Make every export of inst importable as module.<export name> (the spec's
 * "register").  Keeps inst (takes a reference) until imp is freed. */
int nano_wasm_imports_add_instance(struct nano_wasm_imports *imp,
                                   const char *module,
                                   struct nano_wasm_instance *inst);

/* ---- instances ------------------------------------------------------------ */

/*
 * nano_wasm_instantiate - link mod against imp and initialise an instance.
 *
 * Returns 0 and *inst_out (Returns owned; free with
 * nano_wasm_instance_free()), or:
 *   -ENOENT  an import is missing          (trap->kind LINK)
 *   -EINVAL  an import has the wrong type  (trap->kind LINK)
 *   -E2BIG   memory or table over lim      (trap->kind LINK)
 *   -ENOMEM
 *   NANO_WASM_ETRAP  a segment or the start function trapped (trap->kind
 *                    says why).  *inst_out is still set and must be freed:
 *                    under 2.0 rules its earlier writes to imported tables
 *                    and memories stay visible, and such a table may now
 *                    refer to its functions, so keep it while those are used.
 * On the other errors *inst_out is NULL and nothing ran.
 * trap may be NULL.  Borrows imp and lim (limits are copied).  Keeps mod
 * (takes a reference) and whatever it imports from other instances.
 */
int nano_wasm_instantiate(struct nano_wasm_module *mod,
                          const struct nano_wasm_imports *imp,
                          const struct nano_wasm_limits *lim,
                          struct nano_wasm_instance **inst_out,
                          struct nano_wasm_trap *trap);

/* Drops the caller's reference; the instance goes when no importer uses it.
 * Must not be called from inside a call into it.  NULL is a no-op. */
void nano_wasm_instance_free(struct nano_wasm_instance *inst);

/* Returns borrowed: the module the instance was made from. */
const struct nano_wasm_module *
nano_wasm_instance_module(const struct nano_wasm_instance *inst);

/* An opaque pointer for the embedder (e.g. its service state). */
void  nano_wasm_instance_set_user(struct nano_wasm_instance *inst, void *user);
void *nano_wasm_instance_user(const struct nano_wasm_instance *inst);

/* Replace the fuel and deadline of later calls (0 = unlimited / none). */
void nano_wasm_instance_set_budget(struct nano_wasm_instance *inst,
                                   uint64_t fuel, uint32_t timeout_ms);

/* Fuel used by the last call into inst (exact when a fuel limit is set). */
uint64_t nano_wasm_instance_fuel_used(const struct nano_wasm_instance *inst);

/* ---- calling ---------------------------------------------------------------- */

struct nano_wasm_func;

/* Returns borrowed (valid while inst lives) or NULL if there is no exported
 * function of that name.  name_len variant for names with NUL bytes. */
struct nano_wasm_func *nano_wasm_find_func(struct nano_wasm_instance *inst,
                                           const char *name);
struct nano_wasm_func *nano_wasm_find_func_n(struct nano_wasm_instance *inst,
                                             const char *name,
                                             size_t name_len);

/* Signature of f: counts and borrowed type arrays (any pointer may be NULL). */
void nano_wasm_func_type(const struct nano_wasm_func *f, uint32_t *nparams,
                         const uint8_t **params, uint32_t *nresults,
                         const uint8_t **results);

/*
 * nano_wasm_call_func - run f with args; results receive its results.
 *
 * nargs and nresults must equal the function's counts (-EINVAL otherwise).
 * Returns 0, NANO_WASM_ETRAP (trap filled; trap may be NULL), -EBUSY when
 * called from inside a host function of the same instance, -ELOOP past 8
 * nested host-to-wasm calls on one thread, -ENOMEM when the value stack
 * (allocated at the first call, lim.stack_bytes) cannot be allocated.  A
 * trap leaves the instance usable; the next call starts afresh.
 * Borrows args; f must come from inst (or an instance it imports from).
 * funcref arguments must be NULL or values this engine returned.
 */
int nano_wasm_call_func(struct nano_wasm_instance *inst,
                        struct nano_wasm_func *f,
                        const union nano_wasm_val *args, size_t nargs,
                        union nano_wasm_val *results, size_t nresults,
                        struct nano_wasm_trap *trap);

/* The same by export name.  Returns -ENOENT if there is no such function. */
int nano_wasm_call(struct nano_wasm_instance *inst, const char *name,
                   const union nano_wasm_val *args, size_t nargs,
                   union nano_wasm_val *results, size_t nresults,
                   struct nano_wasm_trap *trap);

/* ---- exported globals -------------------------------------------------------- */

/* Read an exported global.  Returns 0 (and *type if not NULL) or -ENOENT. */
int nano_wasm_global_get(struct nano_wasm_instance *inst, const char *name,
                         size_t name_len, union nano_wasm_val *v,
                         uint8_t *type);
/* Write an exported mutable global.  -ENOENT, or -EPERM if immutable. */
int nano_wasm_global_set(struct nano_wasm_instance *inst, const char *name,
                         size_t name_len, union nano_wasm_val v);

/* ---- linear memory (bounds-checked) ------------------------------------------ */

/* Returns borrowed: memory 0's bytes and size (*len 0 and NULL when the
 * instance has no memory).  Valid until the next call into the instance
 * (memory.grow may move it). */
uint8_t *nano_wasm_memory(struct nano_wasm_instance *inst, size_t *len);

/* Returns borrowed: a pointer to [addr, addr+len) in memory 0, or NULL if
 * that range is not entirely inside it.  Valid as above. */
void *nano_wasm_memory_ptr(struct nano_wasm_instance *inst, uint64_t addr,
                           uint64_t len);

/* Copy out of / into memory 0.  Return 0 or -EFAULT (nothing copied). */
int nano_wasm_memory_read(struct nano_wasm_instance *inst, uint64_t addr,
                          void *buf, size_t len);
int nano_wasm_memory_write(struct nano_wasm_instance *inst, uint64_t addr,
                           const void *buf, size_t len);

/* ---- inside a host function ---------------------------------------------------- */

/* Returns borrowed: the instance whose code called the host function (use it
 * with the memory helpers above). */
struct nano_wasm_instance *nano_wasm_ctx_instance(struct nano_wasm_call_ctx *ctx);

/* Returns borrowed: the user pointer of that instance. */
void *nano_wasm_ctx_user(struct nano_wasm_call_ctx *ctx);

/* Shorthand: nano_wasm_memory_ptr() on the calling instance. */
void *nano_wasm_ctx_mem(struct nano_wasm_call_ctx *ctx, uint64_t addr,
                        uint64_t len);

/* Set the message of the HOST trap the callback is about to cause.
 * Returns -1, so a callback can `return nano_wasm_ctx_trap(ctx, "...")`. */
int nano_wasm_ctx_trap(struct nano_wasm_call_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* NANO_WASM_H */
