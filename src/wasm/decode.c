/* SPDX-License-Identifier: MIT
 *
 * decode.c - the binary format: sections, LEB128, names, and one
 * instruction at a time.
 *
 * Strict by design: every byte of the module is accounted for.  A section
 * must be exactly as long as it says, LEB128 numbers must be minimal enough
 * to fit their type (spec 5.2.2), names must be valid UTF-8, sections come
 * in order and at most once.  Any violation returns -EINVAL with the byte
 * offset and a message in the spec's wording where there is one.
 *
 * Structure only: types are checked by validate.c, except where the binary
 * format itself forbids something (e.g. a 2.0 encoding in a 1.0 module).
 * Function bodies are only delimited here; validate.c and compile.c walk
 * them with wasm__read_instr(), so an ill-formed instruction is reported
 * by this file's code in either pass.
 *
 * Memory: all tables go into the module's arena; counts are checked against
 * the bytes left before anything is allocated, so a hostile count cannot
 * make us allocate more than a small multiple of the input size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_int.h"

/* ---- opcode table ------------------------------------------------------------ */

#define CLS_X  WASM_CLS_X, 0
#define CLS_H  WASM_CLS_H, 0
#define CLS_N  WASM_CLS_N, 0
#define CLS_L1 WASM_CLS_L, 1
#define CLS_L2 WASM_CLS_L, 2
#define CLS_L4 WASM_CLS_L, 4
#define CLS_L8 WASM_CLS_L, 8
#define CLS_S1 WASM_CLS_S, 1
#define CLS_S2 WASM_CLS_S, 2
#define CLS_S4 WASM_CLS_S, 4
#define CLS_S8 WASM_CLS_S, 8
#define FEAT_MVP     0
#define FEAT_SIGNEXT NANO_WASM_FEAT_SIGNEXT
#define FEAT_SATCONV NANO_WASM_FEAT_SATCONV
#define FEAT_BULK    NANO_WASM_FEAT_BULK
#define FEAT_REF     NANO_WASM_FEAT_REF

const struct wasm__opinfo wasm__ops[WASM_OP_COUNT] = {
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) \
    { #n, pfx, code, WASM_IMM_##imm, CLS_##cls, FEAT_##feat, pop, push },
#include "ops.def"
};

/* Opcode lookup, built at compile time from ops.def: index = the byte,
 * or 256 + the 0xfc sub-opcode; value = enum wasm__op + 1 (0 = illegal).
 * Read-only, so loading is safe from any number of threads. */
static const uint16_t op_lookup[256 + 32] = {
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) \
    [(pfx) ? 256 + (code) : (code)] = WASM_OP_##n + 1,
#include "ops.def"
};

/* ---- errors and primitive reads ------------------------------------------------ */

