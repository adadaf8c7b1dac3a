/* SPDX-License-Identifier: MIT
 *
 * gpio_in.c - a digital input or push button, debounced, that publishes
 * when it changes rather than when it is next sampled.
 *
 * The line is requested with edge detection on both edges; its event fd is
 * watched by the loop.  An edge does not publish by itself: it (re)starts
 * the debounce timer, and when the line has been quiet for `debounce` the
 * timer reads the level; only a level that differs from the last stable one
 * is a change.  So contact bounce (a burst of edges within a few ms) is one
 * change, and a glitch shorter than `debounce` that returns to the old level
 * is none.  On a change the driver reports, at once and outside the sample
 * cycle:
 *   state  the new level (bool, active_low applied)
 *   edge   "rising" or "falling", when `edge` selects that direction
 *   count  edges of the selected direction since the instance started
 * The periodic sample reports `state` too (a heartbeat, and a safety net
 * for an edge the kernel dropped).
 *
 *   devices:
 *     door:   { driver: gpio_in, chip: gpiochip0, line: 22, bias: pull-up,
 *               active_low: true, debounce: 20ms, interval: 60s }
 */
#include <string.h>

#include "core/loop.h"
#include "core/time.h"
#include "drivers/driver.h"
#include "hal/gpio.h"

struct gpio_in {
    /* parameters */
    const char            *chip;
    int                    line;
    int                    bias;
    bool                   active_low;
    uint64_t               debounce_ns;
    int                    edge;          /* index into edge_names */
    /* state */
    struct nano_dev       *dev;
    struct nano_gpio_line *gl;
    struct nano_io         io;
    struct nano_timer      settle;
    int                    stable;        /* last reported level, -1 none */
    double                 count;
};

static const char *const bias_names[] = {
    "as-is", "pull-up", "pull-down", "disabled", NULL
};
static const char *const edge_names[] = { "both", "rising", "falling", NULL };

static const struct nano_param params[] = {
    NANO_PARAM_STR("chip", struct gpio_in, chip, "gpiochip0",
                   "GPIO chip: gpiochip0 (/dev/gpiochip0) or sim:gpiochip0"),
    NANO_PARAM_INT("line", struct gpio_in, line, NULL,
                   "line offset on the chip (BCM GPIO number on a Pi)", 0, 1023),
    NANO_PARAM_ENUM("bias", struct gpio_in, bias, "as-is",
                    "as-is, pull-up (button to ground), pull-down, disabled",
                    bias_names),
    NANO_PARAM_BOOL("active_low", struct gpio_in, active_low, "false",
                    "true: a low line reads as true (buttons to ground)"),
    NANO_PARAM_DURATION("debounce", struct gpio_in, debounce_ns, "10ms",
                        "how long the line must stay put before a change "
                        "counts (0: none)"),
    NANO_PARAM_ENUM("edge", struct gpio_in, edge, "both",
                    "which changes produce edge events and count: both, "
                    "rising, falling", edge_names),
    NANO_PARAM_END
};

static const struct nano_quantity quantities[] = {
    { "state", NULL, 0, 0, "debounced level (bool)" },
    { "edge", NULL, 0, 0, "\"rising\" or \"falling\", on each selected change" },
    { "count", NULL, 0, 0, "selected changes since start" },
    { NULL, NULL, 0, 0, NULL }
};

static void
report_state(struct gpio_in *s, int level)
{
    struct nano_value v = nano_value_bool(level != 0);

    nano_dev_report_value(s->dev, "state", &v);
}

/* The line settled at level: publish if it is a change. */
static void
settled(struct gpio_in *s, int level)
{
    bool rising;

    if (level == s->stable)
        return;
    rising = level != 0;
    s->stable = level;
    report_state(s, level);
    if (s->edge == 0 || (s->edge == 1) == rising) {
        const char *e = rising ? "rising" : "falling";
        struct nano_value v = nano_value_str(e, strlen(e));
        s->count++;
        nano_dev_report_value(s->dev, "edge", &v);
        nano_dev_report(s->dev, "count", s->count);
    }
}

static void
on_settle(struct nano_loop *loop, struct nano_timer *t)
{
    struct gpio_in *s = NANO_CONTAINER_OF(t, struct gpio_in, settle);
    int level;

    (void)loop;
    level = nano_gpio_get(s->gl);
    if (level >= 0)
        settled(s, level);
}

static void
on_events(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct gpio_in *s = NANO_CONTAINER_OF(io, struct gpio_in, io);
    struct nano_gpio_event ev;
    int n = 0, level;

    (void)events;
    while (n < 256 && nano_gpio_read_event(s->gl, &ev) == NANO_OK)
        n++;
    if (n == 0)
        return;
    if (s->debounce_ns == 0) {
        level = nano_gpio_get(s->gl);
        if (level >= 0)
            settled(s, level);
        return;
    }
    nano_timer_start_ns(loop, &s->settle, s->debounce_ns, 0);  /* restart */
}

static int
gin_probe(struct nano_dev *dev)
{
    struct gpio_in *s = nano_dev_ctx(dev);
    struct nano_gpio_req req = {
        .line = (unsigned)s->line, .dir = NANO_GPIO_IN,
        .bias = (enum nano_gpio_bias)s->bias, .edge = NANO_GPIO_EDGE_BOTH,
        .active_low = s->active_low, .consumer = nano_dev_name(dev),
    };
    int rc, level;

    s->dev = dev;
    s->stable = -1;
    nano_timer_init(&s->settle, on_settle);
    nano_io_init(&s->io, -1, on_events);
    rc = nano_gpio_request(s->chip, &req, &s->gl);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "cannot request %s line %d: %s",
                      s->chip, s->line, nano_strerror(rc));
        return rc;
    }
    nano_io_init(&s->io, nano_gpio_event_fd(s->gl), on_events);
    rc = nano_io_start(nano_dev_loop(dev), &s->io, NANO_EV_READ);
    if (rc != NANO_OK)
        return rc;
    level = nano_gpio_get(s->gl);
    if (level < 0)
        return level;
    s->stable = level;                      /* the first sample reports it */
    return NANO_OK;
}

static int
gin_sample(struct nano_dev *dev)
{
    struct gpio_in *s = nano_dev_ctx(dev);
    int level = nano_gpio_get(s->gl);

    if (level < 0)
        return level;
    /* A change with no edge seen and none settling: an event was lost. */
    if (level != s->stable && !nano_timer_active(&s->settle))
        settled(s, level);
    else
        report_state(s, s->stable);
    return NANO_OK;
}

static void
gin_close(struct nano_dev *dev)
{
    struct gpio_in *s = nano_dev_ctx(dev);

    nano_io_stop(nano_dev_loop(dev), &s->io);
    nano_timer_stop(nano_dev_loop(dev), &s->settle);
    nano_gpio_release(s->gl);
    s->gl = NULL;
}

const struct nano_driver nano_driver_gpio_in = {
    .name                = "gpio_in",
    .summary             = "Digital input or button: debounced, publishes on "
                           "change (GPIO edge events)",
    .params              = params,
    .ctx_size            = sizeof(struct gpio_in),
    .quantities          = quantities,
    .default_interval_ms = 60000,
    .probe               = gin_probe,
    .sample              = gin_sample,
    .close               = gin_close,
};
