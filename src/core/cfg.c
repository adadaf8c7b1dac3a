/* SPDX-License-Identifier: MIT
 *
 * cfg.c - configuration documents: the arena, building and editing trees,
 * lookup, typed reads, JSON output, the canonical dump and loading files.
 * The parsers (cfg_json.c, cfg_yaml.c) and the schema checks (cfg_schema.c)
 * build on what is here; cfg_int.h is the contract between them.
 *
 * Memory: see cfg_int.h.  A parsed document costs one allocation for small
 * inputs (the first chunk is sized from the text length) and O(log n)
 * allocations for large ones; nano_cfg_free() is one free per chunk.
 * nano_cfg_dump() and nano_cfg_to_json() walk the tree through the parent
 * links instead of recursing, so a tree built in code may be any depth.
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/cfg_int.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/time.h"

/* Chunk payloads: the first is sized from the caller's hint within
 * [FIRST_MIN, FIRST_MAX]; later ones double up to CHUNK_MAX, beyond which
 * doubling would strand too much unused memory on a small device. */
#define CFG_FIRST_MIN  512u
#define CFG_FIRST_MAX  (64u * 1024)
#define CFG_CHUNK_MIN  1024u
#define CFG_CHUNK_MAX  (256u * 1024)
#define CFG_ROUND16(x) (((x) + 15u) & ~(size_t)15u)
#define CFG_DOC_HDR    CFG_ROUND16(sizeof(struct nano_cfg_doc))
#define CFG_CHUNK_HDR  CFG_ROUND16(sizeof(struct cfg_chunk))

/* ---- arena --------------------------------------------------------------- */

void
cfg__limits(const struct nano_cfg_limits *lim, struct cfg_lim *out)
{
    out->max_depth = NANO_CFG_MAX_DEPTH;
    out->max_nodes = NANO_CFG_MAX_NODES;
    out->max_bytes = NANO_CFG_MAX_BYTES;
    if (!lim)
        return;
    if (lim->max_depth && lim->max_depth < out->max_depth)
        out->max_depth = lim->max_depth;
    if (lim->max_nodes && lim->max_nodes < out->max_nodes)
        out->max_nodes = lim->max_nodes;
    if (lim->max_bytes && lim->max_bytes < out->max_bytes)
        out->max_bytes = lim->max_bytes;
}

void
cfg__doc_progress(struct nano_cfg_doc *doc, const char *text, size_t len,
                  const char *const *cursor)
{
    doc->text = text;
    doc->text_end = text ? text + len : NULL;   /* NULL + 0 is undefined */
    doc->cursor = cursor;
}

/* Payload size for the next chunk: what the unparsed text will need at the
 * rate seen so far, an eighth more for variation; doubling when there is
 * no parse to learn from. */
static size_t
chunk_size(const struct nano_cfg_doc *doc)
{
    const char *at = doc->cursor ? *doc->cursor : NULL;
    double done, left, est;

    if (!at || at <= doc->text || at >= doc->text_end)
        return doc->next_cap;
    done = (double)(at - doc->text);
    left = (double)(doc->text_end - at);
    est = (double)doc->used / done * left;
    est += est / 8 + 256;
    if (est < CFG_CHUNK_MIN)
        return CFG_CHUNK_MIN;
    if (est > CFG_CHUNK_MAX)
        return CFG_CHUNK_MAX;
    return CFG_ROUND16((size_t)est);
}

static void *
arena_grow(struct nano_cfg_doc *doc, size_t n, bool node)
{
    size_t cap = chunk_size(doc);
    struct cfg_chunk *c;
    char *p;

    if (n > NANO_CFG_MAX_BYTES * 2u)
        return NULL;
    if (n > cap / 4) {
        /* Big string: its own chunk, and keep filling the current one. */
        c = nano_malloc(CFG_CHUNK_HDR + n);
        if (!c)
            return NULL;
        c->next = doc->chunks;
        doc->chunks = c;
        return (char *)c + CFG_CHUNK_HDR;
    }
    c = nano_malloc(CFG_CHUNK_HDR + cap);
    if (!c)
        return NULL;
    c->next = doc->chunks;
    doc->chunks = c;
    doc->lo = (char *)c + CFG_CHUNK_HDR;
    doc->hi = doc->lo + cap;
    if (doc->next_cap < CFG_CHUNK_MAX)
        doc->next_cap = doc->next_cap * 2 > CFG_CHUNK_MAX ? CFG_CHUNK_MAX
                                                          : doc->next_cap * 2;
    if (node) {
        p = doc->lo;
        doc->lo += n;
    } else {
        doc->hi -= n;
        p = doc->hi;
    }
    return p;
}

