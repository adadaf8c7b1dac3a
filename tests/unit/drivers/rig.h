/* rig.h - what the driver tests share: a real loop, bus and device manager,
 * instances installed from JSON settings exactly as the API installs them,
 * and a recorder subscribed to every topic.  Header-only (static functions)
 * so each test binary stays one file plus this.
 *
 * Nothing here stands in for the code under test: drivers run on the
 * emulated buses through the HAL, the manager schedules and recovers them,
 * and the tests read what reaches the bus. */
#ifndef NANO_TEST_DRIVERS_RIG_H
#define NANO_TEST_DRIVERS_RIG_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "harness/nt.h"
#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/time.h"
#include "drivers/devmgr.h"
#include "hal/offload.h"
#include "hal/sim.h"
#include "hal/w1.h"

/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define RIG_LOG 512

struct rig_rec {
    char     topic[96];
    uint8_t  type;
    uint8_t  quality;
    double   num;
    bool     b;
    char     str[16];
};

struct rig {
    struct nano_loop   *loop;
    struct nano_bus    *bus;
    struct nano_devmgr *dm;
    struct nano_sub    *sub;
    struct rig_rec      log[RIG_LOG];
    int                 n;
};

static void
rig_record(void *arg, const struct nano_msg *m)
{
    struct rig *r = arg;
    struct rig_rec *x;

    if (r->n >= RIG_LOG)
        return;
    x = &r->log[r->n++];
    snprintf(x->topic, sizeof x->topic, "%s", m->topic);
    x->type = m->v.type;
    x->quality = m->v.quality;
    x->num = m->v.type == NANO_VT_NUM ? m->v.u.num : 0;
    x->b = m->v.type == NANO_VT_BOOL && m->v.u.b;
    if (m->v.type == NANO_VT_STR)
        snprintf(x->str, sizeof x->str, "%.*s", (int)m->v.u.s.len, m->v.u.s.p);
}

static void
rig_up(struct rig *r)
{
    struct nano_sub_opts o = { .name = "test", .queue_cap = 4096 };

    memset(r, 0, sizeof *r);
    /* Drivers log their faults, which these tests cause on purpose: quiet
     * unless NANO_TEST_LOG is set. */
    if (getenv("NANO_TEST_LOG"))
        nano_log_configure(NANO_LOG_DEBUG, NANO_LOG_LOGFMT, 2);
    else
        nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT,
                           open("/dev/null", O_WRONLY | O_CLOEXEC));
    NT_ASSERT(nano_loop_new(&r->loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(r->loop, &r->bus) == NANO_OK);
    NT_ASSERT(nano_devmgr_new(r->loop, r->bus, NULL, &r->dm) == NANO_OK);
    NT_ASSERT(nano_bus_subscribe(r->bus, "#", &o, rig_record, r, &r->sub) == NANO_OK);
}

static void
rig_run_for(struct rig *r, unsigned ms)
{
    uint64_t end = nano_time_mono_ns() + ms * NANO_NS_PER_MS;

    while (nano_time_mono_ns() < end)
        nano_loop_run_once(r->loop, 2);
}

static void
rig_down(struct rig *r)
{
    nano_devmgr_free(r->dm);
    /* Orphaned reads still in flight finish and are freed on the loop. */
    for (int i = 0; i < 300 && nano_offload_pending(); i++)
        nano_loop_run_once(r->loop, 10);
    nano_offload_shutdown();
    nano_bus_unsubscribe(r->bus, r->sub);
    nano_bus_free(r->bus);
    nano_loop_free(r->loop);
    nano_metrics_reset();
    nano_sim_reset();
}

static int
rig_install(struct rig *r, const char *name, const char *json,
            struct nano_diag *d)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag pd = { .origin = "test" };
    int rc;

    if (nano_cfg_parse_json(json, strlen(json), "test", &doc, &pd) != NANO_OK) {
        fprintf(stderr, "bad test JSON: %u:%u: %s\n", pd.line, pd.col, pd.msg);
        abort();
    }
    rc = nano_devmgr_install(r->dm, name, nano_cfg_root(doc), true, d);
    nano_cfg_free(doc);
    return rc;
}

/* Install or fail the test, printing the diagnostic. */
static void
rig_install_ok(struct rig *r, const char *name, const char *json)
{
    struct nano_diag d = { 0 };
    int rc = rig_install(r, name, json, &d);

    if (rc != NANO_OK)
        NT_MSG("install %s: %s", name, d.msg);
    NT_ASSERT(rc == NANO_OK);
}

/* Number of messages recorded on topic (with quality q, or any when -1). */
static int
rig_count(const struct rig *r, const char *topic, int q)
{
    int k = 0;

    for (int i = 0; i < r->n; i++)
        if (strcmp(r->log[i].topic, topic) == 0 && (q < 0 || r->log[i].quality == q))
            k++;
    return k;
}

/* The last record on topic, or NULL. */
static const struct rig_rec *
rig_last(const struct rig *r, const char *topic)
{
    for (int i = r->n - 1; i >= 0; i--)
        if (strcmp(r->log[i].topic, topic) == 0)
            return &r->log[i];
    return NULL;
}

/* Run until topic has at least n records of quality q (-1 any), or ms pass.
 * Returns whether it got there. */
static bool
rig_wait(struct rig *r, const char *topic, int q, int n, unsigned ms)
{
    uint64_t end = nano_time_mono_ns() + ms * NANO_NS_PER_MS;

    while (rig_count(r, topic, q) < n) {
        if (nano_time_mono_ns() > end)
            return false;
        nano_loop_run_once(r->loop, 2);
    }
    return true;
}

/* Run until the instance reaches state st, or ms pass. */
static bool
rig_wait_state(struct rig *r, const char *name, enum nano_dev_state st,
               unsigned ms)
{
    uint64_t end = nano_time_mono_ns() + ms * NANO_NS_PER_MS;
    struct nano_dev *dev = nano_devmgr_find(r->dm, name);

    while (dev && nano_dev_state(dev) != st) {
        if (nano_time_mono_ns() > end)
            return false;
        nano_loop_run_once(r->loop, 2);
    }
    return dev != NULL;
}

/* The instance's JSON view (last_error, counters) into a static buffer. */
static const char *
rig_dev_json(struct rig *r, const char *name)
{
    static char text[4096];
    struct nano_buf b;
    struct nano_json w;

    nano_buf_init(&b, sizeof text - 1);
    nano_json_init(&w, &b);
    nano_devmgr_write_one(r->dm, name, &w);
    snprintf(text, sizeof text, "%s", b.data ? b.data : "");
    nano_buf_free(&b);
    return text;
}

static void
rig_forget(struct rig *r)
{
    r->n = 0;
}

#endif
