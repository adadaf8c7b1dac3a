/* SPDX-License-Identifier: MIT
 *
 * compile.c - syntax nodes to the compiled form of a service.
 *
 * One pass per text (the rule, the clear condition, each action): parse into
 * nodes, then walk them in post-order emitting stack instructions from
 * ops.def into the service's single code array.  The walk resolves names
 * through the caller's resolver, checks types (a condition where a condition
 * is needed, text only in == and != against an input), folds constant
 * sub-expressions, fuses the common "input > constant" shape into one
 * instruction, and allocates windows and filters.  Every instruction keeps
 * the source span of the value it makes, which is what `explain` prints.
 *
 * Types: NUM (numbers, durations in seconds), BOOL (conditions: 1, 0 or
 * unknown), STR (string literals, only as operands of == / != and in
 * templates) and ANY (inputs and payload fields: a number in arithmetic, text
 * when compared with a string, a condition when used as one).
 *
 * Resource use is decided here and never changes afterwards: the number of
 * inputs, windows (and their ring capacity), filters and the size of a state.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/msg.h"
#include "core/time.h"
#include "core/topic.h"
#include "rules/rules_int.h"

/* ---- the opcode table, compiler view ----------------------------------------- */

enum rimm { I_NONE, I_K, I_IN, I_INS, I_INK, I_W, I_E, I_AGE };
enum rform { F_OP, F_X0, F_X1, F_X2, F_IN, F_WIN, F_EWMA };

struct opinfo {
    const char *name;
    int8_t      pop, push;
    uint8_t     imm;
    const char *fn;
    uint8_t     form;
};

