/* SPDX-License-Identifier: MIT
 *
 * parse.c - recursive-descent parser: tokens to an array of syntax nodes.
 *
 * Grammar (docs/rules.md has the EBNF users read):
 *
 *   expr    = or
 *   or      = and { ("or" | "||") and }
 *   and     = not { ("and" | "&&") not }
 *   not     = ("not" | "!") not | cmp
 *   cmp     = sum [ ("<"|"<="|">"|">="|"=="|"!=") sum ]     (no chaining)
 *   sum     = term { ("+"|"-") term }
 *   term    = unary { ("*"|"/"|"%") unary }
 *   unary   = "-" unary | primary
 *   primary = number | duration | string | "true" | "false" | "HIGH" | "LOW"
 *           | name [ "(" [ expr { "," expr } ] ")" ]
 *           | "(" expr ")" | object            (object: action arguments only)
 *   name    = ident { "." ident }
 *   object  = "{" [ member { "," member } ] "}"
 *   member  = (string | ident) ":" expr
 *
 * Nodes live in a caller-supplied array (bounded: NANO_RULE_MAX_NODES) and
 * refer to each other by index, so a parse allocates nothing.  Each node
 * keeps its source span, which the compiler copies into the instruction
 * spans that `explain` prints.  Nesting is bounded (NANO_RULE_MAX_DEPTH) so
 * hostile input cannot exhaust the C stack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

static int parse_expr(struct rparse *p, int32_t *out);

static void
next(struct rparse *p)
{
    rules__lex_next(&p->lx);
}

static int perr(struct rparse *p, unsigned line, unsigned col,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
perr(struct rparse *p, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    if (p->lx.err)
        return p->lx.err;
    if (!p->err) {
        p->err = NANO_EPARSE;
        if (p->lx.d) {
            p->lx.d->line = line;
            p->lx.d->col = col;
            va_start(ap, fmt);
            vsnprintf(p->lx.d->msg, sizeof p->lx.d->msg, fmt, ap);
            va_end(ap);
        }
    }
    return p->err;
}

/* Source text of the current token, quoted for messages. */
static const char *
tok_quoted(struct rparse *p, char *buf, size_t cap)
{
    const struct rtoken *t = &p->lx.tok;

    if (t->t == T_EOF)
        return "the end of the text";
    snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len),
             p->lx.src + t->pos);
    return buf;
}

static int
new_node(struct rparse *p, enum rnode_kind kind, int32_t *out)
{
    struct rnode *n;

    if (p->n >= p->cap)
        return perr(p, p->lx.tok.line, p->lx.tok.col,
                    "expression too long (more than %d terms)",
                    NANO_RULE_MAX_NODES);
    n = &p->nodes[p->n];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->a = n->b = n->next = -1;
    n->start = p->lx.tok.pos;
    n->end = p->lx.tok.pos + p->lx.tok.len;
    n->line = p->lx.tok.line;
    n->col = p->lx.tok.col;
    *out = (int32_t)p->n++;
    return NANO_OK;
}

static int
enter(struct rparse *p)
{
    if (++p->depth > NANO_RULE_MAX_DEPTH)
        return perr(p, p->lx.tok.line, p->lx.tok.col,
                    "expression nested too deeply (more than %d levels)",
                    NANO_RULE_MAX_DEPTH);
    return NANO_OK;
}

