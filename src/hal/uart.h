/* SPDX-License-Identifier: MIT
 *
 * uart.h - serial ports through termios: raw, non-blocking, on the loop.
 *
 *   "ttyUSB0", "ttyAMA0", "/dev/ttyS1"   a real port (linux/uart_termios.c)
 *   "sim:uart0"                          the slave side of the emulated
 *                                        port "uart0", a real pseudo-terminal
 *                                        pair (sim/uart_sim.c); the test or
 *                                        emulator plays the device on the
 *                                        master side
 *
 * The port is opened O_NONBLOCK in raw mode (no echo, no line editing, no
 * flow control, no CR/LF translation), so the fd can be watched with a
 * nano_io on the loop and read/written without blocking.  Both back ends run
 * the same termios code: the emulated port is a tty too.
 *
 * Context: one handle belongs to one thread at a time.
 */
#ifndef NANO_HAL_UART_H
#define NANO_HAL_UART_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nano_uart;

struct nano_uart_cfg {
    uint32_t baud;       /* 50 .. 4000000; must be a standard rate */
    char     parity;     /* 'N', 'E' or 'O' */
    uint8_t  data_bits;  /* 5 .. 8 */
    uint8_t  stop_bits;  /* 1 or 2 */
};

#define NANO_UART_CFG_DEFAULT { 9600, 'N', 8, 1 }

/* Check a configuration without opening anything: NANO_OK or -EINVAL. */
int  nano_uart_cfg_check(const struct nano_uart_cfg *cfg);

/* Resolve a port name to the device path the back end opens (for libraries
 * that open the device themselves, e.g. libmodbus).  Returns NANO_OK,
 * -ENOENT (an emulated port that was never created) or -ENAMETOOLONG. */
int  nano_uart_path(const char *bus, char *out, size_t cap);

/* Open and configure.  Returns NANO_OK and *uart_out (Returns owned; free
 * with nano_uart_close), -ENOENT, -EINVAL (bad cfg), -ENOTTY (not a tty) or
 * -errno.  Borrows cfg. */
int  nano_uart_open(const char *bus, const struct nano_uart_cfg *cfg,
                    struct nano_uart **uart_out);
void nano_uart_close(struct nano_uart *u);        /* NULL is a no-op */

/* The non-blocking fd, for a nano_io watcher.  Owned by the handle. */
int  nano_uart_fd(const struct nano_uart *u);

/* Returns bytes moved (> 0), -EAGAIN when nothing can move now, or -errno.
 * A read of 0 bytes (hang-up) is reported as -EPIPE. */
ssize_t nano_uart_read(struct nano_uart *u, void *buf, size_t len);
ssize_t nano_uart_write(struct nano_uart *u, const void *buf, size_t len);

/* Discard unread input and unsent output (tcflush). */
int  nano_uart_flush(struct nano_uart *u);

/* Time one character takes on the wire in microseconds (start + data +
 * parity + stop bits), for inter-frame gaps such as Modbus RTU's 3.5 chars. */
uint32_t nano_uart_char_us(const struct nano_uart_cfg *cfg);

const char *nano_uart_name(const struct nano_uart *u);

#endif
