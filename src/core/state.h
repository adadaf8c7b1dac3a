/* SPDX-License-Identifier: MIT
 *
 * state.h - crash-safe persistence of small state files.
 *
 * What the CLI changes at run time (drivers installed, services started,
 * modules loaded, a module's key-value store) must survive a restart and a
 * power cut.  A state file is written atomically: a temporary file in the
 * same directory, fsync, rename over the old one, fsync of the directory.
 * After a crash the old or the new version is there, never a mix.
 *
 * Each file starts with a header line that makes torn or corrupt files
 * detectable (a truncated write, a flipped bit on an SD card, an editor):
 *
 *     NANO-STATE 1 <payload length> <crc32 of payload, 8 hex digits>\n
 *     <payload: usually JSON>
 *
 * nano_state_read() verifies both; a bad file is reported, moved aside to
 * <name>.corrupt (so a human can look at it) and never crashes startup: the
 * caller starts from empty state.
 */
#ifndef NANO_CORE_STATE_H
#define NANO_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define NANO_STATE_MAX (4u * 1024 * 1024)

/* Create dir (and parents) with mode 0750 if missing.  Returns NANO_OK or
 * -errno. */
int nano_state_mkdir(const char *dir);

/* Atomically replace dir/name with data.  Borrows data.
 * Returns NANO_OK or -errno (nothing changed on error). */
int nano_state_write(const char *dir, const char *name, const void *data,
                     size_t len);

/* Read dir/name into out (appended).  Returns NANO_OK; -ENOENT when there is
 * no such file; NANO_ECORRUPT when the header, length or checksum is wrong
 * (d says which, the file is renamed to name.corrupt); or -errno. */
int nano_state_read(const char *dir, const char *name, struct nano_buf *out,
                    struct nano_diag *d);

/* Check a state file's bytes (header, length, checksum) and point *payload
 * at the payload inside raw (Returns borrowed; valid while raw is).  Pure:
 * no I/O.  Returns NANO_OK or NANO_ECORRUPT with d saying why (no file name:
 * the caller adds it). */
int nano_state_decode(const char *raw, size_t len, struct nano_span *payload,
                      struct nano_diag *d);

/* Remove dir/name (missing is fine).  Returns NANO_OK or -errno. */
int nano_state_remove(const char *dir, const char *name);

uint32_t nano_crc32(const void *data, size_t len);

#endif
