/* SPDX-License-Identifier: MIT
 *
 * tmpl.c - formatting action text: templates ("alerts/{1}", "hot: {temperature}")
 * and payloads ({"value": value, "ts": ts}).
 *
 * Output goes into a caller-supplied bounded buffer (struct rout, usually on
 * the stack): nothing is allocated per action.  Text that does not fit sets
 * `overflow` and the action fails with -ENOSPC (counted), it is never cut
 * silently.
 *
 * Numbers print in their shortest exact form (21.5, 1764777600123456), or
 * with N decimals for {x:.N}.  An unknown number prints as "unknown" in text
 * and null in JSON.  A bare input or field prints as what it holds: text as
 * text, JSON as JSON, a number as a number.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "rules/rules_int.h"

void
rules__out_put(struct rout *o, const char *s, size_t n)
{
    if (o->overflow)
        return;
    if (o->len + n + 1 > o->cap) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

void
rules__out_putc(struct rout *o, char c)
{
    rules__out_put(o, &c, 1);
}

void
rules__out_num(struct rout *o, double v, int prec, bool json)
{
    char tmp[64];
    int n;

    if (!isfinite(v)) {
        rules__out_put(o, json ? "null" : "unknown", json ? 4 : 7);
        return;
    }
    if (prec >= 0)
        n = snprintf(tmp, sizeof tmp, "%.*f", prec, v);
    else if (fabs(v) < 9007199254740992.0 && v == (double)(long long)v)
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);  /* timestamps */
    else
        n = nano_json_fmt_double(tmp, sizeof tmp, v);
    if (n > 0 && (size_t)n < sizeof tmp)
        rules__out_put(o, tmp, (size_t)n);
    else
        o->overflow = true;
}

/* A JSON string: s is plain text (escaped = false) or the raw body of a JSON
 * string (escaped = true, copied as is). */
void
rules__out_json_str(struct rout *o, const char *s, size_t n, bool escaped)
{
    static const char hex[] = "0123456789abcdef";

    rules__out_putc(o, '"');
    if (escaped) {
        rules__out_put(o, s, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            char e[6];
            switch (c) {
            case '"':  rules__out_put(o, "\\\"", 2); break;
            case '\\': rules__out_put(o, "\\\\", 2); break;
            case '\n': rules__out_put(o, "\\n", 2); break;
            case '\r': rules__out_put(o, "\\r", 2); break;
            case '\t': rules__out_put(o, "\\t", 2); break;
            default:
                if (c < 0x20) {
                    memcpy(e, "\\u00", 4);
                    e[4] = hex[c >> 4];
                    e[5] = hex[c & 15];
                    rules__out_put(o, e, 6);
                } else {
                    rules__out_putc(o, (char)c);
                }
            }
        }
    }
    rules__out_putc(o, '"');
}

static void
out_cond(struct rout *o, double v, bool json)
{
    if (isnan(v))
        rules__out_put(o, json ? "null" : "unknown", json ? 4 : 7);
    else if (v != 0)
        rules__out_put(o, "true", 4);
    else
        rules__out_put(o, "false", 5);
}

/* An input as text (json false) or as a JSON value. */
static void
put_input(struct nano_rule_state *st, struct rout *o, unsigned i, int prec,
          bool json)
{
    const struct rin *in = &st->in[i];
    char tmp[NANO_RULE_OUT_MAX];

    if (!in->seen || in->vtype == NANO_VT_NONE) {
        rules__out_put(o, json ? "null" : "unknown", json ? 4 : 7);
        return;
    }
    switch (in->vtype) {
    case NANO_VT_STR:
        if (json) {
            rules__out_json_str(o, in->s ? in->s : "", in->s ? in->slen : 0,
                                in->escaped);
        } else if (in->escaped) {
            size_t n = rules__json_unescape(in->s, in->slen, tmp, sizeof tmp);
            rules__out_put(o, tmp, n);
        } else if (in->s) {
            rules__out_put(o, in->s, in->slen);
        }
        return;
    case NANO_VT_JSON:
        if (in->s)
            rules__out_put(o, in->s, in->slen);
        else
            rules__out_put(o, "null", 4);
        return;
    case NANO_VT_BOOL:
        out_cond(o, in->last, json);
        return;
    case NANO_VT_BYTES:
        rules__out_put(o, json ? "null" : "<bytes>", json ? 4 : 7);
        return;
    default:
        rules__out_num(o, in->last, prec, json);
        return;
    }
}

