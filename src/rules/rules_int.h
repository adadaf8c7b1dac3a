/* SPDX-License-Identifier: MIT
 *
 * rules_int.h - declarations shared by the rule engine's own files (lexer,
 * parser, compiler, VM, windows, templates, state machine).  Nothing outside
 * src/rules/ includes this.
 *
 * Pipeline: lex.c turns text into tokens; parse.c builds a small array of
 * syntax nodes (no pointers, indices only); compile.c resolves names, checks
 * types and emits instructions (ops.def) into one code array per service;
 * vm.c runs a program over a state; window.c keeps the windows; service.c is
 * the state machine and runs actions (tmpl.c formats their text).
 */
#ifndef NANO_RULES_RULES_INT_H
#define NANO_RULES_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

/* ---- lexer ----------------------------------------------------------------- */

enum rtok {
    T_EOF = 0, T_NUM, T_DUR, T_STR, T_IDENT,
    T_LP, T_RP, T_COMMA, T_DOT, T_LBRACE, T_RBRACE, T_COLON,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
    T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE,
    T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_HIGH, T_LOW,
    T_ERR,
};

struct rtoken {
    enum rtok t;
    uint32_t  pos, len;      /* bytes in the source */
    unsigned  line, col;     /* 1-based, of the first byte */
    double    num;           /* T_NUM */
    uint64_t  ns;            /* T_DUR */
};

struct rlex {
    const char   *src;       /* Borrows: the whole text (positions are into it) */
    uint32_t      pos, end;  /* scan [pos, end) */
    unsigned      line, col;
    struct rtoken tok;       /* current token */
    struct nano_diag *d;
    int           err;       /* first error (sticky) */
};

/* Start lexing src[start, end); line/col are those of src[start]. */
void rules__lex_init(struct rlex *lx, const char *src, uint32_t start,
                     uint32_t end, unsigned line, unsigned col,
                     struct nano_diag *d);
/* Advance to the next token (lx->tok).  On error tok.t is T_ERR and lx->err
 * holds NANO_EPARSE with d filled. */
void rules__lex_next(struct rlex *lx);
const char *rules__tok_name(enum rtok t);

/* ---- syntax nodes --------------------------------------------------------- */

enum rnode_kind {
    N_NUM, N_DUR, N_STR, N_BOOL, N_NAME, N_CALL, N_UN, N_BIN, N_OBJ, N_MEMBER,
};

struct rnode {
    uint8_t  kind;           /* enum rnode_kind */
    uint8_t  op;             /* N_UN, N_BIN: enum rtok of the operator */
    uint16_t nargs;          /* N_CALL: arguments; N_OBJ: members */
    uint32_t start, end;     /* source span [start, end) */
    unsigned line, col;      /* first byte of the node */
    unsigned oline, ocol;    /* N_BIN/N_UN: the operator */
    double   num;            /* N_NUM, N_BOOL (0/1) */
    uint64_t ns;             /* N_DUR */
    int32_t  a, b;           /* children: N_UN a; N_BIN a, b; N_CALL a = first
                                argument; N_OBJ a = first member; N_MEMBER
                                a = value, key is [start+?]: see kstart */
    int32_t  next;           /* next argument / member, -1 */
    uint32_t kstart, kend;   /* N_MEMBER: key text span (without quotes) */
    uint32_t nstart, nend;   /* N_NAME/N_CALL: the (dotted) name's span */
};

#define RPARSE_OBJECTS 0x1u   /* allow { "k": v } object literals (action args) */

struct rparse {
    struct rlex   lx;
    struct rnode *nodes;     /* Borrows: caller's array */
    unsigned      n, cap;
    unsigned      depth;
    unsigned      flags;
    int           err;
};

/* Parse one expression covering the whole input.  Returns NANO_OK and the
 * root node index in *root, or NANO_EPARSE with d filled. */
int rules__parse(struct rparse *p, int32_t *root);

/* ---- compiled form ---------------------------------------------------------- */

enum {
#define RULE_OP(name, pop, push, imm, fn, form, doc) RULE_OP_##name,
#include "rules/ops.def"
#undef RULE_OP
    RULE_OP__COUNT
};

enum rtype { TY_NUM = 1, TY_BOOL, TY_STR, TY_ANY };

struct rins {
    uint16_t op;
    uint16_t a;
    uint32_t b;
};

struct rspan {
    uint32_t start, end;     /* source span of the value the instruction makes */
};

struct rprog {
    uint32_t off, len;       /* instructions in r->code */
    uint8_t  type;           /* enum rtype of the result */
    uint8_t  text;           /* index into r->texts */
};