static inline void *
arena_alloc(struct nano_cfg_doc *doc, size_t n, bool node)
{
    char *p;

    doc->used += n;
    if (n > (size_t)(doc->hi - doc->lo))
        return arena_grow(doc, n, node);
    if (node) {
        p = doc->lo;
        doc->lo += n;
    } else {
        doc->hi -= n;
        p = doc->hi;
    }
    return p;
}

static struct nano_cfg_doc *doc_alloc(const char *origin, size_t first);

struct nano_cfg_doc *
cfg__doc_new(const char *origin, size_t hint)
{
    size_t first = hint;

    if (first < CFG_FIRST_MIN)
        first = CFG_FIRST_MIN;
    if (first > CFG_FIRST_MAX)
        first = CFG_FIRST_MAX;
    return doc_alloc(origin, CFG_ROUND16(first));
}

/* A document whose first chunk holds exactly `first` bytes (rounded). */
static struct nano_cfg_doc *
doc_alloc(const char *origin, size_t first)
{
    struct nano_cfg_doc *doc;
    char *m;

    m = nano_malloc(CFG_DOC_HDR + first);
    if (!m)
        return NULL;
    doc = (struct nano_cfg_doc *)(void *)m;
    doc->lo = m + CFG_DOC_HDR;
    doc->hi = doc->lo + first;
    doc->chunks = NULL;
    doc->next_cap = first * 2 < CFG_CHUNK_MIN ? CFG_CHUNK_MIN : first * 2;
    if (doc->next_cap > CFG_CHUNK_MAX)
        doc->next_cap = CFG_CHUNK_MAX;
    doc->used = 0;
    doc->nodes = 0;
    doc->text = doc->text_end = NULL;
    doc->cursor = NULL;
    doc->root = NULL;
    if (!origin)
        origin = "";
    doc->origin = cfg__str(doc, origin, strlen(origin));
    if (!doc->origin) {
        nano_cfg_free(doc);
        return NULL;
    }
    return doc;
}

void
nano_cfg_free(struct nano_cfg_doc *doc)
{
    struct cfg_chunk *c, *next;

    if (!doc)
        return;
    for (c = doc->chunks; c; c = next) {
        next = c->next;
        nano_free(c);
    }
    nano_free(doc);
}

struct nano_cfg_node *
cfg__node(struct nano_cfg_doc *doc, enum nano_cfg_kind kind, unsigned line,
          unsigned col)
{
    struct nano_cfg_node *n = arena_alloc(doc, sizeof *n, true);

    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->col = col;
    doc->nodes++;
    return n;
}

char *
cfg__str_alloc(struct nano_cfg_doc *doc, size_t len)
{
    if (len >= SIZE_MAX / 2)
        return NULL;
    return arena_alloc(doc, len + 1, false);
}

