/* test_loop.c - event loop: timers in order, periodic timers, fd watchers,
 * deferred work batching, cross-thread posts, signals, stop from a callback,
 * and stopping a watcher from inside the same epoll batch. */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/time.h"

struct rec_timer {
    struct nano_timer t;
    int id;
    int *log;
    int *n;
};

static void
rec_fire(struct nano_loop *loop, struct nano_timer *t)
{
    struct rec_timer *r = NANO_CONTAINER_OF(t, struct rec_timer, t);

    r->log[(*r->n)++] = r->id;
    (void)loop;
}

static void
test_timers_fire_in_deadline_order(void)
{
    struct nano_loop *loop;
    struct rec_timer r[5];
    int log[8], n = 0;
    static const int delays[5] = { 30, 10, 50, 20, 40 };

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    for (int i = 0; i < 5; i++) {
        r[i].id = i;
        r[i].log = log;
        r[i].n = &n;
        nano_timer_init(&r[i].t, rec_fire);
        NT_CHECK(nano_timer_start(loop, &r[i].t, (uint64_t)delays[i], 0) == NANO_OK);
    }
    nano_timer_stop(loop, &r[4].t);          /* 40 ms never fires */
    NT_CHECK(!nano_timer_active(&r[4].t));
    uint64_t t0 = nano_time_mono_ns();
    while (n < 4 && nano_time_mono_ns() - t0 < 2 * NANO_NS_PER_S)
        nano_loop_run_once(loop, 100);
    nano_loop_run_once(loop, 60);
    NT_EQ_INT(n, 4);
    NT_EQ_INT(log[0], 1);
    NT_EQ_INT(log[1], 3);
    NT_EQ_INT(log[2], 0);
    NT_EQ_INT(log[3], 2);
    nano_loop_free(loop);
}

struct periodic {
    struct nano_timer t;
    int count;
};

static void
periodic_fire(struct nano_loop *loop, struct nano_timer *t)
{
    struct periodic *p = NANO_CONTAINER_OF(t, struct periodic, t);

    if (++p->count == 5) {
        nano_timer_stop(loop, t);
        nano_loop_stop(loop);
    }
}

static void
test_periodic_timer_and_stop(void)
{
    struct nano_loop *loop;
    struct periodic p = { .count = 0 };

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    nano_timer_init(&p.t, periodic_fire);
    nano_timer_start(loop, &p.t, 1, 2);
    uint64_t t0 = nano_time_mono_ns();
    NT_CHECK(nano_loop_run(loop) == NANO_OK);
    uint64_t el = nano_time_mono_ns() - t0;
    NT_EQ_INT(p.count, 5);
    NT_CHECK(el >= 8 * NANO_NS_PER_MS);      /* 1 + 4 periods of 2 ms */
    NT_CHECK(!nano_timer_active(&p.t));
    nano_loop_free(loop);
}

/* Many timers started and stopped at random keep the heap consistent. */
static void
test_timer_heap_stress(void)
{
    struct nano_loop *loop;
    static struct rec_timer r[300];
    static int log[400];
    int n = 0;
    unsigned seed = 7;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    for (int i = 0; i < 300; i++) {
        r[i].id = i;
        r[i].log = log;
        r[i].n = &n;
        nano_timer_init(&r[i].t, rec_fire);
        nano_timer_start_ns(loop, &r[i].t, (uint64_t)(rand_r(&seed) % 20000) * 1000, 0);
    }
    int stopped = 0;
    for (int i = 0; i < 300; i += 3) {
        nano_timer_stop(loop, &r[i].t);
        stopped++;
    }
    uint64_t t0 = nano_time_mono_ns();
    while (n < 300 - stopped && nano_time_mono_ns() - t0 < NANO_NS_PER_S)
        nano_loop_run_once(loop, 50);
    NT_EQ_INT(n, 300 - stopped);
    for (int i = 1; i < n; i++)
        NT_CHECK(r[log[i - 1]].t.due_ns <= r[log[i]].t.due_ns);
    for (int i = 0; i < n; i++)
        NT_CHECK(log[i] % 3 != 0);
    nano_loop_free(loop);
}

struct pipe_pair {
    struct nano_io io;
    int got;
    struct pipe_pair *other;   /* stopped from our callback */
};

static void
pair_cb(struct nano_loop *loop, struct nano_io *io, unsigned ev)
{
    struct pipe_pair *p = NANO_CONTAINER_OF(io, struct pipe_pair, io);
    char buf[16];

    if (ev & NANO_EV_READ) {
        if (read(io->fd, buf, sizeof buf) > 0)
            p->got++;
    }
    if (p->other)
        nano_io_stop(loop, &p->other->io);
}

