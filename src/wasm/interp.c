/* SPDX-License-Identifier: MIT
 *
 * interp.c - runs the internal code made by compile.c.
 *
 * Dispatch: with GCC or clang each cell that starts an instruction holds the
 * address of its handler label, and every handler ends in its own indirect
 * jump (`goto *pc->op`), so the branch predictor sees one jump per handler.
 * Elsewhere the same handler bodies become the cases of a switch
 * (NANO_WASM_COMPUTED_GOTO=0).  The label table is generated from ops.def,
 * so an internal instruction without a handler does not compile.
 *
 * Machine state lives in C locals that the compiler keeps in registers:
 * pc, fp (frame base: locals then operand slots, see compile.c), the
 * current instance, its memory base and size (reloaded whenever the
 * instance changes or foreign code may have grown the memory), and the fuel
 * counter.
 *
 * Calls never recurse on the C stack: a call pushes {return pc, caller fp,
 * caller instance} on a bounded frame array and jumps; return pops.  Both
 * the frame array (max_call_depth) and the value stack (stack_bytes) are
 * checked on every call, and running out is the STACK_EXHAUSTED trap.  The
 * callee's frame starts at the caller's first argument slot, so arguments
 * are passed in place and results come back in the same slots.
 *
 * Fuel: one unit per call and per taken backward branch (loop iteration);
 * the counter is a local handed out in chunks, and each refill checks the
 * deadline, so the clock is read at most once per chunk.
 *
 * Memory accesses compute a 64-bit effective address and compare it with
 * the memory size (explicit bounds checks: portable to 32-bit hosts, no
 * signal handlers, no address-space reservation).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wasm_int.h"

#if NANO_WASM_COMPUTED_GOTO
static const void *const *handler_table;
#endif

static const char *const iop_names[WASM_IOP_COUNT] = {
#define NM_X(n)
#define NM_H(n)  [WASM_IOP_##n] = #n,
#define NM_N  NM_H
#define NM_L1 NM_H
#define NM_L2 NM_H
#define NM_L4 NM_H
#define NM_L8 NM_H
#define NM_S1 NM_H
#define NM_S2 NM_H
#define NM_S4 NM_H
#define NM_S8 NM_H
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) NM_##cls(n)
#define WASM_IOP(n, base, variant) [WASM_IOP_##n] = #n,
#include "ops.def"
};

const char *
wasm__iop_name(enum wasm__iop iop)
{
    return (unsigned)iop < WASM_IOP_COUNT && iop_names[iop] ? iop_names[iop] : "?";
}

const void *
wasm__handler(enum wasm__iop iop)
{
#if NANO_WASM_COMPUTED_GOTO
    const void *const *t = __atomic_load_n(&handler_table, __ATOMIC_ACQUIRE);

    if (!t) {
        wasm__run(NULL, NULL, NULL);
        t = __atomic_load_n(&handler_table, __ATOMIC_ACQUIRE);
    }
    return t[iop];
#else
    return (const void *)(uintptr_t)iop;
#endif
}

/* ---- numeric helpers (spec 4.3) ------------------------------------------------- */

static inline uint64_t
imm64(const union wasm__cell *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static inline float
wasm_fminf(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;                       /* a quiet NaN */
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline float
wasm_fmaxf(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline double
wasm_fmin(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline double
wasm_fmax(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* libm may hand a signalling NaN back unchanged; the spec wants it quiet. */
#define ROUND(fn, a) (isnan(a) ? (a) + (a) : fn(a))

/* Saturating truncations (non-trapping float-to-int). */
static inline int32_t
sat_i32(double a)
{
    if (isnan(a)) return 0;
    if (a <= -2147483649.0) return INT32_MIN;
    if (a >= 2147483648.0) return INT32_MAX;
    return (int32_t)a;
}

static inline uint32_t
sat_u32(double a)
{
    if (isnan(a) || a <= -1.0) return 0;
    if (a >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)a;
}

static inline int64_t
sat_i64(double a)
{
    if (isnan(a)) return 0;
    if (a < -9223372036854775808.0) return INT64_MIN;
    if (a >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)a;
}

static inline uint64_t
sat_u64(double a)
{
    if (isnan(a) || a <= -1.0) return 0;
    if (a >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)a;
}

static inline uint32_t
rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}

static inline uint32_t
rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a >> b) | (a << ((32 - b) & 31));
}

static inline uint64_t
rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a << b) | (a >> ((64 - b) & 63));
}

static inline uint64_t
rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a >> b) | (a << ((64 - b) & 63));
}

/* Zero the locals that may be read before written (usually none; see
 * compile.c).  Short runs are stored inline: a loop here would become a
 * call to memset. */
static inline void
zero_locals(union nano_wasm_val *fp, const struct wasm__code *cd)
{
    union nano_wasm_val *z = fp + cd->zero_from;

    switch (cd->zero_count) {
    case 0:
        return;
    case 1:
        z[0].u64 = 0;
        return;
    case 2:
        z[0].u64 = z[1].u64 = 0;
        return;
    case 3:
        z[0].u64 = z[1].u64 = z[2].u64 = 0;
        return;
    default:
        memset(z, 0, cd->zero_count * sizeof *z);
        return;
    }
}

/* ---- fuel ---------------------------------------------------------------------------- */

#define FUEL_CHUNK 10000

/* Hand the next chunk of the budget to the interpreter's counter.
 * Returns the units left after charging the current one, or -1 with *kind
 * set when the budget is spent. */
static int64_t
handout(struct wasm__exec *ex, enum nano_wasm_trap_kind *kind)
{
    uint64_t chunk;

    if (!ex->fuel_limit) {
        chunk = ex->deadline_ns ? FUEL_CHUNK : ((uint64_t)1 << 40);
    } else {
        if (ex->fuel_left == 0) {
            *kind = NANO_WASM_TRAP_OUT_OF_FUEL;
            return -1;
        }
        chunk = ex->fuel_left < FUEL_CHUNK ? ex->fuel_left : FUEL_CHUNK;
        ex->fuel_left -= chunk;
    }
    ex->fuel_used += chunk;                 /* handed out; unused part is
                                               subtracted at exit */
    return (int64_t)chunk - 1;
}

