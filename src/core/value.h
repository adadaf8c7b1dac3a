/* SPDX-License-Identifier: MIT
 *
 * value.h - the value model of a reading: number, bool, string, bytes or a
 * JSON document, with a unit, a quality flag and two timestamps.
 *
 * A struct nano_value is a small view: strings, bytes and the unit are
 * borrowed pointers.  Inside a bus message (msg.h) they point into the
 * message's own allocation, so a value taken from a message is valid as long
 * as the message reference is held.
 *
 * Timestamps are microseconds: wall clock (Unix epoch, for users and upstream)
 * and monotonic (for windows, ages and rates, immune to clock steps).
 */
#ifndef NANO_CORE_VALUE_H
#define NANO_CORE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nano_vtype {
    NANO_VT_NONE = 0,
    NANO_VT_NUM,        /* double */
    NANO_VT_BOOL,
    NANO_VT_STR,        /* UTF-8 text */
    NANO_VT_BYTES,      /* opaque */
    NANO_VT_JSON,       /* a JSON object or array, as text */
};

enum nano_quality {
    NANO_Q_OK = 0,
    NANO_Q_STALE,       /* the source stopped answering; value is the last known */
    NANO_Q_FAULT,       /* the source reported an error or an impossible value */
};

struct nano_value {
    uint8_t     type;          /* enum nano_vtype */
    uint8_t     quality;       /* enum nano_quality */
    const char *unit;          /* Borrows; NULL when unitless */
    union {
        double  num;
        bool    b;
        struct {
            const char *p;     /* Borrows */
            size_t      len;
        } s;                   /* STR, BYTES, JSON */
    } u;
    int64_t     ts_wall_us;    /* 0: stamped by nano_msg_new() */
    int64_t     ts_mono_us;
};

static inline struct nano_value
nano_value_num(double v, const char *unit)
{
    struct nano_value x = { .type = NANO_VT_NUM, .unit = unit };
    x.u.num = v;
    return x;
}

static inline struct nano_value
nano_value_bool(bool v)
{
    struct nano_value x = { .type = NANO_VT_BOOL };
    x.u.b = v;
    return x;
}

struct nano_value nano_value_str(const char *s, size_t len);

const char *nano_vtype_name(enum nano_vtype t);
const char *nano_quality_name(enum nano_quality q);
/* Returns NANO_OK and *q_out for "ok"/"stale"/"fault", else -EINVAL. */
int nano_quality_parse(const char *s, enum nano_quality *q_out);

/* Interpret command-line text as a value: a number if it parses fully as
 * one, true/false as bool, text starting with '{' or '[' as JSON, else a
 * string.  Borrows s (the value points into it). */
struct nano_value nano_value_from_text(const char *s);

/* Numeric view: numbers as is, bools as 0/1; others return false. */
bool nano_value_as_num(const struct nano_value *v, double *out);

struct nano_json;
/* Write v's payload as a JSON value (number, bool, string, the JSON text
 * itself, or base64 for bytes). */
void nano_value_write_json(struct nano_json *w, const struct nano_value *v);

/* Write v as a JSON object {"value":..,"unit":..,"quality":..,"ts":..}. */
void nano_value_write_json_obj(struct nano_json *w, const struct nano_value *v);

/* Human text of the payload ("21.5", "true", "text"), into out. */
char *nano_value_format(const struct nano_value *v, char *out, size_t cap);

#endif
