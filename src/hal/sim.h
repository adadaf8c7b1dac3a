/* SPDX-License-Identifier: MIT
 *
 * sim.h - emulated buses and devices: the simulated HAL back end, its
 * registry, and the controls tests and the daemon's sim mode use.
 *
 * A driver opened on "sim:<bus>" talks to emulators at the level real
 * hardware answers: I2C transfers to a register file (BME280, SHT3x), SPI
 * full-duplex bytes (MCP3008), files in a w1 sysfs-like directory tree
 * (DS18B20), GPIO lines with levels and edge events, and UARTs that are real
 * pseudo-terminal pairs.  The driver code under test is therefore the code
 * that runs on a device.
 *
 * Devices are identified by bus name and address text:
 *
 *   kind  bus example   address          models       quantities
 *   i2c   "i2c1"        "0x76"           bme280       temperature humidity pressure
 *                                        sht3x        temperature humidity
 *   spi   "spi0"        "0" (chip sel.)  mcp3008      ch0 .. ch7 (volts), vref
 *   w1    "wire0"       "28-000005e2fdc3" ds18b20     temperature
 *   gpio  "gpiochip0"   "17" (line)      gpio         level
 *
 * Faults (nano_sim_fault) make a device misbehave the way hardware does:
 *   NACK     I2C: not acknowledged.  SPI: MISO stuck high.  w1: read error.
 *   TIMEOUT  I2C/SPI: the transfer times out.  w1: the read never returns
 *            (w1_slave becomes a FIFO nobody writes) until cleared.
 *   CRC      the answer's checksum is wrong (SHT3x CRC-8, DS18B20 "NO").
 *            Devices without a checksum get flipped data bits.
 *   POWERON  the device answers with its power-on reset values (DS18B20
 *            85.000 C, BME280 0x80000 "no measurement").
 *   UNPLUG   gone from the bus (I2C NACK, SPI all ones, w1 directory
 *            removed); nano_sim_replug() brings it back in reset state.
 * For I2C and SPI a fault lasts `count` transactions (-1: until cleared);
 * file-based w1 faults last until cleared.
 *
 * The simulation is process-wide state for the loop thread.  Files for w1
 * live under $NANO_SIM_DIR, else $TMPDIR/nano-sim-<pid>; nano_sim_reset()
 * removes them.
 */
#ifndef NANO_HAL_SIM_H
#define NANO_HAL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct nano_cfg_node;
struct nano_json;

enum nano_sim_fault {
    NANO_SIM_FAULT_NONE = 0,
    NANO_SIM_FAULT_NACK,
    NANO_SIM_FAULT_TIMEOUT,
    NANO_SIM_FAULT_CRC,
    NANO_SIM_FAULT_POWERON,
    NANO_SIM_FAULT_UNPLUG,
};

/* "none", "nack", "timeout", "crc", "poweron", "unplug". */
const char *nano_sim_fault_name(enum nano_sim_fault f);
int nano_sim_fault_parse(const char *s, enum nano_sim_fault *out);

/* ---- devices ------------------------------------------------------------- */

/* Add an emulated device of model (table above) at addr on bus, creating
 * the bus.  Returns NANO_OK, NANO_EEXISTS (address taken), NANO_ENOTFOUND
 * (unknown model), -EINVAL (bad address, or a bus of another kind), or
 * -ENOMEM.  Copies the strings. */
int  nano_sim_add(const char *bus, const char *model, const char *addr);

/* Remove one device (NANO_ENOTFOUND if absent). */
int  nano_sim_remove(const char *bus, const char *addr);

/* Set / read a physical quantity of a device ("temperature", "ch3", ...).
 * NANO_OK, NANO_ENOTFOUND (no such device), -EINVAL (the model has no such
 * quantity), or -ERANGE (outside what the device can represent). */
int  nano_sim_set(const char *bus, const char *addr, const char *quantity,
                  double value);
int  nano_sim_get(const char *bus, const char *addr, const char *quantity,
                  double *out);

/* Inject a fault for count transactions (-1: until cleared); NONE clears.
 * UNPLUG is the same as nano_sim_unplug(). */
int  nano_sim_fault(const char *bus, const char *addr, enum nano_sim_fault f,
                    int count);
int  nano_sim_unplug(const char *bus, const char *addr);
int  nano_sim_replug(const char *bus, const char *addr);

/* Transactions the device has seen (I2C/SPI transfers addressed to it). */
uint64_t nano_sim_transactions(const char *bus, const char *addr);

/* Remove every emulated bus and device, close pseudo-terminals, delete the
 * w1 tree and unblock any reader stuck on a TIMEOUT fault. */
void nano_sim_reset(void);

/* ---- per-model helpers ----------------------------------------------------- */

/* BME280 at (bus, addr): physical environment (°C, %RH, hPa), which the
 * emulator turns into raw ADC values by inverting the datasheet's
 * compensation with its calibration; or raw ADC values directly. */
int  nano_sim_bme280_set_env(const char *bus, unsigned addr, double temp_c,
                             double hum_rh, double press_hpa);
