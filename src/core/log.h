/* SPDX-License-Identifier: MIT
 *
 * log.h - one line per event, logfmt or JSON lines, rate-limited repeats.
 *
 *   ts=2026-12-03T17:52:23.123456Z level=warn module=drivers msg="boiler: read timed out"
 *   {"ts":"2026-12-03T17:52:23.123456Z","level":"warn","module":"drivers","msg":"..."}
 *
 * A line is formatted on the stack and written with one write(2) (lines up
 * to NANO_LOG_LINE_MAX, longer messages are cut with "..."), so logging
 * allocates nothing and lines from several threads never interleave.
 *
 * Repeats: the same message (same module and text) logged again within
 * NANO_LOG_REPEAT_WINDOW is counted instead of printed; when the window
 * ends, one line says how many were suppressed:
 *   ... msg="boiler: read timed out" repeated=41
 * nano_log_flush_repeats() (called from a periodic timer) prints summaries
 * whose window has ended even if the message never comes back.
 */
#ifndef NANO_CORE_LOG_H
#define NANO_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define NANO_LOG_LINE_MAX      1024
#define NANO_LOG_REPEAT_WINDOW (10ull * 1000000000ull)   /* ns */

enum nano_log_level {
    NANO_LOG_ERR = 0,
    NANO_LOG_WARN,
    NANO_LOG_INFO,
    NANO_LOG_DEBUG,
};

enum nano_log_format {
    NANO_LOG_LOGFMT = 0,
    NANO_LOG_JSON,
};

/* Process-wide settings; fd defaults to 2 (stderr). */
void nano_log_configure(enum nano_log_level level, enum nano_log_format fmt,
                        int fd);
enum nano_log_level nano_log_level(void);

/* "error"/"err", "warn"/"warning", "info", "debug" -> NANO_OK, else -EINVAL. */
int nano_log_level_parse(const char *s, enum nano_log_level *out);
int nano_log_format_parse(const char *s, enum nano_log_format *out);
const char *nano_log_level_name(enum nano_log_level l);

static inline bool
nano_log_enabled(enum nano_log_level l)
{
    return l <= nano_log_level();
}

/* Log one event.  module is a short static name ("core", "api", "drivers"). */
void nano_logf(enum nano_log_level level, const char *module, const char *fmt,
               ...) __attribute__((format(printf, 3, 4)));

/* Change the repeat window (ns; 0 disables the filter).  For tests. */
void nano_log_set_repeat_window(uint64_t ns);

/* Print the "repeated=N" summaries whose window ended.  Returns how many. */
int nano_log_flush_repeats(void);

/* Lines written and lines suppressed as repeats, for metrics. */
void nano_log_counts(uint64_t *written, uint64_t *suppressed);

#endif