static void
test_io_watchers_and_stop_within_batch(void)
{
    struct nano_loop *loop;
    int a[2], b[2];
    struct pipe_pair pa = { .got = 0 }, pb = { .got = 0 };

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(pipe(a) == 0 && pipe(b) == 0);
    nano_io_init(&pa.io, a[0], pair_cb);
    nano_io_init(&pb.io, b[0], pair_cb);
    pa.other = &pb;
    pb.other = &pa;
    NT_CHECK(nano_io_start(loop, &pa.io, NANO_EV_READ) == NANO_OK);
    NT_CHECK(nano_io_start(loop, &pb.io, NANO_EV_READ) == NANO_OK);
    NT_CHECK(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1);
    nano_loop_run_once(loop, 100);
    /* Both were ready in one batch; whichever ran first stopped the other. */
    NT_EQ_INT(pa.got + pb.got, 1);
    NT_CHECK((pa.io.events == 0) != (pb.io.events == 0));
    NT_CHECK(nano_io_start(loop, &pa.io, 0) == NANO_OK);
    nano_io_stop(loop, &pb.io);
    NT_EQ_INT(pa.io.events, 0);
    /* A bad fd is an error return, not a crash. */
    struct nano_io bad;
    nano_io_init(&bad, 9999, pair_cb);
    NT_EQ_INT(nano_io_start(loop, &bad, NANO_EV_READ), -EBADF);
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    nano_loop_free(loop);
}

struct requeue {
    struct nano_work w;
    int runs;
};

static void
requeue_cb(struct nano_loop *loop, struct nano_work *w)
{
    struct requeue *r = NANO_CONTAINER_OF(w, struct requeue, w);

    r->runs++;
    nano_loop_defer(loop, w);     /* always re-queues itself */
}

static void
test_deferred_work_runs_in_batches(void)
{
    struct nano_loop *loop;
    struct requeue r = { .runs = 0 };
    struct periodic p = { .count = 0 };

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    nano_work_init(&r.w, requeue_cb);
    nano_loop_defer(loop, &r.w);
    nano_loop_defer(loop, &r.w);     /* second defer of a queued item: no-op */
    nano_loop_run_once(loop, 0);
    NT_EQ_INT(r.runs, 1);
    /* The self-requeuing item does not starve timers. */
    nano_timer_init(&p.t, periodic_fire);
    nano_timer_start(loop, &p.t, 1, 1);
    NT_CHECK(nano_loop_run(loop) == NANO_OK);
    NT_EQ_INT(p.count, 5);
    NT_CHECK(r.runs > 5);
    nano_loop_cancel(loop, &r.w);
    NT_CHECK(!r.w.queued);
    int before = r.runs;
    nano_loop_run_once(loop, 0);
    NT_EQ_INT(r.runs, before);
    nano_loop_free(loop);
}

struct posted {
    struct nano_work w;
    int value;
    pthread_t from;
    int on_loop_thread;
};

static pthread_t loop_thread;
static int posted_done;

static void
posted_cb(struct nano_loop *loop, struct nano_work *w)
{
    struct posted *p = NANO_CONTAINER_OF(w, struct posted, w);

    p->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    if (++posted_done == 8)
        nano_loop_stop(loop);
}

struct poster_arg {
    struct nano_loop *loop;
    struct posted *items;
};

static void *
poster(void *arg)
{
    struct poster_arg *pa = arg;

    for (int i = 0; i < 8; i++) {
        usleep(1000);
        nano_loop_post(pa->loop, &pa->items[i].w);
    }
    return NULL;
}

static void
test_post_from_other_thread(void)
{
    struct nano_loop *loop;
    struct posted items[8];
    struct poster_arg pa;
    pthread_t th;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    for (int i = 0; i < 8; i++) {
        nano_work_init(&items[i].w, posted_cb);
        items[i].on_loop_thread = 0;
    }
    loop_thread = pthread_self();
    posted_done = 0;
    pa.loop = loop;
    pa.items = items;
    pthread_create(&th, NULL, poster, &pa);
    NT_CHECK(nano_loop_run(loop) == NANO_OK);
    pthread_join(th, NULL);
    NT_EQ_INT(posted_done, 8);
    for (int i = 0; i < 8; i++)
        NT_CHECK(items[i].on_loop_thread);
    nano_loop_free(loop);
}

static int got_signo;

static void
on_sig(struct nano_loop *loop, int signo, void *arg)
{
    got_signo = signo;
    *(int *)arg += 1;
    nano_loop_stop(loop);
}

static void
test_signal_via_signalfd(void)
{
    struct nano_loop *loop;
    int count = 0;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_CHECK(nano_loop_signal(loop, SIGUSR1, on_sig, &count) == NANO_OK);
    NT_CHECK(nano_loop_signal(loop, SIGHUP, on_sig, &count) == NANO_OK);
    NT_CHECK(nano_loop_signal(loop, 0, on_sig, &count) == -EINVAL);
    kill(getpid(), SIGHUP);
    NT_CHECK(nano_loop_run(loop) == NANO_OK);
    NT_EQ_INT(got_signo, SIGHUP);
    NT_EQ_INT(count, 1);
    nano_loop_free(loop);
}

NT_LIST = {
    { "timers_fire_in_deadline_order", test_timers_fire_in_deadline_order },
    { "periodic_timer_and_stop", test_periodic_timer_and_stop },
    { "timer_heap_stress", test_timer_heap_stress },
    { "io_watchers_and_stop_within_batch", test_io_watchers_and_stop_within_batch },
    { "deferred_work_runs_in_batches", test_deferred_work_runs_in_batches },
    { "post_from_other_thread", test_post_from_other_thread },
    { "signal_via_signalfd", test_signal_via_signalfd },
    { NULL, NULL }
};
