/* SPDX-License-Identifier: MIT
 *
 * buf.h - growable byte buffer with a hard maximum, and read-only spans.
 *
 * nano_buf_init() allocates nothing and cannot fail; max is mandatory.  An
 * append that would pass max (or cannot allocate) returns -ENOSPC / -ENOMEM
 * and leaves the buffer exactly as it was (contents and length): callers can
 * keep what they had.  The data is always NUL-terminated past len when
 * allocated, so text built here can be used as a C string.
 */
#ifndef NANO_CORE_BUF_H
#define NANO_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct nano_span {
    const uint8_t *p;
    size_t         len;
};

struct nano_buf {
    char  *data;    /* read-only for users; NULL until the first append */
    size_t len;     /* read-only: bytes used */
    size_t cap;     /* private */
    size_t max;     /* private: hard limit on len */
};

void nano_buf_init(struct nano_buf *b, size_t max);
void nano_buf_free(struct nano_buf *b);          /* back to the init state */
void nano_buf_reset(struct nano_buf *b);         /* len = 0, memory kept */

int  nano_buf_append(struct nano_buf *b, const void *p, size_t n); /* Borrows p */
int  nano_buf_puts(struct nano_buf *b, const char *s);
int  nano_buf_putc(struct nano_buf *b, char c);
int  nano_buf_printf(struct nano_buf *b, const char *fmt, ...)
     __attribute__((format(printf, 2, 3)));
int  nano_buf_vprintf(struct nano_buf *b, const char *fmt, va_list ap);

/* Drop the first n bytes (n <= len). */
void nano_buf_consume(struct nano_buf *b, size_t n);

/* Give the caller the allocation (Returns owned; free with nano_free) and
 * leave b empty.  Returns NULL when nothing was appended. */
char *nano_buf_steal(struct nano_buf *b);

/* Returns borrowed; invalidated by the next append, consume or free. */
static inline struct nano_span
nano_buf_span(const struct nano_buf *b)
{
    struct nano_span s = { (const uint8_t *)b->data, b->len };
    return s;
}

#endif
