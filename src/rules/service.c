/* SPDX-License-Identifier: MIT
 *
 * service.c - the state of one service (or one topic of a topic service):
 * inputs, windows, the firing state machine, actions, status and explain.
 *
 * State machine (times are monotonic ns passed in by the caller):
 *
 *           rule true, no `for`, no hold-off
 *   IDLE ---------------------------------------------> ACTIVE  (run action)
 *    |  ^ rule not true                                  |   ^
 *    |  |                                                |   |
 *    v  |      held `for` and hold-offs passed           |   |
 *   PENDING ----------------------------------------------+   |
 *                                                        |   |
 *         clear holds (or, without clear, rule false)    |   |
 *         and min_on passed                              v   |
 *                                                      CLEARED (run on_clear)
 *
 * CLEARED behaves as IDLE (it only tells users the service fired before).
 * Hold-offs: a fire waits until cooldown has passed since the last fire and
 * min_off since the last clear; meanwhile the service stays PENDING.
 * Unknown results (NaN inputs, stale inputs) never fire and never clear:
 * PENDING falls back (the rule did not hold) and ACTIVE stays.
 *
 * Safe mode: when an input turns stale or faulty (its quality flag, or no
 * good reading for stale_after), the `safe` actions run once and a PENDING
 * or ACTIVE service returns to IDLE, so that the normal action runs again
 * when the condition holds after recovery.  Leaving safe mode runs nothing.
 *
 * Every step ends by computing when the state next needs a timer (end of
 * `for`, of a hold-off, of min_on, the oldest window reading leaving its
 * window, an `age(x) > k` turning true, an input going stale, the next
 * minute or hour for schedules) and tells the sink when that time changed.
 * No polling: a state with none of these sleeps until its next input.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/msg.h"
#include "core/time.h"
#include "core/topic.h"
#include "rules/rules_int.h"

static size_t
align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

const char *
nano_rule_phase_name(enum nano_rule_phase p)
{
    switch (p) {
    case NANO_RULE_IDLE:    return "idle";
    case NANO_RULE_PENDING: return "pending";
    case NANO_RULE_ACTIVE:  return "active";
    case NANO_RULE_CLEARED: return "cleared";
    }
    return "?";
}

/* ---- states ---------------------------------------------------------------- */