int
wasm__fail(struct wasm__reader *r, const uint8_t *at, const char *fmt, ...)
{
    va_list ap;

    if (r->err) {
        r->err->offset = (size_t)(at - r->base);
        va_start(ap, fmt);
        vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int
need(struct wasm__reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return WASM_FAIL(r, r->p, "unexpected end");
    return 0;
}

static int
read_byte(struct wasm__reader *r, uint8_t *b)
{
    if (r->p >= r->end)
        return WASM_FAIL(r, r->p, "unexpected end");
    *b = *r->p++;
    return 0;
}

/* Unsigned LEB128 of at most `bits` bits (32 or 64). */
static int
read_uleb(struct wasm__reader *r, unsigned bits, uint64_t *v)
{
    const uint8_t *start = r->p;
    uint64_t result = 0;
    unsigned shift = 0, maxbytes = (bits + 6) / 7;

    for (unsigned i = 0;; i++) {
        uint8_t b;
        if (r->p >= r->end)
            return WASM_FAIL(r, r->p, "unexpected end");
        b = *r->p++;
        if (i == maxbytes - 1) {
            /* last byte: no continuation, unused bits zero */
            if (b & 0x80)
                return WASM_FAIL(r, start, "integer representation too long");
            unsigned used = bits - shift;
            if (used < 7 && (b >> used) != 0)
                return WASM_FAIL(r, start, "integer too large");
            result |= (uint64_t)b << shift;
            break;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *v = result;
    return 0;
}

/* Signed LEB128 of at most `bits` bits (32, 33 or 64). */
static int
read_sleb(struct wasm__reader *r, unsigned bits, int64_t *v)
{
    const uint8_t *start = r->p;
    uint64_t result = 0;
    unsigned shift = 0, maxbytes = (bits + 6) / 7;
    uint8_t b = 0;

    for (unsigned i = 0;; i++) {
        if (r->p >= r->end)
            return WASM_FAIL(r, r->p, "unexpected end");
        b = *r->p++;
        if (i == maxbytes - 1) {
            if (b & 0x80)
                return WASM_FAIL(r, start, "integer representation too long");
            /* the unused high bits must all equal the sign bit */
            unsigned used = bits - shift;              /* 1..7 */
            if (used < 7) {
                uint8_t mask = (uint8_t)((0x7fu >> used) << used);
                uint8_t high = b & mask;
                if (((b >> (used - 1)) & 1) ? high != mask : high != 0)
                    return WASM_FAIL(r, start, "integer too large");
            }
            result |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        result |= ~(uint64_t)0 << shift;
    *v = (int64_t)result;
    return 0;
}

int
wasm__read_u32(struct wasm__reader *r, uint32_t *v)
{
    uint64_t x = 0;
    int rc = read_uleb(r, 32, &x);

    if (rc == 0)
        *v = (uint32_t)x;
    return rc;
}

/* A count of things each at least `min_size` bytes long. */
static int
read_count(struct wasm__reader *r, size_t min_size, uint32_t *n)
{
    const uint8_t *at = r->p;
    int rc = wasm__read_u32(r, n);

    if (rc)
        return rc;
    if (min_size && (uint64_t)*n * min_size > (uint64_t)(r->end - r->p))
        return WASM_FAIL(r, at, "length out of bounds");
    return 0;
}

static bool
utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        unsigned len;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2; cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3; cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4; cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* A name: copied into the arena with a NUL after it. */
static int
read_name(struct wasm__reader *r, struct wasm__arena *a, const char **out,
          uint32_t *len_out)
{
    const uint8_t *at = r->p;
    uint32_t n;
    char *s;
    int rc;

    if ((rc = wasm__read_u32(r, &n)))
        return rc;
    if (n > (size_t)(r->end - r->p))
        return WASM_FAIL(r, at, "length out of bounds");
    if (!utf8_valid(r->p, n))
        return WASM_FAIL(r, r->p, "malformed UTF-8 encoding");
    if (a) {
        if (!(s = wasm__arena_alloc(a, (size_t)n + 1)))
            return -ENOMEM;
        memcpy(s, r->p, n);
        *out = s;
        *len_out = n;
    }
    r->p += n;
    return 0;
}

static bool
feat(const struct wasm__reader *r, uint32_t f)
{
    return (r->features & f) != 0;
}

static int
read_valtype(struct wasm__reader *r, uint8_t *t)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    int rc;

    if ((rc = read_byte(r, &b)))
        return rc;
    switch (b) {
    case NANO_WASM_I32: case NANO_WASM_I64: case NANO_WASM_F32: case NANO_WASM_F64:
        break;
    case NANO_WASM_FUNCREF: case NANO_WASM_EXTERNREF:
        if (!feat(r, NANO_WASM_FEAT_REF))
            return WASM_FAIL(r, at, "malformed value type");
        break;
    default:
        return WASM_FAIL(r, at, "malformed value type");
    }
    *t = b;
    return 0;
}

static int
read_reftype(struct wasm__reader *r, uint8_t *t)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    int rc;

    if ((rc = read_byte(r, &b)))
        return rc;
    if (b == NANO_WASM_FUNCREF ||
        (b == NANO_WASM_EXTERNREF && feat(r, NANO_WASM_FEAT_REF))) {
        *t = b;
        return 0;
    }
    return WASM_FAIL(r, at, "malformed reference type");
}

/* Limits: the flag is one byte (0 min, 1 min+max); 2.0 has no others. */
static int
read_limits(struct wasm__reader *r, struct wasm__limits *l)
{
    const uint8_t *at = r->p;
    uint8_t flags = 0;
    int rc;

    l->off = (uint32_t)(at - r->base);
    if ((rc = read_byte(r, &flags)))
        return rc;
    if (flags & 0x80)
        return WASM_FAIL(r, at, "integer representation too long");
    if (flags > 1)
        return WASM_FAIL(r, at, "integer too large");
    if ((rc = wasm__read_u32(r, &l->min)))
        return rc;
    l->has_max = flags == 1;
    l->max = UINT32_MAX;
    if (l->has_max && (rc = wasm__read_u32(r, &l->max)))
        return rc;
    return 0;
}

static int
read_tabletype(struct wasm__reader *r, struct wasm__tabletype *t)
{
    int rc = read_reftype(r, &t->elem);

    return rc ? rc : read_limits(r, &t->lim);
}

static int
read_globaltype(struct wasm__reader *r, struct wasm__globaltype *g)
{
    const uint8_t *at;
    uint8_t m;
    int rc;

    if ((rc = read_valtype(r, &g->type)))
        return rc;
    at = r->p;
    if ((rc = read_byte(r, &m)))
        return rc;
    if (m > 1)
        return WASM_FAIL(r, at, "malformed mutability");
    g->mut = m;
    return 0;
}

static int
read_zero_byte(struct wasm__reader *r)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    int rc;

    if ((rc = read_byte(r, &b)))
        return rc;
    if (b != 0)
        return WASM_FAIL(r, at, "zero byte expected");
    return 0;
}

/* ---- instructions ------------------------------------------------------------- */

int
wasm__read_instr(struct wasm__reader *r, struct wasm__instr *in)
{
    const struct wasm__opinfo *oi;
    uint8_t b;
    uint16_t idx;
    uint64_t u;
    int64_t s;
    int rc;

    in->at = r->p;
    if ((rc = read_byte(r, &b)))
        return rc;
    if (b == 0xfc) {
        uint32_t sub;
        if ((rc = wasm__read_u32(r, &sub)))
            return rc;
        idx = sub < 32 ? op_lookup[256 + sub] : 0;
    } else {
        idx = op_lookup[b];
    }
    if (!idx)
        return WASM_FAIL(r, in->at, "illegal opcode");
    in->op = (uint16_t)(idx - 1);
    oi = &wasm__ops[in->op];
    if (oi->feat && !feat(r, oi->feat))
        return WASM_FAIL(r, in->at, "illegal opcode");

    switch ((enum wasm__imm)oi->imm) {
    case WASM_IMM_NONE:
        return 0;
    case WASM_IMM_BLOCKTYPE:
        if ((rc = read_sleb(r, 33, &s)))
            return rc;
        if (s >= 0) {
            if (!feat(r, NANO_WASM_FEAT_MULTI))
                return WASM_FAIL(r, in->at + 1, "malformed block type");
        } else if (s != WASM_BT_EMPTY) {
            uint8_t t = (uint8_t)(s + 0x80);
            if (!(t == NANO_WASM_I32 || t == NANO_WASM_I64 ||
                  t == NANO_WASM_F32 || t == NANO_WASM_F64 ||
                  (feat(r, NANO_WASM_FEAT_REF) &&
                   (t == NANO_WASM_FUNCREF || t == NANO_WASM_EXTERNREF))))
                return WASM_FAIL(r, in->at + 1, "malformed value type");
        }
        in->bt = s;
        return 0;
    case WASM_IMM_LABEL:
    case WASM_IMM_FUNC:
    case WASM_IMM_LOCAL:
    case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE:
    case WASM_IMM_DATA:
    case WASM_IMM_ELEM:
        return wasm__read_u32(r, &in->a);
    case WASM_IMM_BR_TABLE:
        if ((rc = read_count(r, 1, &in->count)))
            return rc;
        in->vec = r->p;
        for (uint32_t i = 0; i <= in->count; i++)
            if ((rc = wasm__read_u32(r, &in->a)))
                return rc;
        return 0;                       /* in->a: the default label */
    case WASM_IMM_CALL_IND:
        if ((rc = wasm__read_u32(r, &in->a)))
            return rc;
        if (feat(r, NANO_WASM_FEAT_REF))
            return wasm__read_u32(r, &in->b);
        in->b = 0;
        return read_zero_byte(r);
    case WASM_IMM_SELECT_T:
        if ((rc = read_count(r, 1, &in->count)))
            return rc;
        in->a = 0;
        for (uint32_t i = 0; i < in->count; i++) {
            uint8_t t;
            if ((rc = read_valtype(r, &t)))
                return rc;
            if (i == 0)
                in->a = t;
        }
        return 0;
    case WASM_IMM_MEMARG:
        if ((rc = wasm__read_u32(r, &in->a)))
            return rc;
        if (in->a >= 64)        /* bit 6 would select a memory (multi-memory) */
            return WASM_FAIL(r, in->at + 1, "malformed memop flags");
        return wasm__read_u32(r, &in->offset);
    case WASM_IMM_MEM0:
        in->a = 0;
        return read_zero_byte(r);
    case WASM_IMM_I32:
        if ((rc = read_sleb(r, 32, &s)))
            return rc;
        in->v.u64 = 0;
        in->v.i32 = (int32_t)s;
        return 0;
    case WASM_IMM_I64:
        if ((rc = read_sleb(r, 64, &s)))
            return rc;
        in->v.i64 = s;
        return 0;
    case WASM_IMM_F32: {
        uint32_t bits;
        if ((rc = need(r, 4)))
            return rc;
        bits = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
               (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
        r->p += 4;
        in->v.u64 = 0;
        in->v.u32 = bits;
        return 0;
    }
    case WASM_IMM_F64:
        if ((rc = need(r, 8)))
            return rc;
        u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | r->p[i];
        r->p += 8;
        in->v.u64 = u;
        return 0;
    case WASM_IMM_REFTYPE: {
        uint8_t t;
        if ((rc = read_reftype(r, &t)))
            return rc;
        in->a = t;
        return 0;
    }
    case WASM_IMM_MEM_INIT:
        if ((rc = wasm__read_u32(r, &in->a)))
            return rc;
        return read_zero_byte(r);
    case WASM_IMM_MEM_COPY:
        if ((rc = read_zero_byte(r)))
            return rc;
        return read_zero_byte(r);
    case WASM_IMM_TABLE_INIT:
    case WASM_IMM_TABLE_COPY:
        if ((rc = wasm__read_u32(r, &in->a)))
            return rc;
        return wasm__read_u32(r, &in->b);
    }
    return WASM_FAIL(r, in->at, "illegal opcode");
}

/* ---- constant expressions ---------------------------------------------------------- */

/*
 * Reads instructions up to `end`.  A constant expression holds exactly one
 * constant instruction; anything else is reported (with the spec's wording)
 * as the validation error it is, since the decoder is where we see it.
 */
static int
read_cexpr(struct wasm__reader *r, struct wasm__cexpr *ce)
{
    struct wasm__instr in;
    const uint8_t *first = r->p;
    unsigned n = 0;
    int rc;

    memset(ce, 0, sizeof *ce);
    ce->off = (uint32_t)(first - r->base);
    for (;;) {
        if ((rc = wasm__read_instr(r, &in)))
            return rc;
        if (in.op == WASM_OP_end)
            break;
        n++;
        switch (in.op) {
        case WASM_OP_i32_const:
            ce->kind = WASM_CE_CONST; ce->type = NANO_WASM_I32; ce->v = in.v;
            break;
        case WASM_OP_i64_const:
            ce->kind = WASM_CE_CONST; ce->type = NANO_WASM_I64; ce->v = in.v;
            break;
        case WASM_OP_f32_const:
            ce->kind = WASM_CE_CONST; ce->type = NANO_WASM_F32; ce->v = in.v;
            break;
        case WASM_OP_f64_const:
            ce->kind = WASM_CE_CONST; ce->type = NANO_WASM_F64; ce->v = in.v;
            break;
        case WASM_OP_global_get:
            ce->kind = WASM_CE_GLOBAL; ce->idx = in.a; ce->type = 0;
            break;
        case WASM_OP_ref_null:
            ce->kind = WASM_CE_REF_NULL; ce->type = (uint8_t)in.a;
            break;
        case WASM_OP_ref_func:
            ce->kind = WASM_CE_REF_FUNC; ce->idx = in.a;
            ce->type = NANO_WASM_FUNCREF;
            break;
        default:
            return WASM_FAIL(r, in.at, "constant expression required");
        }
    }
    if (n != 1)
        return WASM_FAIL(r, first, "type mismatch");
    return 0;
}

/* ---- sections ------------------------------------------------------------------- */

static int
sec_type(struct nano_wasm_module *m, struct wasm__reader *r)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 3, &n)))
        return rc;
    if (!(m->types = wasm__arena_alloc(&m->arena, (size_t)n * sizeof *m->types)))
        return -ENOMEM;
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__functype *ft = &m->types[i];
        const uint8_t *at = r->p;
        uint8_t form;
        uint32_t np, nr;
        uint32_t h = 2166136261u;

        ft->off = (uint32_t)(at - r->base);
        if ((rc = read_byte(r, &form)))
            return rc;
        if (form != 0x60)
            return WASM_FAIL(r, at, "integer representation too long");
        if ((rc = read_count(r, 1, &np)))
            return rc;
        if (!(ft->params = wasm__arena_alloc(&m->arena, np + 1u)))
            return -ENOMEM;
        for (uint32_t k = 0; k < np; k++)
            if ((rc = read_valtype(r, &ft->params[k])))
                return rc;
        if ((rc = read_count(r, 1, &nr)))
            return rc;
        if (!(ft->results = wasm__arena_alloc(&m->arena, nr + 1u)))
            return -ENOMEM;
        for (uint32_t k = 0; k < nr; k++)
            if ((rc = read_valtype(r, &ft->results[k])))
                return rc;
        ft->nparams = np;
        ft->nresults = nr;
        for (uint32_t k = 0; k < np; k++)
            h = (h ^ ft->params[k]) * 16777619u;
        h = (h ^ 0x60) * 16777619u;
        for (uint32_t k = 0; k < nr; k++)
            h = (h ^ ft->results[k]) * 16777619u;
        ft->hash = h;
    }
    return 0;
}