char *
cfg__str(struct nano_cfg_doc *doc, const char *s, size_t len)
{
    char *p = cfg__str_alloc(doc, len);

    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void
cfg__link(struct nano_cfg_node *parent, struct nano_cfg_node *n)
{
    n->parent = parent;
    n->next = NULL;
    if (parent->last)
        parent->last->next = n;
    else
        parent->child = n;
    parent->last = n;
    parent->count++;
}

/* ---- duplicate-key index ------------------------------------------------- */

void
cfg__keyset_init(struct cfg_keyset *ks)
{
    ks->slot = NULL;
    ks->cap = 0;
    ks->used = 0;
    /* The stack address varies from run to run (ASLR), which is enough to
     * stop a client from precomputing keys that all land in one bucket. */
    ks->seed = (uint64_t)(uintptr_t)ks * 0x9E3779B97F4A7C15ull;
}

void
cfg__keyset_free(struct cfg_keyset *ks)
{
    nano_free(ks->slot);
    ks->slot = NULL;
    ks->cap = ks->used = 0;
}

static uint64_t
key_hash(const struct cfg_keyset *ks, const struct nano_cfg_node *parent,
         const char *key)
{
    uint64_t h = ks->seed ^
                 ((uint64_t)(uintptr_t)parent * 0xff51afd7ed558ccdull);

    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return h;
}

const struct nano_cfg_node *
cfg__keyset_find(const struct cfg_keyset *ks,
                 const struct nano_cfg_node *parent, const char *key)
{
    size_t i, mask;

    if (parent->count < CFG_KEYSET_MIN || !ks->cap) {
        for (const struct nano_cfg_node *c = parent->child; c; c = c->next)
            if (strcmp(c->key, key) == 0)
                return c;
        return NULL;
    }
    mask = ks->cap - 1;
    for (i = key_hash(ks, parent, key) & mask; ks->slot[i]; i = (i + 1) & mask)
        if (ks->slot[i]->parent == parent && strcmp(ks->slot[i]->key, key) == 0)
            return ks->slot[i];
    return NULL;
}

static void
keyset_put(struct cfg_keyset *ks, const struct nano_cfg_node *n)
{
    size_t mask = ks->cap - 1;
    size_t i = key_hash(ks, n->parent, n->key) & mask;

    while (ks->slot[i])
        i = (i + 1) & mask;
    ks->slot[i] = n;
    ks->used++;
}

static int
keyset_add(struct cfg_keyset *ks, const struct nano_cfg_node *n)
{
    if ((ks->used + 1) * 2 > ks->cap) {
        struct cfg_keyset big = *ks;
        size_t cap = ks->cap ? ks->cap * 2 : 64;

        big.slot = nano_calloc(cap, sizeof *big.slot);
        if (!big.slot)
            return -ENOMEM;
        big.cap = cap;
        big.used = 0;
        for (size_t i = 0; i < ks->cap; i++)
            if (ks->slot[i])
                keyset_put(&big, ks->slot[i]);
        nano_free(ks->slot);
        *ks = big;
    }
    keyset_put(ks, n);
    return NANO_OK;
}

int
cfg__keyset_note(struct cfg_keyset *ks, const struct nano_cfg_node *parent)
{
    int rc = NANO_OK;

    if (parent->count < CFG_KEYSET_MIN)
        return NANO_OK;
    if (parent->count > CFG_KEYSET_MIN)
        return keyset_add(ks, parent->last);
    for (const struct nano_cfg_node *c = parent->child; c && rc == NANO_OK;
         c = c->next)
        rc = keyset_add(ks, c);
    return rc;
}

/* ---- text helpers -------------------------------------------------------- */

size_t
cfg__utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);

    if (c < 0x80)
        return 1;
    if (c < 0xC2)                       /* stray continuation or overlong */
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80;   /* no overlong forms */
        unsigned hi = c == 0xED ? 0x9F : 0xBF;   /* no surrogates */
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80;   /* no overlong forms */
        unsigned hi = c == 0xF4 ? 0x8F : 0xBF;   /* nothing past U+10FFFF */
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static inline bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool
cfg__is_json_number(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i == len;
}

static bool
text_is(const struct nano_cfg_node *n, const char *word)
{
    size_t wl = strlen(word);

    return n->len == wl && memcmp(n->str, word, wl) == 0;
}

enum cfg_jtype
cfg__jtype(const struct nano_cfg_node *n)
{
    if (n->kind == NANO_CFG_NULL)
        return CFG_J_NULL;
    if (n->kind != NANO_CFG_SCALAR)
        return CFG_J_CONT;
    if (n->quoted)
        return CFG_J_STR;
    if (text_is(n, "true") || text_is(n, "false"))
        return CFG_J_BOOL;
    if (text_is(n, "null"))
        return CFG_J_NULL;
    if (cfg__is_json_number(n->str, n->len))
        return CFG_J_NUM;
    return CFG_J_STR;
}

