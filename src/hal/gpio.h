/* SPDX-License-Identifier: MIT
 *
 * gpio.h - GPIO lines: request, read, drive, and edge events on an fd.
 *
 *   "gpiochip0", "/dev/gpiochip0"   the kernel's GPIO character device,
 *                                   uAPI v2 (linux/gpio_cdev.c; no libgpiod)
 *   "sim:gpiochip0"                 an emulated chip of NANO_GPIO_SIM_LINES
 *                                   lines (sim/gpio_sim.c) whose inputs tests
 *                                   set and whose outputs they read
 *
 * A request takes one line for exclusive use (a second request for the same
 * line fails with -EBUSY, as the kernel does).  Levels are logical: with
 * active_low a physical low reads as 1.  Lines requested with edge detection
 * expose a non-blocking fd; when it is readable, nano_gpio_read_event()
 * drains events (kernel timestamps), so an input is served by the loop's fd
 * watcher and never polled.
 *
 * Cost: nano_gpio_set() is one ioctl on Linux and a store on the emulator;
 * it allocates nothing, so the rule engine can switch a line in microseconds.
 *
 * Context: one handle belongs to one thread at a time (the loop thread).
 */
#ifndef NANO_HAL_GPIO_H
#define NANO_HAL_GPIO_H

#include <stdbool.h>
#include <stdint.h>

#define NANO_GPIO_SIM_LINES 64

struct nano_gpio_line;

enum nano_gpio_dir  { NANO_GPIO_IN, NANO_GPIO_OUT };
enum nano_gpio_bias { NANO_GPIO_BIAS_AS_IS, NANO_GPIO_PULL_UP,
                      NANO_GPIO_PULL_DOWN, NANO_GPIO_BIAS_DISABLED };
enum nano_gpio_edge { NANO_GPIO_EDGE_NONE, NANO_GPIO_EDGE_RISING,
                      NANO_GPIO_EDGE_FALLING, NANO_GPIO_EDGE_BOTH };
enum nano_gpio_drive { NANO_GPIO_PUSH_PULL, NANO_GPIO_OPEN_DRAIN,
                       NANO_GPIO_OPEN_SOURCE };

struct nano_gpio_req {
    unsigned             line;       /* offset on the chip */
    enum nano_gpio_dir   dir;
    enum nano_gpio_bias  bias;
    enum nano_gpio_edge  edge;       /* inputs only */
    enum nano_gpio_drive drive;      /* outputs only */
    bool                 active_low;
    int                  initial;    /* outputs: logical level at request */
    const char          *consumer;   /* label shown by gpioinfo; NULL: "nano" */
};

struct nano_gpio_event {
    uint64_t ts_ns;       /* kernel timestamp (CLOCK_MONOTONIC) */
    bool     rising;      /* logical level went 0 -> 1 */
    uint32_t seqno;       /* per line, from 1 */
};

/* Parse "in"/"out", "as-is"/"pull-up"/"pull-down"/"disabled",
 * "none"/"rising"/"falling"/"both", "push-pull"/"open-drain"/"open-source",
 * "low"/"high"/"0"/"1".  Return NANO_OK or -EINVAL. */
int nano_gpio_dir_parse(const char *s, enum nano_gpio_dir *out);
int nano_gpio_bias_parse(const char *s, enum nano_gpio_bias *out);
int nano_gpio_edge_parse(const char *s, enum nano_gpio_edge *out);
int nano_gpio_drive_parse(const char *s, enum nano_gpio_drive *out);
int nano_gpio_level_parse(const char *s, int *out);

/* Request a line.  Returns NANO_OK and *line_out (Returns owned; free with
 * nano_gpio_release), -ENOENT (no such chip), -EINVAL (line out of range or
 * bad flags), -EBUSY (in use) or -errno.  Borrows req. */
int  nano_gpio_request(const char *chip, const struct nano_gpio_req *req,
                       struct nano_gpio_line **line_out);

/* Release the line (an output keeps its level where the hardware allows).
 * NULL is a no-op. */
void nano_gpio_release(struct nano_gpio_line *l);

/* Logical level: 0 or 1, or -errno. */
int  nano_gpio_get(struct nano_gpio_line *l);

/* Drive an output (level != 0 means 1).  NANO_OK, -EPERM for an input, or
 * -errno.  Allocation-free. */
int  nano_gpio_set(struct nano_gpio_line *l, int level);

/* The fd that becomes readable when edge events are queued, or -1 when the
 * line was requested without edge detection.  Owned by the handle. */
int  nano_gpio_event_fd(const struct nano_gpio_line *l);

/* Take one queued event.  NANO_OK, -EAGAIN when none is queued, or -errno. */
int  nano_gpio_read_event(struct nano_gpio_line *l, struct nano_gpio_event *ev);

/* What the handle was opened with, for listings. */
const char *nano_gpio_chip_name(const struct nano_gpio_line *l);
unsigned    nano_gpio_offset(const struct nano_gpio_line *l);

#endif
