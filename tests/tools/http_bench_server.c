/* http_bench_server.c - the HTTP server with a trivial route, for
 * bench/http/run.sh: GET /v1/ping answers {"ok":true} from the loop.
 *
 *   http_bench_server [port] [unix-socket-path]
 *
 * Prints "port N" once listening, runs until SIGINT or SIGTERM, then prints
 * the server's counters. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/http_server.h"
#include "api/router.h"
#include "core/err.h"
#include "core/loop.h"

static void
ping(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    static const char body[] = "{\"ok\":true}";

    (void)m;
    (void)arg;
    nano_http_respond(req, 200, "application/json", body, sizeof body - 1);
}

static void
on_signal(struct nano_loop *loop, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    nano_loop_stop(loop);
}

int
main(int argc, char **argv)
{
    struct nano_http_server_opts o;
    struct nano_http_server_stats st;
    struct nano_http_server *srv;
    struct nano_router *r;
    struct nano_loop *loop;
    uint16_t port = argc > 1 ? (uint16_t)atoi(argv[1]) : 0;
    int rc;

    if (nano_loop_new(&loop) != NANO_OK || nano_router_new(&r) != NANO_OK)
        return 1;
    nano_router_add(r, "GET", "/v1/ping", 0, ping, NULL);
    nano_http_server_opts_default(&o);
    o.max_conns = 1024;
    if (nano_http_server_new(loop, &o, nano_router_handle, r, &srv) != NANO_OK)
        return 1;
    rc = nano_http_server_listen_tcp(srv, "127.0.0.1", port, 0, &port);
    if (rc == NANO_OK && argc > 2)
        rc = nano_http_server_listen_unix(srv, argv[2], 0);
    if (rc != NANO_OK) {
        fprintf(stderr, "listen: %s\n", nano_strerror(rc));
        return 1;
    }
    nano_loop_signal(loop, SIGINT, on_signal, NULL);
    nano_loop_signal(loop, SIGTERM, on_signal, NULL);
    printf("port %u\n", port);
    fflush(stdout);
    nano_loop_run(loop);
    nano_http_server_stats(srv, &st);
    printf("accepted %llu requests %llu conn_bytes %u\n",
           (unsigned long long)st.accepted, (unsigned long long)st.requests,
           st.conn_bytes);
    nano_http_server_free(srv);
    nano_router_free(r);
    nano_loop_free(loop);
    return 0;
}
