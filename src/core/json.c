/* SPDX-License-Identifier: MIT
 *
 * json.c - streaming JSON writer (see json.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

void
nano_json_init(struct nano_json *w, struct nano_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void
put(struct nano_json *w, const char *s, size_t n)
{
    if (w->err == NANO_OK)
        w->err = nano_buf_append(w->out, s, n);
}

/* Separator before a value or a key at the current depth. */
static void
before_value(struct nano_json *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

static void
open_(struct nano_json *w, char c)
{
    before_value(w);
    put(w, &c, 1);
    if (w->depth >= NANO_JSON_MAX_DEPTH) {
        if (w->err == NANO_OK)
            w->err = -E2BIG;
        return;
    }
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void
close_(struct nano_json *w, char c)
{
    put(w, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void nano_json_obj_begin(struct nano_json *w) { open_(w, '{'); }
void nano_json_obj_end(struct nano_json *w)   { close_(w, '}'); }
void nano_json_arr_begin(struct nano_json *w) { open_(w, '['); }
void nano_json_arr_end(struct nano_json *w)   { close_(w, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int
nano_json_escape(struct nano_buf *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0;   /* start of a run of bytes that need no escaping */
    int rc = NANO_OK;

    for (size_t i = 0; i < n && rc == NANO_OK;) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char tmp[8];
        size_t ulen;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        ulen = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
        if (ulen) {
            i += ulen;
            continue;
        }
        rc = nano_buf_append(out, s + run, i - run);
        switch (c) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                esc = tmp;
            } else {
                esc = "\xEF\xBF\xBD";   /* U+FFFD for a stray byte */
            }
        }
        if (rc == NANO_OK)
            rc = nano_buf_puts(out, esc);
        i++;
        run = i;
    }
    if (rc == NANO_OK)
        rc = nano_buf_append(out, s + run, n - run);
    return rc;
}

void
nano_json_key(struct nano_json *w, const char *key)
{
    before_value(w);
    put(w, "\"", 1);
    if (w->err == NANO_OK)
        w->err = nano_json_escape(w->out, key, strlen(key));
    put(w, "\":", 2);
    w->after_key = true;
}

void
nano_json_strn(struct nano_json *w, const char *s, size_t n)
{
    before_value(w);
    put(w, "\"", 1);
    if (w->err == NANO_OK)
        w->err = nano_json_escape(w->out, s, n);
    put(w, "\"", 1);
}

void
nano_json_str(struct nano_json *w, const char *s)
{
    if (!s) {
        nano_json_null(w);
        return;
    }
    nano_json_strn(w, s, strlen(s));
}

int
nano_json_fmt_double(char *out, size_t cap, double v)
{
    /* Try increasing precision until the text round-trips: short output for
     * the common 21.5, exact output for 0.1+0.2. */
    if (v == 0) {
        return snprintf(out, cap, signbit(v) ? "-0" : "0");
    }
    /* Range first: converting a huge or non-finite double to int64 is UB. */
    if (fabs(v) < 1e15 && v == (double)(int64_t)v)
        return snprintf(out, cap, "%lld", (long long)v);
    for (int prec = 6; prec <= 17; prec++) {
        int n = snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return n;
    }
    return snprintf(out, cap, "%.17g", v);
}

void
nano_json_num(struct nano_json *w, double v)
{
    char tmp[40];
    int n;

    if (!isfinite(v)) {
        nano_json_null(w);
        return;
    }
    before_value(w);
    n = nano_json_fmt_double(tmp, sizeof tmp, v);
    put(w, tmp, (size_t)n);
}

void
nano_json_int(struct nano_json *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);

    before_value(w);
    put(w, tmp, (size_t)n);
}

void
nano_json_uint(struct nano_json *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);

    before_value(w);
    put(w, tmp, (size_t)n);
}

void
nano_json_bool(struct nano_json *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void
nano_json_null(struct nano_json *w)
{
    before_value(w);
    put(w, "null", 4);
}

void
nano_json_raw(struct nano_json *w, const char *json, size_t n)
{
    before_value(w);
    put(w, json, n);
}

int
nano_json_end(struct nano_json *w)
{
    return w->err;
}
