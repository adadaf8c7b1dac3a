/* SPDX-License-Identifier: MIT
 *
 * bus.c - NanoBus (contract in bus.h).
 *
 * Structures:
 *   - subscriptions on one list; publish tests each filter with
 *     nano_topic_match(), which walks the strings once without allocating.
 *     A device has tens of subscribers, so a linear scan beats a trie on
 *     memory and is within a few hundred nanoseconds per publish;
 *   - each subscription owns a ring of message pointers (one reference each)
 *     sized at subscribe time; the ring never grows;
 *   - callback subscribers with queued messages sit on a pending list that a
 *     single deferred work item drains on the loop;
 *   - the latest message per topic lives in an open-addressing hash table
 *     (linear probing, power-of-two capacity, grown at 3/4 load).
 *
 * Re-entrancy: a callback may publish, subscribe and unsubscribe (itself or
 * others).  A subscription removed while its callback runs is only marked
 * dead and freed when the dispatcher is done with it.  A drain handles at
 * most the messages queued when it started, so a subscriber that publishes
 * to a topic it matches cannot spin the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/topic.h"

struct nano_sub {
    struct nano_list    link;          /* bus->subs */
    struct nano_list    pending_link;  /* bus->pending while queued for cb */
    struct nano_bus    *bus;
    char               *filter;
    char               *name;
    nano_sub_fn        *cb;
    nano_sub_notify_fn *notify;
    void               *arg;
    const struct nano_msg **ring;
    size_t              cap, head, count;
    enum nano_overflow  overflow;
    uint64_t            delivered, dropped;
    bool                in_dispatch;
    bool                dead;
};

struct latest_slot {
    const struct nano_msg *m;      /* one reference; NULL = empty */
    uint32_t               hash;
};

struct nano_bus {
    struct nano_loop   *loop;
    struct nano_list    subs;
    struct nano_list    pending;
    struct nano_work    dispatch;
    struct latest_slot *latest;
    size_t              latest_cap, latest_len;
    size_t              nsubs;
    uint64_t            published, delivered, dropped;
};

/* ---- latest-value table -------------------------------------------------- */

static uint32_t
topic_hash(const char *s)
{
    uint32_t h = 2166136261u;          /* FNV-1a */

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static struct latest_slot *
latest_find(const struct nano_bus *bus, const char *topic, uint32_t h)
{
    size_t mask, i;

    if (!bus->latest_cap)
        return NULL;
    mask = bus->latest_cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        struct latest_slot *s = &bus->latest[i];
        if (!s->m)
            return s;                  /* empty slot: where it would go */
        if (s->hash == h && strcmp(s->m->topic, topic) == 0)
            return s;
    }
}

static int
latest_grow(struct nano_bus *bus)
{
    size_t ncap = bus->latest_cap ? bus->latest_cap * 2 : 64;
    struct latest_slot *old = bus->latest, *nt;
    size_t ocap = bus->latest_cap;

    nt = nano_calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    bus->latest = nt;
    bus->latest_cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].m) {
            struct latest_slot *s = latest_find(bus, old[i].m->topic, old[i].hash);
            *s = old[i];
        }
    }
    nano_free(old);
    return NANO_OK;
}

static int
latest_set(struct nano_bus *bus, const struct nano_msg *m)
{
    uint32_t h = topic_hash(m->topic);
    struct latest_slot *s = latest_find(bus, m->topic, h);

    if (s && s->m) {
        const struct nano_msg *old = s->m;
        s->m = nano_msg_ref(m);
        nano_msg_unref(old);
        return NANO_OK;
    }
    if (bus->latest_len >= NANO_BUS_MAX_TOPICS)
        return -ENOSPC;
    if ((bus->latest_len + 1) * 4 > bus->latest_cap * 3) {
        int rc = latest_grow(bus);
        if (rc != NANO_OK)
            return rc;
        s = latest_find(bus, m->topic, h);
    }
    s->m = nano_msg_ref(m);
    s->hash = h;
    bus->latest_len++;
    return NANO_OK;
}

const struct nano_msg *
nano_bus_latest(const struct nano_bus *bus, const char *topic)
{
    struct latest_slot *s = latest_find(bus, topic, topic_hash(topic));

    return s ? s->m : NULL;
}

static int
cmp_msg_topic(const void *a, const void *b)
{
    const struct nano_msg *const *x = a, *const *y = b;

    return strcmp((*x)->topic, (*y)->topic);
}

