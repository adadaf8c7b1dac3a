/* SPDX-License-Identifier: MIT
 *
 * compile.c - translate a validated function body, once, into internal code
 * for interp.c.
 *
 * Internal code is an array of cells (union wasm__cell): a handler followed
 * by its operands.  Operands are frame slot indices (fp-relative), constants
 * or resolved branch targets, so the interpreter never decodes LEB128,
 * never searches for a block's end and never moves values on an operand
 * stack: it is a register machine whose registers are the frame slots.
 *
 * Slot allocation.  Frame slot i < L is local i (params first); the
 * WebAssembly operand stack entry at depth d lives in slot L + d (its "home"
 * slot).  Stack heights are static, so every operand has a fixed slot.
 *
 * Lazy operands.  The compiler keeps a virtual operand stack whose entries
 * say where the value is *now*: in its home slot (HOME), still in local x
 * (LOCAL, after local.get), or a constant (CONST).  An instruction reads
 * its operands from wherever they are, so `local.get a; local.get b;
 * i32.add` is one instruction `i32_add home, a, b` and `x + 1` uses the
 * immediate form `i32_add_i home, x, 1`.  A pending entry is written to its
 * home slot ("materialised") when something could change what it reads:
 * local.set/tee of that local, or control flow (block/loop/if entry
 * materialises everything, so all paths meeting at a label agree that
 * every value below is in its home slot).
 *
 * Peepholes on the last instruction (only if no label was placed after it
 * and its result is still the top of the virtual stack):
 *   - local.set/tee x rewrites its destination to x (no copy);
 *   - br_if / if after an integer compare or eqz become one
 *     compare-and-branch instruction (negated for `if`).
 *
 * Branches.  A branch to a block moves its values to the block's result
 * slots (usually nothing to move: they are already there), then jumps.
 * Forward targets are chained through the operand cells and patched when
 * the label is placed; every target cell is recorded and turned into a
 * pointer at the end.  Backward branches (to a loop) use handler variants
 * that charge fuel.  A branch to the function's outermost label is a
 * return.  Unreachable code after br/return/unreachable is skipped.
 *
 * Cost: linear in body size; memory: the code (a few cells per instruction)
 * plus transient stacks freed before returning.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_int.h"

enum { K_HOME, K_LOCAL, K_CONST };

struct vsent {
    uint8_t kind;
    uint8_t type;
    uint32_t slot;              /* K_LOCAL: the local */
    uint32_t serial;            /* identifies the instruction result */
    union nano_wasm_val k;      /* K_CONST */
};

struct cframe {
    uint16_t op;                /* block, loop, if, else; block for the body */
    bool unreachable;
    uint32_t height;            /* virtual stack height below the params */
    uint32_t nparams, nresults;
    const uint8_t *ptypes, *rtypes;
    uint32_t label;             /* loop: cell index of the loop head */
    uint32_t chain;             /* forward branches to patch, cell index + 1 */
    uint32_t else_chain;        /* if: the branch to the else arm */
};

struct comp {
    struct nano_wasm_module *m;
    struct wasm__code *fc;
    struct wasm__reader r;
    uint32_t L;                 /* params + locals */
    uint8_t *ltypes;            /* type of each local */
    uint8_t *lstate;            /* per local: 1 written at top level before
                                   any read, 2 read before that */
    jmp_buf oom;                /* out of memory: unwind to compile_func */
    union wasm__cell *code;
    uint32_t n, cap;
    uint32_t *rel;              /* cells holding branch targets */
    uint32_t nrel, caprel;
    struct vsent *vs;
    uint32_t nvs, capvs, maxvs;
    uint32_t hw;                /* every entry below this depth is HOME */
    struct cframe *cf;
    uint32_t ncf, capcf;
    uint32_t skip;              /* nested blocks inside unreachable code */
    uint32_t cur_start;         /* start of the last instruction emitted */
    uint32_t prev_start;        /* and of the one before (NONE if unknown) */
    uint32_t label_at;          /* position of the latest label */
    uint32_t serial;
    struct {
        bool valid;
        uint32_t start, end;    /* cells of the instruction */
        uint32_t dst;           /* cell of its destination operand */
        uint32_t serial;        /* the virtual stack entry it produced */
        uint16_t cmp;           /* wasm op of a fusable compare, or 0 */
        bool addi;              /* it was i32_add_i a, imm (for addresses) */
        uint32_t a;             /* compare operands */
        bool bimm;
        uint32_t b;
        union nano_wasm_val bk;
    } last;
};

/* ---- variant tables from ops.def -------------------------------------------------- */

#define HAS_H(n)  [WASM_OP_##n] = WASM_IOP_##n + 1,
#define HAS_X(n)
#define HAS_N  HAS_H
#define HAS_L1 HAS_H
#define HAS_L2 HAS_H
#define HAS_L4 HAS_H
#define HAS_L8 HAS_H
#define HAS_S1 HAS_H
#define HAS_S2 HAS_H
#define HAS_S4 HAS_H
#define HAS_S8 HAS_H
static const uint16_t direct_iop[WASM_OP_COUNT] = {
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) HAS_##cls(n)
#include "ops.def"
};

#define VAR_(n, base) [WASM_OP_##base] = WASM_IOP_##n + 1,
#define VAR_NONE(n, base)
#define VAR_IMM(n, base)
#define VAR_BR(n, base)
#define VAR_BRI(n, base)
#define VAR_BRB(n, base)
#define VAR_BRIB(n, base)
#define VAR_ADDBR(n, base)
#define VAR_ADDBRI(n, base)

#undef VAR_IMM
#define VAR_IMM VAR_
static const uint16_t imm_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_IMM
#define VAR_IMM(n, base)

#undef VAR_BR
#define VAR_BR VAR_
static const uint16_t br_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_BR
#define VAR_BR(n, base)

#undef VAR_BRI
#define VAR_BRI VAR_
static const uint16_t bri_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_BRI
#define VAR_BRI(n, base)

#undef VAR_BRB
#define VAR_BRB VAR_
static const uint16_t brb_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_BRB
#define VAR_BRB(n, base)

#undef VAR_BRIB
#define VAR_BRIB VAR_
static const uint16_t brib_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_BRIB
#define VAR_BRIB(n, base)

#undef VAR_ADDBR
#define VAR_ADDBR VAR_
static const uint16_t addbr_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};
#undef VAR_ADDBR
#define VAR_ADDBR(n, base)

#undef VAR_ADDBRI
#define VAR_ADDBRI VAR_
static const uint16_t addbri_iop[WASM_OP_COUNT] = {
#define WASM_IOP(n, base, variant) VAR_##variant(n, base)
#include "ops.def"
};

