/* SPDX-License-Identifier: MIT
 *
 * loop_epoll.c - the event loop on Linux epoll (contract in loop.h).
 *
 * Data structures, all owned by struct nano_loop:
 *   - epoll set; each nano_io is registered with data.ptr = the watcher;
 *   - a binary min-heap of timer pointers ordered by due_ns (each timer knows
 *     its own index, so stop is O(log n) without a search);
 *   - a FIFO of deferred work, run in batches: work queued while a batch runs
 *     waits for the next iteration, so a callback that re-queues itself
 *     cannot starve fd events or timers;
 *   - a mutex-protected FIFO of work posted from other threads, and an
 *     eventfd that wakes epoll_wait when something is posted or stop is asked;
 *   - one signalfd for every signal given to nano_loop_signal().
 *
 * Stopping a watcher while the events of the current epoll batch are being
 * dispatched must not leave a dangling pointer in that batch: nano_io_stop()
 * clears the watcher from the not-yet-dispatched part of the batch.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/time.h"

#define MAX_EVENTS 64
#define NSIG_MAX   65

struct sig_handler {
    nano_signal_fn *cb;
    void           *arg;
};

struct nano_loop {
    int                 epfd;
    int                 wake_fd;
    struct nano_io      wake_io;
    int                 sig_fd;
    struct nano_io      sig_io;
    sigset_t            sig_mask;
    struct sig_handler  sig[NSIG_MAX];

    struct nano_timer **heap;
    uint32_t            heap_len, heap_cap;

    struct nano_work   *defer_head, *defer_tail;

    pthread_mutex_t     post_lock;
    struct nano_work   *post_head, *post_tail;

    struct epoll_event  events[MAX_EVENTS];
    int                 ev_count, ev_cur;   /* batch being dispatched */

    atomic_bool         stop;
    uint64_t            now_ns;
    uint64_t            iterations;
};

/* ---- fd watchers ------------------------------------------------------- */

void
nano_io_init(struct nano_io *io, int fd, nano_io_fn *cb)
{
    io->fd = fd;
    io->events = 0;
    io->cb = cb;
}

int
nano_io_start(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct epoll_event ev = { 0 };
    int op;

    ev.events = ((events & NANO_EV_READ) ? EPOLLIN : 0) |
                ((events & NANO_EV_WRITE) ? EPOLLOUT : 0);
    ev.data.ptr = io;
    if (io->events == 0 && events == 0)
        return NANO_OK;
    if (events == 0) {
        nano_io_stop(loop, io);
        return NANO_OK;
    }
    op = io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, io->fd, &ev) < 0)
        return -errno;
    io->events = events & (NANO_EV_READ | NANO_EV_WRITE);
    return NANO_OK;
}