char *
cfg__show(char *out, size_t cap, const char *s, size_t len, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    size_t o = 0, shown = 0;

    if (cap == 0)
        return out;
    /* Keep 4 bytes for "..." and the NUL whatever happens. */
    while (p < end && cap > 4 && o < cap - 4) {
        char tmp[8];
        size_t tl, n = 1;

        if (shown >= max)
            break;
        if (*p >= 0x20 && *p < 0x7f) {
            tmp[0] = (char)*p;
            tl = 1;
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            tmp[0] = '\\';
            tmp[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
            tl = 2;
        } else if (*p >= 0x80 && (n = cfg__utf8_len(p, end)) > 0) {
            memcpy(tmp, p, n);
            tl = n;
        } else {
            n = 1;
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02X", *p);
        }
        if (o + tl > cap - 4)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
        p += n;
        shown += n;
    }
    if (p < end && cap > 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < cap ? o : cap - 1] = '\0';
    return out;
}

char *
cfg__found(char *out, size_t cap, const struct nano_cfg_node *n)
{
    char t[96];

    switch (n->kind) {
    case NANO_CFG_MAP:
        snprintf(out, cap, "a map");
        break;
    case NANO_CFG_LIST:
        snprintf(out, cap, "a list");
        break;
    case NANO_CFG_NULL:
        snprintf(out, cap, "%s",
                 n->str && n->str[0] ? "null" : "an empty value");
        break;
    default:
        cfg__show(t, sizeof t, n->str, n->len, 40);
        if (cfg__jtype(n) == CFG_J_NUM || cfg__jtype(n) == CFG_J_BOOL)
            snprintf(out, cap, "%s", t);         /* "got 2000", "got true" */
        else if (n->quoted)
            snprintf(out, cap, "\"%s\"", t);
        else
            snprintf(out, cap, "'%s'", t);
        break;
    }
    return out;
}

static char *
plain_name(char *out, size_t cap, const struct nano_cfg_node *n)
{
    char t[64];

    if (n->key)
        snprintf(out, cap, "'%s'", cfg__show(t, sizeof t, n->key,
                                             strlen(n->key), 40));
    else if (!n->parent)
        snprintf(out, cap, "the document");
    else
        snprintf(out, cap, "a list");
    return out;
}

char *
cfg__name(char *out, size_t cap, const struct nano_cfg_node *n)
{
    char pn[80];
    size_t i = 1;

    if (n->key || !n->parent || n->parent->kind != NANO_CFG_LIST)
        return plain_name(out, cap, n);
    for (const struct nano_cfg_node *c = n->parent->child; c && c != n;
         c = c->next)
        i++;
    snprintf(out, cap, "item %zu of %s", i,
             plain_name(pn, sizeof pn, n->parent));
    return out;
}

/* ---- lookup -------------------------------------------------------------- */

struct nano_cfg_node *
nano_cfg_root(const struct nano_cfg_doc *doc)
{
    return doc ? doc->root : NULL;
}

const char *
nano_cfg_origin(const struct nano_cfg_doc *doc)
{
    return doc ? doc->origin : NULL;
}

struct nano_cfg_node *
nano_cfg_get(const struct nano_cfg_node *n, const char *key)
{
    if (!n || n->kind != NANO_CFG_MAP || !key)
        return NULL;
    for (struct nano_cfg_node *c = n->child; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

struct nano_cfg_node *
nano_cfg_path(const struct nano_cfg_node *n, const char *path)
{
    struct nano_cfg_node *cur = (struct nano_cfg_node *)n;
    const char *seg = path;

    if (!n || !path)
        return NULL;
    while (cur) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        struct nano_cfg_node *c = NULL;

        if (len == 0)
            return NULL;
        if (cur->kind == NANO_CFG_MAP) {
            for (c = cur->child; c; c = c->next)
                if (strncmp(c->key, seg, len) == 0 && c->key[len] == '\0')
                    break;
        } else if (cur->kind == NANO_CFG_LIST) {
            size_t idx = 0, i;

            for (i = 0; i < len && is_digit(seg[i]) && idx < SIZE_MAX / 10; i++)
                idx = idx * 10 + (size_t)(seg[i] - '0');
            if (i != len)
                return NULL;
            for (c = cur->child; c && idx; c = c->next)
                idx--;
        }
        cur = c;
        if (!dot)
            break;
        seg = dot + 1;
    }
    return cur;
}

/* ---- typed reads --------------------------------------------------------- */

int
nano_cfg_error(const struct nano_cfg_node *n, struct nano_diag *d,
               const char *fmt, ...)
               {
               va_list ap;

    if (!d)
        return NANO_ESCHEMA;
    d->line = n ? n->line : 0;
    d->col = n ? n->col : 0;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return NANO_ESCHEMA;
}

int
cfg__as_str(const struct nano_cfg_node *n, const char *name, const char **out,
            struct nano_diag *d)
{
    char f[112];

    if (n->kind != NANO_CFG_SCALAR)
        return nano_cfg_error(n, d, "%s expects a string, got %s", name,
                              cfg__found(f, sizeof f, n));
    if (memchr(n->str, '\0', n->len))
        return nano_cfg_error(n, d,
                              "%s expects text without NUL characters, got %s",
                              name, cfg__found(f, sizeof f, n));
    *out = n->str;
    return NANO_OK;
}

/* Wrong kind or a quoted number: one message shape for num, int, bool. */
static int
not_bare(const struct nano_cfg_node *n, const char *name, const char *want,
         struct nano_diag *d)
{
    char f[112];

    if (n->kind == NANO_CFG_SCALAR && n->quoted)
        return nano_cfg_error(n, d, "%s expects %s, got the string %s", name,
                              want, cfg__found(f, sizeof f, n));
    return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                          cfg__found(f, sizeof f, n));
}

int
cfg__as_num(const struct nano_cfg_node *n, const char *name, double min,
            double max, double *out, struct nano_diag *d)
{
    char want[80], f[112];
    const char *s = n->str;
    size_t i = 0;
    bool digits = false;
    double v;

    if (max > min)
        snprintf(want, sizeof want, "a number from %g to %g", min, max);
    else
        snprintf(want, sizeof want, "a number");
    if (n->kind != NANO_CFG_SCALAR || n->quoted)
        return not_bare(n, name, want, d);
    /* Decimal only: strtod alone would also take "0x1p3", "inf" and "nan". */
    if (i < n->len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < n->len; i++) {
        if (is_digit(s[i]))
            digits = true;
        else if (!(s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '-' ||
                   s[i] == '+'))
            break;
    }
    if (i != n->len || !digits)
        return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                              cfg__found(f, sizeof f, n));
    {
        char *end;
        v = strtod(s, &end);
        if (end != s + n->len)
            return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                                  cfg__found(f, sizeof f, n));
    }
    if (!isfinite(v))
        return nano_cfg_error(n, d, "%s expects %s, got %s (out of range)",
                              name, want, cfg__found(f, sizeof f, n));
    if (max > min && (v < min || v > max))
        return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                              cfg__found(f, sizeof f, n));
    *out = v;
    return NANO_OK;
}

