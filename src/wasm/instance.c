/* SPDX-License-Identifier: MIT
 *
 * instance.c - instantiation (linking imports, creating memories, tables
 * and globals, segment initialisation, the start function), the call API,
 * exported globals, and bounds-checked access to linear memory.
 *
 * Memory model: a linear memory is one heap block of pages * 64 KiB,
 * grown with realloc (so its address may change on memory.grow, and every
 * pointer handed out is documented as valid only until the next call).
 * Every access is bounds-checked explicitly against the current size
 * (interp.c); this is portable to 32-bit MIPS/ARM hosts, where reserving
 * 4 GiB of address space plus guard pages is impossible.  The page limit of
 * struct nano_wasm_limits caps both the initial size and memory.grow.
 *
 * Sharing: memories, tables and globals are refcounted objects, because an
 * imported one is the exporter's object itself.  An instance also holds a
 * reference on every instance it imports from (its functions run with
 * that instance's state), and on its module.
 *
 * Segment semantics follow the module's feature set: with bulk memory (2.0)
 * segments are applied in order and the first out-of-bounds one traps,
 * keeping earlier writes; in strict 1.0 mode all bounds are checked first
 * and a misfit is a link error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm_int.h"

#define DEFAULT_MEMORY_PAGES 1024u
#define DEFAULT_TABLE_SIZE   65536u
#define DEFAULT_CALL_DEPTH   1000u
#define DEFAULT_STACK_BYTES  (256u * 1024u)
#define MAX_HOST_NESTING     8u      /* host -> wasm -> host ... re-entries */

/* The memory of instances that have none: every access is out of bounds. */
static struct wasm__memory no_memory = { 1, NULL, 0, 0, 0, 0 };

static _Thread_local unsigned call_nesting;

int64_t
wasm__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
wasm__trap(struct wasm__exec *ex, enum nano_wasm_trap_kind k, const char *fmt, ...)
{
    static const char *const text[] = {
#define NANO_WASM_TRAP_TEXT(kind, name, txt) txt,
        NANO_WASM_TRAP_KINDS(NANO_WASM_TRAP_TEXT)
#undef NANO_WASM_TRAP_TEXT
    };
    struct nano_wasm_trap *t = ex->trap;
    va_list ap;

    if (!fmt) {
        if (t->kind != NANO_WASM_TRAP_NONE)
            return NANO_WASM_ETRAP;     /* a more precise message is set */
        t->kind = k;
        snprintf(t->msg, sizeof t->msg, "%s", text[k]);
        return NANO_WASM_ETRAP;
    }
    t->kind = k;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    return NANO_WASM_ETRAP;
}

