/* SPDX-License-Identifier: MIT
 *
 * h_core.c - core routes: status, topics and values, publish, and the
 * server-sent-events stream of bus messages.
 *
 *   GET  /v1/status                version, uptime, memory, counts
 *   GET  /v1/metrics               every registered metric (JSON)
 *   GET  /v1/topics[?filter=F]     each topic with its latest value
 *   GET  /v1/value?topic=T         one topic's latest value (404 if none)
 *   POST /v1/publish               {"topic","value"[,"unit","quality"]} or a
 *                                  list of those
 *   GET  /v1/stream[?filter=F]     text/event-stream of bus messages
 *
 * The stream is a pull subscriber on the bus with its own bounded queue
 * (api.stream_queue messages, oldest dropped first).  It only pops a message
 * when the HTTP stream has room for it; a client that stops reading fills
 * the server's stream queue, the pump stops, the bus queue overflows and
 * counts drops, and the client is told with an `event: dropped` line when
 * it catches up.  A slow client never slows a publisher.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/http_server.h"
#include "core/bus.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"
#include "core/topic.h"
#include "drivers/devmgr.h"
#include "nano_config.h"
#include "port/proc.h"
#include "sandbox/sandbox.h"

#define SSE_HEARTBEAT_MS 15000
#define PUBLISH_BATCH_MAX 10000

/* ---- status ------------------------------------------------------------------- */

static void
get_status(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    struct nano_daemon *d = api->d;
    struct nano_bus_stats bs;
    struct nano_devmgr_stats ds;
    struct nano_sandbox_stats ss;
    struct nano_http_server_stats hs;
    struct nano_proc_mem mem;
    struct nano_buf b;
    struct nano_json w;
    uint64_t now = nano_time_mono_ns();

    (void)m;
    nano_bus_get_stats(d->bus, &bs);
    nano_devmgr_get_stats(d->devices, &ds);
    nano_http_server_stats(api->srv, &hs);
    nano_proc_mem(&mem);

    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "version");      nano_json_str(&w, NANO_VERSION);
    nano_json_key(&w, "profile");      nano_json_str(&w, NANO_PROFILE);
    nano_json_key(&w, "pid");          nano_json_int(&w, getpid());
    nano_json_key(&w, "uptime_s");
    nano_json_num(&w, (double)(now - d->start_mono_ns) / 1e9);
    nano_json_key(&w, "started");      nano_json_uint(&w, d->start_wall_ns / 1000);
    nano_json_key(&w, "config");       nano_json_str(&w, d->config_path);
    nano_json_key(&w, "state_dir");    nano_json_str(&w, d->state_dir);
    nano_json_key(&w, "socket");       nano_json_str(&w, d->socket_path);
    nano_json_key(&w, "reloads");      nano_json_uint(&w, d->reloads);
    nano_json_key(&w, "reload_failures"); nano_json_uint(&w, d->reload_failures);
    nano_json_key(&w, "memory");
    nano_json_obj_begin(&w);
    nano_json_key(&w, "rss");          nano_json_uint(&w, mem.rss);
    nano_json_key(&w, "hwm");          nano_json_uint(&w, mem.hwm);
    nano_json_key(&w, "pss");          nano_json_uint(&w, mem.pss);
    nano_json_key(&w, "anon");         nano_json_uint(&w, mem.anon);
    nano_json_key(&w, "heap");         nano_json_uint(&w, nano_mem_heap_in_use());
    nano_json_obj_end(&w);
    nano_json_key(&w, "bus");
    nano_json_obj_begin(&w);
    nano_json_key(&w, "topics");       nano_json_uint(&w, bs.topics);
    nano_json_key(&w, "subscribers");  nano_json_uint(&w, bs.subscribers);
    nano_json_key(&w, "published");    nano_json_uint(&w, bs.published);
    nano_json_key(&w, "delivered");    nano_json_uint(&w, bs.delivered);
    nano_json_key(&w, "dropped");      nano_json_uint(&w, bs.dropped);
    nano_json_key(&w, "live_messages"); nano_json_uint(&w, nano_msg_live());
    nano_json_obj_end(&w);
    nano_json_key(&w, "devices");
    nano_json_obj_begin(&w);
    nano_json_key(&w, "instances");    nano_json_uint(&w, ds.instances);
    nano_json_key(&w, "ok");           nano_json_uint(&w, ds.ok);
    nano_json_key(&w, "failing");      nano_json_uint(&w, ds.failing);
    nano_json_key(&w, "disabled");     nano_json_uint(&w, ds.disabled);
    nano_json_key(&w, "samples");      nano_json_uint(&w, ds.samples);
    nano_json_key(&w, "errors");       nano_json_uint(&w, ds.errors);
    nano_json_key(&w, "faults");       nano_json_uint(&w, ds.faults);
    nano_json_obj_end(&w);
    nano_sandbox_get_stats(d->sandbox, &ss);
    nano_json_key(&w, "sandbox");
    nano_json_obj_begin(&w);
    nano_json_key(&w, "modules");      nano_json_uint(&w, ss.modules);
    nano_json_key(&w, "running");      nano_json_uint(&w, ss.running);
    nano_json_key(&w, "quarantined");  nano_json_uint(&w, ss.quarantined);
    nano_json_key(&w, "disabled");     nano_json_uint(&w, ss.disabled);
    nano_json_key(&w, "failed");       nano_json_uint(&w, ss.failed);
    nano_json_key(&w, "calls");        nano_json_uint(&w, ss.calls);
    nano_json_key(&w, "faults");       nano_json_uint(&w, ss.faults);
    nano_json_obj_end(&w);
    nano_json_key(&w, "api");
    nano_json_obj_begin(&w);
    nano_json_key(&w, "connections");  nano_json_uint(&w, hs.conns);
    nano_json_key(&w, "requests");     nano_json_uint(&w, hs.requests);
    nano_json_key(&w, "bad_requests"); nano_json_uint(&w, hs.bad_requests);
    nano_json_key(&w, "rejected_busy"); nano_json_uint(&w, hs.rejected_busy);
    nano_json_key(&w, "timeouts");
    nano_json_uint(&w, hs.timeouts_header + hs.timeouts_idle +
                       hs.timeouts_body + hs.timeouts_write);
    nano_json_obj_end(&w);
    nano_json_key(&w, "loop_iterations");
    nano_json_uint(&w, nano_loop_iterations(d->loop));
    nano_json_obj_end(&w);
    api__json_send(req, 200, &b, &w);
}

