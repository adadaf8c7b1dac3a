/* test_http_client.c - the asynchronous client against the server in the
 * same process (keep-alive reuse, pool cap, refused and black-holed
 * connects, total timeout on a stalled server with the loop staying
 * responsive, retries on 503, chunked and large bodies, name resolution on
 * the worker thread, cancellation), and the blocking Unix-socket client
 * (ENOENT, ECONNREFUSED, normal calls, timeouts, streaming lines) with the
 * server's loop on a second thread. */
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "harness/nt.h"
#include "http_test.h"
#include "api/http_client.h"
#include "api/http_server.h"
#include "api/router.h"

/* ---- fixture: a server with a few routes -------------------------------------- */

static struct {
    struct nano_loop        *loop;
    struct nano_http_server *srv;
    struct nano_router      *router;
    struct nano_http_client *cl;
    char                     dir[64];
    char                     sock[128];
    uint16_t                 port;
    int                      flaky_left;     /* 503s still to give */
    int                      flaky_seen;
    int                      hooks;
    struct nano_http_req    *stalled;
    int                      stall_closed;
} F;

static void
h_hello(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    nano_http_respond(req, 200, "text/plain", "hello\n", 6);
}

static void
h_hook(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_span b = nano_http_req_body(req);
    struct nano_span ct = nano_http_req_header(req, "content-type");
    struct nano_span x = nano_http_req_header(req, "x-event-id");
    char out[4096];
    int n;

    F.hooks++;
    n = snprintf(out, sizeof out, "%.*s|%.*s|%.*s", (int)ct.len,
                 ct.p ? (const char *)ct.p : "", (int)x.len,
                 x.p ? (const char *)x.p : "", (int)b.len, (const char *)b.p);
    nano_http_respond(req, 200, "text/plain", out, (size_t)n);
}

static void
h_flaky(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    F.flaky_seen++;
    if (F.flaky_left > 0) {
        F.flaky_left--;
        nano_http_respond_error(req, 503, NULL, "try later");
        return;
    }
    nano_http_respond(req, 200, "text/plain", "ok", 2);
}

static void
stall_close(struct nano_http_req *req, void *arg)
{
    F.stall_closed++;
    nano_http_respond(req, 500, NULL, NULL, 0);
    F.stalled = NULL;
}

static void
h_stall(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    F.stalled = req;
    nano_http_req_on_close(req, stall_close, NULL);
}

static void
h_big(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    static char big[100000];

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('0' + i % 10);
    nano_http_respond(req, 200, "text/plain", big, sizeof big);
}

/* A stream of lines, one per timer tick: "data: <i>\n\n" x 5. */
static struct {
    struct nano_http_req *req;
    struct nano_timer     t;
    int                   i;
} L;

static void
lines_tick(struct nano_loop *loop, struct nano_timer *t)
{
    char ev[32];
    int n;

    if (!L.req)
        return;
    if (L.i == 5) {
        nano_http_stream_end(L.req);
        L.req = NULL;
        return;
    }
    n = snprintf(ev, sizeof ev, "data: %d\r\n\n", L.i++);
    /* split the event over two chunks: lines must be reassembled */
    nano_http_stream_write(L.req, ev, 4);
    nano_http_stream_write(L.req, ev + 4, (size_t)n - 4);
    nano_timer_start(loop, &L.t, 5, 0);
}

static void
lines_close(struct nano_http_req *req, void *arg)
{
    nano_timer_stop(F.loop, &L.t);
    nano_http_stream_end(req);
    L.req = NULL;
}

static void
h_lines(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    static const struct nano_http_stream_cbs cbs = { lines_close, NULL };

    if (nano_http_stream_begin(req, 200, "text/event-stream", &cbs, NULL) != 0)
        return;
    L.req = req;
    L.i = 0;
    nano_timer_init(&L.t, lines_tick);
    nano_timer_start(F.loop, &L.t, 5, 0);
}