static int
link_error(struct nano_wasm_trap *trap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
link_error(struct nano_wasm_trap *trap, int rc, const char *fmt, ...)
{
    va_list ap;

    trap->kind = NANO_WASM_TRAP_LINK;
    va_start(ap, fmt);
    vsnprintf(trap->msg, sizeof trap->msg, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- runtime objects ----------------------------------------------------------------- */

struct wasm__memory *
wasm__memory_new(uint32_t min, uint32_t decl_max, uint32_t limit)
{
    struct wasm__memory *m = calloc(1, sizeof *m);
    uint64_t bytes = (uint64_t)min * WASM_PAGE_SIZE;

    if (!m)
        return NULL;
    if (bytes > SIZE_MAX) {
        free(m);
        return NULL;
    }
    if (bytes && !(m->data = calloc(1, (size_t)bytes))) {
        free(m);
        return NULL;
    }
    m->refs = 1;
    m->size = bytes;
    m->pages = min;
    m->decl_max = decl_max;
    m->max_pages = decl_max < limit ? decl_max : limit;
    if (m->max_pages > WASM_MAX_PAGES)
        m->max_pages = WASM_MAX_PAGES;
    return m;
}

void
wasm__memory_unref(struct wasm__memory *m)
{
    if (!m || m == &no_memory || --m->refs > 0)
        return;
    free(m->data);
    free(m);
}

int32_t
wasm__memory_grow(struct wasm__memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    uint64_t pages = (uint64_t)old + delta, bytes;
    uint8_t *p;

    if (delta == 0)
        return (int32_t)old;
    if (m == &no_memory || pages > m->max_pages)
        return -1;
    bytes = pages * WASM_PAGE_SIZE;
    if (bytes > SIZE_MAX || !(p = realloc(m->data, (size_t)bytes)))
        return -1;
    memset(p + m->size, 0, (size_t)(bytes - m->size));
    m->data = p;
    m->size = bytes;
    m->pages = (uint32_t)pages;
    return (int32_t)old;
}

struct wasm__table *
wasm__table_new(uint8_t type, uint32_t min, uint32_t decl_max, uint32_t limit)
{
    struct wasm__table *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    if (!(t->elems = calloc((size_t)min + 1, sizeof(void *)))) {
        free(t);
        return NULL;
    }
    t->refs = 1;
    t->type = type;
    t->size = min;
    t->decl_max = decl_max;
    t->max = decl_max < limit ? decl_max : limit;
    return t;
}

void
wasm__table_unref(struct wasm__table *t)
{
    if (!t || --t->refs > 0)
        return;
    free(t->elems);
    free(t);
}

int32_t
wasm__table_grow(struct wasm__table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    void **p;

    if (delta == 0)
        return (int32_t)old;
    if (n > t->max || n > WASM_MAX_TABLE)
        return -1;
    if (!(p = realloc(t->elems, (size_t)(n + 1) * sizeof(void *))))
        return -1;
    for (uint64_t i = old; i < n; i++)
        p[i] = init;
    t->elems = p;
    t->size = (uint32_t)n;
    return (int32_t)old;
}

struct wasm__global *
wasm__global_new(uint8_t type, uint8_t mut)
{
    struct wasm__global *g = calloc(1, sizeof *g);

    if (g) {
        g->refs = 1;
        g->type = type;
        g->mut = mut;
    }
    return g;
}

void
wasm__global_unref(struct wasm__global *g)
{
    if (g && --g->refs == 0)
        free(g);
}

/* ---- instantiation -------------------------------------------------------------------- */

static void
apply_limits(struct nano_wasm_limits *out, const struct nano_wasm_limits *in)
{
    memset(out, 0, sizeof *out);
    if (in)
        *out = *in;
    if (!out->max_memory_pages)
        out->max_memory_pages = DEFAULT_MEMORY_PAGES;
    if (out->max_memory_pages > WASM_MAX_PAGES)
        out->max_memory_pages = WASM_MAX_PAGES;
    if (!out->max_table_size)
        out->max_table_size = DEFAULT_TABLE_SIZE;
    if (out->max_table_size > WASM_MAX_TABLE)
        out->max_table_size = WASM_MAX_TABLE;
    if (!out->max_call_depth)
        out->max_call_depth = DEFAULT_CALL_DEPTH;
    if (!out->stack_bytes)
        out->stack_bytes = DEFAULT_STACK_BYTES;
    if (out->stack_bytes < 4096)
        out->stack_bytes = 4096;
}

static union nano_wasm_val
eval_cexpr(const struct nano_wasm_instance *inst, const struct wasm__cexpr *ce)
{
    union nano_wasm_val v;

    v.u64 = 0;
    switch (ce->kind) {
    case WASM_CE_CONST:    v = ce->v; break;
    case WASM_CE_GLOBAL:   v = inst->globals[ce->idx]->v; break;
    case WASM_CE_REF_NULL: break;
    case WASM_CE_REF_FUNC: v.ref = inst->funcs[ce->idx]; break;
    }
    return v;
}

/* Import limits: the provided object must be at least as large as asked,
 * and no more growable than the import allows (spec 4.5.1, subtyping). */
static bool
limits_match(uint32_t min, uint32_t decl_max, const struct wasm__limits *want)
{
    if (min < want->min)
        return false;
    if (want->has_max && (decl_max == UINT32_MAX || decl_max > want->max))
        return false;
    return true;
}

static int
add_dep(struct nano_wasm_instance *inst, struct nano_wasm_instance *dep)
{
    for (uint32_t i = 0; i < inst->ndeps; i++)
        if (inst->deps[i] == dep)
            return 0;
    inst->deps[inst->ndeps++] = dep;
    dep->refs++;
    return 0;
}

static int
link_imports(struct nano_wasm_instance *inst, const struct nano_wasm_imports *imp,
             struct nano_wasm_trap *trap)
{
    const struct nano_wasm_module *m = inst->mod;
    static const char *const kinds[] = { "function", "table", "memory", "global" };

    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm__import *im = &m->imports[i];
        struct wasm__extern x;
        uint32_t idx = im->index;

        if (wasm__resolve(imp, im, &x) != 0)
            return link_error(trap, -ENOENT, "unknown import %s.%s", im->module, im->name);
        if (x.kind != im->kind)
            return link_error(trap, -EINVAL, "incompatible import type for %s.%s: "
                              "%s, not %s", im->module, im->name, kinds[x.kind & 3],
                              kinds[im->kind]);
        switch (im->kind) {
        case NANO_WASM_EXTERN_FUNC: {
            const struct wasm__functype *want = &m->types[im->d.type_idx];
            if (x.owner) {
                if (!wasm__functype_eq(x.func->type, want))
                    goto incompatible;
                inst->funcs[idx] = x.func;
            } else {
                struct nano_wasm_func *f = &inst->own_funcs[idx];
                if (!wasm__functype_eq(&x.host_type, want))
                    goto incompatible;
                f->type = want;
                f->inst = NULL;
                f->host = x.host_fn;
                f->user = x.host_user;
                inst->funcs[idx] = f;
            }
            break;
        }
        case NANO_WASM_EXTERN_TABLE:
            if (x.table->type != im->d.table.elem ||
                !limits_match(x.table->size, x.table->decl_max, &im->d.table.lim))
                goto incompatible;
            x.table->refs++;
            inst->tables[idx] = x.table;
            break;
        case NANO_WASM_EXTERN_MEMORY:
            if (!limits_match(x.mem->pages, x.mem->decl_max, &im->d.mem))
                goto incompatible;
            x.mem->refs++;
            inst->mems[idx] = x.mem;
            break;
        case NANO_WASM_EXTERN_GLOBAL:
            if (x.global->type != im->d.global.type || x.global->mut != im->d.global.mut)
                goto incompatible;
            x.global->refs++;
            inst->globals[idx] = x.global;
            break;
        }
        if (x.owner)
            add_dep(inst, x.owner);
        continue;
incompatible:
        return link_error(trap, -EINVAL, "incompatible import type for %s.%s",
                          im->module, im->name);
    }
    return 0;
}

static int
create_definitions(struct nano_wasm_instance *inst, struct nano_wasm_trap *trap)
{
    const struct nano_wasm_module *m = inst->mod;
    const struct nano_wasm_limits *lim = &inst->lim;

    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        struct nano_wasm_func *f = &inst->own_funcs[i];
        f->type = &m->types[m->func_type[i]];
        f->inst = inst;
        f->code = &m->code[i - m->nfunc_imports];
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const struct wasm__tabletype *tt = &m->tables[i];
        if (tt->lim.min > lim->max_table_size)
            return link_error(trap, -E2BIG, "table of %u elements exceeds the "
                              "limit of %u", tt->lim.min, lim->max_table_size);
        inst->tables[i] = wasm__table_new(tt->elem, tt->lim.min, tt->lim.max,
                                          lim->max_table_size);
        if (!inst->tables[i])
            return link_error(trap, -ENOMEM, "out of memory");
    }
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        const struct wasm__limits *ml = &m->mems[i];
        if (ml->min > lim->max_memory_pages)
            return link_error(trap, -E2BIG, "memory of %u pages exceeds the "
                              "limit of %u", ml->min, lim->max_memory_pages);
        inst->mems[i] = wasm__memory_new(ml->min, ml->max, lim->max_memory_pages);
        if (!inst->mems[i])
            return link_error(trap, -ENOMEM, "out of memory");
    }
    inst->mem0 = m->nmems ? inst->mems[0] : &no_memory;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        struct wasm__global *g = wasm__global_new(m->globals[i].type, m->globals[i].mut);
        if (!g)
            return link_error(trap, -ENOMEM, "out of memory");
        g->v = eval_cexpr(inst, &m->global_init[i - m->nglobal_imports]);
        inst->globals[i] = g;
    }
    return 0;
}

