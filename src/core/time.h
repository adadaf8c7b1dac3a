/* SPDX-License-Identifier: MIT
 *
 * time.h - clocks and durations.
 *
 * Monotonic time (CLOCK_MONOTONIC) orders events and drives timers; wall time
 * (CLOCK_REALTIME) is only for timestamps users read.  Both in nanoseconds;
 * readings carry microseconds (see value.h).
 */
#ifndef NANO_CORE_TIME_H
#define NANO_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#define NANO_NS_PER_US 1000ull
#define NANO_NS_PER_MS 1000000ull
#define NANO_NS_PER_S  1000000000ull

uint64_t nano_time_mono_ns(void);
uint64_t nano_time_wall_ns(void);

/* Parse a duration: "250ms", "30s", "5m", "1h", "1.5s", "10us", or a bare
 * number of seconds ("2", "0.5").  Returns NANO_OK and *ns_out, or
 * NANO_EPARSE. */
int nano_duration_parse(const char *s, uint64_t *ns_out);

/* Format ns compactly ("250ms", "30s", "5m", "1h30m") into out. */
char *nano_duration_format(uint64_t ns, char *out, size_t cap);

/* Format wall-clock ns as RFC 3339 UTC with microseconds. */
char *nano_time_format_rfc3339(uint64_t wall_ns, char *out, size_t cap);

#endif