static void
setup_with(const struct nano_http_server_opts *so,
           const struct nano_http_client_opts *co)
{
    memset(&F, 0, sizeof F);
    memset(&L, 0, sizeof L);
    NT_ASSERT(nano_loop_new(&F.loop) == NANO_OK);
    NT_ASSERT(nano_router_new(&F.router) == NANO_OK);
    nano_router_add(F.router, "GET", "/v1/hello", 0, h_hello, NULL);
    nano_router_add(F.router, "POST", "/hook", 0, h_hook, NULL);
    nano_router_add(F.router, "POST", "/flaky", 0, h_flaky, NULL);
    nano_router_add(F.router, "GET", "/stall", 0, h_stall, NULL);
    nano_router_add(F.router, "GET", "/big", 0, h_big, NULL);
    nano_router_add(F.router, "GET", "/lines", 0, h_lines, NULL);
    NT_ASSERT(nano_http_server_new(F.loop, so, nano_router_handle, F.router,
                                   &F.srv) == NANO_OK);
    strcpy(F.dir, "/tmp/nano-httpc-XXXXXX");
    NT_ASSERT(mkdtemp(F.dir) != NULL);
    snprintf(F.sock, sizeof F.sock, "%s/api.sock", F.dir);
    NT_ASSERT(nano_http_server_listen_unix(F.srv, F.sock, 0) == NANO_OK);
    NT_ASSERT(nano_http_server_listen_tcp(F.srv, "127.0.0.1", 0, 0, &F.port) == 0);
    NT_ASSERT(nano_http_client_new(F.loop, co, &F.cl) == NANO_OK);
}

static void
setup(void)
{
    setup_with(NULL, NULL);
}

static void
teardown(void)
{
    nano_http_client_free(F.cl);
    nano_http_server_free(F.srv);
    nano_router_free(F.router);
    nano_loop_free(F.loop);
    rmdir(F.dir);
    CHECK_NO_LEAKS();
}

static struct nano_http_server_stats
sstats(void)
{
    struct nano_http_server_stats st;
    nano_http_server_stats(F.srv, &st);
    return st;
}

static struct nano_http_client_stats
cstats(void)
{
    struct nano_http_client_stats st;
    nano_http_client_stats(F.cl, &st);
    return st;
}

/* A done callback that records the result. */
struct got {
    bool     done;
    int      err, status;
    unsigned attempts;
    char     body[200000];
    size_t   body_len;
    char     ctype[64];
    uint64_t at_ms;
};

static void
on_done(const struct nano_http_result *res, void *arg)
{
    struct got *g = arg;

    NT_CHECK(!g->done);          /* exactly once */
    g->done = true;
    g->err = res->err;
    g->status = res->status;
    g->attempts = res->attempts;
    g->at_ms = now_ms();
    NT_CHECK(res->body.len < sizeof g->body);
    if (res->err == NANO_OK) {
        NT_CHECK(res->head != NULL);
        memcpy(g->body, res->body.p, res->body.len);
        g->body_len = res->body.len;
        struct nano_span ct = nano_http_find_header(res->head->headers,
                                                    res->head->nheaders,
                                                    "content-type");
        snprintf(g->ctype, sizeof g->ctype, "%.*s", (int)ct.len,
                 ct.p ? (const char *)ct.p : "");
    } else {
        NT_CHECK(res->head == NULL && res->status == 0);
    }
    g->body[g->body_len] = '\0';
}

static bool
wait_done(struct got *g, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;

    while (!g->done && now_ms() < end)
        nano_loop_run_once(F.loop, 5);
    return g->done;
}

static struct got *
new_got(void)
{
    return nano_calloc(1, sizeof(struct got));
}

static char url_buf[256];

static const char *
url(const char *path)
{
    snprintf(url_buf, sizeof url_buf, "http://127.0.0.1:%u%s", F.port, path);
    return url_buf;
}

/* ---- async client ---------------------------------------------------------------- */

