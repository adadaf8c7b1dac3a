/* SPDX-License-Identifier: MIT
 *
 * w1.h - 1-Wire through the kernel's w1 sysfs tree.
 *
 * The kernel's w1 core searches each bus master and lists every slave it
 * finds as a directory named <family>-<serial>, e.g. 28-000005e2fdc3, under
 * /sys/bus/w1/devices (and under each w1_bus_masterN).  A family driver such
 * as w1-therm adds attribute files; reading DS18B20's `w1_slave` starts a
 * conversion and returns two lines, the scratchpad with its CRC check and
 * the temperature in millidegrees:
 *
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 *
 * Bus names:
 *   "w1"                    every slave of every master, under the root
 *                           (default /sys/bus/w1/devices, see
 *                           nano_w1_set_default_root)
 *   "w1_bus_master1"        the slaves of that master only
 *   "/some/dir"             a tree at that path
 *   "sim:wire0", "wire0"    the emulated bus "wire0": a directory tree the
 *                           emulator writes (sim/emu_ds18b20.c); a bare name
 *                           that is none of the above is looked up among the
 *                           emulated buses
 *
 * Blocking: reading w1_slave takes as long as the conversion (up to 750 ms
 * at 12 bits), so nano_w1_read_file() must run off the loop thread
 * (offload.h).  Listing slaves and building paths are quick and may run on
 * the loop thread.
 */
#ifndef NANO_HAL_W1_H
#define NANO_HAL_W1_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NANO_W1_ID_MAX    16            /* "28-000005e2fdc3" + NUL */
#define NANO_W1_PATH_MAX  512
#define NANO_W1_SYSFS     "/sys/bus/w1/devices"

struct nano_w1;

/* Process-wide root for the bus name "w1" (NULL: NANO_W1_SYSFS).  Copied. */
void nano_w1_set_default_root(const char *path);

/* True when s looks like a slave id: two hex digits, '-', twelve hex digits. */
int  nano_w1_id_valid(const char *s);

/* Open a bus by name.  Returns NANO_OK and *w1_out (Returns owned; free with
 * nano_w1_close), -ENOENT when the directory does not exist (no w1 master
 * loaded: dtoverlay=w1-gpio missing), or -errno. */
int  nano_w1_open(const char *bus, struct nano_w1 **w1_out);
void nano_w1_close(struct nano_w1 *w1);           /* NULL is a no-op */

/* The directory slaves are listed in.  Returns borrowed; valid until close. */
const char *nano_w1_root(const struct nano_w1 *w1);

/* List slaves whose family byte is one of families[0..nfam) (nfam 0: any),
 * sorted, into ids[0..cap).  Returns the number found (which may exceed cap;
 * only cap are written) or -errno. */
int  nano_w1_list(struct nano_w1 *w1, const uint8_t *families, size_t nfam,
                  char (*ids)[NANO_W1_ID_MAX], size_t cap);

/* Path of a slave's attribute file into out.  NANO_OK, -EINVAL (bad id) or
 * -ENAMETOOLONG. */
int  nano_w1_attr_path(const struct nano_w1 *w1, const char *id,
                       const char *attr, char *out, size_t cap);

/* Read a whole attribute file (blocking: see above) into buf, NUL-terminated.
 * Returns bytes read (>= 0), -ENOENT when the slave is gone, or -errno.
 * Thread-safe: touches nothing but the path and buf. */
ssize_t nano_w1_read_file(const char *path, char *buf, size_t cap);

#endif
