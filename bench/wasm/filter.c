/* SPDX-License-Identifier: MIT
 *
 * filter.c - a sensor pipeline: a noisy signal with spikes goes through
 * spike rejection (a sample far from the running mean is replaced by it)
 * and a 16-sample moving average; a threshold crossing counter and a
 * checksum come out.  Integer (milli-units) arithmetic, as on a device. */
#include "bench.h"

#define N 65536
#define W 16
static int raw[N];

BENCH_EXPORT unsigned
run(unsigned iters)
{
    unsigned x = 7, check = 0;

    for (unsigned i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        int noise = (int)((x >> 16) & 1023) - 512;
        int base = 20000 + (int)((i * 37) % 5000);
        raw[i] = base + noise + (((x >> 8) & 255) == 0 ? 40000 : 0);
    }
    for (unsigned it = 0; it < iters; it++) {
        int win[W] = { 0 };
        int sum = 0, pos = 0, mean = raw[0], above = 0, crossings = 0;
        for (int k = 0; k < W; k++) {
            win[k] = raw[0];
            sum += raw[0];
        }
        for (unsigned i = 0; i < N; i++) {
            int s = raw[i] + (int)it;
            int d = s - mean;
            if (d > 3000 || d < -3000)
                s = mean;                   /* spike: reject */
            sum += s - win[pos];
            win[pos] = s;
            pos = (pos + 1) & (W - 1);
            mean = sum / W;
            int now = mean > 22500;
            if (now != above) {
                crossings++;
                above = now;
            }
            check = check * 31u + (unsigned)mean;
        }
        check += (unsigned)crossings;
    }
    return check;
}