static void
test_post_and_keep_alive_reuse(void)
{
    struct got *g = new_got();
    struct nano_http_call_opts o = { .headers = "X-Event-Id: 42\r\n", .max_retries = -1 };

    setup();
    for (int i = 0; i < 30; i++) {
        char body[64];
        int n = snprintf(body, sizeof body, "{\"i\":%d}", i);
        memset(g, 0, sizeof *g);
        NT_EQ_INT(nano_http_client_post(F.cl, url("/hook"), "application/json",
                                        body, (size_t)n, &o, on_done, g),
                  NANO_OK);
        NT_CHECK(!g->done);             /* never called back synchronously */
        NT_ASSERT(wait_done(g, 3000));
        NT_EQ_INT(g->err, NANO_OK);
        NT_EQ_INT(g->status, 200);
        NT_EQ_INT(g->attempts, 1);
        char want[128];
        snprintf(want, sizeof want, "application/json|42|%s", body);
        NT_EQ_STR(g->body, want);
    }
    /* one TCP connection carried all thirty */
    NT_EQ_INT(sstats().accepted, 1);
    NT_EQ_INT(cstats().connects, 1);
    NT_EQ_INT(cstats().reused, 29);
    NT_EQ_INT(cstats().conns, 1);
    NT_EQ_INT(cstats().pending, 0);
    NT_EQ_INT(cstats().lookups, 0);      /* an IP literal: no lookup */
    NT_EQ_INT(F.hooks, 30);
    nano_free(g);
    teardown();
}

static void
test_pool_cap_and_concurrency(void)
{
    struct nano_http_client_opts co;
    struct got *g[12];

    nano_http_client_opts_default(&co);
    co.max_conns_per_host = 2;
    setup_with(NULL, &co);
    for (int i = 0; i < 12; i++) {
        g[i] = new_got();
        NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL,
                                           NULL, 0, NULL, on_done, g[i]), 0);
    }
    NT_EQ_INT(cstats().pending, 12);
    for (int i = 0; i < 12; i++) {
        NT_ASSERT(wait_done(g[i], 3000));
        NT_EQ_INT(g[i]->status, 200);
        NT_EQ_STR(g[i]->body, "hello\n");
        nano_free(g[i]);
    }
    NT_CHECK(sstats().accepted <= 2);
    NT_CHECK(cstats().connects <= 2);
    NT_EQ_INT(sstats().requests, 12);
    teardown();
}

static void
test_bodies_chunked_big_head(void)
{
    struct got *g = new_got();

    setup();
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/big"), NULL, NULL, 0,
                                       NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->body_len, 100000);
    NT_CHECK(g->body[0] == '0' && g->body[99999] == '9');
    memset(g, 0, sizeof *g);
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/lines"), NULL, NULL, 0,
                                       NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->status, 200);
    NT_EQ_STR(g->body, "data: 0\r\n\ndata: 1\r\n\ndata: 2\r\n\ndata: 3\r\n\n"
                       "data: 4\r\n\n");
    NT_EQ_STR(g->ctype, "text/event-stream");
    memset(g, 0, sizeof *g);
    NT_EQ_INT(nano_http_client_request(F.cl, "HEAD", url("/v1/hello"), NULL,
                                       NULL, 0, NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->status, 200);
    NT_EQ_INT(g->body_len, 0);
    memset(g, 0, sizeof *g);
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/nope"), NULL, NULL, 0,
                                       NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->status, 404);
    NT_EQ_STR(g->body, "{\"error\":\"not_found\",\"message\":\"no route for GET "
                       "/nope\"}");
    /* all on one connection: chunked, HEAD and 404 keep it usable */
    NT_EQ_INT(sstats().accepted, 1);
    nano_free(g);
    teardown();
}