void
nano_io_stop(struct nano_loop *loop, struct nano_io *io)
{
    if (io->events == 0)
        return;
    /* The fd may already be closed by the owner; ENOENT/EBADF are fine. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->events = 0;
    for (int i = loop->ev_cur + 1; i < loop->ev_count; i++)
        if (loop->events[i].data.ptr == io)
            loop->events[i].data.ptr = NULL;
}

/* ---- timers: binary min-heap --------------------------------------------- */

static inline bool
timer_before(const struct nano_timer *a, const struct nano_timer *b)
{
    return a->due_ns < b->due_ns;
}

static void
heap_set(struct nano_loop *loop, uint32_t i, struct nano_timer *t)
{
    loop->heap[i] = t;
    t->heap_idx = i + 1;
}

static void
heap_up(struct nano_loop *loop, uint32_t i)
{
    struct nano_timer *t = loop->heap[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void
heap_down(struct nano_loop *loop, uint32_t i)
{
    struct nano_timer *t = loop->heap[i];
    uint32_t n = loop->heap_len;

    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const struct nano_timer *best = t;
        if (l < n && timer_before(loop->heap[l], best)) {
            m = l;
            best = loop->heap[l];
        }
        if (r < n && timer_before(loop->heap[r], best))
            m = r;
        if (m == i)
            break;
        heap_set(loop, i, loop->heap[m]);
        i = m;
    }
    heap_set(loop, i, t);
}

static void
heap_remove(struct nano_loop *loop, struct nano_timer *t)
{
    uint32_t i = t->heap_idx - 1;
    struct nano_timer *last = loop->heap[--loop->heap_len];

    t->heap_idx = 0;
    if (last == t)
        return;
    heap_set(loop, i, last);
    if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
        heap_up(loop, i);
    else
        heap_down(loop, i);
}

void
nano_timer_init(struct nano_timer *t, nano_timer_fn *cb)
{
    t->cb = cb;
    t->due_ns = 0;
    t->period_ns = 0;
    t->heap_idx = 0;
}

int
nano_timer_start_ns(struct nano_loop *loop, struct nano_timer *t,
                    uint64_t delay_ns, uint64_t repeat_ns)
{
    if (t->heap_idx)
        heap_remove(loop, t);
    if (loop->heap_len == loop->heap_cap) {
        uint32_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        struct nano_timer **h = nano_realloc(loop->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        loop->heap = h;
        loop->heap_cap = cap;
    }
    /* Deadlines count from a fresh clock reading, not the iteration's cached
     * one, so a timer armed late in a long iteration is not early. */
    t->due_ns = nano_time_mono_ns() + delay_ns;
    t->period_ns = repeat_ns;
    loop->heap[loop->heap_len] = t;
    loop->heap_len++;
    heap_up(loop, loop->heap_len - 1);
    return NANO_OK;
}

int
nano_timer_start(struct nano_loop *loop, struct nano_timer *t,
                 uint64_t delay_ms, uint64_t repeat_ms)
{
    return nano_timer_start_ns(loop, t, delay_ms * NANO_NS_PER_MS,
                               repeat_ms * NANO_NS_PER_MS);
}

void
nano_timer_stop(struct nano_loop *loop, struct nano_timer *t)
{
    if (t->heap_idx)
        heap_remove(loop, t);
}

static int
run_timers(struct nano_loop *loop)
{
    int ran = 0;
    uint64_t now = loop->now_ns;

    while (loop->heap_len && loop->heap[0]->due_ns <= now) {
        struct nano_timer *t = loop->heap[0];
        if (t->period_ns) {
            /* Keep the phase (no drift); if we fell behind by more than a
             * period, skip the missed ticks rather than firing a burst. */
            t->due_ns += t->period_ns;
            if (t->due_ns <= now)
                t->due_ns = now + t->period_ns;
            heap_down(loop, 0);
        } else {
            heap_remove(loop, t);
        }
        t->cb(loop, t);
        ran++;
    }
    return ran;
}

/* ---- deferred and posted work ------------------------------------------ */

void
nano_work_init(struct nano_work *w, nano_work_fn *cb)
{
    w->cb = cb;
    w->next = NULL;
    w->queued = false;
}

void
nano_loop_defer(struct nano_loop *loop, struct nano_work *w)
{
    if (w->queued)
        return;
    w->queued = true;
    w->next = NULL;
    if (loop->defer_tail)
        loop->defer_tail->next = w;
    else
        loop->defer_head = w;
    loop->defer_tail = w;
}

void
nano_loop_cancel(struct nano_loop *loop, struct nano_work *w)
{
    struct nano_work **pp = &loop->defer_head, *prev = NULL;

    if (!w->queued)
        return;
    while (*pp) {
        if (*pp == w) {
            *pp = w->next;
            if (loop->defer_tail == w)
                loop->defer_tail = prev;
            w->queued = false;
            w->next = NULL;
            return;
        }
        prev = *pp;
        pp = &(*pp)->next;
    }
}

static int
run_deferred(struct nano_loop *loop)
{
    struct nano_work *batch = loop->defer_head;
    struct nano_work *stop_at = loop->defer_tail;
    int ran = 0;

    if (!batch)
        return 0;
    /* Detach exactly the items present now; new ones form the next batch.
     * An item of this batch may be cancelled by an earlier one, so pop from
     * the live list instead of walking a detached copy. */
    while (loop->defer_head) {
        struct nano_work *w = loop->defer_head;
        bool last = (w == stop_at);
        loop->defer_head = w->next;
        if (!loop->defer_head)
            loop->defer_tail = NULL;
        w->next = NULL;
        w->queued = false;
        w->cb(loop, w);
        ran++;
        if (last)
            break;
    }
    (void)batch;
    return ran;
}

int
nano_loop_post(struct nano_loop *loop, struct nano_work *w)
{
    uint64_t one = 1;
    ssize_t n;

    pthread_mutex_lock(&loop->post_lock);
    if (w->queued) {
        pthread_mutex_unlock(&loop->post_lock);
        return -EALREADY;
    }
    w->queued = true;
    w->next = NULL;
    if (loop->post_tail)
        loop->post_tail->next = w;
    else
        loop->post_head = w;
    loop->post_tail = w;
    pthread_mutex_unlock(&loop->post_lock);
    n = write(loop->wake_fd, &one, sizeof one);
    (void)n;   /* EAGAIN means the counter is already nonzero: awake anyway */
    return NANO_OK;
}

static void
on_wake(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    uint64_t v;
    struct nano_work *w;
    ssize_t n;

    n = read(io->fd, &v, sizeof v);
    (void)n;
    pthread_mutex_lock(&loop->post_lock);
    w = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    while (w) {
        struct nano_work *next = w->next;
        w->next = NULL;
        w->queued = false;
        w->cb(loop, w);
        w = next;
    }
}

/* ---- signals ------------------------------------------------------------- */

static void
on_signal(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct signalfd_siginfo si;

    while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < NSIG_MAX && loop->sig[signo].cb)
            loop->sig[signo].cb(loop, signo, loop->sig[signo].arg);
    }
}

int
nano_loop_signal(struct nano_loop *loop, int signo, nano_signal_fn *cb,
                 void *arg)
{
    int fd;

    if (signo <= 0 || signo >= NSIG_MAX)
        return -EINVAL;
    sigaddset(&loop->sig_mask, signo);
    if (pthread_sigmask(SIG_BLOCK, &loop->sig_mask, NULL) != 0)
        return -EINVAL;
    fd = signalfd(loop->sig_fd, &loop->sig_mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    loop->sig[signo].cb = cb;
    loop->sig[signo].arg = arg;
    if (loop->sig_fd < 0) {
        loop->sig_fd = fd;
        nano_io_init(&loop->sig_io, fd, on_signal);
        return nano_io_start(loop, &loop->sig_io, NANO_EV_READ);
    }
    return NANO_OK;
}

/* ---- the loop ------------------------------------------------------------ */

int
nano_loop_new(struct nano_loop **loop_out)
{
    struct nano_loop *loop;
    int rc;

    *loop_out = NULL;
    loop = nano_calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    loop->sig_fd = -1;
    sigemptyset(&loop->sig_mask);
    pthread_mutex_init(&loop->post_lock, NULL);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        rc = -errno;
        goto fail_alloc;
    }
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake_fd < 0) {
        rc = -errno;
        goto fail_epoll;
    }
    nano_io_init(&loop->wake_io, loop->wake_fd, on_wake);
    rc = nano_io_start(loop, &loop->wake_io, NANO_EV_READ);
    if (rc != NANO_OK)
        goto fail_wake;
    loop->now_ns = nano_time_mono_ns();
    *loop_out = loop;
    return NANO_OK;

fail_wake:
    close(loop->wake_fd);
fail_epoll:
    close(loop->epfd);
fail_alloc:
    pthread_mutex_destroy(&loop->post_lock);
    nano_free(loop);
    return rc;
}