/* Strict 1.0: every active segment must fit before anything is written. */
static int
check_segments_mvp(struct nano_wasm_instance *inst, struct nano_wasm_trap *trap)
{
    const struct nano_wasm_module *m = inst->mod;

    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct wasm__elem *e = &m->elems[i];
        if (e->mode != WASM_SEG_ACTIVE)
            continue;
        uint32_t off = eval_cexpr(inst, &e->offset).u32;
        if ((uint64_t)off + e->count > inst->tables[e->table]->size)
            return link_error(trap, -EINVAL, "elements segment does not fit");
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct wasm__data *d = &m->datas[i];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        uint32_t off = eval_cexpr(inst, &d->offset).u32;
        if ((uint64_t)off + d->len > inst->mems[d->mem]->size)
            return link_error(trap, -EINVAL, "data segment does not fit");
    }
    return 0;
}

static int
init_segments(struct nano_wasm_instance *inst, struct nano_wasm_trap *trap)
{
    const struct nano_wasm_module *m = inst->mod;

    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct wasm__elem *e = &m->elems[i];
        if (e->mode == WASM_SEG_ACTIVE) {
            struct wasm__table *t = inst->tables[e->table];
            uint32_t off = eval_cexpr(inst, &e->offset).u32;
            if ((uint64_t)off + e->count > t->size) {
                trap->kind = NANO_WASM_TRAP_TABLE_OOB;
                snprintf(trap->msg, sizeof trap->msg, "out of bounds table access");
                return NANO_WASM_ETRAP;
            }
            for (uint32_t k = 0; k < e->count; k++)
                t->elems[off + k] = eval_cexpr(inst, &e->items[k]).ref;
        }
        if (e->mode != WASM_SEG_PASSIVE)
            inst->elem_dropped[i] = true;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct wasm__data *d = &m->datas[i];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        struct wasm__memory *mem = inst->mems[d->mem];
        uint32_t off = eval_cexpr(inst, &d->offset).u32;
        if ((uint64_t)off + d->len > mem->size) {
            trap->kind = NANO_WASM_TRAP_MEMORY_OOB;
            snprintf(trap->msg, sizeof trap->msg, "out of bounds memory access");
            return NANO_WASM_ETRAP;
        }
        if (d->len)
            memcpy(mem->data + off, d->bytes, d->len);
        inst->data_dropped[i] = true;
    }
    return 0;
}