/* Comparison facts: negation (for `if`) and mirror (operands swapped). */
static uint16_t
cmp_negate(uint16_t op)
{
    switch (op) {
    case WASM_OP_i32_eq:   return WASM_OP_i32_ne;
    case WASM_OP_i32_ne:   return WASM_OP_i32_eq;
    case WASM_OP_i32_lt_s: return WASM_OP_i32_ge_s;
    case WASM_OP_i32_lt_u: return WASM_OP_i32_ge_u;
    case WASM_OP_i32_gt_s: return WASM_OP_i32_le_s;
    case WASM_OP_i32_gt_u: return WASM_OP_i32_le_u;
    case WASM_OP_i32_le_s: return WASM_OP_i32_gt_s;
    case WASM_OP_i32_le_u: return WASM_OP_i32_gt_u;
    case WASM_OP_i32_ge_s: return WASM_OP_i32_lt_s;
    case WASM_OP_i32_ge_u: return WASM_OP_i32_lt_u;
    case WASM_OP_i64_eq:   return WASM_OP_i64_ne;
    case WASM_OP_i64_ne:   return WASM_OP_i64_eq;
    case WASM_OP_i64_lt_s: return WASM_OP_i64_ge_s;
    case WASM_OP_i64_lt_u: return WASM_OP_i64_ge_u;
    case WASM_OP_i64_gt_s: return WASM_OP_i64_le_s;
    case WASM_OP_i64_gt_u: return WASM_OP_i64_le_u;
    case WASM_OP_i64_le_s: return WASM_OP_i64_gt_s;
    case WASM_OP_i64_le_u: return WASM_OP_i64_gt_u;
    case WASM_OP_i64_ge_s: return WASM_OP_i64_lt_s;
    case WASM_OP_i64_ge_u: return WASM_OP_i64_lt_u;
    }
    return 0;
}

static uint16_t
cmp_mirror(uint16_t op)
{
    switch (op) {
    case WASM_OP_i32_eq: case WASM_OP_i32_ne:
    case WASM_OP_i64_eq: case WASM_OP_i64_ne:
        return op;
    case WASM_OP_i32_lt_s: return WASM_OP_i32_gt_s;
    case WASM_OP_i32_lt_u: return WASM_OP_i32_gt_u;
    case WASM_OP_i32_gt_s: return WASM_OP_i32_lt_s;
    case WASM_OP_i32_gt_u: return WASM_OP_i32_lt_u;
    case WASM_OP_i32_le_s: return WASM_OP_i32_ge_s;
    case WASM_OP_i32_le_u: return WASM_OP_i32_ge_u;
    case WASM_OP_i32_ge_s: return WASM_OP_i32_le_s;
    case WASM_OP_i32_ge_u: return WASM_OP_i32_le_u;
    case WASM_OP_i64_lt_s: return WASM_OP_i64_gt_s;
    case WASM_OP_i64_lt_u: return WASM_OP_i64_gt_u;
    case WASM_OP_i64_gt_s: return WASM_OP_i64_lt_s;
    case WASM_OP_i64_gt_u: return WASM_OP_i64_lt_u;
    case WASM_OP_i64_le_s: return WASM_OP_i64_ge_s;
    case WASM_OP_i64_le_u: return WASM_OP_i64_ge_u;
    case WASM_OP_i64_ge_s: return WASM_OP_i64_le_s;
    case WASM_OP_i64_ge_u: return WASM_OP_i64_le_u;
    }
    return 0;
}

static bool
commutative(uint16_t op)
{
    switch (op) {
    case WASM_OP_i32_add: case WASM_OP_i32_mul: case WASM_OP_i32_and:
    case WASM_OP_i32_or:  case WASM_OP_i32_xor:
    case WASM_OP_i64_add: case WASM_OP_i64_mul: case WASM_OP_i64_and:
    case WASM_OP_i64_or:  case WASM_OP_i64_xor:
        return true;
    }
    return false;
}

static bool
is64(uint8_t t)
{
    return t != NANO_WASM_I32 && t != NANO_WASM_F32;
}

/* ---- emission ------------------------------------------------------------------ */

static void
emit_cell(struct comp *c, union wasm__cell cell)
{
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 256;
        union wasm__cell *p = realloc(c->code, cap * sizeof *p);
        if (!p)
            longjmp(c->oom, 1);
        c->code = p;
        c->cap = cap;
    }
    c->code[c->n++] = cell;
}

#define NONE UINT32_MAX

static void
emit_op(struct comp *c, enum wasm__iop iop)
{
    union wasm__cell cell;

    c->prev_start = c->cur_start;
    c->cur_start = c->n;
    memset(&cell, 0, sizeof cell);
    cell.op = wasm__handler(iop);
    emit_cell(c, cell);
}

static void
emit_u32(struct comp *c, uint32_t v)
{
    union wasm__cell cell;

    memset(&cell, 0, sizeof cell);
    cell.u32 = v;
    emit_cell(c, cell);
}

static void
emit_ptr(struct comp *c, const void *p)
{
    union wasm__cell cell;

    memset(&cell, 0, sizeof cell);
    cell.ptr = p;
    emit_cell(c, cell);
}

static void
emit_imm64(struct comp *c, uint64_t v)
{
    union wasm__cell cells[WASM_IMM64_CELLS];

    memset(cells, 0, sizeof cells);
    memcpy(cells, &v, 8);
    for (size_t i = 0; i < WASM_IMM64_CELLS; i++)
        emit_cell(c, cells[i]);
}

static void
add_reloc(struct comp *c, uint32_t cell)
{
    if (c->nrel == c->caprel) {
        uint32_t cap = c->caprel ? c->caprel * 2 : 64;
        uint32_t *p = realloc(c->rel, cap * sizeof *p);
        if (!p)
            longjmp(c->oom, 1);
        c->rel = p;
        c->caprel = cap;
    }
    c->rel[c->nrel++] = cell;
}

/* Emit a branch target cell for frame fr. */
static void
emit_target(struct comp *c, struct cframe *fr)
{
    if (fr->op == WASM_OP_loop) {
        add_reloc(c, c->n);
        emit_u32(c, fr->label);
    } else {
        uint32_t at = c->n;
        emit_u32(c, fr->chain);
        fr->chain = at + 1;
    }
}