static int
sec_import(struct nano_wasm_module *m, struct wasm__reader *r)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 4, &n)))
        return rc;
    if (!(m->imports = wasm__arena_alloc(&m->arena, (size_t)n * sizeof *m->imports)))
        return -ENOMEM;
    m->nimports = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__import *im = &m->imports[i];
        const uint8_t *at;
        uint8_t kind;

        im->off = (uint32_t)(r->p - r->base);
        if ((rc = read_name(r, &m->arena, &im->module, &im->module_len)) ||
            (rc = read_name(r, &m->arena, &im->name, &im->name_len)))
            return rc;
        at = r->p;
        if ((rc = read_byte(r, &kind)))
            return rc;
        im->kind = kind;
        switch (kind) {
        case NANO_WASM_EXTERN_FUNC:
            rc = wasm__read_u32(r, &im->d.type_idx);
            im->index = m->nfunc_imports++;
            break;
        case NANO_WASM_EXTERN_TABLE:
            rc = read_tabletype(r, &im->d.table);
            im->index = m->ntable_imports++;
            break;
        case NANO_WASM_EXTERN_MEMORY:
            rc = read_limits(r, &im->d.mem);
            im->index = m->nmem_imports++;
            break;
        case NANO_WASM_EXTERN_GLOBAL:
            rc = read_globaltype(r, &im->d.global);
            im->index = m->nglobal_imports++;
            break;
        default:
            return WASM_FAIL(r, at, "malformed import kind");
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Function section: only the count and type indices of defined functions;
 * the index space arrays are built once both it and imports are known. */
static int
sec_function(struct nano_wasm_module *m, struct wasm__reader *r,
             uint32_t **types_out, uint32_t *n_out)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 1, &n)))
        return rc;
    if (!(*types_out = wasm__arena_alloc(&m->arena, (size_t)n * 4 + 4)))
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = wasm__read_u32(r, &(*types_out)[i])))
            return rc;
    *n_out = n;
    return 0;
}

