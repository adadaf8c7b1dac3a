/* test_gpio_in.c - the gpio_in driver on an emulated chip: changes are
 * published from the edge-event fd at once (not at the next sample),
 * contact bounce collapses into one change, glitches shorter than the
 * debounce time are ignored, edge selection and counting, active-low
 * buttons with pull-up, and the periodic sample as a safety net. */
#include <unistd.h>

#include "rig.h"

#define S "sensors/door/state"
#define E "sensors/door/edge"
#define C "sensors/door/count"

static void
set(unsigned line, int level)
{
    NT_ASSERT(nano_sim_gpio_set_input("gpiochip0", line, level) == NANO_OK);
}

static void
test_publishes_on_edge_not_interval(void)
{
    struct rig r;
    uint64_t t0;

    rig_up(&r);
    rig_install_ok(&r, "door", "{\"driver\":\"gpio_in\",\"chip\":\"sim:gpiochip0\","
                   "\"line\":22,\"debounce\":\"5ms\",\"interval\":\"30s\"}");
    NT_ASSERT(rig_wait(&r, S, NANO_Q_OK, 1, 1000));     /* first sample */
    NT_CHECK(!rig_last(&r, S)->b);
    NT_EQ_INT(nano_sim_gpio_requested("gpiochip0", 22), 1);
    t0 = nano_time_mono_ns();
    set(22, 1);
    NT_ASSERT(rig_wait(&r, S, NANO_Q_OK, 2, 1000));
    NT_CHECK(nano_time_mono_ns() - t0 < 200 * NANO_NS_PER_MS);   /* not 30 s */
    NT_CHECK(rig_last(&r, S)->b);
    NT_EQ_STR(rig_last(&r, E)->str, "rising");
    NT_NEAR(rig_last(&r, C)->num, 1, 0);
    set(22, 0);
    NT_ASSERT(rig_wait(&r, E, NANO_Q_OK, 2, 1000));
    NT_EQ_STR(rig_last(&r, E)->str, "falling");
    NT_NEAR(rig_last(&r, C)->num, 2, 0);
    rig_down(&r);
    NT_EQ_INT(nano_sim_gpio_requested("gpiochip0", 22), 0);       /* released */
}

static void
test_bounce_and_glitch(void)
{
    struct rig r;

    rig_up(&r);
    rig_install_ok(&r, "door", "{\"driver\":\"gpio_in\",\"chip\":\"sim:gpiochip0\","
                   "\"line\":5,\"debounce\":\"20ms\",\"interval\":\"30s\"}");
    NT_ASSERT(rig_wait(&r, S, NANO_Q_OK, 1, 1000));
    /* A contact that bounces for ~4 ms and settles high: one change. */
    for (int i = 0; i < 8; i++) {
        set(5, i % 2 == 0);
        usleep(500);
        nano_loop_run_once(r.loop, 0);
    }
    set(5, 1);
    rig_run_for(&r, 80);
    NT_EQ_INT(rig_count(&r, E, -1), 1);
    NT_EQ_INT(rig_count(&r, S, -1), 2);
    NT_CHECK(rig_last(&r, S)->b);
    /* A 3 ms glitch low and back: shorter than the debounce, no change. */
    set(5, 0);
    rig_run_for(&r, 3);
    set(5, 1);
    rig_run_for(&r, 80);
    NT_EQ_INT(rig_count(&r, E, -1), 1);
    NT_EQ_INT(rig_count(&r, S, -1), 2);
    rig_down(&r);
}

static void
test_button_falling_only(void)
{
    struct rig r;

    rig_up(&r);
    /* A button to ground with the pull-up: pressed is logically true.
     * edge: falling counts releases only. */
    rig_install_ok(&r, "btn", "{\"driver\":\"gpio_in\",\"chip\":\"sim:gpiochip0\","
                   "\"line\":6,\"bias\":\"pull-up\",\"active_low\":true,"
                   "\"edge\":\"falling\",\"debounce\":\"2ms\",\"interval\":\"30s\"}");
    NT_ASSERT(rig_wait(&r, "sensors/btn/state", NANO_Q_OK, 1, 1000));
    NT_CHECK(!rig_last(&r, "sensors/btn/state")->b);     /* pulled up: idle */
    for (int press = 0; press < 3; press++) {
        set(6, 0);                                        /* pressed */
        rig_run_for(&r, 20);
        set(6, 1);                                        /* released */
        rig_run_for(&r, 20);
    }
    NT_EQ_INT(rig_count(&r, "sensors/btn/state", -1), 7);
    NT_EQ_INT(rig_count(&r, "sensors/btn/edge", -1), 3);
    NT_EQ_STR(rig_last(&r, "sensors/btn/edge")->str, "falling");
    NT_NEAR(rig_last(&r, "sensors/btn/count")->num, 3, 0);
    rig_down(&r);
}

static void
test_sample_is_a_safety_net(void)
{
    struct rig r;
    struct nano_gpio_line *dummy = NULL;

    rig_up(&r);
    rig_install_ok(&r, "door", "{\"driver\":\"gpio_in\",\"chip\":\"sim:gpiochip0\","
                   "\"line\":7,\"debounce\":\"0\",\"interval\":\"50ms\"}");
    NT_ASSERT(rig_wait(&r, S, NANO_Q_OK, 1, 1000));
    /* Heartbeat: the state is published every interval even unchanged. */
    NT_ASSERT(rig_wait(&r, S, NANO_Q_OK, 3, 1000));
    NT_EQ_INT(rig_count(&r, E, -1), 0);
    /* debounce 0: each edge is a change at once. */
    set(7, 1);
    NT_ASSERT(rig_wait(&r, E, NANO_Q_OK, 1, 1000));
    /* The line is taken: a second instance on it fails and backs off. */
    rig_install_ok(&r, "twin", "{\"driver\":\"gpio_in\",\"chip\":\"sim:gpiochip0\","
                   "\"line\":7,\"interval\":\"50ms\"}");
    NT_ASSERT(rig_wait_state(&r, "twin", NANO_DEV_BACKOFF, 1000));
    NT_CHECK(strstr(rig_dev_json(&r, "twin"), "busy") != NULL);
    (void)dummy;
    rig_down(&r);
}

NT_LIST = {
    { "publishes_on_edge_not_interval", test_publishes_on_edge_not_interval },
    { "bounce_and_glitch",              test_bounce_and_glitch },
    { "button_falling_only",            test_button_falling_only },
    { "sample_is_a_safety_net",         test_sample_is_a_safety_net },
    { NULL, NULL }
};
