/* SPDX-License-Identifier: MIT
 *
 * host.c - the import set an embedder builds (host functions, host globals,
 * memories and tables, registered instances), import resolution, and what
 * a host callback can do through its struct nano_wasm_call_ctx.
 *
 * Ownership: the set owns copies of every name and signature; host objects
 * (globals, memories, tables) are refcounted, so an instance that linked
 * one keeps it after nano_wasm_imports_free().  A registered instance is
 * referenced until the set is freed.
 *
 * Resolution is a linear search, newest entry first (so a later
 * registration of the same module name shadows an earlier one, as the
 * spec's `register` does).  Import sets are small and searched only at
 * instantiation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_int.h"

struct import_ent {
    char *module, *name;
    size_t module_len, name_len;
    uint8_t kind;                       /* NANO_WASM_EXTERN_*, or INSTANCE */
    struct wasm__functype type;         /* FUNC */
    uint8_t types[2 * WASM_MAX_RESULTS];
    nano_wasm_host_fn *fn;
    void *user;
    struct wasm__global *global;
    struct wasm__memory *mem;
    struct wasm__table *table;
    struct nano_wasm_instance *inst;    /* INSTANCE */
};
#define KIND_INSTANCE 0xff

struct nano_wasm_imports {
    struct import_ent *ents;
    size_t n, cap;
};

struct nano_wasm_imports *
nano_wasm_imports_new(void)
{
    return calloc(1, sizeof(struct nano_wasm_imports));
}

void
nano_wasm_imports_free(struct nano_wasm_imports *imp)
{
    if (!imp)
        return;
    for (size_t i = 0; i < imp->n; i++) {
        struct import_ent *e = &imp->ents[i];
        free(e->module);
        free(e->name);
        wasm__global_unref(e->global);
        wasm__memory_unref(e->mem);
        wasm__table_unref(e->table);
        if (e->inst)
            nano_wasm_instance_free(e->inst);
    }
    free(imp->ents);
    free(imp);
}

static char *
dup_str(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);

    if (p)
        memcpy(p, s, n + 1);
    *len = n;
    return p;
}

