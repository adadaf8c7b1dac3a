/* test_offload.c - worker lanes: results come back on the loop thread in
 * order, orphaned jobs never call back and are freed whether queued,
 * running or already posted, and lanes shut down cleanly (ASan checks that
 * nothing leaks). */
#include <pthread.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/loop.h"
#include "hal/offload.h"

struct job {
    struct nano_offload_job base;
    int                     n;
    unsigned                sleep_ms;
    pthread_t               ran_on;
    int                    *log;
    int                    *nlog;
};

static void
run(struct nano_offload_job *j)
{
    struct job *x = (struct job *)j;

    x->ran_on = pthread_self();
    usleep(x->sleep_ms * 1000);
}

static void
done(struct nano_offload_job *j)
{
    struct job *x = (struct job *)j;

    NT_CHECK(!pthread_equal(x->ran_on, pthread_self()));   /* ran elsewhere */
    x->log[(*x->nlog)++] = x->n;
}

static struct job *
mk(int n, unsigned ms, int *log, int *nlog)
{
    struct job *x = nano_offload_job_new(sizeof *x, run, done, NULL);

    NT_ASSERT(x);
    x->n = n;
    x->sleep_ms = ms;
    x->log = log;
    x->nlog = nlog;
    return x;
}

static void
drain(struct nano_loop *loop)
{
    for (int i = 0; i < 200 && nano_offload_pending(); i++)
        nano_loop_run_once(loop, 10);
}

static void
test_order_and_thread(void)
{
    struct nano_loop *loop;
    int log[8], nlog = 0;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_CHECK(nano_offload_job_new(4, run, done, NULL) == NULL);   /* too small */
    for (int i = 0; i < 5; i++)
        NT_ASSERT(nano_offload_submit(NULL, loop, &mk(i, 1, log, &nlog)->base) == NANO_OK);
    NT_EQ_INT(nano_offload_pending(), 5);
    drain(loop);
    NT_EQ_INT(nlog, 5);
    for (int i = 0; i < nlog; i++)
        NT_EQ_INT(log[i], i);
    nano_offload_shutdown();
    nano_offload_shutdown();                 /* idempotent */
    nano_loop_free(loop);
}

static void
test_orphans(void)
{
    struct nano_loop *loop;
    struct nano_offload *lane;
    int log[8], nlog = 0;
    struct job *slow, *queued, *posted;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_offload_lane_new(&lane) == NANO_OK);
    slow = mk(1, 50, log, &nlog);
    queued = mk(2, 0, log, &nlog);
    NT_ASSERT(nano_offload_submit(lane, loop, &slow->base) == NANO_OK);
    NT_ASSERT(nano_offload_submit(lane, loop, &queued->base) == NANO_OK);
    usleep(10 * 1000);                       /* slow is running now */
    nano_offload_orphan(lane, &queued->base);   /* freed at once */
    nano_offload_orphan(lane, &slow->base);     /* freed when it ends */
    NT_EQ_INT(nano_offload_pending(), 1);
    drain(loop);
    NT_EQ_INT(nlog, 0);

    /* Orphaned after it finished but before the loop ran the callback. */
    posted = mk(3, 0, log, &nlog);
    NT_ASSERT(nano_offload_submit(lane, loop, &posted->base) == NANO_OK);
    usleep(20 * 1000);
    nano_offload_orphan(lane, &posted->base);
    drain(loop);
    NT_EQ_INT(nlog, 0);
    nano_offload_orphan(lane, NULL);

    /* Freeing a lane with work queued drops the queued work. */
    NT_ASSERT(nano_offload_submit(lane, loop, &mk(4, 30, log, &nlog)->base) == NANO_OK);
    NT_ASSERT(nano_offload_submit(lane, loop, &mk(5, 0, log, &nlog)->base) == NANO_OK);
    usleep(5 * 1000);
    nano_offload_lane_free(lane);            /* waits for job 4 */
    drain(loop);
    NT_EQ_INT(nlog, 1);
    NT_EQ_INT(log[0], 4);
    NT_EQ_INT(nano_offload_pending(), 0);
    nano_offload_lane_free(NULL);
    nano_loop_free(loop);
}

NT_LIST = {
    { "order_and_thread", test_order_and_thread },
    { "orphans",          test_orphans },
    { NULL, NULL }
};
