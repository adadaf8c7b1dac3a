/* test_http_server.c - the HTTP server and router over real sockets (a Unix
 * socket in a temporary directory and 127.0.0.1 on an ephemeral port):
 * keep-alive, pipelining, 404/405 JSON, HEAD, bodies, limits, the
 * connection cap, the header/idle/body timeouts, streaming, a peer leaving
 * mid-stream, back-pressure, auth, and the Unix socket file rules. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness/nt.h"
#include "http_test.h"
#include "api/http_server.h"
#include "api/router.h"
#include "core/json.h"

/* ---- fixture --------------------------------------------------------------- */

static struct {
    struct nano_loop        *loop;
    struct nano_http_server *srv;
    struct nano_router      *router;
    char                     dir[64];
    char                     sock[128];
    uint16_t                 port;
    uint16_t                 auth_port;
} F;

static void
h_hello(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    nano_http_respond(req, 200, "text/plain", "hello\n", 6);
}

static void
h_echo_n(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    const char *n = nano_route_param(m, "n");
    nano_http_respond(req, 200, "text/plain", n, strlen(n));
}

static void
h_echo_body(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    struct nano_span b = nano_http_req_body(req);
    nano_http_respond(req, 200, "application/octet-stream", b.p, b.len);
}

static void
h_device(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_buf b;
    struct nano_json w;

    nano_buf_init(&b, 1024);
    nano_json_init(&w, &b);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "name");
    nano_json_str(&w, nano_route_param(m, "name"));
    nano_json_key(&w, "pattern");
    nano_json_str(&w, m->pattern);
    nano_json_obj_end(&w);
    nano_http_respond_json(req, 200, &b);
    nano_buf_free(&b);
}

static void
h_explain(struct nano_http_req *req, const struct nano_route_match *m,
          void *arg)
{
    char out[128];
    int n = snprintf(out, sizeof out, "explain %s", nano_route_param(m, "name"));
    nano_http_respond(req, 200, "text/plain", out, (size_t)n);
}

/* ---- a stream producer (the shape of the SSE producer) ------------------- */

enum { MODE_TICK, MODE_FLOOD };

static struct streamer {
    struct nano_http_req *req;
    struct nano_timer     t;
    int                   mode;
    int                   sent, total, interval_ms;
    int                   closed, drained, refused;
    size_t                max_queued;
    bool                  blocked;
} S;

static void
stream_finish(void)
{
    nano_timer_stop(F.loop, &S.t);
    nano_http_stream_end(S.req);
    S.req = NULL;
}

static void
stream_tick(struct nano_loop *loop, struct nano_timer *t)
{
    char chunk[1000];

    if (!S.req)
        return;
    if (S.mode == MODE_TICK) {
        int n = snprintf(chunk, sizeof chunk, "data: event %d\n\n", S.sent);
        NT_EQ_INT(nano_http_stream_write(S.req, chunk, (size_t)n), NANO_OK);
        if (++S.sent == S.total) {
            stream_finish();
            return;
        }
        nano_timer_start(loop, &S.t, (uint64_t)S.interval_ms, 0);
        return;
    }
    /* Flood: pull while there is room, stop on the first refusal and wait
     * for on_drain - what the SSE producer does with its bounded queue. */
    while (S.sent < S.total) {
        int rc;
        memset(chunk, 'x', sizeof chunk);
        snprintf(chunk, sizeof chunk, "%08d", S.sent);
        chunk[8] = ' ';
        chunk[sizeof chunk - 1] = '\n';
        rc = nano_http_stream_write(S.req, chunk, sizeof chunk);
        if (rc == -ENOBUFS) {
            S.refused++;
            S.blocked = true;
            NT_CHECK(nano_http_stream_room(S.req) < sizeof chunk);
            return;
        }
        NT_EQ_INT(rc, NANO_OK);
        if (nano_http_stream_queued(S.req) > S.max_queued)
            S.max_queued = nano_http_stream_queued(S.req);
        S.sent++;
    }
    stream_finish();
}

static void
stream_drain(struct nano_http_req *req, void *arg)
{
    NT_CHECK(req == S.req);
    S.drained++;
    S.blocked = false;
    nano_timer_start(F.loop, &S.t, 0, 0);
}

static void
stream_close(struct nano_http_req *req, void *arg)
{
    NT_CHECK(req == S.req);
    NT_CHECK(nano_http_req_peer_gone(req));
    NT_EQ_INT(nano_http_stream_write(req, "x", 1), -ECONNRESET);
    S.closed++;
    stream_finish();
}