/* New entry for module.name; -EEXIST if that name is taken. */
static int
add_ent(struct nano_wasm_imports *imp, const char *module, const char *name,
        uint8_t kind, struct import_ent **out)
{
    struct import_ent *e;

    if (!imp || !module || (kind != KIND_INSTANCE && !name))
        return -EINVAL;
    for (size_t i = 0; i < imp->n && kind != KIND_INSTANCE; i++)
        if (imp->ents[i].kind != KIND_INSTANCE &&
            strcmp(imp->ents[i].module, module) == 0 &&
            strcmp(imp->ents[i].name, name) == 0)
            return -EEXIST;
    if (imp->n == imp->cap) {
        size_t cap = imp->cap ? imp->cap * 2 : 16;
        struct import_ent *p = realloc(imp->ents, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        imp->ents = p;
        imp->cap = cap;
    }
    e = &imp->ents[imp->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    if (!(e->module = dup_str(module, &e->module_len)))
        return -ENOMEM;
    if (name && !(e->name = dup_str(name, &e->name_len))) {
        free(e->module);
        return -ENOMEM;
    }
    imp->n++;
    *out = e;
    return 0;
}

static int
sig_type(char c, uint8_t *t)
{
    switch (c) {
    case 'i': *t = NANO_WASM_I32; return 0;
    case 'I': *t = NANO_WASM_I64; return 0;
    case 'f': *t = NANO_WASM_F32; return 0;
    case 'F': *t = NANO_WASM_F64; return 0;
    case 'r': *t = NANO_WASM_EXTERNREF; return 0;
    case 'R': *t = NANO_WASM_FUNCREF; return 0;
    }
    return -EINVAL;
}

/* Parse "(params)results" into ft, whose arrays point into buf. */
static int
parse_sig(const char *sig, struct wasm__functype *ft, uint8_t *buf)
{
    const char *p = sig;
    uint32_t np = 0, nr = 0;
    uint32_t h = 2166136261u;

    if (!sig || *p++ != '(')
        return -EINVAL;
    for (; *p && *p != ')'; p++) {
        if (np == WASM_MAX_RESULTS || sig_type(*p, &buf[np]))
            return -EINVAL;
        np++;
    }
    if (*p++ != ')')
        return -EINVAL;
    for (; *p; p++) {
        if (nr == WASM_MAX_RESULTS || sig_type(*p, &buf[WASM_MAX_RESULTS + nr]))
            return -EINVAL;
        nr++;
    }
    ft->nparams = np;
    ft->nresults = nr;
    ft->params = buf;
    ft->results = buf + WASM_MAX_RESULTS;
    for (uint32_t k = 0; k < np; k++)
        h = (h ^ ft->params[k]) * 16777619u;
    h = (h ^ 0x60) * 16777619u;
    for (uint32_t k = 0; k < nr; k++)
        h = (h ^ ft->results[k]) * 16777619u;
    ft->hash = h;
    return 0;
}

int
nano_wasm_imports_add_func(struct nano_wasm_imports *imp, const char *module,
                           const char *name, const char *sig,
                           nano_wasm_host_fn *fn, void *user)
{
    struct wasm__functype ft;
    uint8_t buf[2 * WASM_MAX_RESULTS];
    struct import_ent *e;
    int rc;

    if (!fn || parse_sig(sig, &ft, buf))
        return -EINVAL;
    if ((rc = add_ent(imp, module, name, NANO_WASM_EXTERN_FUNC, &e)))
        return rc;
    memcpy(e->types, buf, sizeof buf);
    e->type = ft;                       /* arrays re-aimed by wasm__resolve */
    e->fn = fn;
    e->user = user;
    return 0;
}

int
nano_wasm_imports_add_global(struct nano_wasm_imports *imp, const char *module,
                             const char *name, enum nano_wasm_type t,
                             int mutable_, union nano_wasm_val v)
{
    struct wasm__global *g;
    struct import_ent *e;
    int rc;

    if (!(g = wasm__global_new((uint8_t)t, mutable_ ? 1 : 0)))
        return -ENOMEM;
    g->v = v;
    if ((rc = add_ent(imp, module, name, NANO_WASM_EXTERN_GLOBAL, &e))) {
        wasm__global_unref(g);
        return rc;
    }
    e->global = g;
    return 0;
}

int
nano_wasm_imports_add_memory(struct nano_wasm_imports *imp, const char *module,
                             const char *name, uint32_t min, uint32_t max)
{
    struct wasm__memory *mem;
    struct import_ent *e;
    int rc;

    if (min > WASM_MAX_PAGES || (max != UINT32_MAX && (max > WASM_MAX_PAGES || max < min)))
        return -EINVAL;
    if (!(mem = wasm__memory_new(min, max, max == UINT32_MAX ? WASM_MAX_PAGES : max)))
        return -ENOMEM;
    if ((rc = add_ent(imp, module, name, NANO_WASM_EXTERN_MEMORY, &e))) {
        wasm__memory_unref(mem);
        return rc;
    }
    e->mem = mem;
    return 0;
}

int
nano_wasm_imports_add_table(struct nano_wasm_imports *imp, const char *module,
                            const char *name, enum nano_wasm_type t,
                            uint32_t min, uint32_t max)
{
    struct wasm__table *tab;
    struct import_ent *e;
    int rc;

    if ((t != NANO_WASM_FUNCREF && t != NANO_WASM_EXTERNREF) || max < min ||
        min > WASM_MAX_TABLE)
        return -EINVAL;
    if (!(tab = wasm__table_new((uint8_t)t, min, max, max)))
        return -ENOMEM;
    if ((rc = add_ent(imp, module, name, NANO_WASM_EXTERN_TABLE, &e))) {
        wasm__table_unref(tab);
        return rc;
    }
    e->table = tab;
    return 0;
}

int
nano_wasm_imports_add_instance(struct nano_wasm_imports *imp, const char *module,
                               struct nano_wasm_instance *inst)
{
    struct import_ent *e;
    int rc;

    if (!inst)
        return -EINVAL;
    if ((rc = add_ent(imp, module, NULL, KIND_INSTANCE, &e)))
        return rc;
    inst->refs++;
    e->inst = inst;
    return 0;
}

/* ---- resolution (instance.c) ----------------------------------------------------- */

int
wasm__resolve(const struct nano_wasm_imports *imp, const struct wasm__import *im,
              struct wasm__extern *out)
{
    memset(out, 0, sizeof *out);
    if (!imp)
        return -ENOENT;
    for (size_t i = imp->n; i-- > 0;) {
        const struct import_ent *e = &imp->ents[i];
        if (e->module_len != im->module_len ||
            memcmp(e->module, im->module, im->module_len) != 0)
            continue;
        if (e->kind == KIND_INSTANCE) {
            const struct nano_wasm_module *m = e->inst->mod;
            for (uint32_t k = 0; k < m->nexports; k++) {
                const struct wasm__export *ex = &m->exports[k];
                if (ex->name_len != im->name_len ||
                    memcmp(ex->name, im->name, im->name_len) != 0)
                    continue;
                out->kind = ex->kind;
                out->owner = e->inst;
                switch (ex->kind) {
                case NANO_WASM_EXTERN_FUNC:   out->func = e->inst->funcs[ex->index]; break;
                case NANO_WASM_EXTERN_TABLE:  out->table = e->inst->tables[ex->index]; break;
                case NANO_WASM_EXTERN_MEMORY: out->mem = e->inst->mems[ex->index]; break;
                case NANO_WASM_EXTERN_GLOBAL: out->global = e->inst->globals[ex->index]; break;
                }
                return 0;
            }
            /* the spec's registered module shadows: not found there */
            return -ENOENT;
        }
        if (e->name_len != im->name_len ||
            memcmp(e->name, im->name, im->name_len) != 0)
            continue;
        out->kind = e->kind;
        out->host_type = e->type;       /* arrays may have moved: re-aim */
        out->host_type.params = (uint8_t *)e->types;
        out->host_type.results = (uint8_t *)e->types + WASM_MAX_RESULTS;
        out->host_fn = e->fn;
        out->host_user = e->user;
        out->global = e->global;
        out->mem = e->mem;
        out->table = e->table;
        return 0;
    }
    return -ENOENT;
}

/* ---- host calls ------------------------------------------------------------------------ */

int
wasm__call_host(struct wasm__exec *ex, struct nano_wasm_func *f,
                struct nano_wasm_instance *caller, union nano_wasm_val *args)
{
    union nano_wasm_val res[WASM_MAX_RESULTS];
    struct nano_wasm_call_ctx ctx = { caller, ex->trap };
    uint32_t nr = f->type->nresults;
    int rc;

    memset(res, 0, nr * sizeof res[0]);
    rc = f->host(&ctx, args, res, f->user);
    if (rc != 0) {
        if (ex->trap->kind != NANO_WASM_TRAP_HOST)
            wasm__trap(ex, NANO_WASM_TRAP_HOST, "host function failed");
        return NANO_WASM_ETRAP;
    }
    memcpy(args, res, nr * sizeof res[0]);
    return 0;
}

struct nano_wasm_instance *
nano_wasm_ctx_instance(struct nano_wasm_call_ctx *ctx)
{
    return ctx->inst;
}

void *
nano_wasm_ctx_user(struct nano_wasm_call_ctx *ctx)
{
    return ctx->inst ? ctx->inst->user : NULL;
}

void *
nano_wasm_ctx_mem(struct nano_wasm_call_ctx *ctx, uint64_t addr, uint64_t len)
{
    return ctx->inst ? nano_wasm_memory_ptr(ctx->inst, addr, len) : NULL;
}

int
nano_wasm_ctx_trap(struct nano_wasm_call_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->trap) {
        ctx->trap->kind = NANO_WASM_TRAP_HOST;
        va_start(ap, fmt);
        vsnprintf(ctx->trap->msg, sizeof ctx->trap->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
