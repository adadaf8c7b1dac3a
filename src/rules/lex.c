/* SPDX-License-Identifier: MIT
 *
 * lex.c - tokens of the rule language.
 *
 * Works on a window [start, end) of a text so that expressions embedded in
 * action templates ("{temperature}") are lexed in place and every error
 * points at the right line and column of the original text.  No allocation:
 * a token is a span plus its decoded number or duration.
 *
 * Numbers are decimal with an optional fraction and exponent (75, 7.5, 1e3);
 * a number followed directly by a unit is a duration (500ms, 30s, 1h30m,
 * parsed by nano_duration_parse).  Names are [A-Za-z_][A-Za-z0-9_]*, or any
 * text in backquotes (`boiler-1`) for instances whose names hold '-'.
 * '#' starts a comment to the end of the line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "rules/rules_int.h"

static const char *const tok_names[] = {
    [T_EOF] = "the end of the text", [T_NUM] = "a number",
    [T_DUR] = "a duration", [T_STR] = "a string", [T_IDENT] = "a name",
    [T_LP] = "'('", [T_RP] = "')'", [T_COMMA] = "','", [T_DOT] = "'.'",
    [T_LBRACE] = "'{'", [T_RBRACE] = "'}'", [T_COLON] = "':'",
    [T_PLUS] = "'+'", [T_MINUS] = "'-'", [T_STAR] = "'*'", [T_SLASH] = "'/'",
    [T_PERCENT] = "'%'", [T_LT] = "'<'", [T_LE] = "'<='", [T_GT] = "'>'",
    [T_GE] = "'>='", [T_EQ] = "'=='", [T_NE] = "'!='", [T_AND] = "'and'",
    [T_OR] = "'or'", [T_NOT] = "'not'", [T_TRUE] = "'true'",
    [T_FALSE] = "'false'", [T_HIGH] = "'HIGH'", [T_LOW] = "'LOW'",
    [T_ERR] = "an error",
};

const char *
rules__tok_name(enum rtok t)
{
    return (unsigned)t < sizeof tok_names / sizeof tok_names[0] && tok_names[t]
           ? tok_names[t] : "?";
}

void
rules__lex_init(struct rlex *lx, const char *src, uint32_t start, uint32_t end,
                unsigned line, unsigned col, struct nano_diag *d)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->pos = start;
    lx->end = end;
    lx->line = line;
    lx->col = col;
    lx->d = d;
}

static int
peekc(const struct rlex *lx, uint32_t off)
{
    return lx->pos + off < lx->end ? (unsigned char)lx->src[lx->pos + off] : -1;
}

static void
adv(struct rlex *lx, uint32_t n)
{
    while (n-- && lx->pos < lx->end) {
        unsigned char c = (unsigned char)lx->src[lx->pos++];
        if (c == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;               /* columns count characters, not bytes */
        }
    }
}

static bool
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void
fail(struct rlex *lx, const char *fmt, const char *a)
{
    lx->tok.t = T_ERR;
    if (!lx->err)
        lx->err = nano_diag_set(lx->d, NANO_EPARSE, lx->tok.line, lx->tok.col,
                                fmt, a);
}

/* Text of the current token, for messages (cut to fit). */
static const char *
tok_text(const struct rlex *lx, char *buf, size_t cap)
{
    size_t n = lx->tok.len < cap - 1 ? lx->tok.len : cap - 1;

    memcpy(buf, lx->src + lx->tok.pos, n);
    buf[n] = '\0';
    return buf;
}

