/* SPDX-License-Identifier: MIT
 *
 * api.h - Nano's control API: the JSON REST routes over the HTTP server.
 *
 * nanod builds one struct nano_daemon, the parts of the running daemon that
 * the API exposes, and starts the API with it.  Each h_*.c file registers the
 * routes of one area (status and bus, devices and drivers, ...) and reads
 * only the parts it serves.  Every response is JSON; errors are
 *   {"error": "<code>", "message": "<sentence>"[, "line": L, "col": C]}
 * with a matching HTTP status.
 *
 * Context: loop thread only.
 */
#ifndef NANO_API_API_H
#define NANO_API_API_H

#include <stdint.h>

#include "core/cfg.h"

struct nano_loop;
struct nano_bus;
struct nano_devmgr;
struct nano_rules;
struct nano_sandbox;
struct nano_api;

struct nano_daemon {
    struct nano_loop    *loop;
    struct nano_bus     *bus;
    struct nano_devmgr  *devices;
    struct nano_rules   *rules;        /* NULL: no services (rules left out) */
    struct nano_sandbox *sandbox;      /* NULL without WebAssembly */
    struct nano_cfg_doc *cfg;          /* the running configuration */
    const char          *config_path;  /* NULL: built-in empty config */
    const char          *state_dir;
    const char          *socket_path;
    uint64_t             start_mono_ns;
    uint64_t             start_wall_ns;
    uint64_t             reloads, reload_failures;
};

/* Schema of the config file's `api:` section. */
extern const struct nano_cfg_field nano_api_cfg_fields[];

/* Listen on d->socket_path (and TCP when configured) and register every
 * route.  Keeps d until nano_api_stop().  Returns NANO_OK and *api_out
 * (Returns owned), or -errno (-EADDRINUSE: another nanod serves the socket). */
int  nano_api_start(struct nano_daemon *d, const struct nano_cfg_node *api_cfg,
                    struct nano_api **api_out);

/* Close listeners and connections (streams end). NULL is a no-op. */
void nano_api_stop(struct nano_api *api);

#endif
