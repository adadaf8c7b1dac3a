/* test_uart.c - serial ports through termios on a real pseudo-terminal
 * pair: configuration checks, raw bytes both ways, non-blocking reads on the
 * loop, exclusive use, hang-up. */
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/loop.h"
#include "hal/sim.h"
#include "hal/uart.h"

static void
test_config_checks(void)
{
    struct nano_uart_cfg ok = NANO_UART_CFG_DEFAULT;
    struct nano_uart_cfg c;

    NT_EQ_INT(nano_uart_cfg_check(&ok), NANO_OK);
    c = ok; c.baud = 12345;
    NT_EQ_INT(nano_uart_cfg_check(&c), -EINVAL);
    c = ok; c.parity = 'X';
    NT_EQ_INT(nano_uart_cfg_check(&c), -EINVAL);
    c = ok; c.data_bits = 9;
    NT_EQ_INT(nano_uart_cfg_check(&c), -EINVAL);
    c = ok; c.stop_bits = 3;
    NT_EQ_INT(nano_uart_cfg_check(&c), -EINVAL);
    NT_EQ_INT(nano_uart_cfg_check(NULL), -EINVAL);
    /* 9600 8N1: 10 bits per char, 1042 us; 19200 8E1: 11 bits, 573 us. */
    NT_EQ_INT(nano_uart_char_us(&ok), 1042);
    c = (struct nano_uart_cfg){ 19200, 'E', 8, 1 };
    NT_EQ_INT(nano_uart_char_us(&c), 573);
}

static void
test_paths_and_errors(void)
{
    struct nano_uart_cfg cfg = NANO_UART_CFG_DEFAULT;
    struct nano_uart *u;
    char path[64];
    int master;

    NT_EQ_INT(nano_uart_path("ttyUSB0", path, sizeof path), NANO_OK);
    NT_EQ_STR(path, "/dev/ttyUSB0");
    NT_EQ_INT(nano_uart_path("/dev/ttyS1", path, sizeof path), NANO_OK);
    NT_EQ_STR(path, "/dev/ttyS1");
    NT_EQ_INT(nano_uart_path("sim:uart9", path, sizeof path), -ENOENT);
    NT_EQ_INT(nano_uart_path("ttyUSB0", path, 4), -ENAMETOOLONG);
    NT_EQ_INT(nano_uart_open("ttyNANO97", &cfg, &u), -ENOENT);
    NT_EQ_INT(nano_uart_open("/dev/null", &cfg, &u), -ENOTTY);
    NT_ASSERT(nano_sim_uart_open("uart0", &master) == NANO_OK);
    NT_EQ_INT(nano_uart_path("sim:uart0", path, sizeof path), NANO_OK);
    NT_CHECK(strncmp(path, "/dev/pts/", 9) == 0);
    cfg.baud = 7;
    NT_EQ_INT(nano_uart_open("sim:uart0", &cfg, &u), -EINVAL);
    NT_CHECK(u == NULL);
    nano_sim_reset();
}

