/* SPDX-License-Identifier: MIT
 *
 * gpio_sim.c - emulated GPIO chips: lines whose input levels tests set and
 * whose output levels tests read, with edge events delivered on an fd.
 *
 * A chip exists from the first request or test call that names it and has
 * NANO_GPIO_SIM_LINES lines.  Each line keeps its physical input level (what
 * the outside world drives; an undriven input follows its pull-up or reads
 * low) and its physical output level.  A requested line gets a non-blocking
 * pipe when edge detection is on: a level change the request watches writes
 * one struct nano_gpio_event into it, so drivers read events exactly as from
 * a kernel line-request fd and watch it with a nano_io.
 *
 * Chips are reference-counted by their open lines: nano_sim_reset() drops
 * them from the registry, and a chip still held by a driver's line lives
 * until that line is released.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/time.h"
#include "hal/hal_int.h"

struct sim_line;

struct sim_pin {
    int                  in_phys;     /* level driven from outside */
    bool                 in_driven;   /* a test set in_phys */
    int                  out_phys;    /* level this side drives */
    struct sim_line     *req;         /* NULL: free */
};

struct sim_chip {
    struct sim_chip *next;
    char             name[HAL_NAME_MAX];
    unsigned         refs;            /* open lines */
    bool             dead;            /* dropped by nano_sim_reset() */
    struct sim_pin   pins[NANO_GPIO_SIM_LINES];
};

struct sim_line {
    struct nano_gpio_line base;       /* first: the public handle */
    struct sim_chip      *chip;
    unsigned              off;
    bool                  active_low;
    enum nano_gpio_bias   bias;
    enum nano_gpio_edge   edge;
    int                   pipe_w;     /* event_fd is the read end */
    uint32_t              seq;
};

static struct sim_chip *chips;