/* Decimal or 0x hex with an optional sign.  False on junk or overflow;
 * *overflow tells the two apart so the message can say which. */
static bool
parse_int(const char *s, size_t len, int64_t *out, bool *overflow)
{
    uint64_t v = 0, limit;
    bool neg = false, ovf = false;
    unsigned base = 10;
    size_t i = 0, start;

    *overflow = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    start = i;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned dv;
        char c = s[i];

        if (is_digit(c))
            dv = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            dv = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            dv = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (!ovf && v > (limit - dv) / base)
            ovf = true;
        if (!ovf)
            v = v * base + dv;
    }
    if (i == start)
        return false;
    if (ovf) {
        *overflow = true;
        return false;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

int
cfg__as_int(const struct nano_cfg_node *n, const char *name, int64_t min,
            int64_t max, int64_t *out, struct nano_diag *d)
{
    char want[80], f[112];
    bool overflow;
    int64_t v;

    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(want, sizeof want, "an integer");
    else
        snprintf(want, sizeof want, "an integer from %lld to %lld",
                 (long long)min, (long long)max);
    if (n->kind != NANO_CFG_SCALAR || n->quoted)
        return not_bare(n, name, want, d);
    if (!parse_int(n->str, n->len, &v, &overflow))
        return nano_cfg_error(n, d, "%s expects %s, got %s%s", name, want,
                              cfg__found(f, sizeof f, n),
                              overflow ? " (out of range)" : "");
    if (v < min || v > max)
        return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                              cfg__found(f, sizeof f, n));
    *out = v;
    return NANO_OK;
}

int
cfg__as_bool(const struct nano_cfg_node *n, const char *name, bool *out,
             struct nano_diag *d)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };
    char f[112];

    if (n->kind != NANO_CFG_SCALAR || n->quoted)
        return not_bare(n, name, "true or false", d);
    for (size_t i = 0; i < NANO_ARRAY_LEN(yes); i++) {
        if (n->len == strlen(yes[i]) && strcasecmp(n->str, yes[i]) == 0) {
            *out = true;
            return NANO_OK;
        }
        if (n->len == strlen(no[i]) && strcasecmp(n->str, no[i]) == 0) {
            *out = false;
            return NANO_OK;
        }
    }
    return nano_cfg_error(n, d, "%s expects true or false, got %s", name,
                          cfg__found(f, sizeof f, n));
}

int
cfg__as_duration(const struct nano_cfg_node *n, const char *name,
                 double min_s, double max_s, uint64_t *ns_out,
                 struct nano_diag *d)
{
    char f[112], lo[32], hi[32];
    uint64_t ns;

    if (n->kind != NANO_CFG_SCALAR || memchr(n->str, '\0', n->len) ||
        nano_duration_parse(n->str, &ns) != NANO_OK)
        return nano_cfg_error(n, d, "%s expects a duration such as 500ms or "
                              "30s, got %s", name, cfg__found(f, sizeof f, n));
    if (max_s > 0 && max_s >= min_s &&
        ((double)ns < min_s * 1e9 || (double)ns > max_s * 1e9)) {
        nano_duration_format(min_s > 0 ? (uint64_t)(min_s * 1e9) : 0, lo,
                             sizeof lo);
        nano_duration_format((uint64_t)(max_s * 1e9), hi, sizeof hi);
        return nano_cfg_error(n, d, "%s expects a duration from %s to %s, "
                              "got %s", name, lo, hi,
                              cfg__found(f, sizeof f, n));
    }
    *ns_out = ns;
    return NANO_OK;
}

int
nano_cfg_as_str(const struct nano_cfg_node *n, const char **out,
                struct nano_diag *d)
{
    char name[128];

    return cfg__as_str(n, cfg__name(name, sizeof name, n), out, d);
}

int
nano_cfg_as_num(const struct nano_cfg_node *n, double *out, struct nano_diag *d)
{
    char name[128];

    return cfg__as_num(n, cfg__name(name, sizeof name, n), 0, 0, out, d);
}

int
nano_cfg_as_int(const struct nano_cfg_node *n, int64_t min, int64_t max,
                int64_t *out, struct nano_diag *d)
{
    char name[128];

    return cfg__as_int(n, cfg__name(name, sizeof name, n), min, max, out, d);
}

