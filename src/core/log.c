/* SPDX-License-Identifier: MIT
 *
 * log.c - structured logging without allocation (see log.h).
 *
 * The repeat filter keeps a small table of recent message hashes (module +
 * text).  It is a cache, not a record: with more distinct repeating messages
 * than slots, the least recently started window is evicted (its summary
 * printed first), so nothing is lost silently.  A mutex guards the table
 * because worker threads may log too.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"

#define REPEAT_SLOTS 16

struct repeat_slot {
    uint32_t            hash;
    uint64_t            window_start_ns;
    uint32_t            suppressed;
    enum nano_log_level level;
    const char         *module;
    char                msg[160];     /* for the summary line */
};

static enum nano_log_level log_level = NANO_LOG_INFO;
static enum nano_log_format log_format = NANO_LOG_LOGFMT;
static int log_fd = 2;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct repeat_slot slots[REPEAT_SLOTS];
static uint64_t n_written, n_suppressed;
static uint64_t repeat_window = NANO_LOG_REPEAT_WINDOW;

void
nano_log_set_repeat_window(uint64_t ns)
{
    repeat_window = ns;
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
nano_log_configure(enum nano_log_level level, enum nano_log_format fmt, int fd)
{
    log_level = level;
    log_format = fmt;
    log_fd = fd;
}

enum nano_log_level
nano_log_level(void)
{
    return log_level;
}

const char *
nano_log_level_name(enum nano_log_level l)
{
    return (unsigned)l < NANO_ARRAY_LEN(level_names) ? level_names[l] : "?";
}

int
nano_log_level_parse(const char *s, enum nano_log_level *out)
{
    if (!strcmp(s, "error") || !strcmp(s, "err"))
        *out = NANO_LOG_ERR;
    else if (!strcmp(s, "warn") || !strcmp(s, "warning"))
        *out = NANO_LOG_WARN;
    else if (!strcmp(s, "info"))
        *out = NANO_LOG_INFO;
    else if (!strcmp(s, "debug"))
        *out = NANO_LOG_DEBUG;
    else
        return -EINVAL;
    return NANO_OK;
}

int
nano_log_format_parse(const char *s, enum nano_log_format *out)
{
    if (!strcmp(s, "logfmt") || !strcmp(s, "text"))
        *out = NANO_LOG_LOGFMT;
    else if (!strcmp(s, "json"))
        *out = NANO_LOG_JSON;
    else
        return -EINVAL;
    return NANO_OK;
}

/* Append s to out[*pos..cap) escaped for a quoted logfmt or JSON string. */
static void
put_escaped(char *out, size_t *pos, size_t cap, const char *s, bool json)
{
    size_t p = *pos;

    for (; *s && p + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[p++] = '\\';
            out[p++] = (char)c;
        } else if (c == '\n') {
            out[p++] = '\\';
            out[p++] = 'n';
        } else if (c < 0x20) {
            p += (size_t)snprintf(out + p, cap - p, json ? "\\u%04x" : "\\x%02x", c);
        } else {
            out[p++] = (char)c;
        }
    }
    if (*s && p + 4 < cap) {
        memcpy(out + p, "...", 3);
        p += 3;
    }
    *pos = p;
}

static void
put_raw(char *out, size_t *pos, size_t cap, const char *s)
{
    size_t n = strlen(s), room = *pos + 1 < cap ? cap - *pos - 1 : 0;

    if (n > room)
        n = room;
    memcpy(out + *pos, s, n);
    *pos += n;
}

