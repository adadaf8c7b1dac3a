/* SPDX-License-Identifier: MIT
 *
 * module.c - the load pipeline (decode, validate, compile), the module's
 * arena, and read-only queries on a loaded module.
 *
 * A module is immutable once nano_wasm_module_load() returns, so it may be
 * shared by threads and instantiated any number of times; its only mutable
 * field is the reference count taken by instances (atomic).
 *
 * Ownership: the module keeps the caller's bytes (data segments, custom
 * sections and function bodies are views into them); everything else it
 * allocates is in its arena and freed in one sweep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_int.h"

/* ---- arena ----------------------------------------------------------------------- */

struct wasm__arena_blk {
    struct wasm__arena_blk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 16384

void *
wasm__arena_alloc(struct wasm__arena *a, size_t n)
{
    struct wasm__arena_blk *b = a->head;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        b = calloc(1, sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        if (n > ARENA_BLOCK / 2 && a->head) {
            /* a big block: keep filling the current small one */
            b->next = a->head->next;
            a->head->next = b;
            b->used = n;
            a->used_total += n;
            return b->data;
        }
        b->next = a->head;
        a->head = b;
    }
    p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

void
wasm__arena_free(struct wasm__arena *a)
{
    struct wasm__arena_blk *b = a->head, *next;

    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->used_total = 0;
}

/* ---- names ------------------------------------------------------------------------------ */

const char *
nano_wasm_trap_name(enum nano_wasm_trap_kind kind)
{
    static const char *const names[] = {
#define NANO_WASM_TRAP_NAME(k, name, text) name,
        NANO_WASM_TRAP_KINDS(NANO_WASM_TRAP_NAME)
#undef NANO_WASM_TRAP_NAME
    };
    if ((unsigned)kind < sizeof names / sizeof names[0])
        return names[kind];
    return "?";
}

const char *
nano_wasm_type_name(enum nano_wasm_type t)
{
    switch (t) {
    case NANO_WASM_I32:       return "i32";
    case NANO_WASM_I64:       return "i64";
    case NANO_WASM_F32:       return "f32";
    case NANO_WASM_F64:       return "f64";
    case NANO_WASM_FUNCREF:   return "funcref";
    case NANO_WASM_EXTERNREF: return "externref";
    }
    return "?";
}

/* ---- load -------------------------------------------------------------------------------- */

int
nano_wasm_module_load(const uint8_t *bytes, size_t len,
                      const struct nano_wasm_limits *lim,
                      struct nano_wasm_module **mod_out,
                      struct nano_wasm_error *err)
{
    struct nano_wasm_error local_err;
    struct nano_wasm_module *m;
    struct wasm__reader r;
    int rc;

    if (!err)
        err = &local_err;
    err->offset = 0;
    err->msg[0] = '\0';
    *mod_out = NULL;
    if (!bytes && len)
        return -EINVAL;
    if (!(m = calloc(1, sizeof *m))) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -ENOMEM;
    }
    m->refs = 1;
    m->bytes = bytes;
    m->len = len;
    m->features = NANO_WASM_FEAT_ALL & ~(lim ? lim->features_off : 0);

    r.p = bytes;
    r.end = bytes + len;
    r.base = bytes;
    r.err = err;
    r.features = m->features;
    rc = wasm__decode_module(m, &r);
    if (!rc)
        rc = wasm__validate_module(m, err);
    if (!rc) {
        uint32_t ndefs = m->nfuncs - m->nfunc_imports;
        m->code = wasm__arena_alloc(&m->arena, (size_t)ndefs * sizeof *m->code + 1);
        if (!m->code)
            rc = -ENOMEM;
        for (uint32_t i = 0; !rc && i < ndefs; i++)
            rc = wasm__compile_func(m, i, err);
    }
    if (rc) {
        if (rc == -ENOMEM)
            snprintf(err->msg, sizeof err->msg, "out of memory");
        else if (!err->msg[0])
            snprintf(err->msg, sizeof err->msg, "invalid module");
        wasm__arena_free(&m->arena);
        free(m);
        return rc;
    }
    *mod_out = m;
    return 0;
}

void
nano_wasm_module_free(struct nano_wasm_module *mod)
{
    if (!mod)
        return;
    if (__atomic_sub_fetch(&mod->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    wasm__arena_free(&mod->arena);
    free(mod);
}

/* ---- queries ------------------------------------------------------------------------------ */

size_t
nano_wasm_module_import_count(const struct nano_wasm_module *mod)
{
    return mod->nimports;
}

size_t
nano_wasm_module_export_count(const struct nano_wasm_module *mod)
{
    return mod->nexports;
}

static void
fill_info(const struct nano_wasm_module *m, uint8_t kind, uint32_t index,
          struct nano_wasm_extern_info *out)
{
    out->kind = (enum nano_wasm_extern_kind)kind;
    out->max = UINT32_MAX;
    switch (kind) {
    case NANO_WASM_EXTERN_FUNC: {
        const struct wasm__functype *ft = &m->types[m->func_type[index]];
        out->nparams = ft->nparams;
        out->params = ft->params;
        out->nresults = ft->nresults;
        out->results = ft->results;
        break;
    }
    case NANO_WASM_EXTERN_TABLE:
        out->type = m->tables[index].elem;
        out->min = m->tables[index].lim.min;
        out->max = m->tables[index].lim.max;
        break;
    case NANO_WASM_EXTERN_MEMORY:
        out->min = m->mems[index].min;
        out->max = m->mems[index].max;
        break;
    case NANO_WASM_EXTERN_GLOBAL:
        out->type = m->globals[index].type;
        out->mut = m->globals[index].mut;
        break;
    }
}

int
nano_wasm_module_import(const struct nano_wasm_module *mod, size_t i,
                        struct nano_wasm_extern_info *out)
{
    const struct wasm__import *im;

    if (i >= mod->nimports)
        return -ENOENT;
    im = &mod->imports[i];
    memset(out, 0, sizeof *out);
    fill_info(mod, im->kind, im->index, out);
    out->module = im->module;
    out->module_len = im->module_len;
    out->name = im->name;
    out->name_len = im->name_len;
    return 0;
}

int
nano_wasm_module_export(const struct nano_wasm_module *mod, size_t i,
                        struct nano_wasm_extern_info *out)
{
    const struct wasm__export *ex;

    if (i >= mod->nexports)
        return -ENOENT;
    ex = &mod->exports[i];
    memset(out, 0, sizeof *out);
    fill_info(mod, ex->kind, ex->index, out);
    out->name = ex->name;
    out->name_len = ex->name_len;
    return 0;
}

static char
type_letter(uint8_t t)
{
    switch (t) {
    case NANO_WASM_I32:       return 'i';
    case NANO_WASM_I64:       return 'I';
    case NANO_WASM_F32:       return 'f';
    case NANO_WASM_F64:       return 'F';
    case NANO_WASM_EXTERNREF: return 'r';
    case NANO_WASM_FUNCREF:   return 'R';
    }
    return '?';
}

char *
nano_wasm_sig_string(const struct nano_wasm_extern_info *info, char *buf,
                     size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return buf;
#define PUT(ch) do { if (n + 1 < cap) buf[n++] = (ch); } while (0)
    PUT('(');
    for (uint32_t i = 0; i < info->nparams; i++)
        PUT(type_letter(info->params[i]));
    PUT(')');
    for (uint32_t i = 0; i < info->nresults; i++)
        PUT(type_letter(info->results[i]));
#undef PUT
    buf[n] = '\0';
    return buf;
}
