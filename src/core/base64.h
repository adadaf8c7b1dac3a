/* SPDX-License-Identifier: MIT
 *
 * base64.h - RFC 4648 base64 (standard alphabet, '=' padding).
 *
 * Binary data inside JSON: a WebAssembly module in an API request body, a
 * module's key-value store in its state file.  Pure functions over
 * (buf, len): no I/O, no globals.
 */
#ifndef NANO_CORE_BASE64_H
#define NANO_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

struct nano_buf;

/* Bytes nano_base64_encode() appends for n input bytes. */
static inline size_t
nano_base64_encoded_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

/* Upper bound of the bytes nano_base64_decode() writes for n characters. */
static inline size_t
nano_base64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

/* Append the encoding of p[0..n) to out.  Returns NANO_OK, or -ENOSPC /
 * -ENOMEM with out unchanged.  Borrows p. */
int nano_base64_encode(const void *p, size_t n, struct nano_buf *out);

/*
 * nano_base64_decode - decode s[0..n) into out[0..cap).
 *
 * Accepts padded and unpadded input; ASCII whitespace (a module pasted
 * from `base64` output wraps at 76 columns) is skipped.  Returns NANO_OK
 * with *out_len set, -EINVAL at the first character that is not base64 or
 * misplaced padding (*out_len then holds that character's offset), or
 * -ENOSPC when cap is too small.  Borrows s.
 */
int nano_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                       size_t *out_len);

#endif
