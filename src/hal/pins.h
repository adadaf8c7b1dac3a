/* SPDX-License-Identifier: MIT
 *
 * pins.h - named GPIO pins from the config's `pins:` section: what rules
 * switch (`gpio.set(led_pin, HIGH)`), what `GET /v1/pins` lists and what
 * `nanoctl gpio get|set PIN` drives.
 *
 *   pins:
 *     led_pin:   { chip: gpiochip0, line: 17, direction: out, initial: low }
 *     relay:     { chip: gpiochip0, line: 27, direction: out, active_low: true }
 *     door:      { chip: gpiochip0, line: 22, direction: in, bias: pull-up }
 *     demo_led:  { chip: gpiochip0, line: 5, direction: out, sim: true }
 *
 * Keys (nano_pins_cfg_fields is the schema): chip (default gpiochip0; a
 * "sim:" prefix or `sim: true` selects the emulated chip), line (required),
 * direction in|out (default in: an input never drives anything by
 * surprise), initial low|high (outputs), active_low, bias
 * as-is|pull-up|pull-down|disabled, drive push-pull|open-drain|open-source
 * (outputs), edge both|rising|falling|none (inputs: which changes are
 * published; none means read on demand only), publish (default true),
 * description.  Pin names are identifiers ([A-Za-z_][A-Za-z0-9_]*, at most
 * 48 characters) because rules use them as such.
 *
 * Every change of a pin's level is published on the bus as `pins/<name>`
 * with a bool value (logical level: active_low applied), so rules and SSE
 * streams see outputs switched by anyone and inputs changed by the world.
 * Inputs publish from the line's edge-event fd, watched on the loop.
 *
 * Cost of a set: nano_pin_set() is one GPIO ioctl plus, when the level
 * changed, queuing an embedded deferred-work item that publishes after the
 * current callback returns; it allocates nothing.  nano_pins_set() adds a
 * name lookup (a short linear scan).
 *
 * Lifetime: pins are process-wide (one loop, one bus).  A struct nano_pin
 * stays valid until nano_pins_shutdown(): a pin removed from the config by
 * a reload becomes "not configured" (its set/get return NANO_ENOTFOUND)
 * rather than freed, so a rule that resolved it earlier never dangles.
 *
 * Context: loop thread only.
 */
#ifndef NANO_HAL_PINS_H
#define NANO_HAL_PINS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct nano_loop;
struct nano_bus;
struct nano_cfg_node;
struct nano_cfg_field;
struct nano_json;
struct nano_pin;

#define NANO_PIN_NAME_MAX 48

/* Schema of one pin's settings (the item of the `pins:` dictionary). */
extern const struct nano_cfg_field nano_pins_cfg_fields[];

/* Bind the pins to a loop and bus (before the first apply).  Keeps both
 * until nano_pins_shutdown().  Returns NANO_OK. */
int  nano_pins_init(struct nano_loop *loop, struct nano_bus *bus);

/* Release every line and forget every pin (outputs keep their level where
 * the hardware allows). */
void nano_pins_shutdown(void);

/* Check a `pins:` section (a map of name -> settings; NULL or null is an
 * empty section) without touching hardware: schema, names, and that no two
 * pins claim the same line.  NANO_OK or NANO_ESCHEMA with d filled. */
int  nano_pins_validate(const struct nano_cfg_node *pins, struct nano_diag *d);

/* Make the running pins match a validated section: unchanged pins keep
 * their line and level untouched (no glitch on reload), changed ones are
 * re-requested, removed ones released.  A pin whose line cannot be
 * requested (no such chip, line busy) stays listed with its error and is
 * skipped; the others are applied.  Returns NANO_OK when every pin is live,
 * else the first failure with d filled ("pin 'relay': gpiochip0 line 27:
 * Device or resource busy"). */
int  nano_pins_apply(const struct nano_cfg_node *pins, struct nano_diag *d);

/* ---- use ------------------------------------------------------------------- */

/* Returns borrowed (valid until nano_pins_shutdown) or NULL. */
struct nano_pin *nano_pins_find(const char *name);

/* Drive an output to level (!= 0 is HIGH).  NANO_OK, -EPERM for an input,
 * NANO_ENOTFOUND for a pin no longer configured, the error that kept the
 * line from being requested, or -errno from the GPIO.  Allocation-free. */
int  nano_pin_set(struct nano_pin *p, int level);
int  nano_pin_toggle(struct nano_pin *p);

/* Current logical level (0/1) or a negative error as above. */
int  nano_pin_get(struct nano_pin *p);

/* By name: as above, or NANO_ENOTFOUND for an unknown name. */
int  nano_pins_set(const char *name, int level);
int  nano_pins_toggle(const char *name);
int  nano_pins_get(const char *name, int *level_out);

/* ---- listing ----------------------------------------------------------------- */

struct nano_pin_info {
    const char *name;          /* Borrows: valid during the callback */
    const char *chip;
    const char *description;   /* NULL when none */
    unsigned    line;
    bool        output;
    bool        active_low;
    bool        live;          /* the line is requested and usable */
    int         level;         /* 0/1, or -1 when not live */
    int         error;         /* why not live (negative), else 0 */
    uint64_t    changes;       /* level changes published */
};

typedef void nano_pins_each_fn(void *arg, const struct nano_pin_info *info);

/* Configured pins in config order. */
void nano_pins_foreach(nano_pins_each_fn *fn, void *arg);
unsigned nano_pins_count(void);

/* [{"name":..,"chip":..,"line":..,"direction":"out","active_low":false,
 *   "level":1,"state":"ok"|"error","error":..,"changes":N}, ...] */
void nano_pins_write_json(struct nano_json *w);

/* One pin as above, or NANO_ENOTFOUND. */
int  nano_pins_write_one(const char *name, struct nano_json *w);

#endif
