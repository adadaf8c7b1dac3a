/* SPDX-License-Identifier: MIT
 *
 * time.c - clocks, duration parsing and formatting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/time.h"

uint64_t
nano_time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NANO_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
nano_time_wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NANO_NS_PER_S + (uint64_t)ts.tv_nsec;
}

int
nano_duration_parse(const char *s, uint64_t *ns_out)
{
    /* A sequence of <number><unit> terms ("1h30m", "1.5s"); a lone number is
     * seconds.  Rejects negatives, NaN, overflow past ~292 years. */
    static const struct { const char *unit; double ns; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 },
        { "s", 1e9 }, { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
        { "d", 86400e9 },
    };
    double total = 0;
    const char *p = s;
    int terms = 0;

    if (!s)
        return NANO_EPARSE;
    while (*p == ' ')
        p++;
    while (*p) {
        char *end;
        double v;
        size_t best = 0, best_len = 0;

        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return NANO_EPARSE;
        v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0)
            return NANO_EPARSE;
        p = end;
        if (*p == '\0' || *p == ' ') {
            if (terms > 0)
                return NANO_EPARSE;      /* "1m30" is ambiguous */
            total += v * 1e9;
            terms++;
            while (*p == ' ')
                p++;
            if (*p)
                return NANO_EPARSE;
            break;
        }
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, ul) == 0 && ul > best_len) {
                /* the unit must end here or be followed by a digit/space */
                char c = p[ul];
                if (c == '\0' || c == ' ' || (c >= '0' && c <= '9') || c == '.') {
                    best = i;
                    best_len = ul;
                }
            }
        }
        if (!best_len)
            return NANO_EPARSE;
        total += v * units[best].ns;
        p += best_len;
        terms++;
        while (*p == ' ')
            p++;
    }
    if (terms == 0 || total > 9.2e18)
        return NANO_EPARSE;
    *ns_out = (uint64_t)(total + 0.5);
    return NANO_OK;
}

char *
nano_duration_format(uint64_t ns, char *out, size_t cap)
{
    if (ns == 0)
        snprintf(out, cap, "0s");
    else if (ns % NANO_NS_PER_S == 0) {
        /* Whole seconds: "1h30m", "5m", "1h0m5s" -> "1h5s". */
        uint64_t t = ns / NANO_NS_PER_S;
        unsigned long long h = t / 3600, m = (t % 3600) / 60, sec = t % 60;
        int n = 0;
        out[0] = '\0';
        if (h)
            n += snprintf(out + n, cap - (size_t)n, "%lluh", h);
        if (m && (size_t)n < cap)
            n += snprintf(out + n, cap - (size_t)n, "%llum", m);
        if (sec && (size_t)n < cap)
            snprintf(out + n, cap - (size_t)n, "%llus", sec);
    } else if (ns % NANO_NS_PER_MS == 0)
        snprintf(out, cap, "%llums", (unsigned long long)(ns / NANO_NS_PER_MS));
    else if (ns % NANO_NS_PER_US == 0)
        snprintf(out, cap, "%lluus", (unsigned long long)(ns / NANO_NS_PER_US));
    else
        snprintf(out, cap, "%lluns", (unsigned long long)ns);
    return out;
}

char *
nano_time_format_rfc3339(uint64_t wall_ns, char *out, size_t cap)
{
    time_t secs = (time_t)(wall_ns / NANO_NS_PER_S);
    unsigned us = (unsigned)((wall_ns % NANO_NS_PER_S) / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
    return out;
}