static int
sec_table(struct nano_wasm_module *m, struct wasm__reader *r,
          struct wasm__tabletype **out, uint32_t *n_out)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 2, &n)))
        return rc;
    if (!(*out = wasm__arena_alloc(&m->arena, (size_t)n * sizeof **out)))
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = read_tabletype(r, &(*out)[i])))
            return rc;
    *n_out = n;
    return 0;
}

static int
sec_memory(struct nano_wasm_module *m, struct wasm__reader *r,
           struct wasm__limits **out, uint32_t *n_out)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 2, &n)))
        return rc;
    if (!(*out = wasm__arena_alloc(&m->arena, (size_t)n * sizeof **out)))
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = read_limits(r, &(*out)[i])))
            return rc;
    *n_out = n;
    return 0;
}

static int
sec_global(struct nano_wasm_module *m, struct wasm__reader *r,
           struct wasm__globaltype **types, struct wasm__cexpr **inits,
           uint32_t *n_out)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 4, &n)))
        return rc;
    if (!(*types = wasm__arena_alloc(&m->arena, (size_t)n * sizeof **types)) ||
        !(*inits = wasm__arena_alloc(&m->arena, (size_t)n * sizeof **inits)))
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_globaltype(r, &(*types)[i])) ||
            (rc = read_cexpr(r, &(*inits)[i])))
            return rc;
    }
    *n_out = n;
    return 0;
}

