/* SPDX-License-Identifier: MIT
 *
 * cfg_json.c - strict RFC 8259 JSON into a configuration tree.
 *
 * Used for nano.json, for API request bodies and for message payloads, so
 * it is written for speed as much as for messages: one pass of recursive
 * descent (depth bounded by NANO_CFG_MAX_DEPTH, so the C stack is too), no
 * tokenizer buffer, nodes and strings from the document arena.  A string is
 * scanned once to find its end and validate it, then copied with memcpy, or
 * decoded in a second pass only when it holds escapes.
 *
 * Strict: no comments, no trailing commas, no leading zeros, no NaN, no
 * single quotes; \u escapes must pair surrogates; the text must be UTF-8;
 * control characters in strings must be escaped; a key may appear once per
 * object.  Every error names the position (line and column, counted in
 * characters) of the character at fault, what was expected there and what
 * was found, e.g. "4:1: expected ',' or '}' after an object member, got ']'".
 *
 * Column tracking costs nothing per byte: the parser keeps the start of the
 * current line and the number of UTF-8 continuation bytes seen since (only
 * strings can hold them), so a node's column is a subtraction.  Errors,
 * which are rare, count characters from the line start instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cfg.h"
#include "core/cfg_int.h"
#include "core/err.h"

struct jp {
    const char          *p;          /* next byte */
    const char          *end;
    const char          *line_start;
    size_t               cont;       /* continuation bytes in [line_start, p) */
    unsigned             line;
    unsigned             depth;
    struct cfg_lim       lim;
    struct nano_cfg_doc *doc;
    struct cfg_keyset    keys;
    struct nano_diag    *d;
};

static inline unsigned
col_here(const struct jp *j)
{
    return (unsigned)((size_t)(j->p - j->line_start) - j->cont) + 1;
}

