/* SPDX-License-Identifier: MIT
 *
 * i2c.h - I2C masters: combined transfers and register helpers.
 *
 * A bus is opened by name and the back end follows from the name:
 *
 *   "i2c1", "i2c-1", "/dev/i2c-1"   Linux i2c-dev (src/hal/linux/i2c_dev.c)
 *   "sim:i2c1"                      the emulated bus "i2c1" (src/hal/sim/)
 *
 * so a driver holds one struct nano_i2c and never knows which it got; the
 * emulators answer at the transfer level, which keeps the driver's own code
 * under test.
 *
 * Errors are distinct for the two ways a device fails to answer:
 *   NANO_ENACK          the address or a data byte was not acknowledged
 *                       (absent, unplugged, busy);
 *   NANO_ETIMEDOUT_DEV  the transfer did not complete in time (a device
 *                       holding SCL low, a wedged bus);
 * plus -ENOENT (no such adapter), -EACCES, -EOPNOTSUPP (the adapter cannot
 * do this kind of transfer) and -EIO.
 *
 * Cost: a transfer is one ioctl on Linux (tens to hundreds of microseconds at
 * 100-400 kHz for the few bytes a sensor needs), so drivers call it from the
 * loop thread.  Nothing here sleeps beyond the adapter's own timeout.
 *
 * Context: one handle belongs to one thread at a time (the loop thread).
 */
#ifndef NANO_HAL_I2C_H
#define NANO_HAL_I2C_H

#include <stddef.h>
#include <stdint.h>

#define NANO_I2C_M_RD        0x0001u   /* this message reads */
#define NANO_I2C_MAX_MSGS    8         /* per combined transfer */
#define NANO_I2C_MAX_LEN     4096      /* per message */
#define NANO_I2C_TIMEOUT_MS  100       /* adapter timeout set at open */

struct nano_i2c;

/* One message of a combined transfer: messages after the first start with a
 * repeated START, and one STOP ends the transfer. */
struct nano_i2c_msg {
    uint16_t addr;      /* 7-bit address */
    uint16_t flags;     /* NANO_I2C_M_RD or 0 */
    uint16_t len;
    uint8_t *buf;       /* Borrows: written for reads */
};

/* Open a bus by name (above).  Returns NANO_OK and *i2c_out (Returns owned;
 * free with nano_i2c_close), -ENOENT for an adapter or emulated bus that
 * does not exist, -EINVAL for a malformed name, or -errno. */
int  nano_i2c_open(const char *bus, struct nano_i2c **i2c_out);

/* NULL is a no-op. */
void nano_i2c_close(struct nano_i2c *i2c);

/* Run n messages as one combined transaction.  Returns NANO_OK or an error
 * above; on error the contents of read buffers are undefined. */
int  nano_i2c_transfer(struct nano_i2c *i2c, struct nano_i2c_msg *msgs,
                       unsigned n);

/* Plain write or read of len bytes to/from addr. */
int  nano_i2c_write(struct nano_i2c *i2c, uint16_t addr, const uint8_t *buf,
                    size_t len);
int  nano_i2c_read(struct nano_i2c *i2c, uint16_t addr, uint8_t *buf,
                   size_t len);

/* Register access for devices with an 8-bit register pointer: write reg,
 * repeated START, read len bytes (auto-increment is the device's business). */
int  nano_i2c_read_reg(struct nano_i2c *i2c, uint16_t addr, uint8_t reg,
                       uint8_t *buf, size_t len);
int  nano_i2c_write_reg(struct nano_i2c *i2c, uint16_t addr, uint8_t reg,
                        uint8_t val);

/* Adapter timeout (Linux: I2C_TIMEOUT, 10 ms granularity, adapter-wide).
 * Returns NANO_OK or -errno; emulated buses accept and ignore it. */
int  nano_i2c_set_timeout(struct nano_i2c *i2c, unsigned ms);

/* The name the bus was opened with.  Returns borrowed; valid until close. */
const char *nano_i2c_name(const struct nano_i2c *i2c);

#endif