static void
test_bad_calls_rejected(void)
{
    struct got *g = new_got();

    setup();
    NT_EQ_INT(nano_http_client_post(F.cl, "https://example.com/hook", NULL, "x",
                                    1, NULL, on_done, g), -EPROTONOSUPPORT);
    NT_EQ_INT(nano_http_client_post(F.cl, "ftp://example.com/x", NULL, "x", 1,
                                    NULL, on_done, g), -EPROTONOSUPPORT);
    NT_EQ_INT(nano_http_client_post(F.cl, "http://", NULL, "x", 1, NULL, on_done,
                                    g), -EINVAL);
    NT_EQ_INT(nano_http_client_post(F.cl, url("/a b"), NULL, "x", 1, NULL,
                                    on_done, g), -EINVAL);
    NT_EQ_INT(nano_http_client_request(F.cl, "GE T", url("/"), NULL, NULL, 0,
                                       NULL, on_done, g), -EINVAL);
    NT_EQ_INT(nano_http_client_post(F.cl, url("/hook"), "text/plain\r\nX: y",
                                    "x", 1, NULL, on_done, g), -EINVAL);
    struct nano_http_call_opts o = { .headers = "X: y\r\n\r\nGET / HTTP/1.1\r\n",
                                     .max_retries = -1 };
    NT_EQ_INT(nano_http_client_post(F.cl, url("/hook"), NULL, "x", 1, &o,
                                    on_done, g), -EINVAL);
    o.headers = "X: y";
    NT_EQ_INT(nano_http_client_post(F.cl, url("/hook"), NULL, "x", 1, &o,
                                    on_done, g), -EINVAL);
    static char huge[1024 * 1024 + 1];
    NT_EQ_INT(nano_http_client_post(F.cl, url("/hook"), NULL, huge, sizeof huge,
                                    NULL, on_done, g), -EMSGSIZE);
    pump(F.loop, 20);
    NT_CHECK(!g->done);
    NT_EQ_INT(cstats().calls, 0);
    nano_free(g);
    teardown();
}

static uint16_t
free_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

static void
test_connection_refused_retries(void)
{
    struct nano_http_client_opts co;
    struct got *g = new_got();
    char u[64];
    uint64_t t0;

    nano_http_client_opts_default(&co);
    co.max_retries = 3;
    co.backoff_ms = 20;
    setup_with(NULL, &co);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/hook", free_port());
    t0 = now_ms();
    NT_EQ_INT(nano_http_client_post(F.cl, u, NULL, "x", 1, NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->err, -ECONNREFUSED);
    NT_EQ_INT(g->attempts, 4);
    NT_EQ_INT(cstats().retries, 3);
    NT_EQ_INT(cstats().connects, 4);
    /* backoff 20 + 40 + 80 ms */
    NT_CHECK(g->at_ms - t0 >= 140 && g->at_ms - t0 < 1500);
    NT_EQ_INT(cstats().conns, 0);
    nano_free(g);
    teardown();
}

/* A timer that must keep firing on time while the client waits. */
static struct {
    struct nano_timer t;
    uint64_t last, max_gap;
    int ticks;
} HB;

static void
hb_tick(struct nano_loop *loop, struct nano_timer *t)
{
    uint64_t now = now_ms();

    if (HB.last && now - HB.last > HB.max_gap)
        HB.max_gap = now - HB.last;
    HB.last = now;
    HB.ticks++;
}

static void
hb_start(void)
{
    memset(&HB, 0, sizeof HB);
    nano_timer_init(&HB.t, hb_tick);
    nano_timer_start(F.loop, &HB.t, 10, 10);
}

static void
test_connect_timeout_blackhole(void)
{
    struct nano_http_client_opts co;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    struct got *g = new_got();
    int lfd, fill[16], nfill = 0;
    char u[64];
    uint64_t t0;

    nano_http_client_opts_default(&co);
    co.connect_timeout_ms = 250;
    co.max_retries = 0;
    setup_with(NULL, &co);
    /* A listener that never accepts, its backlog filled: new SYNs are
     * dropped, so a connect neither succeeds nor fails - a black hole. */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    NT_ASSERT(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    NT_ASSERT(listen(lfd, 0) == 0);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    for (nfill = 0; nfill < 16; nfill++) {
        struct pollfd p;
        fill[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[nfill], (struct sockaddr *)&sa, sizeof sa);
        p.fd = fill[nfill];
        p.events = POLLOUT;
        if (poll(&p, 1, 100) == 0) {        /* this one hangs: full */
            nfill++;
            break;
        }
    }
    NT_ASSERT(nfill < 16);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/hook", ntohs(sa.sin_port));
    hb_start();
    t0 = now_ms();
    NT_EQ_INT(nano_http_client_post(F.cl, u, NULL, "x", 1, NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->err, -ETIMEDOUT);
    NT_EQ_INT(g->attempts, 1);
    NT_CHECK(g->at_ms - t0 >= 240 && g->at_ms - t0 < 700);
    NT_CHECK(HB.ticks >= 20);
    NT_CHECK(HB.max_gap < 40);
    NT_EQ_INT(cstats().timeouts, 0);     /* the connect deadline, not the total */
    nano_timer_stop(F.loop, &HB.t);
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(lfd);
    nano_free(g);
    teardown();
}

static void
test_total_timeout_on_stall_loop_responsive(void)
{
    struct got *g = new_got(), *g2 = new_got();
    struct nano_http_call_opts o = { .timeout_ms = 300, .max_retries = -1 };
    uint64_t t0;

    setup();
    hb_start();
    t0 = now_ms();
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/stall"), NULL, NULL, 0,
                                       &o, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->err, -ETIMEDOUT);
    NT_CHECK(g->at_ms - t0 >= 295 && g->at_ms - t0 < 600);
    NT_EQ_INT(cstats().timeouts, 1);
    /* the loop never stalled: the 10 ms timer kept its period */
    NT_CHECK(HB.ticks >= 25);
    NT_CHECK(HB.max_gap < 40);
    /* the abandoned connection is closed; the server learns the peer left */
    for (int i = 0; i < 100 && F.stall_closed == 0; i++)
        pump(F.loop, 5);
    NT_EQ_INT(F.stall_closed, 1);
    NT_EQ_INT(cstats().conns, 0);
    /* and the client still works */
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL, NULL,
                                       0, NULL, on_done, g2), 0);
    NT_ASSERT(wait_done(g2, 3000));
    NT_EQ_INT(g2->status, 200);
    nano_timer_stop(F.loop, &HB.t);
    nano_free(g);
    nano_free(g2);
    teardown();
}

