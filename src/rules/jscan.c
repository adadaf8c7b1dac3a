/* SPDX-License-Identifier: MIT
 *
 * jscan.c - the allocation-free JSON field scanner of topic services.
 *
 * A topic service reads a handful of fields ("value", "ts", "status") of
 * every message.  Building a tree per message would allocate on the hottest
 * path, so this walks the top-level object once, compares each key with the
 * few wanted ones and records a view of the value: numbers are converted,
 * strings are returned as raw (still escaped) text inside the payload,
 * nested objects and arrays are skipped by a depth counter and returned as
 * raw JSON text.  Nothing is copied; the views borrow the payload.
 *
 * It is a scanner, not a validator: it checks what it walks (structure,
 * string escapes, number syntax) and returns -EPROTO at the first thing it
 * cannot walk; fields before that point keep their values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

#define SCAN_MAX_DEPTH 64

static size_t
ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                       p[i] == '\r'))
        i++;
    return i;
}

/* p[i] is '"'.  Returns the index after the closing quote, or 0 on error;
 * the body is p[i+1, ret-1). */
static size_t
skip_string(const char *p, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (++i >= len)
                return 0;
            if (p[i] == 'u') {
                if (i + 4 >= len)
                    return 0;
                for (int k = 1; k <= 4; k++) {
                    char h = p[i + k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return 0;
                }
                i += 4;
            } else if (!strchr("\"\\/bfnrt", p[i])) {
                return 0;
            }
        } else if (c < 0x20) {
            return 0;
        }
    }
    return 0;
}

/* A number at p[i]: returns the index after it, 0 on error; *v its value. */
static size_t
scan_number(const char *p, size_t i, size_t len, double *v)
{
    size_t s = i;
    char buf[64];

    if (i < len && p[i] == '-')
        i++;
    if (i >= len || !(p[i] >= '0' && p[i] <= '9'))
        return 0;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i < len && p[i] == '.') {
        i++;
        if (i >= len || !(p[i] >= '0' && p[i] <= '9'))
            return 0;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= len || !(p[i] >= '0' && p[i] <= '9'))
            return 0;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i - s >= sizeof buf) {
        *v = NAN;                  /* absurdly long: readable as unknown */
        return i;
    }
    memcpy(buf, p + s, i - s);
    buf[i - s] = '\0';
    *v = strtod(buf, NULL);
    return i;
}

/* Skip any value at p[i]; returns the index after it, 0 on error. */
static size_t
skip_value(const char *p, size_t i, size_t len)
{
    unsigned depth = 0;
    double v;

    do {
        i = ws(p, i, len);
        if (i >= len)
            return 0;
        switch (p[i]) {
        case '{':
        case '[':
            if (++depth > SCAN_MAX_DEPTH)
                return 0;
            i++;
            continue;
        case '}':
        case ']':
            if (!depth)
                return 0;
            depth--;
            i++;
            break;
        case ',':
        case ':':
            if (!depth)
                return 0;
            i++;
            continue;
        case '"':
            if (!(i = skip_string(p, i, len)))
                return 0;
            break;
        case 't':
            if (len - i < 4 || memcmp(p + i, "true", 4) != 0)
                return 0;
            i += 4;
            break;
        case 'f':
            if (len - i < 5 || memcmp(p + i, "false", 5) != 0)
                return 0;
            i += 5;
            break;
        case 'n':
            if (len - i < 4 || memcmp(p + i, "null", 4) != 0)
                return 0;
            i += 4;
            break;
        default:
            if (!(i = scan_number(p, i, len, &v)))
                return 0;
            break;
        }
    } while (depth);
    return i;
}

static unsigned
hexval(char h)
{
    return h >= '0' && h <= '9' ? (unsigned)(h - '0') :
           h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10) :
           (unsigned)(h - 'A' + 10);
}

/* Decode one character of a JSON string body at p[*i] into out (up to 4
 * bytes).  Returns the byte count. */
