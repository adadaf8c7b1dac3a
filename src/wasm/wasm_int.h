/* SPDX-License-Identifier: MIT
 *
 * wasm_int.h - declarations shared by the files of src/wasm/ only.
 *
 * Data flow: decode.c turns the binary into a struct nano_wasm_module
 * (sections, with function bodies left as byte ranges); validate.c checks
 * types; compile.c turns each body into internal code (union wasm__cell
 * arrays); instance.c links and initialises instances and implements the
 * call API; interp.c runs internal code.
 *
 * Ownership: everything a module allocates lives in its arena (one list of
 * blocks freed together by nano_wasm_module_free()); names are copied into
 * it, data segments and bodies point into the caller's bytes (kept, see
 * wasm.h).  Runtime objects (memories, tables, globals) are refcounted
 * because instances share them through imports.
 */
#ifndef NANO_WASM_INT_H
#define NANO_WASM_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm.h"

#if defined(__GNUC__)
#define WASM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define WASM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WASM_LIKELY(x)   (x)
#define WASM_UNLIKELY(x) (x)
#endif

/* Threaded dispatch with computed goto under GCC and clang; a switch
 * elsewhere (or with -DNANO_WASM_COMPUTED_GOTO=0). */
#ifndef NANO_WASM_COMPUTED_GOTO
#if defined(__GNUC__)
#define NANO_WASM_COMPUTED_GOTO 1
#else
#define NANO_WASM_COMPUTED_GOTO 0
#endif
#endif

/* Implementation limits (beyond the spec's), checked by decode/validate. */
#define WASM_MAX_LOCALS      50000u     /* params + locals per function */
#define WASM_MAX_FUNC_SLOTS  65000u     /* locals + operand stack depth */
#define WASM_MAX_PAGES       65536u     /* 4 GiB */
#define WASM_PAGE_SIZE       65536u
#define WASM_MAX_TABLE       10000000u  /* spec tables are u32; we cap */
#define WASM_MAX_RESULTS     64u        /* results a host call may return */

/* ---- opcode tables (from ops.def) ----------------------------------------- */

enum wasm__imm {
    WASM_IMM_NONE, WASM_IMM_BLOCKTYPE, WASM_IMM_LABEL, WASM_IMM_BR_TABLE,
    WASM_IMM_FUNC, WASM_IMM_CALL_IND, WASM_IMM_SELECT_T, WASM_IMM_LOCAL,
    WASM_IMM_GLOBAL, WASM_IMM_TABLE, WASM_IMM_MEMARG, WASM_IMM_MEM0,
    WASM_IMM_I32, WASM_IMM_I64, WASM_IMM_F32, WASM_IMM_F64, WASM_IMM_REFTYPE,
    WASM_IMM_MEM_INIT, WASM_IMM_DATA, WASM_IMM_MEM_COPY, WASM_IMM_TABLE_INIT,
    WASM_IMM_ELEM, WASM_IMM_TABLE_COPY,
};

/* WebAssembly operators, in ops.def order. */
enum wasm__op {
#define WASM_OP(name, pfx, code, imm, pop, push, cls, feat) WASM_OP_##name,
#include "ops.def"
    WASM_OP_COUNT
};

/* Internal instructions: every WASM_OP row that has a same-named handler
 * (classes H, N, L*, S*), then every WASM_IOP row. */
#define WASM__IOP_X(n)
#define WASM__IOP_H(n)  WASM_IOP_##n,
#define WASM__IOP_N(n)  WASM_IOP_##n,
#define WASM__IOP_L1(n) WASM_IOP_##n,
#define WASM__IOP_L2(n) WASM_IOP_##n,
#define WASM__IOP_L4(n) WASM_IOP_##n,
#define WASM__IOP_L8(n) WASM_IOP_##n,
#define WASM__IOP_S1(n) WASM_IOP_##n,
#define WASM__IOP_S2(n) WASM_IOP_##n,
#define WASM__IOP_S4(n) WASM_IOP_##n,
#define WASM__IOP_S8(n) WASM_IOP_##n,
enum wasm__iop {
#define WASM_OP(name, pfx, code, imm, pop, push, cls, feat) WASM__IOP_##cls(name)
#define WASM_IOP(name, base, variant) WASM_IOP_##name,
#include "ops.def"
    WASM_IOP_COUNT
};