static void
test_retries_on_503(void)
{
    struct nano_http_client_opts co;
    struct got *g = new_got();
    struct nano_http_call_opts no5xx = { .flags = NANO_HTTP_NO_RETRY_5XX,
                                         .max_retries = -1 };

    nano_http_client_opts_default(&co);
    co.max_retries = 3;
    co.backoff_ms = 10;
    setup_with(NULL, &co);
    F.flaky_left = 2;
    NT_EQ_INT(nano_http_client_post(F.cl, url("/flaky"), NULL, "x", 1, NULL,
                                    on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->err, NANO_OK);
    NT_EQ_INT(g->status, 200);
    NT_EQ_STR(g->body, "ok");
    NT_EQ_INT(g->attempts, 3);
    NT_EQ_INT(F.flaky_seen, 3);
    NT_EQ_INT(cstats().retries, 2);
    NT_EQ_INT(sstats().accepted, 1);     /* 503s keep the connection */

    /* retries used up: the last 503 is the answer */
    memset(g, 0, sizeof *g);
    F.flaky_left = 10;
    F.flaky_seen = 0;
    NT_EQ_INT(nano_http_client_post(F.cl, url("/flaky"), NULL, "x", 1, NULL,
                                    on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->err, NANO_OK);
    NT_EQ_INT(g->status, 503);
    NT_EQ_INT(g->attempts, 4);
    NT_EQ_INT(F.flaky_seen, 4);
    NT_CHECK(strstr(g->body, "try later") != NULL);

    /* and a caller that must not repeat */
    memset(g, 0, sizeof *g);
    F.flaky_seen = 0;
    NT_EQ_INT(nano_http_client_post(F.cl, url("/flaky"), NULL, "x", 1, &no5xx,
                                    on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->status, 503);
    NT_EQ_INT(g->attempts, 1);
    NT_EQ_INT(F.flaky_seen, 1);
    nano_free(g);
    teardown();
}

static void
test_pooled_connection_closed_by_server(void)
{
    struct nano_http_server_opts so;
    struct got *g = new_got();

    nano_http_server_opts_default(&so);
    so.idle_timeout_ms = 50;
    setup_with(&so, NULL);
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL, NULL,
                                       0, NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(cstats().conns, 1);
    pump(F.loop, 150);                  /* the server drops the idle one */
    NT_EQ_INT(sstats().timeouts_idle, 1);
    NT_EQ_INT(cstats().conns, 0);       /* and the pool noticed */
    memset(g, 0, sizeof *g);
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL, NULL,
                                       0, NULL, on_done, g), 0);
    NT_ASSERT(wait_done(g, 3000));
    NT_EQ_INT(g->status, 200);
    NT_EQ_INT(g->attempts, 1);
    NT_EQ_INT(cstats().connects, 2);
    nano_free(g);
    teardown();
}

static void
test_name_resolution_on_worker(void)
{
    struct got *g = new_got();
    struct addrinfo hints, *ai = NULL;
    char host[128], u[256];
    bool loopback = false;

    setup();
    /* the machine's own name, when it maps to 127.0.0.1 (/etc/hosts) */
    gethostname(host, sizeof host);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
        loopback = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr ==
                   htonl(INADDR_LOOPBACK);
        freeaddrinfo(ai);
    }
    if (loopback) {
        snprintf(u, sizeof u, "http://%s:%u/v1/hello", host, F.port);
        for (int i = 0; i < 3; i++) {
            memset(g, 0, sizeof *g);
            NT_EQ_INT(nano_http_client_request(F.cl, "GET", u, NULL, NULL, 0,
                                               NULL, on_done, g), 0);
            NT_ASSERT(wait_done(g, 5000));
            NT_EQ_INT(g->err, NANO_OK);
            NT_EQ_INT(g->status, 200);
        }
        NT_EQ_INT(cstats().lookups, 1);      /* cached after the first */
    } else {
        printf("    note: %s does not resolve to 127.0.0.1; lookup of a "
               "served name not exercised\n", host);
    }
    /* an unresolvable name fails without stalling the loop */
    struct nano_http_call_opts o = { .max_retries = 0 };
    memset(g, 0, sizeof *g);
    hb_start();
    NT_EQ_INT(nano_http_client_request(F.cl, "GET",
                                       "http://no-such-host.invalid/x", NULL,
                                       NULL, 0, &o, on_done, g), 0);
    NT_ASSERT(wait_done(g, 10000));
    NT_CHECK(g->err == -ENXIO || g->err == -EAGAIN || g->err == -EHOSTUNREACH);
    NT_CHECK(HB.max_gap < 40);
    nano_timer_stop(F.loop, &HB.t);
    nano_free(g);
    teardown();
}

