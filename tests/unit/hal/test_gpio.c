/* test_gpio.c - GPIO requests on the emulated chip and the kernel uAPI's
 * error paths: levels, active-low, bias, exclusive use, edge events on an
 * fd watched by a real loop, and chips outliving nano_sim_reset(). */
#include "harness/nt.h"
#include "core/err.h"
#include "core/loop.h"
#include "hal/gpio.h"
#include "hal/sim.h"

static void
test_parsers(void)
{
    enum nano_gpio_dir d;
    enum nano_gpio_bias b;
    enum nano_gpio_edge e;
    enum nano_gpio_drive dr;
    int l;

    NT_CHECK(nano_gpio_dir_parse("out", &d) == NANO_OK && d == NANO_GPIO_OUT);
    NT_CHECK(nano_gpio_dir_parse("output", &d) == -EINVAL);
    NT_CHECK(nano_gpio_bias_parse("pull-up", &b) == NANO_OK && b == NANO_GPIO_PULL_UP);
    NT_CHECK(nano_gpio_edge_parse("both", &e) == NANO_OK && e == NANO_GPIO_EDGE_BOTH);
    NT_CHECK(nano_gpio_drive_parse("open-drain", &dr) == NANO_OK &&
             dr == NANO_GPIO_OPEN_DRAIN);
    NT_CHECK(nano_gpio_level_parse("HIGH", &l) == NANO_OK && l == 1);
    NT_CHECK(nano_gpio_level_parse("low", &l) == NANO_OK && l == 0);
    NT_CHECK(nano_gpio_level_parse("1", &l) == NANO_OK && l == 1);
    NT_CHECK(nano_gpio_level_parse("maybe", &l) == -EINVAL);
}

static void
test_linux_errors(void)
{
    struct nano_gpio_line *l;
    struct nano_gpio_req in = { .line = 4, .dir = NANO_GPIO_IN };

    NT_EQ_INT(nano_gpio_request("gpiochip97", &in, &l), -ENOENT);
    NT_EQ_INT(nano_gpio_request("chip0", &in, &l), -EINVAL);
    NT_EQ_INT(nano_gpio_request("/dev/null", &in, &l), -EOPNOTSUPP);
    NT_CHECK(l == NULL);
}

static void
test_outputs(void)
{
    struct nano_gpio_line *led, *relay, *again;
    struct nano_gpio_req r1 = { .line = 17, .dir = NANO_GPIO_OUT, .initial = 1 };
    struct nano_gpio_req r2 = { .line = 27, .dir = NANO_GPIO_OUT, .active_low = true };
    struct nano_gpio_req bad = { .line = 5, .dir = NANO_GPIO_OUT,
                                 .edge = NANO_GPIO_EDGE_BOTH };

    NT_EQ_INT(nano_sim_gpio_get_output("gpiochip0", 17), -ENOENT);
    NT_ASSERT(nano_gpio_request("sim:gpiochip0", &r1, &led) == NANO_OK);
    NT_EQ_STR(nano_gpio_chip_name(led), "sim:gpiochip0");
    NT_EQ_INT(nano_gpio_offset(led), 17);
    NT_EQ_INT(nano_sim_gpio_get_output("gpiochip0", 17), 1);   /* initial */
    NT_EQ_INT(nano_gpio_get(led), 1);
    NT_EQ_INT(nano_gpio_set(led, 0), NANO_OK);
    NT_EQ_INT(nano_sim_gpio_get_output("gpiochip0", 17), 0);
    NT_EQ_INT(nano_gpio_set(led, 5), NANO_OK);                 /* non-zero */
    NT_EQ_INT(nano_gpio_get(led), 1);
    NT_EQ_INT(nano_gpio_event_fd(led), -1);

    /* Active low: logical 1 drives the line low. */
    NT_ASSERT(nano_gpio_request("sim:gpiochip0", &r2, &relay) == NANO_OK);
    NT_EQ_INT(nano_sim_gpio_get_output("gpiochip0", 27), 1);   /* logical 0 */
    NT_EQ_INT(nano_gpio_set(relay, 1), NANO_OK);
    NT_EQ_INT(nano_sim_gpio_get_output("gpiochip0", 27), 0);

    NT_EQ_INT(nano_gpio_request("sim:gpiochip0", &r1, &again), -EBUSY);
    NT_EQ_INT(nano_gpio_request("sim:gpiochip0", &bad, &again), -EINVAL);
    r1.line = NANO_GPIO_SIM_LINES;
    NT_EQ_INT(nano_gpio_request("sim:gpiochip0", &r1, &again), -EINVAL);
    NT_EQ_INT(nano_sim_gpio_requested("gpiochip0", 17), 1);
    nano_gpio_release(led);
    NT_EQ_INT(nano_sim_gpio_requested("gpiochip0", 17), 0);
    nano_gpio_release(relay);
    nano_gpio_release(NULL);
    nano_sim_reset();
}