static int
parse_name(struct rparse *p, int32_t *out)
{
    struct rnode *n;
    int32_t id;
    int rc;

    if ((rc = new_node(p, N_NAME, &id)) != NANO_OK)
        return rc;
    n = &p->nodes[id];
    n->nstart = p->lx.tok.pos;
    n->nend = p->lx.tok.pos + p->lx.tok.len;
    next(p);
    while (p->lx.tok.t == T_DOT) {
        next(p);
        if (p->lx.tok.t != T_IDENT) {
            char b[64];
            return perr(p, p->lx.tok.line, p->lx.tok.col,
                        "expected a name after '.', found %s",
                        tok_quoted(p, b, sizeof b));
        }
        n->nend = p->lx.tok.pos + p->lx.tok.len;
        next(p);
    }
    n->end = n->nend;
    if (p->lx.tok.t == T_LP) {
        int32_t prev = -1, arg;

        n->kind = N_CALL;
        next(p);
        if ((rc = enter(p)) != NANO_OK)
            return rc;
        if (p->lx.tok.t != T_RP) {
            for (;;) {
                if ((rc = parse_expr(p, &arg)) != NANO_OK)
                    return rc;
                n = &p->nodes[id];
                if (prev < 0)
                    n->a = arg;
                else
                    p->nodes[prev].next = arg;
                prev = arg;
                n->nargs++;
                if (p->lx.tok.t == T_COMMA) {
                    next(p);
                    continue;
                }
                if (p->lx.tok.t == T_RP)
                    break;
                if (p->lx.tok.t == T_ERR)
                    return p->lx.err;
                char b[64];
                return perr(p, p->lx.tok.line, p->lx.tok.col,
                            "expected ',' or ')' after an argument, found %s",
                            tok_quoted(p, b, sizeof b));
            }
        }
        p->depth--;
        n = &p->nodes[id];
        n->end = p->lx.tok.pos + p->lx.tok.len;
        next(p);
    }
    *out = id;
    return NANO_OK;
}

static int
parse_object(struct rparse *p, int32_t *out)
{
    int32_t id, prev = -1, mem, val;
    int rc;
    char b[64];

    if ((rc = new_node(p, N_OBJ, &id)) != NANO_OK)
        return rc;
    if ((rc = enter(p)) != NANO_OK)
        return rc;
    next(p);
    if (p->lx.tok.t != T_RBRACE) {
        for (;;) {
            if (p->lx.tok.t != T_STR && p->lx.tok.t != T_IDENT)
                return perr(p, p->lx.tok.line, p->lx.tok.col,
                            "expected a key (a string or a name) in the "
                            "object, found %s",
                            tok_quoted(p, b, sizeof b));
            if ((rc = new_node(p, N_MEMBER, &mem)) != NANO_OK)
                return rc;
            if (p->lx.tok.t == T_STR) {
                p->nodes[mem].kstart = p->lx.tok.pos + 1;
                p->nodes[mem].kend = p->lx.tok.pos + p->lx.tok.len - 1;
            } else {
                p->nodes[mem].kstart = p->lx.tok.pos;
                p->nodes[mem].kend = p->lx.tok.pos + p->lx.tok.len;
            }
            next(p);
            if (p->lx.tok.t != T_COLON)
                return perr(p, p->lx.tok.line, p->lx.tok.col,
                            "expected ':' after the key, found %s",
                            tok_quoted(p, b, sizeof b));
            next(p);
            if ((rc = parse_expr(p, &val)) != NANO_OK)
                return rc;
            p->nodes[mem].a = val;
            p->nodes[mem].end = p->nodes[val].end;
            if (prev < 0)
                p->nodes[id].a = mem;
            else
                p->nodes[prev].next = mem;
            prev = mem;
            p->nodes[id].nargs++;
            if (p->lx.tok.t == T_COMMA) {
                next(p);
                continue;
            }
            if (p->lx.tok.t == T_RBRACE)
                break;
            if (p->lx.tok.t == T_ERR)
                return p->lx.err;
            return perr(p, p->lx.tok.line, p->lx.tok.col,
                        "expected ',' or '}' in the object, found %s",
                        tok_quoted(p, b, sizeof b));
        }
    }
    p->depth--;
    p->nodes[id].end = p->lx.tok.pos + p->lx.tok.len;
    next(p);
    *out = id;
    return NANO_OK;
}