static struct got *chain_g[3];
static int chain_n;

static void
on_done_chain(const struct nano_http_result *res, void *arg)
{
    on_done(res, arg);
    /* a done callback may start the next call */
    if (++chain_n < 3)
        NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL,
                                           NULL, 0, NULL, on_done_chain,
                                           chain_g[chain_n]), 0);
}

static void
test_cancel_on_free_and_chaining(void)
{
    struct got *g[3];

    setup();
    for (int i = 0; i < 3; i++)
        chain_g[i] = new_got();
    chain_n = 0;
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL, NULL,
                                       0, NULL, on_done_chain, chain_g[0]), 0);
    NT_ASSERT(wait_done(chain_g[2], 3000));
    for (int i = 0; i < 3; i++) {
        NT_EQ_INT(chain_g[i]->status, 200);
        nano_free(chain_g[i]);
    }
    /* calls in every state when the client goes: stalled on the wire,
     * queued, and waiting for a retry */
    for (int i = 0; i < 3; i++)
        g[i] = new_got();
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/stall"), NULL, NULL, 0,
                                       NULL, on_done, g[0]), 0);
    pump(F.loop, 30);
    NT_ASSERT(F.stalled != NULL);
    F.flaky_left = 5;
    NT_EQ_INT(nano_http_client_post(F.cl, url("/flaky"), NULL, "x", 1, NULL,
                                    on_done, g[1]), 0);
    NT_EQ_INT(nano_http_client_request(F.cl, "GET", url("/v1/hello"), NULL, NULL,
                                       0, NULL, on_done, g[2]), 0);
    nano_http_client_free(F.cl);
    F.cl = NULL;
    for (int i = 0; i < 3; i++) {
        NT_CHECK(g[i]->done);
        NT_EQ_INT(g[i]->err, -ECANCELED);
        nano_free(g[i]);
    }
    pump(F.loop, 30);
    NT_EQ_INT(F.stall_closed, 1);
    teardown();
}

