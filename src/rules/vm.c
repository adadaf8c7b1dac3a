/* SPDX-License-Identifier: MIT
 *
 * vm.c - the rule VM: runs one compiled program over a state.
 *
 * A stack machine over doubles with a fixed stack (NANO_RULE_MAX_STACK,
 * checked by the compiler, so no check here) on the C stack: evaluation
 * allocates nothing and touches only the state's inputs and windows.
 * Handlers are stamped from ops.def: with GCC or clang each is a label and
 * dispatch is a computed goto (one indirect jump per instruction, the WAMR
 * and wasm3 technique); elsewhere the same bodies sit in a switch.
 *
 * Conditions are three-valued doubles: 1 true, 0 false, NaN unknown.
 * Comparisons with NaN are unknown; and/or/not follow Kleene (false and
 * unknown = false, true or unknown = true); x/0 and x%0 are NaN.  The same
 * inline helpers serve the VM and constant folding in the compiler, so a
 * folded constant always equals what the VM would have computed.
 */
#include <math.h>
#include <string.h>

#include "rules/rules_int.h"

const char *const rules__op_names[RULE_OP__COUNT] = {
#define RULE_OP(name, pop, push, imm, fn, form, doc) #name,
#include "rules/ops.def"
#undef RULE_OP
};

bool
rules__op_is_cond(unsigned op)
{
    switch (op) {
    case RULE_OP_TRUTH: case RULE_OP_STREQ: case RULE_OP_STRNE:
    case RULE_OP_LT: case RULE_OP_LE: case RULE_OP_GT: case RULE_OP_GE:
    case RULE_OP_EQ: case RULE_OP_NE: case RULE_OP_AND: case RULE_OP_OR:
    case RULE_OP_NOT: case RULE_OP_GT_IK: case RULE_OP_LT_IK:
        return true;
    default:
        return false;
    }
}

static inline double
truth(double x)
{
    return isnan(x) ? NAN : x != 0 ? 1.0 : 0.0;
}

static inline double
cmp3(double x, double y, unsigned op)
{
    if (isnan(x) || isnan(y))
        return NAN;
    switch (op) {
    case RULE_OP_LT: return x < y;
    case RULE_OP_LE: return x <= y;
    case RULE_OP_GT: return x > y;
    case RULE_OP_GE: return x >= y;
    case RULE_OP_EQ: return x == y;
    default:         return x != y;
    }
}

static inline double
and3(double x, double y)
{
    if (x == 0 || y == 0)
        return 0;
    if (isnan(x) || isnan(y))
        return NAN;
    return 1;
}

static inline double
or3(double x, double y)
{
    if ((x != 0 && !isnan(x)) || (y != 0 && !isnan(y)))
        return 1;
    if (isnan(x) || isnan(y))
        return NAN;
    return 0;
}

static inline double
not3(double x)
{
    return isnan(x) ? NAN : x == 0 ? 1.0 : 0.0;
}

static inline double
div0(double x, double y)
{
    return y == 0 ? NAN : x / y;
}

/* fmod without libm (the daemon does not map it: see bench/footprint).
 * Binary long division: t runs down from the largest ay * 2^k <= |x| to ay,
 * and each r -= t is exact because t <= r < 2t (Sterbenz), so the result is
 * exactly what fmod gives; at most ~2,100 steps for the widest exponents. */
static double
exact_fmod(double x, double y)
{
    double r, t, ay;

    if (isnan(x) || isnan(y) || isinf(x) || y == 0)
        return NAN;
    r = fabs(x);
    ay = fabs(y);
    if (isinf(y) || r < ay)
        return x;
    t = ay;
    while (t * 2 <= r)                   /* t * 2 overflowing gives inf: stop */
        t *= 2;
    for (;;) {
        if (r >= t)
            r -= t;
        if (t == ay)
            break;
        t /= 2;
    }
    return copysign(r, x);
}

static inline double
mod0(double x, double y)
{
    return y == 0 ? NAN : exact_fmod(x, y);
}

static inline double
min2(double x, double y)
{
    return isnan(x) || isnan(y) ? NAN : x < y ? x : y;
}

static inline double
max2(double x, double y)
{
    return isnan(x) || isnan(y) ? NAN : x > y ? x : y;
}

double
rules__vm_fold(unsigned op, double x, double y)
{
    switch (op) {
    case RULE_OP_TRUTH: return truth(x);
    case RULE_OP_NEG:   return -x;
    case RULE_OP_ADD:   return x + y;
    case RULE_OP_SUB:   return x - y;
    case RULE_OP_MUL:   return x * y;
    case RULE_OP_DIV:   return div0(x, y);
    case RULE_OP_MOD:   return mod0(x, y);
    case RULE_OP_LT: case RULE_OP_LE: case RULE_OP_GT: case RULE_OP_GE:
    case RULE_OP_EQ: case RULE_OP_NE:
        return cmp3(x, y, op);
    case RULE_OP_AND:   return and3(x, y);
    case RULE_OP_OR:    return or3(x, y);
    case RULE_OP_NOT:   return not3(x);
    case RULE_OP_ABS:   return fabs(x);
    case RULE_OP_MIN2:  return min2(x, y);
    case RULE_OP_MAX2:  return max2(x, y);
    default:            return NAN;
    }
}