int
nano_wasm_instantiate(struct nano_wasm_module *mod,
                      const struct nano_wasm_imports *imp,
                      const struct nano_wasm_limits *lim,
                      struct nano_wasm_instance **inst_out,
                      struct nano_wasm_trap *trap)
{
    struct nano_wasm_trap local;
    struct nano_wasm_instance *inst;
    const struct nano_wasm_module *m = mod;
    int rc;

    if (!trap)
        trap = &local;
    trap->kind = NANO_WASM_TRAP_NONE;
    trap->msg[0] = '\0';
    *inst_out = NULL;
    if (!(inst = calloc(1, sizeof *inst)))
        return link_error(trap, -ENOMEM, "out of memory");
    inst->refs = 1;
    inst->mod = mod;
    __atomic_add_fetch(&mod->refs, 1, __ATOMIC_ACQ_REL);
    apply_limits(&inst->lim, lim);
    inst->mem0 = &no_memory;
    inst->funcs = calloc((size_t)m->nfuncs + 1, sizeof *inst->funcs);
    inst->own_funcs = calloc((size_t)m->nfuncs + 1, sizeof *inst->own_funcs);
    inst->tables = calloc((size_t)m->ntables + 1, sizeof *inst->tables);
    inst->mems = calloc((size_t)m->nmems + 1, sizeof *inst->mems);
    inst->globals = calloc((size_t)m->nglobals + 1, sizeof *inst->globals);
    inst->elem_dropped = calloc((size_t)m->nelems + 1, sizeof *inst->elem_dropped);
    inst->data_dropped = calloc((size_t)m->ndatas + 1, sizeof *inst->data_dropped);
    inst->deps = calloc((size_t)m->nimports + 1, sizeof *inst->deps);
    if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->mems ||
        !inst->globals || !inst->elem_dropped || !inst->data_dropped || !inst->deps) {
        rc = link_error(trap, -ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = link_imports(inst, imp, trap)) || (rc = create_definitions(inst, trap)))
        goto fail;
    if (!(m->features & NANO_WASM_FEAT_BULK) &&
        (rc = check_segments_mvp(inst, trap)))
        goto fail;

    /* From here on, effects are visible to other instances (imported
     * tables and memories), so a trap still returns the instance. */
    *inst_out = inst;
    if ((rc = init_segments(inst, trap)))
        return rc;
    if (m->has_start) {
        rc = nano_wasm_call_func(inst, inst->funcs[m->start], NULL, 0, NULL, 0, trap);
        if (rc)
            return rc;
    }
    return 0;

fail:
    nano_wasm_instance_free(inst);
    return rc;
}