static void
lex_number(struct rlex *lx)
{
    uint32_t p = lx->pos;
    bool unit = false, bad = false;
    char buf[64];
    size_t n;

    while (p < lx->end && is_digit((unsigned char)lx->src[p]))
        p++;
    if (p < lx->end && lx->src[p] == '.') {
        p++;
        while (p < lx->end && is_digit((unsigned char)lx->src[p]))
            p++;
    }
    if (p < lx->end && (lx->src[p] == 'e' || lx->src[p] == 'E')) {
        uint32_t q = p + 1;
        if (q < lx->end && (lx->src[q] == '+' || lx->src[q] == '-'))
            q++;
        if (q < lx->end && is_digit((unsigned char)lx->src[q])) {
            p = q;
            while (p < lx->end && is_digit((unsigned char)lx->src[p]))
                p++;
        }
    }
    /* A unit, possibly followed by more number+unit terms: 1h30m. */
    while (p < lx->end) {
        unsigned char c = (unsigned char)lx->src[p];
        if (is_alpha(c) || c == 0xC2 || c == 0xB5) {
            unit = true;
            p++;
        } else if (unit && (is_digit(c) || c == '.')) {
            p++;
        } else if (!unit && (c == '.' || is_digit(c))) {
            bad = true;              /* 7.5.1 */
            p++;
        } else {
            break;
        }
    }
    lx->tok.len = p - lx->pos;
    n = lx->tok.len;
    if (bad || n >= sizeof buf) {
        fail(lx, "malformed number '%s'", tok_text(lx, buf, sizeof buf));
        adv(lx, n);
        return;
    }
    memcpy(buf, lx->src + lx->pos, n);
    buf[n] = '\0';
    if (unit) {
        /* "1e3s" is not a duration users write; keep units plain. */
        if (nano_duration_parse(buf, &lx->tok.ns) != NANO_OK) {
            fail(lx, "malformed duration '%s'; write a number and a unit: "
                 "ms, s, m, h or d, such as 30s", buf);
            adv(lx, n);
            return;
        }
        lx->tok.t = T_DUR;
    } else {
        lx->tok.num = strtod(buf, NULL);
        if (!isfinite(lx->tok.num)) {
            fail(lx, "number '%s' is out of range", buf);
            adv(lx, n);
            return;
        }
        lx->tok.t = T_NUM;
    }
    adv(lx, n);
}

static void
lex_string(struct rlex *lx)
{
    uint32_t p = lx->pos + 1;

    while (p < lx->end && lx->src[p] != '"') {
        if (lx->src[p] == '\\') {
            if (p + 1 >= lx->end)
                break;
            char e = lx->src[p + 1];
            if (!strchr("\"\\/nrtbf{}", e)) {
                char what[4] = { '\\', e, 0, 0 };
                if ((unsigned char)e < 0x20 || (unsigned char)e >= 0x7f)
                    what[1] = '?';
                lx->tok.len = p - lx->pos;
                /* point at the backslash */
                adv(lx, p - lx->pos);
                lx->tok.line = lx->line;
                lx->tok.col = lx->col;
                fail(lx, "unknown escape '%s' in a string", what);
                return;
            }
            p += 2;
            continue;
        }
        if (lx->src[p] == '\n')
            break;
        p++;
    }
    if (p >= lx->end || lx->src[p] != '"') {
        lx->tok.len = p - lx->pos;
        fail(lx, "unterminated string%s", "");
        adv(lx, lx->tok.len);
        return;
    }
    lx->tok.t = T_STR;
    lx->tok.len = p + 1 - lx->pos;
    adv(lx, lx->tok.len);
}

static const struct { const char *w; enum rtok t; } keywords[] = {
    { "and", T_AND }, { "or", T_OR }, { "not", T_NOT },
    { "true", T_TRUE }, { "false", T_FALSE },
    { "HIGH", T_HIGH }, { "LOW", T_LOW },
};

