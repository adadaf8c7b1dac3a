/* SPDX-License-Identifier: MIT
 *
 * overlay.h - run-time changes persisted over the config file.
 *
 * What the API changes (a device installed, a service stopped, an instance
 * removed that the config file declares) must survive a restart, while the
 * config file stays the user's starting state.  A module keeps those changes
 * as an overlay, saved atomically as JSON in the state directory:
 *
 *     { "<added>": { "<name>": { settings... }, ... },
 *       "<list0>": [ "<name>", ... ],
 *       "<list1>": [ "<name>", ... ] }
 *
 * `added` holds entries created at run time with their settings; the two
 * lists are sets of names the module gives a meaning to (the device manager:
 * disabled and removed; the rule engine: stopped and removed).  At startup
 * the module loads the overlay, then applies config plus overlay; every
 * change is saved at once.
 *
 * Memory: the overlay owns one cfg document; nodes returned are borrowed and
 * valid until the entry is removed or the overlay is freed or reloaded.
 * Context: loop thread only.
 */
#ifndef NANO_CORE_OVERLAY_H
#define NANO_CORE_OVERLAY_H

#include <stdbool.h>

#include "core/cfg.h"

struct nano_overlay {
    struct nano_cfg_doc  *doc;       /* private */
    struct nano_cfg_node *added;     /* read-only: name -> settings */
    struct nano_cfg_node *lists[2];  /* read-only: sets of names */
    const char           *file;      /* Keeps: e.g. "devices.json" */
    const char           *module;    /* Keeps: for log lines */
    const char           *keys[3];   /* Keeps: added, list0, list1 */
};

/* Start empty.  All strings are kept (static strings, normally).
 * Returns NANO_OK or -ENOMEM. */
int  nano_overlay_init(struct nano_overlay *ov, const char *file,
                       const char *module, const char *added_key,
                       const char *list0_key, const char *list1_key);
void nano_overlay_free(struct nano_overlay *ov);

/* Settings of an added entry, or NULL. */
struct nano_cfg_node *nano_overlay_get(const struct nano_overlay *ov,
                                       const char *name);

/* Add (a copy of settings) under name.  Returns the copy or NULL (-ENOMEM).
 * Borrows settings. */
struct nano_cfg_node *nano_overlay_put(struct nano_overlay *ov, const char *name,
                                       const struct nano_cfg_node *settings);

/* Drop an added entry (no-op when absent). */
void nano_overlay_drop(struct nano_overlay *ov, const char *name);

/* Is name in list `which` (0 or 1)? */
bool nano_overlay_listed(const struct nano_overlay *ov, int which,
                         const char *name);

/* Put name in / take it out of list `which`.  Adding twice keeps one. */
int  nano_overlay_list_add(struct nano_overlay *ov, int which, const char *name);
void nano_overlay_list_del(struct nano_overlay *ov, int which, const char *name);

/* Write the overlay to state_dir/file (NULL state_dir: nothing).  A failure
 * is logged.  Returns NANO_OK or -errno. */
int  nano_overlay_save(const struct nano_overlay *ov, const char *state_dir);

/* Check an added entry read back from disk.  NANO_OK keeps it; anything else
 * skips it with a warning (a driver missing from a rebuilt binary, say). */
typedef int nano_overlay_check_fn(const struct nano_cfg_node *settings,
                                  const char *name, struct nano_diag *d,
                                  void *arg);

/* Replace the overlay with state_dir/file.  A missing file is an empty
 * overlay (NANO_OK).  A corrupt one returns NANO_ECORRUPT with d saying
 * why (the file is set aside by core/state.c) and leaves the overlay empty.
 * Entries that fail check are skipped and logged. */
int  nano_overlay_load(struct nano_overlay *ov, const char *state_dir,
                       nano_overlay_check_fn *check, void *arg,
                       struct nano_diag *d);

#endif
