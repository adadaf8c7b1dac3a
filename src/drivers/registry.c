/* SPDX-License-Identifier: MIT
 *
 * registry.c - the table of drivers compiled into this build, generated from
 * the profile's DRIVERS list (gen/drivers.def), and the names of every driver
 * Nano has (NANO_DRIVERS_ALL) so a config naming one that a small build left
 * out gets "not in this build" rather than "unknown".
 */
#include <string.h>

#include "drivers/driver.h"
#include "nano_config.h"

#define NANO_DRIVER(n) extern const struct nano_driver nano_driver_##n;
#include "drivers.def"
#undef NANO_DRIVER

const struct nano_driver *const nano_drivers[] = {
#define NANO_DRIVER(n) &nano_driver_##n,
#include "drivers.def"
#undef NANO_DRIVER
    NULL
};

const struct nano_driver *
nano_driver_find(const char *name)
{
    for (const struct nano_driver *const *d = nano_drivers; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}

bool
nano_driver_known_elsewhere(const char *name)
{
    const char *all = NANO_DRIVERS_ALL;
    size_t n = strlen(name);

    for (const char *p = all; *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return nano_driver_find(name) == NULL;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

const char *
nano_param_type_name(enum nano_param_type t)
{
    switch (t) {
    case NANO_PT_STR:      return "string";
    case NANO_PT_INT:      return "integer";
    case NANO_PT_NUM:      return "number";
    case NANO_PT_BOOL:     return "bool";
    case NANO_PT_DURATION: return "duration";
    case NANO_PT_ENUM:     return "choice";
    case NANO_PT_NODE:     return "map";
    }
    return "?";
}