static int
sec_export(struct nano_wasm_module *m, struct wasm__reader *r)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 3, &n)))
        return rc;
    if (!(m->exports = wasm__arena_alloc(&m->arena, (size_t)n * sizeof *m->exports)))
        return -ENOMEM;
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__export *ex = &m->exports[i];
        const uint8_t *at;
        uint8_t kind;

        ex->off = (uint32_t)(r->p - r->base);
        if ((rc = read_name(r, &m->arena, &ex->name, &ex->name_len)))
            return rc;
        at = r->p;
        if ((rc = read_byte(r, &kind)))
            return rc;
        if (kind > NANO_WASM_EXTERN_GLOBAL)
            return WASM_FAIL(r, at, "malformed export kind");
        ex->kind = kind;
        if ((rc = wasm__read_u32(r, &ex->index)))
            return rc;
    }
    return 0;
}

static int
sec_elem(struct nano_wasm_module *m, struct wasm__reader *r)
{
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 2, &n)))
        return rc;
    if (!(m->elems = wasm__arena_alloc(&m->arena, (size_t)n * sizeof *m->elems)))
        return -ENOMEM;
    m->nelems = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__elem *e = &m->elems[i];
        const uint8_t *at = r->p;
        uint32_t flags, cnt;
        bool exprs;

        e->off = (size_t)(at - r->base);
        if ((rc = wasm__read_u32(r, &flags)))
            return rc;
        if (flags > 7 ||
            (flags != 0 && !feat(r, NANO_WASM_FEAT_BULK | NANO_WASM_FEAT_REF))) {
            if (!feat(r, NANO_WASM_FEAT_BULK | NANO_WASM_FEAT_REF) && flags != 0)
                /* 1.0 reads this field as a table index */
                return WASM_FAIL(r, at, "unknown table %u", flags);
            return WASM_FAIL(r, at, "malformed elements segment kind");
        }
        e->mode = (flags & 1) ? ((flags & 2) ? WASM_SEG_DECLARATIVE
                                            : WASM_SEG_PASSIVE)
                              : WASM_SEG_ACTIVE;
        e->table = 0;
        e->type = NANO_WASM_FUNCREF;
        exprs = (flags & 4) != 0;
        if (e->mode == WASM_SEG_ACTIVE) {
            if ((flags & 2) && (rc = wasm__read_u32(r, &e->table)))
                return rc;
            if ((rc = read_cexpr(r, &e->offset)))
                return rc;
        }
        if (flags & 3) {
            /* elemkind (0x00 = funcref) or reftype */
            if (exprs) {
                if ((rc = read_reftype(r, &e->type)))
                    return rc;
            } else {
                const uint8_t *kat = r->p;
                uint8_t k;
                if ((rc = read_byte(r, &k)))
                    return rc;
                if (k != 0)
                    return WASM_FAIL(r, kat, "malformed element kind");
            }
        }
        if ((rc = read_count(r, 1, &cnt)))
            return rc;
        if (!(e->items = wasm__arena_alloc(&m->arena, (size_t)cnt * sizeof *e->items + 1)))
            return -ENOMEM;
        e->count = cnt;
        for (uint32_t k = 0; k < cnt; k++) {
            if (exprs) {
                if ((rc = read_cexpr(r, &e->items[k])))
                    return rc;
            } else {
                e->items[k].kind = WASM_CE_REF_FUNC;
                e->items[k].type = NANO_WASM_FUNCREF;
                if ((rc = wasm__read_u32(r, &e->items[k].idx)))
                    return rc;
            }
        }
    }
    return 0;
}

