/* SPDX-License-Identifier: MIT
 *
 * base64.c - RFC 4648 base64 encoder and decoder (contract in base64.h).
 */
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
nano_base64_encode(const void *p, size_t n, struct nano_buf *out)
{
    const uint8_t *in = p;
    size_t start = out->len;
    char chunk[256];
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t x = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            x |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            x |= in[i + 2];
        chunk[k++] = alphabet[(x >> 18) & 63];
        chunk[k++] = alphabet[(x >> 12) & 63];
        chunk[k++] = i + 1 < n ? alphabet[(x >> 6) & 63] : '=';
        chunk[k++] = i + 2 < n ? alphabet[x & 63] : '=';
        if (k > sizeof chunk - 4) {
            if ((rc = nano_buf_append(out, chunk, k)) != NANO_OK)
                goto undo;
            k = 0;
        }
    }
    if ((rc = nano_buf_append(out, chunk, k)) == NANO_OK)
        return NANO_OK;
undo:
    /* The contract is "out unchanged": drop what the earlier chunks added. */
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return rc;
}

static int
sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
nano_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                   size_t *out_len)
{
    uint32_t acc = 0;
    unsigned have = 0;     /* sextets in acc */
    size_t o = 0, pad = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            /* Padding only completes a quantum of 2 or 3 sextets. */
            if (have + pad < 2) {
                *out_len = i;
                return -EINVAL;
            }
            pad++;
            if (have + pad > 4) {
                *out_len = i;
                return -EINVAL;
            }
            continue;
        }
        if (pad || (v = sextet(c)) < 0) {      /* data after padding */
            *out_len = i;
            return -EINVAL;
        }
        acc = acc << 6 | (uint32_t)v;
        if (++have == 4) {
            if (cap - o < 3)
                return -ENOSPC;
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
            have = 0;
        }
    }
    if (have == 1) {                 /* 6 bits cannot make a byte */
        *out_len = n;
        return -EINVAL;
    }
    if (have >= 2) {
        size_t k = have - 1;         /* 2 sextets -> 1 byte, 3 -> 2 */
        acc <<= 6 * (4 - have);
        if (cap - o < k)
            return -ENOSPC;
        out[o++] = (uint8_t)(acc >> 16);
        if (k == 2)
            out[o++] = (uint8_t)(acc >> 8);
    }
    *out_len = o;
    return NANO_OK;
}
