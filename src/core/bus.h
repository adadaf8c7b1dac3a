/* SPDX-License-Identifier: MIT
 *
 * bus.h - NanoBus: topics, wildcard subscriptions, bounded queues.
 *
 * Publishing a message gives every subscriber whose filter matches one
 * reference to the same immutable buffer (msg.h).  Each subscriber has a
 * bounded ring queue with an explicit overflow policy; a full queue is not an
 * error, it drops (the oldest or the newest message, as chosen) and counts
 * the drop on the subscriber and on the bus.
 *
 * Two kinds of subscriber:
 *   - callback: the bus drains the queue on the loop thread (one deferred
 *     work item for the whole bus) and calls cb for each message, in order;
 *   - pull: cb is NULL; the consumer pops messages itself (nano_sub_pop)
 *     when it is ready, e.g. an SSE stream whose socket can take more, and
 *     is told through notify when the queue goes from empty to non-empty.
 *
 * Delivery is never synchronous with publish: a subscriber that publishes
 * from its callback cannot recurse, and a publisher never runs consumer code.
 * Ordering: messages from one publisher reach one subscriber in publish order.
 *
 * The bus also keeps the latest message of every topic (one reference each),
 * which is what `GET /v1/topics` and the rule engine's initial state read.
 * Topics whose latest value is older than the bus's retention and that nobody
 * reads are not removed: a device has a bounded set of topics (NANO_BUS_MAX_
 * TOPICS), and publishing a new topic past that limit fails with -ENOSPC.
 *
 * Context: loop thread only.
 */
#ifndef NANO_CORE_BUS_H
#define NANO_CORE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

#define NANO_BUS_MAX_TOPICS 16384
#define NANO_SUB_DEFAULT_QUEUE 256

struct nano_loop;
struct nano_bus;
struct nano_sub;

enum nano_overflow {
    NANO_DROP_OLDEST = 0,   /* keep the freshest readings (default) */
    NANO_DROP_NEWEST,       /* keep what is queued, refuse new */
};

/* Callback subscriber: Borrows m for the call; nano_msg_ref() to keep it. */
typedef void nano_sub_fn(void *arg, const struct nano_msg *m);

/* Pull subscriber: the queue became non-empty. */
typedef void nano_sub_notify_fn(void *arg, struct nano_sub *sub);

struct nano_sub_opts {
    const char        *name;        /* for stats and logs; copied */
    size_t             queue_cap;   /* 0: NANO_SUB_DEFAULT_QUEUE */
    enum nano_overflow overflow;
    nano_sub_notify_fn *notify;     /* pull subscribers only */
};

struct nano_sub_stats {
    uint64_t delivered;    /* handed to cb or popped */
    uint64_t dropped;      /* overflow drops */
    size_t   queued;       /* now */
    size_t   queue_cap;
};

struct nano_bus_stats {
    uint64_t published;
    uint64_t delivered;
    uint64_t dropped;
    size_t   subscribers;
    size_t   topics;
};

/* Returns NANO_OK and *bus_out (Returns owned; free with nano_bus_free). */
int  nano_bus_new(struct nano_loop *loop, struct nano_bus **bus_out);

/* Drops every queued message and subscription. */
void nano_bus_free(struct nano_bus *bus);

/* Deliver m to every matching subscriber and make it its topic's latest.
 * Returns NANO_OK, or -ENOSPC when m's topic is new and the topic table is
 * full (nothing delivered).  Borrows m: the bus takes its own references,
 * so the caller still owes one nano_msg_unref(m). */
int  nano_bus_publish(struct nano_bus *bus, const struct nano_msg *m);

/* Convenience: create a message from topic and v, publish it, drop the
 * creator's reference.  Returns NANO_OK, -EINVAL, -ENOMEM or -ENOSPC. */
int  nano_bus_publish_value(struct nano_bus *bus, const char *topic,
                            const struct nano_value *v);

/* Subscribe with an MQTT filter.  cb NULL makes a pull subscriber.
 * Returns NANO_OK and *sub_out (owned by the bus; release with
 * nano_bus_unsubscribe), -EINVAL for a bad filter, or -ENOMEM.
 * Keeps arg until nano_bus_unsubscribe(). */
int  nano_bus_subscribe(struct nano_bus *bus, const char *filter,
                        const struct nano_sub_opts *opts, nano_sub_fn *cb,
                        void *arg, struct nano_sub **sub_out);

/* Drop the subscription and its queued messages.  Safe from inside its own
 * callback (the rest of the batch is dropped). */
void nano_bus_unsubscribe(struct nano_bus *bus, struct nano_sub *sub);

/* Pull subscribers: Returns owned (one reference; nano_msg_unref when done)
 * or NULL when the queue is empty. */
const struct nano_msg *nano_sub_pop(struct nano_sub *sub);

void nano_sub_get_stats(const struct nano_sub *sub, struct nano_sub_stats *out);
const char *nano_sub_filter(const struct nano_sub *sub);
const char *nano_sub_name(const struct nano_sub *sub);

/* Latest message of a topic.  Returns borrowed; valid until the next publish
 * on that topic (take a ref to keep it), or NULL. */
const struct nano_msg *nano_bus_latest(const struct nano_bus *bus,
                                       const char *topic);

/* Call fn for the latest message of every topic matching filter (NULL: all),
 * in topic order.  Borrows each message for the call. */
typedef void nano_bus_each_fn(void *arg, const struct nano_msg *m);
void nano_bus_foreach_latest(const struct nano_bus *bus, const char *filter,
                             nano_bus_each_fn *fn, void *arg);

/* Mark the latest value of every topic matching filter stale (the source
 * stopped answering): republishes a copy with quality STALE.  Returns the
 * number of topics marked. */
int  nano_bus_mark_stale(struct nano_bus *bus, const char *filter);

/* Call fn for every subscription (for status listings). */
typedef void nano_bus_sub_fn(void *arg, const struct nano_sub *sub);
void nano_bus_foreach_sub(const struct nano_bus *bus, nano_bus_sub_fn *fn,
                          void *arg);

void nano_bus_get_stats(const struct nano_bus *bus, struct nano_bus_stats *out);

#endif