/* A chunk ran out: check the deadline, then hand out the next one. */
static int64_t
refuel(struct wasm__exec *ex, enum nano_wasm_trap_kind *kind)
{
    if (ex->deadline_ns && wasm__now_ns() >= ex->deadline_ns) {
        *kind = NANO_WASM_TRAP_DEADLINE;
        return -1;
    }
    return handout(ex, kind);
}

/* ---- the interpreter ------------------------------------------------------------------ */

#if NANO_WASM_COMPUTED_GOTO
#define OP(n)   L_##n:
#define NEXT()  goto *pc->op
#else
#define OP(n)   case WASM_IOP_##n:
#define NEXT()  goto dispatch
#endif

#define R(i)    (fp[pc[i].u32])             /* slot operand */
#define U(i)    (pc[i].u32)                 /* 32-bit immediate */
#define IMM64(i) imm64(&pc[i])
#define C64     ((int)WASM_IMM64_CELLS)

#define TRAP(k)       do { tk = NANO_WASM_TRAP_##k; goto trap; } while (0)
#define TICK()                                                              \
    do {                                                                    \
        if (WASM_UNLIKELY(--fuel < 0)) {                                    \
            fuel = refuel(ex, &tk);                                         \
            if (fuel < 0) {                                                 \
                fuel = 0;                                                   \
                goto trap;                                                  \
            }                                                               \
        }                                                                   \
    } while (0)
#define RELOAD()                                                            \
    do {                                                                    \
        mbase = inst->mem0->data;                                           \
        msize = inst->mem0->size;                                           \
        G = inst->globals;                                                  \
    } while (0)

/* handler shapes */
#define UN(n, T, inf, outf, expr)                                           \
    OP(n) { T a = R(2).inf; R(1).outf = (expr); pc += 3; NEXT(); }
#define BIN(n, T, inf, outf, expr)                                          \
    OP(n) { T a = R(2).inf, b = R(3).inf; R(1).outf = (expr); pc += 4; NEXT(); }
#define BIN32I(n, T, inf, outf, expr)                                       \
    OP(n) { T a = R(2).inf, b = (T)U(3); R(1).outf = (expr); pc += 4; NEXT(); }
#define BIN64I(n, T, inf, outf, expr)                                       \
    OP(n) { T a = R(2).inf, b = (T)IMM64(3); R(1).outf = (expr);            \
            pc += 3 + C64; NEXT(); }
/* compare-and-branch: forward and backward (fuel), slot and immediate */
#define BRCMP(n, T, inf, cond)                                              \
    OP(br_##n) { T a = R(1).inf, b = R(2).inf;                              \
        if (cond) { pc = pc[3].target; NEXT(); } pc += 4; NEXT(); }         \
    OP(br_##n##_b) { T a = R(1).inf, b = R(2).inf;                          \
        if (cond) { pc = pc[3].target; TICK(); NEXT(); } pc += 4; NEXT(); }
#define BRCMP32I(n, T, inf, cond)                                           \
    OP(br_##n##_i) { T a = R(1).inf, b = (T)U(2);                           \
        if (cond) { pc = pc[3].target; NEXT(); } pc += 4; NEXT(); }         \
    OP(br_##n##_ib) { T a = R(1).inf, b = (T)U(2);                          \
        if (cond) { pc = pc[3].target; TICK(); NEXT(); } pc += 4; NEXT(); }
#define BRCMP64I(n, T, inf, cond)                                           \
    OP(br_##n##_i) { T a = R(1).inf, b = (T)IMM64(2);                       \
        if (cond) { pc = pc[2 + C64].target; NEXT(); } pc += 3 + C64; NEXT(); } \
    OP(br_##n##_ib) { T a = R(1).inf, b = (T)IMM64(2);                      \
        if (cond) { pc = pc[2 + C64].target; TICK(); NEXT(); }              \
        pc += 3 + C64; NEXT(); }
/* Loads and stores carry a wrapping add-immediate besides the offset, so
 * an `i32.add` of a constant feeding the address costs nothing:
 * ea = ((base + addimm) mod 2^32) + offset, checked against the size. */
#define LOAD(n, N, T, outf, conv)                                           \
    OP(n) {                                                                 \
        uint64_t ea = (uint64_t)(uint32_t)(R(2).u32 + U(3)) + U(4);         \
        T v;                                                                \
        if (WASM_UNLIKELY(ea + N > msize))                                  \
            TRAP(MEMORY_OOB);                                               \
        memcpy(&v, mbase + ea, N);                                          \
        R(1).outf = conv;                                                   \
        pc += 5;                                                            \
        NEXT();                                                             \
    }
#define STORE(n, N, T, conv)                                                \
    OP(n) {                                                                 \
        uint64_t ea = (uint64_t)(uint32_t)(R(1).u32 + U(3)) + U(4);         \
        T v = conv;                                                         \
        if (WASM_UNLIKELY(ea + N > msize))                                  \
            TRAP(MEMORY_OOB);                                               \
        memcpy(mbase + ea, &v, N);                                          \
        pc += 5;                                                            \
        NEXT();                                                             \
    }

int
wasm__run(struct wasm__exec *ex, struct nano_wasm_func *f, union nano_wasm_val *fp)
{
#if NANO_WASM_COMPUTED_GOTO
#define LBL_X(n)
#define LBL_H(n)  [WASM_IOP_##n] = &&L_##n,
#define LBL_N  LBL_H
#define LBL_L1 LBL_H
#define LBL_L2 LBL_H
#define LBL_L4 LBL_H
#define LBL_L8 LBL_H
#define LBL_S1 LBL_H
#define LBL_S2 LBL_H
#define LBL_S4 LBL_H
#define LBL_S8 LBL_H
    static const void *const labels[WASM_IOP_COUNT] = {
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) LBL_##cls(n)
#define WASM_IOP(n, base, variant) [WASM_IOP_##n] = &&L_##n,
#include "ops.def"
    };
    if (!ex) {
        /* publish the label table; racing threads store the same value */
        __atomic_store_n(&handler_table, labels, __ATOMIC_RELEASE);
        return 0;
    }