int
nano_cfg_as_bool(const struct nano_cfg_node *n, bool *out, struct nano_diag *d)
{
    char name[128];

    return cfg__as_bool(n, cfg__name(name, sizeof name, n), out, d);
}

int
nano_cfg_as_duration(const struct nano_cfg_node *n, uint64_t *ns_out,
                     struct nano_diag *d)
{
    char name[128];

    return cfg__as_duration(n, cfg__name(name, sizeof name, n), 0, 0, ns_out,
                            d);
}

/* ---- output -------------------------------------------------------------- */

/* s[0..len) as a JSON string: runs of plain bytes are appended in one go. */
static int
put_json_str(struct nano_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    const unsigned char *run = p;
    int rc = nano_buf_putc(out, '"');

    while (rc == NANO_OK && p < end) {
        unsigned char c = *p;
        char esc[8];
        size_t n;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0x80 && (n = cfg__utf8_len(p, end)) > 0) {
            p += n;
            continue;
        }
        rc = nano_buf_append(out, run, (size_t)(p - run));
        if (rc != NANO_OK)
            break;
        switch (c) {
        case '"':  rc = nano_buf_puts(out, "\\\""); break;
        case '\\': rc = nano_buf_puts(out, "\\\\"); break;
        case '\b': rc = nano_buf_puts(out, "\\b"); break;
        case '\f': rc = nano_buf_puts(out, "\\f"); break;
        case '\n': rc = nano_buf_puts(out, "\\n"); break;
        case '\r': rc = nano_buf_puts(out, "\\r"); break;
        case '\t': rc = nano_buf_puts(out, "\\t"); break;
        default:
            if (c < 0x20)
                snprintf(esc, sizeof esc, "\\u%04x", c);
            else
                snprintf(esc, sizeof esc, "\\ufffd");   /* invalid UTF-8 */
            rc = nano_buf_puts(out, esc);
            break;
        }
        run = ++p;
    }
    if (rc == NANO_OK)
        rc = nano_buf_append(out, run, (size_t)(p - run));
    if (rc == NANO_OK)
        rc = nano_buf_putc(out, '"');
    return rc;
}

static int
put_scalar_json(struct nano_buf *out, const struct nano_cfg_node *n)
{
    switch (cfg__jtype(n)) {
    case CFG_J_NULL:
        return nano_buf_puts(out, "null");
    case CFG_J_BOOL:
    case CFG_J_NUM:
        return nano_buf_append(out, n->str, n->len);
    default:
        return put_json_str(out, n->str ? n->str : "", n->len);
    }
}

int
nano_cfg_to_json(const struct nano_cfg_node *n, struct nano_buf *out)
{
    const struct nano_cfg_node *cur = n;
    int rc = NANO_OK;

    if (!n)
        return -EINVAL;
    for (;;) {
        if (cur != n && cur->parent->kind == NANO_CFG_MAP) {
            rc = put_json_str(out, cur->key ? cur->key : "",
                              cur->key ? strlen(cur->key) : 0);
            if (rc == NANO_OK)
                rc = nano_buf_putc(out, ':');
        }
        if (rc != NANO_OK)
            return rc;
        if (cur->kind == NANO_CFG_MAP || cur->kind == NANO_CFG_LIST) {
            rc = nano_buf_putc(out, cur->kind == NANO_CFG_MAP ? '{' : '[');
            if (rc != NANO_OK)
                return rc;
            if (cur->child) {
                cur = cur->child;
                continue;
            }
            rc = nano_buf_putc(out, cur->kind == NANO_CFG_MAP ? '}' : ']');
        } else {
            rc = put_scalar_json(out, cur);
        }
        /* Climb past every container this node was the last child of. */
        while (rc == NANO_OK && cur != n && !cur->next) {
            cur = cur->parent;
            rc = nano_buf_putc(out, cur->kind == NANO_CFG_MAP ? '}' : ']');
        }
        if (rc != NANO_OK || cur == n)
            return rc;
        rc = nano_buf_putc(out, ',');
        cur = cur->next;
    }
}

