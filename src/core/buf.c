/* SPDX-License-Identifier: MIT
 *
 * buf.c - bounded growable buffer (see buf.h for the contract).
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

void
nano_buf_init(struct nano_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
nano_buf_free(struct nano_buf *b)
{
    nano_free(b->data);
    nano_buf_init(b, b->max);
}

void
nano_buf_reset(struct nano_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static int
reserve(struct nano_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return -ENOSPC;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return NANO_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = nano_realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return NANO_OK;
}

int
nano_buf_append(struct nano_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);

    if (rc != NANO_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return NANO_OK;
}

int
nano_buf_puts(struct nano_buf *b, const char *s)
{
    return nano_buf_append(b, s, strlen(s));
}

int
nano_buf_putc(struct nano_buf *b, char c)
{
    return nano_buf_append(b, &c, 1);
}

int
nano_buf_vprintf(struct nano_buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return nano_buf_append(b, small, (size_t)n);
    rc = reserve(b, (size_t)n);
    if (rc != NANO_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return NANO_OK;
}

int
nano_buf_printf(struct nano_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = nano_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void
nano_buf_consume(struct nano_buf *b, size_t n)
{
    if (n >= b->len) {
        nano_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *
nano_buf_steal(struct nano_buf *b)
{
    char *p = b->data;

    nano_buf_init(b, b->max);
    return p;
}