/* ---- blocking Unix-socket client ---------------------------------------------- */

static void *
loop_thread(void *arg)
{
    nano_loop_run(arg);
    return NULL;
}

static pthread_t server_thread;

static void
serve_in_background(void)
{
    NT_ASSERT(pthread_create(&server_thread, NULL, loop_thread, F.loop) == 0);
}

static void
stop_background(void)
{
    nano_loop_stop(F.loop);
    pthread_join(server_thread, NULL);
}

static void
test_blocking_not_running(void)
{
    struct nano_buf b;
    struct sockaddr_un sa;
    char path[160];
    int status = 0, fd;

    setup();
    nano_buf_init(&b, 4096);
    snprintf(path, sizeof path, "%s/missing.sock", F.dir);
    NT_EQ_INT(nano_http_call_unix(path, "GET", "/v1/hello", NULL, 0, &status, &b,
                                  1000), -ENOENT);
    /* a socket file nobody listens on (nanod died) */
    snprintf(path, sizeof path, "%s/dead.sock", F.dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    NT_ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
    NT_EQ_INT(nano_http_call_unix(path, "GET", "/v1/hello", NULL, 0, &status, &b,
                                  1000), -ECONNREFUSED);
    NT_EQ_INT(nano_http_stream_unix(path, "GET", "/lines", NULL, 0, 0, &status,
                                    NULL, NULL, 1000), -EINVAL);
    unlink(path);
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "bad target", NULL, 0, &status,
                                  &b, 1000), -EINVAL);
    NT_EQ_INT(b.len, 0);
    nano_buf_free(&b);
    teardown();
}

static void
test_blocking_calls(void)
{
    struct nano_buf b;
    int status = 0;
    uint64_t t0;

    setup();
    serve_in_background();
    nano_buf_init(&b, 256 * 1024);
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "/v1/hello", NULL, 0, &status,
                                  &b, 2000), NANO_OK);
    NT_EQ_INT(status, 200);
    NT_EQ_STR(b.data, "hello\n");
    nano_buf_reset(&b);
    NT_EQ_INT(nano_http_call_unix(F.sock, "POST", "/hook", "{\"a\":1}", 7,
                                  &status, &b, 2000), NANO_OK);
    NT_EQ_INT(status, 200);
    NT_EQ_STR(b.data, "application/json||{\"a\":1}");
    nano_buf_reset(&b);
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "/v1/nope", NULL, 0, &status,
                                  &b, 2000), NANO_OK);
    NT_EQ_INT(status, 404);
    NT_EQ_STR(b.data, "{\"error\":\"not_found\",\"message\":\"no route for GET "
                      "/v1/nope\"}");
    nano_buf_reset(&b);
    /* chunked responses are decoded */
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "/lines", NULL, 0, &status, &b,
                                  2000), NANO_OK);
    NT_EQ_STR(b.data, "data: 0\r\n\ndata: 1\r\n\ndata: 2\r\n\ndata: 3\r\n\n"
                      "data: 4\r\n\n");
    nano_buf_free(&b);
    /* the body bounded by the caller's buffer */
    nano_buf_init(&b, 1000);
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "/big", NULL, 0, &status, &b,
                                  2000), -ENOSPC);
    nano_buf_free(&b);
    /* a stalled daemon cannot hang the CLI */
    nano_buf_init(&b, 1000);
    t0 = now_ms();
    NT_EQ_INT(nano_http_call_unix(F.sock, "GET", "/stall", NULL, 0, &status, &b,
                                  200), -ETIMEDOUT);
    NT_CHECK(now_ms() - t0 >= 190 && now_ms() - t0 < 1000);
    nano_buf_free(&b);
    stop_background();
    NT_EQ_INT(sstats().requests, 6);
    teardown();
}

