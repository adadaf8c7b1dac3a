/* SPDX-License-Identifier: MIT
 *
 * nano.h - the host interface of Nano's WebAssembly services, for module
 * authors writing C (clang --target=wasm32).  docs/wasm-abi.md is the
 * reference; this header only spells it in C.
 *
 * A module is a service the daemon feeds with bus messages:
 *
 *     #include "nano.h"
 *
 *     NANO_INBOX(1024);                   // where nanod writes each message
 *
 *     void
 *     on_message(const char *topic, int topic_len, double value,
 *                const char *payload, int payload_len)
 *     {
 *         nano_publish(NANO_STR("out/x"), value * 2);
 *     }
 *
 * Build with the module's tools (no libc needed):
 *
 *     nanoctl sandbox build --wasm service.c -o service.wasm
 *
 * which runs clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry and then
 * checks the result against this interface.
 *
 * Every import returns NANO_OK (0) or one of the negative NANO_E_* codes
 * below; a refused call (no grant, a limit reached) is an error code, never
 * a trap.  Pointers are offsets in the module's own linear memory; a
 * pointer/length pair that does not lie inside it stops the call with a
 * "host" trap, which counts as a fault of the module.
 *
 * Buffers: every buffer passed to an import is borrowed for the call only
 * (the host copies what it keeps).  The topic and payload given to
 * on_message live in the module's inbox and are overwritten by the next
 * message.
 */
#ifndef NANO_WASM_ABI_H
#define NANO_WASM_ABI_H

#define NANO_ABI_VERSION 1

