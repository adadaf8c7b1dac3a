/* SPDX-License-Identifier: MIT
 *
 * value.c - value helpers: names, text and JSON forms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "core/value.h"

struct nano_value
nano_value_str(const char *s, size_t len)
{
    struct nano_value x = { .type = NANO_VT_STR };

    x.u.s.p = s;
    x.u.s.len = len;
    return x;
}

const char *
nano_vtype_name(enum nano_vtype t)
{
    switch (t) {
    case NANO_VT_NUM:   return "number";
    case NANO_VT_BOOL:  return "bool";
    case NANO_VT_STR:   return "string";
    case NANO_VT_BYTES: return "bytes";
    case NANO_VT_JSON:  return "json";
    case NANO_VT_NONE:  break;
    }
    return "none";
}

const char *
nano_quality_name(enum nano_quality q)
{
    switch (q) {
    case NANO_Q_OK:    return "ok";
    case NANO_Q_STALE: return "stale";
    case NANO_Q_FAULT: return "fault";
    }
    return "?";
}

int
nano_quality_parse(const char *s, enum nano_quality *q_out)
{
    if (strcmp(s, "ok") == 0)
        *q_out = NANO_Q_OK;
    else if (strcmp(s, "stale") == 0)
        *q_out = NANO_Q_STALE;
    else if (strcmp(s, "fault") == 0)
        *q_out = NANO_Q_FAULT;
    else
        return -EINVAL;
    return NANO_OK;
}

struct nano_value
nano_value_from_text(const char *s)
{
    char *end;
    double d;
    size_t len = strlen(s);

    if (len) {
        d = strtod(s, &end);
        if (*end == '\0' && end != s && isfinite(d) && s[0] != ' ' &&
            strpbrk(s, "xXpP") == NULL)     /* no hex floats from the CLI */
            return nano_value_num(d, NULL);
    }
    if (strcmp(s, "true") == 0)
        return nano_value_bool(true);
    if (strcmp(s, "false") == 0)
        return nano_value_bool(false);
    if (s[0] == '{' || s[0] == '[') {
        struct nano_value v = nano_value_str(s, len);
        v.type = NANO_VT_JSON;
        return v;
    }
    return nano_value_str(s, len);
}

bool
nano_value_as_num(const struct nano_value *v, double *out)
{
    if (v->type == NANO_VT_NUM) {
        *out = v->u.num;
        return true;
    }
    if (v->type == NANO_VT_BOOL) {
        *out = v->u.b ? 1.0 : 0.0;
        return true;
    }
    return false;
}

static void
write_base64(struct nano_json *w, const uint8_t *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char chunk[256];
    size_t k = 0;
    struct nano_buf tmp;

    nano_buf_init(&tmp, 4 * ((n + 2) / 3) + 4);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            x |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            x |= p[i + 2];
        chunk[k++] = tbl[(x >> 18) & 63];
        chunk[k++] = tbl[(x >> 12) & 63];
        chunk[k++] = i + 1 < n ? tbl[(x >> 6) & 63] : '=';
        chunk[k++] = i + 2 < n ? tbl[x & 63] : '=';
        if (k >= sizeof chunk - 4) {
            nano_buf_append(&tmp, chunk, k);
            k = 0;
        }
    }
    nano_buf_append(&tmp, chunk, k);
    nano_json_strn(w, tmp.data ? tmp.data : "", tmp.len);
    nano_buf_free(&tmp);
}

void
nano_value_write_json(struct nano_json *w, const struct nano_value *v)
{
    switch (v->type) {
    case NANO_VT_NUM:
        nano_json_num(w, v->u.num);
        break;
    case NANO_VT_BOOL:
        nano_json_bool(w, v->u.b);
        break;
    case NANO_VT_STR:
        nano_json_strn(w, v->u.s.p, v->u.s.len);
        break;
    case NANO_VT_JSON:
        nano_json_raw(w, v->u.s.p, v->u.s.len);
        break;
    case NANO_VT_BYTES:
        write_base64(w, (const uint8_t *)v->u.s.p, v->u.s.len);
        break;
    default:
        nano_json_null(w);
    }
}

void
nano_value_write_json_obj(struct nano_json *w, const struct nano_value *v)
{
    nano_json_obj_begin(w);
    nano_json_key(w, "value");
    nano_value_write_json(w, v);
    nano_json_key(w, "type");
    nano_json_str(w, nano_vtype_name(v->type));
    if (v->unit) {
        nano_json_key(w, "unit");
        nano_json_str(w, v->unit);
    }
    nano_json_key(w, "quality");
    nano_json_str(w, nano_quality_name(v->quality));
    nano_json_key(w, "ts");
    nano_json_int(w, v->ts_wall_us);
    nano_json_obj_end(w);
}

char *
nano_value_format(const struct nano_value *v, char *out, size_t cap)
{
    switch (v->type) {
    case NANO_VT_NUM:
        nano_json_fmt_double(out, cap, v->u.num);
        break;
    case NANO_VT_BOOL:
        snprintf(out, cap, "%s", v->u.b ? "true" : "false");
        break;
    case NANO_VT_STR:
    case NANO_VT_JSON:
        snprintf(out, cap, "%.*s", (int)(v->u.s.len > 4096 ? 4096 : v->u.s.len),
                 v->u.s.p);
        break;
    case NANO_VT_BYTES:
        snprintf(out, cap, "<%zu bytes>", v->u.s.len);
        break;
    default:
        snprintf(out, cap, "-");
    }
    return out;
}