static int
dump_line(struct nano_buf *out, const struct nano_cfg_node *n, bool top,
          unsigned depth)
{
    int rc = NANO_OK;

    for (unsigned i = 0; i < depth && rc == NANO_OK; i++)
        rc = nano_buf_puts(out, "  ");
    if (rc == NANO_OK && !top && n->parent->kind == NANO_CFG_MAP) {
        rc = put_json_str(out, n->key ? n->key : "",
                          n->key ? strlen(n->key) : 0);
        if (rc == NANO_OK)
            rc = nano_buf_puts(out, ": ");
    } else if (rc == NANO_OK && !top) {
        rc = nano_buf_puts(out, "- ");
    }
    if (rc != NANO_OK)
        return rc;
    switch (n->kind == NANO_CFG_MAP ? CFG_J_CONT : cfg__jtype(n)) {
    case CFG_J_CONT:
        rc = nano_buf_puts(out, n->kind == NANO_CFG_MAP ? "map" : "list");
        break;
    case CFG_J_NULL:
        rc = nano_buf_puts(out, "null");
        break;
    case CFG_J_BOOL:
        rc = nano_buf_printf(out, "bool %s", n->str);
        break;
    case CFG_J_NUM:
        rc = nano_buf_puts(out, "num ");
        if (rc == NANO_OK)
            rc = nano_buf_append(out, n->str, n->len);
        break;
    case CFG_J_STR:
        rc = nano_buf_puts(out, "str ");
        if (rc == NANO_OK)
            rc = put_json_str(out, n->str, n->len);
        break;
    }
    if (rc == NANO_OK)
        rc = nano_buf_putc(out, '\n');
    return rc;
}

int
nano_cfg_dump(const struct nano_cfg_node *n, struct nano_buf *out)
{
    const struct nano_cfg_node *cur = n;
    unsigned depth = 0;
    int rc;

    if (!n)
        return -EINVAL;
    for (;;) {
        rc = dump_line(out, cur, cur == n, depth);
        if (rc != NANO_OK)
            return rc;
        if (cur->child) {
            cur = cur->child;
            depth++;
            continue;
        }
        while (cur != n && !cur->next) {
            cur = cur->parent;
            depth--;
        }
        if (cur == n)
            return NANO_OK;
        cur = cur->next;
    }
}

/* ---- building ------------------------------------------------------------ */

size_t
nano_cfg_copy_size(const struct nano_cfg_node *n)
{
    size_t total = CFG_ROUND16(sizeof *n);

    if (n->key)
        total += strlen(n->key) + 1;
    if (n->str)
        total += n->len + 1;
    for (const struct nano_cfg_node *c = n->child; c; c = c->next)
        total += nano_cfg_copy_size(c);
    return total;
}

struct nano_cfg_doc *
nano_cfg_new(const char *origin)
{
    return nano_cfg_new_sized(origin, 0);
}

struct nano_cfg_doc *
nano_cfg_new_sized(const char *origin, size_t bytes)
{
    /* The hint plus the origin string (a copy_size hint already counts one
     * node more than copying a map's children needs: that is the root);
     * without a hint, the parsers' default first chunk. */
    struct nano_cfg_doc *doc = bytes ?
        doc_alloc(origin, CFG_ROUND16(bytes + (origin ? strlen(origin) : 0) + 1))
        : cfg__doc_new(origin, 0);

    if (!doc)
        return NULL;
    doc->root = cfg__node(doc, NANO_CFG_MAP, 0, 0);
    if (!doc->root) {
        nano_cfg_free(doc);
        return NULL;
    }
    return doc;
}

/* One node like src (no children) linked under parent. */
static struct nano_cfg_node *
copy_one(struct nano_cfg_doc *doc, struct nano_cfg_node *parent,
         const char *key, const struct nano_cfg_node *src)
{
    struct nano_cfg_node *n = cfg__node(doc, src->kind, src->line, src->col);

    if (!n)
        return NULL;
    n->quoted = src->quoted;
    n->key_line = src->key_line;
    n->key_col = src->key_col;
    if (parent->kind == NANO_CFG_MAP) {
        n->key = cfg__str(doc, key, strlen(key));
        if (!n->key)
            return NULL;
    }
    if (src->kind == NANO_CFG_SCALAR || src->kind == NANO_CFG_NULL) {
        n->str = cfg__str(doc, src->str ? src->str : "",
                          src->str ? src->len : 0);
        if (!n->str)
            return NULL;
        n->len = src->str ? src->len : 0;
    }
    cfg__link(parent, n);
    return n;
}

struct nano_cfg_node *
nano_cfg_add(struct nano_cfg_doc *doc, struct nano_cfg_node *parent,
             const char *key, enum nano_cfg_kind kind, const char *str,
             bool quoted)
{
    struct nano_cfg_node tmpl;

    if (!doc || !parent || kind > NANO_CFG_LIST)
        return NULL;
    if (parent->kind == NANO_CFG_MAP ? !key
                                     : parent->kind != NANO_CFG_LIST || key)
        return NULL;
    memset(&tmpl, 0, sizeof tmpl);
    tmpl.kind = kind;
    tmpl.quoted = kind == NANO_CFG_SCALAR && quoted;
    if (kind == NANO_CFG_SCALAR) {
        tmpl.str = str ? str : "";
        tmpl.len = strlen(tmpl.str);
    } else if (kind == NANO_CFG_NULL) {
        tmpl.str = "null";
        tmpl.len = 4;
    }
    return copy_one(doc, parent, key, &tmpl);
}