static void
write_metric(void *arg, const struct nano_metric *m)
{
    struct nano_json *w = arg;

    nano_json_key(w, m->name);
    if (m->type != NANO_METRIC_HISTOGRAM) {
        nano_json_num(w, m->value);
        return;
    }
    nano_json_obj_begin(w);
    nano_json_key(w, "count"); nano_json_uint(w, m->count);
    nano_json_key(w, "sum");   nano_json_num(w, m->sum);
    nano_json_key(w, "p50");   nano_json_num(w, nano_metric_percentile(m, 50));
    nano_json_key(w, "p99");   nano_json_num(w, nano_metric_percentile(m, 99));
    nano_json_key(w, "max");   nano_json_num(w, m->max);
    nano_json_obj_end(w);
}

static void
get_metrics(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    (void)arg;
    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_metric_foreach(write_metric, &w);
    nano_json_obj_end(&w);
    api__json_send(req, 200, &b, &w);
}

/* ---- topics ------------------------------------------------------------------- */

static void
write_msg(struct nano_json *w, const struct nano_msg *m)
{
    nano_json_obj_begin(w);
    nano_json_key(w, "topic");
    nano_json_str(w, m->topic);
    nano_json_key(w, "value");
    nano_value_write_json(w, &m->v);
    nano_json_key(w, "type");
    nano_json_str(w, nano_vtype_name(m->v.type));
    if (m->v.unit) {
        nano_json_key(w, "unit");
        nano_json_str(w, m->v.unit);
    }
    nano_json_key(w, "quality");
    nano_json_str(w, nano_quality_name(m->v.quality));
    nano_json_key(w, "ts");
    nano_json_int(w, m->v.ts_wall_us);
    nano_json_obj_end(w);
}

static void
each_topic(void *arg, const struct nano_msg *m)
{
    write_msg(arg, m);
}

/* Read a query parameter; answers 400 and returns false when malformed. */
static bool
query_param(struct nano_http_req *req, const char *name, char *out, size_t cap,
            bool *present)
{
    int rc = nano_http_query_get(nano_http_req_query(req), name, out, cap);

    *present = rc >= 0;
    if (rc == -ENOENT) {
        out[0] = '\0';
        return true;
    }
    if (rc < 0) {
        nano_http_respond_error(req, 400, "bad_query",
                                "query parameter '%s' is malformed or too long",
                                name);
        return false;
    }
    return true;
}

static bool
filter_param(struct nano_http_req *req, char *filter, size_t cap)
{
    const char *why;
    bool present;

    if (!query_param(req, "filter", filter, cap, &present))
        return false;
    if (!present || !filter[0])
        snprintf(filter, cap, "#");
    if (nano_topic_filter_check(filter, &why) != NANO_OK) {
        nano_http_respond_error(req, 400, "bad_filter", "filter '%s': %s",
                                filter, why);
        return false;
    }
    return true;
}

