/* SPDX-License-Identifier: MIT
 *
 * i2c_dev.c - I2C back end on Linux's i2c-dev character devices.
 *
 * Transfers go through I2C_RDWR (one combined transaction, repeated STARTs,
 * one STOP), which every full I2C adapter supports.  Adapters that only speak
 * SMBus (I2C_FUNCS without I2C_FUNC_I2C: some PC and router controllers) get
 * the transfers sensors actually use mapped onto SMBus commands: register
 * read (write 1, read n <= 32) as an I2C block read, register write as byte
 * data or I2C block write, single-byte read and write.  Anything else is
 * -EOPNOTSUPP, which is the truth: that adapter cannot produce it.
 *
 * Errors: adapter drivers report a missing ACK as -ENXIO (i801, i2c-gpio,
 * most) or -EREMOTEIO (bcm2835, designware, imx); both become NANO_ENACK.
 * A transfer that exceeds the adapter timeout is -ETIMEDOUT, which becomes
 * NANO_ETIMEDOUT_DEV.  The timeout is set at open to NANO_I2C_TIMEOUT_MS and
 * retries to 0 (Nano's device manager does the retrying, with backoff); both
 * are adapter-wide settings in the kernel.
 */
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct i2c_dev {
    struct nano_i2c base;         /* first: the public handle */
    int             fd;
    unsigned long   funcs;
    int             slave;        /* address set with I2C_SLAVE, -1: none */
};

static int
xerr(void)
{
    return hal__xfer_err(errno);
}

static int
smbus(struct i2c_dev *d, uint16_t addr, char rw, uint8_t cmd, int size,
      union i2c_smbus_data *data)
{
    struct i2c_smbus_ioctl_data args = {
        .read_write = rw, .command = cmd, .size = (uint32_t)size, .data = data,
    };

    if (d->slave != addr) {
        if (ioctl(d->fd, I2C_SLAVE, (unsigned long)addr) < 0)
            return -errno;   /* EBUSY: a kernel driver owns the address */
        d->slave = addr;
    }
    return ioctl(d->fd, I2C_SMBUS, &args) < 0 ? xerr() : NANO_OK;
}

/* The patterns an SMBus-only adapter can carry. */
static int
transfer_smbus(struct i2c_dev *d, struct nano_i2c_msg *m, unsigned n)
{
    union i2c_smbus_data data;
    int rc;

    if (n == 2 && !(m[0].flags & NANO_I2C_M_RD) && m[0].len == 1 &&
        (m[1].flags & NANO_I2C_M_RD) && m[1].addr == m[0].addr &&
        m[1].len >= 1 && m[1].len <= I2C_SMBUS_BLOCK_MAX) {
        if (!(d->funcs & I2C_FUNC_SMBUS_READ_I2C_BLOCK))
            return -EOPNOTSUPP;
        data.block[0] = (uint8_t)m[1].len;
        rc = smbus(d, m[0].addr, I2C_SMBUS_READ, m[0].buf[0],
                   I2C_SMBUS_I2C_BLOCK_DATA, &data);
        if (rc == NANO_OK)
            memcpy(m[1].buf, data.block + 1, m[1].len);
        return rc;
    }
    if (n != 1)
        return -EOPNOTSUPP;
    if (m[0].flags & NANO_I2C_M_RD) {
        if (m[0].len != 1 || !(d->funcs & I2C_FUNC_SMBUS_READ_BYTE))
            return -EOPNOTSUPP;
        rc = smbus(d, m[0].addr, I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, &data);
        if (rc == NANO_OK)
            m[0].buf[0] = data.byte;
        return rc;
    }
    if (m[0].len == 1) {
        if (!(d->funcs & I2C_FUNC_SMBUS_WRITE_BYTE))
            return -EOPNOTSUPP;
        return smbus(d, m[0].addr, I2C_SMBUS_WRITE, m[0].buf[0],
                     I2C_SMBUS_BYTE, NULL);
    }
    if (m[0].len == 2) {
        if (!(d->funcs & I2C_FUNC_SMBUS_WRITE_BYTE_DATA))
            return -EOPNOTSUPP;
        data.byte = m[0].buf[1];
        return smbus(d, m[0].addr, I2C_SMBUS_WRITE, m[0].buf[0],
                     I2C_SMBUS_BYTE_DATA, &data);
    }
    if (m[0].len >= 2 && m[0].len - 1 <= I2C_SMBUS_BLOCK_MAX) {
        if (!(d->funcs & I2C_FUNC_SMBUS_WRITE_I2C_BLOCK))
            return -EOPNOTSUPP;
        data.block[0] = (uint8_t)(m[0].len - 1);
        memcpy(data.block + 1, m[0].buf + 1, m[0].len - 1u);
        return smbus(d, m[0].addr, I2C_SMBUS_WRITE, m[0].buf[0],
                     I2C_SMBUS_I2C_BLOCK_DATA, &data);
    }
    return -EOPNOTSUPP;
}