void
nano_wasm_instance_free(struct nano_wasm_instance *inst)
{
    const struct nano_wasm_module *m;

    if (!inst || --inst->refs > 0)
        return;
    m = inst->mod;
    for (uint32_t i = 0; inst->tables && i < m->ntables; i++)
        wasm__table_unref(inst->tables[i]);
    for (uint32_t i = 0; inst->mems && i < m->nmems; i++)
        wasm__memory_unref(inst->mems[i]);
    for (uint32_t i = 0; inst->globals && i < m->nglobals; i++)
        wasm__global_unref(inst->globals[i]);
    for (uint32_t i = 0; i < inst->ndeps; i++)
        nano_wasm_instance_free(inst->deps[i]);
    free(inst->funcs);
    free(inst->own_funcs);
    free(inst->tables);
    free(inst->mems);
    free(inst->globals);
    free(inst->elem_dropped);
    free(inst->data_dropped);
    free(inst->deps);
    free(inst->ex.stack);
    free(inst->ex.frames);
    nano_wasm_module_free(inst->mod);
    free(inst);
}

const struct nano_wasm_module *
nano_wasm_instance_module(const struct nano_wasm_instance *inst)
{
    return inst->mod;
}

void
nano_wasm_instance_set_user(struct nano_wasm_instance *inst, void *user)
{
    inst->user = user;
}

void *
nano_wasm_instance_user(const struct nano_wasm_instance *inst)
{
    return inst->user;
}

void
nano_wasm_instance_set_budget(struct nano_wasm_instance *inst, uint64_t fuel,
                              uint32_t timeout_ms)
{
    inst->lim.fuel = fuel;
    inst->lim.timeout_ms = timeout_ms;
}

uint64_t
nano_wasm_instance_fuel_used(const struct nano_wasm_instance *inst)
{
    return inst->ex.fuel_used;
}

/* ---- calls ------------------------------------------------------------------------------- */

static const struct wasm__export *
find_export(const struct nano_wasm_module *m, const char *name, size_t len,
            uint8_t kind)
{
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct wasm__export *ex = &m->exports[i];
        if (ex->kind == kind && ex->name_len == len && memcmp(ex->name, name, len) == 0)
            return ex;
    }
    return NULL;
}

struct nano_wasm_func *
nano_wasm_find_func_n(struct nano_wasm_instance *inst, const char *name,
                      size_t name_len)
{
    const struct wasm__export *ex = find_export(inst->mod, name, name_len,
                                                NANO_WASM_EXTERN_FUNC);

    return ex ? inst->funcs[ex->index] : NULL;
}

struct nano_wasm_func *
nano_wasm_find_func(struct nano_wasm_instance *inst, const char *name)
{
    return nano_wasm_find_func_n(inst, name, strlen(name));
}

void
nano_wasm_func_type(const struct nano_wasm_func *f, uint32_t *nparams,
                    const uint8_t **params, uint32_t *nresults,
                    const uint8_t **results)
{
    if (nparams)
        *nparams = f->type->nparams;
    if (params)
        *params = f->type->params;
    if (nresults)
        *nresults = f->type->nresults;
    if (results)
        *results = f->type->results;
}

static int
exec_prepare(struct nano_wasm_instance *inst)
{
    struct wasm__exec *ex = &inst->ex;
    size_t cells = inst->lim.stack_bytes / sizeof(union nano_wasm_val);

    if (ex->stack)
        return 0;
    ex->stack = malloc(cells * sizeof *ex->stack);
    ex->frames = malloc((size_t)inst->lim.max_call_depth * sizeof *ex->frames);
    if (!ex->stack || !ex->frames) {
        free(ex->stack);
        free(ex->frames);
        ex->stack = NULL;
        ex->frames = NULL;
        return -ENOMEM;
    }
    ex->stack_end = ex->stack + cells;
    ex->frames_end = ex->frames + inst->lim.max_call_depth;
    return 0;
}

int
nano_wasm_call_func(struct nano_wasm_instance *inst, struct nano_wasm_func *f,
                    const union nano_wasm_val *args, size_t nargs,
                    union nano_wasm_val *results, size_t nresults,
                    struct nano_wasm_trap *trap)
{
    struct nano_wasm_trap local;
    struct wasm__exec *ex = &inst->ex;
    int rc;