static int
parse_primary(struct rparse *p, int32_t *out)
{
    struct rtoken *t = &p->lx.tok;
    int32_t id;
    int rc;

    switch (t->t) {
    case T_NUM:
    case T_DUR:
    case T_STR:
    case T_TRUE:
    case T_FALSE:
    case T_HIGH:
    case T_LOW:
        if ((rc = new_node(p, t->t == T_NUM ? N_NUM : t->t == T_DUR ? N_DUR :
                              t->t == T_STR ? N_STR : N_BOOL, &id)) != NANO_OK)
            return rc;
        p->nodes[id].num = t->t == T_NUM ? t->num :
                           (t->t == T_TRUE || t->t == T_HIGH) ? 1.0 : 0.0;
        p->nodes[id].ns = t->ns;
        next(p);
        *out = id;
        return NANO_OK;
    case T_IDENT:
        return parse_name(p, out);
    case T_LP: {
        unsigned line = t->line, col = t->col;
        uint32_t start = t->pos;
        if ((rc = enter(p)) != NANO_OK)
            return rc;
        next(p);
        if ((rc = parse_expr(p, &id)) != NANO_OK)
            return rc;
        if (p->lx.tok.t != T_RP) {
            if (p->lx.tok.t == T_ERR)
                return p->lx.err;
            return perr(p, p->lx.tok.line, p->lx.tok.col,
                        "expected ')' to close the '(' at %u:%u", line, col);
        }
        p->depth--;
        /* The parenthesised node's span includes the parentheses. */
        p->nodes[id].start = start;
        p->nodes[id].line = line;
        p->nodes[id].col = col;
        p->nodes[id].end = p->lx.tok.pos + p->lx.tok.len;
        next(p);
        *out = id;
        return NANO_OK;
    }
    case T_LBRACE:
        if (p->flags & RPARSE_OBJECTS)
            return parse_object(p, out);
        return perr(p, t->line, t->col, "objects such as {\"value\": x} are "
                    "only allowed in action arguments");
    case T_ERR:
        return p->lx.err;
    default:
        return perr(p, t->line, t->col, "expected an expression");
    }
}

/* A prefix operator (`-x`, `not x`): op applied to what `self` parses
 * (itself, so `- - x` and `not not x` nest), or else whatever `next_level`
 * parses when the current token is not op. */
typedef int parse_fn(struct rparse *p, int32_t *out);

static int
parse_prefix(struct rparse *p, enum rtok op, parse_fn *self,
             parse_fn *next_level, int32_t *out)
{
    int32_t id, a;
    int rc;

    if (p->lx.tok.t != op)
        return next_level(p, out);
    if ((rc = new_node(p, N_UN, &id)) != NANO_OK)
        return rc;
    p->nodes[id].op = op;
    p->nodes[id].oline = p->lx.tok.line;
    p->nodes[id].ocol = p->lx.tok.col;
    if ((rc = enter(p)) != NANO_OK)
        return rc;
    next(p);
    if ((rc = self(p, &a)) != NANO_OK)
        return rc;
    p->depth--;
    p->nodes[id].a = a;
    p->nodes[id].end = p->nodes[a].end;
    *out = id;
    return NANO_OK;
}

static int
parse_unary(struct rparse *p, int32_t *out)
{
    return parse_prefix(p, T_MINUS, parse_unary, parse_primary, out);
}

static int
binary(struct rparse *p, int32_t lhs, enum rtok op, unsigned oline,
       unsigned ocol, int32_t rhs, int32_t *out)
{
    int32_t id;
    int rc;

    if ((rc = new_node(p, N_BIN, &id)) != NANO_OK)
        return rc;
    p->nodes[id].op = (uint8_t)op;
    p->nodes[id].a = lhs;
    p->nodes[id].b = rhs;
    p->nodes[id].start = p->nodes[lhs].start;
    p->nodes[id].line = p->nodes[lhs].line;
    p->nodes[id].col = p->nodes[lhs].col;
    p->nodes[id].end = p->nodes[rhs].end;
    p->nodes[id].oline = oline;
    p->nodes[id].ocol = ocol;
    *out = id;
    return NANO_OK;
}