/* Static facts about each WebAssembly operator (decode.c). */
struct wasm__opinfo {
    const char *name;      /* "i32.add" style */
    uint8_t     pfx;
    uint32_t    code;
    uint8_t     imm;       /* enum wasm__imm */
    uint8_t     cls;       /* WASM_CLS_* */
    uint8_t     width;     /* L/S: access bytes */
    uint8_t     feat;      /* NANO_WASM_FEAT_* bit, 0 for MVP */
    const char *pop, *push;
};
enum { WASM_CLS_X, WASM_CLS_H, WASM_CLS_N, WASM_CLS_L, WASM_CLS_S };
extern const struct wasm__opinfo wasm__ops[WASM_OP_COUNT];

/* ---- code cells ------------------------------------------------------------ */

/* One word of internal code: an instruction's handler, or an operand. */
union wasm__cell {
    const void             *op;     /* threaded: handler label address */
    uintptr_t               opn;    /* switch: enum wasm__iop */
    uint32_t                u32;    /* slot index, table index, count ... */
    int32_t                 i32;
    const union wasm__cell *target; /* branch target */
    const void             *ptr;    /* struct wasm__code *, type, ... */
};
/* 64-bit immediates take one cell on 64-bit hosts and two on 32-bit. */
#define WASM_IMM64_CELLS ((8 + sizeof(union wasm__cell) - 1) / sizeof(union wasm__cell))

/* Compiled code of one defined function.  Frame layout (slots of one
 * union nano_wasm_val each, from fp): params, declared locals, then the
 * operand stack; frame_size covers all three. */
struct wasm__code {
    union wasm__cell *cells;
    uint32_t ncells;
    uint32_t nparams;
    uint32_t nlocals;      /* declared locals */
    uint32_t zero_from;    /* locals [zero_from, zero_from + zero_count) */
    uint32_t zero_count;   /* must be zeroed on entry; the others are
                              always written before they are read */
    uint32_t nresults;
    uint32_t frame_size;
    uint32_t func_idx;
};

/* Returns the handler for an internal instruction (interp.c): a label
 * address when threaded, the number itself otherwise. */
const void *wasm__handler(enum wasm__iop iop);
const char *wasm__iop_name(enum wasm__iop iop);

/* ---- arena ------------------------------------------------------------------ */

struct wasm__arena {
    struct wasm__arena_blk *head;
    size_t used_total;
};
void *wasm__arena_alloc(struct wasm__arena *a, size_t n);   /* zeroed */
void  wasm__arena_free(struct wasm__arena *a);

/* ---- module ------------------------------------------------------------------ */

struct wasm__functype {
    uint32_t nparams, nresults;
    uint8_t *params;       /* value type codes */
    uint8_t *results;
    uint32_t hash;         /* quick structural comparison */
    uint32_t off;          /* byte offset in the module, for messages */
};
bool wasm__functype_eq(const struct wasm__functype *a,
                       const struct wasm__functype *b);

struct wasm__limits {
    uint32_t min, max;     /* max = UINT32_MAX when absent */
    bool     has_max;
    uint32_t off;          /* for messages */
};

struct wasm__tabletype {
    uint8_t elem;          /* FUNCREF / EXTERNREF */
    struct wasm__limits lim;
};

struct wasm__globaltype {
    uint8_t type;
    uint8_t mut;
};

/* A constant expression: 2.0 allows one of these (plus `end`). */
enum { WASM_CE_CONST, WASM_CE_GLOBAL, WASM_CE_REF_NULL, WASM_CE_REF_FUNC };
struct wasm__cexpr {
    uint8_t kind;
    uint8_t type;          /* result type */
    uint32_t idx;          /* global or function index */
    union nano_wasm_val v; /* CONST */
    uint32_t off;          /* for messages */
};

struct wasm__import {
    const char *module, *name;     /* NUL-terminated copies */
    uint32_t module_len, name_len;
    uint8_t kind;                  /* NANO_WASM_EXTERN_* */
    uint32_t index;                /* index in its own index space */
    uint32_t off;                  /* for messages */
    union {
        uint32_t type_idx;         /* FUNC */
        struct wasm__tabletype table;
        struct wasm__limits mem;
        struct wasm__globaltype global;
    } d;
};

struct wasm__export {
    const char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
    uint32_t off;                  /* for messages */
};

struct wasm__func {                /* a defined function */
    uint32_t type_idx;
    const uint8_t *body;           /* instruction bytes (after locals) */
    size_t body_len;
    size_t body_off;               /* offset of body in the module */
    uint32_t nlocals;              /* declared locals (not params) */
    uint8_t *local_types;
};