void
nano_bus_foreach_latest(const struct nano_bus *bus, const char *filter,
                        nano_bus_each_fn *fn, void *arg)
{
    const struct nano_msg **v;
    size_t n = 0;

    if (!bus->latest_len)
        return;
    v = nano_malloc(bus->latest_len * sizeof *v);
    if (!v)
        return;
    /* Hold a reference on each so fn may publish (which replaces entries). */
    for (size_t i = 0; i < bus->latest_cap; i++) {
        const struct nano_msg *m = bus->latest[i].m;
        if (m && (!filter || nano_topic_match(filter, m->topic)))
            v[n++] = nano_msg_ref(m);
    }
    qsort(v, n, sizeof *v, cmp_msg_topic);
    for (size_t i = 0; i < n; i++) {
        fn(arg, v[i]);
        nano_msg_unref(v[i]);
    }
    nano_free(v);
}

/* ---- subscriber queues ------------------------------------------------- */

static void
sub_free(struct nano_sub *sub)
{
    while (sub->count) {
        nano_msg_unref(sub->ring[sub->head]);
        sub->head = (sub->head + 1) % sub->cap;
        sub->count--;
    }
    nano_free(sub->ring);
    nano_free(sub->filter);
    nano_free(sub->name);
    nano_free(sub);
}

static const struct nano_msg *
ring_pop(struct nano_sub *sub)
{
    const struct nano_msg *m;

    if (!sub->count)
        return NULL;
    m = sub->ring[sub->head];
    sub->head = (sub->head + 1) % sub->cap;
    sub->count--;
    return m;
}

/* Returns true when the message was queued (possibly evicting the oldest). */
static bool
ring_push(struct nano_bus *bus, struct nano_sub *sub, const struct nano_msg *m)
{
    if (sub->count == sub->cap) {
        if (sub->overflow == NANO_DROP_NEWEST) {
            sub->dropped++;
            bus->dropped++;
            return false;
        }
        nano_msg_unref(ring_pop(sub));
        sub->dropped++;
        bus->dropped++;
    }
    sub->ring[(sub->head + sub->count) % sub->cap] = nano_msg_ref(m);
    sub->count++;
    return true;
}

static void
dispatch(struct nano_loop *loop, struct nano_work *w)
{
    struct nano_bus *bus = NANO_CONTAINER_OF(w, struct nano_bus, dispatch);
    struct nano_list batch;

    (void)loop;
    /* Take the current pending set; subscribers that receive messages while
     * we run are queued on bus->pending again for the next round. */
    nano_list_init(&batch);
    if (nano_list_empty(&bus->pending))
        return;
    batch.next = bus->pending.next;
    batch.prev = bus->pending.prev;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    nano_list_init(&bus->pending);

    while (!nano_list_empty(&batch)) {
        struct nano_sub *sub = NANO_CONTAINER_OF(batch.next, struct nano_sub,
                                                 pending_link);
        size_t n = sub->count;

        nano_list_remove(&sub->pending_link);
        sub->in_dispatch = true;
        while (n-- && !sub->dead) {
            const struct nano_msg *m = ring_pop(sub);
            if (!m)
                break;
            sub->delivered++;
            bus->delivered++;
            sub->cb(sub->arg, m);
            nano_msg_unref(m);
        }
        sub->in_dispatch = false;
        if (sub->dead) {
            sub_free(sub);
            continue;
        }
        if (sub->count && nano_list_empty(&sub->pending_link)) {
            nano_list_append(&bus->pending, &sub->pending_link);
            nano_loop_defer(bus->loop, &bus->dispatch);
        }
    }
}

/* ---- public API ---------------------------------------------------------- */

int
nano_bus_new(struct nano_loop *loop, struct nano_bus **bus_out)
{
    struct nano_bus *bus = nano_calloc(1, sizeof *bus);

    *bus_out = NULL;
    if (!bus)
        return -ENOMEM;
    bus->loop = loop;
    nano_list_init(&bus->subs);
    nano_list_init(&bus->pending);
    nano_work_init(&bus->dispatch, dispatch);
    *bus_out = bus;
    return NANO_OK;
}

void
nano_bus_free(struct nano_bus *bus)
{
    struct nano_list *it, *tmp;

    if (!bus)
        return;
    nano_loop_cancel(bus->loop, &bus->dispatch);
    nano_list_foreach_safe(it, tmp, &bus->subs) {
        struct nano_sub *sub = NANO_CONTAINER_OF(it, struct nano_sub, link);
        sub_free(sub);
    }
    for (size_t i = 0; i < bus->latest_cap; i++)
        nano_msg_unref(bus->latest[i].m);
    nano_free(bus->latest);
    nano_free(bus);
}

