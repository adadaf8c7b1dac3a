/* SPDX-License-Identifier: MIT
 *
 * wlibc.c - the two libc functions clang may call in wasm32 code built
 * with -nostdlib.  Compiled with -fno-builtin, so these loops are not
 * turned back into calls to themselves. */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *
memset(void *d, int c, unsigned long n)
{
    unsigned char *p = d;

    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *
memcpy(void *d, const void *s, unsigned long n)
{
    unsigned char *p = d;
    const unsigned char *q = s;

    while (n--)
        *p++ = *q++;
    return d;
}