/* Drop the code from pos on (an instruction being replaced by a fused one). */
static void
truncate_code(struct comp *c, uint32_t pos)
{
    c->n = pos;
    if (c->cur_start != NONE && c->cur_start >= pos) {
        c->cur_start = c->prev_start;
        c->prev_start = NONE;
    }
    if (c->cur_start != NONE && c->cur_start >= pos)
        c->cur_start = NONE;
    if (c->prev_start != NONE && c->prev_start >= pos)
        c->prev_start = NONE;
}

/* Resolve a chain of forward branches to the current position. */
static void
place_chain(struct comp *c, uint32_t chain)
{
    if (chain)
        c->label_at = c->n;
    while (chain) {
        uint32_t at = chain - 1;
        chain = c->code[at].u32;
        c->code[at].u32 = c->n;
        add_reloc(c, at);
        c->last.valid = false;          /* a label: no peephole across it */
    }
}

/* ---- virtual stack --------------------------------------------------------------- */

static uint32_t
home(const struct comp *c, uint32_t depth)
{
    return c->L + depth;
}

static struct vsent *
push(struct comp *c, uint8_t kind, uint8_t type)
{
    struct vsent *e;

    if (c->nvs == c->capvs) {
        uint32_t cap = c->capvs ? c->capvs * 2 : 64;
        struct vsent *p = realloc(c->vs, cap * sizeof *p);
        if (!p)
            longjmp(c->oom, 1);
        c->vs = p;
        c->capvs = cap;
    }
    e = &c->vs[c->nvs++];
    if (c->nvs > c->maxvs)
        c->maxvs = c->nvs;
    e->kind = kind;
    e->type = type;
    e->slot = 0;
    e->serial = ++c->serial;
    e->k.u64 = 0;
    return e;
}

static uint32_t
push_home(struct comp *c, uint8_t type)
{
    push(c, K_HOME, type);
    return home(c, c->nvs - 1);
}

/* Write the entry at depth d into slot dst (no change to the entry). */
static void
emit_store_entry(struct comp *c, const struct vsent *e, uint32_t d, uint32_t dst)
{
    switch (e->kind) {
    case K_HOME:
        if (home(c, d) != dst) {
            emit_op(c, WASM_IOP_copy);
            emit_u32(c, dst);
            emit_u32(c, home(c, d));
        }
        break;
    case K_LOCAL:
        if (e->slot != dst) {
            emit_op(c, WASM_IOP_copy);
            emit_u32(c, dst);
            emit_u32(c, e->slot);
        }
        break;
    case K_CONST:
        if (is64(e->type)) {
            emit_op(c, WASM_IOP_const64);
            emit_u32(c, dst);
            emit_imm64(c, e->k.u64);
        } else {
            emit_op(c, WASM_IOP_const32);
            emit_u32(c, dst);
            emit_u32(c, e->k.u32);
        }
        break;
    }
}

static void
materialize(struct comp *c, uint32_t d)
{
    struct vsent *e = &c->vs[d];

    if (e->kind != K_HOME) {
        emit_store_entry(c, e, d, home(c, d));
        e->kind = K_HOME;
    }
}

static void
materialize_all(struct comp *c)
{
    for (uint32_t d = c->hw < c->nvs ? c->hw : c->nvs; d < c->nvs; d++)
        materialize(c, d);
    c->hw = c->nvs;
}

/*
 * Pending (LOCAL or CONST) entries are kept within the top PENDING_WINDOW
 * entries of the virtual stack: at each instruction, entries that fell
 * below the window are materialised.  So the scans below cost O(window),
 * not O(stack depth), and loading stays linear in the body size even for
 * adversarial code.
 */
#define PENDING_WINDOW 32

static void
bound_pending(struct comp *c)
{
    if (c->hw > c->nvs)
        c->hw = c->nvs;
    while (c->hw + PENDING_WINDOW < c->nvs)
        materialize(c, c->hw++);
}

/* Before local x changes: pending reads of x (below `limit`) go home. */
static void
materialize_local(struct comp *c, uint32_t x, uint32_t limit)
{
    for (uint32_t d = c->hw < limit ? c->hw : limit; d < limit; d++)
        if (c->vs[d].kind == K_LOCAL && c->vs[d].slot == x)
            materialize(c, d);
}

static bool
local_pending(const struct comp *c, uint32_t x, uint32_t limit)
{
    for (uint32_t d = c->hw < limit ? c->hw : limit; d < limit; d++)
        if (c->vs[d].kind == K_LOCAL && c->vs[d].slot == x)
            return true;
    return false;
}

/* Slot of the popped entry that was at depth d (constants go home first). */
static uint32_t
operand(struct comp *c, uint32_t d)
{
    struct vsent *e = &c->vs[d];

    if (e->kind == K_CONST)
        materialize(c, d);
    return e->kind == K_LOCAL ? e->slot : home(c, d);
}

/* Pop one entry; returns its depth (the entry stays readable at vs[d]). */
static uint32_t
pop(struct comp *c)
{
    return --c->nvs;
}

/* Record the instruction just emitted (cells [start, n)) whose destination
 * cell is dst and whose result is the top entry. */
static void
note_last(struct comp *c, uint32_t start, uint32_t dst)
{
    c->last.valid = true;
    c->last.start = start;
    c->last.end = c->n;
    c->last.dst = dst;
    c->last.serial = c->vs[c->nvs - 1].serial;
    c->last.cmp = 0;
    c->last.addi = false;
}

/* Is the top entry the untouched result of the last instruction? */
static bool
top_is_last(const struct comp *c)
{
    const struct vsent *e;

    if (!c->last.valid || c->last.end != c->n || c->nvs == 0)
        return false;
    e = &c->vs[c->nvs - 1];
    return e->kind == K_HOME && e->serial == c->last.serial;
}

/* ---- branches --------------------------------------------------------------------- */

static uint32_t
arity(const struct cframe *fr)
{
    return fr->op == WASM_OP_loop ? fr->nparams : fr->nresults;
}

/* Are the top n values already in the home slots of depths [h, h+n)? */
static bool
in_place(const struct comp *c, uint32_t h, uint32_t n)
{
    if (c->nvs - n != h)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (c->vs[h + i].kind != K_HOME)
            return false;
    return true;
}

/* Copy the top n values to the home slots of depths [h, h+n).  Ascending
 * order is safe: h <= nvs - n, so no source is overwritten before it is
 * read.  The virtual stack is unchanged (the fall-through path differs). */
static void
move_top(struct comp *c, uint32_t h, uint32_t n)
{
    uint32_t s = c->nvs - n;

    for (uint32_t i = 0; i < n; i++)
        emit_store_entry(c, &c->vs[s + i], s + i, home(c, h + i));
}