struct rtext {
    char       *src;         /* owned copy of the source text */
    const char *origin;      /* static: "rule", "clear", "action[1]"... */
};

struct rinput {
    char    *key;            /* topic (INPUT/PIN) or field name (FIELD) */
    char    *label;          /* as first written: "temperature" */
    char    *pin;            /* PIN: pin name */
    uint8_t  kind;           /* enum nano_rule_sym_kind */
    uint64_t interval_ns;
    uint16_t win_mask;       /* windows fed by this input */
    uint32_t ewma_mask;      /* ewma filters fed by this input */
};

struct rwindef {
    uint16_t input;
    uint64_t ns;
    uint32_t cap;
};

struct rewdef {
    uint16_t input;
    double   alpha;
};

struct ragewake {            /* age(x) compared with a constant: exact wake */
    uint16_t input;
    uint64_t ns;
};

enum ract_kind { A_GPIO_SET, A_GPIO_TOGGLE, A_PUBLISH, A_LOG, A_WEBHOOK };

struct ract {
    uint8_t  kind;
    uint8_t  level;          /* A_LOG: enum nano_log_level */
    uint8_t  text;           /* index into r->texts */
    uint16_t pin;            /* A_GPIO_*: index into r->pins */
    int32_t  prog;           /* A_GPIO_SET: level program */
    int32_t  tmpl;           /* A_PUBLISH topic, A_LOG text, A_WEBHOOK url */
    int32_t  body;           /* A_PUBLISH/A_WEBHOOK: r->jv index, -1 none */
};

enum rpart_kind { P_LIT, P_SEG, P_TOPIC, P_SERVICE, P_EXPR, P_INPUT };

struct rpart {
    uint8_t  kind;
    int8_t   prec;           /* P_EXPR/P_INPUT: decimals, -1 shortest */
    uint16_t idx;            /* P_SEG: segment 1..9; P_EXPR: prog; P_INPUT: input */
    uint32_t off, len;       /* P_LIT: text in r->pool */
};

struct rtmpl {
    uint32_t first, n;       /* parts in r->parts */
};

enum rjv_kind { J_EXPR, J_INPUT, J_TMPL, J_OBJ };

struct rjv {
    uint8_t  kind;
    int32_t  idx;            /* J_EXPR prog, J_INPUT input, J_TMPL template */
    uint32_t key_off, key_len;   /* member key in r->pool (object members) */
    int32_t  child;          /* J_OBJ: first member */
    int32_t  next;           /* next member */
};

struct nano_rule {
    char             *name;
    char             *filter;        /* topic services */
    struct rins      *code;
    struct rspan     *spans;
    uint32_t          n_code;
    double           *k;             /* constants */
    uint32_t          n_k;
    char             *pool;          /* string constants and literals */
    uint32_t          n_pool;
    struct rtext     *texts;
    unsigned          n_texts;
    struct rprog     *progs;
    unsigned          n_progs;
    struct rinput    *inputs;
    unsigned          n_inputs;
    char            **pins;          /* pin names used by actions */
    unsigned          n_pins;
    struct rwindef   *wins;
    unsigned          n_wins;
    struct rewdef    *ewmas;
    unsigned          n_ewmas;
    struct ragewake  *agewakes;
    unsigned          n_agewakes;
    struct ract      *acts;
    unsigned          n_acts;
    unsigned          act_first[3], act_n[3];   /* action, on_clear, safe */
    struct rtmpl     *tmpls;
    unsigned          n_tmpls;
    struct rpart     *parts;
    unsigned          n_parts;
    struct rjv       *jv;
    unsigned          n_jv;
    const char      **field_keys;    /* FIELD inputs' keys, for the scanner */
    uint16_t         *field_slot;
    unsigned          n_fields;
    int               cond;          /* program of the rule */
    int               clear;         /* program of clear, -1 */
    bool              uses_wall;     /* hour/minute/weekday anywhere */
    bool              wall_wakes;    /* ...in a condition: wake at boundaries */
    bool              uses_minute;   /* minute() in a condition */
    bool              age_generic;   /* age() used other than "age(x) > k" */
    bool              has_value_field, has_ts_field;
    uint64_t          for_ns, cooldown_ns, min_on_ns, min_off_ns;
    uint64_t          stale_after_ns;
    size_t            state_size;
    size_t            win_off, ring_off, ew_off, topic_off;  /* in a state */
};

enum rlist { L_ACTION = 0, L_ON_CLEAR = 1, L_SAFE = 2 };

