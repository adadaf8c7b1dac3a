/* SPDX-License-Identifier: MIT
 *
 * wasm_asm.h - a tiny module assembler for the wasm unit tests.
 *
 * Tests describe a module as a struct wa_module (imports, functions with a
 * signature string, locals and raw instruction bytes, an optional memory
 * and mutable i32/i64 globals) and wa_build() writes the binary.  Function
 * bodies are byte arrays written with the W_* opcode names below, e.g.
 *
 *     static const uint8_t spin[] = { W_LOOP, W_VOID, W_BR, 0, W_END, W_END };
 *
 * Signatures use the engine's import notation: "(ii)i", "()".  Types are
 * emitted one per function (duplicates are legal), imports first, so
 * function index i is imports then funcs in order.
 */
#ifndef WASM_ASM_H
#define WASM_ASM_H

#include <stdint.h>
#include <string.h>

/* opcodes */
#define W_UNREACHABLE 0x00
#define W_NOP         0x01
#define W_BLOCK       0x02
#define W_LOOP        0x03
#define W_IF          0x04
#define W_ELSE        0x05
#define W_END         0x0b
#define W_BR          0x0c
#define W_BR_IF       0x0d
#define W_RETURN      0x0f
#define W_CALL        0x10
#define W_DROP        0x1a
#define W_LOCAL_GET   0x20
#define W_LOCAL_SET   0x21
#define W_LOCAL_TEE   0x22
#define W_GLOBAL_GET  0x23
#define W_GLOBAL_SET  0x24
#define W_I32_LOAD    0x28
#define W_I32_LOAD8_U 0x2d
#define W_I32_STORE   0x36
#define W_I32_STORE8  0x3a
#define W_MEMORY_SIZE 0x3f
#define W_MEMORY_GROW 0x40
#define W_I32_CONST   0x41
#define W_I64_CONST   0x42
#define W_I32_EQZ     0x45
#define W_I32_LT_S    0x48
#define W_I32_GT_S    0x4a
#define W_I32_ADD     0x6a
#define W_I32_SUB     0x6b
#define W_I32_MUL     0x6c
#define W_I32_DIV_S   0x6d
#define W_I64_ADD     0x7c
/* block types */
#define W_VOID        0x40
#define W_TI32        0x7f
#define W_TI64        0x7e
/* memarg: align exponent, offset (both one-byte LEB here) */
#define W_MEMARG(a, o) (a), (o)

struct wa_buf {
    uint8_t d[16384];
    size_t n;
};

static inline void
wa_b(struct wa_buf *b, uint8_t x)
{
    if (b->n < sizeof b->d)
        b->d[b->n++] = x;
}

static inline void
wa_u(struct wa_buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        wa_b(b, c);
    } while (v);
}

static inline void
wa_raw(struct wa_buf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wa_b(b, ((const uint8_t *)p)[i]);
}

static inline void
wa_name(struct wa_buf *b, const char *s)
{
    wa_u(b, strlen(s));
    wa_raw(b, s, strlen(s));
}

static inline uint8_t
wa_type(char c)
{
    switch (c) {
    case 'i': return 0x7f;
    case 'I': return 0x7e;
    case 'f': return 0x7d;
    case 'F': return 0x7c;
    }
    return 0;
}

/* "(ii)I" -> functype */
static inline void
wa_sig(struct wa_buf *b, const char *sig)
{
    const char *close = strchr(sig, ')');
    size_t np = (size_t)(close - sig - 1), nr = strlen(close + 1);

    wa_b(b, 0x60);
    wa_u(b, np);
    for (size_t i = 0; i < np; i++)
        wa_b(b, wa_type(sig[1 + i]));
    wa_u(b, nr);
    for (size_t i = 0; i < nr; i++)
        wa_b(b, wa_type(close[1 + i]));
}

static inline void
wa_section(struct wa_buf *out, uint8_t id, const struct wa_buf *content)
{
    wa_b(out, id);
    wa_u(out, content->n);
    wa_raw(out, content->d, content->n);
}

struct wa_import {
    const char *module, *name, *sig;
};

struct wa_func {
    const char    *sig;
    const char    *locals;     /* one type letter per local, or NULL */
    const uint8_t *code;       /* body, ending with W_END */
    size_t         len;
    const char    *export_name; /* or NULL */
};