/* Return with the top n values as results, without changing the stack. */
static void
emit_return(struct comp *c)
{
    uint32_t n = c->cf[0].nresults, s = c->nvs - n;

    if (n == 0) {
        emit_op(c, WASM_IOP_ret);
        return;
    }
    if (n == 1) {
        const struct vsent *e = &c->vs[s];
        if (e->kind == K_CONST) {
            emit_store_entry(c, e, s, 0);
            emit_op(c, WASM_IOP_ret);
        } else {
            emit_op(c, WASM_IOP_ret1);
            emit_u32(c, e->kind == K_LOCAL ? e->slot : home(c, s));
        }
        return;
    }
    /* results go to slots 0..n-1, which are locals a later value may
     * still read: first bring every value home, then copy down */
    for (uint32_t i = 0; i < n; i++)
        if (c->vs[s + i].kind != K_HOME)
            emit_store_entry(c, &c->vs[s + i], s + i, home(c, s + i));
    for (uint32_t i = 0; i < n; i++) {
        emit_op(c, WASM_IOP_copy);
        emit_u32(c, i);
        emit_u32(c, home(c, s + i));
    }
    emit_op(c, WASM_IOP_ret);
}

/* Unconditional branch to frame fr, values moved. */
static void
emit_br(struct comp *c, struct cframe *fr)
{
    if (fr == &c->cf[0]) {
        emit_return(c);
        return;
    }
    move_top(c, fr->height, arity(fr));
    emit_op(c, fr->op == WASM_OP_loop ? WASM_IOP_br_back : WASM_IOP_br);
    emit_target(c, fr);
}

static void
set_unreachable(struct comp *c)
{
    struct cframe *fr = &c->cf[c->ncf - 1];

    c->nvs = fr->height;
    fr->unreachable = true;
    c->last.valid = false;
}

/*
 * Is the instruction at `at` an i32 add or subtract of a constant that
 * ends exactly at `end`, with no label in between?  Then *d, *s, *k are its
 * operands (a subtract as an add of -k: the same wrapping arithmetic).
 */
static bool
addi_before(const struct comp *c, uint32_t at, uint32_t end, uint32_t *d,
            uint32_t *s, uint32_t *k)
{
    const union wasm__cell *ins;

    if (at == NONE || at + 4 != end || c->label_at == end)
        return false;
    ins = &c->code[at];
    if (ins->op == wasm__handler(WASM_IOP_i32_add_i))
        *k = ins[3].u32;
    else if (ins->op == wasm__handler(WASM_IOP_i32_sub_i))
        *k = 0u - ins[3].u32;
    else
        return false;
    *d = ins[1].u32;
    *s = ins[2].u32;
    return true;
}

/*
 * Loop closers: `i32_add_i d, s, k` directly followed by a backward
 * compare-and-branch (the compare being the last instruction, about to be
 * fused) becomes one `addbr_<cmp> d, s, k, a, b, target`.  Two adjacent
 * instructions with no label between them can always run as one handler,
 * whatever their data flow.  The caller emits the target.
 */
static bool
fuse_loop_closer(struct comp *c, uint16_t cmp)
{
    const uint16_t *tab = c->last.bimm ? addbri_iop : addbr_iop;
    uint32_t d, s, k;

    if (!tab[cmp] || c->cur_start != c->last.start ||
        !addi_before(c, c->prev_start, c->last.start, &d, &s, &k))
        return false;
    truncate_code(c, c->prev_start);
    c->last.valid = false;
    emit_op(c, (enum wasm__iop)(tab[cmp] - 1));
    emit_u32(c, d);
    emit_u32(c, s);
    emit_u32(c, k);
    emit_u32(c, c->last.a);
    emit_u32(c, c->last.bimm ? c->last.bk.u32 : c->last.b);
    return true;
}

/*
 * Fused compare-and-branch for the condition on top of the stack (already
 * popped, at depth d): if the last instruction computed it with an integer
 * compare or eqz, remove that instruction and emit one that branches when
 * the compare holds (negate: when it fails).  Returns false if it cannot.
 * The caller emits the target cell(s) right after.
 */
static bool
emit_fused(struct comp *c, bool negate, bool backward)
{
    uint16_t op = c->last.cmp;
    const uint16_t *tab;
    uint16_t iop;

    if (!op)
        return false;
    if (op == WASM_OP_i32_eqz || op == WASM_OP_i64_eqz) {
        bool nz = negate;                 /* branch when != 0 */
        if (op == WASM_OP_i32_eqz)
            iop = nz ? (backward ? WASM_IOP_br_if_back : WASM_IOP_br_if)
                     : (backward ? WASM_IOP_br_ifz_back : WASM_IOP_br_ifz);
        else
            iop = nz ? (backward ? WASM_IOP_br_i64nz_back : WASM_IOP_br_i64nz)
                     : (backward ? WASM_IOP_br_i64z_back : WASM_IOP_br_i64z);
        truncate_code(c, c->last.start);
        c->last.valid = false;
        emit_op(c, iop);
        emit_u32(c, c->last.a);
        return true;
    }
    if (negate)
        op = cmp_negate(op);
    if (c->last.bimm)
        tab = backward ? brib_iop : bri_iop;
    else
        tab = backward ? brb_iop : br_iop;
    if (!op || !tab[op])
        return false;
    iop = (uint16_t)(tab[op] - 1);
    if (backward && fuse_loop_closer(c, op))
        return true;
    truncate_code(c, c->last.start);
    c->last.valid = false;
    emit_op(c, iop);
    emit_u32(c, c->last.a);
    if (c->last.bimm) {
        if (op >= WASM_OP_i64_eqz && op <= WASM_OP_i64_ge_u)
            emit_imm64(c, c->last.bk.u64);
        else
            emit_u32(c, c->last.bk.u32);
    } else {
        emit_u32(c, c->last.b);
    }
    return true;
}

/* Conditional branch on the value popped from depth d to frame fr. */
static void
compile_br_if(struct comp *c, uint32_t d, bool fusable, struct cframe *fr)
{
    bool is_func = fr == &c->cf[0];
    uint32_t n = arity(fr);
    bool back = fr->op == WASM_OP_loop;

    if (!is_func && in_place(c, fr->height, n)) {
        if (!(fusable && emit_fused(c, false, back))) {
            uint32_t s = operand(c, d), ad, as, ak;
            if (back && addi_before(c, c->cur_start, c->n, &ad, &as, &ak)) {
                /* `i32_sub_i n, n, 1; br_if_back n`: one loop closer */
                truncate_code(c, c->cur_start);
                emit_op(c, WASM_IOP_addbr_nz);
                emit_u32(c, ad);
                emit_u32(c, as);
                emit_u32(c, ak);
            } else {
                emit_op(c, back ? WASM_IOP_br_if_back : WASM_IOP_br_if);
            }
            emit_u32(c, s);
        }
        emit_target(c, fr);
        return;
    }
    /* values must move: skip over the moves when the condition fails */
    struct cframe skip = { .op = WASM_OP_block };
    if (!(fusable && emit_fused(c, true, false))) {
        uint32_t s = operand(c, d);
        emit_op(c, WASM_IOP_br_ifz);
        emit_u32(c, s);
    }
    emit_target(c, &skip);
    emit_br(c, fr);
    place_chain(c, skip.chain);
}