static void
get_topics(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    char filter[NANO_TOPIC_MAX + 1];
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    if (!filter_param(req, filter, sizeof filter))
        return;
    api__json_begin(&b, &w);
    nano_json_arr_begin(&w);
    nano_bus_foreach_latest(api->d->bus, filter, each_topic, &w);
    nano_json_arr_end(&w);
    api__json_send(req, 200, &b, &w);
}

static void
get_value(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    char topic[NANO_TOPIC_MAX + 1];
    const struct nano_msg *msg;
    struct nano_buf b;
    struct nano_json w;
    bool present;

    (void)m;
    if (!query_param(req, "topic", topic, sizeof topic, &present))
        return;
    if (!present || !topic[0]) {
        nano_http_respond_error(req, 400, "bad_query",
                                "missing query parameter 'topic'");
        return;
    }
    msg = nano_bus_latest(api->d->bus, topic);
    if (!msg) {
        nano_http_respond_error(req, 404, "not_found",
                                "no value has been published on '%s'", topic);
        return;
    }
    api__json_begin(&b, &w);
    write_msg(&w, msg);
    api__json_send(req, 200, &b, &w);
}

/* ---- publish ------------------------------------------------------------------ */

/* Turn a JSON node into a value.  JSON text for maps and lists goes in buf
 * (the value points into it).  Returns NANO_OK or fills d. */
static int
node_to_value(const struct nano_cfg_node *n, struct nano_value *v,
              struct nano_buf *buf, struct nano_diag *d)
{
    memset(v, 0, sizeof *v);
    switch (n->kind) {
    case NANO_CFG_SCALAR:
        if (n->quoted) {
            *v = nano_value_str(n->str, n->len);
        } else if (!strcmp(n->str, "true") || !strcmp(n->str, "false")) {
            *v = nano_value_bool(n->str[0] == 't');
        } else {
            double x;
            if (nano_cfg_as_num(n, &x, d) != NANO_OK)
                return NANO_ESCHEMA;
            *v = nano_value_num(x, NULL);
        }
        return NANO_OK;
    case NANO_CFG_MAP:
    case NANO_CFG_LIST:
        nano_buf_reset(buf);
        if (nano_cfg_to_json(n, buf) != NANO_OK)
            return nano_diag_set(d, -E2BIG, n->line, n->col, "value too large");
        *v = nano_value_str(buf->data, buf->len);
        v->type = NANO_VT_JSON;
        return NANO_OK;
    case NANO_CFG_NULL:
        break;
    }
    return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                         "'value' must not be null");
}

static int
publish_one(struct nano_api *api, const struct nano_cfg_node *item,
            struct nano_buf *scratch, struct nano_diag *d)
{
    static const char *const keys[] = { "topic", "value", "unit", "quality", NULL };
    const struct nano_cfg_node *t, *val, *u, *q;
    struct nano_value v;
    const char *why;
    int rc;

    if (item->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, item->line, item->col,
                             "expected an object {\"topic\": ..., \"value\": ...}");
    for (const struct nano_cfg_node *k = item->child; k; k = k->next) {
        bool known = false;
        for (const char *const *x = keys; *x; x++)
            known |= !strcmp(*x, k->key);
        if (!known) {
            const char *sug = nano_suggest(k->key, keys);
            return nano_diag_set(d, NANO_ESCHEMA, k->key_line, k->key_col,
                                 "unknown key '%s'%s%s%s", k->key,
                                 sug ? " (did you mean '" : "", sug ? sug : "",
                                 sug ? "'?)" : "");
        }
    }
    t = nano_cfg_get(item, "topic");
    val = nano_cfg_get(item, "value");
    if (!t || t->kind != NANO_CFG_SCALAR)
        return nano_diag_set(d, NANO_ESCHEMA, item->line, item->col,
                             "missing 'topic' (a string)");
    if (nano_topic_check(t->str, &why) != NANO_OK)
        return nano_diag_set(d, NANO_ESCHEMA, t->line, t->col, "%s", why);
    if (!val)
        return nano_diag_set(d, NANO_ESCHEMA, item->line, item->col,
                             "missing 'value'");
    if ((rc = node_to_value(val, &v, scratch, d)) != NANO_OK)
        return rc;
    if ((u = nano_cfg_get(item, "unit"))) {
        if (u->kind != NANO_CFG_SCALAR || u->len > NANO_UNIT_MAX)
            return nano_diag_set(d, NANO_ESCHEMA, u->line, u->col,
                                 "'unit' must be a string of at most %d bytes",
                                 NANO_UNIT_MAX);
        v.unit = u->str;
    }
    if ((q = nano_cfg_get(item, "quality"))) {
        enum nano_quality qq;
        if (q->kind != NANO_CFG_SCALAR || nano_quality_parse(q->str, &qq) != NANO_OK)
            return nano_diag_set(d, NANO_ESCHEMA, q->line, q->col,
                                 "'quality' must be ok, stale or fault");
        v.quality = (uint8_t)qq;
    }
    if (v.type != NANO_VT_NUM && v.type != NANO_VT_BOOL &&
        v.u.s.len > NANO_PAYLOAD_MAX)
        return nano_diag_set(d, -E2BIG, val->line, val->col,
                             "value larger than %d bytes", NANO_PAYLOAD_MAX);
    rc = nano_bus_publish_value(api->d->bus, t->str, &v);
    if (rc == -ENOSPC)
        return nano_diag_set(d, rc, t->line, t->col, "the topic table is full "
                             "(%d topics)", NANO_BUS_MAX_TOPICS);
    if (rc != NANO_OK)
        return nano_diag_set(d, rc, t->line, t->col, "%s", nano_strerror(rc));
    return NANO_OK;
}