struct lines_got {
    int  n;
    char line[16][64];
    int  stop_at;
};

static int
on_line(const char *data, size_t len, void *arg)
{
    struct lines_got *lg = arg;

    if (lg->n < 16)
        snprintf(lg->line[lg->n], sizeof lg->line[0], "%.*s", (int)len, data);
    lg->n++;
    return lg->n == lg->stop_at ? 7 : 0;
}

static void
test_blocking_stream_lines(void)
{
    struct lines_got lg;
    int status = 0;

    setup();
    serve_in_background();
    memset(&lg, 0, sizeof lg);
    NT_EQ_INT(nano_http_stream_unix(F.sock, "GET", "/lines", NULL, 0,
                                    NANO_HTTP_STREAM_LINES, &status, on_line,
                                    &lg, 2000), NANO_OK);
    NT_EQ_INT(status, 200);
    NT_EQ_INT(lg.n, 10);
    for (int i = 0; i < 5; i++) {
        char want[32];
        snprintf(want, sizeof want, "data: %d", i);
        NT_EQ_STR(lg.line[2 * i], want);      /* "\r\n" removed */
        NT_EQ_STR(lg.line[2 * i + 1], "");    /* the blank line ending an event */
    }
    /* the callback can stop the stream */
    memset(&lg, 0, sizeof lg);
    lg.stop_at = 3;
    NT_EQ_INT(nano_http_stream_unix(F.sock, "GET", "/lines", NULL, 0,
                                    NANO_HTTP_STREAM_LINES, &status, on_line,
                                    &lg, 2000), 7);
    NT_EQ_INT(lg.n, 3);
    /* raw pieces without the line mode */
    memset(&lg, 0, sizeof lg);
    NT_EQ_INT(nano_http_stream_unix(F.sock, "GET", "/v1/hello", NULL, 0, 0,
                                    &status, on_line, &lg, 2000), NANO_OK);
    NT_EQ_INT(lg.n, 1);
    NT_EQ_STR(lg.line[0], "hello\n");
    /* idle timeout while the server says nothing */
    memset(&lg, 0, sizeof lg);
    NT_EQ_INT(nano_http_stream_unix(F.sock, "GET", "/stall", NULL, 0,
                                    NANO_HTTP_STREAM_LINES, &status, on_line,
                                    &lg, 150), -ETIMEDOUT);
    stop_background();
    teardown();
}

NT_LIST = {
    { "post_and_keep_alive_reuse", test_post_and_keep_alive_reuse },
    { "pool_cap_and_concurrency", test_pool_cap_and_concurrency },
    { "bodies_chunked_big_head", test_bodies_chunked_big_head },
    { "bad_calls_rejected", test_bad_calls_rejected },
    { "connection_refused_retries", test_connection_refused_retries },
    { "connect_timeout_blackhole", test_connect_timeout_blackhole },
    { "total_timeout_on_stall_loop_responsive",
      test_total_timeout_on_stall_loop_responsive },
    { "retries_on_503", test_retries_on_503 },
    { "pooled_connection_closed_by_server", test_pooled_connection_closed_by_server },
    { "name_resolution_on_worker", test_name_resolution_on_worker },
    { "cancel_on_free_and_chaining", test_cancel_on_free_and_chaining },
    { "blocking_not_running", test_blocking_not_running },
    { "blocking_calls", test_blocking_calls },
    { "blocking_stream_lines", test_blocking_stream_lines },
    { NULL, NULL }
};
