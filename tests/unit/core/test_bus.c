/* test_bus.c - topic matching, message lifetime, subscriber queues and
 * overflow accounting, pull subscribers, re-entrancy, latest values. */
#include "harness/nt.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/topic.h"

static void
test_wildcard_matching(void)
{
    static const struct { const char *f, *t; bool m; } cases[] = {
        { "sensors/boiler/temperature", "sensors/boiler/temperature", true },
        { "sensors/boiler/temperature", "sensors/boiler/temp", false },
        { "sensors/boiler/temp", "sensors/boiler/temperature", false },
        { "sensors/+/temperature", "sensors/boiler/temperature", true },
        { "sensors/+/temperature", "sensors/boiler/humidity", false },
        { "sensors/+/temperature", "sensors/a/b/temperature", false },
        { "sensors/+", "sensors/boiler", true },
        { "sensors/+", "sensors/boiler/x", false },
        { "sensors/#", "sensors/boiler/temperature", true },
        { "sensors/#", "sensors", true },              /* parent level */
        { "sensors/#", "sensorsX/a", false },
        { "#", "a/b/c", true },
        { "+/+", "a/b", true },
        { "+/+", "a", false },
        { "+", "a", true },
        { "a/+", "a/", true },                          /* empty level */
        { "a/+/c", "a//c", true },
        { "#", "$SYS/x", false },                       /* MQTT 4.7.2 */
        { "+/x", "$SYS/x", false },
        { "$SYS/#", "$SYS/x", true },
        { "a/b", "a/b/c", false },
        { "a/b/c", "a/b", false },
        { "a/+/#", "a/b", true },
        { "a/+/#", "a", false },
    };
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        NT_MSG("filter %s topic %s", cases[i].f, cases[i].t);
        NT_CHECK(nano_topic_match(cases[i].f, cases[i].t) == cases[i].m);
    }
    NT_MSG("%s", "");
    const char *why;
    NT_CHECK(nano_topic_filter_check("a/#/b", &why) == -EINVAL);
    NT_CHECK(nano_topic_filter_check("a/b#", &why) == -EINVAL);
    NT_CHECK(nano_topic_filter_check("a+/b", &why) == -EINVAL);
    NT_CHECK(nano_topic_filter_check("", &why) == -EINVAL);
    NT_CHECK(nano_topic_filter_check("+/+/#", &why) == NANO_OK);
    NT_CHECK(nano_topic_check("a/+/b", &why) == -EINVAL);
    NT_CHECK(nano_topic_check("sensors/x", &why) == NANO_OK);
    char lvl[32];
    NT_EQ_INT(nano_topic_level("sensors/boiler/temperature", 1, lvl, sizeof lvl), 6);
    NT_EQ_STR(lvl, "boiler");
    NT_EQ_INT(nano_topic_level("a/b", 2, lvl, sizeof lvl), -1);
}

struct collector {
    const struct nano_msg *got[64];   /* kept with a reference */
    int n;
    struct nano_bus *bus;
    struct nano_sub *self;
    int unsubscribe_after;
    const char *republish;
};

static void
collect(void *arg, const struct nano_msg *m)
{
    struct collector *c = arg;

    if (c->n < 64)
        c->got[c->n++] = nano_msg_ref(m);
    if (c->unsubscribe_after && c->n == c->unsubscribe_after)
        nano_bus_unsubscribe(c->bus, c->self);
    if (c->republish) {
        struct nano_value v = nano_value_num(m->v.u.num + 1, NULL);
        nano_bus_publish_value(c->bus, c->republish, &v);
    }
}

static void
collector_release(struct collector *c)
{
    for (int i = 0; i < c->n; i++)
        nano_msg_unref(c->got[i]);
    c->n = 0;
}

static void
drain(struct nano_loop *loop)
{
    for (int i = 0; i < 10; i++)
        nano_loop_run_once(loop, 0);
}