static void
h_stream(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    static const struct nano_http_stream_cbs cbs = { stream_close, stream_drain };
    int rc;

    nano_http_add_header(req, "Cache-Control", "no-cache");
    rc = nano_http_stream_begin(req, 200, "text/event-stream", &cbs, NULL);
    if (rc != NANO_OK) {
        NT_EQ_INT(rc, -ECANCELED);      /* HEAD */
        return;
    }
    NT_CHECK(S.req == NULL);
    S.req = req;
    nano_timer_init(&S.t, stream_tick);
    nano_timer_start(F.loop, &S.t, (uint64_t)S.interval_ms, 0);
}

/* A handler that keeps the request and answers only when told to (or when
 * the peer leaves). */
static struct {
    struct nano_http_req *req;
    int closed;
} K;

static void
kept_close(struct nano_http_req *req, void *arg)
{
    K.closed++;
    NT_EQ_INT(nano_http_respond(req, 200, "text/plain", "late", 4), -ECONNRESET);
    K.req = NULL;
}

static void
h_kept(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    K.req = req;
    nano_http_req_on_close(req, kept_close, NULL);
}

static int
auth_hook(struct nano_http_req *req, void *arg)
{
    struct nano_span a = nano_http_req_header(req, "authorization");

    if (!a.p)
        return -EACCES;
    return nano_http_span_ieq(a, "Bearer s3cret") ? NANO_OK : -EPERM;
}

static void
setup_with(const struct nano_http_server_opts *opts)
{
    memset(&F, 0, sizeof F);
    memset(&S, 0, sizeof S);
    memset(&K, 0, sizeof K);
    S.total = 5;
    S.interval_ms = 20;
    NT_ASSERT(nano_loop_new(&F.loop) == NANO_OK);
    NT_ASSERT(nano_router_new(&F.router) == NANO_OK);
    NT_ASSERT(nano_router_add(F.router, "GET", "/v1/hello", 0, h_hello, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/echo/{n}", 0, h_echo_n, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "POST", "/echo", 0, h_echo_body, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "PUT", "/echo", 0, h_echo_body, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/v1/devices/{name}", 0, h_device,
                              NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/v1/services/{name}/explain", 0,
                              h_explain, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/v1/stream", 0, h_stream, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/kept", 0, h_kept, NULL) == 0);
    NT_ASSERT(nano_router_add(F.router, "GET", "/healthz", NANO_ROUTE_PUBLIC,
                              h_hello, NULL) == 0);
    nano_router_set_auth(F.router, auth_hook, NULL);
    NT_ASSERT(nano_http_server_new(F.loop, opts, nano_router_handle, F.router,
                                   &F.srv) == NANO_OK);
    strcpy(F.dir, "/tmp/nano-http-XXXXXX");
    NT_ASSERT(mkdtemp(F.dir) != NULL);
    snprintf(F.sock, sizeof F.sock, "%s/api.sock", F.dir);
    NT_ASSERT(nano_http_server_listen_unix(F.srv, F.sock, 0) == NANO_OK);
    NT_ASSERT(nano_http_server_listen_tcp(F.srv, "127.0.0.1", 0, 0, &F.port) == 0);
    NT_ASSERT(F.port != 0);
    NT_ASSERT(nano_http_server_listen_tcp(F.srv, "127.0.0.1", 0,
                                          NANO_HTTP_LISTEN_AUTH,
                                          &F.auth_port) == NANO_OK);
}

static void
setup(void)
{
    setup_with(NULL);
}

static void
teardown(void)
{
    nano_http_server_free(F.srv);
    nano_router_free(F.router);
    nano_loop_free(F.loop);
    rmdir(F.dir);
    CHECK_NO_LEAKS();
}

