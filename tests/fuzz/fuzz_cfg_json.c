/* SPDX-License-Identifier: MIT
 *
 * fuzz_cfg_json.c - libFuzzer target for the JSON parser (config files,
 * API bodies, payloads).  See fuzz_cfg.h for what is checked.
 */
#include "fuzz_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cfg_one(nano_cfg_parse_json, data, size);
}
