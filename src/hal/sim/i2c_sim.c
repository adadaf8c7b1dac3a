/* SPDX-License-Identifier: MIT
 *
 * i2c_sim.c - the emulated I2C back end: transfers addressed to emulator
 * register files (sim.c's registry) instead of an adapter.
 *
 * A handle holds only the bus name; each transfer looks its devices up, so
 * a device added, removed or unplugged between two transfers is seen at the
 * next one, as on a real bus.  One transfer is one transaction for fault
 * counting, whatever its number of messages.  An address nobody answers is
 * NANO_ENACK, like the kernel's -ENXIO/-EREMOTEIO.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct i2c_sim {
    struct nano_i2c base;          /* first: the public handle */
    char            bus[HAL_NAME_MAX];
};

static int
sim_transfer(struct nano_i2c *i2c, struct nano_i2c_msg *msgs, unsigned n)
{
    struct i2c_sim *s = (struct i2c_sim *)i2c;
    struct sim_dev *d, *seen = NULL;
    int rc;

    for (unsigned i = 0; i < n; i++) {
        d = sim__find(s->bus, SIM_I2C, msgs[i].addr);
        if (!d)
            return NANO_ENACK;
        if (d != seen) {
            seen = d;
            switch (sim__take_fault(d)) {
            case NANO_SIM_FAULT_NACK:
            case NANO_SIM_FAULT_UNPLUG:
                return NANO_ENACK;
            case NANO_SIM_FAULT_TIMEOUT:
                return NANO_ETIMEDOUT_DEV;
            case NANO_SIM_FAULT_POWERON:
                if (d->model->reset)
                    d->model->reset(d);
                break;
            case NANO_SIM_FAULT_CRC:     /* the model corrupts its answer */
            case NANO_SIM_FAULT_NONE:
                break;
            }
        }
        if (msgs[i].flags & NANO_I2C_M_RD)
            rc = d->model->i2c_read ? d->model->i2c_read(d, msgs[i].buf, msgs[i].len)
                                    : NANO_ENACK;
        else
            rc = d->model->i2c_write ? d->model->i2c_write(d, msgs[i].buf, msgs[i].len)
                                     : NANO_ENACK;
        if (rc != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

static void
sim_close(struct nano_i2c *i2c)
{
    nano_free(i2c);
}

static const struct hal_i2c_ops sim_ops = {
    .transfer = sim_transfer,
    .close    = sim_close,
};

int
hal__i2c_sim_open(const char *name, struct nano_i2c **out)
{
    struct i2c_sim *s;

    if (!sim__bus_exists(name, SIM_I2C))
        return -ENOENT;
    s = nano_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->base.ops = &sim_ops;
    snprintf(s->bus, sizeof s->bus, "%s", name);
    *out = &s->base;
    return NANO_OK;
}