static void
test_bytes_both_ways(void)
{
    struct nano_uart_cfg cfg = { 19200, 'E', 8, 1 };
    struct nano_uart *u, *second;
    struct termios t;
    uint8_t all[256], got[300];
    int master, again;
    ssize_t n;
    size_t have = 0;

    NT_ASSERT(nano_sim_uart_open("uart0", &master) == NANO_OK);
    NT_ASSERT(nano_sim_uart_open("uart0", &again) == NANO_OK);
    NT_EQ_INT(again, master);
    NT_ASSERT(nano_uart_open("sim:uart0", &cfg, &u) == NANO_OK);
    NT_EQ_STR(nano_uart_name(u), "sim:uart0");
    NT_EQ_INT(nano_uart_open("sim:uart0", &cfg, &second), -EBUSY);

    /* termios really applied: raw and non-blocking.  (A pty keeps CS8 and
     * drops PARENB whatever is asked: it has no wire to put parity on.) */
    NT_ASSERT(tcgetattr(nano_uart_fd(u), &t) == 0);
    NT_CHECK((t.c_cflag & CSIZE) == CS8);
    NT_CHECK(!(t.c_lflag & (ICANON | ECHO)));
    NT_CHECK(cfgetospeed(&t) == B19200);
    NT_CHECK(fcntl(nano_uart_fd(u), F_GETFL) & O_NONBLOCK);

    NT_EQ_INT(nano_uart_read(u, got, sizeof got), -EAGAIN);
    /* Every byte value crosses unchanged (no CR/LF or XON/XOFF mangling). */
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    NT_EQ_INT(nano_uart_write(u, all, sizeof all), (ssize_t)sizeof all);
    for (int tries = 0; tries < 100 && have < sizeof all; tries++) {
        n = read(master, got + have, sizeof got - have);
        if (n > 0)
            have += (size_t)n;
        else
            usleep(1000);
    }
    NT_EQ_INT(have, sizeof all);
    NT_CHECK(memcmp(all, got, sizeof all) == 0);

    NT_EQ_INT(write(master, "\x11\x13\r\n\x03", 5), 5);
    have = 0;
    for (int tries = 0; tries < 100 && have < 5; tries++) {
        n = nano_uart_read(u, got + have, sizeof got - have);
        if (n > 0)
            have += (size_t)n;
        else
            usleep(1000);
    }
    NT_EQ_INT(have, 5);
    NT_CHECK(memcmp(got, "\x11\x13\r\n\x03", 5) == 0);
    NT_EQ_INT(nano_uart_flush(u), NANO_OK);
    nano_uart_close(u);
    nano_uart_close(NULL);
    nano_sim_reset();
}

struct rx_rig {
    struct nano_io    io;
    struct nano_uart *u;
    char              buf[64];
    size_t            len;
    int               hangup;
};

static void
on_rx(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct rx_rig *r = NANO_CONTAINER_OF(io, struct rx_rig, io);
    ssize_t n;

    (void)loop;
    (void)events;
    while ((n = nano_uart_read(r->u, r->buf + r->len, sizeof r->buf - r->len)) > 0)
        r->len += (size_t)n;
    if (n == -EPIPE) {
        r->hangup++;
        nano_io_stop(loop, io);
    }
}

static void
test_reads_on_the_loop_and_hangup(void)
{
    struct nano_uart_cfg cfg = NANO_UART_CFG_DEFAULT;
    struct nano_loop *loop;
    struct rx_rig r = { .len = 0 };
    int master;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_sim_uart_open("uart1", &master) == NANO_OK);
    NT_ASSERT(nano_uart_open("sim:uart1", &cfg, &r.u) == NANO_OK);
    nano_io_init(&r.io, nano_uart_fd(r.u), on_rx);
    NT_ASSERT(nano_io_start(loop, &r.io, NANO_EV_READ) == NANO_OK);
    NT_EQ_INT(write(master, "hello", 5), 5);
    for (int i = 0; i < 50 && r.len < 5; i++)
        nano_loop_run_once(loop, 10);
    NT_EQ_INT(r.len, 5);
    NT_CHECK(memcmp(r.buf, "hello", 5) == 0);

    /* The device side goes away: the port reports a hang-up. */
    NT_EQ_INT(nano_sim_uart_remove("uart1"), NANO_OK);
    NT_EQ_INT(nano_sim_uart_remove("uart1"), NANO_ENOTFOUND);
    for (int i = 0; i < 50 && !r.hangup; i++)
        nano_loop_run_once(loop, 10);
    NT_EQ_INT(r.hangup, 1);
    nano_io_stop(loop, &r.io);
    nano_uart_close(r.u);
    nano_loop_free(loop);
    nano_sim_reset();
}

NT_LIST = {
    { "config_checks",                test_config_checks },
    { "paths_and_errors",             test_paths_and_errors },
    { "bytes_both_ways",              test_bytes_both_ways },
    { "reads_on_the_loop_and_hangup", test_reads_on_the_loop_and_hangup },
    { NULL, NULL }
};