static void
test_inputs_and_bias(void)
{
    struct nano_gpio_line *in, *up;
    struct nano_gpio_req r = { .line = 4, .dir = NANO_GPIO_IN };
    struct nano_gpio_req ru = { .line = 5, .dir = NANO_GPIO_IN,
                                .bias = NANO_GPIO_PULL_UP, .active_low = true };

    NT_ASSERT(nano_gpio_request("sim:gpiochip1", &r, &in) == NANO_OK);
    NT_EQ_INT(nano_gpio_get(in), 0);                 /* floating reads low */
    NT_EQ_INT(nano_gpio_set(in, 1), -EPERM);
    NT_EQ_INT(nano_sim_gpio_set_input("gpiochip1", 4, 1), NANO_OK);
    NT_EQ_INT(nano_gpio_get(in), 1);
    NT_EQ_INT(nano_gpio_read_event(in, &(struct nano_gpio_event){ 0 }), -EINVAL);

    /* Pull-up, active low: the undriven line reads physically high, so
     * logically 0; a button to ground makes it 1. */
    NT_ASSERT(nano_gpio_request("sim:gpiochip1", &ru, &up) == NANO_OK);
    NT_EQ_INT(nano_gpio_get(up), 0);
    NT_EQ_INT(nano_sim_gpio_set_input("gpiochip1", 5, 0), NANO_OK);
    NT_EQ_INT(nano_gpio_get(up), 1);
    nano_gpio_release(in);
    nano_gpio_release(up);
    nano_sim_reset();
}

struct edge_rig {
    struct nano_io          io;
    struct nano_gpio_line  *line;
    struct nano_gpio_event  ev[16];
    int                     n;
};

static void
on_edge(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct edge_rig *r = NANO_CONTAINER_OF(io, struct edge_rig, io);

    (void)loop;
    (void)events;
    while (r->n < 16 && nano_gpio_read_event(r->line, &r->ev[r->n]) == NANO_OK)
        r->n++;
}

static void
test_edge_events_on_the_loop(void)
{
    struct nano_loop *loop;
    struct edge_rig r = { .n = 0 };
    struct nano_gpio_req req = { .line = 22, .dir = NANO_GPIO_IN,
                                 .edge = NANO_GPIO_EDGE_BOTH };
    struct nano_gpio_event ev;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_gpio_request("sim:gpiochip0", &req, &r.line) == NANO_OK);
    NT_CHECK(nano_gpio_event_fd(r.line) >= 0);
    NT_EQ_INT(nano_gpio_read_event(r.line, &ev), -EAGAIN);
    nano_io_init(&r.io, nano_gpio_event_fd(r.line), on_edge);
    NT_ASSERT(nano_io_start(loop, &r.io, NANO_EV_READ) == NANO_OK);

    nano_sim_gpio_set_input("gpiochip0", 22, 1);
    nano_sim_gpio_set_input("gpiochip0", 22, 1);     /* no change, no edge */
    nano_sim_gpio_set_input("gpiochip0", 22, 0);
    nano_sim_gpio_set_input("gpiochip0", 22, 1);
    for (int i = 0; i < 10 && r.n < 3; i++)
        nano_loop_run_once(loop, 10);
    NT_EQ_INT(r.n, 3);
    NT_CHECK(r.ev[0].rising && !r.ev[1].rising && r.ev[2].rising);
    NT_EQ_INT(r.ev[0].seqno, 1);
    NT_EQ_INT(r.ev[2].seqno, 3);
    NT_CHECK(r.ev[0].ts_ns > 0 && r.ev[2].ts_ns >= r.ev[0].ts_ns);
    nano_io_stop(loop, &r.io);
    nano_gpio_release(r.line);

    /* Rising only, active low: a physical falling edge is a logical rise. */
    struct nano_gpio_req rr = { .line = 23, .dir = NANO_GPIO_IN,
                                .edge = NANO_GPIO_EDGE_RISING, .active_low = true };
    struct nano_gpio_line *l;
    nano_sim_gpio_set_input("gpiochip0", 23, 1);
    NT_ASSERT(nano_gpio_request("sim:gpiochip0", &rr, &l) == NANO_OK);
    nano_sim_gpio_set_input("gpiochip0", 23, 0);      /* logical 0 -> 1 */
    nano_sim_gpio_set_input("gpiochip0", 23, 1);      /* falling: filtered */
    NT_EQ_INT(nano_gpio_read_event(l, &ev), NANO_OK);
    NT_CHECK(ev.rising);
    NT_EQ_INT(nano_gpio_read_event(l, &ev), -EAGAIN);
    nano_gpio_release(l);
    nano_loop_free(loop);
    nano_sim_reset();
}

static void
test_chip_outlives_reset(void)
{
    struct nano_gpio_line *l;
    struct nano_gpio_req req = { .line = 3, .dir = NANO_GPIO_OUT };

    NT_ASSERT(nano_gpio_request("sim:gpiochip0", &req, &l) == NANO_OK);
    nano_sim_reset();                        /* the chip is held by l */
    NT_EQ_INT(nano_gpio_set(l, 1), NANO_OK);
    NT_EQ_INT(nano_sim_gpio_requested("gpiochip0", 3), 0);   /* a new chip */
    nano_gpio_release(l);                    /* frees the old one (ASan) */
}

NT_LIST = {
    { "parsers",                 test_parsers },
    { "linux_errors",            test_linux_errors },
    { "outputs",                 test_outputs },
    { "inputs_and_bias",         test_inputs_and_bias },
    { "edge_events_on_the_loop", test_edge_events_on_the_loop },
    { "chip_outlives_reset",     test_chip_outlives_reset },
    { NULL, NULL }
};
