/* SPDX-License-Identifier: MIT
 *
 * paths.h - where Nano keeps its files by default.
 *
 *               as root                    as a normal user
 *   config      /etc/nano/nano.yaml        $XDG_CONFIG_HOME/nano/nano.yaml
 *                                          (~/.config/nano/nano.yaml)
 *   state       /var/lib/nano              $XDG_STATE_HOME/nano
 *                                          (~/.local/state/nano)
 *   socket      /run/nano/nano.sock        $XDG_RUNTIME_DIR/nano/nano.sock
 *                                          (/tmp/nano-<uid>/nano.sock)
 *
 * nanod and nanoctl resolve the socket the same way, so they find each other
 * with no flags; NANO_SOCKET and --socket override it.
 */
#ifndef NANO_PORT_PATHS_H
#define NANO_PORT_PATHS_H

#include <stddef.h>

enum nano_path_kind {
    NANO_PATH_CONFIG,
    NANO_PATH_STATE,
    NANO_PATH_SOCKET,
};

/* Write the default path of kind into out.  Returns out. */
char *nano_default_path(enum nano_path_kind kind, char *out, size_t cap);

/* Create the parent directory of path (mode 0750, parents too). */
int nano_mkdir_parent(const char *path);

#endif
