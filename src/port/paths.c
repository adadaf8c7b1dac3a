/* SPDX-License-Identifier: MIT
 *
 * paths.c - default file locations (see paths.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/state.h"
#include "port/paths.h"

char *
nano_default_path(enum nano_path_kind kind, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    const char *xdg;
    bool root = geteuid() == 0;

    if (!home || !*home)
        home = "/tmp";
    switch (kind) {
    case NANO_PATH_CONFIG:
        if (root) {
            snprintf(out, cap, "/etc/nano/nano.yaml");
        } else if ((xdg = getenv("XDG_CONFIG_HOME")) && *xdg) {
            snprintf(out, cap, "%s/nano/nano.yaml", xdg);
        } else {
            snprintf(out, cap, "%s/.config/nano/nano.yaml", home);
        }
        break;
    case NANO_PATH_STATE:
        if (root) {
            snprintf(out, cap, "/var/lib/nano");
        } else if ((xdg = getenv("XDG_STATE_HOME")) && *xdg) {
            snprintf(out, cap, "%s/nano", xdg);
        } else {
            snprintf(out, cap, "%s/.local/state/nano", home);
        }
        break;
    case NANO_PATH_SOCKET:
        if (root) {
            snprintf(out, cap, "/run/nano/nano.sock");
        } else if ((xdg = getenv("XDG_RUNTIME_DIR")) && *xdg) {
            snprintf(out, cap, "%s/nano/nano.sock", xdg);
        } else {
            snprintf(out, cap, "/tmp/nano-%u/nano.sock", (unsigned)geteuid());
        }
        break;
    }
    return out;
}

int
nano_mkdir_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;

    if (!slash || slash == path)
        return 0;
    n = (size_t)(slash - path);
    if (n >= sizeof dir)
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return nano_state_mkdir(dir);
}