static struct sim_chip *
chip_find(const char *name)
{
    for (struct sim_chip *c = chips; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static struct sim_chip *
chip_get(const char *name)
{
    struct sim_chip *c = chip_find(name);

    if (c)
        return c;
    if (!*name || strlen(name) >= HAL_NAME_MAX || strchr(name, '/'))
        return NULL;
    c = nano_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->next = chips;
    chips = c;
    return c;
}

bool
sim__gpio_chip_exists(const char *chip)
{
    return chip_find(chip) != NULL;
}

/* Physical level the line sees as an input. */
static int
in_level(const struct sim_pin *p)
{
    if (p->in_driven)
        return p->in_phys;
    return p->req && p->req->bias == NANO_GPIO_PULL_UP;
}

static void
push_event(struct sim_line *l, bool rising)
{
    struct nano_gpio_event ev = {
        .ts_ns = nano_time_mono_ns(), .rising = rising, .seqno = ++l->seq,
    };
    ssize_t n;

    if ((rising && (l->edge == NANO_GPIO_EDGE_RISING || l->edge == NANO_GPIO_EDGE_BOTH)) ||
        (!rising && (l->edge == NANO_GPIO_EDGE_FALLING || l->edge == NANO_GPIO_EDGE_BOTH))) {
        /* A full pipe drops the event, as the kernel's FIFO overflow does. */
        n = write(l->pipe_w, &ev, sizeof ev);
        (void)n;
    }
}

/* ---- the back end ---------------------------------------------------------- */

static int
line_get(struct nano_gpio_line *gl)
{
    struct sim_line *l = (struct sim_line *)gl;
    struct sim_pin *p = &l->chip->pins[l->off];
    int phys = l->base.dir == NANO_GPIO_OUT ? p->out_phys : in_level(p);

    return phys ^ l->active_low;
}

static int
line_set(struct nano_gpio_line *gl, int level)
{
    struct sim_line *l = (struct sim_line *)gl;

    l->chip->pins[l->off].out_phys = (level != 0) ^ l->active_low;
    return NANO_OK;
}

static int
line_read_event(struct nano_gpio_line *gl, struct nano_gpio_event *ev)
{
    ssize_t n = read(gl->event_fd, ev, sizeof *ev);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
    return n == (ssize_t)sizeof *ev ? NANO_OK : -EIO;
}

static void
chip_unref(struct sim_chip *c)
{
    if (--c->refs == 0 && c->dead)
        nano_free(c);
}

static void
line_release(struct nano_gpio_line *gl)
{
    struct sim_line *l = (struct sim_line *)gl;

    l->chip->pins[l->off].req = NULL;
    if (l->base.event_fd >= 0) {
        close(l->base.event_fd);
        close(l->pipe_w);
    }
    chip_unref(l->chip);
    nano_free(l);
}

static const struct hal_gpio_ops sim_ops = {
    .get        = line_get,
    .set        = line_set,
    .read_event = line_read_event,
    .release    = line_release,
};

int
hal__gpio_sim_request(const char *chip, const struct nano_gpio_req *req,
                      struct nano_gpio_line **out)
{
    struct sim_chip *c;
    struct sim_line *l;
    int fds[2];

    if (req->line >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    c = chip_get(chip);
    if (!c)
        return -EINVAL;
    if (c->pins[req->line].req)
        return -EBUSY;
    l = nano_calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->base.ops = &sim_ops;
    l->base.event_fd = -1;
    l->pipe_w = -1;
    l->chip = c;
    l->off = req->line;
    l->active_low = req->active_low;
    l->bias = req->bias;
    l->edge = req->dir == NANO_GPIO_IN ? req->edge : NANO_GPIO_EDGE_NONE;
    if (l->edge != NANO_GPIO_EDGE_NONE) {
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
            int rc = -errno;
            nano_free(l);
            return rc;
        }
        l->base.event_fd = fds[0];
        l->pipe_w = fds[1];
    }
    if (req->dir == NANO_GPIO_OUT)
        c->pins[req->line].out_phys = (req->initial != 0) ^ req->active_low;
    c->pins[req->line].req = l;
    c->refs++;
    *out = &l->base;
    return NANO_OK;
}

/* ---- test controls ----------------------------------------------------------- */

int
sim__gpio_set_input(const char *chip, unsigned line, int level)
{
    struct sim_chip *c;
    struct sim_pin *p;
    int before, after;

    if (line >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    c = chip_get(chip);
    if (!c)
        return -EINVAL;
    p = &c->pins[line];
    before = in_level(p);
    p->in_phys = level != 0;
    p->in_driven = true;
    after = in_level(p);
    if (before != after && p->req && p->req->base.dir == NANO_GPIO_IN &&
        p->req->edge != NANO_GPIO_EDGE_NONE)
        push_event(p->req, (after ^ p->req->active_low) != 0);
    return NANO_OK;
}

int
sim__gpio_get_input(const char *chip, unsigned line, int *level)
{
    struct sim_chip *c = chip_find(chip);

    if (line >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    *level = c ? in_level(&c->pins[line]) : 0;
    return NANO_OK;
}

int
nano_sim_gpio_set_input(const char *chip, unsigned line, int level)
{
    return sim__gpio_set_input(chip, line, level);
}

int
nano_sim_gpio_get_output(const char *chip, unsigned line)
{
    struct sim_chip *c = chip_find(chip);

    if (line >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    if (!c || !c->pins[line].req || c->pins[line].req->base.dir != NANO_GPIO_OUT)
        return -ENOENT;
    return c->pins[line].out_phys;
}

int
nano_sim_gpio_requested(const char *chip, unsigned line)
{
    struct sim_chip *c = chip_find(chip);

    if (line >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    return c && c->pins[line].req ? 1 : 0;
}

void
sim__gpio_reset(void)
{
    struct sim_chip *c, *next;

    for (c = chips; c; c = next) {
        next = c->next;
        c->next = NULL;
        if (c->refs == 0)
            nano_free(c);
        else
            c->dead = true;          /* freed by its last line_release() */
    }
    chips = NULL;
}
