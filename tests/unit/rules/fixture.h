/* fixture.h - a name resolver and an action sink for the rule engine's unit
 * tests: a fixed set of instances, quantities and pins (what devmgr and the
 * pins table give the daemon), and a sink that records every action. */
#ifndef NANO_TEST_RULES_FIXTURE_H
#define NANO_TEST_RULES_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "core/buf.h"
#include "core/json.h"
#include "rules/rules.h"

#define S(x) ((uint64_t)((x) * 1e9))        /* seconds -> ns */

#if defined(__GNUC__)
#define FX_UNUSED __attribute__((unused))
#else
#define FX_UNUSED
#endif

struct fx_inst {
    const char *name;
    const char *q[4];
};

struct fx {
    const struct fx_inst *insts;
    const char *const    *pins;
    bool                  topic_mode;
    uint64_t              interval_ns;
    const char           *names[32];
    char                  key[160];
    char                  pin[64];
};

static const struct fx_inst fx_single[] = {
    { "probe", { "temperature", NULL } },
    { "room", { "humidity", "pressure", NULL } },
    { NULL, { NULL } },
};

static const struct fx_inst fx_two_temps[] = {
    { "boiler", { "temperature", "pressure", NULL } },
    { "tank", { "temperature", "level", NULL } },
    { NULL, { NULL } },
};

static const char *const fx_pins[] = { "led_pin", "fan", "heater", NULL };

