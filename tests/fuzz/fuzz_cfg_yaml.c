/* SPDX-License-Identifier: MIT
 *
 * fuzz_cfg_yaml.c - libFuzzer target for the YAML front end (libyaml events
 * into the config tree).  See fuzz_cfg.h for what is checked; the JSON
 * round trip also proves every YAML tree is representable as JSON.
 */
#include "fuzz_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cfg_one(nano_cfg_parse_yaml, data, size);
}