void
rules__tmpl_format(struct nano_rule_state *st, int t, struct rout *o)
{
    const struct nano_rule *r = st->r;
    const struct rtmpl *tm = &r->tmpls[t];

    for (uint32_t i = 0; i < tm->n; i++) {
        const struct rpart *p = &r->parts[tm->first + i];
        const struct rprog *pg;
        double v;

        switch (p->kind) {
        case P_LIT:
            rules__out_put(o, r->pool + p->off, p->len);
            break;
        case P_SEG:
            if (p->idx >= 1 && p->idx <= st->n_seg && st->topic)
                rules__out_put(o, st->topic + st->seg_off[p->idx - 1],
                               st->seg_len[p->idx - 1]);
            break;
        case P_TOPIC:
            if (st->topic)
                rules__out_put(o, st->topic, strlen(st->topic));
            break;
        case P_SERVICE:
            rules__out_put(o, r->name, strlen(r->name));
            break;
        case P_INPUT:
            put_input(st, o, p->idx, p->prec, false);
            break;
        case P_EXPR:
            pg = &r->progs[p->idx];
            v = rules__vm_run(r, pg, st, NULL);
            if (pg->type == TY_BOOL)
                out_cond(o, v, false);
            else
                rules__out_num(o, v, p->prec, false);
            break;
        }
    }
}

void
rules__jv_json(struct nano_rule_state *st, int id, struct rout *o)
{
    const struct nano_rule *r = st->r;
    const struct rjv *jv = &r->jv[id];
    const struct rprog *pg;
    char tmp[NANO_RULE_OUT_MAX];
    struct rout t;
    double v;
    bool first = true;

    switch (jv->kind) {
    case J_OBJ:
        rules__out_putc(o, '{');
        for (int32_t m = jv->child; m >= 0; m = r->jv[m].next) {
            if (!first)
                rules__out_putc(o, ',');
            first = false;
            rules__out_json_str(o, r->pool + r->jv[m].key_off,
                                r->jv[m].key_len, false);
            rules__out_putc(o, ':');
            rules__jv_json(st, m, o);
        }
        rules__out_putc(o, '}');
        break;
    case J_INPUT:
        put_input(st, o, (unsigned)jv->idx, -1, true);
        break;
    case J_TMPL:
        t = (struct rout){ tmp, 0, sizeof tmp, false };
        tmp[0] = '\0';
        rules__tmpl_format(st, jv->idx, &t);
        if (t.overflow)
            o->overflow = true;
        rules__out_json_str(o, tmp, t.len, false);
        break;
    case J_EXPR:
        pg = &r->progs[jv->idx];
        v = rules__vm_run(r, pg, st, NULL);
        if (pg->type == TY_BOOL)
            out_cond(o, v, true);
        else
            rules__out_num(o, v, -1, true);
        break;
    }
}

void
rules__jv_format(struct nano_rule_state *st, int id, struct rout *o,
                 struct nano_value *v_out)
{
    const struct nano_rule *r = st->r;
    const struct rjv *jv = &r->jv[id];
    const struct rin *in;
    double v;

    memset(v_out, 0, sizeof *v_out);
    switch (jv->kind) {
    case J_OBJ:
        rules__jv_json(st, id, o);
        *v_out = nano_value_str(o->p, o->len);
        v_out->type = NANO_VT_JSON;
        return;
    case J_TMPL:
        rules__tmpl_format(st, jv->idx, o);
        *v_out = nano_value_str(o->p, o->len);
        return;
    case J_INPUT:
        in = &st->in[jv->idx];
        if (in->seen && (in->vtype == NANO_VT_STR || in->vtype == NANO_VT_JSON)) {
            put_input(st, o, (unsigned)jv->idx, -1, false);
            *v_out = nano_value_str(o->p, o->len);
            v_out->type = in->vtype;
            return;
        }
        if (in->seen && in->vtype == NANO_VT_BOOL) {
            *v_out = nano_value_bool(in->last != 0);
            return;
        }
        *v_out = nano_value_num(in->seen ? in->last : NAN, NULL);
        return;
    case J_EXPR:
        v = rules__vm_run(r, &r->progs[jv->idx], st, NULL);
        if (r->progs[jv->idx].type == TY_BOOL && !isnan(v))
            *v_out = nano_value_bool(v != 0);
        else
            *v_out = nano_value_num(v, NULL);
        return;
    }
}