FX_UNUSED static bool
fx_in(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

FX_UNUSED static int
fx_resolve(void *arg, const char *name, unsigned want, struct nano_rule_sym *out)
{
    struct fx *f = arg;
    const char *dot = strchr(name, '.');
    const struct fx_inst *hit = NULL;
    unsigned n = 0, hits = 0;

    if (want == NANO_RSYM_WANT_PIN || (!f->topic_mode && !dot && fx_in(f->pins, name))) {
        if (!fx_in(f->pins, name)) {
            out->names = f->pins;
            out->names_what = "pins";
            return NANO_ENOTFOUND;
        }
        snprintf(f->key, sizeof f->key, "pins/%s", name);
        snprintf(f->pin, sizeof f->pin, "%s", name);
        out->kind = NANO_RSYM_PIN;
        out->key = f->key;
        out->name = f->pin;
        return NANO_OK;
    }
    if (strcmp(name, "PI") == 0) {
        out->kind = NANO_RSYM_CONST;
        out->value = 3.14159;
        return NANO_OK;
    }
    if (f->topic_mode) {
        out->kind = NANO_RSYM_FIELD;
        snprintf(f->key, sizeof f->key, "%s", name);
        out->key = f->key;
        return NANO_OK;
    }
    if (dot) {
        size_t il = (size_t)(dot - name);
        for (const struct fx_inst *i = f->insts; i->name; i++)
            if (strlen(i->name) == il && strncmp(i->name, name, il) == 0)
                hit = i;
        if (!hit) {
            for (const struct fx_inst *i = f->insts; i->name && n < 31; i++)
                f->names[n++] = i->name;
            f->names[n] = NULL;
            out->names = f->names;
            out->names_what = "instances";
            return NANO_ENOTFOUND;
        }
        if (!fx_in(hit->q, dot + 1)) {
            out->names = hit->q;
            out->names_what = "quantities of this instance";
            return NANO_ENOTFOUND;
        }
        snprintf(f->key, sizeof f->key, "sensors/%.*s/%s", (int)il, name, dot + 1);
        out->kind = NANO_RSYM_INPUT;
        out->key = f->key;
        out->interval_ns = f->interval_ns;
        return NANO_OK;
    }
    for (const struct fx_inst *i = f->insts; i->name; i++)
        if (fx_in(i->q, name)) {
            hits++;
            hit = i;
            if (n < 31)
                f->names[n++] = i->name;
        }
    f->names[n] = NULL;
    if (hits == 1) {
        snprintf(f->key, sizeof f->key, "sensors/%s/%s", hit->name, name);
        out->kind = NANO_RSYM_INPUT;
        out->key = f->key;
        out->interval_ns = f->interval_ns;
        return NANO_OK;
    }
    out->names = f->names;
    if (hits > 1) {
        out->names_what = "instances";
        return NANO_EAMBIG;
    }
    /* every distinct quantity */
    n = 0;
    for (const struct fx_inst *i = f->insts; i->name; i++)
        for (int q = 0; i->q[q]; q++)
            if (!fx_in(f->names, i->q[q]) && n < 31) {
                f->names[n++] = i->q[q];
                f->names[n] = NULL;
            }
    out->names_what = "quantities";
    return NANO_ENOTFOUND;
}

/* ---- a recording sink ---------------------------------------------------- */

struct fx_sink {
    struct nano_rule_sink sink;
    char     log[64][256];      /* one line per action, "kind args" */
    int      n;
    int      fail_rc;           /* returned by every action when nonzero */
    uint64_t wake;
    int      wakes;
    int64_t  wall;
};

FX_UNUSED static void
fx_rec(struct fx_sink *s, const char *fmt, const char *a, const char *b)
{
    if (s->n < 64)
        snprintf(s->log[s->n++], sizeof s->log[0], fmt, a, b);
}

FX_UNUSED static int
fx_gpio_set(void *arg, struct nano_rule_state *st, const char *pin, bool high)
{
    (void)st;
    fx_rec(arg, "gpio.set %s %s", pin, high ? "HIGH" : "LOW");
    return ((struct fx_sink *)arg)->fail_rc;
}

FX_UNUSED static int
fx_gpio_toggle(void *arg, struct nano_rule_state *st, const char *pin)
{
    (void)st;
    fx_rec(arg, "gpio.toggle %s%s", pin, "");
    return ((struct fx_sink *)arg)->fail_rc;
}

FX_UNUSED static int
fx_publish(void *arg, struct nano_rule_state *st, const char *topic,
           const struct nano_value *v)
{
    char text[200];

    (void)st;
    if (v->type == NANO_VT_STR || v->type == NANO_VT_JSON)
        snprintf(text, sizeof text, "%s:%.*s", v->type == NANO_VT_STR ? "str" : "json",
                 (int)v->u.s.len, v->u.s.p);
    else if (v->type == NANO_VT_BOOL)
        snprintf(text, sizeof text, "bool:%s", v->u.b ? "true" : "false");
    else
        snprintf(text, sizeof text, "num:%g", v->u.num);
    fx_rec(arg, "publish %s %s", topic, text);
    return ((struct fx_sink *)arg)->fail_rc;
}

FX_UNUSED static int
fx_webhook(void *arg, struct nano_rule_state *st, const char *url,
           const char *body, size_t len, bool is_json)
{
    char text[200];

    (void)st;
    snprintf(text, sizeof text, "%s%.*s", is_json ? "json:" : "text:",
             (int)len, body ? body : "");
    fx_rec(arg, "webhook %s %s", url, text);
    return ((struct fx_sink *)arg)->fail_rc;
}

FX_UNUSED static int
fx_log(void *arg, struct nano_rule_state *st, enum nano_log_level level,
       const char *text)
{
    (void)st;
    fx_rec(arg, "log %s %s", nano_log_level_name(level), text);
    return ((struct fx_sink *)arg)->fail_rc;
}

FX_UNUSED static void
fx_wake(void *arg, struct nano_rule_state *st, uint64_t at)
{
    struct fx_sink *s = arg;

    (void)st;
    s->wake = at;
    s->wakes++;
}

FX_UNUSED static int64_t
fx_wall(void *arg)
{
    return ((struct fx_sink *)arg)->wall;
}

FX_UNUSED static void
fx_sink_init(struct fx_sink *s)
{
    memset(s, 0, sizeof *s);
    s->sink.gpio_set = fx_gpio_set;
    s->sink.gpio_toggle = fx_gpio_toggle;
    s->sink.publish = fx_publish;
    s->sink.webhook = fx_webhook;
    s->sink.log = fx_log;
    s->sink.wake = fx_wake;
    s->sink.wall_ns = fx_wall;
    s->sink.arg = s;
}

/* ---- helpers ---------------------------------------------------------------- */

/* Compile def with the fx resolver; on failure *d says why. */
FX_UNUSED static int
fx_compile(struct fx *f, const struct nano_rule_def *def, struct nano_rule **r,
           struct nano_diag *d)
{
    struct nano_rule_resolver res = { fx_resolve, f };

    memset(d, 0, sizeof *d);
    return nano_rule_compile(def, &res, r, d);
}

/* Compile just a rule text (no actions) against the single-instance set. */
FX_UNUSED static int
fx_try(const char *rule, struct nano_diag *d)
{
    struct fx f = { .insts = fx_single, .pins = fx_pins };
    struct nano_rule_def def = { .name = "t", .rule = rule };
    struct nano_rule *r = NULL;
    int rc = fx_compile(&f, &def, &r, d);

    nano_rule_free(r);
    return rc;
}

FX_UNUSED static unsigned
fx_slot(const struct nano_rule *r, const char *key)
{
    for (unsigned i = 0; i < nano_rule_n_inputs(r); i++)
        if (strcmp(nano_rule_input_key(r, i), key) == 0)
            return i;
    return 9999;
}

FX_UNUSED static void
fx_set(struct nano_rule_state *st, const char *key, double v, uint64_t t)
{
    struct nano_value x = nano_value_num(v, NULL);
    unsigned i = fx_slot(nano_rule_state_rule(st), key);

    x.ts_mono_us = (int64_t)(t / 1000);
    if (i != 9999)
        nano_rule_set_input(st, i, &x, t);
}

FX_UNUSED static void
fx_set_q(struct nano_rule_state *st, const char *key, double v,
         enum nano_quality q, uint64_t t)
{
    struct nano_value x = nano_value_num(v, NULL);
    unsigned i = fx_slot(nano_rule_state_rule(st), key);

    x.quality = (uint8_t)q;
    if (i != 9999)
        nano_rule_set_input(st, i, &x, t);
}

/* ---- probes: the value of expressions, through action previews ----------- */

#define FX_T "sensors/probe/temperature"
#define FX_H "sensors/room/humidity"
#define FX_P "sensors/room/pressure"

/* Sample interval the probe's resolver reports (sizes windows). */
FX_UNUSED static uint64_t fx_probe_interval_ns = 1000000000ull;

struct fx_probe {
    struct fx               f;
    struct nano_rule       *r;
    struct nano_rule_state *st;
    char                    texts[8][200];
    const char             *acts[8];
};

/* Compile expressions exprs[0..n) (NULL-terminated) as log actions of a
 * service whose rule is `rule` (NULL: "true"); state created at time 0. */
FX_UNUSED static int
fx_probe_new(struct fx_probe *p, const char *rule, const char *const *exprs,
             struct nano_diag *d)
{
    struct nano_rule_def def = { .name = "probe", .rule = rule ? rule : "true" };
    int n = 0, rc;

    memset(p, 0, sizeof *p);
    p->f.insts = fx_single;
    p->f.pins = fx_pins;
    p->f.interval_ns = fx_probe_interval_ns;
    for (; exprs && exprs[n] && n < 8; n++) {
        snprintf(p->texts[n], sizeof p->texts[n], "log(info, \"{%s}\")", exprs[n]);
        p->acts[n] = p->texts[n];
    }
    def.action = p->acts;
    def.n_action = (size_t)n;
    rc = fx_compile(&p->f, &def, &p->r, d);
    if (rc != NANO_OK)
        return rc;
    return nano_rule_state_new(p->r, NULL, 0, &p->st);
}

/* Value of expression i at time now: a number, 1/0 for conditions, NaN for
 * unknown. */
FX_UNUSED static double
fx_probe_value(struct fx_probe *p, unsigned i, uint64_t now)
{
    char out[256];

    if (nano_rule_preview(p->st, 0, i, now, out, sizeof out) != NANO_OK)
        return -12345.0;
    if (strcmp(out, "unknown") == 0)
        return NAN;
    if (strcmp(out, "true") == 0)
        return 1;
    if (strcmp(out, "false") == 0)
        return 0;
    return strtod(out, NULL);
}

FX_UNUSED static void
fx_probe_free(struct fx_probe *p)
{
    nano_rule_state_free(p->st);
    nano_rule_free(p->r);
}

#endif
