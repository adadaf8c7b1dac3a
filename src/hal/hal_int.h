/* SPDX-License-Identifier: MIT
 *
 * hal_int.h - what the HAL's files share and nothing else may include: the
 * back-end method tables behind the public handles, the bus-name parser, and
 * the emulated devices' hooks into the simulated back ends.
 *
 * Each public handle (struct nano_i2c, ...) is the first member of its back
 * end's own struct, so the front end (hal.c) dispatches through ops and the
 * back end recovers its struct with a cast.  Back ends are files selected by
 * the bus name at open time, never #ifdefs (STYLE 2.1-7).
 */
#ifndef NANO_HAL_HAL_INT_H
#define NANO_HAL_HAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hal/gpio.h"
#include "hal/i2c.h"
#include "hal/sim.h"
#include "hal/spi.h"
#include "hal/uart.h"
#include "hal/w1.h"

#define HAL_NAME_MAX 64

/* "sim:i2c1" -> true and rest "i2c1"; "i2c1" -> false and "i2c1". */
bool hal__is_sim(const char *bus, const char **rest);

/* Map an errno from an I2C/SPI transfer to Nano's codes:
 * ENXIO/EREMOTEIO -> NANO_ENACK, ETIMEDOUT -> NANO_ETIMEDOUT_DEV, else -e. */
int  hal__xfer_err(int e);

/* ---- I2C ------------------------------------------------------------------- */

struct hal_i2c_ops {
    int  (*transfer)(struct nano_i2c *i2c, struct nano_i2c_msg *msgs,
                     unsigned n);
    int  (*set_timeout)(struct nano_i2c *i2c, unsigned ms);
    void (*close)(struct nano_i2c *i2c);
};

struct nano_i2c {
    const struct hal_i2c_ops *ops;
    char                      name[HAL_NAME_MAX];
};

int  hal__i2c_dev_open(const char *name, struct nano_i2c **out);  /* linux */
int  hal__i2c_sim_open(const char *name, struct nano_i2c **out);  /* sim */

/* ---- SPI ------------------------------------------------------------------- */

struct hal_spi_ops {
    int  (*transfer)(struct nano_spi *spi, const uint8_t *tx, uint8_t *rx,
                     size_t len);
    void (*close)(struct nano_spi *spi);
};

struct nano_spi {
    const struct hal_spi_ops *ops;
    char                      name[HAL_NAME_MAX];
};

int  hal__spidev_open(const char *name, const struct nano_spi_cfg *cfg,
                      struct nano_spi **out);
int  hal__spi_sim_open(const char *name, const struct nano_spi_cfg *cfg,
                       struct nano_spi **out);

/* ---- GPIO ------------------------------------------------------------------ */

struct hal_gpio_ops {
    int  (*get)(struct nano_gpio_line *l);
    int  (*set)(struct nano_gpio_line *l, int level);
    int  (*read_event)(struct nano_gpio_line *l, struct nano_gpio_event *ev);
    void (*release)(struct nano_gpio_line *l);
};

struct nano_gpio_line {
    const struct hal_gpio_ops *ops;
    char                       chip[HAL_NAME_MAX];
    unsigned                   offset;
    int                        event_fd;    /* -1: no edge detection */
    enum nano_gpio_dir         dir;
};

int  hal__gpio_cdev_request(const char *chip, const struct nano_gpio_req *req,
                            struct nano_gpio_line **out);
int  hal__gpio_sim_request(const char *chip, const struct nano_gpio_req *req,
                           struct nano_gpio_line **out);

/* ---- UART ------------------------------------------------------------------ */

/* Both the real and the emulated port are ttys: one termios back end. */
int  hal__uart_termios_open(const char *path, const char *name,
                            const struct nano_uart_cfg *cfg,
                            struct nano_uart **out);
/* Slave path of an emulated port, or -ENOENT. */
int  hal__uart_sim_path(const char *name, char *out, size_t cap);

/* ---- 1-Wire ---------------------------------------------------------------- */

/* A w1 handle on directory dir (linux/w1_sysfs.c). */
int  hal__w1_open_dir(const char *dir, struct nano_w1 **out);
const char *hal__w1_default_root(void);

/* ---- the emulator registry (sim/sim.c) ------------------------------------- */

enum sim_kind { SIM_I2C, SIM_SPI, SIM_W1, SIM_GPIO, SIM_UART };

struct sim_dev;

/* An emulator model: one row per kind of device (sim/sim.c: sim_models[]). */
struct sim_model {
    const char        *name;
    enum sim_kind      kind;
    const char *const *quantities;      /* settable, NULL-terminated */
    size_t             state_size;      /* bytes of emulator state */