static void
test_shared_buffer_and_lifetime(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct nano_sub *s1, *s2, *s3;
    struct collector c1 = { .n = 0 }, c2 = { .n = 0 }, c3 = { .n = 0 };
    uint64_t live0 = nano_msg_live();

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    NT_CHECK(nano_bus_subscribe(bus, "sensors/#", NULL, collect, &c1, &s1) == NANO_OK);
    NT_CHECK(nano_bus_subscribe(bus, "sensors/+/temperature", NULL, collect, &c2, &s2) == NANO_OK);
    NT_CHECK(nano_bus_subscribe(bus, "other/#", NULL, collect, &c3, &s3) == NANO_OK);
    NT_CHECK(nano_bus_subscribe(bus, "bad/#/x", NULL, collect, &c3, &s3) == -EINVAL);

    struct nano_value v = nano_value_num(21.5, "°C");
    struct nano_msg *m = nano_msg_new("sensors/boiler/temperature", &v, NULL);
    NT_ASSERT(m);
    NT_EQ_STR(m->v.unit, "°C");
    NT_CHECK(nano_bus_publish(bus, m) == NANO_OK);
    NT_EQ_INT(c1.n, 0);                   /* delivery is never synchronous */
    /* queues (2) + latest table (1) + ours (1) */
    NT_EQ_INT(m->refs, 4);
    drain(loop);
    NT_EQ_INT(c1.n, 1);
    NT_EQ_INT(c2.n, 1);
    NT_EQ_INT(c3.n, 0);
    NT_CHECK(c1.got[0] == m && c2.got[0] == m);   /* one buffer, shared */
    nano_msg_unref(m);
    collector_release(&c1);
    collector_release(&c2);
    NT_EQ_INT(m->refs, 1);                /* only the latest table now */
    NT_CHECK(nano_bus_latest(bus, "sensors/boiler/temperature") == m);

    /* Invalid publishes are refused and create nothing. */
    int err;
    NT_CHECK(nano_msg_new("sensors/+/x", &v, &err) == NULL && err == -EINVAL);
    NT_CHECK(nano_msg_new("", &v, &err) == NULL && err == -EINVAL);

    nano_bus_free(bus);
    nano_loop_free(loop);
    NT_EQ_INT(nano_msg_live(), live0);
}

static void
test_overflow_policies_count_drops(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct nano_sub *old_sub, *new_sub;
    struct collector co = { .n = 0 }, cn = { .n = 0 };
    struct nano_sub_opts oo = { .name = "oldest", .queue_cap = 4,
                                .overflow = NANO_DROP_OLDEST };
    struct nano_sub_opts on = { .name = "newest", .queue_cap = 4,
                                .overflow = NANO_DROP_NEWEST };
    struct nano_sub_stats st;
    struct nano_bus_stats bs;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    nano_bus_subscribe(bus, "t/#", &oo, collect, &co, &old_sub);
    nano_bus_subscribe(bus, "t/#", &on, collect, &cn, &new_sub);
    for (int i = 0; i < 10; i++) {
        struct nano_value v = nano_value_num(i, NULL);
        NT_CHECK(nano_bus_publish_value(bus, "t/x", &v) == NANO_OK);
    }
    nano_sub_get_stats(old_sub, &st);
    NT_EQ_INT(st.queued, 4);
    NT_EQ_INT(st.dropped, 6);
    drain(loop);
    NT_EQ_INT(co.n, 4);
    NT_EQ_INT(cn.n, 4);
    NT_NEAR(co.got[0]->v.u.num, 6, 0);    /* kept the freshest: 6..9 */
    NT_NEAR(co.got[3]->v.u.num, 9, 0);
    NT_NEAR(cn.got[0]->v.u.num, 0, 0);    /* kept the first: 0..3 */
    NT_NEAR(cn.got[3]->v.u.num, 3, 0);
    nano_sub_get_stats(new_sub, &st);
    NT_EQ_INT(st.dropped, 6);
    NT_EQ_INT(st.delivered, 4);
    nano_bus_get_stats(bus, &bs);
    NT_EQ_INT(bs.published, 10);
    NT_EQ_INT(bs.dropped, 12);
    NT_EQ_INT(bs.delivered, 8);
    NT_EQ_INT(bs.topics, 1);
    collector_release(&co);
    collector_release(&cn);
    nano_bus_free(bus);
    nano_loop_free(loop);
}

static int notified;

static void
on_notify(void *arg, struct nano_sub *sub)
{
    notified++;
}

static void
test_pull_subscriber(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct nano_sub *sub;
    struct nano_sub_opts o = { .queue_cap = 8, .notify = on_notify };
    uint64_t live0 = nano_msg_live();

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    NT_CHECK(nano_bus_subscribe(bus, "a/+", &o, NULL, NULL, &sub) == NANO_OK);
    notified = 0;
    for (int i = 0; i < 3; i++) {
        struct nano_value v = nano_value_num(i, NULL);
        nano_bus_publish_value(bus, "a/b", &v);
    }
    NT_EQ_INT(notified, 1);               /* only on empty -> non-empty */
    const struct nano_msg *m = nano_sub_pop(sub);
    NT_ASSERT(m);
    NT_NEAR(m->v.u.num, 0, 0);
    nano_msg_unref(m);
    while ((m = nano_sub_pop(sub)))
        nano_msg_unref(m);
    struct nano_value v = nano_value_num(5, NULL);
    nano_bus_publish_value(bus, "a/b", &v);
    NT_EQ_INT(notified, 2);
    /* Unsubscribing with messages still queued releases them. */
    nano_bus_unsubscribe(bus, sub);
    nano_bus_free(bus);
    nano_loop_free(loop);
    NT_EQ_INT(nano_msg_live(), live0);
}