typedef int level_fn(struct rparse *p, int32_t *out);

/* One left-associative level: sub { op sub }. */
static int
left_assoc(struct rparse *p, level_fn *sub, const enum rtok *ops, size_t nops,
           int32_t *out)
{
    int32_t lhs, rhs;
    int rc;

    if ((rc = sub(p, &lhs)) != NANO_OK)
        return rc;
    for (;;) {
        enum rtok op = p->lx.tok.t;
        unsigned oline = p->lx.tok.line, ocol = p->lx.tok.col;
        size_t i;

        for (i = 0; i < nops && ops[i] != op; i++)
            ;
        if (i == nops)
            break;
        next(p);
        if ((rc = sub(p, &rhs)) != NANO_OK)
            return rc;
        if ((rc = binary(p, lhs, op, oline, ocol, rhs, &lhs)) != NANO_OK)
            return rc;
    }
    *out = lhs;
    return NANO_OK;
}

static int
parse_term(struct rparse *p, int32_t *out)
{
    static const enum rtok ops[] = { T_STAR, T_SLASH, T_PERCENT };
    return left_assoc(p, parse_unary, ops, 3, out);
}

static int
parse_sum(struct rparse *p, int32_t *out)
{
    static const enum rtok ops[] = { T_PLUS, T_MINUS };
    return left_assoc(p, parse_term, ops, 2, out);
}

static bool
is_cmp(enum rtok t)
{
    return t == T_LT || t == T_LE || t == T_GT || t == T_GE || t == T_EQ ||
           t == T_NE;
}

static int
parse_cmp(struct rparse *p, int32_t *out)
{
    int32_t lhs, rhs;
    enum rtok op;
    unsigned oline, ocol;
    int rc;

    if ((rc = parse_sum(p, &lhs)) != NANO_OK)
        return rc;
    op = p->lx.tok.t;
    if (!is_cmp(op)) {
        *out = lhs;
        return NANO_OK;
    }
    oline = p->lx.tok.line;
    ocol = p->lx.tok.col;
    next(p);
    if ((rc = parse_sum(p, &rhs)) != NANO_OK)
        return rc;
    if (is_cmp(p->lx.tok.t))
        return perr(p, p->lx.tok.line, p->lx.tok.col,
                    "comparisons cannot be chained; write "
                    "'a < b and b < c'");
    return binary(p, lhs, op, oline, ocol, rhs, out);
}

static int
parse_not(struct rparse *p, int32_t *out)
{
    return parse_prefix(p, T_NOT, parse_not, parse_cmp, out);
}

static int
parse_and(struct rparse *p, int32_t *out)
{
    static const enum rtok ops[] = { T_AND };
    return left_assoc(p, parse_not, ops, 1, out);
}

static int
parse_expr(struct rparse *p, int32_t *out)
{
    static const enum rtok ops[] = { T_OR };
    int rc;

    if ((rc = enter(p)) != NANO_OK)
        return rc;
    rc = left_assoc(p, parse_and, ops, 1, out);
    p->depth--;
    return rc;
}

int
rules__parse(struct rparse *p, int32_t *root)
{
    char b[64];
    int rc;

    p->n = 0;
    p->depth = 0;
    p->err = 0;
    next(p);
    if (p->lx.tok.t == T_EOF)
        return perr(p, p->lx.tok.line, p->lx.tok.col,
                    "expected an expression");
    if ((rc = parse_expr(p, root)) != NANO_OK)
        return rc;
    if (p->lx.tok.t == T_ERR)
        return p->lx.err;
    if (p->lx.tok.t != T_EOF)
        return perr(p, p->lx.tok.line, p->lx.tok.col, "unexpected %s; "
                    "expected an operator such as 'and' or '>'",
                    tok_quoted(p, b, sizeof b));
    return NANO_OK;
}