#endif
    const union wasm__cell *pc;
    struct wasm__frame *csp = ex->frames;
    struct wasm__frame *const cs_base = ex->frames, *const cs_end = ex->frames_end;
    union nano_wasm_val *const stack_end = ex->stack_end;
    struct nano_wasm_instance *inst = f->inst;
    struct wasm__global **G;
    uint8_t *mbase;
    uint64_t msize;
    int64_t fuel = 0;
    enum nano_wasm_trap_kind tk = NANO_WASM_TRAP_NONE;
    const struct wasm__code *cd = f->code;
    struct nano_wasm_func *fn;
    union nano_wasm_val *nfp;

    RELOAD();
    if ((size_t)(stack_end - fp) < cd->frame_size)
        TRAP(STACK_EXHAUSTED);
    zero_locals(fp, cd);
    pc = cd->cells;
    /* the first chunk needs no clock check: the deadline was just set */
    fuel = handout(ex, &tk);
    if (fuel < 0) {
        fuel = 0;
        goto trap;
    }
#if NANO_WASM_COMPUTED_GOTO
    NEXT();
#else
dispatch:
    switch ((enum wasm__iop)pc->opn) {
#endif

    /* ---- data movement ---------------------------------------------------- */
    OP(copy)    { R(1) = R(2); pc += 3; NEXT(); }
    OP(const32) { R(1).u32 = U(2); pc += 3; NEXT(); }
    OP(const64) { R(1).u64 = IMM64(2); pc += 2 + C64; NEXT(); }
    OP(select)  { R(1) = R(4).u32 ? R(2) : R(3); pc += 5; NEXT(); }

    /* ---- control ----------------------------------------------------------- */
    OP(trap)    { tk = (enum nano_wasm_trap_kind)U(1); goto trap; }
    OP(br)      { pc = pc[1].target; NEXT(); }
    OP(br_back) { pc = pc[1].target; TICK(); NEXT(); }
    OP(br_if)   { if (R(1).u32) { pc = pc[2].target; NEXT(); } pc += 3; NEXT(); }
    OP(br_ifz)  { if (!R(1).u32) { pc = pc[2].target; NEXT(); } pc += 3; NEXT(); }
    OP(br_if_back)  { if (R(1).u32) { pc = pc[2].target; TICK(); NEXT(); } pc += 3; NEXT(); }
    OP(br_ifz_back) { if (!R(1).u32) { pc = pc[2].target; TICK(); NEXT(); } pc += 3; NEXT(); }
    OP(br_i64nz) { if (R(1).u64) { pc = pc[2].target; NEXT(); } pc += 3; NEXT(); }
    OP(br_i64z)  { if (!R(1).u64) { pc = pc[2].target; NEXT(); } pc += 3; NEXT(); }
    OP(br_i64nz_back) { if (R(1).u64) { pc = pc[2].target; TICK(); NEXT(); } pc += 3; NEXT(); }
    OP(br_i64z_back)  { if (!R(1).u64) { pc = pc[2].target; TICK(); NEXT(); } pc += 3; NEXT(); }
    OP(br_table) {
        uint32_t i = R(1).u32, n = U(2);
        pc = pc[3 + (i < n ? i : n)].target;
        TICK();
        NEXT();
    }

    OP(ret1) { fp[0] = R(1); goto do_ret; }
    OP(ret) {
do_ret:
        if (csp == cs_base)
            goto done;
        csp--;
        pc = csp->pc;
        fp = csp->fp;
        if (WASM_UNLIKELY(csp->inst != inst)) {
            inst = csp->inst;
            RELOAD();
        }
        NEXT();
    }

    OP(call) {
        cd = pc[1].ptr;
        nfp = fp + U(2);
        if (WASM_UNLIKELY((size_t)(stack_end - nfp) < cd->frame_size || csp == cs_end))
            TRAP(STACK_EXHAUSTED);
        csp->pc = pc + 3;
        csp->fp = fp;
        csp->inst = inst;
        csp++;
        zero_locals(nfp, cd);
        fp = nfp;
        pc = cd->cells;
        TICK();
        NEXT();
    }
    OP(call_import) {
        fn = inst->funcs[U(1)];
        nfp = fp + U(2);
        pc += 3;
        goto do_call;
    }
    OP(call_indirect) {
        struct wasm__table *t = inst->tables[U(1)];
        const struct wasm__functype *want = pc[2].ptr;
        uint32_t i = R(4).u32;
        if (WASM_UNLIKELY(i >= t->size)) {
            wasm__trap(ex, NANO_WASM_TRAP_TABLE_OOB, "undefined element");
            TRAP(TABLE_OOB);
        }
        fn = t->elems[i];
        if (WASM_UNLIKELY(!fn))
            TRAP(UNINIT_ELEM);
        if (WASM_UNLIKELY(fn->type != want && !wasm__functype_eq(fn->type, want)))
            TRAP(INDIRECT_TYPE);
        nfp = fp + U(3);
        pc += 5;
        goto do_call;
    }

    /* ---- variables ----------------------------------------------------------- */
    OP(global_get) { R(1) = G[U(2)]->v; pc += 3; NEXT(); }
    OP(global_set) { G[U(1)]->v = R(2); pc += 3; NEXT(); }

    /* ---- references and tables --------------------------------------------------- */
    OP(ref_is_null) { R(1).u32 = R(2).ref == NULL; pc += 3; NEXT(); }
    OP(ref_func)    { R(1).u64 = 0; R(1).ref = inst->funcs[U(2)]; pc += 3; NEXT(); }
    OP(table_get) {
        struct wasm__table *t = inst->tables[U(3)];
        uint32_t i = R(2).u32;
        if (WASM_UNLIKELY(i >= t->size))
            TRAP(TABLE_OOB);
        R(1).u64 = 0;
        R(1).ref = t->elems[i];
        pc += 4;
        NEXT();
    }
    OP(table_set) {
        struct wasm__table *t = inst->tables[U(3)];
        uint32_t i = R(1).u32;
        if (WASM_UNLIKELY(i >= t->size))
            TRAP(TABLE_OOB);
        t->elems[i] = R(2).ref;
        pc += 4;
        NEXT();
    }
    OP(table_size) { R(1).u32 = inst->tables[U(2)]->size; pc += 3; NEXT(); }
    OP(table_grow) {
        void *init = R(2).ref;
        uint32_t n = R(3).u32;
        R(1).i32 = wasm__table_grow(inst->tables[U(4)], n, init);
        pc += 5;
        NEXT();
    }
    OP(table_fill) {
        struct wasm__table *t = inst->tables[U(4)];
        uint32_t i = R(1).u32, n = R(3).u32;
        void *v = R(2).ref;
        if (WASM_UNLIKELY((uint64_t)i + n > t->size))
            TRAP(TABLE_OOB);
        for (uint32_t k = 0; k < n; k++)
            t->elems[i + k] = v;
        pc += 5;
        NEXT();
    }
    OP(table_copy) {
        struct wasm__table *td = inst->tables[U(4)], *ts = inst->tables[U(5)];
        uint32_t d = R(1).u32, s = R(2).u32, n = R(3).u32;
        if (WASM_UNLIKELY((uint64_t)d + n > td->size || (uint64_t)s + n > ts->size))
            TRAP(TABLE_OOB);
        if (n)
            memmove(td->elems + d, ts->elems + s, (size_t)n * sizeof(void *));
        pc += 6;
        NEXT();
    }
    OP(table_init) {
        const struct wasm__elem *seg = &inst->mod->elems[U(4)];
        struct wasm__table *t = inst->tables[U(5)];
        uint32_t d = R(1).u32, s = R(2).u32, n = R(3).u32;
        uint32_t segn = inst->elem_dropped[U(4)] ? 0 : seg->count;
        if (WASM_UNLIKELY((uint64_t)d + n > t->size || (uint64_t)s + n > segn))
            TRAP(TABLE_OOB);
        for (uint32_t k = 0; k < n; k++) {
            const struct wasm__cexpr *ce = &seg->items[s + k];
            void *v = NULL;
            if (ce->kind == WASM_CE_REF_FUNC)
                v = inst->funcs[ce->idx];
            else if (ce->kind == WASM_CE_GLOBAL)
                v = inst->globals[ce->idx]->v.ref;
            t->elems[d + k] = v;
        }
        pc += 6;
        NEXT();
    }
    OP(elem_drop) { inst->elem_dropped[U(1)] = true; pc += 2; NEXT(); }

    /* ---- memory ------------------------------------------------------------------ */
    LOAD(i32_load,     4, uint32_t, u32, WASM_BSWAP32(v))
    LOAD(i64_load,     8, uint64_t, u64, WASM_BSWAP64(v))
    LOAD(f32_load,     4, uint32_t, u32, WASM_BSWAP32(v))
    LOAD(f64_load,     8, uint64_t, u64, WASM_BSWAP64(v))
    LOAD(i32_load8_s,  1, int8_t,   i32, v)
    LOAD(i32_load8_u,  1, uint8_t,  u32, v)
    LOAD(i32_load16_s, 2, uint16_t, i32, (int16_t)WASM_BSWAP16(v))
    LOAD(i32_load16_u, 2, uint16_t, u32, WASM_BSWAP16(v))
    LOAD(i64_load8_s,  1, int8_t,   i64, v)
    LOAD(i64_load8_u,  1, uint8_t,  u64, v)
    LOAD(i64_load16_s, 2, uint16_t, i64, (int16_t)WASM_BSWAP16(v))
    LOAD(i64_load16_u, 2, uint16_t, u64, WASM_BSWAP16(v))
    LOAD(i64_load32_s, 4, uint32_t, i64, (int32_t)WASM_BSWAP32(v))
    LOAD(i64_load32_u, 4, uint32_t, u64, WASM_BSWAP32(v))
    STORE(i32_store,   4, uint32_t, WASM_BSWAP32(R(2).u32))
    STORE(i64_store,   8, uint64_t, WASM_BSWAP64(R(2).u64))
    STORE(f32_store,   4, uint32_t, WASM_BSWAP32(R(2).u32))
    STORE(f64_store,   8, uint64_t, WASM_BSWAP64(R(2).u64))
    STORE(i32_store8,  1, uint8_t,  (uint8_t)R(2).u32)
    STORE(i32_store16, 2, uint16_t, WASM_BSWAP16((uint16_t)R(2).u32))
    STORE(i64_store8,  1, uint8_t,  (uint8_t)R(2).u64)
    STORE(i64_store16, 2, uint16_t, WASM_BSWAP16((uint16_t)R(2).u64))
    STORE(i64_store32, 4, uint32_t, WASM_BSWAP32((uint32_t)R(2).u64))

#define STORE_I(n, N, T, conv)                                              \
    OP(n) {                                                                 \
        uint64_t ea = (uint64_t)(uint32_t)(R(1).u32 + U(2)) + U(3);         \
        T v = conv;                                                         \
        if (WASM_UNLIKELY(ea + N > msize))                                  \
            TRAP(MEMORY_OOB);                                               \
        memcpy(mbase + ea, &v, N);                                          \
        pc += (N == 8) ? 4 + C64 : 5;                                       \
        NEXT();                                                             \
    }
    STORE_I(store8_i,  1, uint8_t,  (uint8_t)U(4))
    STORE_I(store16_i, 2, uint16_t, WASM_BSWAP16((uint16_t)U(4)))
    STORE_I(store32_i, 4, uint32_t, WASM_BSWAP32(U(4)))
    STORE_I(store64_i, 8, uint64_t, WASM_BSWAP64(IMM64(4)))

    OP(memory_size) { R(1).u32 = inst->mem0->pages; pc += 2; NEXT(); }
    OP(memory_grow) {
        R(1).i32 = wasm__memory_grow(inst->mem0, R(2).u32);
        RELOAD();
        pc += 3;
        NEXT();
    }
    OP(memory_fill) {
        uint32_t d = R(1).u32, n = R(3).u32;
        uint8_t v = (uint8_t)R(2).u32;
        if (WASM_UNLIKELY((uint64_t)d + n > msize))
            TRAP(MEMORY_OOB);
        if (n)
            memset(mbase + d, v, n);
        pc += 4;
        NEXT();
    }
    OP(memory_copy) {
        uint32_t d = R(1).u32, s = R(2).u32, n = R(3).u32;
        if (WASM_UNLIKELY((uint64_t)d + n > msize || (uint64_t)s + n > msize))
            TRAP(MEMORY_OOB);
        if (n)
            memmove(mbase + d, mbase + s, n);
        pc += 4;
        NEXT();
    }
    OP(memory_init) {
        const struct wasm__data *seg = &inst->mod->datas[U(4)];
        uint32_t d = R(1).u32, s = R(2).u32, n = R(3).u32;
        uint32_t segn = inst->data_dropped[U(4)] ? 0 : seg->len;
        if (WASM_UNLIKELY((uint64_t)d + n > msize || (uint64_t)s + n > segn))
            TRAP(MEMORY_OOB);
        if (n)
            memcpy(mbase + d, seg->bytes + s, n);
        pc += 5;
        NEXT();
    }
    OP(data_drop) { inst->data_dropped[U(1)] = true; pc += 2; NEXT(); }

    /* ---- i32 ------------------------------------------------------------------------ */
    UN(i32_eqz,   uint32_t, u32, u32, a == 0)
    BIN(i32_eq,   uint32_t, u32, u32, a == b)
    BIN(i32_ne,   uint32_t, u32, u32, a != b)
    BIN(i32_lt_s, int32_t,  i32, u32, a < b)
    BIN(i32_lt_u, uint32_t, u32, u32, a < b)
    BIN(i32_gt_s, int32_t,  i32, u32, a > b)
    BIN(i32_gt_u, uint32_t, u32, u32, a > b)
    BIN(i32_le_s, int32_t,  i32, u32, a <= b)
    BIN(i32_le_u, uint32_t, u32, u32, a <= b)
    BIN(i32_ge_s, int32_t,  i32, u32, a >= b)
    BIN(i32_ge_u, uint32_t, u32, u32, a >= b)
    UN(i32_clz,    uint32_t, u32, u32, a ? (uint32_t)__builtin_clz(a) : 32)
    UN(i32_ctz,    uint32_t, u32, u32, a ? (uint32_t)__builtin_ctz(a) : 32)
    UN(i32_popcnt, uint32_t, u32, u32, (uint32_t)__builtin_popcount(a))
    BIN(i32_add,  uint32_t, u32, u32, a + b)
    BIN(i32_sub,  uint32_t, u32, u32, a - b)
    BIN(i32_mul,  uint32_t, u32, u32, a * b)
    OP(i32_div_s) {
        int32_t a = R(2).i32, b = R(3).i32;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        if (WASM_UNLIKELY(a == INT32_MIN && b == -1))
            TRAP(INT_OVERFLOW);
        R(1).i32 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i32_div_u) {
        uint32_t a = R(2).u32, b = R(3).u32;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u32 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i32_rem_s) {
        int32_t a = R(2).i32, b = R(3).i32;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).i32 = b == -1 ? 0 : a % b;
        pc += 4;
        NEXT();
    }
    OP(i32_rem_u) {
        uint32_t a = R(2).u32, b = R(3).u32;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u32 = a % b;
        pc += 4;
        NEXT();
    }
    BIN(i32_and,   uint32_t, u32, u32, a & b)
    BIN(i32_or,    uint32_t, u32, u32, a | b)
    BIN(i32_xor,   uint32_t, u32, u32, a ^ b)
    BIN(i32_shl,   uint32_t, u32, u32, a << (b & 31))
    BIN(i32_shr_s, int32_t,  i32, i32, a >> (b & 31))
    BIN(i32_shr_u, uint32_t, u32, u32, a >> (b & 31))
    BIN(i32_rotl,  uint32_t, u32, u32, rotl32(a, b))
    BIN(i32_rotr,  uint32_t, u32, u32, rotr32(a, b))

    BIN32I(i32_add_i,   uint32_t, u32, u32, a + b)
    BIN32I(i32_sub_i,   uint32_t, u32, u32, a - b)
    BIN32I(i32_mul_i,   uint32_t, u32, u32, a * b)
    BIN32I(i32_and_i,   uint32_t, u32, u32, a & b)
    BIN32I(i32_or_i,    uint32_t, u32, u32, a | b)
    BIN32I(i32_xor_i,   uint32_t, u32, u32, a ^ b)
    BIN32I(i32_shl_i,   uint32_t, u32, u32, a << (b & 31))
    BIN32I(i32_shr_s_i, int32_t,  i32, i32, a >> (b & 31))
    BIN32I(i32_shr_u_i, uint32_t, u32, u32, a >> (b & 31))
    BIN32I(i32_rotl_i,  uint32_t, u32, u32, rotl32(a, b))
    BIN32I(i32_rotr_i,  uint32_t, u32, u32, rotr32(a, b))
    OP(i32_div_s_i) {
        int32_t a = R(2).i32, b = (int32_t)U(3);
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        if (WASM_UNLIKELY(a == INT32_MIN && b == -1))
            TRAP(INT_OVERFLOW);
        R(1).i32 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i32_rem_s_i) {
        int32_t a = R(2).i32, b = (int32_t)U(3);
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).i32 = b == -1 ? 0 : a % b;
        pc += 4;
        NEXT();
    }
    OP(i32_div_u_i) {
        uint32_t a = R(2).u32, b = U(3);
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u32 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i32_rem_u_i) {
        uint32_t a = R(2).u32, b = U(3);
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u32 = a % b;
        pc += 4;
        NEXT();
    }
    BIN32I(i32_eq_i,   uint32_t, u32, u32, a == b)
    BIN32I(i32_ne_i,   uint32_t, u32, u32, a != b)
    BIN32I(i32_lt_s_i, int32_t,  i32, u32, a < b)
    BIN32I(i32_lt_u_i, uint32_t, u32, u32, a < b)
    BIN32I(i32_gt_s_i, int32_t,  i32, u32, a > b)
    BIN32I(i32_gt_u_i, uint32_t, u32, u32, a > b)
    BIN32I(i32_le_s_i, int32_t,  i32, u32, a <= b)
    BIN32I(i32_le_u_i, uint32_t, u32, u32, a <= b)
    BIN32I(i32_ge_s_i, int32_t,  i32, u32, a >= b)
    BIN32I(i32_ge_u_i, uint32_t, u32, u32, a >= b)

    /* ---- i64 ------------------------------------------------------------------------ */
    UN(i64_eqz,   uint64_t, u64, u32, a == 0)
    BIN(i64_eq,   uint64_t, u64, u32, a == b)
    BIN(i64_ne,   uint64_t, u64, u32, a != b)
    BIN(i64_lt_s, int64_t,  i64, u32, a < b)
    BIN(i64_lt_u, uint64_t, u64, u32, a < b)
    BIN(i64_gt_s, int64_t,  i64, u32, a > b)
    BIN(i64_gt_u, uint64_t, u64, u32, a > b)
    BIN(i64_le_s, int64_t,  i64, u32, a <= b)
    BIN(i64_le_u, uint64_t, u64, u32, a <= b)
    BIN(i64_ge_s, int64_t,  i64, u32, a >= b)
    BIN(i64_ge_u, uint64_t, u64, u32, a >= b)
    UN(i64_clz,    uint64_t, u64, u64, a ? (uint64_t)__builtin_clzll(a) : 64)
    UN(i64_ctz,    uint64_t, u64, u64, a ? (uint64_t)__builtin_ctzll(a) : 64)
    UN(i64_popcnt, uint64_t, u64, u64, (uint64_t)__builtin_popcountll(a))
    BIN(i64_add,  uint64_t, u64, u64, a + b)
    BIN(i64_sub,  uint64_t, u64, u64, a - b)
    BIN(i64_mul,  uint64_t, u64, u64, a * b)
    OP(i64_div_s) {
        int64_t a = R(2).i64, b = R(3).i64;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        if (WASM_UNLIKELY(a == INT64_MIN && b == -1))
            TRAP(INT_OVERFLOW);
        R(1).i64 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i64_div_u) {
        uint64_t a = R(2).u64, b = R(3).u64;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u64 = a / b;
        pc += 4;
        NEXT();
    }
    OP(i64_rem_s) {
        int64_t a = R(2).i64, b = R(3).i64;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).i64 = b == -1 ? 0 : a % b;
        pc += 4;
        NEXT();
    }
    OP(i64_rem_u) {
        uint64_t a = R(2).u64, b = R(3).u64;
        if (WASM_UNLIKELY(b == 0))
            TRAP(DIV_ZERO);
        R(1).u64 = a % b;
        pc += 4;
        NEXT();
    }
    BIN(i64_and,   uint64_t, u64, u64, a & b)
    BIN(i64_or,    uint64_t, u64, u64, a | b)
    BIN(i64_xor,   uint64_t, u64, u64, a ^ b)
    BIN(i64_shl,   uint64_t, u64, u64, a << (b & 63))
    BIN(i64_shr_s, int64_t,  i64, i64, a >> (b & 63))
    BIN(i64_shr_u, uint64_t, u64, u64, a >> (b & 63))
    BIN(i64_rotl,  uint64_t, u64, u64, rotl64(a, b))
    BIN(i64_rotr,  uint64_t, u64, u64, rotr64(a, b))

    BIN64I(i64_add_i,   uint64_t, u64, u64, a + b)
    BIN64I(i64_sub_i,   uint64_t, u64, u64, a - b)
    BIN64I(i64_mul_i,   uint64_t, u64, u64, a * b)
    BIN64I(i64_and_i,   uint64_t, u64, u64, a & b)
    BIN64I(i64_or_i,    uint64_t, u64, u64, a | b)
    BIN64I(i64_xor_i,   uint64_t, u64, u64, a ^ b)
    BIN64I(i64_shl_i,   uint64_t, u64, u64, a << (b & 63))
    BIN64I(i64_shr_s_i, int64_t,  i64, i64, a >> (b & 63))
    BIN64I(i64_shr_u_i, uint64_t, u64, u64, a >> (b & 63))
    BIN64I(i64_eq_i,    uint64_t, u64, u32, a == b)
    BIN64I(i64_ne_i,    uint64_t, u64, u32, a != b)
    BIN64I(i64_lt_s_i,  int64_t,  i64, u32, a < b)
    BIN64I(i64_lt_u_i,  uint64_t, u64, u32, a < b)
    BIN64I(i64_gt_s_i,  int64_t,  i64, u32, a > b)
    BIN64I(i64_gt_u_i,  uint64_t, u64, u32, a > b)
    BIN64I(i64_le_s_i,  int64_t,  i64, u32, a <= b)
    BIN64I(i64_le_u_i,  uint64_t, u64, u32, a <= b)
    BIN64I(i64_ge_s_i,  int64_t,  i64, u32, a >= b)
    BIN64I(i64_ge_u_i,  uint64_t, u64, u32, a >= b)

    /* ---- compare and branch ------------------------------------------------------------ */
    BRCMP(i32_eq,   uint32_t, u32, a == b)  BRCMP32I(i32_eq,   uint32_t, u32, a == b)
    BRCMP(i32_ne,   uint32_t, u32, a != b)  BRCMP32I(i32_ne,   uint32_t, u32, a != b)
    BRCMP(i32_lt_s, int32_t,  i32, a < b)   BRCMP32I(i32_lt_s, int32_t,  i32, a < b)
    BRCMP(i32_lt_u, uint32_t, u32, a < b)   BRCMP32I(i32_lt_u, uint32_t, u32, a < b)
    BRCMP(i32_gt_s, int32_t,  i32, a > b)   BRCMP32I(i32_gt_s, int32_t,  i32, a > b)
    BRCMP(i32_gt_u, uint32_t, u32, a > b)   BRCMP32I(i32_gt_u, uint32_t, u32, a > b)
    BRCMP(i32_le_s, int32_t,  i32, a <= b)  BRCMP32I(i32_le_s, int32_t,  i32, a <= b)
    BRCMP(i32_le_u, uint32_t, u32, a <= b)  BRCMP32I(i32_le_u, uint32_t, u32, a <= b)
    BRCMP(i32_ge_s, int32_t,  i32, a >= b)  BRCMP32I(i32_ge_s, int32_t,  i32, a >= b)
    BRCMP(i32_ge_u, uint32_t, u32, a >= b)  BRCMP32I(i32_ge_u, uint32_t, u32, a >= b)
    BRCMP(i64_eq,   uint64_t, u64, a == b)  BRCMP64I(i64_eq,   uint64_t, u64, a == b)
    BRCMP(i64_ne,   uint64_t, u64, a != b)  BRCMP64I(i64_ne,   uint64_t, u64, a != b)
    BRCMP(i64_lt_s, int64_t,  i64, a < b)   BRCMP64I(i64_lt_s, int64_t,  i64, a < b)
    BRCMP(i64_lt_u, uint64_t, u64, a < b)   BRCMP64I(i64_lt_u, uint64_t, u64, a < b)
    BRCMP(i64_gt_s, int64_t,  i64, a > b)   BRCMP64I(i64_gt_s, int64_t,  i64, a > b)
    BRCMP(i64_gt_u, uint64_t, u64, a > b)   BRCMP64I(i64_gt_u, uint64_t, u64, a > b)
    BRCMP(i64_le_s, int64_t,  i64, a <= b)  BRCMP64I(i64_le_s, int64_t,  i64, a <= b)
    BRCMP(i64_le_u, uint64_t, u64, a <= b)  BRCMP64I(i64_le_u, uint64_t, u64, a <= b)
    BRCMP(i64_ge_s, int64_t,  i64, a >= b)  BRCMP64I(i64_ge_s, int64_t,  i64, a >= b)
    BRCMP(i64_ge_u, uint64_t, u64, a >= b)  BRCMP64I(i64_ge_u, uint64_t, u64, a >= b)

    /* ---- loop closers: i32 add of a constant, then a backward branch -------- */
