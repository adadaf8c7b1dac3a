/* SPDX-License-Identifier: MIT
 *
 * filter.c - a moving-average and spike filter as a Nano service, in C.
 * examples/filter.wat is the same service in WebAssembly text; both
 * publish the same values for the same readings.
 *
 * For every reading on its subscriptions (e.g. sensors/+/temperature) it
 * publishes a cleaned value on filtered/<the rest of the topic>:
 *   - the mean of the last WINDOW accepted readings of that topic;
 *   - a reading more than SPIKE units from that mean is a spike: it is
 *     kept out of the mean and the mean is published in its place;
 *   - a far reading after MAX_SPIKES spikes in a row is believed (the
 *     quantity really moved): the window starts again from it.
 * Only numbers of quality ok are used.  The count of readings handled is
 * kept in the key-value store under "seen" (it survives reloads).
 *
 *   nanoctl sandbox build --wasm examples/filter.c -o filter.wasm
 *   nanoctl sandbox load filter filter.wasm --subscribe 'sensors/+/temperature' \
 *           --grant-publish 'filtered/#'
 *
 * No libc: nano.h's helpers are enough, and the module stays small.
 */
#include "nano.h"

#define WINDOW     4
#define SPIKE      5.0
#define MAX_SPIKES 3
#define SLOTS      16

struct slot {
    unsigned hash;          /* FNV-1a of the topic after "sensors/"; 0: free */
    int      n, pos, spikes;
    double   window[WINDOW];
};

static struct slot slots[SLOTS];
static long long seen;
static char out_topic[8 + 1 + 256];

NANO_INBOX(1024);

int
init(void)
{
    if (nano_kv_get(NANO_STR("seen"), &seen, sizeof seen) != sizeof seen)
        seen = 0;
    nano_log_str(NANO_LOG_INFO, "filter ready");
    return 0;
}

static unsigned
hash(const char *p, int n)
{
    unsigned h = 0x811c9dc5u;

    for (int i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x01000193u;
    return h ? h : 1;
}

static struct slot *
slot_for(unsigned h)
{
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].hash == h)
            return &slots[i];
        if (slots[i].hash == 0) {
            slots[i].hash = h;
            return &slots[i];
        }
    }
    return 0;
}

static double
mean(const struct slot *s)
{
    double sum = 0;

    if (s->n == 0)
        return 0;
    for (int i = 0; i < s->n; i++)
        sum += s->window[i];
    return sum / s->n;
}

void
on_message(const char *topic, int topic_len, double value,
           const char *payload, int payload_len)
{
    static const char prefix[] = "sensors/";
    int info = nano_msg_info(), rest, far;
    struct slot *s;
    double m, out;

    (void)payload;
    (void)payload_len;
    if (NANO_MSG_TYPE(info) != NANO_TYPE_NUM ||
        NANO_MSG_QUALITY(info) != NANO_QUALITY_OK || topic_len <= 8)
        return;
    for (int i = 0; i < 8; i++)
        if (topic[i] != prefix[i])
            return;
    rest = topic_len - 8;
    if (!(s = slot_for(hash(topic + 8, rest))))
        return;

    m = mean(s);
    far = s->n >= 1 && (value - m > SPIKE || m - value > SPIKE);
    if (far && s->spikes < MAX_SPIKES) {
        s->spikes++;                    /* a spike: the mean stands in */
        out = m;
    } else {
        if (far) {                      /* the level moved: start again */
            s->n = 0;
            s->pos = 0;
        }
        s->spikes = 0;
        s->window[s->pos] = value;
        s->pos = (s->pos + 1) % WINDOW;
        if (s->n < WINDOW)
            s->n++;
        out = mean(s);
    }

    for (int i = 0; i < 9; i++)
        out_topic[i] = "filtered/"[i];
    for (int i = 0; i < rest; i++)
        out_topic[9 + i] = topic[8 + i];
    nano_publish(out_topic, 9 + rest, out);

    seen++;
    nano_kv_set(NANO_STR("seen"), &seen, sizeof seen);
}