static struct nano_http_server_stats
stats(void)
{
    struct nano_http_server_stats st;
    nano_http_server_stats(F.srv, &st);
    return st;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: x\r\n\r\n"

/* ---- tests ------------------------------------------------------------------- */

static void
test_keep_alive_many_requests(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(t);
    for (int i = 0; i < 200; i++) {
        char req[64];
        snprintf(req, sizeof req, GET("/echo/%d"), i);
        NT_EQ_INT(tc_call(F.loop, t, req, &r), 200);
        NT_CHECK(r.keep_alive);
        NT_EQ_INT(atoi(r.body), i);
        tresp_free(&r);
    }
    NT_EQ_INT(stats().accepted, 1);
    NT_EQ_INT(stats().requests, 200);
    /* the same over the Unix socket */
    struct tconn *u = tc_open(tc_connect_unix(F.sock));
    NT_ASSERT(u);
    for (int i = 0; i < 20; i++) {
        NT_EQ_INT(tc_call(F.loop, u, GET("/v1/hello"), &r), 200);
        NT_EQ_STR(r.body, "hello\n");
        NT_CHECK(strstr(r.head, "Content-Type: text/plain\r\n") != NULL);
        NT_CHECK(strstr(r.head, "Content-Length: 6\r\n") != NULL);
        NT_CHECK(strstr(r.head, "Date: ") != NULL);
        tresp_free(&r);
    }
    NT_EQ_INT(stats().accepted, 2);
    NT_EQ_INT(stats().conns, 2);
    NT_CHECK(stats().conn_bytes > 0 && stats().conn_bytes <= 256);
    printf("    bytes per idle connection: %u\n", stats().conn_bytes);
    tc_close(t);
    tc_close(u);
    teardown();
}

static void
test_pipelining_in_order(void)
{
    struct tconn *t;
    struct tresp r;
    char all[4096];
    size_t n = 0;

    setup();
    t = tc_open(tc_connect_unix(F.sock));
    NT_ASSERT(t);
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(all + n, sizeof all - n, GET("/echo/%d"), i);
    n += (size_t)snprintf(all + n, sizeof all - n,
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3"
                          "\r\n\r\nabc" GET("/v1/nope") GET("/echo/last"));
    NT_ASSERT(tc_send(t, all, n));     /* one write: all pipelined */
    for (int i = 0; i < 20; i++) {
        NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
        NT_EQ_INT(r.status, 200);
        NT_EQ_INT(atoi(r.body), i);
        tresp_free(&r);
    }
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_STR(r.body, "abc");
    tresp_free(&r);
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_INT(r.status, 404);
    tresp_free(&r);
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_STR(r.body, "last");
    tresp_free(&r);
    NT_EQ_INT(stats().requests, 23);
    tc_close(t);
    teardown();
}

static void
test_not_found_and_method_not_allowed(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/nope"), &r), 404);
    NT_EQ_STR(r.body, "{\"error\":\"not_found\",\"message\":\"no route for GET "
                      "/v1/nope\"}");
    NT_CHECK(strstr(r.head, "Content-Type: application/json\r\n") != NULL);
    NT_CHECK(r.keep_alive);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "POST /v1/hello HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 0\r\n\r\n", &r), 405);
    NT_CHECK(strstr(r.head, "\r\nAllow: GET, HEAD\r\n") != NULL);
    NT_EQ_STR(r.body, "{\"error\":\"method_not_allowed\",\"message\":\"POST not "
                      "allowed on /v1/hello (allowed: GET, HEAD)\"}");
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n", &r),
              405);
    NT_CHECK(strstr(r.head, "\r\nAllow: POST, PUT\r\n") != NULL);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "OPTIONS /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n",
                      &r), 204);
    NT_CHECK(strstr(r.head, "\r\nAllow: GET, HEAD\r\n") != NULL);
    NT_CHECK(strstr(r.head, "Content-Length") == NULL);
    tresp_free(&r);
    /* still the same connection */
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    NT_EQ_INT(stats().accepted, 1);
    tc_close(t);
    teardown();
}

static void
test_router_params_and_decoding(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_unix(F.sock));
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/boiler"), &r), 200);
    NT_EQ_STR(r.body, "{\"name\":\"boiler\",\"pattern\":\"/v1/devices/{name}\"}");
    tresp_free(&r);
    /* %2F inside a segment is data, not a separator */
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/a%2Fb%20c"), &r), 200);
    NT_EQ_STR(r.body, "{\"name\":\"a/b c\",\"pattern\":\"/v1/devices/{name}\"}");
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/services/heat%2Dloop/explain"), &r), 200);
    NT_EQ_STR(r.body, "explain heat-loop");
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/"), &r), 404);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/a/b"), &r), 404);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/a%zz"), &r), 400);
    NT_CHECK(strstr(r.body, "percent-encoding") != NULL);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/a%00"), &r), 400);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/devices/x?y=1"), &r), 200);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"), &r),
              404);
    tresp_free(&r);
    tc_close(t);

    /* registration rules */
    NT_EQ_INT(nano_router_add(F.router, "GET", "/v1/hello", 0, h_hello, NULL),
              -EEXIST);
    NT_EQ_INT(nano_router_add(F.router, "GET", "v1", 0, h_hello, NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/a/{x", 0, h_hello, NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/a/x{y}", 0, h_hello, NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/a/{}", 0, h_hello, NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/{a}/{a}", 0, h_hello, NULL),
              -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/{a}/{b}/{c}/{d}/{e}", 0, h_hello,
                              NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "G T", "/x", 0, h_hello, NULL), -EINVAL);
    NT_EQ_INT(nano_router_add(F.router, "GET", "/x", 0, NULL, NULL), -EINVAL);
    teardown();
}