#define ADDBR(c, T, inf, cond)                                              \
    OP(addbr_##c) {                                                         \
        R(1).u32 = R(2).u32 + U(3);                                         \
        T a = R(4).inf, b = R(5).inf;                                       \
        if (cond) { pc = pc[6].target; TICK(); NEXT(); }                    \
        pc += 7;                                                            \
        NEXT();                                                             \
    }                                                                       \
    OP(addbr_##c##_i) {                                                     \
        R(1).u32 = R(2).u32 + U(3);                                         \
        T a = R(4).inf, b = (T)U(5);                                        \
        if (cond) { pc = pc[6].target; TICK(); NEXT(); }                    \
        pc += 7;                                                            \
        NEXT();                                                             \
    }
    ADDBR(eq,   uint32_t, u32, a == b)
    ADDBR(ne,   uint32_t, u32, a != b)
    ADDBR(lt_s, int32_t,  i32, a < b)
    ADDBR(lt_u, uint32_t, u32, a < b)
    ADDBR(gt_s, int32_t,  i32, a > b)
    ADDBR(gt_u, uint32_t, u32, a > b)
    ADDBR(le_s, int32_t,  i32, a <= b)
    ADDBR(le_u, uint32_t, u32, a <= b)
    ADDBR(ge_s, int32_t,  i32, a >= b)
    ADDBR(ge_u, uint32_t, u32, a >= b)
    OP(addbr_nz) {
        R(1).u32 = R(2).u32 + U(3);
        if (R(4).u32) { pc = pc[5].target; TICK(); NEXT(); }
        pc += 6;
        NEXT();
    }

    /* ---- f32 / f64 ---------------------------------------------------------------------- */
    BIN(f32_eq, float, f32, u32, a == b)
    BIN(f32_ne, float, f32, u32, a != b)
    BIN(f32_lt, float, f32, u32, a < b)
    BIN(f32_gt, float, f32, u32, a > b)
    BIN(f32_le, float, f32, u32, a <= b)
    BIN(f32_ge, float, f32, u32, a >= b)
    BIN(f64_eq, double, f64, u32, a == b)
    BIN(f64_ne, double, f64, u32, a != b)
    BIN(f64_lt, double, f64, u32, a < b)
    BIN(f64_gt, double, f64, u32, a > b)
    BIN(f64_le, double, f64, u32, a <= b)
    BIN(f64_ge, double, f64, u32, a >= b)

    UN(f32_abs,      uint32_t, u32, u32, a & 0x7fffffffu)
    UN(f32_neg,      uint32_t, u32, u32, a ^ 0x80000000u)
    UN(f32_ceil,     float, f32, f32, ROUND(ceilf, a))
    UN(f32_floor,    float, f32, f32, ROUND(floorf, a))
    UN(f32_trunc,    float, f32, f32, ROUND(truncf, a))
    UN(f32_nearest,  float, f32, f32, ROUND(rintf, a))
    UN(f32_sqrt,     float, f32, f32, sqrtf(a))
    BIN(f32_add,     float, f32, f32, a + b)
    BIN(f32_sub,     float, f32, f32, a - b)
    BIN(f32_mul,     float, f32, f32, a * b)
    BIN(f32_div,     float, f32, f32, a / b)
    BIN(f32_min,     float, f32, f32, wasm_fminf(a, b))
    BIN(f32_max,     float, f32, f32, wasm_fmaxf(a, b))
    BIN(f32_copysign, uint32_t, u32, u32, (a & 0x7fffffffu) | (b & 0x80000000u))
    UN(f64_abs,      uint64_t, u64, u64, a & 0x7fffffffffffffffull)
    UN(f64_neg,      uint64_t, u64, u64, a ^ 0x8000000000000000ull)
    UN(f64_ceil,     double, f64, f64, ROUND(ceil, a))
    UN(f64_floor,    double, f64, f64, ROUND(floor, a))
    UN(f64_trunc,    double, f64, f64, ROUND(trunc, a))
    UN(f64_nearest,  double, f64, f64, ROUND(rint, a))
    UN(f64_sqrt,     double, f64, f64, sqrt(a))
    BIN(f64_add,     double, f64, f64, a + b)
    BIN(f64_sub,     double, f64, f64, a - b)
    BIN(f64_mul,     double, f64, f64, a * b)
    BIN(f64_div,     double, f64, f64, a / b)
    BIN(f64_min,     double, f64, f64, wasm_fmin(a, b))
    BIN(f64_max,     double, f64, f64, wasm_fmax(a, b))
    BIN(f64_copysign, uint64_t, u64, u64,
        (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))

    /* ---- conversions ------------------------------------------------------------------------ */
    UN(i32_wrap_i64, uint64_t, u64, u32, (uint32_t)a)