int
nano_bus_publish(struct nano_bus *bus, const struct nano_msg *m)
{
    struct nano_list *it;
    int rc;

    rc = latest_set(bus, m);
    if (rc != NANO_OK)
        return rc;
    bus->published++;
    nano_list_foreach(it, &bus->subs) {
        struct nano_sub *sub = NANO_CONTAINER_OF(it, struct nano_sub, link);
        bool was_empty;

        if (sub->dead || !nano_topic_match(sub->filter, m->topic))
            continue;
        was_empty = sub->count == 0;
        if (!ring_push(bus, sub, m))
            continue;
        if (sub->cb) {
            /* While its callback runs, a subscriber is off the pending list,
             * so this also queues it for a later round, never the current. */
            if (nano_list_empty(&sub->pending_link)) {
                nano_list_append(&bus->pending, &sub->pending_link);
                nano_loop_defer(bus->loop, &bus->dispatch);
            }
        } else if (was_empty && sub->notify) {
            sub->notify(sub->arg, sub);
        }
    }
    return NANO_OK;
}

int
nano_bus_publish_value(struct nano_bus *bus, const char *topic,
                       const struct nano_value *v)
{
    int rc;
    struct nano_msg *m = nano_msg_new(topic, v, &rc);

    if (!m)
        return rc;
    rc = nano_bus_publish(bus, m);
    nano_msg_unref(m);
    return rc;
}

int
nano_bus_subscribe(struct nano_bus *bus, const char *filter,
                   const struct nano_sub_opts *opts, nano_sub_fn *cb,
                   void *arg, struct nano_sub **sub_out)
{
    struct nano_sub *sub;
    size_t cap;

    *sub_out = NULL;
    if (nano_topic_filter_check(filter, NULL) != NANO_OK)
        return -EINVAL;
    cap = opts && opts->queue_cap ? opts->queue_cap : NANO_SUB_DEFAULT_QUEUE;
    sub = nano_calloc(1, sizeof *sub);
    if (!sub)
        return -ENOMEM;
    sub->ring = nano_calloc(cap, sizeof *sub->ring);
    sub->filter = nano_strdup(filter);
    sub->name = nano_strdup(opts && opts->name ? opts->name : filter);
    if (!sub->ring || !sub->filter || !sub->name) {
        sub_free(sub);
        return -ENOMEM;
    }
    sub->bus = bus;
    sub->cap = cap;
    sub->cb = cb;
    sub->arg = arg;
    sub->overflow = opts ? opts->overflow : NANO_DROP_OLDEST;
    sub->notify = opts ? opts->notify : NULL;
    nano_list_init(&sub->pending_link);
    nano_list_append(&bus->subs, &sub->link);
    bus->nsubs++;
    *sub_out = sub;
    return NANO_OK;
}

void
nano_bus_unsubscribe(struct nano_bus *bus, struct nano_sub *sub)
{
    if (!sub || sub->dead)
        return;
    nano_list_remove(&sub->link);
    nano_list_remove(&sub->pending_link);
    bus->nsubs--;
    if (sub->in_dispatch) {
        sub->dead = true;              /* dispatch() frees it */
        return;
    }
    sub_free(sub);
}

const struct nano_msg *
nano_sub_pop(struct nano_sub *sub)
{
    const struct nano_msg *m = ring_pop(sub);

    if (m) {
        sub->delivered++;
        sub->bus->delivered++;
    }
    return m;
}

void
nano_sub_get_stats(const struct nano_sub *sub, struct nano_sub_stats *out)
{
    out->delivered = sub->delivered;
    out->dropped = sub->dropped;
    out->queued = sub->count;
    out->queue_cap = sub->cap;
}

const char *
nano_sub_filter(const struct nano_sub *sub)
{
    return sub->filter;
}

const char *
nano_sub_name(const struct nano_sub *sub)
{
    return sub->name;
}

int
nano_bus_mark_stale(struct nano_bus *bus, const char *filter)
{
    const struct nano_msg **v;
    size_t n = 0;
    int marked = 0;

    if (!bus->latest_len)
        return 0;
    v = nano_malloc(bus->latest_len * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < bus->latest_cap; i++) {
        const struct nano_msg *m = bus->latest[i].m;
        if (m && m->v.quality == NANO_Q_OK && nano_topic_match(filter, m->topic))
            v[n++] = nano_msg_ref(m);
    }
    for (size_t i = 0; i < n; i++) {
        struct nano_value sv = v[i]->v;
        sv.quality = NANO_Q_STALE;
        if (nano_bus_publish_value(bus, v[i]->topic, &sv) == NANO_OK)
            marked++;
        nano_msg_unref(v[i]);
    }
    nano_free(v);
    return marked;
}

void
nano_bus_foreach_sub(const struct nano_bus *bus, nano_bus_sub_fn *fn, void *arg)
{
    struct nano_list *it;

    nano_list_foreach(it, &bus->subs)
        fn(arg, NANO_CONTAINER_OF(it, struct nano_sub, link));
}

void
nano_bus_get_stats(const struct nano_bus *bus, struct nano_bus_stats *out)
{
    out->published = bus->published;
    out->delivered = bus->delivered;
    out->dropped = bus->dropped;
    out->subscribers = bus->nsubs;
    out->topics = bus->latest_len;
}