void
nano_loop_free(struct nano_loop *loop)
{
    if (!loop)
        return;
    if (loop->sig_fd >= 0) {
        nano_io_stop(loop, &loop->sig_io);
        close(loop->sig_fd);
        pthread_sigmask(SIG_UNBLOCK, &loop->sig_mask, NULL);
    }
    nano_io_stop(loop, &loop->wake_io);
    close(loop->wake_fd);
    close(loop->epfd);
    pthread_mutex_destroy(&loop->post_lock);
    nano_free(loop->heap);
    nano_free(loop);
}

static int
next_timeout_ms(const struct nano_loop *loop, int cap_ms)
{
    uint64_t now, due, wait_ns;
    int ms;

    if (loop->defer_head)
        return 0;
    if (!loop->heap_len)
        return cap_ms;
    now = nano_time_mono_ns();
    due = loop->heap[0]->due_ns;
    if (due <= now)
        return 0;
    wait_ns = due - now;
    /* Round up: waking before the deadline would spin. */
    ms = (int)((wait_ns + NANO_NS_PER_MS - 1) / NANO_NS_PER_MS);
    if (cap_ms >= 0 && ms > cap_ms)
        ms = cap_ms;
    return ms;
}

int
nano_loop_run_once(struct nano_loop *loop, int timeout_ms)
{
    int n, ran;

    loop->iterations++;
    ran = run_deferred(loop);
    n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS,
                   next_timeout_ms(loop, timeout_ms));
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }
    loop->now_ns = nano_time_mono_ns();
    loop->ev_count = n;
    for (loop->ev_cur = 0; loop->ev_cur < n; loop->ev_cur++) {
        struct epoll_event *ev = &loop->events[loop->ev_cur];
        struct nano_io *io = ev->data.ptr;
        unsigned events = 0;

        if (!io)
            continue;      /* stopped by an earlier callback of this batch */
        if (ev->events & EPOLLIN)
            events |= NANO_EV_READ;
        if (ev->events & EPOLLOUT)
            events |= NANO_EV_WRITE;
        if (ev->events & (EPOLLERR | EPOLLHUP))
            events |= NANO_EV_ERROR | (io->events & NANO_EV_READ);
        io->cb(loop, io, events);
        ran++;
    }
    loop->ev_count = loop->ev_cur = 0;
    ran += run_timers(loop);
    return ran;
}

int
nano_loop_run(struct nano_loop *loop)
{
    atomic_store(&loop->stop, false);
    while (!atomic_load(&loop->stop)) {
        int rc = nano_loop_run_once(loop, -1);
        if (rc < 0)
            return rc;
    }
    return NANO_OK;
}

void
nano_loop_stop(struct nano_loop *loop)
{
    uint64_t one = 1;
    ssize_t n;

    atomic_store(&loop->stop, true);
    n = write(loop->wake_fd, &one, sizeof one);
    (void)n;
}

uint64_t
nano_loop_now_ns(const struct nano_loop *loop)
{
    return loop->now_ns;
}

uint64_t
nano_loop_iterations(const struct nano_loop *loop)
{
    return loop->iterations;
}
