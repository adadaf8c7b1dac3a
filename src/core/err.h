/* SPDX-License-Identifier: MIT
 *
 * err.h - error codes and diagnostics.
 *
 * Every Nano function that can fail returns int: NANO_OK (0) or a negative
 * code.  Where errno has a fitting code we use -errno (so strerror still
 * helps); codes errno cannot express live in err.def.  nano_strerror() and
 * nano_errname() cover both ranges.
 *
 * Text inputs (config, rules, API bodies) also fill a struct nano_diag: where
 * (origin, line, column) and a human sentence.  The same struct becomes a log
 * line, a JSON error body and nanoctl's gcc-style message.
 */
#ifndef NANO_CORE_ERR_H
#define NANO_CORE_ERR_H

#include <errno.h>
#include <stddef.h>

#define NANO_OK 0

enum nano_err {
#define NANO_ERR(name, value, text) NANO_##name = (value),
#include "core/err.def"
#undef NANO_ERR
};

/* Returns a static string describing rc (negative errno or NANO_E*). */
const char *nano_strerror(int rc);

/* Returns a static symbolic name such as "ENOENT" or "EPARSE". */
const char *nano_errname(int rc);

#define NANO_DIAG_MSG_MAX 256

struct nano_diag {
    const char *origin;     /* Borrows: file name, "api", "rule"; must outlive diag */
    unsigned    line, col;  /* 1-based; 0 = not applicable */
    char        msg[NANO_DIAG_MSG_MAX]; /* one sentence, no trailing newline */
};

/* Fill d (line/col may be 0).  Always returns rc, so callers can write
 * `return nano_diag_set(d, NANO_EPARSE, line, col, "expected %s", what);`.
 * d may be NULL (the message is dropped). */
int nano_diag_set(struct nano_diag *d, int rc, unsigned line, unsigned col,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Format "origin:line:col: msg" (parts omitted when absent) into out.
 * Returns out. */
char *nano_diag_format(const struct nano_diag *d, char *out, size_t cap);

/* Levenshtein distance, capped at max+1 (cheap early exit).  Used to suggest
 * the nearest known name for an unknown one. */
unsigned nano_edit_distance(const char *a, const char *b, unsigned max);

/* Return the entry of names[] (NULL-terminated) nearest to s within a
 * distance that makes sense for its length, or NULL. */
const char *nano_suggest(const char *s, const char *const *names);

/* Assertions: NANO_ASSERT for our own invariants (debug builds only), never
 * for data from outside.  NANO_ALWAYS/NANO_NEVER wrap defensive branches:
 * they assert in debug builds and still take the safe branch in release. */
#if defined(NANO_DEBUG) && NANO_DEBUG
#include <assert.h>
#define NANO_ASSERT(x) assert(x)
#define NANO_ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define NANO_NEVER(x)  ((x) ? (assert(0 && #x), 1) : 0)
#else
#define NANO_ASSERT(x) ((void)0)
#define NANO_ALWAYS(x) (x)
#define NANO_NEVER(x)  (x)
#endif

#define NANO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NANO_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