static void
post_publish(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *root;
    struct nano_diag d = { .origin = "body" };
    struct nano_buf scratch, b;
    struct nano_json w;
    unsigned published = 0;
    int rc = NANO_OK;

    (void)m;
    if (!(doc = api__body_json(req)))
        return;
    root = nano_cfg_root(doc);
    nano_buf_init(&scratch, NANO_PAYLOAD_MAX + 1);
    if (root->kind == NANO_CFG_LIST) {
        if (root->count > PUBLISH_BATCH_MAX) {
            rc = nano_diag_set(&d, -E2BIG, root->line, root->col,
                               "at most %d messages per request", PUBLISH_BATCH_MAX);
        } else {
            /* Items before a bad one are published: each is accepted alone. */
            for (const struct nano_cfg_node *it = root->child; it && rc == NANO_OK;
                 it = it->next) {
                rc = publish_one(api, it, &scratch, &d);
                if (rc == NANO_OK)
                    published++;
            }
        }
    } else {
        rc = publish_one(api, root, &scratch, &d);
        if (rc == NANO_OK)
            published++;
    }
    nano_buf_free(&scratch);
    nano_cfg_free(doc);
    if (rc != NANO_OK) {
        const char *code = "invalid";
        int status = rc == -E2BIG ? 413 : rc == -ENOSPC ? 507 : 400;
        if (published) {
            char more[64];
            snprintf(more, sizeof more, " (%u earlier messages were published)",
                     published);
            strncat(d.msg, more, sizeof d.msg - strlen(d.msg) - 1);
        }
        api__respond_diag(req, status, code, &d);
        return;
    }
    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "published");
    nano_json_uint(&w, published);
    nano_json_obj_end(&w);
    api__json_send(req, 200, &b, &w);
}

/* ---- server-sent events ------------------------------------------------------- */

struct sse {
    struct nano_list       link;       /* api->streams */
    struct nano_api       *api;
    struct nano_http_req  *req;        /* kept until nano_http_stream_end */
    struct nano_sub       *sub;
    const struct nano_msg *pending;    /* popped, did not fit: sent first */
    struct nano_work       pump;
    struct nano_timer      heartbeat;
    uint64_t               seq;
    uint64_t               drops_told;
    bool                   blocked;
};

static void
sse_finish(struct sse *s)
{
    nano_list_remove(&s->link);
    nano_loop_cancel(s->api->d->loop, &s->pump);
    nano_timer_stop(s->api->d->loop, &s->heartbeat);
    nano_bus_unsubscribe(s->api->d->bus, s->sub);
    nano_msg_unref(s->pending);
    nano_http_stream_end(s->req);
    nano_free(s);
}

/* Returns NANO_OK, -ENOBUFS (no room now) or another error (give up). */
static int
sse_send(struct sse *s, struct nano_buf *b)
{
    int rc = nano_http_stream_write(s->req, b->data, b->len);

    if (rc == -ENOBUFS)
        s->blocked = true;
    return rc;
}

