/* SPDX-License-Identifier: MIT
 *
 * validate.c - type checking of a decoded module (spec section 3 and the
 * appendix "Validation Algorithm").
 *
 * Module level: index bounds, limits, constant expressions, exports, start
 * function, segments, and C.refs (the functions that ref.func may name).
 * Function level: the spec's algorithm with an operand type stack and a
 * control stack, where an unreachable frame makes popping polymorphic
 * (type 0 = "unknown").  Plain numeric ops, loads and stores are typed by
 * the pop/push strings of ops.def; everything else has a case below.
 *
 * The compiler runs only on functions that passed here, so compile.c does
 * not repeat these checks.  Cost: O(code size) time, stacks bounded by
 * WASM_MAX_FUNC_SLOTS entries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_int.h"

#define UNKNOWN 0

static const uint8_t single_type[] = {
    NANO_WASM_I32, NANO_WASM_I64, NANO_WASM_F32, NANO_WASM_F64,
    NANO_WASM_FUNCREF, NANO_WASM_EXTERNREF,
};

bool
wasm__is_ref(uint8_t t)
{
    return t == NANO_WASM_FUNCREF || t == NANO_WASM_EXTERNREF;
}

static bool
is_num(uint8_t t)
{
    return t == NANO_WASM_I32 || t == NANO_WASM_I64 || t == NANO_WASM_F32 ||
           t == NANO_WASM_F64;
}

static uint8_t
letter_type(char c)
{
    switch (c) {
    case 'i': return NANO_WASM_I32;
    case 'I': return NANO_WASM_I64;
    case 'f': return NANO_WASM_F32;
    case 'F': return NANO_WASM_F64;
    }
    return UNKNOWN;
}

void
wasm__blocktype(const struct nano_wasm_module *m, int64_t bt,
                uint32_t *nparams, const uint8_t **params,
                uint32_t *nresults, const uint8_t **results)
{
    static const uint8_t none[1];

    *nparams = 0;
    *params = none;
    *nresults = 0;
    *results = none;
    if (bt >= 0) {
        const struct wasm__functype *ft = &m->types[bt];
        *nparams = ft->nparams;
        *params = ft->params;
        *nresults = ft->nresults;
        *results = ft->results;
    } else if (bt != WASM_BT_EMPTY) {
        uint8_t t = (uint8_t)(bt + 0x80);
        for (size_t i = 0; i < sizeof single_type; i++)
            if (single_type[i] == t)
                *results = &single_type[i];
        *nresults = 1;
    }
}

bool
wasm__functype_eq(const struct wasm__functype *a, const struct wasm__functype *b)
{
    return a == b ||
           (a->hash == b->hash && a->nparams == b->nparams &&
            a->nresults == b->nresults &&
            memcmp(a->params, b->params, a->nparams) == 0 &&
            memcmp(a->results, b->results, a->nresults) == 0);
}

/* ---- module-level checks --------------------------------------------------------- */

struct vmod {
    struct nano_wasm_module *m;
    struct nano_wasm_error *err;
};