    if (!trap)
        trap = &local;
    trap->kind = NANO_WASM_TRAP_NONE;
    trap->msg[0] = '\0';
    if (!f || nargs != f->type->nparams || nresults != f->type->nresults) {
        snprintf(trap->msg, sizeof trap->msg, "wrong number of arguments or results");
        return -EINVAL;
    }
    if (call_nesting >= MAX_HOST_NESTING) {
        snprintf(trap->msg, sizeof trap->msg, "too many nested host calls");
        return -ELOOP;
    }
    if (!f->code) {
        /* a host function exported or re-exported: call it directly */
        union nano_wasm_val buf[WASM_MAX_RESULTS];
        struct wasm__exec tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.trap = trap;
        if (nargs)
            memcpy(buf, args, nargs * sizeof *buf);
        call_nesting++;
        rc = wasm__call_host(&tmp, f, inst, buf);
        call_nesting--;
        if (rc == 0 && nresults)
            memcpy(results, buf, nresults * sizeof *buf);
        return rc;
    }
    if (ex->busy) {
        snprintf(trap->msg, sizeof trap->msg, "instance is already running");
        return -EBUSY;
    }
    if ((rc = exec_prepare(inst))) {
        snprintf(trap->msg, sizeof trap->msg, "out of memory");
        return rc;
    }
    if (nargs > (size_t)(ex->stack_end - ex->stack)) {
        snprintf(trap->msg, sizeof trap->msg, "too many arguments for the stack");
        return -E2BIG;
    }
    ex->trap = trap;
    ex->fuel_limit = inst->lim.fuel;
    ex->fuel_left = inst->lim.fuel;
    ex->fuel_used = 0;
    ex->deadline_ns = inst->lim.timeout_ms
                      ? wasm__now_ns() + (int64_t)inst->lim.timeout_ms * 1000000
                      : 0;
    if (nargs)
        memcpy(ex->stack, args, nargs * sizeof *args);
    ex->busy = true;
    call_nesting++;
    rc = wasm__run(ex, f, ex->stack);
    call_nesting--;
    ex->busy = false;
    if (rc == 0 && nresults)
        memcpy(results, ex->stack, nresults * sizeof *results);
    return rc;
}

int
nano_wasm_call(struct nano_wasm_instance *inst, const char *name,
               const union nano_wasm_val *args, size_t nargs,
               union nano_wasm_val *results, size_t nresults,
               struct nano_wasm_trap *trap)
{
    struct nano_wasm_func *f = nano_wasm_find_func(inst, name);

    if (!f) {
        if (trap) {
            trap->kind = NANO_WASM_TRAP_NONE;
            snprintf(trap->msg, sizeof trap->msg, "no exported function \"%s\"", name);
        }
        return -ENOENT;
    }
    return nano_wasm_call_func(inst, f, args, nargs, results, nresults, trap);
}

/* ---- globals ---------------------------------------------------------------------------- */

int
nano_wasm_global_get(struct nano_wasm_instance *inst, const char *name,
                     size_t name_len, union nano_wasm_val *v, uint8_t *type)
{
    const struct wasm__export *ex = find_export(inst->mod, name, name_len,
                                                NANO_WASM_EXTERN_GLOBAL);
    struct wasm__global *g;

    if (!ex)
        return -ENOENT;
    g = inst->globals[ex->index];
    *v = g->v;
    if (type)
        *type = g->type;
    return 0;
}

int
nano_wasm_global_set(struct nano_wasm_instance *inst, const char *name,
                     size_t name_len, union nano_wasm_val v)
{
    const struct wasm__export *ex = find_export(inst->mod, name, name_len,
                                                NANO_WASM_EXTERN_GLOBAL);
    struct wasm__global *g;

    if (!ex)
        return -ENOENT;
    g = inst->globals[ex->index];
    if (!g->mut)
        return -EPERM;
    g->v = v;
    return 0;
}

/* ---- memory ------------------------------------------------------------------------------ */

uint8_t *
nano_wasm_memory(struct nano_wasm_instance *inst, size_t *len)
{
    *len = (size_t)inst->mem0->size;
    return inst->mem0->data;
}

void *
nano_wasm_memory_ptr(struct nano_wasm_instance *inst, uint64_t addr, uint64_t len)
{
    const struct wasm__memory *m = inst->mem0;

    if (addr > m->size || len > m->size - addr || !m->data)
        return NULL;
    return m->data + addr;
}

int
nano_wasm_memory_read(struct nano_wasm_instance *inst, uint64_t addr, void *buf,
                      size_t len)
{
    void *p = nano_wasm_memory_ptr(inst, addr, len);

    if (!p && len)
        return -EFAULT;
    if (len)
        memcpy(buf, p, len);
    return 0;
}

int
nano_wasm_memory_write(struct nano_wasm_instance *inst, uint64_t addr,
                       const void *buf, size_t len)
{
    void *p = nano_wasm_memory_ptr(inst, addr, len);

    if (!p && len)
        return -EFAULT;
    if (len)
        memcpy(p, buf, len);
    return 0;
}