static int
sec_code(struct nano_wasm_module *m, struct wasm__reader *r, uint32_t ndefs)
{
    const uint8_t *at = r->p;
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 2, &n)))
        return rc;
    if (n != ndefs)
        return WASM_FAIL(r, at, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__func *f = &m->funcs[i];
        const struct wasm__functype *ft = &m->types[f->type_idx];
        const uint8_t *size_at = r->p, *body_end, *groups;
        uint32_t size, ngroups;
        uint64_t total = 0;

        if ((rc = wasm__read_u32(r, &size)))
            return rc;
        if (size > (size_t)(r->end - r->p))
            return WASM_FAIL(r, size_at, "unexpected end");
        body_end = r->p + size;
        struct wasm__reader br = *r;
        br.end = body_end;
        if ((rc = read_count(&br, 2, &ngroups)))
            return rc;
        groups = br.p;
        for (uint32_t g = 0; g < ngroups; g++) {
            const uint8_t *cat = br.p;
            uint32_t cnt;
            uint8_t t;
            if ((rc = wasm__read_u32(&br, &cnt)))
                return rc;
            total += cnt;
            if (total + ft->nparams > WASM_MAX_LOCALS) {
                int e = wasm__fail(&br, cat, "too many locals");
                return total > UINT32_MAX ? e : -E2BIG;
            }
            if ((rc = read_valtype(&br, &t)))
                return rc;
        }
        f->nlocals = (uint32_t)total;
        if (!(f->local_types = wasm__arena_alloc(&m->arena, (size_t)total + 1)))
            return -ENOMEM;
        /* second pass fills the types (already checked) */
        br.p = groups;
        for (uint32_t g = 0, k = 0; g < ngroups; g++) {
            uint32_t cnt;
            uint8_t t;
            wasm__read_u32(&br, &cnt);
            read_valtype(&br, &t);
            memset(f->local_types + k, t, cnt);
            k += cnt;
        }
        f->body = br.p;
        f->body_len = (size_t)(body_end - br.p);
        f->body_off = (size_t)(br.p - r->base);
        r->p = body_end;
    }
    return 0;
}