static int
verr(struct nano_wasm_error *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
verr(struct nano_wasm_error *err, size_t off, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->offset = off;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool
featm(const struct nano_wasm_module *m, uint32_t f)
{
    return (m->features & f) != 0;
}

static int
check_limits(struct nano_wasm_error *err, const struct wasm__limits *l,
             uint64_t bound, const char *what)
{
    if (l->min > bound || (l->has_max && l->max > bound)) {
        if (what[0] == 'm')
            return verr(err, l->off, "memory size must be at most 65536 pages (4GiB)");
        return verr(err, l->off, "table size must be at most 2^32-1");
    }
    if (l->has_max && l->min > l->max)
        return verr(err, l->off, "size minimum must not be greater than maximum");
    return 0;
}

/* Type of constant expression ce, checking what it may refer to.
 * Only imported, immutable globals may be read (spec 3.3.10). */
static int
check_cexpr(struct nano_wasm_module *m, struct wasm__cexpr *ce, uint8_t want,
            struct nano_wasm_error *err)
{
    uint8_t t = ce->type;

    switch (ce->kind) {
    case WASM_CE_GLOBAL:
        if (ce->idx >= m->nglobal_imports)
            return verr(err, ce->off, "unknown global %u", ce->idx);
        if (m->globals[ce->idx].mut)
            return verr(err, ce->off, "constant expression required");
        t = ce->type = m->globals[ce->idx].type;
        break;
    case WASM_CE_REF_FUNC:
        if (ce->idx >= m->nfuncs)
            return verr(err, ce->off, "unknown function %u", ce->idx);
        m->func_declared[ce->idx] = 1;
        break;
    default:
        break;
    }
    if (t != want)
        return verr(err, ce->off, "type mismatch");
    return 0;
}

static int
cmp_export_name(const void *a, const void *b)
{
    const struct wasm__export *x = *(const struct wasm__export *const *)a;
    const struct wasm__export *y = *(const struct wasm__export *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);

    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Export names must be unique: sort and compare neighbours, O(n log n). */
static int
check_export_names(const struct nano_wasm_module *m, struct nano_wasm_error *err)
{
    const struct wasm__export **v;
    int rc = 0;

    if (m->nexports < 2)
        return 0;
    if (!(v = malloc(m->nexports * sizeof *v)))
        return -ENOMEM;
    for (uint32_t i = 0; i < m->nexports; i++)
        v[i] = &m->exports[i];
    qsort(v, m->nexports, sizeof *v, cmp_export_name);
    for (uint32_t i = 1; i < m->nexports && !rc; i++)
        if (cmp_export_name(&v[i - 1], &v[i]) == 0)
            rc = verr(err, v[i]->off, "duplicate export name");
    free(v);
    return rc;
}

static int
validate_header(struct nano_wasm_module *m, struct nano_wasm_error *err)
{
    int rc;

    if (!featm(m, NANO_WASM_FEAT_MULTI))
        for (uint32_t i = 0; i < m->ntypes; i++)
            if (m->types[i].nresults > 1)
                return verr(err, m->types[i].off, "invalid result arity");
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm__import *im = &m->imports[i];
        if (im->kind == NANO_WASM_EXTERN_FUNC && im->d.type_idx >= m->ntypes)
            return verr(err, im->off, "unknown type %u", im->d.type_idx);
    }
    for (uint32_t i = 0; i < m->ntables; i++)
        if ((rc = check_limits(err, &m->tables[i].lim, UINT32_MAX, "table")))
            return rc;
    for (uint32_t i = 0; i < m->nmems; i++)
        if ((rc = check_limits(err, &m->mems[i], WASM_MAX_PAGES, "memory")))
            return rc;
    if (m->ntables > 1 && !featm(m, NANO_WASM_FEAT_REF))
        return verr(err, m->tables[1].lim.off, "multiple tables");
    if (m->nmems > 1)
        return verr(err, m->mems[1].off, "multiple memories");

    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        struct wasm__cexpr *ce = &m->global_init[i - m->nglobal_imports];
        if ((rc = check_cexpr(m, ce, m->globals[i].type, err)))
            return rc;
    }
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct wasm__export *ex = &m->exports[i];
        static const char *const what[] = { "function", "table", "memory", "global" };
        uint32_t bound[4] = { m->nfuncs, m->ntables, m->nmems, m->nglobals };
        if (ex->index >= bound[ex->kind])
            return verr(err, ex->off, "unknown %s %u", what[ex->kind], ex->index);
        if (ex->kind == NANO_WASM_EXTERN_FUNC)
            m->func_declared[ex->index] = 1;
    }
    if ((rc = check_export_names(m, err)))
        return rc;
    if (m->has_start) {
        if (m->start >= m->nfuncs)
            return verr(err, m->start_off, "unknown function %u", m->start);
        const struct wasm__functype *ft = &m->types[m->func_type[m->start]];
        if (ft->nparams || ft->nresults)
            return verr(err, m->start_off, "start function");
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        struct wasm__elem *e = &m->elems[i];
        if (e->mode == WASM_SEG_ACTIVE) {
            if (e->table >= m->ntables)
                return verr(err, e->off, "unknown table %u", e->table);
            if ((rc = check_cexpr(m, &e->offset, NANO_WASM_I32, err)))
                return rc;
            if (m->tables[e->table].elem != e->type)
                return verr(err, e->off, "type mismatch");
        }
        for (uint32_t k = 0; k < e->count; k++)
            if ((rc = check_cexpr(m, &e->items[k], e->type, err)))
                return rc;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        struct wasm__data *d = &m->datas[i];
        if (d->mode == WASM_SEG_ACTIVE) {
            if (d->mem >= m->nmems)
                return verr(err, d->off, "unknown memory %u", d->mem);
            if ((rc = check_cexpr(m, &d->offset, NANO_WASM_I32, err)))
                return rc;
        }
    }
    return 0;
}