/* Record where each wildcard of filter matched in topic. */
static void
find_segments(struct nano_rule_state *st, const char *f, const char *t)
{
    const char *t0 = t;

    st->n_seg = 0;
    while (*f && st->n_seg < RULE_MAX_SEGS) {
        if (*f == '#') {
            st->seg_off[st->n_seg] = (uint16_t)(t - t0);
            st->seg_len[st->n_seg++] = (uint16_t)strlen(t);
            return;
        }
        const char *te = strchr(t, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (*f == '+') {
            st->seg_off[st->n_seg] = (uint16_t)(t - t0);
            st->seg_len[st->n_seg++] = (uint16_t)tl;
        }
        f = strchr(f, '/');
        if (!f || !te)
            return;
        f++;
        t = te + 1;
    }
}

static void
state_init(struct nano_rule_state *st, uint64_t now_ns)
{
    const struct nano_rule *r = st->r;

    for (unsigned i = 0; i < r->n_inputs; i++) {
        memset(&st->in[i], 0, sizeof st->in[i]);
        st->in[i].num = st->in[i].last = NAN;
    }
    for (unsigned i = 0; i < r->n_wins; i++)
        rules__win_reset(&st->win[i]);
    for (unsigned i = 0; i < r->n_ewmas; i++)
        st->ew[i] = (struct rew){ 0, false };
    st->created_ns = now_ns;
    st->last_result = NAN;
}

int
nano_rule_state_new(const struct nano_rule *r, const char *topic,
                    uint64_t now_ns, struct nano_rule_state **st_out)
{
    struct nano_rule_state *st;
    size_t off;

    *st_out = NULL;
    if (r->filter && (!topic || strlen(topic) > NANO_TOPIC_MAX ||
                      !nano_topic_match(r->filter, topic)))
        return -EINVAL;
    st = nano_calloc(1, r->state_size);
    if (!st)
        return -ENOMEM;
    st->r = r;
    st->in = (struct rin *)(void *)((char *)st + align8(sizeof *st));
    st->win = (struct rwin *)(void *)((char *)st + r->win_off);
    st->ew = (struct rew *)(void *)((char *)st + r->ew_off);
    off = r->ring_off;
    for (unsigned i = 0; i < r->n_wins; i++) {
        st->win[i].ring = (struct rsample *)(void *)((char *)st + off);
        st->win[i].cap = r->wins[i].cap;
        off += r->wins[i].cap * sizeof(struct rsample);
    }
    if (r->filter) {
        char *t = (char *)st + r->topic_off;
        memcpy(t, topic, strlen(topic) + 1);
        st->topic = t;
        find_segments(st, r->filter, t);
    }
    state_init(st, now_ns);
    *st_out = st;
    return NANO_OK;
}

void
nano_rule_state_free(struct nano_rule_state *st)
{
    nano_free(st);
}

void
nano_rule_state_set_udata(struct nano_rule_state *st, void *udata)
{
    st->udata = udata;
}

void *
nano_rule_state_udata(const struct nano_rule_state *st)
{
    return st->udata;
}

const struct nano_rule *
nano_rule_state_rule(const struct nano_rule_state *st)
{
    return st->r;
}

const char *
nano_rule_state_topic(const struct nano_rule_state *st)
{
    return st->topic;
}

void
nano_rule_state_reset(struct nano_rule_state *st, uint64_t now_ns)
{
    st->phase = NANO_RULE_IDLE;
    st->since_ns = now_ns;
    st->safe_mode = false;
    st->fired_ever = st->cleared_ever = false;
    st->hold_clear = false;
    st->last_result = NAN;
}

/* ---- inputs ------------------------------------------------------------------ */

static void
set_input(struct nano_rule_state *st, unsigned i, const struct nano_value *v,
          uint64_t t, bool escaped)
{
    const struct nano_rule *r = st->r;
    const struct rinput *ri = &r->inputs[i];
    struct rin *in = &st->in[i];
    bool isnum, ok = v->quality == NANO_Q_OK;
    double x = NAN;

    isnum = nano_value_as_num(v, &x);
    in->seen = 1;
    in->vtype = v->type;
    in->quality = v->quality;
    in->t_ns = t;
    in->escaped = escaped;
    if (v->type == NANO_VT_STR || v->type == NANO_VT_JSON) {
        in->s = v->u.s.p;
        in->slen = (uint32_t)v->u.s.len;
    } else {
        in->s = NULL;
        in->slen = 0;
    }
    in->last = isnum ? x : NAN;
    in->num = ok && isnum ? x : NAN;
    if (!ok)
        return;
    in->t_ok_ns = t;
    if (!isnum || !isfinite(x))
        return;
    for (uint32_t m = ri->win_mask; m; m &= m - 1) {
        unsigned w = (unsigned)__builtin_ctz(m);
        rules__win_advance(&st->win[w], r->wins[w].ns, t);
        rules__win_push(&st->win[w], t, x);
    }
    for (uint32_t m = ri->ewma_mask; m; m &= m - 1) {
        unsigned e = (unsigned)__builtin_ctz(m);
        struct rew *ew = &st->ew[e];
        double a = r->ewmas[e].alpha;
        ew->s = ew->init ? a * x + (1 - a) * ew->s : x;
        ew->init = true;
    }
}

void
nano_rule_set_input(struct nano_rule_state *st, unsigned i,
                    const struct nano_value *v, uint64_t t_ns)
{
    if (i < st->r->n_inputs)
        set_input(st, i, v, t_ns, false);
}

static bool
looks_like_object(const struct nano_value *v)
{
    const char *p = v->u.s.p;
    size_t n = v->u.s.len, i = 0;

    if (v->type != NANO_VT_JSON && v->type != NANO_VT_STR)
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i < n && p[i] == '{';
}

int
nano_rule_set_message(struct nano_rule_state *st, const struct nano_value *v,
                      uint64_t t_ns)
{
    const struct nano_rule *r = st->r;
    struct nano_value vals[NANO_RULE_MAX_INPUTS];
    bool found[NANO_RULE_MAX_INPUTS];
    bool obj = looks_like_object(v);
    int rc = NANO_OK;

    if (obj)
        rc = nano_rule_json_scan(v->u.s.p, v->u.s.len, r->field_keys,
                                 r->n_fields, vals, found);
    else
        memset(found, 0, sizeof found);
    for (unsigned k = 0; k < r->n_fields; k++) {
        unsigned slot = r->field_slot[k];
        const char *key = r->field_keys[k];
        struct nano_value fv;
        bool escaped = false;

        if (found[k]) {
            fv = vals[k];
            escaped = fv.type == NANO_VT_STR;
        } else if (!obj && strcmp(key, "value") == 0) {
            fv = *v;                     /* a bare reading is the value */
        } else if (strcmp(key, "ts") == 0) {
            fv = nano_value_num((double)v->ts_wall_us, NULL);
        } else {
            memset(&fv, 0, sizeof fv);   /* missing field: unknown */
        }
        fv.quality = v->quality;
        set_input(st, slot, &fv, t_ns, escaped);
    }
    if (v->quality == NANO_Q_OK)
        st->t_msg_ok_ns = t_ns;
    return rc;
}

/* ---- evaluation ------------------------------------------------------------- */

void
rules__advance(struct nano_rule_state *st, uint64_t now)
{
    const struct nano_rule *r = st->r;

    st->now_ns = now;
    for (unsigned w = 0; w < r->n_wins; w++)
        rules__win_advance(&st->win[w], r->wins[w].ns, now);
    /* stale_after: an input without a good reading for that long is as
     * unknown as one whose quality says stale.  A new reading restores it. */
    if (r->stale_after_ns) {
        for (unsigned i = 0; i < r->n_inputs; i++) {
            struct rin *in = &st->in[i];
            uint64_t t = r->filter ? st->t_msg_ok_ns : in->t_ok_ns;
            if (r->inputs[i].kind == NANO_RSYM_PIN)
                continue;
            if (!t)
                t = st->created_ns;
            if (now >= t + r->stale_after_ns)
                in->num = NAN;
        }
    }
}

static void
read_wall(struct nano_rule_state *st, const struct nano_rule_sink *sink)
{
    struct tm tm;
    time_t secs;

    st->wall_ns = sink && sink->wall_ns ? sink->wall_ns(sink->arg)
                                        : (int64_t)nano_time_wall_ns();
    secs = (time_t)(st->wall_ns / 1000000000);
    if (!localtime_r(&secs, &tm))
        memset(&tm, 0, sizeof tm);
    st->tm_hour = (int8_t)tm.tm_hour;
    st->tm_min = (int8_t)tm.tm_min;
    st->tm_wday = (int8_t)(tm.tm_wday == 0 ? 7 : tm.tm_wday);
    /* seconds into the minute, for the next wake */
    st->tm_sec_ns = (uint64_t)tm.tm_sec * NANO_NS_PER_S +
                    (uint64_t)(st->wall_ns % 1000000000);
}

double
nano_rule_eval(struct nano_rule_state *st, uint64_t now_ns)
{
    const struct nano_rule *r = st->r;

    rules__advance(st, now_ns);
    if (r->uses_wall)
        read_wall(st, NULL);
    return rules__vm_run(r, &r->progs[r->cond], st, NULL);
}

/* An input counts as stale when its quality says so, or (stale_after) when
 * its last good reading is too old.  Pins report on change only and are
 * judged by quality alone.  Returns the first stale input or -1. */
static int
stale_input(const struct nano_rule_state *st, uint64_t now)
{
    const struct nano_rule *r = st->r;

    for (unsigned i = 0; i < r->n_inputs; i++) {
        const struct rin *in = &st->in[i];
        if (in->seen && in->quality != NANO_Q_OK)
            return (int)i;
    }
    if (!r->stale_after_ns)
        return -1;
    if (r->filter) {
        uint64_t t = st->t_msg_ok_ns ? st->t_msg_ok_ns : st->created_ns;
        return now >= t + r->stale_after_ns ? 0 : -1;
    }
    for (unsigned i = 0; i < r->n_inputs; i++) {
        const struct rin *in = &st->in[i];
        uint64_t t = in->t_ok_ns ? in->t_ok_ns : st->created_ns;
        if (r->inputs[i].kind != NANO_RSYM_PIN && now >= t + r->stale_after_ns)
            return (int)i;
    }
    return -1;
}

/* ---- actions ---------------------------------------------------------------- */

static void
action_label(const struct nano_rule *r, const struct ract *a, char *out,
             size_t cap)
{
    const char *s = r->texts[a->text].src;
    size_t k = 0;

    while (*s == ' ' || *s == '\n' || *s == '\t')
        s++;
    for (; *s && k + 1 < cap; s++)
        out[k++] = *s == '\n' || *s == '\t' ? ' ' : *s;
    out[k] = '\0';
}

static int
run_action(struct nano_rule_state *st, const struct ract *a,
           const struct nano_rule_sink *sink)
{
    const struct nano_rule *r = st->r;
    char b1[NANO_RULE_OUT_MAX], b2[NANO_RULE_OUT_MAX];
    struct rout o1 = { b1, 0, sizeof b1, false }, o2 = { b2, 0, sizeof b2, false };
    struct nano_value v;
    void *arg = sink ? sink->arg : NULL;
    const char *why;
    double lv;

    b1[0] = b2[0] = '\0';
    switch (a->kind) {
    case A_GPIO_SET:
        lv = rules__vm_run(r, &r->progs[a->prog], st, NULL);
        if (isnan(lv))
            return -EDOM;                /* the level is unknown */
        if (!sink || !sink->gpio_set)
            return NANO_EDISABLED;
        return sink->gpio_set(arg, st, r->pins[a->pin], lv != 0);
    case A_GPIO_TOGGLE:
        if (!sink || !sink->gpio_toggle)
            return NANO_EDISABLED;
        return sink->gpio_toggle(arg, st, r->pins[a->pin]);
    case A_PUBLISH:
        rules__tmpl_format(st, a->tmpl, &o1);
        if (o1.overflow)
            return -ENOSPC;
        if (nano_topic_check(b1, &why) != NANO_OK)
            return -EINVAL;
        rules__jv_format(st, a->body, &o2, &v);
        if (o2.overflow)
            return -ENOSPC;
        if (!sink || !sink->publish)
            return NANO_EDISABLED;
        return sink->publish(arg, st, b1, &v);
    case A_LOG:
        rules__tmpl_format(st, a->tmpl, &o1);
        if (o1.overflow)
            return -ENOSPC;
        if (sink && sink->log)
            return sink->log(arg, st, (enum nano_log_level)a->level, b1);
        if (st->topic)
            nano_logf((enum nano_log_level)a->level, "rules", "%s[%s]: %s",
                      r->name, st->topic, b1);
        else
            nano_logf((enum nano_log_level)a->level, "rules", "%s: %s",
                      r->name, b1);
        return NANO_OK;
    case A_WEBHOOK: {
        bool is_json = false;
        rules__tmpl_format(st, a->tmpl, &o1);
        if (o1.overflow)
            return -ENOSPC;
        if (a->body >= 0) {
            if (r->jv[a->body].kind == J_TMPL) {
                rules__tmpl_format(st, r->jv[a->body].idx, &o2);
            } else {
                rules__jv_json(st, a->body, &o2);
                is_json = true;
            }
            if (o2.overflow)
                return -ENOSPC;
        }
        if (!sink || !sink->webhook)
            return NANO_EDISABLED;
        return sink->webhook(arg, st, b1, a->body >= 0 ? b2 : NULL, o2.len,
                             is_json);
    }
    }
    return -EINVAL;
}

static void
run_list(struct nano_rule_state *st, enum rlist which,
         const struct nano_rule_sink *sink)
{
    const struct nano_rule *r = st->r;

    for (unsigned i = 0; i < r->act_n[which]; i++) {
        const struct ract *a = &r->acts[r->act_first[which] + i];
        int rc = run_action(st, a, sink);

        action_label(r, a, st->last_action, sizeof st->last_action);
        st->last_action_rc = rc;
        if (rc == NANO_OK) {
            st->actions_ok++;
            continue;
        }
        st->actions_failed++;
        /* The log's repeat filter keeps a failing action to one line per
         * window; the counter keeps the exact number. */
        nano_logf(NANO_LOG_WARN, "rules", "%s%s%s%s: action '%s' failed: %s",
                  r->name, st->topic ? "[" : "", st->topic ? st->topic : "",
                  st->topic ? "]" : "", st->last_action,
                  rc == -EDOM ? "the level is unknown" : nano_strerror(rc));
    }
}

int
nano_rule_preview(struct nano_rule_state *st, unsigned list, unsigned i,
                  uint64_t now_ns, char *out, size_t cap)
{
    const struct nano_rule *r = st->r;
    const struct ract *a;
    struct rout o = { out, 0, cap, false };
    char tmp[NANO_RULE_OUT_MAX];
    struct rout t = { tmp, 0, sizeof tmp, false };
    double lv;

    if (cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    if (list > L_SAFE || i >= r->act_n[list])
        return -ENOENT;
    a = &r->acts[r->act_first[list] + i];
    rules__advance(st, now_ns);
    if (r->uses_wall)
        read_wall(st, NULL);
    switch (a->kind) {
    case A_GPIO_SET:
        lv = rules__vm_run(r, &r->progs[a->prog], st, NULL);
        rules__out_put(&o, r->pins[a->pin], strlen(r->pins[a->pin]));
        rules__out_put(&o, isnan(lv) ? " unknown" : lv != 0 ? " HIGH" : " LOW",
                       isnan(lv) ? 8 : lv != 0 ? 5 : 4);
        break;
    case A_GPIO_TOGGLE:
        rules__out_put(&o, r->pins[a->pin], strlen(r->pins[a->pin]));
        break;
    case A_LOG:
        rules__tmpl_format(st, a->tmpl, &o);
        break;
    case A_PUBLISH:
    case A_WEBHOOK:
        rules__tmpl_format(st, a->tmpl, &o);
        if (a->body >= 0) {
            rules__out_putc(&o, ' ');
            if (r->jv[a->body].kind == J_TMPL)
                rules__tmpl_format(st, r->jv[a->body].idx, &t);
            else
                rules__jv_json(st, a->body, &t);
            o.overflow |= t.overflow;
            rules__out_put(&o, tmp, t.len);
        }
        break;
    }
    return o.overflow ? -ENOSPC : NANO_OK;
}

/* ---- the state machine -------------------------------------------------------- */

static void
log_transition(const struct nano_rule_state *st, const char *what)
{
    const struct nano_rule *r = st->r;

    if (!nano_log_enabled(NANO_LOG_INFO))
        return;
    nano_logf(NANO_LOG_INFO, "rules", "%s%s%s%s: %s", r->name,
              st->topic ? "[" : "", st->topic ? st->topic : "",
              st->topic ? "]" : "", what);
}

static uint64_t
earliest_fire(const struct nano_rule_state *st)
{
    const struct nano_rule *r = st->r;
    uint64_t t = 0;

    if (st->fired_ever && r->cooldown_ns)
        t = st->last_fire_ns + r->cooldown_ns;
    if (st->cleared_ever && r->min_off_ns &&
        st->last_clear_ns + r->min_off_ns > t)
        t = st->last_clear_ns + r->min_off_ns;
    return t;
}

static void
fire(struct nano_rule_state *st, uint64_t now, const struct nano_rule_sink *sink)
{
    st->phase = NANO_RULE_ACTIVE;
    st->since_ns = now;
    st->last_fire_ns = now;
    st->fired_ever = true;
    st->hold_clear = false;
    st->fires++;
    log_transition(st, "fired");
    run_list(st, L_ACTION, sink);
}

static void
do_clear(struct nano_rule_state *st, uint64_t now,
         const struct nano_rule_sink *sink)
{
    st->phase = NANO_RULE_CLEARED;
    st->since_ns = now;
    st->last_clear_ns = now;
    st->cleared_ever = true;
    st->hold_clear = false;
    st->clears++;
    log_transition(st, "cleared");
    run_list(st, L_ON_CLEAR, sink);
}

static uint64_t
min_nz(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

static uint64_t
next_wake(const struct nano_rule_state *st, uint64_t now)
{
    const struct nano_rule *r = st->r;
    uint64_t w = 0, t;

    if (st->phase == NANO_RULE_PENDING) {
        t = st->since_ns + r->for_ns;
        if (earliest_fire(st) > t)
            t = earliest_fire(st);
        w = min_nz(w, t > now ? t : now + 1);
    }
    if (st->phase == NANO_RULE_ACTIVE && st->hold_clear)
        w = min_nz(w, st->since_ns + r->min_on_ns);
    for (unsigned i = 0; i < r->n_wins; i++) {
        const struct rwin *win = &st->win[i];
        if (win->n) {
            t = win->ring[win->head].t + r->wins[i].ns;
            if (t > now)
                w = min_nz(w, t);
        }
    }
    for (unsigned i = 0; i < r->n_agewakes; i++) {
        const struct rin *in = &st->in[r->agewakes[i].input];
        t = (in->t_ok_ns ? in->t_ok_ns : st->created_ns) + r->agewakes[i].ns + 1;
        if (t > now)
            w = min_nz(w, t);
    }
    if (r->age_generic)
        w = min_nz(w, now + NANO_NS_PER_S);
    if (r->stale_after_ns && !st->safe_mode) {
        if (r->filter) {
            t = (st->t_msg_ok_ns ? st->t_msg_ok_ns : st->created_ns) +
                r->stale_after_ns;
            if (t > now)
                w = min_nz(w, t);
        } else {
            for (unsigned i = 0; i < r->n_inputs; i++) {
                const struct rin *in = &st->in[i];
                if (r->inputs[i].kind == NANO_RSYM_PIN)
                    continue;
                t = (in->t_ok_ns ? in->t_ok_ns : st->created_ns) +
                    r->stale_after_ns;
                if (t > now)
                    w = min_nz(w, t);
            }
        }
    }
    if (r->wall_wakes) {
        uint64_t into = st->tm_sec_ns;
        if (!r->uses_minute)
            into += (uint64_t)st->tm_min * 60 * NANO_NS_PER_S;
        t = (r->uses_minute ? 60 : 3600) * NANO_NS_PER_S - into;
        w = min_nz(w, now + (t ? t : 1));
    }
    return w;
}

void
nano_rule_step(struct nano_rule_state *st, uint64_t now,
               const struct nano_rule_sink *sink)
{
    const struct nano_rule *r = st->r;
    uint64_t wake;
    double c, k;
    int stale;

    rules__advance(st, now);
    if (r->uses_wall)
        read_wall(st, sink);

    stale = stale_input(st, now);
    if (stale >= 0 && !st->safe_mode) {
        st->safe_mode = true;
        st->safes++;
        if (nano_log_enabled(NANO_LOG_WARN))
            nano_logf(NANO_LOG_WARN, "rules", "%s%s%s%s: input '%s' is %s; "
                      "safe mode%s", r->name, st->topic ? "[" : "",
                      st->topic ? st->topic : "", st->topic ? "]" : "",
                      r->inputs[stale].label,
                      st->in[stale].seen && st->in[stale].quality != NANO_Q_OK ?
                      nano_quality_name((enum nano_quality)st->in[stale].quality) :
                      "silent", r->act_n[L_SAFE] ? ", running safe actions" : "");
        if (r->act_n[L_SAFE]) {
            run_list(st, L_SAFE, sink);
            if (st->phase == NANO_RULE_ACTIVE || st->phase == NANO_RULE_PENDING) {
                st->phase = NANO_RULE_IDLE;
                st->since_ns = now;
                st->hold_clear = false;
            }
        }
    } else if (stale < 0 && st->safe_mode) {
        st->safe_mode = false;
        log_transition(st, "inputs recovered; safe mode ends");
    }

    c = rules__vm_run(r, &r->progs[r->cond], st, NULL);
    st->evals++;
    if (isnan(c))
        st->unknowns++;
    st->last_result = c;

    switch (st->phase) {
    case NANO_RULE_IDLE:
    case NANO_RULE_CLEARED:
        if (c == 1) {
            if (!r->for_ns && now >= earliest_fire(st)) {
                fire(st, now, sink);
            } else {
                st->pend_from = st->phase;
                st->phase = NANO_RULE_PENDING;
                st->since_ns = now;
            }
        }
        break;
    case NANO_RULE_PENDING:
        if (c != 1) {
            st->phase = st->pend_from;
            st->since_ns = now;
        } else if (now >= st->since_ns + r->for_ns && now >= earliest_fire(st)) {
            fire(st, now, sink);
        }
        break;
    case NANO_RULE_ACTIVE:
        if (r->clear >= 0) {
            k = rules__vm_run(r, &r->progs[r->clear], st, NULL);
            st->hold_clear = k == 1;
        } else {
            st->hold_clear = c == 0;
        }
        if (st->hold_clear && now >= st->since_ns + r->min_on_ns)
            do_clear(st, now, sink);
        break;
    }

    wake = next_wake(st, now);
    if (wake != st->wake_ns) {
        st->wake_ns = wake;
        if (sink && sink->wake)
            sink->wake(sink->arg, st, wake);
    }
}

/* ---- status and explain ----------------------------------------------------- */

void
nano_rule_get_status(const struct nano_rule_state *st,
                     struct nano_rule_status *out)
{
    memset(out, 0, sizeof *out);
    out->phase = (enum nano_rule_phase)st->phase;
    out->since_ns = st->since_ns;
    out->safe_mode = st->safe_mode;
    out->last_result = st->last_result;
    out->evals = st->evals;
    out->fires = st->fires;
    out->clears = st->clears;
    out->safes = st->safes;
    out->unknowns = st->unknowns;
    out->actions_ok = st->actions_ok;
    out->actions_failed = st->actions_failed;
    out->last_action_rc = st->last_action_rc;
    snprintf(out->last_action, sizeof out->last_action, "%s", st->last_action);
    out->last_fire_ns = st->last_fire_ns;
    out->last_clear_ns = st->last_clear_ns;
    out->wake_ns = st->wake_ns;
    for (unsigned i = 0; i < st->r->n_wins; i++)
        out->window_overflows += st->win[i].overflow;
}

uint64_t
nano_rule_state_failures(const struct nano_rule_state *st)
{
    return st->actions_failed;
}

static void
json_cond(struct nano_json *w, double v)
{
    if (isnan(v))
        nano_json_null(w);
    else
        nano_json_bool(w, v != 0);
}

static void
json_ago(struct nano_json *w, const char *key, uint64_t now, uint64_t t)
{
    nano_json_key(w, key);
    nano_json_num(w, now >= t ? (double)(now - t) / 1e9 : 0.0);
}

void
nano_rule_write_status(const struct nano_rule_state *st, uint64_t now_ns,
                       struct nano_json *w)
{
    nano_json_obj_begin(w);
    if (st->topic) {
        nano_json_key(w, "topic");
        nano_json_str(w, st->topic);
    }
    nano_json_key(w, "state");
    nano_json_str(w, nano_rule_phase_name((enum nano_rule_phase)st->phase));
    json_ago(w, "since_s_ago", now_ns, st->since_ns ? st->since_ns : st->created_ns);
    nano_json_key(w, "safe_mode");
    nano_json_bool(w, st->safe_mode);
    nano_json_key(w, "result");
    json_cond(w, st->last_result);
    nano_json_key(w, "evaluations");
    nano_json_uint(w, st->evals);
    nano_json_key(w, "fires");
    nano_json_uint(w, st->fires);
    nano_json_key(w, "clears");
    nano_json_uint(w, st->clears);
    nano_json_key(w, "safe_entries");
    nano_json_uint(w, st->safes);
    if (st->fired_ever)
        json_ago(w, "last_fire_s_ago", now_ns, st->last_fire_ns);
    nano_json_key(w, "actions_ok");
    nano_json_uint(w, st->actions_ok);
    nano_json_key(w, "actions_failed");
    nano_json_uint(w, st->actions_failed);
    nano_json_key(w, "last_action");
    if (st->last_action[0]) {
        nano_json_obj_begin(w);
        nano_json_key(w, "action");
        nano_json_str(w, st->last_action);
        nano_json_key(w, "result");
        nano_json_str(w, st->last_action_rc == NANO_OK ? "ok" :
                      st->last_action_rc == -EDOM ? "the level is unknown" :
                      nano_strerror(st->last_action_rc));
        nano_json_obj_end(w);
    } else {
        nano_json_null(w);
    }
    if (st->wake_ns) {
        nano_json_key(w, "next_timer_s");
        nano_json_num(w, st->wake_ns > now_ns ?
                      (double)(st->wake_ns - now_ns) / 1e9 : 0.0);
    }
    nano_json_obj_end(w);
}

static void
json_input_value(struct nano_json *w, const struct rin *in)
{
    char tmp[NANO_RULE_OUT_MAX];

    if (!in->seen) {
        nano_json_null(w);
        return;
    }
    switch (in->vtype) {
    case NANO_VT_STR:
        if (in->escaped) {
            size_t n = rules__json_unescape(in->s, in->slen, tmp, sizeof tmp);
            nano_json_strn(w, tmp, n);
        } else {
            nano_json_strn(w, in->s ? in->s : "", in->s ? in->slen : 0);
        }
        break;
    case NANO_VT_JSON:
        nano_json_raw(w, in->s ? in->s : "null", in->s ? in->slen : 4);
        break;
    case NANO_VT_BOOL:
        json_cond(w, in->last);
        break;
    default:
        nano_json_num(w, in->last);
    }
}

/* Write the sub-expressions of program p and return its value. */
static double
write_terms(struct nano_rule_state *st, int p, struct nano_json *w)
{
    const struct nano_rule *r = st->r;
    const struct rprog *pg = &r->progs[p];
    const char *src = r->texts[pg->text].src;
    double *trace = nano_calloc(pg->len ? pg->len : 1, sizeof *trace);
    double v;
    uint32_t ps = UINT32_MAX, pe = 0;

    v = rules__vm_run(r, pg, st, trace);
    nano_json_obj_begin(w);
    nano_json_key(w, "text");
    nano_json_str(w, src);
    nano_json_key(w, "value");
    json_cond(w, v);
    nano_json_key(w, "terms");
    nano_json_arr_begin(w);
    for (uint32_t i = 0; trace && i < pg->len; i++) {
        const struct rins *ins = &r->code[pg->off + i];
        const struct rspan *sp = &r->spans[pg->off + i];
        if (ins->op == RULE_OP_RET || ins->op == RULE_OP_CONST)
            continue;
        if (sp->start == ps && sp->end == pe)
            continue;                      /* TRUTH after its input, say */
        ps = sp->start;
        pe = sp->end;
        nano_json_obj_begin(w);
        nano_json_key(w, "expr");
        nano_json_strn(w, src + sp->start, sp->end - sp->start);
        nano_json_key(w, "value");
        if (rules__op_is_cond(ins->op))
            json_cond(w, trace[i]);
        else
            nano_json_num(w, trace[i]);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
    nano_json_obj_end(w);
    nano_free(trace);
    return v;
}

static void
secs_text(uint64_t ns, char *out, size_t cap)
{
    nano_duration_format(ns, out, cap);
}

void
nano_rule_write_explain(struct nano_rule_state *st, uint64_t now_ns,
                        struct nano_json *w)
{
    const struct nano_rule *r = st->r;
    char why[600], a[32], b[32];
    double c, k = NAN;
    int stale;

    rules__advance(st, now_ns);
    if (r->uses_wall)
        read_wall(st, NULL);
    nano_json_obj_begin(w);
    nano_json_key(w, "service");
    nano_json_str(w, r->name);
    if (st->topic) {
        nano_json_key(w, "topic");
        nano_json_str(w, st->topic);
    }
    nano_json_key(w, "state");
    nano_json_str(w, nano_rule_phase_name((enum nano_rule_phase)st->phase));
    nano_json_key(w, "safe_mode");
    nano_json_bool(w, st->safe_mode);
    nano_json_key(w, "inputs");
    nano_json_arr_begin(w);
    for (unsigned i = 0; i < r->n_inputs; i++) {
        const struct rin *in = &st->in[i];
        nano_json_obj_begin(w);
        nano_json_key(w, "name");
        nano_json_str(w, r->inputs[i].label);
        nano_json_key(w, r->inputs[i].kind == NANO_RSYM_FIELD ? "field" : "topic");
        nano_json_str(w, r->inputs[i].key);
        nano_json_key(w, "value");
        json_input_value(w, in);
        nano_json_key(w, "quality");
        nano_json_str(w, in->seen ? nano_quality_name((enum nano_quality)in->quality)
                                  : "no reading yet");
        if (in->seen)
            json_ago(w, "age_s", now_ns, in->t_ns);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
    if (r->n_wins) {
        nano_json_key(w, "windows");
        nano_json_arr_begin(w);
        for (unsigned i = 0; i < r->n_wins; i++) {
            nano_json_obj_begin(w);
            nano_json_key(w, "input");
            nano_json_str(w, r->inputs[r->wins[i].input].label);
            nano_json_key(w, "window");
            secs_text(r->wins[i].ns, a, sizeof a);
            nano_json_str(w, a);
            nano_json_key(w, "readings");
            nano_json_uint(w, st->win[i].n);
            nano_json_key(w, "capacity");
            nano_json_uint(w, st->win[i].cap);
            nano_json_key(w, "overflows");
            nano_json_uint(w, st->win[i].overflow);
            nano_json_obj_end(w);
        }
        nano_json_arr_end(w);
    }
    nano_json_key(w, "rule");
    c = write_terms(st, r->cond, w);
    if (r->clear >= 0) {
        nano_json_key(w, "clear");
        k = write_terms(st, r->clear, w);
    }

    /* Why, in one sentence. */
    stale = stale_input(st, now_ns);
    const char *rule_txt = r->texts[r->progs[r->cond].text].src;
    switch (st->phase) {
    case NANO_RULE_ACTIVE:
        secs_text(now_ns - st->since_ns, a, sizeof a);
        if (r->clear >= 0)
            snprintf(why, sizeof why, "active for %s: it fired when '%s' held "
                     "and stays active until '%s' holds (now %s)%s", a,
                     rule_txt, r->texts[r->progs[r->clear].text].src,
                     isnan(k) ? "unknown" : k != 0 ? "true" : "false",
                     st->hold_clear ? "; waiting for min_on" : "");
        else
            snprintf(why, sizeof why, "active for %s: '%s' is %s; it clears "
                     "when the rule is false%s", a, rule_txt,
                     isnan(c) ? "unknown" : c != 0 ? "true" : "false",
                     st->hold_clear ? "; waiting for min_on" : "");
        break;
    case NANO_RULE_PENDING: {
        uint64_t held = now_ns - st->since_ns, ef = earliest_fire(st);
        secs_text(held, a, sizeof a);
        secs_text(r->for_ns, b, sizeof b);
        if (ef > now_ns && now_ns >= st->since_ns + r->for_ns) {
            secs_text(ef - now_ns, b, sizeof b);
            snprintf(why, sizeof why, "pending: '%s' holds, but a hold-off "
                     "(cooldown/min_off) lasts %s more", rule_txt, b);
        } else {
            snprintf(why, sizeof why, "pending: '%s' has held for %s of the "
                     "%s it must hold before firing", rule_txt, a, b);
        }
        break;
    }
    default:
        if (stale >= 0 && isnan(c))
            snprintf(why, sizeof why, "not firing: input '%s' is %s, so the "
                     "rule is unknown", r->inputs[stale].label,
                     st->in[stale].seen && st->in[stale].quality != NANO_Q_OK ?
                     nano_quality_name((enum nano_quality)st->in[stale].quality) :
                     "silent");
        else if (isnan(c)) {
            const char *missing = NULL;
            for (unsigned i = 0; i < r->n_inputs && !missing; i++)
                if (!st->in[i].seen)
                    missing = r->inputs[i].label;
            if (missing)
                snprintf(why, sizeof why, "not firing: '%s' has no reading "
                         "yet, so the rule is unknown", missing);
            else
                snprintf(why, sizeof why, "not firing: '%s' is unknown (a "
                         "value is NaN or a division by zero)", rule_txt);
        } else if (c == 0)
            snprintf(why, sizeof why, "not firing: '%s' is false", rule_txt);
        else
            snprintf(why, sizeof why, "'%s' is true; the service fires at its "
                     "next evaluation", rule_txt);
        break;
    }
    nano_json_key(w, "why");
    nano_json_str(w, why);
    nano_json_obj_end(w);
}