static void
test_head_request(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, t, "HEAD /v1/hello HTTP/1.1\r\nHost: x\r\n\r\n", &r),
              200);
    NT_CHECK(strstr(r.head, "Content-Length: 6\r\n") != NULL);
    tresp_free(&r);
    /* no body followed: the next response parses from the first byte */
    NT_EQ_INT(tc_call(F.loop, t, GET("/echo/7"), &r), 200);
    NT_EQ_STR(r.body, "7");
    tresp_free(&r);
    /* HEAD of a streaming route: the head, no body, connection reusable */
    NT_EQ_INT(tc_call(F.loop, t, "HEAD /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n",
                      &r), 200);
    NT_CHECK(strstr(r.head, "Content-Type: text/event-stream\r\n") != NULL);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, GET("/echo/8"), &r), 200);
    NT_EQ_STR(r.body, "8");
    tresp_free(&r);
    NT_CHECK(S.req == NULL);
    tc_close(t);
    teardown();
}

static void
test_request_bodies(void)
{
    struct tconn *t;
    struct tresp r;
    static char big[300000];
    char head[128];

    setup();
    t = tc_open(tc_connect_unix(F.sock));
    NT_EQ_INT(tc_call(F.loop, t, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n"
                      "6\r\n world\r\n0\r\nTrailer: t\r\n\r\n", &r), 200);
    NT_EQ_STR(r.body, "hello world");
    tresp_free(&r);

    /* a large body, in pieces, through the direct-to-body path */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    snprintf(head, sizeof head, "PUT /echo HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: %zu\r\n\r\n", sizeof big);
    NT_ASSERT(tc_sends(t, head));
    for (size_t off = 0; off < sizeof big; off += 65536) {
        size_t n = sizeof big - off < 65536 ? sizeof big - off : 65536;
        NT_ASSERT(tc_send(t, big + off, n));
        pump(F.loop, 2);
    }
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 5000), 0);
    NT_EQ_INT(r.status, 200);
    NT_EQ_INT(r.body_len, sizeof big);
    NT_CHECK(memcmp(r.body, big, sizeof big) == 0);
    tresp_free(&r);

    /* Expect: 100-continue gets the interim response before the body */
    NT_ASSERT(tc_sends(t, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue"
                          "\r\nContent-Length: 4\r\n\r\n"));
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_INT(r.status, 100);
    tresp_free(&r);
    NT_ASSERT(tc_sends(t, "ping"));
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_INT(r.status, 200);
    NT_EQ_STR(r.body, "ping");
    tresp_free(&r);
    tc_close(t);
    teardown();
}

static void
test_bad_requests_answered_and_closed(void)
{
    static const struct { const char *req; int status; } cases[] = {
        { "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
        { "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
          "Transfer-Encoding: chunked\r\n\r\n", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked"
          "\r\n\r\n", 501 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n", 413 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "zz\r\n", 400 },
        { "GET / HTTP/1.1\r\n\r\n", 400 },
        /* a chunk of 2 MiB is refused at its size line, before any data */
        { "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "200000\r\n", 413 },
    };
    struct tresp r;

    setup();
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct tconn *t = tc_open(tc_connect_tcp(F.port, 0));
        NT_MSG("case %zu", i);
        NT_EQ_INT(tc_call(F.loop, t, cases[i].req, &r), cases[i].status);
        NT_CHECK(!r.keep_alive);
        NT_CHECK(strstr(r.body, "{\"error\":\"") == r.body);
        tresp_free(&r);
        NT_CHECK(tc_wait_closed(F.loop, t, 1000));
        tc_close(t);
    }
    nt_msgbuf[0] = '\0';
    /* a head that never ends is 431 once it passes head_max */
    struct tconn *t = tc_open(tc_connect_tcp(F.port, 0));
    static char junk[9000];
    memcpy(junk, "GET / HTTP/1.1\r\nX: ", 19);
    memset(junk + 19, 'a', sizeof junk - 19);
    NT_ASSERT(tc_send(t, junk, sizeof junk));
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 3000), 0);
    NT_EQ_INT(r.status, 431);
    tresp_free(&r);
    tc_close(t);
    NT_EQ_INT(stats().bad_requests, NANO_ARRAY_LEN(cases) + 1);
    pump(F.loop, 20);
    NT_EQ_INT(stats().conns, 0);
    teardown();
}

static void
test_http10_clients(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/hello HTTP/1.0\r\n\r\n", &r), 200);
    NT_CHECK(!r.keep_alive);
    tresp_free(&r);
    NT_CHECK(tc_wait_closed(F.loop, t, 1000));
    tc_close(t);
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/hello HTTP/1.0\r\nConnection: "
                      "keep-alive\r\n\r\n", &r), 200);
    NT_CHECK(r.keep_alive);
    NT_CHECK(strstr(r.head, "Connection: keep-alive\r\n") != NULL);
    tresp_free(&r);
    /* a 1.0 stream is close-delimited */
    S.total = 3;
    S.interval_ms = 5;
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/stream HTTP/1.0\r\n\r\n", &r), 200);
    NT_EQ_STR(r.body, "data: event 0\n\ndata: event 1\n\ndata: event 2\n\n");
    NT_CHECK(strstr(r.head, "Transfer-Encoding") == NULL);
    tresp_free(&r);
    NT_CHECK(t->eof);
    tc_close(t);
    teardown();
}