/* ---- function bodies ---------------------------------------------------------------- */

struct ctrl {
    uint16_t op;
    bool unreachable;
    uint32_t height;
    uint32_t nstart, nend;
    const uint8_t *start, *end;
};

struct vfn {
    struct nano_wasm_module *m;
    struct wasm__reader *r;
    const uint8_t *at;            /* current instruction, for messages */
    uint8_t *vals;
    uint32_t nvals, capvals;
    struct ctrl *ctrls;
    uint32_t nctrls, capctrls;
    uint32_t nlocals;
    uint8_t *locals;              /* params then declared locals */
};

#define FAIL(...) return WASM_FAIL(v->r, v->at, __VA_ARGS__)

static int
push_val(struct vfn *v, uint8_t t)
{
    if (v->nvals == v->capvals) {
        uint32_t cap = v->capvals ? v->capvals * 2 : 64;
        uint8_t *p;
        if (cap > WASM_MAX_FUNC_SLOTS) {
            wasm__fail(v->r, v->at, "function too complex (operand stack)");
            return -E2BIG;
        }
        if (!(p = realloc(v->vals, cap)))
            return -ENOMEM;
        v->vals = p;
        v->capvals = cap;
    }
    v->vals[v->nvals++] = t;
    return 0;
}

/* Pops one value; *got receives it (UNKNOWN under an unreachable frame). */
static int
pop_val(struct vfn *v, uint8_t expect, uint8_t *got)
{
    struct ctrl *c = &v->ctrls[v->nctrls - 1];
    uint8_t actual;

    if (v->nvals == c->height) {
        if (c->unreachable) {
            if (got)
                *got = UNKNOWN;         /* the polymorphic bottom */
            return 0;
        }
        FAIL("type mismatch");
    }
    actual = v->vals[--v->nvals];
    if (expect != UNKNOWN && actual != UNKNOWN && actual != expect)
        FAIL("type mismatch");
    if (got)
        *got = actual;
    return 0;
}

static int
pop_vals(struct vfn *v, const uint8_t *types, uint32_t n)
{
    int rc;

    for (uint32_t i = n; i-- > 0;)
        if ((rc = pop_val(v, types[i], NULL)))
            return rc;
    return 0;
}

static int
push_vals(struct vfn *v, const uint8_t *types, uint32_t n)
{
    int rc;

    for (uint32_t i = 0; i < n; i++)
        if ((rc = push_val(v, types[i])))
            return rc;
    return 0;
}