/* ---- state ---------------------------------------------------------------- */

struct rin {
    double      num;         /* effective number: NaN when unknown */
    double      last;        /* last number seen, whatever its quality */
    const char *s;           /* text view (STR/JSON), Borrows the message */
    uint32_t    slen;
    uint8_t     vtype;       /* enum nano_vtype of the last value */
    uint8_t     quality;     /* enum nano_quality */
    uint8_t     seen;
    uint8_t     escaped;     /* s is raw JSON string text (escapes inside) */
    uint64_t    t_ns;        /* last reading, any quality */
    uint64_t    t_ok_ns;     /* last good reading (0: none) */
};

struct rsample {
    uint64_t t;
    double   v;
};

struct rwin {
    struct rsample *ring;    /* cap entries, inside the state's block */
    uint32_t cap, head, n;
    uint32_t evictions;      /* since sums were last recomputed */
    bool     mm_ok;          /* min/max valid */
    double   shift, sum, sumsq, min, max;
    uint64_t overflow;       /* readings dropped because the ring was full */
};

struct rew {
    double s;
    bool   init;
};

#define RULE_MAX_SEGS 9

struct nano_rule_state {
    const struct nano_rule *r;
    void       *udata;
    const char *topic;           /* topic services: inside this block */
    uint16_t    seg_off[RULE_MAX_SEGS], seg_len[RULE_MAX_SEGS];
    uint8_t     n_seg;
    uint64_t    created_ns;
    uint64_t    now_ns;          /* time of the evaluation in progress */
    int64_t     wall_ns;         /* wall clock of the step (uses_wall) */
    int8_t      tm_hour, tm_min, tm_wday;
    uint64_t    tm_sec_ns;       /* ns into the current minute */
    /* machine */
    uint8_t     phase;           /* enum nano_rule_phase */
    uint8_t     pend_from;       /* phase to return to when pending ends */
    bool        safe_mode;
    bool        fired_ever, cleared_ever;
    bool        hold_clear;      /* active, clear holds, waiting for min_on */
    uint64_t    since_ns, last_fire_ns, last_clear_ns, wake_ns;
    uint64_t    t_msg_ok_ns;     /* topic services: last good message */
    double      last_result;
    uint64_t    evals, fires, clears, safes, unknowns;
    uint64_t    actions_ok, actions_failed;
    int         last_action_rc;
    char        last_action[64];
    struct rin *in;
    struct rwin *win;
    struct rew *ew;
};

/* vm.c: run program p over st (windows already advanced).  trace, when not
 * NULL, receives the value each instruction produced (p->len entries). */
double rules__vm_run(const struct nano_rule *r, const struct rprog *p,
                     struct nano_rule_state *st, double *trace);
/* Compile-time folding: apply a pure operator to constants. */
double rules__vm_fold(unsigned op, double x, double y);
extern const char *const rules__op_names[RULE_OP__COUNT];
bool rules__op_is_cond(unsigned op);

/* window.c */
void   rules__win_push(struct rwin *w, uint64_t t, double v);
void   rules__win_advance(struct rwin *w, uint64_t win_ns, uint64_t now);
double rules__win_value(struct rwin *w, unsigned op);
void   rules__win_reset(struct rwin *w);

/* jscan.c: compare a JSON string body (escapes inside) with plain text. */
bool rules__json_str_eq(const char *p, size_t len, const char *lit,
                        size_t lit_len);
/* Copy a JSON string body unescaped into out (cut at cap-1).  Returns bytes. */
size_t rules__json_unescape(const char *p, size_t len, char *out, size_t cap);

/* tmpl.c: a bounded output buffer that never allocates. */
struct rout {
    char  *p;
    size_t len, cap;
    bool   overflow;
};
void rules__out_put(struct rout *o, const char *s, size_t n);
void rules__out_putc(struct rout *o, char c);
void rules__out_num(struct rout *o, double v, int prec, bool json);
void rules__out_json_str(struct rout *o, const char *s, size_t n, bool escaped);
/* Format template t into o (text) for st. */
void rules__tmpl_format(struct nano_rule_state *st, int t, struct rout *o);
/* Format payload jv: *v_out is the value to publish (text views point into
 * o).  rules__jv_json writes it as JSON text (webhook bodies). */
void rules__jv_format(struct nano_rule_state *st, int jv, struct rout *o,
                      struct nano_value *v_out);
void rules__jv_json(struct nano_rule_state *st, int jv, struct rout *o);

/* service.c */
void rules__advance(struct nano_rule_state *st, uint64_t now);

#endif