static void
push_frame(struct comp *c, uint16_t op, int64_t bt)
{
    struct cframe *fr;

    if (c->ncf == c->capcf) {
        uint32_t cap = c->capcf ? c->capcf * 2 : 16;
        struct cframe *p = realloc(c->cf, cap * sizeof *p);
        if (!p)
            longjmp(c->oom, 1);
        c->cf = p;
        c->capcf = cap;
    }
    fr = &c->cf[c->ncf++];
    memset(fr, 0, sizeof *fr);
    fr->op = op;
    wasm__blocktype(c->m, bt, &fr->nparams, &fr->ptypes, &fr->nresults, &fr->rtypes);
    fr->height = c->nvs - fr->nparams;
}

/* ---- instructions ------------------------------------------------------------------- */

static void
compile_numeric(struct comp *c, const struct wasm__instr *in)
{
    const struct wasm__opinfo *oi = &wasm__ops[in->op];
    uint16_t op = in->op;
    uint32_t start, dst, da, db, sa;
    uint8_t rtype = 0;

    switch (oi->push[0]) {
    case 'i': rtype = NANO_WASM_I32; break;
    case 'I': rtype = NANO_WASM_I64; break;
    case 'f': rtype = NANO_WASM_F32; break;
    case 'F': rtype = NANO_WASM_F64; break;
    }
    if (oi->pop[1] == 0) {                      /* unary */
        da = pop(c);
        sa = operand(c, da);
        start = c->n;
        emit_op(c, (enum wasm__iop)(direct_iop[op] - 1));
        dst = push_home(c, rtype);
        emit_u32(c, dst);
        emit_u32(c, sa);
        note_last(c, start, start + 1);
        if (op == WASM_OP_i32_eqz || op == WASM_OP_i64_eqz) {
            c->last.cmp = op;
            c->last.a = sa;
        }
        return;
    }

    db = pop(c);
    da = pop(c);
    struct vsent ea = c->vs[da], eb = c->vs[db];
    bool bimm = false;
    if (eb.kind == K_CONST && imm_iop[op]) {
        bimm = true;
    } else if (ea.kind == K_CONST && eb.kind != K_CONST) {
        uint16_t swapped = commutative(op) ? op : cmp_mirror(op);
        if (swapped && imm_iop[swapped]) {
            /* x OP k  ==  k OP' x */
            op = swapped;
            struct vsent t = ea;
            ea = eb;
            eb = t;
            uint32_t td = da;
            da = db;
            db = td;
            bimm = true;
        }
    }
    if (bimm) {
        if (ea.kind == K_CONST) {
            c->vs[da] = ea;
            sa = operand(c, da);
        } else {
            sa = ea.kind == K_LOCAL ? ea.slot : home(c, da);
        }
        start = c->n;
        emit_op(c, (enum wasm__iop)(imm_iop[op] - 1));
        dst = push_home(c, rtype);
        emit_u32(c, dst);
        emit_u32(c, sa);
        if (is64(eb.type))
            emit_imm64(c, eb.k.u64);
        else
            emit_u32(c, eb.k.u32);
        note_last(c, start, start + 1);
        if (op == WASM_OP_i32_add) {
            c->last.addi = true;
            c->last.a = sa;
            c->last.bk = eb.k;
        }
        if (bri_iop[op]) {
            c->last.cmp = op;
            c->last.a = sa;
            c->last.bimm = true;
            c->last.bk = eb.k;
        }
        return;
    }
    /* both operands from slots (the depths are unchanged: no swap) */
    uint32_t s1 = operand(c, da), s2 = operand(c, db);
    start = c->n;
    emit_op(c, (enum wasm__iop)(direct_iop[op] - 1));
    dst = push_home(c, rtype);
    emit_u32(c, dst);
    emit_u32(c, s1);
    emit_u32(c, s2);
    note_last(c, start, start + 1);
    if (br_iop[op]) {
        c->last.cmp = op;
        c->last.a = s1;
        c->last.bimm = false;
        c->last.b = s2;
    }
}

/*
 * Which locals need zeroing on entry?  A write in the body's top-level
 * block (not inside any block, loop or if) executes before every later
 * instruction that runs, so a local written there before any read of it
 * never has its initial value observed.  Everything else is zeroed.
 */
static void
note_local_write(struct comp *c, uint32_t x)
{
    if (c->ncf == 1 && c->lstate[x] == 0)
        c->lstate[x] = 1;
}

static void
note_local_read(struct comp *c, uint32_t x)
{
    if (c->lstate[x] == 0)
        c->lstate[x] = 2;
}

static void
compile_local_set(struct comp *c, uint32_t x, bool tee)
{
    uint32_t d = c->nvs - 1;
    struct vsent *e = &c->vs[d];

    note_local_write(c, x);

    if (e->kind == K_LOCAL && e->slot == x)
        goto done;                              /* x = x */
    if (top_is_last(c) && c->last.dst && !local_pending(c, x, d)) {
        /* retarget the producing instruction: no copy */
        c->code[c->last.dst].u32 = x;
        c->last.valid = false;
        if (tee) {
            e->kind = K_LOCAL;
            e->slot = x;
            if (c->hw > d)
                c->hw = d;              /* pending again: keep it scanned */
            return;
        }
        goto done;
    }
    materialize_local(c, x, d);
    emit_store_entry(c, e, d, x);
    c->last.valid = false;
done:
    if (!tee)
        pop(c);
}

/* Emit `iop dst, <slots of the top `nops` values>` (result type rtype, or
 * no result when rtype is 0), as a patchable instruction. */
static void
simple(struct comp *c, enum wasm__iop iop, unsigned nops, uint8_t rtype,
       const uint32_t *extra, unsigned nextra)
{
    uint32_t slots[4], start, dst = 0;

    for (unsigned i = nops; i-- > 0;)
        slots[i] = operand(c, pop(c));
    start = c->n;
    emit_op(c, iop);
    if (rtype) {
        dst = c->n;
        emit_u32(c, push_home(c, rtype));
    }
    for (unsigned i = 0; i < nops; i++)
        emit_u32(c, slots[i]);
    for (unsigned i = 0; i < nextra; i++)
        emit_u32(c, extra[i]);
    if (rtype)
        note_last(c, start, dst);
}