static int
dev_transfer(struct nano_i2c *i2c, struct nano_i2c_msg *msgs, unsigned n)
{
    struct i2c_dev *d = (struct i2c_dev *)i2c;
    struct i2c_msg km[NANO_I2C_MAX_MSGS];
    struct i2c_rdwr_ioctl_data args = { km, n };

    if (!(d->funcs & I2C_FUNC_I2C))
        return transfer_smbus(d, msgs, n);
    for (unsigned i = 0; i < n; i++) {
        km[i].addr = msgs[i].addr;
        km[i].flags = (msgs[i].flags & NANO_I2C_M_RD) ? I2C_M_RD : 0;
        km[i].len = msgs[i].len;
        km[i].buf = msgs[i].buf;
    }
    /* I2C_RDWR returns the number of messages run; anything short of n is
     * a failure the adapter did not name. */
    int r = ioctl(d->fd, I2C_RDWR, &args);
    if (r < 0)
        return xerr();
    return r == (int)n ? NANO_OK : -EIO;
}

static int
dev_set_timeout(struct nano_i2c *i2c, unsigned ms)
{
    struct i2c_dev *d = (struct i2c_dev *)i2c;
    unsigned long ticks = (ms + 9) / 10;

    if (ioctl(d->fd, I2C_TIMEOUT, ticks ? ticks : 1ul) < 0)
        return -errno;
    return NANO_OK;
}

static void
dev_close(struct nano_i2c *i2c)
{
    struct i2c_dev *d = (struct i2c_dev *)i2c;

    close(d->fd);
    nano_free(d);
}

static const struct hal_i2c_ops dev_ops = {
    .transfer    = dev_transfer,
    .set_timeout = dev_set_timeout,
    .close       = dev_close,
};

/* "i2c1" and "i2c-1" -> /dev/i2c-1; absolute paths as given. */
static int
dev_path(const char *name, char *out, size_t cap)
{
    const char *num;
    int n;

    if (name[0] == '/') {
        n = snprintf(out, cap, "%s", name);
    } else if (strncmp(name, "i2c", 3) == 0) {
        num = name + 3 + (name[3] == '-');
        if (!*num || strspn(num, "0123456789") != strlen(num))
            return -EINVAL;
        n = snprintf(out, cap, "/dev/i2c-%s", num);
    } else {
        return -EINVAL;
    }
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

int
hal__i2c_dev_open(const char *name, struct nano_i2c **out)
{
    char path[HAL_NAME_MAX + 16];
    struct i2c_dev *d;
    int rc;

    rc = dev_path(name, path, sizeof path);
    if (rc != NANO_OK)
        return rc;
    d = nano_calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->base.ops = &dev_ops;
    d->slave = -1;
    d->fd = open(path, O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        rc = -errno;
        nano_free(d);
        return rc;
    }
    if (ioctl(d->fd, I2C_FUNCS, &d->funcs) < 0) {
        rc = errno == ENOTTY ? -ENOTTY : -errno;   /* not an i2c-dev node */
        close(d->fd);
        nano_free(d);
        return rc;
    }
    /* Best effort: some adapters refuse either. */
    (void)ioctl(d->fd, I2C_RETRIES, 0ul);
    (void)dev_set_timeout(&d->base, NANO_I2C_TIMEOUT_MS);
    *out = &d->base;
    return NANO_OK;
}