static int
push_ctrl(struct vfn *v, uint16_t op, const uint8_t *start, uint32_t nstart,
          const uint8_t *end, uint32_t nend)
{
    struct ctrl *c;

    if (v->nctrls == v->capctrls) {
        uint32_t cap = v->capctrls ? v->capctrls * 2 : 16;
        struct ctrl *p;
        if (cap > WASM_MAX_FUNC_SLOTS) {
            wasm__fail(v->r, v->at, "function too complex (nesting)");
            return -E2BIG;
        }
        if (!(p = realloc(v->ctrls, cap * sizeof *p)))
            return -ENOMEM;
        v->ctrls = p;
        v->capctrls = cap;
    }
    c = &v->ctrls[v->nctrls++];
    c->op = op;
    c->unreachable = false;
    c->height = v->nvals;
    c->start = start;
    c->nstart = nstart;
    c->end = end;
    c->nend = nend;
    return push_vals(v, start, nstart);
}

static int
pop_ctrl(struct vfn *v, struct ctrl *out)
{
    struct ctrl *c;
    int rc;

    if (v->nctrls == 0)
        FAIL("unexpected end");
    c = &v->ctrls[v->nctrls - 1];
    if ((rc = pop_vals(v, c->end, c->nend)))
        return rc;
    if (v->nvals != c->height)
        FAIL("type mismatch");
    *out = *c;
    v->nctrls--;
    return 0;
}

static void
set_unreachable(struct vfn *v)
{
    struct ctrl *c = &v->ctrls[v->nctrls - 1];

    v->nvals = c->height;
    c->unreachable = true;
}

static void
label_types(const struct ctrl *c, const uint8_t **t, uint32_t *n)
{
    if (c->op == WASM_OP_loop) {
        *t = c->start;
        *n = c->nstart;
    } else {
        *t = c->end;
        *n = c->nend;
    }
}

static int
get_label(struct vfn *v, uint32_t l, struct ctrl **c)
{
    if (l >= v->nctrls)
        FAIL("unknown label");
    *c = &v->ctrls[v->nctrls - 1 - l];
    return 0;
}

static int
need_mem(struct vfn *v, uint32_t idx)
{
    if (idx >= v->m->nmems)
        FAIL("unknown memory %u", idx);
    return 0;
}

static int
need_table(struct vfn *v, uint32_t idx)
{
    if (idx >= v->m->ntables)
        FAIL("unknown table %u", idx);
    return 0;
}

static int
check_blocktype(struct vfn *v, int64_t bt)
{
    if (bt >= 0 && (uint64_t)bt >= v->m->ntypes)
        FAIL("unknown type");
    return 0;
}