static void
compile_call(struct comp *c, uint32_t fidx, const struct wasm__functype *ft,
             bool indirect, uint32_t table, uint32_t type_idx)
{
    uint32_t idx_slot = 0, base;

    if (indirect) {
        uint32_t d = pop(c);
        idx_slot = operand(c, d);
    }
    for (uint32_t i = c->nvs - ft->nparams; i < c->nvs; i++)
        materialize(c, i);
    base = home(c, c->nvs - ft->nparams);
    if (indirect) {
        emit_op(c, WASM_IOP_call_indirect);
        emit_u32(c, table);
        emit_ptr(c, &c->m->types[type_idx]);
        emit_u32(c, base);
        emit_u32(c, idx_slot);
    } else if (fidx < c->m->nfunc_imports) {
        emit_op(c, WASM_IOP_call_import);
        emit_u32(c, fidx);
        emit_u32(c, base);
    } else {
        emit_op(c, WASM_IOP_call);
        emit_ptr(c, &c->m->code[fidx - c->m->nfunc_imports]);
        emit_u32(c, base);
    }
    c->nvs -= ft->nparams;
    for (uint32_t i = 0; i < ft->nresults; i++)
        push_home(c, ft->results[i]);
    /* the callee's frame starts at base: make sure ours covers it */
    if (c->nvs - ft->nresults + ft->nparams > c->maxvs)
        c->maxvs = c->nvs - ft->nresults + ft->nparams;
    c->last.valid = false;
}

static void
compile_br_table(struct comp *c, const struct wasm__instr *in)
{
    struct wasm__reader lr = c->r;
    uint32_t d = pop(c), s = operand(c, d), tab;
    uint32_t n = in->count;

    emit_op(c, WASM_IOP_br_table);
    emit_u32(c, s);
    emit_u32(c, n);
    tab = c->n;
    for (uint32_t i = 0; i <= n; i++)
        emit_u32(c, 0);
    /* direct targets first; targets needing moves get a stub after */
    lr.p = in->vec;
    for (uint32_t i = 0; i <= n; i++) {
        uint32_t l;
        struct cframe *fr;
        wasm__read_u32(&lr, &l);
        fr = &c->cf[c->ncf - 1 - l];
        if (fr != &c->cf[0] && in_place(c, fr->height, arity(fr))) {
            if (fr->op == WASM_OP_loop) {
                c->code[tab + i].u32 = fr->label;
                add_reloc(c, tab + i);
            } else {
                c->code[tab + i].u32 = fr->chain;
                fr->chain = tab + i + 1;
            }
        } else {
            c->code[tab + i].u32 = c->n;
            add_reloc(c, tab + i);
            emit_br(c, fr);
        }
    }
}

/*
 * Loads and stores: `load dst, base, addimm, offset` and `store base, val,
 * addimm, offset`.  When the address was just computed by `i32.add x, k`
 * (the last instruction, its result untouched since), that add is removed
 * and x, k become base and addimm.
 */
static int
compile_memory(struct comp *c, const struct wasm__instr *in)
{
    const struct wasm__opinfo *oi = &wasm__ops[in->op];
    bool load = oi->cls == WASM_CLS_L;
    uint32_t da = c->nvs - (load ? 1 : 2), base, addimm = 0, val = 0, start, dst;
    const struct vsent *ea = &c->vs[da];

    bool kval = !load && c->vs[c->nvs - 1].kind == K_CONST;
    union nano_wasm_val k = c->vs[c->nvs - 1].k;

    if (c->last.valid && c->last.addi && c->last.end == c->n &&
        ea->kind == K_HOME && ea->serial == c->last.serial) {
        base = c->last.a;
        addimm = c->last.bk.u32;
        truncate_code(c, c->last.start);
        c->last.valid = false;
        if (!load)
            val = kval ? (pop(c), 0) : operand(c, pop(c));
        pop(c);
    } else {
        if (!load)
            val = kval ? (pop(c), 0) : operand(c, pop(c));
        base = operand(c, pop(c));
    }
    if (kval) {
        /* a constant value: one of the store-immediate forms */
        static const uint16_t by_width[9] = {
            [1] = WASM_IOP_store8_i, [2] = WASM_IOP_store16_i,
            [4] = WASM_IOP_store32_i, [8] = WASM_IOP_store64_i,
        };
        emit_op(c, (enum wasm__iop)by_width[oi->width]);
        emit_u32(c, base);
        emit_u32(c, addimm);
        emit_u32(c, in->offset);
        if (oi->width == 8)
            emit_imm64(c, k.u64);
        else
            emit_u32(c, k.u32);
        c->last.valid = false;
        return 0;
    }
    start = c->n;
    emit_op(c, (enum wasm__iop)(direct_iop[in->op] - 1));
    if (load) {
        uint8_t t = oi->push[0] == 'i' ? NANO_WASM_I32 : oi->push[0] == 'I' ? NANO_WASM_I64 :
                    oi->push[0] == 'f' ? NANO_WASM_F32 : NANO_WASM_F64;
        dst = c->n;
        emit_u32(c, push_home(c, t));
        emit_u32(c, base);
        emit_u32(c, addimm);
        emit_u32(c, in->offset);
        note_last(c, start, dst);
    } else {
        emit_u32(c, base);
        emit_u32(c, val);
        emit_u32(c, addimm);
        emit_u32(c, in->offset);
        c->last.valid = false;
    }
    return 0;
}