static int
sec_data(struct nano_wasm_module *m, struct wasm__reader *r)
{
    const uint8_t *at = r->p;
    uint32_t n;
    int rc;

    if ((rc = read_count(r, 1, &n)))
        return rc;
    if (m->has_datacount && n != m->datacount)
        return WASM_FAIL(r, at, "data count and data section have inconsistent lengths");
    if (!(m->datas = wasm__arena_alloc(&m->arena, (size_t)n * sizeof *m->datas)))
        return -ENOMEM;
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm__data *d = &m->datas[i];
        const uint8_t *fat = r->p;
        uint32_t flags, len;

        d->off = (uint32_t)(fat - r->base);
        if ((rc = wasm__read_u32(r, &flags)))
            return rc;
        if (flags > 2 || (flags != 0 && !feat(r, NANO_WASM_FEAT_BULK))) {
            if (!feat(r, NANO_WASM_FEAT_BULK) && flags != 0)
                return WASM_FAIL(r, fat, "unknown memory %u", flags);
            return WASM_FAIL(r, fat, "malformed data segment kind");
        }
        d->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
        d->mem = 0;
        if (flags == 2 && (rc = wasm__read_u32(r, &d->mem)))
            return rc;
        if (d->mode == WASM_SEG_ACTIVE && (rc = read_cexpr(r, &d->offset)))
            return rc;
        const uint8_t *lat = r->p;
        if ((rc = wasm__read_u32(r, &len)))
            return rc;
        if (len > (size_t)(r->end - r->p))
            return WASM_FAIL(r, lat, "unexpected end of section or function");
        d->bytes = r->p;
        d->len = len;
        r->p += len;
    }
    return 0;
}

/* Section ids in the order they must appear (datacount sits before code). */
static int
section_rank(uint8_t id)
{
    static const int8_t rank[13] = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10,
    };
    return id < 13 ? rank[id] : -1;
}