static void
sse_pump(struct nano_loop *loop, struct nano_work *w)
{
    struct sse *s = NANO_CONTAINER_OF(w, struct sse, pump);
    struct nano_sub_stats st;
    struct nano_buf b;
    struct nano_json j;
    int rc = NANO_OK;

    (void)loop;
    if (s->blocked || nano_http_req_peer_gone(s->req))
        return;
    nano_buf_init(&b, NANO_PAYLOAD_MAX * 2 + 1024);
    nano_sub_get_stats(s->sub, &st);
    if (st.dropped > s->drops_told) {
        nano_buf_printf(&b, "event: dropped\ndata: {\"dropped\":%llu}\n\n",
                        (unsigned long long)(st.dropped - s->drops_told));
        if ((rc = sse_send(s, &b)) == NANO_OK)
            s->drops_told = st.dropped;
    }
    while (rc == NANO_OK) {
        const struct nano_msg *m = s->pending ? s->pending : nano_sub_pop(s->sub);
        s->pending = NULL;
        if (!m)
            break;
        nano_buf_reset(&b);
        nano_buf_printf(&b, "id: %llu\ndata: ", (unsigned long long)++s->seq);
        nano_json_init(&j, &b);
        write_msg(&j, m);
        nano_buf_puts(&b, "\n\n");
        rc = nano_json_end(&j) == NANO_OK ? sse_send(s, &b) : NANO_OK;
        if (rc == -ENOBUFS) {
            s->seq--;
            s->pending = m;            /* keep our reference for the drain */
        } else {
            nano_msg_unref(m);
        }
    }
    nano_buf_free(&b);
    /* -ECONNRESET: on_close follows from the server and finishes us. */
}

static void
sse_notify(void *arg, struct nano_sub *sub)
{
    struct sse *s = arg;

    (void)sub;
    nano_loop_defer(s->api->d->loop, &s->pump);
}

static void
sse_on_drain(struct nano_http_req *req, void *arg)
{
    struct sse *s = arg;

    (void)req;
    s->blocked = false;
    nano_loop_defer(s->api->d->loop, &s->pump);
}

static void
sse_on_close(struct nano_http_req *req, void *arg)
{
    (void)req;
    sse_finish(arg);
}

static void
sse_heartbeat(struct nano_loop *loop, struct nano_timer *t)
{
    struct sse *s = NANO_CONTAINER_OF(t, struct sse, heartbeat);

    (void)loop;
    /* A comment line keeps proxies open and detects a vanished peer. */
    if (!s->blocked)
        nano_http_stream_write(s->req, ": ping\n\n", 8);
}

static void
get_stream(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    static const struct nano_http_stream_cbs cbs = {
        .on_close = sse_on_close, .on_drain = sse_on_drain,
    };
    char filter[NANO_TOPIC_MAX + 1];
    struct nano_sub_opts so = { 0 };
    struct sse *s;
    int rc;

    (void)m;
    if (!filter_param(req, filter, sizeof filter))
        return;
    s = nano_calloc(1, sizeof *s);
    if (!s) {
        nano_http_respond_error(req, 503, "no_memory", "out of memory");
        return;
    }
    s->api = api;
    s->req = req;
    nano_list_init(&s->link);
    nano_work_init(&s->pump, sse_pump);
    nano_timer_init(&s->heartbeat, sse_heartbeat);
    so.name = "api-stream";
    so.queue_cap = api->stream_queue;
    so.overflow = NANO_DROP_OLDEST;
    so.notify = sse_notify;
    rc = nano_bus_subscribe(api->d->bus, filter, &so, NULL, s, &s->sub);
    if (rc != NANO_OK) {
        nano_free(s);
        nano_http_respond_error(req, 503, "no_memory", "cannot subscribe: %s",
                                nano_strerror(rc));
        return;
    }
    rc = nano_http_stream_begin(req, 200, "text/event-stream", &cbs, s);
    if (rc != NANO_OK) {                       /* req already completed */
        nano_bus_unsubscribe(api->d->bus, s->sub);
        nano_free(s);
        return;
    }
    nano_list_append(&api->streams, &s->link);
    nano_http_stream_write(req, ": nano stream\n\n", 15);
    nano_timer_start(api->d->loop, &s->heartbeat, SSE_HEARTBEAT_MS,
                     SSE_HEARTBEAT_MS);
}

void
api__streams_close_all(struct nano_api *api)
{
    while (!nano_list_empty(&api->streams))
        sse_finish(NANO_CONTAINER_OF(api->streams.next, struct sse, link));
}

int
api__routes_core(struct nano_api *api)
{
    struct nano_router *r = api->router;
    int rc;

    if ((rc = nano_router_add(r, "GET", "/v1/status", 0, get_status, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/metrics", 0, get_metrics, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/topics", 0, get_topics, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/value", 0, get_value, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/publish", 0, post_publish, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/stream", 0, get_stream, api)))
        return rc;
    return NANO_OK;
}
