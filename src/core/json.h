/* SPDX-License-Identifier: MIT
 *
 * json.h - a small streaming JSON writer into a nano_buf.
 *
 * Used for API responses, SSE events, persisted state and log lines in JSON
 * format.  The writer tracks nesting and inserts commas itself, so callers
 * write `nano_json_key(w, "uptime"); nano_json_num(w, 12.5);` without caring
 * about separators.  Strings are escaped per RFC 8259 (control characters as
 * \u00XX; invalid UTF-8 bytes replaced by U+FFFD so output is always valid).
 *
 * Errors are sticky: after the first failed append (-ENOSPC when the buffer's
 * maximum is reached, -ENOMEM) every call is a no-op and nano_json_end()
 * returns that error, so callers check once at the end.
 * Parsing JSON is cfg.h's job (nano_cfg_parse_json).
 */
#ifndef NANO_CORE_JSON_H
#define NANO_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define NANO_JSON_MAX_DEPTH 32

struct nano_json {
    struct nano_buf *out;                    /* Borrows: caller owns */
    int              err;                    /* first error, sticky */
    unsigned         depth;
    bool             need_comma[NANO_JSON_MAX_DEPTH + 1];
    bool             after_key;
};

void nano_json_init(struct nano_json *w, struct nano_buf *out);

void nano_json_obj_begin(struct nano_json *w);
void nano_json_obj_end(struct nano_json *w);
void nano_json_arr_begin(struct nano_json *w);
void nano_json_arr_end(struct nano_json *w);
void nano_json_key(struct nano_json *w, const char *key);
void nano_json_str(struct nano_json *w, const char *s);            /* NULL -> null */
void nano_json_strn(struct nano_json *w, const char *s, size_t n);
void nano_json_num(struct nano_json *w, double v);   /* NaN/inf -> null */
void nano_json_int(struct nano_json *w, int64_t v);
void nano_json_uint(struct nano_json *w, uint64_t v);
void nano_json_bool(struct nano_json *w, bool v);
void nano_json_null(struct nano_json *w);
/* Insert already-serialised JSON text as one value (trusted input). */
void nano_json_raw(struct nano_json *w, const char *json, size_t n);

/* Returns NANO_OK or the first error. */
int  nano_json_end(struct nano_json *w);

/* Append s escaped as a JSON string body (no quotes) to out. */
int  nano_json_escape(struct nano_buf *out, const char *s, size_t n);

/* Shortest text that parses back to the same double ("%.17g" trimmed). */
int  nano_json_fmt_double(char *out, size_t cap, double v);

#endif