int
wasm__decode_module(struct nano_wasm_module *m, struct wasm__reader *r)
{
    static const uint8_t magic[4] = { 0, 'a', 's', 'm' };
    uint32_t *def_types = NULL, ndefs = 0;
    struct wasm__tabletype *deftables = NULL;
    struct wasm__limits *defmems = NULL;
    struct wasm__globaltype *defglobals = NULL;
    uint32_t ndeftables = 0, ndefmems = 0, ndefglobals = 0;
    bool have_code = false;
    int last_rank = 0;
    int rc;

    if (r->end - r->p < 4 || memcmp(r->p, magic, 4) != 0)
        return WASM_FAIL(r, r->p, "magic header not detected");
    r->p += 4;
    if (r->end - r->p < 4)
        return WASM_FAIL(r, r->p, "unexpected end");
    if (r->p[0] != 1 || r->p[1] != 0 || r->p[2] != 0 || r->p[3] != 0)
        return WASM_FAIL(r, r->p, "unknown binary version");
    r->p += 4;

    while (r->p < r->end) {
        const uint8_t *sec_at = r->p, *size_at;
        uint8_t id;
        uint32_t size;
        int rank;

        read_byte(r, &id);
        rank = section_rank(id);
        if (rank < 0 || (id == 12 && !feat(r, NANO_WASM_FEAT_BULK)))
            return WASM_FAIL(r, sec_at, "malformed section id");
        size_at = r->p;
        if ((rc = wasm__read_u32(r, &size)))
            return rc;
        if (size > (size_t)(r->end - r->p))
            return WASM_FAIL(r, size_at, "length out of bounds");
        if (id != 0) {
            if (rank <= last_rank)
                return WASM_FAIL(r, sec_at, "unexpected content after last section");
            last_rank = rank;
        }
        struct wasm__reader s = *r;
        s.end = r->p + size;
        switch (id) {
        case 0: {
            const char *name;
            uint32_t nlen;
            rc = read_name(&s, NULL, &name, &nlen);
            s.p = s.end;                 /* contents are not interpreted */
            break;
        }
        case 1: rc = sec_type(m, &s); break;
        case 2: rc = sec_import(m, &s); break;
        case 3: rc = sec_function(m, &s, &def_types, &ndefs); break;
        case 4: rc = sec_table(m, &s, &deftables, &ndeftables); break;
        case 5: rc = sec_memory(m, &s, &defmems, &ndefmems); break;
        case 6: rc = sec_global(m, &s, &defglobals, &m->global_init, &ndefglobals); break;
        case 7: rc = sec_export(m, &s); break;
        case 8:
            m->start_off = (uint32_t)(s.p - r->base);
            rc = wasm__read_u32(&s, &m->start);
            m->has_start = true;
            break;
        case 9: rc = sec_elem(m, &s); break;
        case 12:
            rc = wasm__read_u32(&s, &m->datacount);
            m->has_datacount = true;
            break;
        case 10:
            have_code = true;
            /* build the function index space now: the code needs it */
            if (!m->funcs) {
                m->funcs = wasm__arena_alloc(&m->arena, (size_t)ndefs * sizeof *m->funcs + 1);
                if (!m->funcs)
                    return -ENOMEM;
                for (uint32_t i = 0; i < ndefs; i++)
                    m->funcs[i].type_idx = def_types[i];
            }
            for (uint32_t i = 0; i < ndefs; i++)
                if (def_types[i] >= m->ntypes)
                    return WASM_FAIL(r, sec_at, "unknown type");
            rc = sec_code(m, &s, ndefs);
            break;
        case 11: rc = sec_data(m, &s); break;
        }
        if (rc)
            return rc;
        if (s.p != s.end)
            return WASM_FAIL(r, s.p, "section size mismatch");
        r->p = s.end;
    }
    if (ndefs && !have_code)
        return WASM_FAIL(r, r->p, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        return WASM_FAIL(r, r->p, "data count and data section have inconsistent lengths");

    /* index spaces: imports first, then definitions */
    m->nfuncs = m->nfunc_imports + ndefs;
    m->ntables = m->ntable_imports + ndeftables;
    m->nmems = m->nmem_imports + ndefmems;
    m->nglobals = m->nglobal_imports + ndefglobals;
    if (m->nfuncs < ndefs || m->ntables < ndeftables || m->nmems < ndefmems ||
        m->nglobals < ndefglobals)
        return WASM_FAIL(r, r->p, "too many definitions");
    if (!(m->func_type = wasm__arena_alloc(&m->arena, (size_t)m->nfuncs * 4 + 4)) ||
        !(m->tables = wasm__arena_alloc(&m->arena, (size_t)m->ntables * sizeof *m->tables + 1)) ||
        !(m->mems = wasm__arena_alloc(&m->arena, (size_t)m->nmems * sizeof *m->mems + 1)) ||
        !(m->globals = wasm__arena_alloc(&m->arena, (size_t)m->nglobals * sizeof *m->globals + 1)) ||
        !(m->func_declared = wasm__arena_alloc(&m->arena, (size_t)m->nfuncs + 1)))
        return -ENOMEM;
    if (!m->funcs && !(m->funcs = wasm__arena_alloc(&m->arena, 1)))
        return -ENOMEM;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm__import *im = &m->imports[i];
        switch (im->kind) {
        case NANO_WASM_EXTERN_FUNC:   m->func_type[im->index] = im->d.type_idx; break;
        case NANO_WASM_EXTERN_TABLE:  m->tables[im->index] = im->d.table; break;
        case NANO_WASM_EXTERN_MEMORY: m->mems[im->index] = im->d.mem; break;
        case NANO_WASM_EXTERN_GLOBAL: m->globals[im->index] = im->d.global; break;
        }
    }
    for (uint32_t i = 0; i < ndefs; i++)
        m->func_type[m->nfunc_imports + i] = def_types[i];
    for (uint32_t i = 0; i < ndeftables; i++)
        m->tables[m->ntable_imports + i] = deftables[i];
    for (uint32_t i = 0; i < ndefmems; i++)
        m->mems[m->nmem_imports + i] = defmems[i];
    for (uint32_t i = 0; i < ndefglobals; i++)
        m->globals[m->nglobal_imports + i] = defglobals[i];
    return 0;
}
