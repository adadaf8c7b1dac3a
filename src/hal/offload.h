/* SPDX-License-Identifier: MIT
 *
 * offload.h - run blocking device I/O on a worker thread and deliver the
 * result on the loop thread.
 *
 * Some device reads cannot be made non-blocking: the kernel's w1-therm
 * blocks the reader of w1_slave for the whole conversion, and libmodbus
 * waits for each reply.  The brief's rule is that such work runs elsewhere
 * and hands its result back through the loop (nano_loop_post), so a driver:
 *
 *   1. allocates a job (its own struct with struct nano_offload_job first),
 *      fills in what the worker needs by value (paths, not pointers into the
 *      driver's context), and submits it;
 *   2. the lane's thread calls run(job): the blocking part, which may touch
 *      only the job itself;
 *   3. the loop thread calls done(job) and then frees the job.
 *
 * When the driver goes away with a job in flight (close() after a watchdog
 * timeout, say), it calls nano_offload_orphan(): done() will not be called,
 * and the job is freed when it finishes (or at once if it had not started).
 * That is what lets close() return without waiting for a read that may
 * never end.
 *
 * Lanes: the shared lane (one thread, started on first use) serves short,
 * independent reads such as 1-Wire; a driver that keeps a connection (Modbus)
 * creates its own lane so one slow peer never delays another.  Jobs on a lane
 * run one at a time in submission order.
 *
 * Context: submit, orphan and lane free on the loop thread; run() on the
 * lane's thread.
 */
#ifndef NANO_HAL_OFFLOAD_H
#define NANO_HAL_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"

struct nano_offload;
struct nano_offload_job;

typedef void nano_offload_fn(struct nano_offload_job *job);

struct nano_offload_job {
    nano_offload_fn         *run;       /* public: worker thread */
    nano_offload_fn         *done;      /* public: loop thread, unless orphaned */
    void                    *owner;     /* public: for done(); loop thread only */
    struct nano_work         work;      /* private */
    struct nano_loop        *loop;      /* private */
    struct nano_offload_job *next;      /* private: lane queue */
    int                      state;     /* private */
    bool                     orphaned;  /* private: loop thread only */
};

/* Allocate a zeroed job of size bytes (>= sizeof(struct nano_offload_job))
 * with run and done set.  Returns owned (until submitted) or NULL. */
void *nano_offload_job_new(size_t size, nano_offload_fn *run,
                           nano_offload_fn *done, void *owner);

/* Free a job that was never submitted.  NULL is a no-op. */
void nano_offload_job_free(void *job);

/* Queue job on lane (NULL: the shared lane, started on first use).
 * Returns NANO_OK (Takes job) or -errno (thread could not start; the caller
 * still owns job). */
int  nano_offload_submit(struct nano_offload *lane, struct nano_loop *loop,
                         struct nano_offload_job *job);

/* The owner of job is going away: done() will not run; the job is freed when
 * it completes, or now if it was still queued. */
void nano_offload_orphan(struct nano_offload *lane,
                         struct nano_offload_job *job);

/* A dedicated lane (its own thread).  Returns NANO_OK and *lane_out
 * (Returns owned; free with nano_offload_lane_free) or -errno. */
int  nano_offload_lane_new(struct nano_offload **lane_out);

/* Orphan queued jobs, wait for the running one to finish, join the thread.
 * Blocks for at most the running job's duration.  NULL is a no-op. */
void nano_offload_lane_free(struct nano_offload *lane);

/* Jobs submitted whose completion has not yet been handled on the loop
 * (all lanes), for tests that must drain before freeing the loop. */
unsigned nano_offload_pending(void);

/* Stop the shared lane (process exit, tests).  Waits for its running job. */
void nano_offload_shutdown(void);

#endif