/* Text of input in == s (s from the pool, plain). */
static double
str_eq(const struct rin *in, const char *s)
{
    if (!in->seen || in->quality != NANO_Q_OK)
        return NAN;
    if (!in->s)
        return 0;
    if (in->escaped)
        return rules__json_str_eq(in->s, in->slen, s, strlen(s));
    return strlen(s) == in->slen && memcmp(in->s, s, in->slen) == 0;
}

static double
age_of(const struct nano_rule_state *st, const struct rin *in)
{
    uint64_t t = in->t_ok_ns ? in->t_ok_ns : st->created_ns;

    return st->now_ns > t ? (double)(st->now_ns - t) / 1e9 : 0.0;
}

#if defined(__GNUC__) || defined(__clang__)
#define RULE_VM_GOTO 1
#else
#define RULE_VM_GOTO 0
#endif

double
rules__vm_run(const struct nano_rule *r, const struct rprog *p,
              struct nano_rule_state *st, double *trace)
{
    double stack[NANO_RULE_MAX_STACK + 1];
    double *sp = stack;                 /* next free slot */
    const struct rins *base = r->code + p->off, *ip = base;
    const struct rin *in = st->in;
    const double *k = r->k;
    double x, y;

#if RULE_VM_GOTO
    static const void *const labels[RULE_OP__COUNT] = {
#define RULE_OP(name, pop, push, imm, fn, form, doc) &&op_##name,
#include "rules/ops.def"
#undef RULE_OP
    };
#define OP(name)  op_##name:
#define DISPATCH() goto *labels[ip->op]
#else
#define OP(name)  case RULE_OP_##name:
#define DISPATCH() continue
#endif
    /* Record the value just made, then go on with the next instruction. */
#define NEXT()                                                               \
    do {                                                                     \
        if (trace)                                                           \
            trace[ip - base] = sp[-1];                                       \
        ip++;                                                                \
        DISPATCH();                                                          \
    } while (0)
#define BIN(expr)                                                            \
    do {                                                                     \
        y = *--sp;                                                           \
        x = sp[-1];                                                          \
        sp[-1] = (expr);                                                     \
        NEXT();                                                              \
    } while (0)

#if RULE_VM_GOTO
    DISPATCH();
#else
    for (;;) switch (ip->op) {
#endif
    OP(CONST)    *sp++ = k[ip->a]; NEXT();
    OP(INPUT)    *sp++ = in[ip->a].num; NEXT();
    OP(TRUTH)    sp[-1] = truth(sp[-1]); NEXT();
    OP(STREQ)    *sp++ = str_eq(&in[ip->a], r->pool + ip->b); NEXT();
    OP(STRNE)    *sp++ = not3(str_eq(&in[ip->a], r->pool + ip->b)); NEXT();
    OP(NEG)      sp[-1] = -sp[-1]; NEXT();
    OP(ADD)      BIN(x + y);
    OP(SUB)      BIN(x - y);
    OP(MUL)      BIN(x * y);
    OP(DIV)      BIN(div0(x, y));
    OP(MOD)      BIN(mod0(x, y));
    OP(LT)       BIN(cmp3(x, y, RULE_OP_LT));
    OP(LE)       BIN(cmp3(x, y, RULE_OP_LE));
    OP(GT)       BIN(cmp3(x, y, RULE_OP_GT));
    OP(GE)       BIN(cmp3(x, y, RULE_OP_GE));
    OP(EQ)       BIN(cmp3(x, y, RULE_OP_EQ));
    OP(NE)       BIN(cmp3(x, y, RULE_OP_NE));
    OP(AND)      BIN(and3(x, y));
    OP(OR)       BIN(or3(x, y));
    OP(NOT)      sp[-1] = not3(sp[-1]); NEXT();
    OP(GT_IK)    x = in[ip->a].num;
                 *sp++ = isnan(x) ? NAN : x > k[ip->b];
                 NEXT();
    OP(LT_IK)    x = in[ip->a].num;
                 *sp++ = isnan(x) ? NAN : x < k[ip->b];
                 NEXT();
    OP(ABS)      sp[-1] = fabs(sp[-1]); NEXT();
    OP(MIN2)     BIN(min2(x, y));
    OP(MAX2)     BIN(max2(x, y));
    OP(W_AVG)    *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_AVG); NEXT();
    OP(W_MIN)    *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_MIN); NEXT();
    OP(W_MAX)    *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_MAX); NEXT();
    OP(W_SUM)    *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_SUM); NEXT();
    OP(W_COUNT)  *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_COUNT); NEXT();
    OP(W_STDDEV) *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_STDDEV); NEXT();
    OP(W_DELTA)  *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_DELTA); NEXT();
    OP(W_RATE)   *sp++ = rules__win_value(&st->win[ip->a], RULE_OP_W_RATE); NEXT();
    OP(EWMA)     *sp++ = st->ew[ip->a].init ? st->ew[ip->a].s : NAN; NEXT();
    OP(AGE)      *sp++ = age_of(st, &in[ip->a]); NEXT();
    OP(HOUR)     *sp++ = st->tm_hour; NEXT();
    OP(MINUTE)   *sp++ = st->tm_min; NEXT();
    OP(WEEKDAY)  *sp++ = st->tm_wday; NEXT();
    OP(RET)      return sp[-1];
#if !RULE_VM_GOTO
    default:     return NAN;
    }
#endif
#undef OP
#undef DISPATCH
#undef NEXT
#undef BIN
    (void)y;
    return NAN;
}