static int
validate_instr(struct vfn *v, const struct wasm__instr *in)
{
    struct nano_wasm_module *m = v->m;
    const struct wasm__opinfo *oi = &wasm__ops[in->op];
    struct ctrl *c = NULL, fr;
    const uint8_t *lt, *rt, *pt;
    uint32_t ln, rn, pn;
    uint8_t t, t1, t2;
    int rc;

    switch ((enum wasm__op)in->op) {
    case WASM_OP_unreachable:
        set_unreachable(v);
        return 0;
    case WASM_OP_nop:
        return 0;
    case WASM_OP_block:
    case WASM_OP_loop:
    case WASM_OP_if:
        if ((rc = check_blocktype(v, in->bt)))
            return rc;
        wasm__blocktype(m, in->bt, &pn, &pt, &rn, &rt);
        if (in->op == WASM_OP_if && (rc = pop_val(v, NANO_WASM_I32, NULL)))
            return rc;
        if ((rc = pop_vals(v, pt, pn)))
            return rc;
        return push_ctrl(v, in->op, pt, pn, rt, rn);
    case WASM_OP_else:
        if (v->nctrls == 0 || v->ctrls[v->nctrls - 1].op != WASM_OP_if)
            FAIL("else without if");
        if ((rc = pop_ctrl(v, &fr)))
            return rc;
        return push_ctrl(v, WASM_OP_else, fr.start, fr.nstart, fr.end, fr.nend);
    case WASM_OP_end:
        if ((rc = pop_ctrl(v, &fr)))
            return rc;
        if (fr.op == WASM_OP_if &&
            (fr.nstart != fr.nend ||
             (fr.nend && memcmp(fr.start, fr.end, fr.nend) != 0)))
            FAIL("type mismatch");
        return push_vals(v, fr.end, fr.nend);
    case WASM_OP_br:
        if ((rc = get_label(v, in->a, &c)))
            return rc;
        label_types(c, &lt, &ln);
        if ((rc = pop_vals(v, lt, ln)))
            return rc;
        set_unreachable(v);
        return 0;
    case WASM_OP_br_if:
        if ((rc = get_label(v, in->a, &c)))
            return rc;
        if ((rc = pop_val(v, NANO_WASM_I32, NULL)))
            return rc;
        label_types(c, &lt, &ln);
        if ((rc = pop_vals(v, lt, ln)))
            return rc;
        return push_vals(v, lt, ln);
    case WASM_OP_br_table: {
        struct wasm__reader lr = *v->r;
        if ((rc = pop_val(v, NANO_WASM_I32, NULL)))
            return rc;
        if ((rc = get_label(v, in->a, &c)))
            return rc;
        label_types(c, &rt, &rn);
        lr.p = in->vec;
        for (uint32_t i = 0; i < in->count; i++) {
            uint32_t l;
            uint8_t tmp[WASM_MAX_RESULTS];
            wasm__read_u32(&lr, &l);
            if ((rc = get_label(v, l, &c)))
                return rc;
            label_types(c, &lt, &ln);
            if (ln != rn)
                FAIL("type mismatch");
            /* 1.0: every label has exactly the default's types (2.0 only
             * asks that the operands fit each, which matters after
             * unreachable code) */
            if (!featm(m, NANO_WASM_FEAT_REF) && ln && memcmp(lt, rt, ln) != 0)
                FAIL("type mismatch");
            if (ln > WASM_MAX_RESULTS)
                FAIL("too many branch values");
            /* pop_vals then push back what was popped */
            for (uint32_t k = ln; k-- > 0;) {
                if ((rc = pop_val(v, lt[k], &tmp[k])))
                    return rc;
            }
            if ((rc = push_vals(v, tmp, ln)))
                return rc;
        }
        if ((rc = pop_vals(v, rt, rn)))
            return rc;
        set_unreachable(v);
        return 0;
    }
    case WASM_OP_return:
        c = &v->ctrls[0];
        if ((rc = pop_vals(v, c->end, c->nend)))
            return rc;
        set_unreachable(v);
        return 0;
    case WASM_OP_call: {
        const struct wasm__functype *ft;
        if (in->a >= m->nfuncs)
            FAIL("unknown function %u", in->a);
        ft = &m->types[m->func_type[in->a]];
        if ((rc = pop_vals(v, ft->params, ft->nparams)))
            return rc;
        return push_vals(v, ft->results, ft->nresults);
    }
    case WASM_OP_call_indirect: {
        const struct wasm__functype *ft;
        if ((rc = need_table(v, in->b)))
            return rc;
        if (m->tables[in->b].elem != NANO_WASM_FUNCREF)
            FAIL("type mismatch");
        if (in->a >= m->ntypes)
            FAIL("unknown type %u", in->a);
        ft = &m->types[in->a];
        if ((rc = pop_val(v, NANO_WASM_I32, NULL)))
            return rc;
        if ((rc = pop_vals(v, ft->params, ft->nparams)))
            return rc;
        return push_vals(v, ft->results, ft->nresults);
    }
    case WASM_OP_drop:
        return pop_val(v, UNKNOWN, NULL);
    case WASM_OP_select:
        if ((rc = pop_val(v, NANO_WASM_I32, NULL)) ||
            (rc = pop_val(v, UNKNOWN, &t1)) ||
            (rc = pop_val(v, UNKNOWN, &t2)))
            return rc;
        if ((t1 != UNKNOWN && !is_num(t1)) || (t2 != UNKNOWN && !is_num(t2)))
            FAIL("type mismatch");
        if (t1 != UNKNOWN && t2 != UNKNOWN && t1 != t2)
            FAIL("type mismatch");
        return push_val(v, t1 != UNKNOWN ? t1 : t2);
    case WASM_OP_select_t:
        if (in->count != 1)
            FAIL("invalid result arity");
        t = (uint8_t)in->a;
        if ((rc = pop_val(v, NANO_WASM_I32, NULL)) ||
            (rc = pop_val(v, t, NULL)) || (rc = pop_val(v, t, NULL)))
            return rc;
        return push_val(v, t);
    case WASM_OP_local_get:
        if (in->a >= v->nlocals)
            FAIL("unknown local %u", in->a);
        return push_val(v, v->locals[in->a]);
    case WASM_OP_local_set:
        if (in->a >= v->nlocals)
            FAIL("unknown local %u", in->a);
        return pop_val(v, v->locals[in->a], NULL);
    case WASM_OP_local_tee:
        if (in->a >= v->nlocals)
            FAIL("unknown local %u", in->a);
        if ((rc = pop_val(v, v->locals[in->a], NULL)))
            return rc;
        return push_val(v, v->locals[in->a]);
    case WASM_OP_global_get:
        if (in->a >= m->nglobals)
            FAIL("unknown global %u", in->a);
        return push_val(v, m->globals[in->a].type);
    case WASM_OP_global_set:
        if (in->a >= m->nglobals)
            FAIL("unknown global %u", in->a);
        if (!m->globals[in->a].mut)
            FAIL("global is immutable");
        return pop_val(v, m->globals[in->a].type, NULL);
    case WASM_OP_table_get:
        if ((rc = need_table(v, in->a)) || (rc = pop_val(v, NANO_WASM_I32, NULL)))
            return rc;
        return push_val(v, m->tables[in->a].elem);
    case WASM_OP_table_set:
        if ((rc = need_table(v, in->a)) ||
            (rc = pop_val(v, m->tables[in->a].elem, NULL)))
            return rc;
        return pop_val(v, NANO_WASM_I32, NULL);
    case WASM_OP_table_size:
        if ((rc = need_table(v, in->a)))
            return rc;
        return push_val(v, NANO_WASM_I32);
    case WASM_OP_table_grow:
        if ((rc = need_table(v, in->a)) ||
            (rc = pop_val(v, NANO_WASM_I32, NULL)) ||
            (rc = pop_val(v, m->tables[in->a].elem, NULL)))
            return rc;
        return push_val(v, NANO_WASM_I32);
    case WASM_OP_table_fill:
        if ((rc = need_table(v, in->a)) ||
            (rc = pop_val(v, NANO_WASM_I32, NULL)) ||
            (rc = pop_val(v, m->tables[in->a].elem, NULL)))
            return rc;
        return pop_val(v, NANO_WASM_I32, NULL);
    case WASM_OP_table_copy:   /* a = dst, b = src */
        if ((rc = need_table(v, in->a)) || (rc = need_table(v, in->b)))
            return rc;
        if (m->tables[in->a].elem != m->tables[in->b].elem)
            FAIL("type mismatch");
        return pop_vals(v, (const uint8_t *)"\x7f\x7f\x7f", 3);
    case WASM_OP_table_init:   /* a = elem, b = table */
        if ((rc = need_table(v, in->b)))
            return rc;
        if (in->a >= m->nelems)
            FAIL("unknown elem segment %u", in->a);
        if (m->tables[in->b].elem != m->elems[in->a].type)
            FAIL("type mismatch");
        return pop_vals(v, (const uint8_t *)"\x7f\x7f\x7f", 3);
    case WASM_OP_elem_drop:
        if (in->a >= m->nelems)
            FAIL("unknown elem segment %u", in->a);
        return 0;
    case WASM_OP_memory_init:
        if ((rc = need_mem(v, 0)))
            return rc;
        if (!m->has_datacount)
            FAIL("data count section required");
        if (in->a >= m->datacount)
            FAIL("unknown data segment %u", in->a);
        return pop_vals(v, (const uint8_t *)"\x7f\x7f\x7f", 3);
    case WASM_OP_data_drop:
        if (!m->has_datacount)
            FAIL("data count section required");
        if (in->a >= m->datacount)
            FAIL("unknown data segment %u", in->a);
        return 0;
    case WASM_OP_memory_copy:
    case WASM_OP_memory_fill:
        if ((rc = need_mem(v, 0)))
            return rc;
        return pop_vals(v, (const uint8_t *)"\x7f\x7f\x7f", 3);
    case WASM_OP_memory_size:
    case WASM_OP_memory_grow:
        if ((rc = need_mem(v, 0)))
            return rc;
        break;                          /* typed by the table */
    case WASM_OP_ref_null:
        return push_val(v, (uint8_t)in->a);
    case WASM_OP_ref_is_null:
        if ((rc = pop_val(v, UNKNOWN, &t)))
            return rc;
        if (t != UNKNOWN && !wasm__is_ref(t))
            FAIL("type mismatch");
        return push_val(v, NANO_WASM_I32);
    case WASM_OP_ref_func:
        if (in->a >= m->nfuncs)
            FAIL("unknown function %u", in->a);
        if (!m->func_declared[in->a])
            FAIL("undeclared function reference");
        return push_val(v, NANO_WASM_FUNCREF);
    default:
        break;
    }

    /* typed by ops.def */
    if (oi->cls == WASM_CLS_L || oi->cls == WASM_CLS_S) {
        if ((rc = need_mem(v, 0)))
            return rc;
        if (in->a >= 32 || (1u << in->a) > oi->width)
            FAIL("alignment must not be larger than natural");
    }
    for (size_t i = strlen(oi->pop); i-- > 0;)
        if ((rc = pop_val(v, letter_type(oi->pop[i]), NULL)))
            return rc;
    for (const char *p = oi->push; *p; p++)
        if ((rc = push_val(v, letter_type(*p))))
            return rc;
    return 0;
}