static int
compile_instr(struct comp *c, const struct wasm__instr *in)
{
    struct nano_wasm_module *m = c->m;
    const struct wasm__opinfo *oi = &wasm__ops[in->op];
    struct cframe *fr = &c->cf[c->ncf - 1];
    uint32_t d, x[3];
    struct vsent *e;

    if (fr->unreachable) {
        switch (in->op) {
        case WASM_OP_block: case WASM_OP_loop: case WASM_OP_if:
            c->skip++;
            return 0;
        case WASM_OP_else:
            if (c->skip)
                return 0;
            break;
        case WASM_OP_end:
            if (c->skip) {
                c->skip--;
                return 0;
            }
            break;
        default:
            return 0;
        }
    }

    switch ((enum wasm__op)in->op) {
    case WASM_OP_nop:
        return 0;
    case WASM_OP_unreachable:
        emit_op(c, WASM_IOP_trap);
        emit_u32(c, NANO_WASM_TRAP_UNREACHABLE);
        set_unreachable(c);
        return 0;
    case WASM_OP_block:
        materialize_all(c);
        push_frame(c, in->op, in->bt);
        return 0;
    case WASM_OP_loop:
        materialize_all(c);
        push_frame(c, in->op, in->bt);
        c->cf[c->ncf - 1].label = c->n;
        c->label_at = c->n;
        c->last.valid = false;
        return 0;
    case WASM_OP_if: {
        bool fusable;
        d = pop(c);
        /* the cond entry is popped; check it against the last result */
        fusable = c->last.valid && c->last.end == c->n &&
                  c->vs[d].kind == K_HOME && c->vs[d].serial == c->last.serial &&
                  c->last.cmp != 0;
        struct cframe tmp = { .op = WASM_OP_block };
        if (fusable) {
            /* the compare's operands are locals or slots above the
             * entries materialised below, so moving the compare after
             * the materialisation is safe */
            uint16_t cmp = c->last.cmp;
            uint32_t a = c->last.a, b = c->last.b;
            bool bimm = c->last.bimm;
            union nano_wasm_val bk = c->last.bk;
            truncate_code(c, c->last.start);
            c->last.valid = false;
            materialize_all(c);
            c->last.valid = true;
            c->last.end = c->n;
            c->last.start = c->n;
            c->last.cmp = cmp;
            c->last.a = a;
            c->last.b = b;
            c->last.bimm = bimm;
            c->last.bk = bk;
            if (!emit_fused(c, true, false))
                return WASM_FAIL(&c->r, in->at, "internal: fusion");
        } else {
            uint32_t s = operand(c, d);
            materialize_all(c);
            emit_op(c, WASM_IOP_br_ifz);
            emit_u32(c, s);
        }
        emit_target(c, &tmp);
        push_frame(c, in->op, in->bt);
        c->cf[c->ncf - 1].else_chain = tmp.chain;
        return 0;
    }
    case WASM_OP_else:
        if (!fr->unreachable) {
            for (uint32_t i = fr->height; i < c->nvs; i++)
                materialize(c, i);
            emit_op(c, WASM_IOP_br);
            emit_target(c, fr);
        }
        place_chain(c, fr->else_chain);
        fr->else_chain = 0;
        fr->op = WASM_OP_else;
        fr->unreachable = false;
        c->nvs = fr->height;
        for (uint32_t i = 0; i < fr->nparams; i++)
            push(c, K_HOME, fr->ptypes[i]);
        c->last.valid = false;
        return 0;
    case WASM_OP_end: {
        struct cframe f = *fr;
        if (c->ncf == 1) {
            /* the body's end: branches to it were compiled as returns,
             * so only the fall-through path arrives here */
            if (!f.unreachable)
                emit_return(c);
            c->ncf = 0;
            return 0;
        }
        if (!f.unreachable)
            for (uint32_t i = f.height; i < c->nvs; i++)
                materialize(c, i);
        place_chain(c, f.else_chain);
        place_chain(c, f.chain);
        c->ncf--;
        c->nvs = f.height;
        for (uint32_t i = 0; i < f.nresults; i++)
            push(c, K_HOME, f.rtypes[i]);
        c->last.valid = false;
        return 0;
    }
    case WASM_OP_br:
        emit_br(c, &c->cf[c->ncf - 1 - in->a]);
        set_unreachable(c);
        return 0;
    case WASM_OP_br_if: {
        bool fusable;
        d = pop(c);
        fusable = c->last.valid && c->last.end == c->n &&
                  c->vs[d].kind == K_HOME && c->vs[d].serial == c->last.serial &&
                  c->last.cmp != 0;
        compile_br_if(c, d, fusable, &c->cf[c->ncf - 1 - in->a]);
        c->last.valid = false;
        return 0;
    }
    case WASM_OP_br_table:
        compile_br_table(c, in);
        set_unreachable(c);
        return 0;
    case WASM_OP_return:
        emit_return(c);
        set_unreachable(c);
        return 0;
    case WASM_OP_call: {
        const struct wasm__functype *ft = &m->types[m->func_type[in->a]];
        compile_call(c, in->a, ft, false, 0, 0);
        return 0;
    }
    case WASM_OP_call_indirect:
        compile_call(c, 0, &m->types[in->a], true, in->b, in->a);
        return 0;
    case WASM_OP_drop:
        pop(c);
        return 0;
    case WASM_OP_select:
    case WASM_OP_select_t: {
        uint8_t t = c->vs[c->nvs - 2].type;
        simple(c, WASM_IOP_select, 3, t, NULL, 0);
        return 0;
    }
    case WASM_OP_local_get:
        e = push(c, K_LOCAL, 0);
        e->slot = in->a;
        e->type = c->ltypes[in->a];
        note_local_read(c, in->a);
        return 0;
    case WASM_OP_local_set:
        compile_local_set(c, in->a, false);
        return 0;
    case WASM_OP_local_tee:
        compile_local_set(c, in->a, true);
        return 0;
    case WASM_OP_global_get:
        x[0] = in->a;
        simple(c, WASM_IOP_global_get, 0, m->globals[in->a].type, x, 1);
        return 0;
    case WASM_OP_global_set:
        d = pop(c);
        x[1] = operand(c, d);
        emit_op(c, WASM_IOP_global_set);
        emit_u32(c, in->a);
        emit_u32(c, x[1]);
        return 0;
    case WASM_OP_i32_const:
    case WASM_OP_i64_const:
    case WASM_OP_f32_const:
    case WASM_OP_f64_const:
        e = push(c, K_CONST, (uint8_t)(in->op == WASM_OP_i32_const ? NANO_WASM_I32 :
                                       in->op == WASM_OP_i64_const ? NANO_WASM_I64 :
                                       in->op == WASM_OP_f32_const ? NANO_WASM_F32 :
                                       NANO_WASM_F64));
        e->k = in->v;
        return 0;
    case WASM_OP_ref_null:
        e = push(c, K_CONST, (uint8_t)in->a);
        e->k.u64 = 0;
        return 0;
    case WASM_OP_ref_is_null:
        simple(c, WASM_IOP_ref_is_null, 1, NANO_WASM_I32, NULL, 0);
        return 0;
    case WASM_OP_ref_func:
        x[0] = in->a;
        simple(c, WASM_IOP_ref_func, 0, NANO_WASM_FUNCREF, x, 1);
        return 0;
    case WASM_OP_i32_reinterpret_f32:
    case WASM_OP_f32_reinterpret_i32:
    case WASM_OP_i64_reinterpret_f64:
    case WASM_OP_f64_reinterpret_i64:
        /* same bits, same slot: only the static type changes */
        e = &c->vs[c->nvs - 1];
        e->type = oi->push[0] == 'i' ? NANO_WASM_I32 : oi->push[0] == 'I' ? NANO_WASM_I64 :
                  oi->push[0] == 'f' ? NANO_WASM_F32 : NANO_WASM_F64;
        c->last.cmp = 0;
        return 0;
    case WASM_OP_memory_size:
        simple(c, WASM_IOP_memory_size, 0, NANO_WASM_I32, NULL, 0);
        return 0;
    case WASM_OP_memory_grow:
        simple(c, WASM_IOP_memory_grow, 1, NANO_WASM_I32, NULL, 0);
        c->last.valid = false;
        return 0;
    case WASM_OP_table_get:
        x[0] = in->a;
        simple(c, WASM_IOP_table_get, 1, m->tables[in->a].elem, x, 1);
        return 0;
    case WASM_OP_table_set:
        x[0] = in->a;
        simple(c, WASM_IOP_table_set, 2, 0, x, 1);
        return 0;
    case WASM_OP_table_size:
        x[0] = in->a;
        simple(c, WASM_IOP_table_size, 0, NANO_WASM_I32, x, 1);
        return 0;
    case WASM_OP_table_grow:
        x[0] = in->a;
        simple(c, WASM_IOP_table_grow, 2, NANO_WASM_I32, x, 1);
        return 0;
    case WASM_OP_table_fill:
        x[0] = in->a;
        simple(c, WASM_IOP_table_fill, 3, 0, x, 1);
        return 0;
    case WASM_OP_table_copy:
        x[0] = in->a;
        x[1] = in->b;
        simple(c, WASM_IOP_table_copy, 3, 0, x, 2);
        return 0;
    case WASM_OP_table_init:
        x[0] = in->a;           /* elem */
        x[1] = in->b;           /* table */
        simple(c, WASM_IOP_table_init, 3, 0, x, 2);
        return 0;
    case WASM_OP_elem_drop:
        x[0] = in->a;
        simple(c, WASM_IOP_elem_drop, 0, 0, x, 1);
        return 0;
    case WASM_OP_memory_init:
        x[0] = in->a;
        simple(c, WASM_IOP_memory_init, 3, 0, x, 1);
        return 0;
    case WASM_OP_data_drop:
        x[0] = in->a;
        simple(c, WASM_IOP_data_drop, 0, 0, x, 1);
        return 0;
    case WASM_OP_memory_copy:
        simple(c, WASM_IOP_memory_copy, 3, 0, NULL, 0);
        return 0;
    case WASM_OP_memory_fill:
        simple(c, WASM_IOP_memory_fill, 3, 0, NULL, 0);
        return 0;
    default:
        break;
    }

    if (oi->cls == WASM_CLS_L || oi->cls == WASM_CLS_S)
        return compile_memory(c, in);
    if (oi->cls == WASM_CLS_N) {
        compile_numeric(c, in);
        return 0;
    }
    return WASM_FAIL(&c->r, in->at, "internal: no compile rule for %s", oi->name);
}

