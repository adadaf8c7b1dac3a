/* SPDX-License-Identifier: MIT
 *
 * gpio_cdev.c - GPIO back end on the kernel's character device, uAPI v2
 * (linux/gpio.h, kernels >= 5.10), used directly: no libgpiod, so it builds
 * on any distribution with kernel headers and costs no extra library.
 *
 * One GPIO_V2_GET_LINE_IOCTL on /dev/gpiochipN requests a single line with
 * its direction, bias, drive, active-low and edge flags (and, for outputs,
 * the initial value as an OUTPUT_VALUES attribute so the line never glitches
 * to the wrong level).  The kernel returns a line-request fd: values are read
 * and written with GET/SET_VALUES ioctls on it, and when edge detection is on
 * the same fd yields struct gpio_v2_line_event records (CLOCK_MONOTONIC
 * timestamps), so it goes straight into a nano_io watcher.  The kernel
 * applies active-low to values and to edge directions, so levels here are
 * logical as gpio.h promises.
 */
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct cdev_line {
    struct nano_gpio_line base;   /* first: the public handle */
    int                   fd;     /* line request fd */
};

static int
cdev_get(struct nano_gpio_line *l)
{
    struct cdev_line *c = (struct cdev_line *)l;
    struct gpio_v2_line_values v = { .bits = 0, .mask = 1 };

    if (ioctl(c->fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
        return -errno;
    return (int)(v.bits & 1);
}

static int
cdev_set(struct nano_gpio_line *l, int level)
{
    struct cdev_line *c = (struct cdev_line *)l;
    struct gpio_v2_line_values v = { .bits = level ? 1 : 0, .mask = 1 };

    if (ioctl(c->fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
        return -errno;
    return NANO_OK;
}

static int
cdev_read_event(struct nano_gpio_line *l, struct nano_gpio_event *ev)
{
    struct cdev_line *c = (struct cdev_line *)l;
    struct gpio_v2_line_event ke;
    ssize_t n;

    n = read(c->fd, &ke, sizeof ke);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
    if (n != (ssize_t)sizeof ke)
        return -EIO;
    ev->ts_ns = ke.timestamp_ns;
    ev->rising = ke.id == GPIO_V2_LINE_EVENT_RISING_EDGE;
    ev->seqno = ke.line_seqno;
    return NANO_OK;
}

static void
cdev_release(struct nano_gpio_line *l)
{
    struct cdev_line *c = (struct cdev_line *)l;

    close(c->fd);
    nano_free(c);
}

static const struct hal_gpio_ops cdev_ops = {
    .get        = cdev_get,
    .set        = cdev_set,
    .read_event = cdev_read_event,
    .release    = cdev_release,
};

static uint64_t
req_flags(const struct nano_gpio_req *req)
{
    uint64_t f = 0;

    f |= req->dir == NANO_GPIO_OUT ? GPIO_V2_LINE_FLAG_OUTPUT
                                   : GPIO_V2_LINE_FLAG_INPUT;
    if (req->active_low)
        f |= GPIO_V2_LINE_FLAG_ACTIVE_LOW;
    switch (req->bias) {
    case NANO_GPIO_PULL_UP:       f |= GPIO_V2_LINE_FLAG_BIAS_PULL_UP; break;
    case NANO_GPIO_PULL_DOWN:     f |= GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN; break;
    case NANO_GPIO_BIAS_DISABLED: f |= GPIO_V2_LINE_FLAG_BIAS_DISABLED; break;
    case NANO_GPIO_BIAS_AS_IS:    break;
    }
    if (req->dir == NANO_GPIO_IN) {
        if (req->edge == NANO_GPIO_EDGE_RISING || req->edge == NANO_GPIO_EDGE_BOTH)
            f |= GPIO_V2_LINE_FLAG_EDGE_RISING;
        if (req->edge == NANO_GPIO_EDGE_FALLING || req->edge == NANO_GPIO_EDGE_BOTH)
            f |= GPIO_V2_LINE_FLAG_EDGE_FALLING;
    } else {
        if (req->drive == NANO_GPIO_OPEN_DRAIN)
            f |= GPIO_V2_LINE_FLAG_OPEN_DRAIN;
        else if (req->drive == NANO_GPIO_OPEN_SOURCE)
            f |= GPIO_V2_LINE_FLAG_OPEN_SOURCE;
    }
    return f;
}

/* "gpiochip0" -> /dev/gpiochip0; absolute paths as given. */
static int
chip_path(const char *name, char *out, size_t cap)
{
    int n;

    if (name[0] == '/')
        n = snprintf(out, cap, "%s", name);
    else if (strncmp(name, "gpiochip", 8) == 0 && name[8] &&
             strspn(name + 8, "0123456789") == strlen(name + 8))
        n = snprintf(out, cap, "/dev/%s", name);
    else
        return -EINVAL;
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

int
hal__gpio_cdev_request(const char *chip, const struct nano_gpio_req *req,
                       struct nano_gpio_line **out)
{
    char path[HAL_NAME_MAX + 16];
    struct gpio_v2_line_request lr;
    struct cdev_line *c;
    int chip_fd, rc;

    rc = chip_path(chip, path, sizeof path);
    if (rc != NANO_OK)
        return rc;
    chip_fd = open(path, O_RDWR | O_CLOEXEC);
    if (chip_fd < 0)
        return -errno;

    memset(&lr, 0, sizeof lr);
    lr.offsets[0] = req->line;
    lr.num_lines = 1;
    snprintf(lr.consumer, sizeof lr.consumer, "%s",
             req->consumer ? req->consumer : "nano");
    lr.config.flags = req_flags(req);
    if (req->dir == NANO_GPIO_OUT) {
        lr.config.num_attrs = 1;
        lr.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
        lr.config.attrs[0].attr.values = req->initial ? 1 : 0;
        lr.config.attrs[0].mask = 1;
    }
    rc = ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &lr) < 0 ? -errno : NANO_OK;
    close(chip_fd);               /* the line request lives on its own fd */
    if (rc != NANO_OK)
        return rc == -ENOTTY ? -EOPNOTSUPP : rc;   /* kernel without uAPI v2 */

    c = nano_calloc(1, sizeof *c);
    if (!c) {
        close(lr.fd);
        return -ENOMEM;
    }
    c->base.ops = &cdev_ops;
    c->fd = lr.fd;
    c->base.event_fd = -1;
    if (req->dir == NANO_GPIO_IN && req->edge != NANO_GPIO_EDGE_NONE) {
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            rc = -errno;
            close(c->fd);
            nano_free(c);
            return rc;
        }
        c->base.event_fd = c->fd;
    }
    *out = &c->base;
    return NANO_OK;
}