static int
validate_func(struct nano_wasm_module *m, uint32_t def, struct vfn *v)
{
    struct wasm__func *f = &m->funcs[def];
    const struct wasm__functype *ft = &m->types[f->type_idx];
    struct wasm__reader r = {
        .p = f->body, .end = f->body + f->body_len, .base = m->bytes,
        .features = m->features,
    };
    struct wasm__instr in;
    int rc;

    r.err = v->r->err;
    v->r = &r;
    v->at = r.p;
    v->nvals = 0;
    v->nctrls = 0;
    v->nlocals = ft->nparams + f->nlocals;
    free(v->locals);
    if (!(v->locals = malloc(v->nlocals + 1u)))
        return -ENOMEM;
    memcpy(v->locals, ft->params, ft->nparams);
    memcpy(v->locals + ft->nparams, f->local_types, f->nlocals);

    if ((rc = push_ctrl(v, WASM_OP_block, ft->params, 0, ft->results, ft->nresults)))
        return rc;
    while (v->nctrls > 0) {
        if (r.p >= r.end)
            return WASM_FAIL(&r, r.p, "unexpected end of section or function");
        if ((rc = wasm__read_instr(&r, &in)))
            return rc;
        v->at = in.at;
        if ((rc = validate_instr(v, &in)))
            return rc;
    }
    if (r.p != r.end)
        return WASM_FAIL(&r, r.p, "section size mismatch");
    return 0;
}

int
wasm__validate_module(struct nano_wasm_module *m, struct nano_wasm_error *err)
{
    struct wasm__reader r = { .base = m->bytes, .err = err, .features = m->features };
    struct vfn v = { .m = m, .r = &r };
    int rc;

    if ((rc = validate_header(m, err)))
        return rc;
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) {
        v.r = &r;
        if ((rc = validate_func(m, i, &v)))
            break;
    }
    free(v.vals);
    free(v.ctrls);
    free(v.locals);
    return rc;
}
