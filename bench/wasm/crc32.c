/* SPDX-License-Identifier: MIT
 *
 * crc32.c - table-driven CRC-32 (IEEE) over a 1 MiB buffer: byte loads,
 * shifts, xors and a table lookup per byte. */
#include "bench.h"

#define LEN (1u << 20)
static unsigned char buf[LEN];
static unsigned table[256];

static void
init(void)
{
    unsigned x = 12345;

    for (unsigned i = 0; i < 256; i++) {
        unsigned c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    for (unsigned i = 0; i < LEN; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

BENCH_EXPORT unsigned
run(unsigned iters)
{
    unsigned crc = 0;

    init();
    for (unsigned it = 0; it < iters; it++) {
        unsigned c = ~crc;
        for (unsigned i = 0; i < LEN; i++)
            c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
        crc = ~c;
    }
    return crc;
}
