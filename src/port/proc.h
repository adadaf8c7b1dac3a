/* SPDX-License-Identifier: MIT
 *
 * proc.h - what the process costs, read from /proc/self (for /v1/status,
 * metrics and bench/footprint).  Values in bytes; 0 when unavailable.
 */
#ifndef NANO_PORT_PROC_H
#define NANO_PORT_PROC_H

#include <stdint.h>

struct nano_proc_mem {
    uint64_t rss;      /* VmRSS */
    uint64_t hwm;      /* VmHWM: peak RSS */
    uint64_t pss;      /* from smaps_rollup */
    uint64_t anon;     /* RssAnon */
};

int nano_proc_mem(struct nano_proc_mem *out);

#endif