/* Column of q on the current line, counting characters (slow; errors only). */
static unsigned
col_at(const struct jp *j, const char *q)
{
    unsigned col = 1;

    for (const char *s = j->line_start; s < q; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            col++;
    return col;
}

static int
jerr(struct jp *j, const char *at, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
jerr(struct jp *j, const char *at, int rc, const char *fmt, ...)
{
    va_list ap;

    if (!j->d)
        return rc;
    j->d->line = j->line;
    j->d->col = col_at(j, at);
    va_start(ap, fmt);
    vsnprintf(j->d->msg, sizeof j->d->msg, fmt, ap);
    va_end(ap);
    return rc;
}

static inline bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* What is at q, for "got ...": "end of input", "a string", "'x'", ... */
static const char *
got(const struct jp *j, const char *q, char *buf, size_t cap)
{
    const unsigned char *u = (const unsigned char *)q;
    size_t n;

    if (q >= j->end)
        return "end of input";
    if (*q == '"')
        return "a string";
    if (*q == '-' || (*q >= '0' && *q <= '9'))
        return "a number";
    if (*q == '\'')
        return "a single quote (JSON strings use double quotes)";
    if (is_alnum(*q)) {
        const char *e = q;
        while (e < j->end && is_alnum(*e))
            e++;
        n = (size_t)(e - q);
        snprintf(buf, cap, "'%.*s%s'", n > 24 ? 24 : (int)n, q,
                 n > 24 ? "..." : "");
        return buf;
    }
    if (*u >= 0x21 && *u < 0x7f)
        snprintf(buf, cap, "'%c'", *q);
    else if (*u < 0x20 || *u == 0x7f)
        snprintf(buf, cap, "control character U+%04X", *u);
    else if ((n = cfg__utf8_len(u, (const unsigned char *)j->end)) > 0)
        snprintf(buf, cap, "'%.*s'", (int)n, q);
    else
        snprintf(buf, cap, "byte 0x%02X, which is not UTF-8", *u);
    return buf;
}

static void
skip_ws(struct jp *j)
{
    const char *p = j->p;

    for (; p < j->end; p++) {
        char c = *p;

        if (c == ' ' || c == '\t')
            continue;
        if (c == '\n' || c == '\r') {
            if (c == '\r' && p + 1 < j->end && p[1] == '\n')
                p++;
            j->line++;
            j->line_start = p + 1;
            j->cont = 0;
            continue;
        }
        break;
    }
    j->p = p;
}

static struct nano_cfg_node *
new_node(struct jp *j, enum nano_cfg_kind kind, int *rc)
{
    struct nano_cfg_node *n;

    if (j->doc->nodes >= j->lim.max_nodes) {
        *rc = jerr(j, j->p, -E2BIG, "too many values: the limit is %zu",
                   j->lim.max_nodes);
        return NULL;
    }
    n = cfg__node(j->doc, kind, j->line, col_here(j));
    if (!n)
        *rc = jerr(j, j->p, -ENOMEM, "out of memory");
    return n;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Second pass over a string with escapes: raw is [s, e) between the quotes,
 * already checked for UTF-8 and control characters. */
static int
decode(struct jp *j, const char *s, const char *e, char *o, size_t *len_out)
{
    char *o0 = o;

    while (s < e) {
        const char *esc = s;
        unsigned cp, lo;

        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case '"':  *o++ = '"';  s++; continue;
        case '\\': *o++ = '\\'; s++; continue;
        case '/':  *o++ = '/';  s++; continue;
        case 'b':  *o++ = '\b'; s++; continue;
        case 'f':  *o++ = '\f'; s++; continue;
        case 'n':  *o++ = '\n'; s++; continue;
        case 'r':  *o++ = '\r'; s++; continue;
        case 't':  *o++ = '\t'; s++; continue;
        case 'u':
            break;
        default:
            if ((unsigned char)*s >= 0x21 && (unsigned char)*s < 0x7f)
                return jerr(j, esc, NANO_EPARSE,
                            "invalid escape '\\%c' in string (valid: \\\" "
                            "\\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", *s);
            if ((unsigned char)*s < 0x20 || *s == ' ')
                return jerr(j, esc, NANO_EPARSE,
                            "invalid escape in string: '\\' followed by %s",
                            *s == ' ' ? "a space" : "a control character");
            return jerr(j, esc, NANO_EPARSE,
                        "invalid escape in string: '\\' followed by a "
                        "non-ASCII character");
        }
        if (hex4(s + 1, e, &cp) != 0)
            return jerr(j, esc, NANO_EPARSE,
                        "invalid \\u escape in string: expected 4 hex digits");
        s += 5;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return jerr(j, esc, NANO_EPARSE,
                        "invalid \\u escape in string: \\u%04X is a low "
                        "surrogate without a high surrogate before it", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (e - s < 6 || s[0] != '\\' || s[1] != 'u' ||
                hex4(s + 2, e, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                return jerr(j, esc, NANO_EPARSE,
                            "invalid \\u escape in string: high surrogate "
                            "\\u%04X must be followed by a low surrogate "
                            "\\uDC00-\\uDFFF", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
        }
        o = put_utf8(o, cp);
    }
    *len_out = (size_t)(o - o0);
    *o = '\0';
    return NANO_OK;
}

/* j->p is at '"'.  On success *out is the arena copy, j->p is past the
 * closing quote. */
static int
parse_string(struct jp *j, const char **out, size_t *len_out)
{
    const char *open = j->p;
    const unsigned char *q = (const unsigned char *)open + 1;
    const unsigned char *end = (const unsigned char *)j->end;
    size_t cont = 0;
    bool escapes = false;
    char *s;

    for (;;) {
        /* Fast path: plain printable ASCII. */
        while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
            q++;
        if (q >= end)
            return jerr(j, open, NANO_EPARSE,
                        "unterminated string: no closing '\"' before the end "
                        "of input");
        if (*q == '"')
            break;
        if (*q == '\\') {
            escapes = true;
            q += q + 1 < end ? 2 : 1;
            if (q[-1] & 0x80) {
                /* a non-ASCII character after '\': decode() will reject
                 * it, but only after this pass has validated it */
                q--;
            }
            continue;
        }
        if (*q < 0x20) {
            if (*q == '\n' || *q == '\r')
                return jerr(j, (const char *)q, NANO_EPARSE,
                            "line break inside a string (is the closing '\"' "
                            "missing? write a line break as \\n)");
            return jerr(j, (const char *)q, NANO_EPARSE,
                        "control character U+%04X in a string must be "
                        "written as \\u%04X", *q, *q);
        }
        {
            size_t n = cfg__utf8_len(q, end);
            if (n == 0)
                return jerr(j, (const char *)q, NANO_EPARSE,
                            "invalid UTF-8 in string: byte 0x%02X", *q);
            cont += n - 1;
            q += n;
        }
    }
    {
        const char *body = open + 1, *close = (const char *)q;
        size_t raw = (size_t)(close - body);

        s = cfg__str_alloc(j->doc, raw);
        if (!s)
            return jerr(j, open, -ENOMEM, "out of memory");
        if (!escapes) {
            memcpy(s, body, raw);
            s[raw] = '\0';
            *len_out = raw;
        } else {
            int rc = decode(j, body, close, s, len_out);
            if (rc != NANO_OK)
                return rc;
        }
        j->cont += cont;
        j->p = close + 1;
    }
    *out = s;
    return NANO_OK;
}

static int
parse_number(struct jp *j, struct nano_cfg_node *n)
{
    const char *s = j->p, *p = s, *e = j->end;
    char g[64];

    if (*p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return jerr(j, p, NANO_EPARSE, "expected a digit after '-', got %s",
                    got(j, p, g, sizeof g));
    if (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9') {
        const char *z = p;
        while (z < e && *z >= '0' && *z <= '9')
            z++;
        return jerr(j, s, NANO_EPARSE,
                    "invalid number '%.*s': leading zeros are not allowed",
                    (int)((z - s) > 24 ? 24 : z - s), s);
    }
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return jerr(j, p, NANO_EPARSE,
                        "expected a digit after the decimal point, got %s",
                        got(j, p, g, sizeof g));
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return jerr(j, p, NANO_EPARSE,
                        "expected a digit in the exponent, got %s",
                        got(j, p, g, sizeof g));
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    n->str = cfg__str(j->doc, s, (size_t)(p - s));
    if (!n->str)
        return jerr(j, s, -ENOMEM, "out of memory");
    n->len = (size_t)(p - s);
    j->p = p;
    return NANO_OK;
}

/* A value that is not a string, number, object or array: literal or junk. */
static int
parse_word(struct jp *j, struct nano_cfg_node *n)
{
    static const char *const lits[] = { "true", "false", "null" };
    const char *s = j->p, *e = s;
    char g[64];
    size_t len;

    while (e < j->end && is_alnum(*e))
        e++;
    len = (size_t)(e - s);
    for (size_t i = 0; i < NANO_ARRAY_LEN(lits); i++) {
        if (len == strlen(lits[i]) && memcmp(s, lits[i], len) == 0) {
            n->kind = i == 2 ? NANO_CFG_NULL : NANO_CFG_SCALAR;
            n->str = lits[i];            /* static: outlives any document */
            n->len = len;
            j->p = e;
            return NANO_OK;
        }
    }
    if (len == 0)
        return jerr(j, s, NANO_EPARSE, "expected a value, got %s",
                    got(j, s, g, sizeof g));
    for (size_t i = 0; i < NANO_ARRAY_LEN(lits); i++)
        if (len == strlen(lits[i]) && strncasecmp(s, lits[i], len) == 0)
            return jerr(j, s, NANO_EPARSE,
                        "expected a value, got %s (did you mean '%s'?)",
                        got(j, s, g, sizeof g), lits[i]);
    if (len <= 8) {
        static const char *const names[] = { "true", "false", "null", NULL };
        char w[9];
        const char *best;

        memcpy(w, s, len);
        w[len] = '\0';
        if ((best = nano_suggest(w, names)) != NULL)
            return jerr(j, s, NANO_EPARSE,
                        "expected a value, got %s (did you mean '%s'?)",
                        got(j, s, g, sizeof g), best);
    }
    if ((len == 3 && memcmp(s, "NaN", 3) == 0) ||
        (len == 8 && memcmp(s, "Infinity", 8) == 0))
        return jerr(j, s, NANO_EPARSE,
                    "expected a value, got %s (JSON has no NaN or Infinity)",
                    got(j, s, g, sizeof g));
    return jerr(j, s, NANO_EPARSE,
                "expected a value, got %s (strings must be in double quotes)",
                got(j, s, g, sizeof g));
}

static int parse_value(struct jp *j, struct nano_cfg_node *parent,
                       const char *key, unsigned kline, unsigned kcol);

static int
enter(struct jp *j)
{
    if (j->depth >= j->lim.max_depth)
        return jerr(j, j->p, -E2BIG,
                    "too deeply nested: the limit is %u levels of objects "
                    "and arrays", j->lim.max_depth);
    j->depth++;
    return NANO_OK;
}

static int
parse_object(struct jp *j, struct nano_cfg_node *obj)
{
    const char *comma = NULL;
    char g[64], ks[64];
    int rc;

    if ((rc = enter(j)) != NANO_OK)
        return rc;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        j->depth--;
        return NANO_OK;
    }
    for (;;) {
        const struct nano_cfg_node *dup;
        const char *key, *kpos = j->p;
        unsigned kline = j->line, kcol;
        size_t klen;

        if (j->p >= j->end || *j->p != '"') {
            if (!comma)
                return jerr(j, j->p, NANO_EPARSE,
                            "expected a string key or '}', got %s",
                            got(j, j->p, g, sizeof g));
            if (j->p < j->end && *j->p == '}')
                return jerr(j, j->p, NANO_EPARSE,
                            "expected a string key after ',', got '}' "
                            "(trailing commas are not allowed)");
            return jerr(j, j->p, NANO_EPARSE,
                        "expected a string key after ',', got %s",
                        got(j, j->p, g, sizeof g));
        }
        kcol = col_here(j);
        if ((rc = parse_string(j, &key, &klen)) != NANO_OK)
            return rc;
        if (memchr(key, '\0', klen))
            return jerr(j, kpos, NANO_EPARSE,
                        "a key must not contain \\u0000");
        dup = cfg__keyset_find(&j->keys, obj, key);
        if (dup)
            return jerr(j, kpos, NANO_EPARSE,
                        "duplicate key '%s' (first defined at %u:%u)",
                        cfg__show(ks, sizeof ks, key, klen, 40),
                        dup->key_line, dup->key_col);
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return jerr(j, j->p, NANO_EPARSE,
                        "expected ':' after key '%s', got %s",
                        cfg__show(ks, sizeof ks, key, klen, 40),
                        got(j, j->p, g, sizeof g));
        j->p++;
        skip_ws(j);
        if ((rc = parse_value(j, obj, key, kline, kcol)) != NANO_OK)
            return rc;
        if ((rc = cfg__keyset_note(&j->keys, obj)) != NANO_OK)
            return jerr(j, j->p, rc, "out of memory");
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            comma = j->p++;
            skip_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            j->depth--;
            return NANO_OK;
        }
        return jerr(j, j->p, NANO_EPARSE,
                    "expected ',' or '}' after an object member, got %s",
                    got(j, j->p, g, sizeof g));
    }
}

static int
parse_array(struct jp *j, struct nano_cfg_node *arr)
{
    bool comma = false;
    char g[64];
    int rc;

    if ((rc = enter(j)) != NANO_OK)
        return rc;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        j->depth--;
        return NANO_OK;
    }
    for (;;) {
        if (comma && j->p < j->end && *j->p == ']')
            return jerr(j, j->p, NANO_EPARSE,
                        "expected a value after ',', got ']' (trailing commas "
                        "are not allowed)");
        if ((rc = parse_value(j, arr, NULL, 0, 0)) != NANO_OK)
            return rc;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            comma = true;
            skip_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            j->depth--;
            return NANO_OK;
        }
        return jerr(j, j->p, NANO_EPARSE,
                    "expected ',' or ']' after an array element, got %s",
                    got(j, j->p, g, sizeof g));
    }
}

/* Parse the value at j->p (whitespace skipped) as a new child of parent
 * (NULL: the root). */
static int
parse_value(struct jp *j, struct nano_cfg_node *parent, const char *key,
            unsigned kline, unsigned kcol)
{
    struct nano_cfg_node *n;
    char g[64];
    int rc = NANO_OK;

    if (j->p >= j->end)
        return jerr(j, j->p, NANO_EPARSE, "expected a value, got end of input");
    switch (*j->p) {
    case '{':
        n = new_node(j, NANO_CFG_MAP, &rc);
        break;
    case '[':
        n = new_node(j, NANO_CFG_LIST, &rc);
        break;
    default:
        n = new_node(j, NANO_CFG_SCALAR, &rc);
        break;
    }
    if (!n)
        return rc;
    n->key = key;
    n->key_line = kline;
    n->key_col = kcol;
    if (parent)
        cfg__link(parent, n);
    else
        j->doc->root = n;
    switch (*j->p) {
    case '{':
        return parse_object(j, n);
    case '[':
        return parse_array(j, n);
    case '"':
        n->quoted = true;
        return parse_string(j, &n->str, &n->len);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(j, n);
    case ']':
    case '}':
    case ',':
    case ':':
        return jerr(j, j->p, NANO_EPARSE, "expected a value, got %s",
                    got(j, j->p, g, sizeof g));
    default:
        return parse_word(j, n);
    }
}

int
nano_cfg_parse_json_ex(const char *text, size_t len, const char *origin,
                       const struct nano_cfg_limits *lim,
                       struct nano_cfg_doc **doc_out, struct nano_diag *d)
{
    struct jp j;
    char g[64];
    int rc;

    *doc_out = NULL;
    memset(&j, 0, sizeof j);
    if (d) {
        d->origin = origin;
        d->line = d->col = 0;
        d->msg[0] = '\0';
    }
    cfg__limits(lim, &j.lim);
    if (len > j.lim.max_bytes)
        return nano_diag_set(d, -E2BIG, 0, 0,
                             "input is %zu bytes, more than the limit of %zu",
                             len, j.lim.max_bytes);
    if (!text)
        text = "";
    j.p = j.line_start = text;
    j.end = text + len;
    j.line = 1;
    j.d = d;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        j.p = j.line_start = text + 3;
    /* Most of a tree is nodes: roughly one per 8 bytes of dense JSON. */
    j.doc = cfg__doc_new(origin, len < 8192 ? len * 8 : 65536);
    if (!j.doc)
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    cfg__keyset_init(&j.keys);
    cfg__doc_progress(j.doc, text, len, &j.p);
    skip_ws(&j);
    rc = parse_value(&j, NULL, NULL, 0, 0);
    if (rc == NANO_OK) {
        skip_ws(&j);
        if (j.p < j.end)
            rc = jerr(&j, j.p, NANO_EPARSE,
                      "expected the end of input after the top-level value, "
                      "got %s", got(&j, j.p, g, sizeof g));
    }
    cfg__keyset_free(&j.keys);
    cfg__doc_progress(j.doc, NULL, 0, NULL);      /* j.p goes out of scope */
    if (rc != NANO_OK) {
        nano_cfg_free(j.doc);
        return rc;
    }
    *doc_out = j.doc;
    return NANO_OK;
}

int
nano_cfg_parse_json(const char *text, size_t len, const char *origin,
                    struct nano_cfg_doc **doc_out, struct nano_diag *d)
{
    return nano_cfg_parse_json_ex(text, len, origin, NULL, doc_out, d);
}