void
rules__lex_next(struct rlex *lx)
{
    int c, c1;
    char buf[8];

    if (lx->err) {
        lx->tok.t = T_ERR;
        return;
    }
    /* Blanks and comments. */
    for (;;) {
        c = peekc(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            adv(lx, 1);
        } else if (c == '#') {
            while ((c = peekc(lx, 0)) != -1 && c != '\n')
                adv(lx, 1);
        } else {
            break;
        }
    }
    memset(&lx->tok, 0, sizeof lx->tok);
    lx->tok.pos = lx->pos;
    lx->tok.line = lx->line;
    lx->tok.col = lx->col;
    if (c == -1) {
        lx->tok.t = T_EOF;
        return;
    }
    c1 = peekc(lx, 1);
    if (is_digit(c) || (c == '.' && is_digit(c1))) {
        lex_number(lx);
        return;
    }
    if (is_alpha(c)) {
        uint32_t p = lx->pos;
        while (p < lx->end && (is_alpha((unsigned char)lx->src[p]) ||
                               is_digit((unsigned char)lx->src[p])))
            p++;
        lx->tok.len = p - lx->pos;
        lx->tok.t = T_IDENT;
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
            if (strlen(keywords[i].w) == lx->tok.len &&
                memcmp(keywords[i].w, lx->src + lx->pos, lx->tok.len) == 0)
                lx->tok.t = keywords[i].t;
        adv(lx, lx->tok.len);
        return;
    }
    if (c == '`') {
        uint32_t p = lx->pos + 1;
        while (p < lx->end && lx->src[p] != '`' && lx->src[p] != '\n')
            p++;
        if (p >= lx->end || lx->src[p] != '`' || p == lx->pos + 1) {
            lx->tok.len = 1;
            fail(lx, "%s", p == lx->pos + 1 ? "empty quoted name ``"
                                            : "unterminated quoted name");
            adv(lx, 1);
            return;
        }
        lx->tok.t = T_IDENT;
        lx->tok.len = p + 1 - lx->pos;
        adv(lx, lx->tok.len);
        return;
    }
    if (c == '"') {
        lex_string(lx);
        return;
    }
    lx->tok.len = 1;
    switch (c) {
    case '(': lx->tok.t = T_LP; break;
    case ')': lx->tok.t = T_RP; break;
    case ',': lx->tok.t = T_COMMA; break;
    case '.': lx->tok.t = T_DOT; break;
    case '{': lx->tok.t = T_LBRACE; break;
    case '}': lx->tok.t = T_RBRACE; break;
    case ':': lx->tok.t = T_COLON; break;
    case '+': lx->tok.t = T_PLUS; break;
    case '-': lx->tok.t = T_MINUS; break;
    case '*': lx->tok.t = T_STAR; break;
    case '/': lx->tok.t = T_SLASH; break;
    case '%': lx->tok.t = T_PERCENT; break;
    case '<':
        lx->tok.t = c1 == '=' ? T_LE : T_LT;
        lx->tok.len = c1 == '=' ? 2 : 1;
        break;
    case '>':
        lx->tok.t = c1 == '=' ? T_GE : T_GT;
        lx->tok.len = c1 == '=' ? 2 : 1;
        break;
    case '=':
        if (c1 != '=') {
            fail(lx, "unexpected '='; %s", "write '==' to compare");
            adv(lx, 1);
            return;
        }
        lx->tok.t = T_EQ;
        lx->tok.len = 2;
        break;
    case '!':
        lx->tok.t = c1 == '=' ? T_NE : T_NOT;
        lx->tok.len = c1 == '=' ? 2 : 1;
        break;
    case '&':
        if (c1 != '&') {
            fail(lx, "unexpected '&'; %s", "write 'and' (or '&&')");
            adv(lx, 1);
            return;
        }
        lx->tok.t = T_AND;
        lx->tok.len = 2;
        break;
    case '|':
        if (c1 != '|') {
            fail(lx, "unexpected '|'; %s", "write 'or' (or '||')");
            adv(lx, 1);
            return;
        }
        lx->tok.t = T_OR;
        lx->tok.len = 2;
        break;
    case '\'':
        fail(lx, "strings use double quotes: %s", "\"text\"");
        adv(lx, 1);
        return;
    default:
        if (c >= 0x21 && c < 0x7f) {
            buf[0] = (char)c;
            buf[1] = '\0';
            fail(lx, "unexpected character '%s'", buf);
        } else {
            snprintf(buf, sizeof buf, "0x%02x", (unsigned)c);
            fail(lx, "unexpected byte %s", buf);
        }
        adv(lx, 1);
        return;
    }
    adv(lx, lx->tok.len);
}