static void
test_connection_cap(void)
{
    struct nano_http_server_opts o;
    struct tconn *a, *b, *c, *d;
    struct tresp r;

    nano_http_server_opts_default(&o);
    o.max_conns = 2;
    setup_with(&o);
    a = tc_open(tc_connect_tcp(F.port, 0));
    b = tc_open(tc_connect_unix(F.sock));
    NT_EQ_INT(tc_call(F.loop, a, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, b, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    c = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_response(F.loop, c, &r, false, 2000), 0);
    NT_EQ_INT(r.status, 503);
    NT_EQ_STR(r.body, "{\"error\":\"unavailable\",\"message\":\"too many "
                      "connections\"}");
    NT_CHECK(!r.keep_alive);
    tresp_free(&r);
    NT_CHECK(tc_wait_closed(F.loop, c, 1000));
    NT_EQ_INT(stats().rejected_busy, 1);
    NT_EQ_INT(stats().conns, 2);
    /* the two served connections are unaffected */
    NT_EQ_INT(tc_call(F.loop, a, GET("/echo/1"), &r), 200);
    tresp_free(&r);
    /* a slot frees up when one leaves */
    tc_close(a);
    for (int i = 0; i < 200 && stats().conns != 1; i++)
        pump(F.loop, 5);
    NT_EQ_INT(stats().conns, 1);
    d = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, d, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    tc_close(b);
    tc_close(c);
    tc_close(d);
    teardown();
}

static void
test_header_timeout_drops_dribbler(void)
{
    struct nano_http_server_opts o;
    const char *req = "GET /v1/hello HTTP/1.1\r\nHost: x\r\nX-Slow: "
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                      "\r\n";
    struct tconn *t, *quiet;
    uint64_t t0, t_closed = 0;
    size_t sent = 0;

    nano_http_server_opts_default(&o);
    o.header_timeout_ms = 300;
    setup_with(&o);
    t = tc_open(tc_connect_tcp(F.port, 0));
    quiet = tc_open(tc_connect_unix(F.sock));
    t0 = now_ms();
    /* one byte every 20 ms: the head would take 3 s; every byte is progress,
     * none of it extends the deadline */
    while (now_ms() - t0 < 2000 && sent < strlen(req)) {
        if (!tc_send(t, req + sent, 1))
            break;
        sent++;
        pump(F.loop, 20);
        if (recv(t->fd, t->buf, sizeof t->buf, MSG_DONTWAIT | MSG_PEEK) >= 0) {
            t_closed = now_ms();
            break;
        }
    }
    NT_CHECK(t_closed != 0);
    NT_CHECK(t_closed - t0 >= 280 && t_closed - t0 < 800);
    NT_CHECK(sent < strlen(req));
    NT_CHECK(tc_wait_closed(F.loop, t, 1000));
    NT_CHECK(strncmp(t->buf, "HTTP/1.1 408 ", 13) == 0);
    /* a connection that never says anything is on the same clock */
    NT_CHECK(tc_wait_closed(F.loop, quiet, 1000));
    NT_EQ_INT(quiet->len, 0);
    NT_EQ_INT(stats().timeouts_header, 2);
    NT_EQ_INT(stats().conns, 0);
    tc_close(t);
    tc_close(quiet);
    teardown();
}

static void
test_idle_timeout(void)
{
    struct nano_http_server_opts o;
    struct tconn *idle, *busy;
    struct tresp r;
    uint64_t t0;

    nano_http_server_opts_default(&o);
    o.idle_timeout_ms = 250;
    setup_with(&o);
    idle = tc_open(tc_connect_tcp(F.port, 0));
    busy = tc_open(tc_connect_unix(F.sock));
    NT_EQ_INT(tc_call(F.loop, idle, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    t0 = now_ms();
    /* busy asks every 100 ms and outlives several idle periods */
    for (int i = 0; i < 8; i++) {
        NT_EQ_INT(tc_call(F.loop, busy, GET("/v1/hello"), &r), 200);
        tresp_free(&r);
        pump(F.loop, 100);
    }
    NT_CHECK(tc_wait_closed(F.loop, idle, 10));
    NT_CHECK(!busy->eof);
    NT_EQ_INT(idle->len, 0);
    NT_EQ_INT(stats().timeouts_idle, 1);
    NT_EQ_INT(stats().conns, 1);
    NT_CHECK(now_ms() - t0 >= 800);
    tc_close(idle);
    tc_close(busy);
    teardown();
}

static void
test_body_timeout(void)
{
    struct nano_http_server_opts o;
    struct tconn *t;
    struct tresp r;

    nano_http_server_opts_default(&o);
    o.body_timeout_ms = 200;
    setup_with(&o);
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(tc_sends(t, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100"
                          "\r\n\r\nonly ten.."));
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 2000), 0);
    NT_EQ_INT(r.status, 408);
    tresp_free(&r);
    NT_CHECK(tc_wait_closed(F.loop, t, 1000));
    NT_EQ_INT(stats().timeouts_body, 1);
    NT_EQ_INT(stats().requests, 0);
    tc_close(t);
    teardown();
}

static void
test_streaming_chunk_by_chunk(void)
{
    struct tconn *t;
    struct tresp r;
    int events = 0;
    size_t off;

    setup();
    S.total = 5;
    S.interval_ms = 30;
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(tc_sends(t, GET("/v1/stream")));
    /* read the head, then each chunk as the producer emits it */
    while (!strstr(t->buf, "\r\n\r\n"))
        NT_ASSERT(tc_fill(F.loop, t, 1000) > 0);
    NT_CHECK(strncmp(t->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    NT_CHECK(strstr(t->buf, "Transfer-Encoding: chunked\r\n") != NULL);
    NT_CHECK(strstr(t->buf, "Cache-Control: no-cache\r\n") != NULL);
    off = (size_t)(strstr(t->buf, "\r\n\r\n") - t->buf) + 4;
    while (events < 5) {
        char want[64], ev[32];
        int evn = snprintf(ev, sizeof ev, "data: event %d\n\n", events);
        int n = snprintf(want, sizeof want, "%x\r\n%s\r\n", evn, ev);
        while (t->len - off < (size_t)n)
            NT_ASSERT(tc_fill(F.loop, t, 1000) > 0);
        NT_CHECK(memcmp(t->buf + off, want, (size_t)n) == 0);
        off += (size_t)n;
        events++;
        /* the next event is not there yet: it comes from a timer */
        if (events < 5)
            NT_EQ_INT(t->len, off);
    }
    while (t->len - off < 5)
        NT_ASSERT(tc_fill(F.loop, t, 1000) > 0);
    NT_CHECK(memcmp(t->buf + off, "0\r\n\r\n", 5) == 0);
    t->len = 0;
    NT_CHECK(S.req == NULL);
    /* the connection carries on after the stream */
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    NT_EQ_INT(stats().accepted, 1);
    tc_close(t);
    teardown();
}

static void
test_disconnect_mid_stream_calls_close(void)
{
    struct tconn *t;

    setup();
    S.total = 1000;
    S.interval_ms = 10;
    t = tc_open(tc_connect_unix(F.sock));
    NT_ASSERT(tc_sends(t, GET("/v1/stream")));
    while (!strstr(t->buf, "event 2"))
        NT_ASSERT(tc_fill(F.loop, t, 1000) > 0);
    NT_CHECK(S.req != NULL);
    tc_close(t);
    for (int i = 0; i < 100 && S.closed == 0; i++)
        pump(F.loop, 5);
    NT_EQ_INT(S.closed, 1);
    NT_CHECK(S.req == NULL);
    NT_EQ_INT(stats().peer_gone, 1);
    NT_EQ_INT(stats().conns, 0);

    /* an async (non-stream) request whose peer leaves */
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(tc_sends(t, GET("/kept")));
    for (int i = 0; i < 100 && !K.req; i++)
        pump(F.loop, 2);
    NT_ASSERT(K.req != NULL);
    NT_CHECK(!nano_http_req_peer_gone(K.req));
    tc_close(t);
    for (int i = 0; i < 100 && K.closed == 0; i++)
        pump(F.loop, 5);
    NT_EQ_INT(K.closed, 1);
    NT_EQ_INT(stats().peer_gone, 2);

    /* the server going away while a stream is held */
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(tc_sends(t, GET("/v1/stream")));
    for (int i = 0; i < 100 && !S.req; i++)
        pump(F.loop, 2);
    NT_ASSERT(S.req != NULL);
    nano_http_server_free(F.srv);
    F.srv = NULL;
    NT_EQ_INT(S.closed, 2);
    NT_CHECK(S.req == NULL);
    tc_close(t);
    teardown();
}

static void
test_async_response_later(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_ASSERT(tc_sends(t, GET("/kept") GET("/echo/after")));
    for (int i = 0; i < 100 && !K.req; i++)
        pump(F.loop, 2);
    NT_ASSERT(K.req != NULL);
    /* spans stay valid while the handler holds the request */
    NT_CHECK(nano_http_span_ieq(nano_http_req_path(K.req), "/kept"));
    pump(F.loop, 30);
    NT_EQ_INT(t->len, 0);       /* the pipelined request waits its turn */
    NT_EQ_INT(nano_http_respond(K.req, 202, "text/plain", "done", 4), NANO_OK);
    K.req = NULL;
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 2000), 0);
    NT_EQ_INT(r.status, 202);
    NT_EQ_STR(r.body, "done");
    tresp_free(&r);
    NT_EQ_INT(tc_response(F.loop, t, &r, false, 2000), 0);
    NT_EQ_STR(r.body, "after");
    tresp_free(&r);
    tc_close(t);
    teardown();
}

static void
test_backpressure(void)
{
    struct nano_http_server_opts o;
    struct tconn *t;
    int seq = 0, sent_blocked;
    size_t off;

    nano_http_server_opts_default(&o);
    o.stream_queue_max = 8192;
    setup_with(&o);
    S.mode = MODE_FLOOD;
    S.total = 4000;                  /* 4 MB: far more than socket buffers */
    S.interval_ms = 0;
    t = tc_open(tc_connect_tcp(F.port, 4096));
    NT_ASSERT(tc_sends(t, GET("/v1/stream")));
    /* the peer does not read: the producer must be refused and stop */
    pump(F.loop, 300);
    NT_CHECK(S.refused >= 1);
    NT_CHECK(S.blocked);
    NT_CHECK(S.sent < S.total);
    NT_CHECK(S.max_queued <= o.stream_queue_max);
    NT_EQ_INT(S.drained, 0);
    sent_blocked = S.sent;
    pump(F.loop, 100);
    NT_EQ_INT(S.sent, sent_blocked);         /* no progress while full */
    NT_EQ_INT(S.refused, 1);                 /* and no busy retrying */

    /* now read everything: on_drain resumes the producer; data in order */
    while (!strstr(t->buf, "\r\n\r\n"))
        NT_ASSERT(tc_fill(F.loop, t, 1000) > 0);
    off = (size_t)(strstr(t->buf, "\r\n\r\n") - t->buf) + 4;
    memmove(t->buf, t->buf + off, t->len - off);
    t->len -= off;
    {
        struct nano_http_chunked ck;
        static char line[1000];
        size_t ll = 0;
        nano_http_chunked_init(&ck, 1u << 30);
        while (!nano_http_chunked_done(&ck)) {
            size_t pos = 0;
            if (t->len == 0 && tc_fill(F.loop, t, 2000) <= 0)
                break;
            while (pos < t->len && !nano_http_chunked_done(&ck)) {
                struct nano_span d;
                int n = nano_http_chunked_feed(&ck, (uint8_t *)t->buf + pos,
                                               t->len - pos, &d);
                NT_ASSERT(n >= 0);
                for (size_t i = 0; i < d.len; i++) {
                    line[ll++] = (char)d.p[i];
                    if (ll == sizeof line) {
                        NT_ASSERT(atoi(line) == seq);
                        NT_ASSERT(line[999] == '\n');
                        seq++;
                        ll = 0;
                    }
                }
                pos += (size_t)n;
            }
            t->len = 0;
        }
        NT_CHECK(nano_http_chunked_done(&ck));
    }
    NT_EQ_INT(seq, S.total);
    NT_EQ_INT(S.sent, S.total);
    NT_CHECK(S.drained >= 1);
    NT_CHECK(S.max_queued <= o.stream_queue_max);
    printf("    refused %d times, drained %d times, max queued %zu\n",
           S.refused, S.drained, S.max_queued);
    tc_close(t);
    teardown();
}

static void
test_write_timeout_on_stalled_reader(void)
{
    struct nano_http_server_opts o;
    struct tconn *t;
    uint64_t t0;

    nano_http_server_opts_default(&o);
    o.write_timeout_ms = 200;
    o.stream_queue_max = 8192;
    setup_with(&o);
    S.mode = MODE_FLOOD;
    S.total = 100000;
    S.interval_ms = 0;
    t = tc_open(tc_connect_tcp(F.port, 4096));
    NT_ASSERT(tc_sends(t, GET("/v1/stream")));
    /* the reader never reads: the queue fills, then nothing moves */
    for (int i = 0; i < 200 && !S.blocked; i++)
        pump(F.loop, 5);
    NT_ASSERT(S.blocked);
    t0 = now_ms();
    for (int i = 0; i < 400 && S.closed == 0; i++)
        pump(F.loop, 5);
    NT_EQ_INT(S.closed, 1);                 /* the producer was told */
    NT_CHECK(now_ms() - t0 < 1000);
    NT_EQ_INT(stats().timeouts_write, 1);
    NT_EQ_INT(stats().conns, 0);
    tc_close(t);
    teardown();
}

static void
test_auth_listener(void)
{
    struct tconn *t;
    struct tresp r;

    setup();
    t = tc_open(tc_connect_tcp(F.auth_port, 0));
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/hello"), &r), 401);
    NT_CHECK(strstr(r.head, "WWW-Authenticate: Bearer\r\n") != NULL);
    NT_CHECK(strstr(r.body, "\"unauthorized\"") != NULL);
    tresp_free(&r);
    /* unknown routes do not reveal themselves before auth */
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/secret"), &r), 401);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/hello HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer nope\r\n\r\n", &r), 403);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/hello HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer s3cret\r\n\r\n", &r), 200);
    tresp_free(&r);
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/nope HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer s3cret\r\n\r\n", &r), 404);
    tresp_free(&r);
    /* a public route needs no token */
    NT_EQ_INT(tc_call(F.loop, t, GET("/healthz"), &r), 200);
    tresp_free(&r);
    tc_close(t);
    /* the Unix socket and the plain TCP listener do not ask */
    t = tc_open(tc_connect_tcp(F.port, 0));
    NT_EQ_INT(tc_call(F.loop, t, GET("/v1/hello"), &r), 200);
    tresp_free(&r);
    tc_close(t);
    /* no hook installed: fail closed */
    nano_router_set_auth(F.router, NULL, NULL);
    t = tc_open(tc_connect_tcp(F.auth_port, 0));
    NT_EQ_INT(tc_call(F.loop, t, "GET /v1/hello HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer s3cret\r\n\r\n", &r), 401);
    tresp_free(&r);
    tc_close(t);
    teardown();
}