struct wa_module {
    const struct wa_import *imports;
    size_t                  nimports;
    const struct wa_func   *funcs;
    size_t                  nfuncs;
    int                     memory;     /* 1: one memory */
    uint32_t                mem_min, mem_max;   /* mem_max 0: no maximum */
    const char             *globals;    /* mutable globals "g0".. of these types */
};

#define WA_FUNC(sig, locals, code, name) { sig, locals, code, sizeof code, name }

static inline size_t
wa_build(const struct wa_module *m, struct wa_buf *out)
{
    struct wa_buf s;
    size_t ng = m->globals ? strlen(m->globals) : 0, nexp = 0;

    memset(out, 0, sizeof *out);
    wa_raw(out, "\0asm\1\0\0\0", 8);

    memset(&s, 0, sizeof s);                        /* types */
    wa_u(&s, m->nimports + m->nfuncs);
    for (size_t i = 0; i < m->nimports; i++)
        wa_sig(&s, m->imports[i].sig);
    for (size_t i = 0; i < m->nfuncs; i++)
        wa_sig(&s, m->funcs[i].sig);
    wa_section(out, 1, &s);

    if (m->nimports) {                              /* imports */
        memset(&s, 0, sizeof s);
        wa_u(&s, m->nimports);
        for (size_t i = 0; i < m->nimports; i++) {
            wa_name(&s, m->imports[i].module);
            wa_name(&s, m->imports[i].name);
            wa_b(&s, 0);
            wa_u(&s, i);
        }
        wa_section(out, 2, &s);
    }

    memset(&s, 0, sizeof s);                        /* functions */
    wa_u(&s, m->nfuncs);
    for (size_t i = 0; i < m->nfuncs; i++)
        wa_u(&s, m->nimports + i);
    wa_section(out, 3, &s);

    if (m->memory) {                                /* memory */
        memset(&s, 0, sizeof s);
        wa_u(&s, 1);
        wa_b(&s, m->mem_max ? 1 : 0);
        wa_u(&s, m->mem_min);
        if (m->mem_max)
            wa_u(&s, m->mem_max);
        wa_section(out, 5, &s);
    }

    if (ng) {                                       /* globals */
        memset(&s, 0, sizeof s);
        wa_u(&s, ng);
        for (size_t i = 0; i < ng; i++) {
            wa_b(&s, wa_type(m->globals[i]));
            wa_b(&s, 1);
            wa_b(&s, m->globals[i] == 'I' ? W_I64_CONST : W_I32_CONST);
            wa_b(&s, 0);
            wa_b(&s, W_END);
        }
        wa_section(out, 6, &s);
    }

    memset(&s, 0, sizeof s);                        /* exports */
    for (size_t i = 0; i < m->nfuncs; i++)
        nexp += m->funcs[i].export_name != NULL;
    wa_u(&s, nexp + (m->memory ? 1 : 0) + ng);
    for (size_t i = 0; i < m->nfuncs; i++) {
        if (!m->funcs[i].export_name)
            continue;
        wa_name(&s, m->funcs[i].export_name);
        wa_b(&s, 0);
        wa_u(&s, m->nimports + i);
    }
    if (m->memory) {
        wa_name(&s, "memory");
        wa_b(&s, 2);
        wa_u(&s, 0);
    }
    for (size_t i = 0; i < ng; i++) {
        char name[8] = { 'g', (char)('0' + i), 0 };
        wa_name(&s, name);
        wa_b(&s, 3);
        wa_u(&s, i);
    }
    wa_section(out, 7, &s);

    memset(&s, 0, sizeof s);                        /* code */
    wa_u(&s, m->nfuncs);
    for (size_t i = 0; i < m->nfuncs; i++) {
        struct wa_buf body;
        size_t nl = m->funcs[i].locals ? strlen(m->funcs[i].locals) : 0;
        memset(&body, 0, sizeof body);
        wa_u(&body, nl);
        for (size_t k = 0; k < nl; k++) {
            wa_u(&body, 1);
            wa_b(&body, wa_type(m->funcs[i].locals[k]));
        }
        wa_raw(&body, m->funcs[i].code, m->funcs[i].len);
        wa_u(&s, body.n);
        wa_raw(&s, body.d, body.n);
    }
    wa_section(out, 10, &s);
    return out->n;
}

#endif /* WASM_ASM_H */
