/* SPDX-License-Identifier: MIT
 *
 * loop.h - the event loop: fd watchers, timers, deferred work, cross-thread
 * hand-off and signals, all on one thread.
 *
 * One loop thread owns all of Nano's state, so nothing in the core takes a
 * lock (the design of Redis's ae and of Mosquitto).  Each iteration:
 *
 *   1. run deferred work queued by nano_loop_defer() (FIFO, including work
 *      queued while running it - bounded by a per-iteration cap so a producer
 *      cannot starve fd events);
 *   2. epoll_wait() with the time to the earliest timer as timeout;
 *   3. dispatch ready fds (each nano_io callback gets its events);
 *   4. run expired timers in deadline order.
 *
 * Watchers and timers are embedded in the caller's structs (no allocation;
 * recover the container with NANO_CONTAINER_OF).  Callbacks may start and
 * stop any watcher or timer, including their own, and may free the struct
 * that embeds the watcher after stopping it.
 *
 * Work from other threads enters with nano_loop_post(), which is the only
 * thread-safe call here: it takes a mutex, links the item and writes an
 * eventfd that wakes epoll.
 *
 * Signals go through signalfd: nano_loop_signal() blocks the signal for the
 * process and delivers it as an ordinary callback on the loop thread.
 *
 * Time: nano_loop_now_ns() is CLOCK_MONOTONIC cached at the start of the
 * iteration (cheap; use nano_time_mono_ns() for a fresh reading).
 */
#ifndef NANO_CORE_LOOP_H
#define NANO_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct nano_loop;

/* ---- fd watchers ------------------------------------------------------- */

#define NANO_EV_READ   0x1u
#define NANO_EV_WRITE  0x2u
#define NANO_EV_ERROR  0x4u   /* delivered, never requested: EPOLLERR/EPOLLHUP */

struct nano_io;
typedef void nano_io_fn(struct nano_loop *loop, struct nano_io *io,
                        unsigned events);

struct nano_io {
    int         fd;       /* public, read-only after init */
    unsigned    events;   /* read-only: what is being watched now */
    nano_io_fn *cb;       /* public */
};

void nano_io_init(struct nano_io *io, int fd, nano_io_fn *cb);

/* Watch io->fd for events (NANO_EV_READ | NANO_EV_WRITE); replaces what was
 * watched before.  Returns NANO_OK or -errno from epoll_ctl.
 * Keeps io until nano_io_stop(). */
int  nano_io_start(struct nano_loop *loop, struct nano_io *io, unsigned events);

/* Stop watching; safe on a stopped watcher.  Does not close the fd. */
void nano_io_stop(struct nano_loop *loop, struct nano_io *io);

/* ---- timers ------------------------------------------------------------ */

struct nano_timer;
typedef void nano_timer_fn(struct nano_loop *loop, struct nano_timer *t);

struct nano_timer {
    nano_timer_fn *cb;        /* public */
    uint64_t       due_ns;    /* read-only: monotonic deadline when active */
    uint64_t       period_ns; /* read-only: 0 = one-shot */
    uint32_t       heap_idx;  /* private: position in the loop's heap + 1; 0 = idle */
};

void nano_timer_init(struct nano_timer *t, nano_timer_fn *cb);

/* (Re)arm t to fire after delay_ms, then every repeat_ms if nonzero.
 * Returns NANO_OK or -ENOMEM (the heap could not grow).
 * Keeps t until it fires (one-shot) or nano_timer_stop(). */
int  nano_timer_start(struct nano_loop *loop, struct nano_timer *t,
                      uint64_t delay_ms, uint64_t repeat_ms);
int  nano_timer_start_ns(struct nano_loop *loop, struct nano_timer *t,
                         uint64_t delay_ns, uint64_t repeat_ns);

/* Disarm; no-op when idle. */
void nano_timer_stop(struct nano_loop *loop, struct nano_timer *t);

static inline bool
nano_timer_active(const struct nano_timer *t)
{
    return t->heap_idx != 0;
}

/* ---- deferred work and cross-thread hand-off --------------------------- */

struct nano_work;
typedef void nano_work_fn(struct nano_loop *loop, struct nano_work *w);

struct nano_work {
    nano_work_fn     *cb;     /* public */
    struct nano_work *next;   /* private */
    bool              queued; /* read-only */
};

void nano_work_init(struct nano_work *w, nano_work_fn *cb);

/* Loop thread: run w->cb at the start of the next iteration.  Queuing an
 * already queued item is a no-op (so it is cheap to "kick" a consumer).
 * Keeps w until its callback ran or nano_loop_cancel(). */
void nano_loop_defer(struct nano_loop *loop, struct nano_work *w);

/* Loop thread: remove w if queued by nano_loop_defer(). */
void nano_loop_cancel(struct nano_loop *loop, struct nano_work *w);

/* Any thread: hand w to the loop thread; its callback runs there.
 * Returns NANO_OK or -EALREADY if w is already posted.  Keeps w until the
 * callback ran. */
int  nano_loop_post(struct nano_loop *loop, struct nano_work *w);

/* ---- signals ----------------------------------------------------------- */

typedef void nano_signal_fn(struct nano_loop *loop, int signo, void *arg);

/* Deliver signo on the loop thread through a signalfd.  The signal is
 * blocked for the calling thread (call before starting other threads so they
 * inherit the mask).  One handler per signal; a second call replaces it.
 * Returns NANO_OK or -errno. */
int  nano_loop_signal(struct nano_loop *loop, int signo, nano_signal_fn *cb,
                      void *arg);

/* ---- the loop ------------------------------------------------------------ */

/* Returns NANO_OK and *loop_out (Returns owned; free with nano_loop_free()),
 * or -errno. */
int  nano_loop_new(struct nano_loop **loop_out);

/* Every watcher and timer must be stopped first; queued work is dropped. */
void nano_loop_free(struct nano_loop *loop);

/* Run until nano_loop_stop().  Returns NANO_OK or -errno from epoll. */
int  nano_loop_run(struct nano_loop *loop);

/* Run one iteration, waiting at most timeout_ms (-1: until something
 * happens).  For tests and embedding.  Returns number of callbacks run. */
int  nano_loop_run_once(struct nano_loop *loop, int timeout_ms);

/* Ask nano_loop_run() to return after the current iteration; any thread
 * may call it (it posts internally). */
void nano_loop_stop(struct nano_loop *loop);

uint64_t nano_loop_now_ns(const struct nano_loop *loop);

/* Number of iterations run; for metrics. */
uint64_t nano_loop_iterations(const struct nano_loop *loop);

#endif