#define NANO_IMPORT(name) \
    __attribute__((import_module("nano"), import_name(#name)))
#define NANO_EXPORT(name) __attribute__((export_name(#name)))

/* ---- results of the imports ----------------------------------------------- */

#define NANO_OK            0
#define NANO_E_DENIED     (-1)  /* the module's grants do not allow it */
#define NANO_E_NOTFOUND   (-2)  /* no such topic value, key or pin */
#define NANO_E_INVAL      (-3)  /* malformed topic, name, key or JSON */
#define NANO_E_LIMIT      (-4)  /* a limit was reached: publishes per
                                   message, key-value size, log rate */
#define NANO_E_AMBIGUOUS  (-5)  /* a bare quantity several sensors provide */
#define NANO_E_UNAVAIL    (-6)  /* the daemon cannot do it now (no pins in
                                   this build, bus topic table full, ...) */
#define NANO_E_TYPE       (-7)  /* the latest value is not a number */

/* ---- log levels --------------------------------------------------------------- */

#define NANO_LOG_ERROR 0
#define NANO_LOG_WARN  1
#define NANO_LOG_INFO  2
#define NANO_LOG_DEBUG 3

/* ---- nano_msg_info(): what the message being handled is ------------------------ */

#define NANO_MSG_TYPE(info)       ((info) & 0xff)
#define NANO_MSG_QUALITY(info)    (((info) >> 8) & 0xff)
#define NANO_MSG_TRUNCATED(info)  (((info) >> 16) & 1)

#define NANO_TYPE_NONE  0
#define NANO_TYPE_NUM   1     /* value holds it */
#define NANO_TYPE_BOOL  2     /* value is 0 or 1 */
#define NANO_TYPE_STR   3     /* payload holds the UTF-8 text; value is NaN */
#define NANO_TYPE_BYTES 4     /* payload holds the bytes; value is NaN */
#define NANO_TYPE_JSON  5     /* payload holds the JSON text; value is NaN */

#define NANO_QUALITY_OK    0
#define NANO_QUALITY_STALE 1  /* a copy of the last value: its source stopped */
#define NANO_QUALITY_FAULT 2  /* the source reported an impossible value */

/* ---- imports (module "nano") ------------------------------------------------------ */

/* Publish a number, a UTF-8 text, or a JSON object or array on topic.
 * NANO_E_DENIED unless a publish grant matches the topic; NANO_E_INVAL for
 * a topic with wildcards or over 256 bytes, or JSON that does not parse;
 * NANO_E_LIMIT past the per-message publish limit. */
NANO_IMPORT(publish)
int nano_publish(const char *topic, int topic_len, double value);
NANO_IMPORT(publish_text)
int nano_publish_text(const char *topic, int topic_len, const char *text,
                      int text_len);
NANO_IMPORT(publish_json)
int nano_publish_json(const char *topic, int topic_len, const char *json,
                      int json_len);

/* Write one line to nanod's log, attributed to the module.  Rate-limited
 * per module (NANO_E_LIMIT when lines are being dropped). */
NANO_IMPORT(log)
int nano_log(int level, const char *text, int text_len);

/* Microseconds: wall clock (Unix epoch) and monotonic (since boot). */
NANO_IMPORT(time_wall_us)
long long nano_time_wall_us(void);
NANO_IMPORT(time_mono_us)
long long nano_time_mono_us(void);

/* Latest value of a topic ("sensors/boiler/temperature"), an instance's
 * quantity ("boiler.temperature") or a bare quantity ("temperature", when
 * exactly one sensor provides it).  Allowed for topics a read grant or one
 * of the module's subscriptions matches.  nano_read stores a number (bools
 * as 0/1) at *out; nano_read_text copies the value as text (numbers
 * formatted) and returns its full length, copying at most cap bytes. */
NANO_IMPORT(read)
int nano_read(const char *name, int name_len, double *out);
NANO_IMPORT(read_text)
int nano_read_text(const char *name, int name_len, char *buf, int cap);

/* Drive a named output pin (level 0 or 1).  NANO_E_DENIED unless granted. */
NANO_IMPORT(set_pin)
int nano_set_pin(const char *pin, int pin_len, int level);

/* The module's persisted key-value store (keys: 1-64 printable ASCII
 * characters; the whole store is bounded, 4 KiB by default).  kv_get
 * returns the value's full length and copies at most cap bytes. */
NANO_IMPORT(kv_get)
int nano_kv_get(const char *key, int key_len, void *buf, int cap);
NANO_IMPORT(kv_set)
int nano_kv_set(const char *key, int key_len, const void *val, int val_len);
NANO_IMPORT(kv_del)
int nano_kv_del(const char *key, int key_len);

/* Type, quality and flags of the message being handled (see above), or -1
 * outside on_message. */
NANO_IMPORT(msg_info)
int nano_msg_info(void);

/* ---- exports ------------------------------------------------------------------------ */

/* Called once per message on the module's subscriptions.  topic and payload
 * point into the inbox; payload_len is 0 for numbers and bools. */
NANO_EXPORT(on_message)
void on_message(const char *topic, int topic_len, double value,
                const char *payload, int payload_len);

/* Optional: called once when an instance starts, before its first message
 * and before it replaces a running version.  Nonzero refuses the load. */
NANO_EXPORT(init)
int init(void);

/* The inbox: a buffer of `size` bytes (at least 256) that nanod fills with
 * the topic and then the payload of each message before on_message. */
#define NANO_INBOX(size)                                                      \
    static char nano_inbox_buf_[(size) < 256 ? 256 : (size)];                 \
    NANO_EXPORT(nano_inbox) void *nano_inbox(void);                           \
    void *nano_inbox(void) { return nano_inbox_buf_; }                        \
    NANO_EXPORT(nano_inbox_size) int nano_inbox_size(void);                   \
    int nano_inbox_size(void) { return (int)sizeof nano_inbox_buf_; }

/* ---- helpers (no libc needed) --------------------------------------------------------- */

static inline int
nano_strlen(const char *s)
{
    int n = 0;

    while (s[n])
        n++;
    return n;
}

/* A string literal as the (pointer, length) pair the imports take. */
#define NANO_STR(lit) (lit), (int)(sizeof(lit) - 1)

static inline int
nano_log_str(int level, const char *s)
{
    return nano_log(level, s, nano_strlen(s));
}

#endif /* NANO_WASM_ABI_H */