enum { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

struct wasm__elem {
    uint8_t mode;
    uint8_t type;                  /* FUNCREF / EXTERNREF */
    uint32_t table;
    struct wasm__cexpr offset;
    uint32_t count;
    struct wasm__cexpr *items;
    size_t off;                    /* for messages */
};

struct wasm__data {
    uint8_t mode;
    uint32_t mem;
    struct wasm__cexpr offset;
    const uint8_t *bytes;          /* borrowed from the module bytes */
    uint32_t len;
    uint32_t off;                  /* for messages */
};

struct nano_wasm_module {
    int refs;                      /* atomic; see nano_wasm_module_free */
    const uint8_t *bytes;          /* kept, see wasm.h */
    size_t len;
    uint32_t features;             /* enabled NANO_WASM_FEAT_* */
    struct wasm__arena arena;

    struct wasm__functype *types;
    uint32_t ntypes;

    struct wasm__import *imports;
    uint32_t nimports;

    /* function index space: imports first */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_type;           /* type index per function */
    struct wasm__func *funcs;      /* defined: funcs[i - nfunc_imports] */
    struct wasm__code *code;       /* compiled, same indexing as funcs */
    uint8_t *func_declared;        /* ref.func allowed (C.refs) */

    uint32_t ntables, ntable_imports;
    struct wasm__tabletype *tables;

    uint32_t nmems, nmem_imports;
    struct wasm__limits *mems;

    uint32_t nglobals, nglobal_imports;
    struct wasm__globaltype *globals;
    struct wasm__cexpr *global_init;   /* defined: [i - nglobal_imports] */

    struct wasm__export *exports;
    uint32_t nexports;

    bool has_start;
    uint32_t start, start_off;

    struct wasm__elem *elems;
    uint32_t nelems;

    struct wasm__data *datas;
    uint32_t ndatas;
    bool has_datacount;
    uint32_t datacount;
};

/* decode.c */
struct wasm__reader {
    const uint8_t *p, *end;
    const uint8_t *base;           /* module start, for offsets */
    struct nano_wasm_error *err;
    uint32_t features;
};
int  wasm__fail(struct wasm__reader *r, const uint8_t *at, const char *fmt, ...)
     __attribute__((format(printf, 3, 4)));
/* The same as an expression whose value the compiler can see. */
#define WASM_FAIL(r, at, ...) (wasm__fail(r, at, __VA_ARGS__), -EINVAL)
int  wasm__read_u32(struct wasm__reader *r, uint32_t *v);
int  wasm__decode_module(struct nano_wasm_module *m, struct wasm__reader *r);

/* One decoded instruction (immediates by kind, see ops.def). */
struct wasm__instr {
    uint16_t op;                   /* enum wasm__op */
    const uint8_t *at;             /* first byte of the instruction */
    uint32_t a, b;                 /* index / align / table / ... */
    uint32_t offset;               /* memarg offset */
    int64_t  bt;                   /* blocktype: -64 empty, <0 valtype, >=0 index */
    union nano_wasm_val v;         /* constants */
    uint32_t count;                /* br_table: labels (without default) */
    const uint8_t *vec;            /* br_table: start of the label vector */
};
#define WASM_BT_EMPTY (-64)
int  wasm__read_instr(struct wasm__reader *r, struct wasm__instr *in);

/* validate.c */
int  wasm__validate_module(struct nano_wasm_module *m, struct nano_wasm_error *err);
bool wasm__is_ref(uint8_t t);

/* compile.c */
int  wasm__compile_func(struct nano_wasm_module *m, uint32_t def_idx,
                        struct nano_wasm_error *err);

/* Block type arity helpers (validate.c, compile.c). */
void wasm__blocktype(const struct nano_wasm_module *m, int64_t bt,
                     uint32_t *nparams, const uint8_t **params,
                     uint32_t *nresults, const uint8_t **results);

/* ---- runtime objects (instance.c) ------------------------------------------ */

struct wasm__memory {
    int refs;
    uint8_t *data;
    uint64_t size;                 /* bytes = pages * 64 KiB */
    uint32_t pages, max_pages;     /* max_pages: min(declared, limit) */
    uint32_t decl_max;             /* declared max or UINT32_MAX */
};

struct wasm__table {
    int refs;
    uint8_t type;
    uint32_t size, max;            /* max: min(declared, limit) */
    uint32_t decl_max;
    void **elems;                  /* struct nano_wasm_func * or externref */
};

struct wasm__global {
    int refs;
    uint8_t type, mut;
    union nano_wasm_val v;
};

/* A function value (funcref).  Wasm functions carry their instance and
 * code; host functions their callback. */
struct nano_wasm_func {
    const struct wasm__functype *type;
    struct nano_wasm_instance *inst;   /* owner (wasm) / NULL (host) */
    const struct wasm__code *code;     /* NULL for host functions */
    nano_wasm_host_fn *host;
    void *user;
};

/* One activation on the call stack (interp.c). */
struct wasm__frame {
    const union wasm__cell *pc;        /* return address */
    union nano_wasm_val *fp;           /* caller's frame */
    struct nano_wasm_instance *inst;   /* caller's instance */
};

/* Execution state of one call into an instance (reused between calls). */
struct wasm__exec {
    union nano_wasm_val *stack, *stack_end;
    struct wasm__frame *frames, *frames_end;
    uint64_t fuel_limit;               /* 0 = none */
    uint64_t fuel_left;                /* not yet handed to the interpreter */
    uint64_t fuel_used;
    int64_t  deadline_ns;              /* CLOCK_MONOTONIC; 0 = none */
    bool     busy;
    struct nano_wasm_trap *trap;
};

struct nano_wasm_instance {
    int refs;
    struct nano_wasm_module *mod;
    struct nano_wasm_limits lim;
    void *user;

