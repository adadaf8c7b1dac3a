/* SPDX-License-Identifier: MIT
 *
 * msg.h - bus messages: immutable after creation, refcounted, shared.
 *
 * A message is one allocation: this header, then the topic, the unit and the
 * payload bytes, so N subscribers of a reading share one buffer and nobody
 * copies it.  A message is created with one reference owned by the creator.
 * Every holder (a subscriber queue, the bus's latest-value table, an SSE
 * stream, a journal) owns exactly one reference and drops it with
 * nano_msg_unref().  Nobody writes to a message after creation.
 *
 * Context: refcounts are not atomic; messages live on the loop thread.  A
 * worker that needs one gets it through a loop hand-off that takes a ref.
 */
#ifndef NANO_CORE_MSG_H
#define NANO_CORE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/value.h"

#define NANO_TOPIC_MAX    256      /* bytes, without the NUL */
#define NANO_PAYLOAD_MAX  65536    /* bytes of a STR/BYTES/JSON payload */
#define NANO_UNIT_MAX     31

struct nano_msg {
    uint32_t          refs;        /* private */
    uint16_t          topic_len;   /* read-only */
    struct nano_value v;           /* read-only; pointers into this allocation */
    char              topic[];     /* read-only, NUL-terminated */
};

/* Create a message.  Copies topic, v's unit and payload; stamps the wall and
 * monotonic clocks when v's timestamps are 0.
 * Returns owned (refcount 1), or NULL: -ENOMEM, or -EINVAL for a topic that is
 * empty, too long or holds wildcards, or a payload over NANO_PAYLOAD_MAX
 * (the reason in *err when err is not NULL). */
struct nano_msg *nano_msg_new(const char *topic, const struct nano_value *v,
                              int *err);

/* Refcounted: +1.  Returns m. */
static inline const struct nano_msg *
nano_msg_ref(const struct nano_msg *m)
{
    ((struct nano_msg *)m)->refs++;
    return m;
}

/* Refcounted: -1; frees at zero.  NULL is a no-op. */
void nano_msg_unref(const struct nano_msg *m);

/* Number of live messages (all threads' creations minus frees); tests use
 * it to prove the bus leaks nothing. */
uint64_t nano_msg_live(void);

#endif
