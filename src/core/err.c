/* SPDX-License-Identifier: MIT
 *
 * err.c - error names and texts, diagnostics, and "did you mean" suggestions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

struct err_row {
    int         code;
    const char *name;
    const char *text;
};

static const struct err_row nano_errs[] = {
#define NANO_ERR(name, value, text) { value, #name, text },
#include "core/err.def"
#undef NANO_ERR
};

static const struct err_row *
find_nano_err(int rc)
{
    for (size_t i = 0; i < NANO_ARRAY_LEN(nano_errs); i++)
        if (nano_errs[i].code == rc)
            return &nano_errs[i];
    return NULL;
}

const char *
nano_strerror(int rc)
{
    const struct err_row *row;

    if (rc == NANO_OK)
        return "success";
    row = find_nano_err(rc);
    if (row)
        return row->text;
    if (rc < 0 && rc > -4096)
        return strerror(-rc);
    return "unknown error";
}

const char *
nano_errname(int rc)
{
    const struct err_row *row;

    if (rc == NANO_OK)
        return "OK";
    row = find_nano_err(rc);
    if (row)
        return row->name;
    if (rc < 0 && rc > -4096) {
        const char *n = strerrorname_np(-rc);
        return n ? n : "EUNKNOWN";
    }
    return "EUNKNOWN";
}

int
nano_diag_set(struct nano_diag *d, int rc, unsigned line, unsigned col,
              const char *fmt, ...)
{
    va_list ap;

    if (!d)
        return rc;
    d->line = line;
    d->col = col;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return rc;
}

char *
nano_diag_format(const struct nano_diag *d, char *out, size_t cap)
{
    int n = 0;

    if (cap == 0)
        return out;
    out[0] = '\0';
    if (d->origin && d->origin[0])
        n = snprintf(out, cap, "%s:", d->origin);
    if (n >= 0 && (size_t)n < cap && d->line)
        n += snprintf(out + n, cap - (size_t)n, "%u:%u:", d->line, d->col);
    if (n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "%s%s", n ? " " : "", d->msg);
    return out;
}

unsigned
nano_edit_distance(const char *a, const char *b, unsigned max)
{
    /* Optimal string alignment distance (Levenshtein plus adjacent
     * transposition, so "smi" is one edit from "sim"), three rolling rows,
     * with an early exit once a whole row exceeds max.  Names are short;
     * longer than 64 bytes are not suggested. */
    unsigned rows[3][65];
    unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
    size_t la = strlen(a), lb = strlen(b);

    if (la > 64 || lb > 64)
        return max + 1;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned row_min;
        cur[0] = (unsigned)i;
        row_min = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > max)
            return max + 1;
        unsigned *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > max ? max + 1 : prev[lb];
}

const char *
nano_suggest(const char *s, const char *const *names)
{
    /* Allow about one edit per three characters, at least one, at most three:
     * "intervall" -> "interval", but "x" does not suggest "bus". */
    size_t len = strlen(s);
    unsigned limit = (unsigned)(len / 3);
    const char *best = NULL;
    unsigned best_d;

    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    best_d = limit + 1;
    for (; names && *names; names++) {
        unsigned dist = nano_edit_distance(s, *names, limit);
        if (dist < best_d) {
            best_d = dist;
            best = *names;
        }
    }
    return best;
}
