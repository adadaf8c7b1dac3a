/* fuzz_rules.c - the rule language end to end: lexer, parser, compiler
 * (with a fixed resolver), then, for whatever compiles, the VM, windows,
 * the state machine, templates and payloads, explain and the JSON scanner.
 *
 * Input: byte 0 picks the mode (bit 0: a topic service; bit 1: feed the
 * tail as a JSON payload), then up to five texts separated by 0x01 bytes:
 * rule, clear, action, on_clear, safe.  Whatever follows a 0x02 byte is
 * the payload / reading material.
 *
 * Checks beyond "no crash, no leak, no UB": a failed compile names a field
 * and a position inside (or just past) its text; a condition evaluates to
 * 1, 0 or NaN; the steps allocate nothing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__ubsan_default_options(void);

/* Undefined behaviour anywhere on these paths is a finding, not a note. */
const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

static const char *const pins[] = { "led_pin", "fan", NULL };
static const char *const quantities[] = { "temperature", "humidity", NULL };
static const char *const instances[] = { "boiler", "tank", NULL };

static int
resolve(void *arg, const char *name, unsigned want, struct nano_rule_sym *out)
{
    static char key[300];
    bool topic = arg != NULL;

    if (want == NANO_RSYM_WANT_PIN || (!topic && (!strcmp(name, "led_pin") ||
                                                  !strcmp(name, "fan")))) {
        if (strcmp(name, "led_pin") && strcmp(name, "fan")) {
            out->names = pins;
            out->names_what = "pins";
            return NANO_ENOTFOUND;
        }
        snprintf(key, sizeof key, "pins/%s", name);
        out->kind = NANO_RSYM_PIN;
        out->key = key;
        out->name = name;
        return NANO_OK;
    }
    if (topic) {
        snprintf(key, sizeof key, "%s", name);
        out->kind = NANO_RSYM_FIELD;
        out->key = key;
        return NANO_OK;
    }
    if (!strcmp(name, "LIMIT")) {
        out->kind = NANO_RSYM_CONST;
        out->value = 42;
        return NANO_OK;
    }
    if (!strcmp(name, "temperature")) {
        out->names = instances;
        out->names_what = "instances";
        return NANO_EAMBIG;
    }
    if (!strcmp(name, "humidity") || !strcmp(name, "boiler.temperature") ||
        !strcmp(name, "tank.temperature")) {
        snprintf(key, sizeof key, "sensors/%s", name);
        out->kind = NANO_RSYM_INPUT;
        out->key = key;
        out->interval_ns = 100000000;
        return NANO_OK;
    }
    out->names = quantities;
    out->names_what = "quantities";
    return NANO_ENOTFOUND;
}

static int
sink_any(void)
{
    return NANO_OK;
}

static int
s_set(void *a, struct nano_rule_state *st, const char *p, bool h)
{ (void)a; (void)st; (void)p; (void)h; return sink_any(); }
static int
s_tog(void *a, struct nano_rule_state *st, const char *p)
{ (void)a; (void)st; (void)p; return sink_any(); }
static int
s_pub(void *a, struct nano_rule_state *st, const char *t, const struct nano_value *v)
{ (void)a; (void)st; (void)t; (void)v; return sink_any(); }
static int
s_hook(void *a, struct nano_rule_state *st, const char *u, const char *b, size_t n, bool j)
{ (void)a; (void)st; (void)u; (void)b; (void)n; (void)j; return sink_any(); }
static int
s_log(void *a, struct nano_rule_state *st, enum nano_log_level l, const char *t)
{ (void)a; (void)st; (void)l; (void)t; return sink_any(); }
static int64_t
s_wall(void *a)
{ (void)a; return 1796320343LL * 1000000000LL; }