static const struct opinfo ops[RULE_OP__COUNT] = {
#define RULE_OP(name, pop, push, imm, fn, form, doc) \
    { #name, pop, push, imm, fn, form },
#include "rules/ops.def"
#undef RULE_OP
};

/* ---- compiler state --------------------------------------------------------- */

struct comp {
    const struct nano_rule_def      *def;
    const struct nano_rule_resolver *res;
    struct nano_diag                *d;
    struct nano_rule                *r;
    int                              err;
    bool                             topic_mode;
    unsigned                         n_wild;     /* wildcard levels of the filter */
    /* capacities of r's growing arrays */
    uint32_t cap_code, cap_spans, cap_k, cap_pool, cap_progs, cap_tmpls, cap_parts, cap_jv,
             cap_acts, cap_texts, cap_inputs, cap_pins;
    /* the text being compiled */
    const char   *src;
    uint8_t       text;
    struct rnode *store;        /* NANO_RULE_MAX_NODES nodes for all parses */
    unsigned      store_used;
    struct rnode *nodes;        /* base of the current parse inside store */
    int           depth, max_depth;   /* VM stack while emitting */
    bool          in_cond;      /* compiling the rule or clear condition */
    int32_t       age_direct;   /* age() node compared with a constant */
    double        age_direct_secs;
};

static int cerr(struct comp *c, int rc, unsigned line, unsigned col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
cerr(struct comp *c, int rc, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    if (c->err)
        return c->err;
    c->err = rc;
    if (c->d) {
        c->d->line = line;
        c->d->col = col;
        va_start(ap, fmt);
        vsnprintf(c->d->msg, sizeof c->d->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int
grow(struct comp *c, void **p, uint32_t *cap, uint32_t need, size_t elt)
{
    uint32_t ncap;
    void *np;

    if (need <= *cap)
        return NANO_OK;
    ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    np = nano_realloc(*p, (size_t)ncap * elt);
    if (!np) {
        c->err = -ENOMEM;
        return -ENOMEM;
    }
    *p = np;
    *cap = ncap;
    return NANO_OK;
}

#define GROW(c, arr, capf, need) \
    grow((c), (void **)&(arr), &(c)->capf, (need), sizeof *(arr))

/* ---- emission ------------------------------------------------------------- */

static int
emit(struct comp *c, unsigned op, uint32_t a, uint32_t b, uint32_t start,
     uint32_t end)
{
    struct nano_rule *r = c->r;

    if (GROW(c, r->code, cap_code, r->n_code + 1) != NANO_OK ||
        GROW(c, r->spans, cap_spans, r->n_code + 1) != NANO_OK)
        return -ENOMEM;
    r->code[r->n_code] = (struct rins){ (uint16_t)op, (uint16_t)a, b };
    r->spans[r->n_code] = (struct rspan){ start, end };
    r->n_code++;
    c->depth += ops[op].push - ops[op].pop;
    if (c->depth > c->max_depth)
        c->max_depth = c->depth;
    if (c->depth > NANO_RULE_MAX_STACK)
        return cerr(c, NANO_EPARSE, 1, 1, "expression too complex (more than "
                    "%d values pending)", NANO_RULE_MAX_STACK);
    return NANO_OK;
}

static int
add_const(struct comp *c, double v, uint32_t *idx)
{
    struct nano_rule *r = c->r;

    for (uint32_t i = 0; i < r->n_k; i++)
        if (memcmp(&r->k[i], &v, sizeof v) == 0) {
            *idx = i;
            return NANO_OK;
        }
    if (r->n_k >= 0xffff)
        return cerr(c, NANO_EPARSE, 1, 1, "too many constants");
    if (GROW(c, r->k, cap_k, r->n_k + 1) != NANO_OK)
        return -ENOMEM;
    r->k[r->n_k] = v;
    *idx = r->n_k++;
    return NANO_OK;
}

static int
emit_const(struct comp *c, double v, uint32_t start, uint32_t end)
{
    uint32_t k = 0;
    int rc;

    if ((rc = add_const(c, v, &k)) != NANO_OK)
        return rc;
    return emit(c, RULE_OP_CONST, k, 0, start, end);
}

/* Append n bytes plus a NUL to the string pool; *off gets their offset. */
static int
pool_add(struct comp *c, const char *s, size_t n, uint32_t *off)
{
    struct nano_rule *r = c->r;

    if (r->n_pool + n + 1 > 1u << 24)
        return cerr(c, NANO_EPARSE, 1, 1, "too much text");
    if (GROW(c, r->pool, cap_pool, r->n_pool + (uint32_t)n + 1) != NANO_OK)
        return -ENOMEM;
    memcpy(r->pool + r->n_pool, s, n);
    r->pool[r->n_pool + n] = '\0';
    *off = r->n_pool;
    r->n_pool += (uint32_t)n + 1;
    return NANO_OK;
}

/* Unescape a string literal body src[a, b) into the pool. */
static int
pool_add_literal(struct comp *c, uint32_t a, uint32_t b, uint32_t *off)
{
    char buf[NANO_RULE_TEXT_MAX];
    size_t n = rules__json_unescape(c->src + a, b - a, buf, sizeof buf);

    return pool_add(c, buf, n, off);
}

/* ---- positions ------------------------------------------------------------ */

static void
line_col(const char *src, uint32_t pos, unsigned *line, unsigned *col)
{
    unsigned l = 1, cc = 1;

    for (uint32_t i = 0; i < pos && src[i]; i++) {
        if (src[i] == '\n') {
            l++;
            cc = 1;
        } else if (((unsigned char)src[i] & 0xC0) != 0x80) {
            cc++;
        }
    }
    *line = l;
    *col = cc;
}

/* ---- inputs and names -------------------------------------------------------- */

static int
find_or_add_input(struct comp *c, const struct nano_rule_sym *sym,
                  const char *label, const struct rnode *n, uint16_t *slot)
{
    struct nano_rule *r = c->r;
    struct rinput *in;

    for (unsigned i = 0; i < r->n_inputs; i++)
        if (r->inputs[i].kind == sym->kind &&
            strcmp(r->inputs[i].key, sym->key) == 0) {
            *slot = (uint16_t)i;
            return NANO_OK;
        }
    if (r->n_inputs >= NANO_RULE_MAX_INPUTS)
        return cerr(c, NANO_EPARSE, n->line, n->col, "a service may read at "
                    "most %d inputs", NANO_RULE_MAX_INPUTS);
    if (GROW(c, r->inputs, cap_inputs, r->n_inputs + 1) != NANO_OK)
        return -ENOMEM;
    in = &r->inputs[r->n_inputs];
    memset(in, 0, sizeof *in);
    in->kind = (uint8_t)sym->kind;
    in->interval_ns = sym->interval_ns;
    in->key = nano_strdup(sym->key);
    in->label = nano_strdup(label);
    in->pin = sym->name ? nano_strdup(sym->name) : NULL;
    r->n_inputs++;
    if (!in->key || !in->label || (sym->name && !in->pin))
        return c->err = -ENOMEM;
    *slot = (uint16_t)(r->n_inputs - 1);
    return NANO_OK;
}

/* Copy a name's text, dropping the backquotes of `quoted` parts. */
static void
name_text(struct comp *c, const struct rnode *n, char *buf, size_t cap)
{
    size_t k = 0;

    for (uint32_t i = n->nstart; i < n->nend && k + 1 < cap; i++)
        if (c->src[i] != '`')
            buf[k++] = c->src[i];
    buf[k] = '\0';
}

/* "a, b, c" from a NULL-terminated list, cut to fit. */
static void
join_names(const char *const *names, char *out, size_t cap)
{
    size_t k = 0;
    int n;

    out[0] = '\0';
    for (unsigned i = 0; names && names[i]; i++) {
        n = snprintf(out + k, cap - k, "%s%s", i ? ", " : "", names[i]);
        if (n < 0 || (size_t)n >= cap - k) {
            if (cap > 6)
                snprintf(out + (k < cap - 6 ? k : cap - 6), 6, ", ...");
            return;
        }
        k += (size_t)n;
    }
}

static int
resolve(struct comp *c, const struct rnode *n, unsigned want,
        struct nano_rule_sym *sym, char *name, size_t name_cap)
{
    char list[160];
    const char *sugg;
    int rc;

    name_text(c, n, name, name_cap);
    memset(sym, 0, sizeof *sym);
    if (!c->res || !c->res->resolve)
        rc = NANO_ENOTFOUND;
    else
        rc = c->res->resolve(c->res->arg, name, want, sym);
    if (rc == NANO_OK) {
        if ((sym->kind == NANO_RSYM_INPUT || sym->kind == NANO_RSYM_PIN ||
             sym->kind == NANO_RSYM_FIELD) && !sym->key)
            return cerr(c, NANO_EPARSE, n->line, n->col,
                        "'%s' resolved to nothing", name);
        return NANO_OK;
    }
    join_names(sym->names, list, sizeof list);
    if (rc == NANO_EAMBIG) {
        return cerr(c, NANO_EAMBIG, n->line, n->col,
                    "'%s' is ambiguous: provided by %s %s; write %s.%s",
                    name, sym->names_what ? sym->names_what : "instances",
                    list, sym->names && sym->names[0] ? sym->names[0] :
                    "<instance>", name);
    }
    if (rc == NANO_ENOTFOUND) {
        char did[200] = "", known[220] = "";
        const char *dot = strrchr(name, '.');
        sugg = nano_suggest(name, sym->names);
        if (sugg)
            snprintf(did, sizeof did, " (did you mean '%s'?)", sugg);
        else if (dot && (sugg = nano_suggest(dot + 1, sym->names)))
            snprintf(did, sizeof did, " (did you mean '%.*s.%s'?)",
                     (int)(dot - name), name, sugg);
        if (list[0])
            snprintf(known, sizeof known, "; known %s: %s",
                     sym->names_what ? sym->names_what : "names", list);
        return cerr(c, NANO_ENOTFOUND, n->line, n->col, "unknown %s '%s'%s%s%s%s",
                    want == NANO_RSYM_WANT_PIN ? "pin" : "name", name, did,
                    known, sym->hint ? "; " : "", sym->hint ? sym->hint : "");
    }
    return cerr(c, rc, n->line, n->col, "cannot resolve '%s': %s", name,
                nano_strerror(rc));
}

/* ---- expressions ----------------------------------------------------------- */

static int compile_node(struct comp *c, int32_t id, int *type);

static const char *
type_word(int t)
{
    switch (t) {
    case TY_NUM: return "a number";
    case TY_BOOL: return "a condition";
    case TY_STR: return "text";
    default: return "a value";
    }
}

/* The value on the stack must be usable as a condition. */
static int
need_cond(struct comp *c, int32_t id, int type, const char *who)
{
    const struct rnode *n = &c->nodes[id];

    if (type == TY_BOOL)
        return NANO_OK;
    if (type == TY_ANY)
        return emit(c, RULE_OP_TRUTH, 0, 0, n->start, n->end);
    return cerr(c, NANO_ETYPE, n->line, n->col,
                "%s needs a condition such as 'temperature > 75', not %s",
                who, type_word(type));
}

static int
need_num(struct comp *c, int32_t id, int type, const char *who)
{
    const struct rnode *n = &c->nodes[id];

    if (type == TY_STR)
        return cerr(c, NANO_ETYPE, n->line, n->col,
                    "%s needs a number, not text", who);
    return NANO_OK;
}

/* Fold the last instructions when they are all constants (pure ops only). */
static int
try_fold(struct comp *c, unsigned op, unsigned nops, uint32_t start,
         uint32_t end)
{
    struct nano_rule *r = c->r;
    struct rins *ins;
    double x = 0, y = 0, v;

    if (r->n_code < nops + 1)
        return 0;
    ins = &r->code[r->n_code - 1 - nops];
    for (unsigned i = 0; i < nops; i++)
        if (ins[i].op != RULE_OP_CONST)
            return 0;
    if (ins[nops].op != op)
        return 0;
    /* the operands must be exactly this operator's: the instruction count
     * before the operator is at least nops (checked) and each operand was
     * one instruction (callers only fold right after emitting them). */
    x = r->k[ins[0].a];
    if (nops == 2)
        y = r->k[ins[1].a];
    v = rules__vm_fold(op, x, y);
    /* Depth was D before the operands and D + 1 after the operator; drop
     * the operator's value and push the folded constant instead. */
    r->n_code -= nops + 1;
    c->depth -= 1;
    return emit_const(c, v, start, end) == NANO_OK ? 1 : -1;
}

static int
compile_name(struct comp *c, int32_t id, int *type)
{
    const struct rnode *n = &c->nodes[id];
    struct nano_rule_sym sym;
    char name[160];
    uint16_t slot;
    int rc;

    if ((rc = resolve(c, n, NANO_RSYM_WANT_VALUE, &sym, name, sizeof name)) != NANO_OK)
        return rc;
    switch (sym.kind) {
    case NANO_RSYM_CONST:
        *type = TY_NUM;
        return emit_const(c, sym.value, n->start, n->end);
    case NANO_RSYM_INPUT:
    case NANO_RSYM_FIELD:
    case NANO_RSYM_PIN:
        if (sym.kind == NANO_RSYM_FIELD && !c->topic_mode)
            return cerr(c, NANO_EPARSE, n->line, n->col,
                        "'%s' is a payload field; only services with an "
                        "\"input\" topic filter read fields", name);
        if ((rc = find_or_add_input(c, &sym, name, n, &slot)) != NANO_OK)
            return rc;
        /* pins too: a pin topic is written by anyone, so its value is
         * normalised to a condition (TRUTH) where one is needed */
        *type = TY_ANY;
        return emit(c, RULE_OP_INPUT, slot, 0, n->start, n->end);
    }
    return cerr(c, NANO_EPARSE, n->line, n->col, "'%s' cannot be read", name);
}

/* An input argument of a window function or age(). */
static int
input_arg(struct comp *c, int32_t id, const char *fn, uint16_t *slot)
{
    const struct rnode *n = &c->nodes[id];
    struct nano_rule_sym sym;
    char name[160];
    int rc;

    if (n->kind != N_NAME)
        return cerr(c, NANO_ETYPE, n->line, n->col,
                    "the first argument of %s() must be an input name, such "
                    "as %s(temperature%s)", fn, fn,
                    strcmp(fn, "age") == 0 ? "" :
                    strcmp(fn, "ewma") == 0 ? ", 0.2" : ", 30s");
    if ((rc = resolve(c, n, NANO_RSYM_WANT_VALUE, &sym, name, sizeof name)) != NANO_OK)
        return rc;
    if (sym.kind == NANO_RSYM_CONST)
        return cerr(c, NANO_ETYPE, n->line, n->col,
                    "%s() needs an input; '%s' is a constant", fn, name);
    if (sym.kind == NANO_RSYM_FIELD && !c->topic_mode)
        return cerr(c, NANO_EPARSE, n->line, n->col,
                    "'%s' is a payload field; only services with an \"input\" "
                    "topic filter read fields", name);
    return find_or_add_input(c, &sym, name, n, slot);
}

static int
add_window(struct comp *c, uint16_t slot, uint64_t ns, uint16_t *w)
{
    struct nano_rule *r = c->r;
    uint64_t iv;
    uint64_t cap;
    void *np;

    for (unsigned i = 0; i < r->n_wins; i++)
        if (r->wins[i].input == slot && r->wins[i].ns == ns) {
            *w = (uint16_t)i;
            return NANO_OK;
        }
    if (r->n_wins >= NANO_RULE_MAX_WINDOWS)
        return cerr(c, NANO_EPARSE, 1, 1, "a service may use at most %d "
                    "windows", NANO_RULE_MAX_WINDOWS);
    np = nano_realloc(r->wins, (r->n_wins + 1) * sizeof *r->wins);
    if (!np)
        return c->err = -ENOMEM;
    r->wins = np;
    /* Capacity: the readings a window of ns holds at the input's interval,
     * plus a quarter and 4 for jitter, within [8, NANO_RULE_WINDOW_CAP]. */
    iv = r->inputs[slot].interval_ns;
    if (!iv)
        iv = c->def->interval_ns ? c->def->interval_ns : NANO_NS_PER_S;
    cap = (ns + iv - 1) / iv;
    cap = cap + cap / 4 + 4;
    if (cap < 8)
        cap = 8;
    if (cap > NANO_RULE_WINDOW_CAP)
        cap = NANO_RULE_WINDOW_CAP;
    r->wins[r->n_wins] = (struct rwindef){ slot, ns, (uint32_t)cap };
    r->inputs[slot].win_mask |= (uint16_t)(1u << r->n_wins);
    *w = (uint16_t)r->n_wins++;
    return NANO_OK;
}

static int
add_ewma(struct comp *c, uint16_t slot, double alpha, uint16_t *e)
{
    struct nano_rule *r = c->r;
    void *np;

    for (unsigned i = 0; i < r->n_ewmas; i++)
        if (r->ewmas[i].input == slot && r->ewmas[i].alpha == alpha) {
            *e = (uint16_t)i;
            return NANO_OK;
        }
    if (r->n_ewmas >= NANO_RULE_MAX_WINDOWS)
        return cerr(c, NANO_EPARSE, 1, 1, "a service may use at most %d ewma "
                    "filters", NANO_RULE_MAX_WINDOWS);
    np = nano_realloc(r->ewmas, (r->n_ewmas + 1) * sizeof *r->ewmas);
    if (!np)
        return c->err = -ENOMEM;
    r->ewmas = np;
    r->ewmas[r->n_ewmas] = (struct rewdef){ slot, alpha };
    r->inputs[slot].ewma_mask |= 1u << r->n_ewmas;
    *e = (uint16_t)r->n_ewmas++;
    return NANO_OK;
}

static const char *const *
function_names(void)
{
    static const char *names[RULE_OP__COUNT + 1];

    if (!names[0]) {
        unsigned k = 0;
        for (unsigned i = 0; i < RULE_OP__COUNT; i++) {
            bool dup = false;
            if (!ops[i].fn)
                continue;
            for (unsigned j = 0; j < k; j++)
                dup |= strcmp(names[j], ops[i].fn) == 0;
            if (!dup)
                names[k++] = ops[i].fn;
        }
        names[k] = NULL;
    }
    return names;
}

static const char *const action_names[] = {
    "gpio.set", "gpio.toggle", "publish", "log", "webhook", NULL
};

static int
compile_call(struct comp *c, int32_t id, int *type)
{
    const struct rnode *n = &c->nodes[id];
    char fn[64], list[200];
    const struct rnode *a0 = n->a >= 0 ? &c->nodes[n->a] : NULL;
    const struct rnode *a1 = a0 && a0->next >= 0 ? &c->nodes[a0->next] : NULL;
    int found = -1, any = -1;
    uint16_t slot = 0, idx = 0;
    int rc, t;

    name_text(c, n, fn, sizeof fn);
    bool win_form = n->nargs == 2 && a1 && a1->kind == N_DUR;
    for (unsigned i = 0; i < RULE_OP__COUNT; i++) {
        if (!ops[i].fn || strcmp(ops[i].fn, fn) != 0)
            continue;
        any = (int)i;
        /* min/max exist twice: over a window, or of two values. */
        if (found < 0 && (ops[i].form == F_WIN) == win_form)
            found = (int)i;
    }
    if (any < 0) {
        const char *sugg;
        for (const char *const *a = action_names; *a; a++)
            if (strcmp(*a, fn) == 0)
                return cerr(c, NANO_ETYPE, n->line, n->col,
                            "%s() is an action; it belongs in \"action\", not "
                            "in a condition", fn);
        sugg = nano_suggest(fn, function_names());
        join_names(function_names(), list, sizeof list);
        return cerr(c, NANO_ENOTFOUND, n->line, n->col,
                    "unknown function '%s'%s%s%s; functions: %s", fn,
                    sugg ? " (did you mean '" : "", sugg ? sugg : "",
                    sugg ? "'?)" : "", list);
    }
    if (found < 0)
        found = any;
    const struct opinfo *op = &ops[found];
    switch (op->form) {
    case F_X0:
        if (n->nargs != 0)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s() takes no arguments", fn);
        /* Schedules in a condition wake the service at the next boundary;
         * in an action's text they are only read. */
        c->r->uses_wall = true;
        if (c->in_cond) {
            c->r->wall_wakes = true;
            if (found == RULE_OP_MINUTE)
                c->r->uses_minute = true;
        }
        *type = TY_NUM;
        return emit(c, (unsigned)found, 0, 0, n->start, n->end);
    case F_X1:
        if (n->nargs != 1)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s() takes 1 argument, got %u", fn, n->nargs);
        if ((rc = compile_node(c, n->a, &t)) != NANO_OK ||
            (rc = need_num(c, n->a, t, "abs()")) != NANO_OK)
            return rc;
        if ((rc = emit(c, (unsigned)found, 0, 0, n->start, n->end)) != NANO_OK)
            return rc;
        *type = TY_NUM;
        return try_fold(c, (unsigned)found, 1, n->start, n->end) < 0 ? -ENOMEM : NANO_OK;
    case F_X2:
        if (n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s() takes 2 arguments: two values, or an input and "
                        "a window such as %s(temperature, 30s)", fn, fn);
        if ((rc = compile_node(c, n->a, &t)) != NANO_OK ||
            (rc = need_num(c, n->a, t, "min() and max()")) != NANO_OK ||
            (rc = compile_node(c, a0->next, &t)) != NANO_OK ||
            (rc = need_num(c, a0->next, t, "min() and max()")) != NANO_OK)
            return rc;
        if ((rc = emit(c, (unsigned)found, 0, 0, n->start, n->end)) != NANO_OK)
            return rc;
        *type = TY_NUM;
        return try_fold(c, (unsigned)found, 2, n->start, n->end) < 0 ? -ENOMEM : NANO_OK;
    case F_WIN:
        if (n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s() takes 2 arguments: an input and a window such "
                        "as %s(temperature, 30s); got %u", fn, fn, n->nargs);
        if ((rc = input_arg(c, n->a, fn, &slot)) != NANO_OK)
            return rc;
        if (a1->kind != N_DUR)
            return cerr(c, NANO_ETYPE, a1->line, a1->col,
                        "the window of %s() must be a duration such as 30s "
                        "or 5m", fn);
        if (a1->ns < NANO_NS_PER_MS || a1->ns > NANO_RULE_WINDOW_MAX_NS)
            return cerr(c, NANO_ETYPE, a1->line, a1->col,
                        "the window of %s() must be between 1ms and 1d", fn);
        if ((rc = add_window(c, slot, a1->ns, &idx)) != NANO_OK)
            return rc;
        *type = TY_NUM;
        return emit(c, (unsigned)found, idx, 0, n->start, n->end);
    case F_EWMA:
        if (n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "ewma() takes 2 arguments: an input and a weight "
                        "between 0 and 1, such as ewma(temperature, 0.2)");
        if ((rc = input_arg(c, n->a, fn, &slot)) != NANO_OK)
            return rc;
        if (a1->kind != N_NUM || !(a1->num > 0 && a1->num <= 1))
            return cerr(c, NANO_ETYPE, a1->line, a1->col,
                        "the weight of ewma() must be a number above 0 and "
                        "at most 1, such as 0.2");
        if ((rc = add_ewma(c, slot, a1->num, &idx)) != NANO_OK)
            return rc;
        *type = TY_NUM;
        return emit(c, RULE_OP_EWMA, idx, 0, n->start, n->end);
    case F_IN:
        if (n->nargs != 1)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s() takes 1 argument, an input such as "
                        "%s(temperature)", fn, fn);
        if ((rc = input_arg(c, n->a, fn, &slot)) != NANO_OK)
            return rc;
        if (!c->in_cond) {
            /* read by an action: no wake-up needed */
        } else if (c->age_direct == id) {
            struct ragewake *aw = nano_realloc(c->r->agewakes,
                (c->r->n_agewakes + 1) * sizeof *aw);
            if (!aw)
                return c->err = -ENOMEM;
            c->r->agewakes = aw;
            aw[c->r->n_agewakes++] = (struct ragewake){
                slot, (uint64_t)(c->age_direct_secs * 1e9 + 0.5) };
        } else {
            c->r->age_generic = true;
        }
        *type = TY_NUM;
        return emit(c, RULE_OP_AGE, slot, 0, n->start, n->end);
    default:
        break;
    }
    return cerr(c, NANO_EPARSE, n->line, n->col, "cannot call %s()", fn);
}

static unsigned
cmp_op(uint8_t tok)
{
    switch (tok) {
    case T_LT: return RULE_OP_LT;
    case T_LE: return RULE_OP_LE;
    case T_GT: return RULE_OP_GT;
    case T_GE: return RULE_OP_GE;
    case T_EQ: return RULE_OP_EQ;
    default:   return RULE_OP_NE;
    }
}

/* Is node id a number or duration literal (possibly negated)?  *v seconds. */
static bool
const_literal(struct comp *c, int32_t id, double *v)
{
    const struct rnode *n = &c->nodes[id];

    if (n->kind == N_NUM) {
        *v = n->num;
        return true;
    }
    if (n->kind == N_DUR) {
        *v = (double)n->ns / 1e9;
        return true;
    }
    return false;
}

static bool
is_age_call(struct comp *c, int32_t id)
{
    const struct rnode *n = &c->nodes[id];
    char fn[8];

    if (n->kind != N_CALL || n->nend - n->nstart != 3)
        return false;
    name_text(c, n, fn, sizeof fn);
    return strcmp(fn, "age") == 0;
}

static int
compile_compare(struct comp *c, int32_t id, int *type)
{
    const struct rnode *n = &c->nodes[id];
    const struct rnode *a = &c->nodes[n->a], *b = &c->nodes[n->b];
    unsigned op = cmp_op(n->op);
    int ta, tb, rc;
    uint32_t before;

    *type = TY_BOOL;
    /* Text comparisons: an input (or field) against a string literal. */
    if (a->kind == N_STR || b->kind == N_STR) {
        const struct rnode *s = a->kind == N_STR ? a : b;
        const struct rnode *o = a->kind == N_STR ? b : a;
        struct nano_rule_sym sym;
        char name[160];
        uint32_t off, off2;
        uint16_t slot;

        if (n->op != T_EQ && n->op != T_NE)
            return cerr(c, NANO_ETYPE, n->oline, n->ocol,
                        "text can only be compared with == or !=");
        if (o->kind == N_STR) {
            if ((rc = pool_add_literal(c, a->start + 1, a->end - 1, &off)) != NANO_OK ||
                (rc = pool_add_literal(c, b->start + 1, b->end - 1, &off2)) != NANO_OK)
                return rc;
            bool eq = strcmp(c->r->pool + off, c->r->pool + off2) == 0;
            return emit_const(c, (n->op == T_EQ) == eq ? 1.0 : 0.0, n->start,
                              n->end);
        }
        if (o->kind != N_NAME)
            return cerr(c, NANO_ETYPE, o->line, o->col,
                        "text can only be compared with an input or field "
                        "name, such as state == \"open\"");
        if ((rc = resolve(c, o, NANO_RSYM_WANT_VALUE, &sym, name, sizeof name)) != NANO_OK)
            return rc;
        if (sym.kind == NANO_RSYM_CONST)
            return cerr(c, NANO_ETYPE, o->line, o->col,
                        "'%s' is a number; it cannot equal text", name);
        if (sym.kind == NANO_RSYM_FIELD && !c->topic_mode)
            return cerr(c, NANO_EPARSE, o->line, o->col,
                        "'%s' is a payload field; only services with an "
                        "\"input\" topic filter read fields", name);
        if ((rc = find_or_add_input(c, &sym, name, o, &slot)) != NANO_OK ||
            (rc = pool_add_literal(c, s->start + 1, s->end - 1, &off)) != NANO_OK)
            return rc;
        return emit(c, n->op == T_EQ ? RULE_OP_STREQ : RULE_OP_STRNE, slot, off,
                    n->start, n->end);
    }
    /* age(x) > constant: the service can wake exactly when it turns true. */
    double kv;
    /* (beyond ~30 years the wake-up would overflow; treat as generic) */
    if ((n->op == T_GT || n->op == T_GE) && is_age_call(c, n->a) &&
        const_literal(c, n->b, &kv) && kv >= 0 && kv < 1e9) {
        c->age_direct = n->a;
        c->age_direct_secs = kv;
    } else if ((n->op == T_LT || n->op == T_LE) && is_age_call(c, n->b) &&
               const_literal(c, n->a, &kv) && kv >= 0 && kv < 1e9) {
        c->age_direct = n->b;
        c->age_direct_secs = kv;
    }
    before = c->r->n_code;
    if ((rc = compile_node(c, n->a, &ta)) != NANO_OK ||
        (rc = need_num(c, n->a, ta, "a comparison")) != NANO_OK)
        return rc;
    uint32_t mid = c->r->n_code;
    if ((rc = compile_node(c, n->b, &tb)) != NANO_OK ||
        (rc = need_num(c, n->b, tb, "a comparison")) != NANO_OK)
        return rc;
    c->age_direct = -1;
    /* Fuse "input > k" / "input < k": the shape of most rules. */
    if ((op == RULE_OP_GT || op == RULE_OP_LT) && mid == before + 1 &&
        c->r->n_code == mid + 1 && c->r->code[before].op == RULE_OP_INPUT &&
        c->r->code[mid].op == RULE_OP_CONST) {
        struct rins in = c->r->code[before], k = c->r->code[mid];
        c->r->n_code = before;
        c->depth -= 2;
        return emit(c, op == RULE_OP_GT ? RULE_OP_GT_IK : RULE_OP_LT_IK, in.a,
                    k.a, n->start, n->end);
    }
    if ((rc = emit(c, op, 0, 0, n->start, n->end)) != NANO_OK)
        return rc;
    if (mid == before + 1 && c->r->n_code == mid + 2)
        return try_fold(c, op, 2, n->start, n->end) < 0 ? -ENOMEM : NANO_OK;
    return NANO_OK;
}

static int
compile_node(struct comp *c, int32_t id, int *type)
{
    const struct rnode *n = &c->nodes[id];
    int ta, tb, rc;
    uint32_t before, mid;
    unsigned op;

    switch (n->kind) {
    case N_NUM:
        *type = TY_NUM;
        return emit_const(c, n->num, n->start, n->end);
    case N_DUR:
        *type = TY_NUM;
        return emit_const(c, (double)n->ns / 1e9, n->start, n->end);
    case N_BOOL:
        *type = TY_BOOL;
        return emit_const(c, n->num, n->start, n->end);
    case N_STR:
        return cerr(c, NANO_ETYPE, n->line, n->col,
                    "text can only be compared with == or != against an input");
    case N_NAME:
        return compile_name(c, id, type);
    case N_CALL:
        return compile_call(c, id, type);
    case N_OBJ:
    case N_MEMBER:
        return cerr(c, NANO_ETYPE, n->line, n->col,
                    "an object can only be an action's payload");
    case N_UN:
        before = c->r->n_code;
        if ((rc = compile_node(c, n->a, &ta)) != NANO_OK)
            return rc;
        if (n->op == T_NOT) {
            if ((rc = need_cond(c, n->a, ta, "'not'")) != NANO_OK)
                return rc;
            op = RULE_OP_NOT;
            *type = TY_BOOL;
        } else {
            if ((rc = need_num(c, n->a, ta, "'-'")) != NANO_OK)
                return rc;
            op = RULE_OP_NEG;
            *type = TY_NUM;
        }
        if ((rc = emit(c, op, 0, 0, n->start, n->end)) != NANO_OK)
            return rc;
        if (c->r->n_code == before + 2)
            return try_fold(c, op, 1, n->start, n->end) < 0 ? -ENOMEM : NANO_OK;
        return NANO_OK;
    case N_BIN:
        if (n->op == T_LT || n->op == T_LE || n->op == T_GT || n->op == T_GE ||
            n->op == T_EQ || n->op == T_NE)
            return compile_compare(c, id, type);
        before = c->r->n_code;
        if ((rc = compile_node(c, n->a, &ta)) != NANO_OK)
            return rc;
        if (n->op == T_AND || n->op == T_OR) {
            const char *who = n->op == T_AND ? "'and'" : "'or'";
            if ((rc = need_cond(c, n->a, ta, who)) != NANO_OK)
                return rc;
            mid = c->r->n_code;
            if ((rc = compile_node(c, n->b, &tb)) != NANO_OK ||
                (rc = need_cond(c, n->b, tb, who)) != NANO_OK)
                return rc;
            op = n->op == T_AND ? RULE_OP_AND : RULE_OP_OR;
            *type = TY_BOOL;
        } else {
            const char *who = n->op == T_PLUS ? "'+'" : n->op == T_MINUS ? "'-'" :
                              n->op == T_STAR ? "'*'" : n->op == T_SLASH ? "'/'" : "'%'";
            if ((rc = need_num(c, n->a, ta, who)) != NANO_OK)
                return rc;
            mid = c->r->n_code;
            if ((rc = compile_node(c, n->b, &tb)) != NANO_OK ||
                (rc = need_num(c, n->b, tb, who)) != NANO_OK)
                return rc;
            op = n->op == T_PLUS ? RULE_OP_ADD : n->op == T_MINUS ? RULE_OP_SUB :
                 n->op == T_STAR ? RULE_OP_MUL : n->op == T_SLASH ? RULE_OP_DIV :
                 RULE_OP_MOD;
            *type = TY_NUM;
        }
        if ((rc = emit(c, op, 0, 0, n->start, n->end)) != NANO_OK)
            return rc;
        if (mid == before + 1 && c->r->n_code == mid + 2)
            return try_fold(c, op, 2, n->start, n->end) < 0 ? -ENOMEM : NANO_OK;
        return NANO_OK;
    }
    return cerr(c, NANO_EPARSE, n->line, n->col, "unexpected syntax");
}

/* ---- texts and programs --------------------------------------------------- */

static int
add_text(struct comp *c, const char *src, const char *origin)
{
    struct nano_rule *r = c->r;

    if (r->n_texts >= 250)
        return cerr(c, NANO_EPARSE, 1, 1, "too many texts");
    if (GROW(c, r->texts, cap_texts, r->n_texts + 1) != NANO_OK)
        return -ENOMEM;
    r->texts[r->n_texts].src = nano_strdup(src);
    r->texts[r->n_texts].origin = origin;
    if (!r->texts[r->n_texts].src)
        return c->err = -ENOMEM;
    c->text = (uint8_t)r->n_texts++;
    c->src = r->texts[c->text].src;
    if (c->d)
        c->d->origin = origin;
    return NANO_OK;
}

/* Parse src[start, end) (line/col of start given) into the node store. */
static int
parse_span(struct comp *c, uint32_t start, uint32_t end, unsigned line,
           unsigned col, unsigned flags, int32_t *root)
{
    struct rparse p;
    int rc;

    memset(&p, 0, sizeof p);
    rules__lex_init(&p.lx, c->src, start, end, line, col, c->d);
    p.nodes = c->store + c->store_used;
    p.cap = NANO_RULE_MAX_NODES - c->store_used;
    p.flags = flags;
    rc = rules__parse(&p, root);
    if (rc != NANO_OK)
        return c->err = rc;
    c->nodes = p.nodes;
    c->store_used += p.n;
    return NANO_OK;
}

/* Compile node id of the current parse as a program of its own. */
static int
node_prog(struct comp *c, int32_t id, bool cond, const char *who, int *prog)
{
    struct nano_rule *r = c->r;
    uint32_t off = r->n_code;
    int type, rc;

    c->depth = 0;
    c->age_direct = -1;
    if ((rc = compile_node(c, id, &type)) != NANO_OK)
        return rc;
    if (cond) {
        const struct rnode *n = &c->nodes[id];
        if (type == TY_NUM || type == TY_STR)
            return cerr(c, NANO_ETYPE, n->line, n->col,
                        "%s must be a condition such as 'temperature > 75', "
                        "not %s", who, type_word(type));
        if (type == TY_ANY) {
            if ((rc = emit(c, RULE_OP_TRUTH, 0, 0, n->start, n->end)) != NANO_OK)
                return rc;
            type = TY_BOOL;
        }
    }
    if ((rc = emit(c, RULE_OP_RET, 0, 0, 0, 0)) != NANO_OK)
        return rc;
    if (r->n_progs >= 0x7fff)
        return cerr(c, NANO_EPARSE, 1, 1, "too many expressions");
    if (GROW(c, r->progs, cap_progs, r->n_progs + 1) != NANO_OK)
        return -ENOMEM;
    r->progs[r->n_progs] = (struct rprog){ off, r->n_code - off, (uint8_t)type,
                                          c->text };
    *prog = (int)r->n_progs++;
    return NANO_OK;
}

static int
check_len(struct comp *c, const char *text)
{
    size_t n = strlen(text);

    if (n > NANO_RULE_TEXT_MAX)
        return cerr(c, NANO_EPARSE, 1, 1, "text too long (%zu bytes, at most "
                    "%d)", n, NANO_RULE_TEXT_MAX);
    return NANO_OK;
}

static int
compile_cond(struct comp *c, const char *text, const char *origin, int *prog)
{
    int32_t root;
    int rc;

    if ((rc = add_text(c, text, origin)) != NANO_OK ||
        (rc = check_len(c, text)) != NANO_OK)
        return rc;
    c->store_used = 0;
    if ((rc = parse_span(c, 0, (uint32_t)strlen(text), 1, 1, 0, &root)) != NANO_OK)
        return rc;
    c->in_cond = true;
    rc = node_prog(c, root, true, strcmp(origin, "rule") == 0 ? "a rule" :
                   "a clear condition", prog);
    c->in_cond = false;
    return rc;
}

/* ---- templates ------------------------------------------------------------ */

static int
add_part(struct comp *c, struct rpart part)
{
    struct nano_rule *r = c->r;

    if (GROW(c, r->parts, cap_parts, r->n_parts + 1) != NANO_OK)
        return -ENOMEM;
    r->parts[r->n_parts++] = part;
    return NANO_OK;
}

static int
flush_literal(struct comp *c, char *lit, size_t *n)
{
    uint32_t off;
    int rc;

    if (!*n)
        return NANO_OK;
    if ((rc = pool_add(c, lit, *n, &off)) != NANO_OK)
        return rc;
    *n = 0;
    return add_part(c, (struct rpart){ P_LIT, -1, 0, off,
                                       (uint32_t)strlen(c->r->pool + off) });
}

/* A placeholder {...} at src[a, b). */
static int
template_field(struct comp *c, uint32_t a, uint32_t b)
{
    struct rnode *saved_nodes = c->nodes;
    unsigned saved_used = c->store_used;
    unsigned line, col;
    uint32_t s = a, e = b;
    int prec = -1, rc, prog;
    int32_t root;

    while (s < e && c->src[s] == ' ')
        s++;
    while (e > s && c->src[e - 1] == ' ')
        e--;
    line_col(c->src, s, &line, &col);
    if (s == e)
        return cerr(c, NANO_EPARSE, line, col, "empty placeholder {}; write "
                    "{name}, {1} or {{ for a brace");
    /* {1}..{9}: matched topic segments. */
    if (e == s + 1 && c->src[s] >= '0' && c->src[s] <= '9') {
        unsigned k = (unsigned)(c->src[s] - '0');
        if (!c->topic_mode)
            return cerr(c, NANO_EPARSE, line, col, "{%u} is a topic segment; "
                        "only services with an \"input\" topic filter have "
                        "them", k);
        if (k == 0 || k > c->n_wild)
            return cerr(c, NANO_EPARSE, line, col, "{%u}: the input filter has "
                        "%u wildcard level%s, numbered from {1}", k, c->n_wild,
                        c->n_wild == 1 ? "" : "s");
        return add_part(c, (struct rpart){ P_SEG, -1, (uint16_t)k, 0, 0 });
    }
    if (e - s == 5 && memcmp(c->src + s, "topic", 5) == 0 && c->topic_mode)
        return add_part(c, (struct rpart){ P_TOPIC, -1, 0, 0, 0 });
    if (e - s == 7 && memcmp(c->src + s, "service", 7) == 0)
        return add_part(c, (struct rpart){ P_SERVICE, -1, 0, 0, 0 });
    /* Optional precision suffix ":.N". */
    for (uint32_t i = e; i > s; i--) {
        if (c->src[i - 1] == ':' && i + 1 < e + 1 && c->src[i] == '.') {
            uint32_t j = i + 1;
            int p = 0;
            while (j < e && c->src[j] >= '0' && c->src[j] <= '9' && p < 100)
                p = p * 10 + (c->src[j++] - '0');
            if (j == e && j > i + 1 && p <= 17) {
                prec = p;
                e = i - 1;
                while (e > s && c->src[e - 1] == ' ')
                    e--;
            }
            break;
        }
    }
    if ((rc = parse_span(c, s, e, line, col, 0, &root)) != NANO_OK)
        return rc;
    /* A bare input prints as what it is (text, number, true/false). */
    if (c->nodes[root].kind == N_NAME) {
        struct nano_rule_sym sym;
        char name[160];
        uint16_t slot;
        if ((rc = resolve(c, &c->nodes[root], NANO_RSYM_WANT_VALUE, &sym, name,
                          sizeof name)) != NANO_OK)
            return rc;
        if (sym.kind != NANO_RSYM_CONST) {
            if (sym.kind == NANO_RSYM_FIELD && !c->topic_mode)
                return cerr(c, NANO_EPARSE, line, col, "'%s' is a payload "
                            "field; only services with an \"input\" topic "
                            "filter read fields", name);
            if ((rc = find_or_add_input(c, &sym, name, &c->nodes[root], &slot)) != NANO_OK)
                return rc;
            c->nodes = saved_nodes;
            c->store_used = saved_used;
            return add_part(c, (struct rpart){ P_INPUT, (int8_t)prec, slot, 0, 0 });
        }
    }
    if ((rc = node_prog(c, root, false, "", &prog)) != NANO_OK)
        return rc;
    c->nodes = saved_nodes;
    c->store_used = saved_used;
    return add_part(c, (struct rpart){ P_EXPR, (int8_t)prec, (uint16_t)prog, 0, 0 });
}

/* Compile the string literal node id as a template. */
static int
compile_template(struct comp *c, int32_t id, int *tmpl)
{
    const struct rnode *n = &c->nodes[id];
    struct nano_rule *r = c->r;
    uint32_t first = r->n_parts, i = n->start + 1, end = n->end - 1;
    char lit[NANO_RULE_TEXT_MAX];
    size_t k = 0;
    int rc;

    while (i < end) {
        char ch = c->src[i];
        if (ch == '\\' && i + 1 < end) {
            size_t m = rules__json_unescape(c->src + i, 2, lit + k, sizeof lit - k);
            k += m;
            i += 2;
            continue;
        }
        if (ch == '{' && i + 1 < end && c->src[i + 1] == '{') {
            lit[k++] = '{';
            i += 2;
            continue;
        }
        if (ch == '}' && i + 1 < end && c->src[i + 1] == '}') {
            lit[k++] = '}';
            i += 2;
            continue;
        }
        if (ch == '{') {
            uint32_t j = i + 1;
            while (j < end && c->src[j] != '}')
                j++;
            if (j >= end) {
                unsigned line, col;
                line_col(c->src, i, &line, &col);
                return cerr(c, NANO_EPARSE, line, col, "unclosed '{' in the "
                            "text; write {{ for a brace");
            }
            if ((rc = flush_literal(c, lit, &k)) != NANO_OK ||
                (rc = template_field(c, i + 1, j)) != NANO_OK)
                return rc;
            i = j + 1;
            continue;
        }
        if (k + 1 < sizeof lit)
            lit[k++] = ch;
        i++;
    }
    if ((rc = flush_literal(c, lit, &k)) != NANO_OK)
        return rc;
    if (GROW(c, r->tmpls, cap_tmpls, r->n_tmpls + 1) != NANO_OK)
        return -ENOMEM;
    r->tmpls[r->n_tmpls] = (struct rtmpl){ first, r->n_parts - first };
    *tmpl = (int)r->n_tmpls++;
    return NANO_OK;
}

/* Does template t hold placeholders? */
static bool
template_is_plain(const struct nano_rule *r, int t)
{
    for (uint32_t i = 0; i < r->tmpls[t].n; i++)
        if (r->parts[r->tmpls[t].first + i].kind != P_LIT)
            return false;
    return true;
}

static int
add_jv(struct comp *c, struct rjv jv, int32_t *out)
{
    struct nano_rule *r = c->r;

    if (GROW(c, r->jv, cap_jv, r->n_jv + 1) != NANO_OK)
        return -ENOMEM;
    r->jv[r->n_jv] = jv;
    *out = (int32_t)r->n_jv++;
    return NANO_OK;
}

/* A payload: an object, a text template, an input, or an expression. */
static int
compile_payload(struct comp *c, int32_t id, unsigned depth, int32_t *out)
{
    const struct rnode *n = &c->nodes[id];
    int rc, idx;
    int32_t me, prev = -1, child;

    if (depth > 8)
        return cerr(c, NANO_EPARSE, n->line, n->col, "payload nested too deeply");
    if (n->kind == N_OBJ) {
        if ((rc = add_jv(c, (struct rjv){ J_OBJ, -1, 0, 0, -1, -1 }, &me)) != NANO_OK)
            return rc;
        for (int32_t m = n->a; m >= 0; m = c->nodes[m].next) {
            const struct rnode *mn = &c->nodes[m];
            uint32_t koff;
            if ((rc = pool_add_literal(c, mn->kstart, mn->kend, &koff)) != NANO_OK ||
                (rc = compile_payload(c, mn->a, depth + 1, &child)) != NANO_OK)
                return rc;
            c->r->jv[child].key_off = koff;
            c->r->jv[child].key_len = (uint32_t)strlen(c->r->pool + koff);
            if (prev < 0)
                c->r->jv[me].child = child;
            else
                c->r->jv[prev].next = child;
            prev = child;
        }
        *out = me;
        return NANO_OK;
    }
    if (n->kind == N_STR) {
        if ((rc = compile_template(c, id, &idx)) != NANO_OK)
            return rc;
        return add_jv(c, (struct rjv){ J_TMPL, idx, 0, 0, -1, -1 }, out);
    }
    if (n->kind == N_NAME) {
        struct nano_rule_sym sym;
        char name[160];
        uint16_t slot;
        if ((rc = resolve(c, n, NANO_RSYM_WANT_VALUE, &sym, name, sizeof name)) != NANO_OK)
            return rc;
        if (sym.kind != NANO_RSYM_CONST) {
            if (sym.kind == NANO_RSYM_FIELD && !c->topic_mode)
                return cerr(c, NANO_EPARSE, n->line, n->col, "'%s' is a payload "
                            "field; only services with an \"input\" topic "
                            "filter read fields", name);
            if ((rc = find_or_add_input(c, &sym, name, n, &slot)) != NANO_OK)
                return rc;
            return add_jv(c, (struct rjv){ J_INPUT, slot, 0, 0, -1, -1 }, out);
        }
    }
    if ((rc = node_prog(c, id, false, "", &idx)) != NANO_OK)
        return rc;
    return add_jv(c, (struct rjv){ J_EXPR, idx, 0, 0, -1, -1 }, out);
}

/* ---- actions -------------------------------------------------------------- */

static int
pin_index(struct comp *c, const char *pin, uint16_t *idx)
{
    struct nano_rule *r = c->r;

    for (unsigned i = 0; i < r->n_pins; i++)
        if (strcmp(r->pins[i], pin) == 0) {
            *idx = (uint16_t)i;
            return NANO_OK;
        }
    if (GROW(c, r->pins, cap_pins, r->n_pins + 1) != NANO_OK)
        return -ENOMEM;
    if (!(r->pins[r->n_pins] = nano_strdup(pin)))
        return c->err = -ENOMEM;
    *idx = (uint16_t)r->n_pins++;
    return NANO_OK;
}

static int
pin_arg(struct comp *c, int32_t id, const char *fn, uint16_t *idx)
{
    const struct rnode *n = &c->nodes[id];
    struct nano_rule_sym sym;
    char name[160];
    int rc;

    if (n->kind != N_NAME)
        return cerr(c, NANO_ETYPE, n->line, n->col, "the first argument of "
                    "%s() must be a pin name from the config's pins: section",
                    fn);
    if ((rc = resolve(c, n, NANO_RSYM_WANT_PIN, &sym, name, sizeof name)) != NANO_OK)
        return rc;
    if (sym.kind != NANO_RSYM_PIN || !sym.name)
        return cerr(c, NANO_ETYPE, n->line, n->col, "'%s' is not a pin", name);
    return pin_index(c, sym.name, idx);
}

static const char *const log_levels[] = {
    "error", "warn", "info", "debug", NULL
};

static int
compile_action(struct comp *c, const char *text, const char *origin,
               struct ract *act)
{
    const struct rnode *n, *a0, *a1;
    char fn[64];
    int32_t root;
    int rc;

    memset(act, 0, sizeof *act);
    act->prog = act->tmpl = act->body = -1;
    if ((rc = add_text(c, text, origin)) != NANO_OK ||
        (rc = check_len(c, text)) != NANO_OK)
        return rc;
    act->text = c->text;
    c->store_used = 0;
    if ((rc = parse_span(c, 0, (uint32_t)strlen(text), 1, 1, RPARSE_OBJECTS,
                         &root)) != NANO_OK)
        return rc;
    n = &c->nodes[root];
    if (n->kind != N_CALL) {
        char list[120];
        join_names(action_names, list, sizeof list);
        return cerr(c, NANO_EPARSE, n->line, n->col, "an action is a call such "
                    "as gpio.set(led_pin, HIGH); actions: %s", list);
    }
    name_text(c, n, fn, sizeof fn);
    a0 = n->a >= 0 ? &c->nodes[n->a] : NULL;
    a1 = a0 && a0->next >= 0 ? &c->nodes[a0->next] : NULL;
    if (strcmp(fn, "gpio.set") == 0) {
        act->kind = A_GPIO_SET;
        if (n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col, "gpio.set() takes 2 "
                        "arguments: a pin and HIGH or LOW; got %u", n->nargs);
        if ((rc = pin_arg(c, n->a, fn, &act->pin)) != NANO_OK)
            return rc;
        if (a1->kind == N_STR || a1->kind == N_OBJ)
            return cerr(c, NANO_ETYPE, a1->line, a1->col, "the level of "
                        "gpio.set() must be HIGH, LOW or a condition");
        return node_prog(c, a0->next, false, "", &act->prog);
    }
    if (strcmp(fn, "gpio.toggle") == 0) {
        act->kind = A_GPIO_TOGGLE;
        if (n->nargs != 1)
            return cerr(c, NANO_ETYPE, n->line, n->col, "gpio.toggle() takes 1 "
                        "argument, a pin; got %u", n->nargs);
        return pin_arg(c, n->a, fn, &act->pin);
    }
    if (strcmp(fn, "publish") == 0) {
        act->kind = A_PUBLISH;
        if (n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col, "publish() takes 2 "
                        "arguments: a topic and a value, such as "
                        "publish(\"alerts/heat\", temperature); got %u", n->nargs);
        if (a0->kind != N_STR)
            return cerr(c, NANO_ETYPE, a0->line, a0->col, "the topic of "
                        "publish() must be a string such as \"alerts/{1}\"");
        if ((rc = compile_template(c, n->a, &act->tmpl)) != NANO_OK)
            return rc;
        if (template_is_plain(c->r, act->tmpl)) {
            const struct rtmpl *tm = &c->r->tmpls[act->tmpl];
            const char *why = "a topic cannot be empty";
            if (tm->n != 1 ||
                nano_topic_check(c->r->pool + c->r->parts[tm->first].off,
                                 &why) != NANO_OK)
                return cerr(c, NANO_ETYPE, a0->line, a0->col, "bad topic: %s",
                            why);
        }
        return compile_payload(c, a0->next, 0, &act->body);
    }
    if (strcmp(fn, "log") == 0) {
        const struct rnode *lv = n->nargs == 2 ? a0 : NULL;
        const struct rnode *tx = n->nargs == 2 ? a1 : a0;
        int32_t tx_id = n->nargs == 2 ? a0->next : n->a;
        act->kind = A_LOG;
        act->level = NANO_LOG_INFO;
        if (n->nargs != 1 && n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col, "log() takes a level "
                        "and a text, such as log(warn, \"hot: {temperature}\")");
        if (lv) {
            char lname[32];
            enum nano_log_level l;
            if (lv->kind == N_NAME)
                name_text(c, lv, lname, sizeof lname);
            else if (lv->kind == N_STR)
                rules__json_unescape(c->src + lv->start + 1,
                                     lv->end - lv->start - 2, lname, sizeof lname);
            else
                lname[0] = '\0';
            if (nano_log_level_parse(lname, &l) != NANO_OK) {
                char list[80];
                join_names(log_levels, list, sizeof list);
                return cerr(c, NANO_ETYPE, lv->line, lv->col, "unknown log "
                            "level '%s'; levels: %s", lname, list);
            }
            act->level = (uint8_t)l;
        }
        if (tx->kind != N_STR)
            return cerr(c, NANO_ETYPE, tx->line, tx->col, "the text of log() "
                        "must be a string such as \"hot: {temperature}\"");
        return compile_template(c, tx_id, &act->tmpl);
    }
    if (strcmp(fn, "webhook") == 0) {
        act->kind = A_WEBHOOK;
        if (n->nargs != 1 && n->nargs != 2)
            return cerr(c, NANO_ETYPE, n->line, n->col, "webhook() takes a URL "
                        "and an optional body, such as webhook(\"http://hub/"
                        "hook\", {\"value\": temperature})");
        if (a0->kind != N_STR)
            return cerr(c, NANO_ETYPE, a0->line, a0->col, "the URL of "
                        "webhook() must be a string");
        if ((rc = compile_template(c, n->a, &act->tmpl)) != NANO_OK)
            return rc;
        if (template_is_plain(c->r, act->tmpl)) {
            const struct rtmpl *tm = &c->r->tmpls[act->tmpl];
            const char *u = tm->n ? c->r->pool + c->r->parts[tm->first].off : "";
            if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
                return cerr(c, NANO_ETYPE, a0->line, a0->col, "the URL of "
                            "webhook() must start with http:// or https://");
        }
        if (n->nargs == 2)
            return compile_payload(c, a0->next, 0, &act->body);
        return NANO_OK;
    }
    {
        const char *sugg = nano_suggest(fn, action_names);
        char list[120];
        join_names(action_names, list, sizeof list);
        for (unsigned i = 0; i < RULE_OP__COUNT; i++)
            if (ops[i].fn && strcmp(ops[i].fn, fn) == 0)
                return cerr(c, NANO_ETYPE, n->line, n->col, "%s() is a "
                            "function for conditions, not an action; "
                            "actions: %s", fn, list);
        return cerr(c, NANO_ENOTFOUND, n->line, n->col,
                    "unknown action '%s'%s%s%s; actions: %s", fn,
                    sugg ? " (did you mean '" : "", sugg ? sugg : "",
                    sugg ? "'?)" : "", list);
    }
}

static const char *const origin_action[NANO_RULE_MAX_ACTIONS] = {
    "action[0]", "action[1]", "action[2]", "action[3]", "action[4]",
    "action[5]", "action[6]", "action[7]", "action[8]", "action[9]",
    "action[10]", "action[11]", "action[12]", "action[13]", "action[14]",
    "action[15]",
};
static const char *const origin_on_clear[NANO_RULE_MAX_ACTIONS] = {
    "on_clear[0]", "on_clear[1]", "on_clear[2]", "on_clear[3]", "on_clear[4]",
    "on_clear[5]", "on_clear[6]", "on_clear[7]", "on_clear[8]", "on_clear[9]",
    "on_clear[10]", "on_clear[11]", "on_clear[12]", "on_clear[13]",
    "on_clear[14]", "on_clear[15]",
};
static const char *const origin_safe[NANO_RULE_MAX_ACTIONS] = {
    "safe[0]", "safe[1]", "safe[2]", "safe[3]", "safe[4]", "safe[5]",
    "safe[6]", "safe[7]", "safe[8]", "safe[9]", "safe[10]", "safe[11]",
    "safe[12]", "safe[13]", "safe[14]", "safe[15]",
};

static int
compile_list(struct comp *c, enum rlist which, const char *const *texts,
             size_t n)
{
    static const char *const single[] = { "action", "on_clear", "safe" };
    const char *const *origins = which == L_ACTION ? origin_action :
                                 which == L_ON_CLEAR ? origin_on_clear : origin_safe;
    struct nano_rule *r = c->r;
    int rc;

    if (n > NANO_RULE_MAX_ACTIONS) {
        if (c->d)
            c->d->origin = single[which];
        return cerr(c, NANO_ESCHEMA, 0, 0, "at most %d actions per list",
                    NANO_RULE_MAX_ACTIONS);
    }
    r->act_first[which] = r->n_acts;
    for (size_t i = 0; i < n; i++) {
        struct ract act;
        if (!texts[i]) {
            if (c->d)
                c->d->origin = n == 1 ? single[which] : origins[i];
            return cerr(c, NANO_ESCHEMA, 0, 0, "missing action text");
        }
        if ((rc = compile_action(c, texts[i], n == 1 ? single[which] : origins[i],
                                 &act)) != NANO_OK)
            return rc;
        if (GROW(c, r->acts, cap_acts, r->n_acts + 1) != NANO_OK)
            return -ENOMEM;
        r->acts[r->n_acts++] = act;
    }
    r->act_n[which] = r->n_acts - r->act_first[which];
    return NANO_OK;
}

/* ---- the state block layout ------------------------------------------------ */

static size_t
align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void
layout(struct nano_rule *r)
{
    size_t off = align8(sizeof(struct nano_rule_state));

    off += align8(r->n_inputs * sizeof(struct rin));
    r->win_off = off;
    off += align8(r->n_wins * sizeof(struct rwin));
    r->ew_off = off;
    off += align8(r->n_ewmas * sizeof(struct rew));
    r->ring_off = off;
    for (unsigned i = 0; i < r->n_wins; i++)
        off += r->wins[i].cap * sizeof(struct rsample);
    r->topic_off = off;
    if (r->filter)
        off += NANO_TOPIC_MAX + 1;
    r->state_size = align8(off);
}

static int
finish_fields(struct comp *c)
{
    struct nano_rule *r = c->r;
    unsigned n = 0;

    for (unsigned i = 0; i < r->n_inputs; i++)
        n += r->inputs[i].kind == NANO_RSYM_FIELD;
    if (!n)
        return NANO_OK;
    r->field_keys = nano_calloc(n, sizeof *r->field_keys);
    r->field_slot = nano_calloc(n, sizeof *r->field_slot);
    if (!r->field_keys || !r->field_slot)
        return c->err = -ENOMEM;
    for (unsigned i = 0; i < r->n_inputs; i++) {
        if (r->inputs[i].kind != NANO_RSYM_FIELD)
            continue;
        if (strcmp(r->inputs[i].key, "value") == 0)
            r->has_value_field = true;
        if (strcmp(r->inputs[i].key, "ts") == 0)
            r->has_ts_field = true;
        r->field_keys[r->n_fields] = r->inputs[i].key;
        r->field_slot[r->n_fields++] = (uint16_t)i;
    }
    return NANO_OK;
}

/* ---- entry points ------------------------------------------------------------ */

void
nano_rule_free(struct nano_rule *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->n_texts; i++)
        nano_free(r->texts[i].src);
    for (unsigned i = 0; i < r->n_inputs; i++) {
        nano_free(r->inputs[i].key);
        nano_free(r->inputs[i].label);
        nano_free(r->inputs[i].pin);
    }
    for (unsigned i = 0; i < r->n_pins; i++)
        nano_free(r->pins[i]);
    nano_free(r->pins);
    nano_free(r->name);
    nano_free(r->filter);
    nano_free(r->code);
    nano_free(r->spans);
    nano_free(r->k);
    nano_free(r->pool);
    nano_free(r->texts);
    nano_free(r->progs);
    nano_free(r->inputs);
    nano_free(r->wins);
    nano_free(r->ewmas);
    nano_free(r->agewakes);
    nano_free(r->acts);
    nano_free(r->tmpls);
    nano_free(r->parts);
    nano_free(r->jv);
    nano_free(r->field_keys);
    nano_free(r->field_slot);
    nano_free(r);
}

static int
check_def(struct comp *c, const struct nano_rule_def *def)
{
    static const uint64_t week = 7ull * 86400ull * NANO_NS_PER_S;
    const char *why = NULL;

    if (!def->rule) {
        if (c->d)
            c->d->origin = "rule";
        return cerr(c, NANO_ESCHEMA, 0, 0, "a service needs a rule");
    }
    if (def->for_ns > week || def->cooldown_ns > week || def->min_on_ns > week ||
        def->min_off_ns > week || def->stale_after_ns > week) {
        if (c->d)
            c->d->origin = NULL;
        return cerr(c, NANO_ESCHEMA, 0, 0, "timing parameters must be at most "
                    "7 days");
    }
    if (def->input) {
        if (c->d)
            c->d->origin = "input";
        if (nano_topic_filter_check(def->input, &why) != NANO_OK)
            return cerr(c, NANO_ESCHEMA, 0, 0, "bad topic filter '%s': %s",
                        def->input, why ? why : "invalid");
        for (const char *p = def->input; *p; p++)
            c->n_wild += *p == '+' || *p == '#';
        if (c->n_wild > RULE_MAX_SEGS)
            return cerr(c, NANO_ESCHEMA, 0, 0, "at most %d wildcard levels",
                        RULE_MAX_SEGS);
        c->topic_mode = true;
    }
    return NANO_OK;
}

int
nano_rule_compile(const struct nano_rule_def *def,
                  const struct nano_rule_resolver *res,
                  struct nano_rule **rule_out, struct nano_diag *d)
{
    struct comp c;
    struct nano_rule *r;
    int rc;

    *rule_out = NULL;
    memset(&c, 0, sizeof c);
    c.def = def;
    c.res = res;
    c.d = d;
    c.age_direct = -1;
    if (d) {
        d->line = d->col = 0;
        d->msg[0] = '\0';
    }
    if ((rc = check_def(&c, def)) != NANO_OK)
        return rc;
    r = nano_calloc(1, sizeof *r);
    c.store = nano_malloc(NANO_RULE_MAX_NODES * sizeof *c.store);
    if (!r || !c.store) {
        nano_free(r);
        nano_free(c.store);
        return -ENOMEM;
    }
    c.r = r;
    r->cond = r->clear = -1;
    r->for_ns = def->for_ns;
    r->cooldown_ns = def->cooldown_ns;
    r->min_on_ns = def->min_on_ns;
    r->min_off_ns = def->min_off_ns;
    r->stale_after_ns = def->stale_after_ns;
    r->name = nano_strdup(def->name ? def->name : "rule");
    if (!r->name || (def->input && !(r->filter = nano_strdup(def->input)))) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = compile_cond(&c, def->rule, "rule", &r->cond)) != NANO_OK)
        goto fail;
    if (def->clear &&
        (rc = compile_cond(&c, def->clear, "clear", &r->clear)) != NANO_OK)
        goto fail;
    if ((rc = compile_list(&c, L_ACTION, def->action, def->n_action)) != NANO_OK ||
        (rc = compile_list(&c, L_ON_CLEAR, def->on_clear, def->n_on_clear)) != NANO_OK ||
        (rc = compile_list(&c, L_SAFE, def->safe, def->n_safe)) != NANO_OK ||
        (rc = finish_fields(&c)) != NANO_OK)
        goto fail;
    layout(r);
    nano_free(c.store);
    if (d)
        d->origin = NULL;
    *rule_out = r;
    return NANO_OK;

fail:
    if (c.err)
        rc = c.err;
    nano_free(c.store);
    nano_rule_free(r);
    return rc;
}

/* ---- small accessors ------------------------------------------------------- */

unsigned
nano_rule_n_inputs(const struct nano_rule *r)
{
    return r->n_inputs;
}

enum nano_rule_sym_kind
nano_rule_input_kind(const struct nano_rule *r, unsigned i)
{
    return (enum nano_rule_sym_kind)r->inputs[i].kind;
}

const char *
nano_rule_input_key(const struct nano_rule *r, unsigned i)
{
    return r->inputs[i].key;
}

const char *
nano_rule_input_label(const struct nano_rule *r, unsigned i)
{
    return r->inputs[i].label;
}

const char *
nano_rule_filter(const struct nano_rule *r)
{
    return r->filter;
}

const char *
nano_rule_name(const struct nano_rule *r)
{
    return r->name;
}

size_t
nano_rule_state_size(const struct nano_rule *r)
{
    return r->state_size;
}

unsigned
nano_rule_code_len(const struct nano_rule *r)
{
    return r->n_code;
}

char *
nano_rule_diag_caret(const struct nano_diag *d, const char *src, char *out,
                     size_t cap)
{
    const char *ls = src, *le;
    unsigned line = 1;
    int n;

    if (cap == 0)
        return out;
    if (!d->line || !src) {
        snprintf(out, cap, "%s", d->msg);
        return out;
    }
    while (line < d->line && *ls) {
        if (*ls++ == '\n')
            line++;
    }
    le = strchr(ls, '\n');
    if (!le)
        le = ls + strlen(ls);
    n = snprintf(out, cap, "%u:%u: %s\n  %.*s\n  ", d->line, d->col, d->msg,
                 (int)(le - ls), ls);
    /* caret under the column: copy tabs so it lines up */
    const char *p = ls;
    for (unsigned col = 1; col < d->col && p < le && n >= 0 && (size_t)n + 2 < cap; col++) {
        out[n++] = *p == '\t' ? '\t' : ' ';
        /* skip UTF-8 continuation bytes: one column per character */
        p++;
        while (p < le && ((unsigned char)*p & 0xC0) == 0x80)
            p++;
    }
    if (n >= 0 && (size_t)n + 1 < cap) {
        out[n++] = '^';
        out[n] = '\0';
    }
    return out;
}