/* Build and write one line.  repeated > 0 adds the summary field. */
static void
emit(enum nano_log_level level, const char *module, const char *msg,
     uint32_t repeated)
{
    char line[NANO_LOG_LINE_MAX + 64];
    char ts[40], num[24];
    size_t p = 0, cap = sizeof line - 2;
    bool json = log_format == NANO_LOG_JSON;
    ssize_t w;

    nano_time_format_rfc3339(nano_time_wall_ns(), ts, sizeof ts);
    if (json) {
        put_raw(line, &p, cap, "{\"ts\":\"");
        put_raw(line, &p, cap, ts);
        put_raw(line, &p, cap, "\",\"level\":\"");
        put_raw(line, &p, cap, nano_log_level_name(level));
        put_raw(line, &p, cap, "\",\"module\":\"");
        put_escaped(line, &p, cap, module, true);
        put_raw(line, &p, cap, "\",\"msg\":\"");
        put_escaped(line, &p, cap - 32, msg, true);
        put_raw(line, &p, cap, "\"");
        if (repeated) {
            snprintf(num, sizeof num, "%u", repeated);
            put_raw(line, &p, cap, ",\"repeated\":");
            put_raw(line, &p, cap, num);
        }
        put_raw(line, &p, cap, "}");
    } else {
        put_raw(line, &p, cap, "ts=");
        put_raw(line, &p, cap, ts);
        put_raw(line, &p, cap, " level=");
        put_raw(line, &p, cap, nano_log_level_name(level));
        put_raw(line, &p, cap, " module=");
        put_raw(line, &p, cap, module);
        put_raw(line, &p, cap, " msg=\"");
        put_escaped(line, &p, cap - 32, msg, false);
        put_raw(line, &p, cap, "\"");
        if (repeated) {
            snprintf(num, sizeof num, "%u", repeated);
            put_raw(line, &p, cap, " repeated=");
            put_raw(line, &p, cap, num);
        }
    }
    line[p++] = '\n';
    w = write(log_fd, line, p);
    (void)w;
    n_written++;
}

static uint32_t
hash_msg(const char *module, const char *msg)
{
    uint32_t h = 2166136261u;

    for (const char *s = module; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *s = msg; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h ? h : 1;
}

static void
slot_summary(struct repeat_slot *s)
{
    if (s->suppressed)
        emit(s->level, s->module, s->msg, s->suppressed);
    s->suppressed = 0;
}

void
nano_logf(enum nano_log_level level, const char *module, const char *fmt, ...)
{
    char msg[NANO_LOG_LINE_MAX];
    va_list ap;
    uint32_t h;
    uint64_t now;
    struct repeat_slot *slot = NULL, *oldest = &slots[0];

    if (level > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    h = hash_msg(module, msg);
    now = nano_time_mono_ns();
    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < REPEAT_SLOTS; i++) {
        if (slots[i].hash == h) {
            slot = &slots[i];
            break;
        }
        if (slots[i].window_start_ns < oldest->window_start_ns)
            oldest = &slots[i];
    }
    if (slot && now - slot->window_start_ns < repeat_window) {
        slot->suppressed++;
        n_suppressed++;
        pthread_mutex_unlock(&log_lock);
        return;
    }
    if (slot)
        slot_summary(slot);          /* window over: report, start a new one */
    else {
        slot = oldest;
        slot_summary(slot);
    }
    slot->hash = h;
    slot->window_start_ns = now;
    slot->level = level;
    slot->module = module;
    size_t keep = strnlen(msg, sizeof slot->msg - 1);   /* summary keeps a prefix */
    memcpy(slot->msg, msg, keep);
    slot->msg[keep] = '\0';
    emit(level, module, msg, 0);
    pthread_mutex_unlock(&log_lock);
}

int
nano_log_flush_repeats(void)
{
    uint64_t now = nano_time_mono_ns();
    int n = 0;

    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < REPEAT_SLOTS; i++) {
        struct repeat_slot *s = &slots[i];
        if (s->suppressed && now - s->window_start_ns >= repeat_window) {
            slot_summary(s);
            s->hash = 0;              /* the next occurrence prints again */
            n++;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return n;
}

void
nano_log_counts(uint64_t *written, uint64_t *suppressed)
{
    *written = n_written;
    *suppressed = n_suppressed;
}