static const struct nano_rule_sink sink = {
    .gpio_set = s_set, .gpio_toggle = s_tog, .publish = s_pub,
    .webhook = s_hook, .log = s_log, .wall_ns = s_wall,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    char *buf, *texts[5] = { NULL }, *tail = NULL;
    struct nano_rule_def def = { .name = "fz" };
    struct nano_rule_resolver res = { resolve, NULL };
    struct nano_rule *r = NULL;
    struct nano_rule_state *st = NULL;
    struct nano_diag d;
    unsigned nt = 0;
    uint8_t mode;
    int rc;

    if (!once) {
        once = true;
        nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, -1);
    }
    if (size < 1 || size > 8192)
        return 0;
    mode = data[0];
    buf = malloc(size);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    /* split: texts by 0x01, the tail after 0x02 */
    char *t2 = memchr(buf, 0x02, size - 1);
    if (t2) {
        *t2 = '\0';
        tail = t2 + 1;
    }
    texts[nt++] = buf;
    for (char *p = buf; *p && nt < 5; p++)
        if (*p == 0x01) {
            *p = '\0';
            texts[nt++] = p + 1;
        }
    def.rule = texts[0];
    def.clear = nt > 1 && texts[1][0] ? texts[1] : NULL;
    def.action = (const char *const *)&texts[2];
    def.n_action = nt > 2 ? 1 : 0;
    def.on_clear = (const char *const *)&texts[3];
    def.n_on_clear = nt > 3 ? 1 : 0;
    def.safe = (const char *const *)&texts[4];
    def.n_safe = nt > 4 ? 1 : 0;
    def.for_ns = (mode & 4) ? 2000000000ull : 0;
    def.cooldown_ns = (mode & 8) ? 1000000000ull : 0;
    def.min_on_ns = (mode & 16) ? 500000000ull : 0;
    def.stale_after_ns = (mode & 32) ? 3000000000ull : 0;
    if (mode & 1) {
        def.input = "in/+/#";
        res.arg = (void *)1;
    }

    rc = nano_rule_compile(&def, &res, &r, &d);
    if (rc != NANO_OK) {
        char out[1024];
        if (r || !d.msg[0])
            abort();
        if (d.line && d.origin) {
            const char *src = !strcmp(d.origin, "rule") ? def.rule :
                              !strcmp(d.origin, "clear") ? def.clear : NULL;
            if (src) {
                /* the position lies inside the text or just past its end */
                unsigned lines = 1;
                for (const char *p = src; *p; p++)
                    lines += *p == '\n';
                if (d.line > lines || d.col == 0 || d.col > strlen(src) + 1)
                    abort();
                nano_rule_diag_caret(&d, src, out, sizeof out);
            }
        }
        goto out;
    }
    if (nano_rule_state_new(r, (mode & 1) ? "in/a/b/c" : NULL, 0, &st) != NANO_OK)
        goto out;

    /* Readings and steps, made from the tail's bytes. */
    uint64_t before = nano_mem_alloc_count();
    uint64_t t = 0;
    size_t tl = tail ? strlen(tail) : 0;
    for (size_t i = 0; i < 24; i++) {
        uint8_t b = tl ? (uint8_t)tail[i % tl] : (uint8_t)i;
        t += (uint64_t)(b % 7) * 250000000ull;
        if (mode & 1) {
            struct nano_value v;
            if ((mode & 2) && tail)
                v = nano_value_str(tail, tl), v.type = NANO_VT_JSON;
            else
                v = nano_value_num((double)b - 100.0, NULL);
            v.quality = b % 13 == 0 ? NANO_Q_STALE : NANO_Q_OK;
            v.ts_wall_us = 1764777600000000;
            nano_rule_set_message(st, &v, t);
        } else {
            for (unsigned k = 0; k < nano_rule_n_inputs(r); k++) {
                struct nano_value v = b % 11 == 0 ? nano_value_bool(b & 1)
                                    : nano_value_num((double)(b ^ k) - 100.0, NULL);
                v.quality = b % 17 == 0 ? NANO_Q_FAULT : NANO_Q_OK;
                nano_rule_set_input(st, k, &v, t);
            }
        }
        nano_rule_step(st, t, &sink);
        double c = nano_rule_eval(st, t);
        if (!(c == 0 || c == 1 || isnan(c)))
            abort();
    }
    if (nano_mem_alloc_count() != before)
        abort();

    /* explain, status, previews */
    {
        struct nano_buf b;
        struct nano_json w;
        char out[512];
        nano_buf_init(&b, 1 << 20);
        nano_json_init(&w, &b);
        nano_rule_write_explain(st, t + 1, &w);
        nano_rule_write_status(st, t + 1, &w);
        nano_json_end(&w);
        nano_buf_free(&b);
        for (unsigned l = 0; l < 3; l++)
            nano_rule_preview(st, l, 0, t, out, sizeof out);
    }
out:
    /* the scanner alone, on the tail */
    if (tail && (mode & 2)) {
        static const char *const keys[] = { "value", "ts", "a", "" };
        struct nano_value v[4];
        bool found[4];
        nano_rule_json_scan(tail, strlen(tail), keys, 4, v, found);
    }
    nano_rule_state_free(st);
    nano_rule_free(r);
    free(buf);
    return 0;
}