static void
test_reentrancy(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct collector self = { .n = 0 }, loopy = { .n = 0 }, down = { .n = 0 };
    struct nano_sub *s_self, *s_loopy, *s_down;
    uint64_t live0 = nano_msg_live();

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    /* Unsubscribes itself after the 2nd message of 5 queued. */
    self.bus = bus;
    self.unsubscribe_after = 2;
    nano_bus_subscribe(bus, "x", NULL, collect, &self, &s_self);
    self.self = s_self;
    /* Republishes to a topic it matches: must not spin within one round. */
    loopy.bus = bus;
    loopy.republish = "loop/y";
    nano_bus_subscribe(bus, "loop/#", NULL, collect, &loopy, &s_loopy);
    nano_bus_subscribe(bus, "loop/y", NULL, collect, &down, &s_down);
    for (int i = 0; i < 5; i++) {
        struct nano_value v = nano_value_num(i, NULL);
        nano_bus_publish_value(bus, "x", &v);
    }
    struct nano_value v0 = nano_value_num(0, NULL);
    nano_bus_publish_value(bus, "loop/x", &v0);
    nano_loop_run_once(loop, 0);
    NT_EQ_INT(self.n, 2);
    NT_EQ_INT(loopy.n, 1);                /* the republished one waits */
    nano_loop_run_once(loop, 0);
    NT_EQ_INT(loopy.n, 2);
    NT_CHECK(down.n >= 1);
    NT_NEAR(down.got[0]->v.u.num, 1, 0);
    collector_release(&self);
    collector_release(&loopy);
    collector_release(&down);
    nano_bus_free(bus);
    nano_loop_free(loop);
    NT_EQ_INT(nano_msg_live(), live0);
}

struct topic_list {
    char names[16][64];
    int n;
};

static void
list_topic(void *arg, const struct nano_msg *m)
{
    struct topic_list *tl = arg;

    if (tl->n++ >= 16)
        return;
    snprintf(tl->names[tl->n - 1], 64, "%s=%g%s", m->topic, m->v.u.num,
             m->v.quality == NANO_Q_STALE ? "(stale)" : "");
}

static void
test_latest_table_and_stale(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct topic_list tl = { .n = 0 };
    char topic[64];

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    /* Enough topics to force several table growths. */
    for (int i = 0; i < 200; i++) {
        struct nano_value v = nano_value_num(i, NULL);
        snprintf(topic, sizeof topic, "sensors/d%03d/t", i);
        NT_CHECK(nano_bus_publish_value(bus, topic, &v) == NANO_OK);
    }
    struct nano_value v = nano_value_num(1000, NULL);
    nano_bus_publish_value(bus, "sensors/d007/t", &v);
    const struct nano_msg *m = nano_bus_latest(bus, "sensors/d007/t");
    NT_ASSERT(m);
    NT_NEAR(m->v.u.num, 1000, 0);
    NT_CHECK(nano_bus_latest(bus, "sensors/none") == NULL);
    nano_bus_foreach_latest(bus, "sensors/d00/t", list_topic, &tl);
    NT_EQ_INT(tl.n, 0);
    nano_bus_foreach_latest(bus, "sensors/+/t", list_topic, &tl);
    NT_EQ_INT(tl.n, 200);
    NT_EQ_STR(tl.names[0], "sensors/d000/t=0");   /* sorted */
    NT_EQ_STR(tl.names[7], "sensors/d007/t=1000");
    NT_EQ_INT(nano_bus_mark_stale(bus, "sensors/d00/t"), 0);
    NT_EQ_INT(nano_bus_mark_stale(bus, "sensors/d007/#"), 1);
    m = nano_bus_latest(bus, "sensors/d007/t");
    NT_EQ_INT(m->v.quality, NANO_Q_STALE);
    NT_NEAR(m->v.u.num, 1000, 0);          /* keeps the last known value */
    NT_EQ_INT(nano_bus_mark_stale(bus, "sensors/d007/#"), 0);  /* already */
    nano_bus_free(bus);
    nano_loop_free(loop);
}

NT_LIST = {
    { "wildcard_matching", test_wildcard_matching },
    { "shared_buffer_and_lifetime", test_shared_buffer_and_lifetime },
    { "overflow_policies_count_drops", test_overflow_policies_count_drops },
    { "pull_subscriber", test_pull_subscriber },
    { "reentrancy", test_reentrancy },
    { "latest_table_and_stale", test_latest_table_and_stale },
    { NULL, NULL }
};