    struct nano_wasm_func **funcs;     /* index space */
    struct nano_wasm_func *own_funcs;  /* defined and host-import objects */
    struct wasm__memory **mems;
    struct wasm__memory *mem0;         /* mems[0] or NULL */
    struct wasm__table **tables;
    struct wasm__global **globals;
    bool *elem_dropped;
    bool *data_dropped;

    struct nano_wasm_instance **deps;  /* instances we import from (refs) */
    uint32_t ndeps;

    struct wasm__exec ex;
};

struct nano_wasm_call_ctx {
    struct nano_wasm_instance *inst;
    struct nano_wasm_trap *trap;
};

/* Runtime objects: constructors return refcount 1 or NULL (-ENOMEM);
 * unref frees at zero and accepts NULL. */
struct wasm__memory *wasm__memory_new(uint32_t min, uint32_t decl_max, uint32_t limit);
void wasm__memory_unref(struct wasm__memory *m);
struct wasm__table *wasm__table_new(uint8_t type, uint32_t min, uint32_t decl_max,
                                    uint32_t limit);
void wasm__table_unref(struct wasm__table *t);
struct wasm__global *wasm__global_new(uint8_t type, uint8_t mut);
void wasm__global_unref(struct wasm__global *g);

/* What an import resolved to (host.c). */
struct wasm__extern {
    uint8_t kind;
    struct nano_wasm_instance *owner;  /* exporting instance, or NULL */
    struct nano_wasm_func *func;       /* owner's function */
    struct wasm__functype host_type;   /* host function */
    nano_wasm_host_fn *host_fn;
    void *host_user;
    struct wasm__global *global;
    struct wasm__memory *mem;
    struct wasm__table *table;
};
int wasm__resolve(const struct nano_wasm_imports *imp,
                  const struct wasm__import *im, struct wasm__extern *out);

/* interp.c: run f (a wasm function) with its arguments already in fp[];
 * results are left in fp[0..nresults).  Returns 0 or NANO_WASM_ETRAP. */
int wasm__run(struct wasm__exec *ex, struct nano_wasm_func *f,
              union nano_wasm_val *fp);

/* instance.c helpers used by the interpreter. */
int  wasm__trap(struct wasm__exec *ex, enum nano_wasm_trap_kind k,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int  wasm__call_host(struct wasm__exec *ex, struct nano_wasm_func *f,
                     struct nano_wasm_instance *caller,
                     union nano_wasm_val *args);
int32_t wasm__memory_grow(struct wasm__memory *mem, uint32_t delta);
int32_t wasm__table_grow(struct wasm__table *t, uint32_t delta, void *init);
int64_t wasm__now_ns(void);
void wasm__bulk_fuel(struct wasm__exec *ex, uint64_t units);

/* Little-endian memory access that works on any host byte order. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WASM_BSWAP16(x) __builtin_bswap16(x)
#define WASM_BSWAP32(x) __builtin_bswap32(x)
#define WASM_BSWAP64(x) __builtin_bswap64(x)
#else
#define WASM_BSWAP16(x) (x)
#define WASM_BSWAP32(x) (x)
#define WASM_BSWAP64(x) (x)
#endif

#endif /* NANO_WASM_INT_H */