int  nano_sim_bme280_set_raw(const char *bus, unsigned addr, uint32_t adc_t,
                             uint32_t adc_p, uint32_t adc_h);
/* Replace the calibration (the 26 bytes at 0x88 and the 7 at 0xE1). */
int  nano_sim_bme280_set_calib(const char *bus, unsigned addr,
                               const uint8_t cal1[26], const uint8_t cal2[7]);

/* I2C convenience: numeric address. */
int  nano_sim_i2c_set(const char *bus, unsigned addr, const char *quantity,
                      double value);
int  nano_sim_i2c_fault(const char *bus, unsigned addr, enum nano_sim_fault f,
                        int count);

/* ---- GPIO ------------------------------------------------------------------ */

/* Emulated chips ("gpiochip0", ...) exist on first use with
 * NANO_GPIO_SIM_LINES lines.  Set the physical level an input sees (queues
 * an edge event on a line requested with edge detection), or read the
 * physical level an output drives (-ENOENT: not requested as an output). */
int  nano_sim_gpio_set_input(const char *chip, unsigned line, int level);
int  nano_sim_gpio_get_output(const char *chip, unsigned line);
/* 1 when the line is requested by someone, 0 when free, -errno. */
int  nano_sim_gpio_requested(const char *chip, unsigned line);

/* ---- UART ------------------------------------------------------------------ */

/* Create (or find) the emulated port name: a pseudo-terminal pair whose
 * slave side "sim:<name>" opens.  *master_fd_out is the device end
 * (non-blocking, raw; Returns borrowed: owned by the registry until
 * nano_sim_reset or nano_sim_uart_remove).  Returns NANO_OK or -errno. */
int  nano_sim_uart_open(const char *name, int *master_fd_out);
int  nano_sim_uart_remove(const char *name);

/* Emulated Modbus RTU slaves on an emulated port (created if needed): a
 * thread answers function codes 1-6 on the master side.  Cells are named
 * "<table>.<address>" with table holding, input, coil or discrete; values
 * are raw 16-bit words (coils and discrete inputs 0/1).  Reading a cell
 * never set is exception 2.  The generic nano_sim_set/get/fault() reach the
 * same slaves with bus = port and addr = unit id ("1").
 * Returns NANO_OK, NANO_EEXISTS, NANO_ENOTFOUND, -EINVAL, -ERANGE. */
int  nano_sim_modbus_add(const char *port, unsigned unit);
int  nano_sim_modbus_remove(const char *port, unsigned unit);
int  nano_sim_modbus_set(const char *port, unsigned unit, const char *cell,
                         unsigned value);
int  nano_sim_modbus_get(const char *port, unsigned unit, const char *cell,
                         unsigned *value);
int  nano_sim_modbus_fault(const char *port, unsigned unit,
                           enum nano_sim_fault f, int count);
/* Requests answered (not counting silence under a fault). */
uint64_t nano_sim_modbus_served(const char *port, unsigned unit);

/* ---- 1-Wire ------------------------------------------------------------------ */

/* Directory of the emulated w1 bus (created on first use).  NANO_OK or -errno. */
int  nano_sim_w1_dir(const char *bus, char *out, size_t cap);

/* ---- the config file's `simulation:` section -------------------------------- */

/*
 * simulation:
 *   i2c1:                                 # bus name; drivers use sim:i2c1
 *     - { device: bme280, address: 0x76, temperature: 21.5, humidity: 40,
 *         pressure: 1013.25 }
 *     - { device: sht3x, address: 0x44, temperature: 20, humidity: 55 }
 *   spi0:
 *     - { device: mcp3008, cs: 0, vref: 3.3, ch0: 1.2, ch1: 2.5 }
 *   wire0:
 *     - { device: ds18b20, id: 28-000005e2fdc3, temperature: 76.0 }
 *   gpiochip0:
 *     - { device: gpio, line: 4, level: 1 }
 *   uart0:
 *     - { device: pty }                   # a port for sim:uart0
 *   uart1:                                # Modbus slaves answer on sim:uart1
 *     - { device: modbus, slave: 1, holding: { 0: 17254, 1: 32768 },
 *         input: { 5: 100 }, coil: { 3: 1 }, discrete: { 2: 0 } }
 * Each entry may also carry `fault: nack|timeout|crc|poweron|unplug`.
 *
 * nano_sim_config_validate() checks the section (NANO_OK or NANO_ESCHEMA
 * with d at the offending node).  nano_sim_config_apply() makes the
 * emulated devices match it: devices that exist with the same model keep
 * their state and take the listed values, new ones are added, ones no
 * longer listed are removed.  Apply before the device manager's config so
 * the first probes find their hardware.  NULL or null removes everything.
 */
int  nano_sim_config_validate(const struct nano_cfg_node *sim,
                              struct nano_diag *d);
int  nano_sim_config_apply(const struct nano_cfg_node *sim,
                           struct nano_diag *d);

/* Every emulated device with its values and faults, for the API:
 * [{"bus":..,"address":..,"model":..,"plugged":..,"fault":..,
 *   "values":{..}}, ...]. */
void nano_sim_write_json(struct nano_json *w);

#endif