/* Compile the body; returns 0 or an error, or longjmps to c->oom. */
static int
compile_body(struct comp *c, const uint8_t *body)
{
    struct wasm__instr in;
    int rc;

    push_frame(c, WASM_OP_block, WASM_BT_EMPTY);
    c->cf[0].nresults = c->fc->nresults;
    c->cf[0].rtypes = c->m->types[c->m->func_type[c->fc->func_idx]].results;
    while (c->ncf > 0) {
        if ((rc = wasm__read_instr(&c->r, &in)))
            return rc;
        if (!c->cf[c->ncf - 1].unreachable)
            bound_pending(c);
        if ((rc = compile_instr(c, &in)))
            return rc;
    }
    if ((uint64_t)c->L + c->maxvs + 2 > WASM_MAX_FUNC_SLOTS) {
        wasm__fail(&c->r, body, "function too complex (frame)");
        return -E2BIG;
    }
    return 0;
}

int
wasm__compile_func(struct nano_wasm_module *m, uint32_t def_idx,
                   struct nano_wasm_error *err)
{
    struct wasm__func *f = &m->funcs[def_idx];
    const struct wasm__functype *ft = &m->types[f->type_idx];
    struct wasm__code *fc = &m->code[def_idx];
    struct comp *c;
    int rc;

    if (!(c = calloc(1, sizeof *c)))
        return -ENOMEM;
    c->m = m;
    c->fc = fc;
    c->r.p = f->body;
    c->r.end = f->body + f->body_len;
    c->r.base = m->bytes;
    c->r.err = err;
    c->r.features = m->features;
    c->L = ft->nparams + f->nlocals;
    c->cur_start = c->prev_start = c->label_at = NONE;
    fc->nparams = ft->nparams;
    fc->nlocals = f->nlocals;
    fc->nresults = ft->nresults;
    fc->func_idx = m->nfunc_imports + def_idx;

    if (!(c->ltypes = malloc(c->L + 1u)) || !(c->lstate = calloc(c->L + 1u, 1))) {
        rc = -ENOMEM;
    } else if (setjmp(c->oom)) {
        rc = -ENOMEM;
    } else {
        memcpy(c->ltypes, ft->params, ft->nparams);
        memcpy(c->ltypes + ft->nparams, f->local_types, f->nlocals);
        rc = compile_body(c, f->body);
    }
    if (!rc) {
        union wasm__cell *cells = wasm__arena_alloc(&m->arena, (size_t)c->n * sizeof *cells);
        if (!cells) {
            rc = -ENOMEM;
        } else {
            memcpy(cells, c->code, (size_t)c->n * sizeof *cells);
            for (uint32_t i = 0; i < c->nrel; i++)
                cells[c->rel[i]].target = cells + c->code[c->rel[i]].u32;
            fc->cells = cells;
            fc->ncells = c->n;
            fc->frame_size = c->L + c->maxvs + 2;
            /* the range of declared locals that may be read unwritten */
            uint32_t lo = c->L, hi = 0;
            for (uint32_t x = ft->nparams; x < c->L; x++)
                if (c->lstate[x] != 1) {
                    if (x < lo)
                        lo = x;
                    hi = x + 1;
                }
            fc->zero_from = lo < hi ? lo : 0;
            fc->zero_count = lo < hi ? hi - lo : 0;
        }
    }
    free(c->ltypes);
    free(c->lstate);
    free(c->code);
    free(c->rel);
    free(c->vs);
    free(c->cf);
    free(c);
    return rc;
}