struct nano_cfg_node *
nano_cfg_copy(struct nano_cfg_doc *doc, struct nano_cfg_node *parent,
              const char *key, const struct nano_cfg_node *src)
{
    const struct nano_cfg_node *s;
    struct nano_cfg_node *top, *c;

    if (!doc || !parent || !src)
        return NULL;
    if (parent->kind == NANO_CFG_MAP) {
        if (!key)
            key = src->key;
        if (!key)
            return NULL;
    } else if (parent->kind != NANO_CFG_LIST) {
        return NULL;
    }
    /* Copying a node into its own subtree would chase its own tail. */
    for (const struct nano_cfg_node *p = parent; p; p = p->parent)
        if (p == src)
            return NULL;
    top = copy_one(doc, parent, key, src);
    if (!top)
        return NULL;
    s = src;
    c = top;
    for (;;) {
        if (s->child) {
            s = s->child;
            c = copy_one(doc, c, s->key ? s->key : "", s);
        } else {
            while (s != src && !s->next) {
                s = s->parent;
                c = c->parent;
            }
            if (s == src)
                return top;
            s = s->next;
            c = copy_one(doc, c->parent, s->key ? s->key : "", s);
        }
        if (!c) {
            nano_cfg_unlink(top);
            return NULL;
        }
    }
}

void
nano_cfg_unlink(struct nano_cfg_node *n)
{
    struct nano_cfg_node *p, *prev = NULL, *c;

    if (!n || !(p = n->parent))
        return;
    for (c = p->child; c && c != n; c = c->next)
        prev = c;
    if (NANO_NEVER(!c))
        return;
    if (prev)
        prev->next = n->next;
    else
        p->child = n->next;
    if (p->last == n)
        p->last = prev;
    p->count--;
    n->parent = NULL;
    n->next = NULL;
}

/* ---- files --------------------------------------------------------------- */

static bool
ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

static bool
looks_like_json(const char *path, const char *text, size_t len)
{
    size_t i = 0;

    if (ends_with(path, ".json"))
        return true;
    if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
        return false;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
                       text[i] == '\r'))
        i++;
    return i < len && text[i] == '{';
}

/* Read the whole of fd into *text_out (Returns owned; nano_free). */
static int
read_all(int fd, const struct stat *st, char **text_out, size_t *len_out,
         struct nano_diag *d)
{
    size_t cap, len = 0, max = NANO_CFG_MAX_BYTES;
    char *buf;

    if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > max)
        return nano_diag_set(d, -E2BIG, 0, 0,
                             "file is %lld bytes, more than the limit of %zu",
                             (long long)st->st_size, max);
    cap = S_ISREG(st->st_mode) ? (size_t)st->st_size + 1 : 4096;
    buf = nano_malloc(cap);
    if (!buf)
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory reading file");
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char *nb;

            if (cap > max) {
                nano_free(buf);
                return nano_diag_set(d, -E2BIG, 0, 0,
                                     "file is more than the limit of %zu bytes",
                                     max);
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            nb = nano_realloc(buf, cap);
            if (!nb) {
                nano_free(buf);
                return nano_diag_set(d, -ENOMEM, 0, 0,
                                     "out of memory reading file");
            }
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;
            nano_free(buf);
            return nano_diag_set(d, rc, 0, 0, "cannot read file: %s",
                                 nano_strerror(rc));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        nano_free(buf);
        return nano_diag_set(d, -E2BIG, 0, 0,
                             "file is more than the limit of %zu bytes", max);
    }
    *text_out = buf;
    *len_out = len;
    return NANO_OK;
}

int
nano_cfg_load_file(const char *path, struct nano_cfg_doc **doc_out,
                   struct nano_diag *d)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd, rc;

    *doc_out = NULL;
    if (d)
        d->origin = path;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        return nano_diag_set(d, rc, 0, 0, "cannot open file: %s",
                             nano_strerror(rc));
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        close(fd);
        return nano_diag_set(d, rc, 0, 0, "cannot read file: %s",
                             nano_strerror(rc));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return nano_diag_set(d, -EISDIR, 0, 0, "cannot read file: %s",
                             nano_strerror(-EISDIR));
    }
    rc = read_all(fd, &st, &text, &len, d);
    close(fd);
    if (rc != NANO_OK)
        return rc;
    if (looks_like_json(path, text, len))
        rc = nano_cfg_parse_json(text, len, path, doc_out, d);
    else
        rc = nano_cfg_parse_yaml(text, len, path, doc_out, d);
    nano_free(text);
    return rc;
}