static void
test_unix_socket_file_rules(void)
{
    struct nano_http_server *other;
    struct sockaddr_un sa;
    struct stat st;
    char path[160];
    int fd;

    setup();
    NT_ASSERT(stat(F.sock, &st) == 0);
    NT_CHECK(S_ISSOCK(st.st_mode));
    NT_EQ_INT(st.st_mode & 0777, 0660);
    /* a second server must not steal a live socket */
    NT_ASSERT(nano_http_server_new(F.loop, NULL, nano_router_handle, F.router,
                                   &other) == NANO_OK);
    NT_EQ_INT(nano_http_server_listen_unix(other, F.sock, 0), -EADDRINUSE);
    NT_ASSERT(stat(F.sock, &st) == 0);
    /* a stale socket file (its server died without cleaning up) is reused */
    snprintf(path, sizeof path, "%s/stale.sock", F.dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    NT_ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    NT_ASSERT(listen(fd, 1) == 0);
    close(fd);
    NT_ASSERT(stat(path, &st) == 0);
    NT_EQ_INT(nano_http_server_listen_unix(other, path, 0), NANO_OK);
    fd = tc_connect_unix(path);
    NT_CHECK(fd >= 0);
    close(fd);
    /* a regular file is never removed */
    char reg[160];
    snprintf(reg, sizeof reg, "%s/file", F.dir);
    fd = open(reg, O_CREAT | O_WRONLY, 0600);
    close(fd);
    NT_EQ_INT(nano_http_server_listen_unix(other, reg, 0), -EEXIST);
    NT_ASSERT(stat(reg, &st) == 0 && S_ISREG(st.st_mode));
    unlink(reg);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    NT_EQ_INT(nano_http_server_listen_unix(other, longp, 0), -ENAMETOOLONG);
    /* freeing a server removes the files it created */
    nano_http_server_free(other);
    NT_CHECK(stat(path, &st) < 0 && errno == ENOENT);
    nano_http_server_free(F.srv);
    F.srv = NULL;
    NT_CHECK(stat(F.sock, &st) < 0 && errno == ENOENT);
    teardown();
}

NT_LIST = {
    { "keep_alive_many_requests", test_keep_alive_many_requests },
    { "pipelining_in_order", test_pipelining_in_order },
    { "not_found_and_method_not_allowed", test_not_found_and_method_not_allowed },
    { "router_params_and_decoding", test_router_params_and_decoding },
    { "head_request", test_head_request },
    { "request_bodies", test_request_bodies },
    { "bad_requests_answered_and_closed", test_bad_requests_answered_and_closed },
    { "http10_clients", test_http10_clients },
    { "connection_cap", test_connection_cap },
    { "header_timeout_drops_dribbler", test_header_timeout_drops_dribbler },
    { "idle_timeout", test_idle_timeout },
    { "body_timeout", test_body_timeout },
    { "streaming_chunk_by_chunk", test_streaming_chunk_by_chunk },
    { "disconnect_mid_stream_calls_close", test_disconnect_mid_stream_calls_close },
    { "async_response_later", test_async_response_later },
    { "backpressure", test_backpressure },
    { "write_timeout_on_stalled_reader", test_write_timeout_on_stalled_reader },
    { "auth_listener", test_auth_listener },
    { "unix_socket_file_rules", test_unix_socket_file_rules },
    { NULL, NULL }
};