    /* Power-on state (also after replug). */
    void (*reset)(struct sim_dev *d);
    int  (*set)(struct sim_dev *d, const char *q, double v);
    int  (*get)(struct sim_dev *d, const char *q, double *out);

    /* I2C: the master wrote / reads bytes.  Return NANO_OK or NANO_ENACK
     * (the device refuses, e.g. a read before conversion ends). */
    int  (*i2c_write)(struct sim_dev *d, const uint8_t *buf, size_t len);
    int  (*i2c_read)(struct sim_dev *d, uint8_t *buf, size_t len);
    /* SPI: one full-duplex transfer with chip select asserted. */
    void (*spi_xfer)(struct sim_dev *d, const uint8_t *tx, uint8_t *rx,
                     size_t len);
    /* w1: content of the slave's w1_slave file.  Returns length. */
    int  (*w1_render)(struct sim_dev *d, char *buf, size_t cap);
};

struct sim_dev {
    const struct sim_model *model;
    struct sim_bus         *bus;
    struct sim_dev         *next;
    char                    addr[NANO_W1_ID_MAX + 4];
    unsigned                addr_num;       /* i2c address / spi cs */
    enum nano_sim_fault     fault;
    int                     fault_count;    /* -1: until cleared */
    enum nano_sim_fault     cur;            /* in effect for this transaction */
    int                     fifo_fd;        /* w1 TIMEOUT: holds the FIFO open */
    bool                    plugged;
    uint64_t                transactions;
    max_align_t             state[];        /* model state: state_size bytes */
};

/* Emulator state of d. */
static inline void *
sim__state(struct sim_dev *d)
{
    return d->state;
}

/* The device at addr on the emulated bus name of kind, or NULL (also when
 * the bus has another kind). */
struct sim_dev *sim__find(const char *bus, enum sim_kind kind, unsigned addr);

/* Whether an emulated bus of that name and kind exists. */
bool sim__bus_exists(const char *bus, enum sim_kind kind);

/* Consume one transaction's worth of d's fault: returns the fault in effect
 * for this transaction (NONE when none) and counts the transaction. */
enum nano_sim_fault sim__take_fault(struct sim_dev *d);

/* A w1 device's values or fault changed: rewrite its files. */
void sim__w1_update(struct sim_dev *d);

/* BME280 calibration (sim/emu_bme280.c). */
int  sim__bme280_set_calib(struct sim_dev *d, const uint8_t cal1[26],
                           const uint8_t cal2[7]);

/* Emulator rows, defined in their files. */
extern const struct sim_model sim__model_bme280;
extern const struct sim_model sim__model_sht3x;
extern const struct sim_model sim__model_mcp3008;
extern const struct sim_model sim__model_ds18b20;

/* Model row by name, or NULL. */
const struct sim_model *sim__model(const char *name);

/* Call fn for every emulated device (fn may remove it). */
void sim__foreach(void (*fn)(void *arg, const char *bus, struct sim_dev *d),
                  void *arg);

/* GPIO registry hooks (sim/gpio_sim.c). */
bool sim__gpio_chip_exists(const char *chip);
int  sim__gpio_set_input(const char *chip, unsigned line, int level);
int  sim__gpio_get_input(const char *chip, unsigned line, int *level);
void sim__gpio_reset(void);
void sim__uart_reset(void);

/* Emulated Modbus RTU slaves (sim/emu_modbus.c) serving an emulated port
 * (sim/uart_sim.c) from a thread of their own. */
struct sim_mb;
struct sim_mb *sim__mb_start(int master_fd);
void sim__mb_stop(struct sim_mb *mb);                 /* joins the thread */
void sim__mb_foreach(struct sim_mb *mb, const char *port,
                     void (*fn)(void *arg, const char *port, unsigned unit),
                     void *arg);
/* The slave server of port (created with the port when create is set):
 * NANO_OK and *mb_out, or NANO_ENOTFOUND / -errno. */
int  sim__uart_mb(const char *port, bool create, struct sim_mb **mb_out);
/* Call fn for every emulated Modbus slave on every port. */
void sim__uart_foreach_mb(void (*fn)(void *arg, const char *port, unsigned unit),
                          void *arg);

/* Sensirion/Maxim style CRC-8 (poly, init), MSB first, no reflection. */
uint8_t hal__crc8(const uint8_t *p, size_t n, uint8_t poly, uint8_t init);
/* Dallas/Maxim 1-Wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected). */
uint8_t hal__crc8_maxim(const uint8_t *p, size_t n);

#endif