#define TRUNC(n, T, inf, outf, lo, hi, cast)                                \
    OP(n) {                                                                 \
        T a = R(2).inf;                                                     \
        if (WASM_UNLIKELY(isnan(a)))                                        \
            TRAP(INVALID_CONV);                                             \
        if (WASM_UNLIKELY(!(a > (lo) && a < (hi))))                         \
            TRAP(INT_OVERFLOW);                                             \
        R(1).outf = (cast)a;                                                \
        pc += 3;                                                            \
        NEXT();                                                             \
    }
    TRUNC(i32_trunc_f32_s, float,  f32, i32, -2147483904.0f, 2147483648.0f, int32_t)
    TRUNC(i32_trunc_f32_u, float,  f32, u32, -1.0f, 4294967296.0f, uint32_t)
    TRUNC(i32_trunc_f64_s, double, f64, i32, -2147483649.0, 2147483648.0, int32_t)
    TRUNC(i32_trunc_f64_u, double, f64, u32, -1.0, 4294967296.0, uint32_t)
    TRUNC(i64_trunc_f32_s, float,  f32, i64, -9223373136366403584.0f, 9223372036854775808.0f, int64_t)
    TRUNC(i64_trunc_f32_u, float,  f32, u64, -1.0f, 18446744073709551616.0f, uint64_t)
    TRUNC(i64_trunc_f64_s, double, f64, i64, -9223372036854777856.0, 9223372036854775808.0, int64_t)
    TRUNC(i64_trunc_f64_u, double, f64, u64, -1.0, 18446744073709551616.0, uint64_t)
    UN(i64_extend_i32_s,  int32_t,  i32, i64, a)
    UN(i64_extend_i32_u,  uint32_t, u32, u64, a)
    UN(f32_convert_i32_s, int32_t,  i32, f32, (float)a)
    UN(f32_convert_i32_u, uint32_t, u32, f32, (float)a)
    UN(f32_convert_i64_s, int64_t,  i64, f32, (float)a)
    UN(f32_convert_i64_u, uint64_t, u64, f32, (float)a)
    UN(f32_demote_f64,    double,   f64, f32, (float)a)
    UN(f64_convert_i32_s, int32_t,  i32, f64, (double)a)
    UN(f64_convert_i32_u, uint32_t, u32, f64, (double)a)
    UN(f64_convert_i64_s, int64_t,  i64, f64, (double)a)
    UN(f64_convert_i64_u, uint64_t, u64, f64, (double)a)
    UN(f64_promote_f32,   float,    f32, f64, (double)a)
    UN(i32_extend8_s,  uint32_t, u32, i32, (int8_t)a)
    UN(i32_extend16_s, uint32_t, u32, i32, (int16_t)a)
    UN(i64_extend8_s,  uint64_t, u64, i64, (int8_t)a)
    UN(i64_extend16_s, uint64_t, u64, i64, (int16_t)a)
    UN(i64_extend32_s, uint64_t, u64, i64, (int32_t)a)
    UN(i32_trunc_sat_f32_s, float,  f32, i32, sat_i32(a))
    UN(i32_trunc_sat_f32_u, float,  f32, u32, sat_u32(a))
    UN(i32_trunc_sat_f64_s, double, f64, i32, sat_i32(a))
    UN(i32_trunc_sat_f64_u, double, f64, u32, sat_u32(a))
    UN(i64_trunc_sat_f32_s, float,  f32, i64, sat_i64(a))
    UN(i64_trunc_sat_f32_u, float,  f32, u64, sat_u64(a))
    UN(i64_trunc_sat_f64_s, double, f64, i64, sat_i64(a))
    UN(i64_trunc_sat_f64_u, double, f64, u64, sat_u64(a))