static size_t
decode_one(const char *p, size_t len, size_t *i, char out[4])
{
    char c = p[*i];

    if (c != '\\' || *i + 1 >= len) {
        out[0] = c;
        (*i)++;
        return 1;
    }
    c = p[*i + 1];
    *i += 2;
    switch (c) {
    case 'n': out[0] = '\n'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'u': {
        unsigned cp = 0;
        if (*i + 4 > len)
            return 0;
        for (int k = 0; k < 4; k++)
            cp = cp << 4 | hexval(p[*i + (size_t)k]);
        *i += 4;
        /* Surrogate pairs are passed through as U+FFFD: rules compare plain
         * text, and nobody writes emoji into a sensor status. */
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        if (cp < 0x80) {
            out[0] = (char)cp;
            return 1;
        }
        if (cp < 0x800) {
            out[0] = (char)(0xC0 | cp >> 6);
            out[1] = (char)(0x80 | (cp & 0x3F));
            return 2;
        }
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    default:                /* \" \\ \/ and the rule language's \{ \} */
        out[0] = c;
        return 1;
    }
}

size_t
rules__json_unescape(const char *p, size_t len, char *out, size_t cap)
{
    size_t i = 0, k = 0;
    char ch[4];

    if (cap == 0)
        return 0;
    while (i < len) {
        size_t n = decode_one(p, len, &i, ch);
        if (n == 0 || k + n >= cap)
            break;
        memcpy(out + k, ch, n);
        k += n;
    }
    out[k] = '\0';
    return k;
}

bool
rules__json_str_eq(const char *p, size_t len, const char *lit, size_t lit_len)
{
    size_t i = 0, k = 0;
    char ch[4];

    if (!memchr(p, '\\', len))
        return len == lit_len && memcmp(p, lit, len) == 0;
    while (i < len) {
        size_t n = decode_one(p, len, &i, ch);
        if (n == 0 || k + n > lit_len || memcmp(lit + k, ch, n) != 0)
            return false;
        k += n;
    }
    return k == lit_len;
}

int
nano_rule_json_scan(const char *p, size_t len, const char *const *keys,
                    size_t n, struct nano_value *out, bool *found)
{
    size_t i, ks, ke, vs, ve;

    for (size_t k = 0; k < n; k++)
        found[k] = false;
    i = ws(p, 0, len);
    if (i >= len || p[i] != '{')
        return -EPROTO;
    i = ws(p, i + 1, len);
    if (i < len && p[i] == '}')
        return NANO_OK;
    for (;;) {
        if (i >= len || p[i] != '"')
            return -EPROTO;
        ks = i + 1;
        if (!(i = skip_string(p, i, len)))
            return -EPROTO;
        ke = i - 1;
        i = ws(p, i, len);
        if (i >= len || p[i] != ':')
            return -EPROTO;
        vs = ws(p, i + 1, len);
        if (!(ve = skip_value(p, vs, len)))
            return -EPROTO;
        for (size_t k = 0; k < n; k++) {
            size_t kl = strlen(keys[k]);
            struct nano_value *v = &out[k];
            if (found[k] || !rules__json_str_eq(p + ks, ke - ks, keys[k], kl))
                continue;
            memset(v, 0, sizeof *v);
            switch (p[vs]) {
            case '"':
                v->type = NANO_VT_STR;
                v->u.s.p = p + vs + 1;
                v->u.s.len = ve - vs - 2;
                break;
            case '{':
            case '[':
                v->type = NANO_VT_JSON;
                v->u.s.p = p + vs;
                v->u.s.len = ve - vs;
                break;
            case 't':
            case 'f':
                v->type = NANO_VT_BOOL;
                v->u.b = p[vs] == 't';
                break;
            case 'n':
                v->type = NANO_VT_NONE;
                break;
            default:
                v->type = NANO_VT_NUM;
                scan_number(p, vs, len, &v->u.num);
                break;
            }
            found[k] = true;
            break;
        }
        i = ws(p, ve, len);
        if (i < len && p[i] == ',') {
            i = ws(p, i + 1, len);
            continue;
        }
        if (i < len && p[i] == '}')
            return NANO_OK;
        return -EPROTO;
    }
}
