/* SPDX-License-Identifier: MIT
 *
 * offload.c - worker lanes for blocking device I/O (contract in offload.h).
 *
 * A lane is one thread and a FIFO of jobs under a mutex.  A job moves
 * QUEUED -> RUNNING -> POSTED (its nano_work handed to the loop with
 * nano_loop_post) -> gone (the loop callback ran done() unless orphaned, and
 * freed it).  The state is written under the lane's mutex; `orphaned` is
 * touched only on the loop thread, which is where both nano_offload_orphan()
 * and the completion callback run, so the two never race.  Orphaning a
 * QUEUED job unlinks and frees it at once; a RUNNING or POSTED one is
 * flagged and freed by the completion callback.
 *
 * Memory: one job allocation per blocking operation (a w1 read per sample,
 * a Modbus poll), freed on the loop thread; lanes cost a thread each.
 */
#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/offload.h"

enum { J_NEW, J_QUEUED, J_RUNNING, J_POSTED };

struct nano_offload {
    pthread_mutex_t          lock;
    pthread_cond_t           wake;
    pthread_t                thread;
    struct nano_offload_job *head, *tail;
    bool                     stop;
    bool                     started;
};

static struct nano_offload *shared;
static unsigned pending;            /* loop thread only */

void *
nano_offload_job_new(size_t size, nano_offload_fn *run, nano_offload_fn *done,
                     void *owner)
{
    struct nano_offload_job *j;

    if (size < sizeof *j)
        return NULL;
    j = nano_calloc(1, size);
    if (!j)
        return NULL;
    j->run = run;
    j->done = done;
    j->owner = owner;
    j->state = J_NEW;
    return j;
}

void
nano_offload_job_free(void *job)
{
    nano_free(job);
}

/* Loop thread: the job finished on the lane. */
static void
on_complete(struct nano_loop *loop, struct nano_work *w)
{
    struct nano_offload_job *j = NANO_CONTAINER_OF(w, struct nano_offload_job, work);

    (void)loop;
    pending--;
    if (!j->orphaned && j->done)
        j->done(j);
    nano_free(j);
}

static void *
lane_main(void *arg)
{
    struct nano_offload *lane = arg;
    struct nano_offload_job *j;

    pthread_mutex_lock(&lane->lock);
    for (;;) {
        while (!lane->head && !lane->stop)
            pthread_cond_wait(&lane->wake, &lane->lock);
        if (!lane->head)
            break;                      /* stop, and nothing left */
        j = lane->head;
        lane->head = j->next;
        if (!lane->head)
            lane->tail = NULL;
        j->next = NULL;
        j->state = J_RUNNING;
        pthread_mutex_unlock(&lane->lock);

        j->run(j);                      /* the blocking part */

        pthread_mutex_lock(&lane->lock);
        j->state = J_POSTED;
        nano_loop_post(j->loop, &j->work);
    }
    pthread_mutex_unlock(&lane->lock);
    return NULL;
}

static int
lane_init(struct nano_offload *lane)
{
    int rc;

    memset(lane, 0, sizeof *lane);
    pthread_mutex_init(&lane->lock, NULL);
    pthread_cond_init(&lane->wake, NULL);
    rc = pthread_create(&lane->thread, NULL, lane_main, lane);
    if (rc != 0) {
        pthread_cond_destroy(&lane->wake);
        pthread_mutex_destroy(&lane->lock);
        return -rc;
    }
    lane->started = true;
    return NANO_OK;
}

int
nano_offload_lane_new(struct nano_offload **lane_out)
{
    struct nano_offload *lane = nano_malloc(sizeof *lane);
    int rc;

    *lane_out = NULL;
    if (!lane)
        return -ENOMEM;
    rc = lane_init(lane);
    if (rc != NANO_OK) {
        nano_free(lane);
        return rc;
    }
    *lane_out = lane;
    return NANO_OK;
}

void
nano_offload_lane_free(struct nano_offload *lane)
{
    struct nano_offload_job *j, *next;

    if (!lane)
        return;
    pthread_mutex_lock(&lane->lock);
    lane->stop = true;
    j = lane->head;
    lane->head = lane->tail = NULL;
    pthread_cond_signal(&lane->wake);
    pthread_mutex_unlock(&lane->lock);
    for (; j; j = next) {               /* never started: nobody else has them */
        next = j->next;
        pending--;
        nano_free(j);
    }
    pthread_join(lane->thread, NULL);
    pthread_cond_destroy(&lane->wake);
    pthread_mutex_destroy(&lane->lock);
    nano_free(lane);
}

int
nano_offload_submit(struct nano_offload *lane, struct nano_loop *loop,
                    struct nano_offload_job *job)
{
    int rc;

    if (!lane) {
        if (!shared) {
            rc = nano_offload_lane_new(&shared);
            if (rc != NANO_OK)
                return rc;
        }
        lane = shared;
    }
    nano_work_init(&job->work, on_complete);
    job->loop = loop;
    job->orphaned = false;
    job->next = NULL;
    pthread_mutex_lock(&lane->lock);
    job->state = J_QUEUED;
    if (lane->tail)
        lane->tail->next = job;
    else
        lane->head = job;
    lane->tail = job;
    pthread_cond_signal(&lane->wake);
    pthread_mutex_unlock(&lane->lock);
    pending++;
    return NANO_OK;
}

void
nano_offload_orphan(struct nano_offload *lane, struct nano_offload_job *job)
{
    struct nano_offload_job **pp, *prev = NULL;
    bool unlinked = false;

    if (!job)
        return;
    if (!lane)
        lane = shared;
    if (lane) {
        pthread_mutex_lock(&lane->lock);
        if (job->state == J_QUEUED) {
            for (pp = &lane->head; *pp; prev = *pp, pp = &(*pp)->next) {
                if (*pp == job) {
                    *pp = job->next;
                    if (lane->tail == job)
                        lane->tail = prev;
                    unlinked = true;
                    break;
                }
            }
        }
        pthread_mutex_unlock(&lane->lock);
    }
    if (unlinked) {
        pending--;
        nano_free(job);
        return;
    }
    job->orphaned = true;               /* on_complete() frees it */
}

unsigned
nano_offload_pending(void)
{
    return pending;
}

void
nano_offload_shutdown(void)
{
    struct nano_offload *lane = shared;

    shared = NULL;
    nano_offload_lane_free(lane);
}