#if !NANO_WASM_COMPUTED_GOTO
    default:
        tk = NANO_WASM_TRAP_UNREACHABLE;
        wasm__trap(ex, tk, "internal: bad instruction");
        goto trap;
    }
#endif

    /* ---- calls through a function object (imports, tables) ------------------------------- */
do_call:
    if (fn->code) {
        cd = fn->code;
        if (WASM_UNLIKELY((size_t)(stack_end - nfp) < cd->frame_size || csp == cs_end))
            TRAP(STACK_EXHAUSTED);
        csp->pc = pc;
        csp->fp = fp;
        csp->inst = inst;
        csp++;
        zero_locals(nfp, cd);
        fp = nfp;
        pc = cd->cells;
        if (fn->inst != inst) {
            inst = fn->inst;
            RELOAD();
        }
        TICK();
        NEXT();
    }
    if (WASM_UNLIKELY(csp == cs_end))
        TRAP(STACK_EXHAUSTED);
    if (wasm__call_host(ex, fn, inst, nfp) != 0) {
        tk = NANO_WASM_TRAP_HOST;
        goto trap;
    }
    RELOAD();                           /* shared memory may have grown */
    TICK();
    NEXT();

done:
    ex->fuel_used -= (uint64_t)fuel;
    return 0;

trap:
    ex->fuel_used -= (uint64_t)(fuel > 0 ? fuel : 0);
    wasm__trap(ex, tk, NULL);
    return NANO_WASM_ETRAP;
}
