/* SPDX-License-Identifier: MIT
 *
 * fuzz_sandbox.c - libFuzzer target: any bytes as a Nano service.  Each
 * input is checked against the host interface (sandbox/abi.c); one that
 * passes is loaded into a sandbox with every grant, given a number and a
 * text message, and unloaded.  Whatever the module does with the imports
 * - wild pointers, huge lengths, bad JSON, endless loops - must end in an
 * error code or a counted trap, never a crash, a leak or a sanitizer
 * report.  The corpus starts from the example filter.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/msg.h"
#include "sandbox/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char settings_json[] =
    "{\"subscribe\":\"in/#\",\"fuel\":20000,\"deadline\":0,\"max_faults\":64,"
    "\"kv_max\":512,\"max_publish\":8,"
    "\"grants\":{\"publish\":\"#\",\"read\":\"#\",\"pins\":\"led\"}}";

static int
no_pins(void *arg, const char *pin, int level)
{
    (void)arg; (void)pin; (void)level;
    return NANO_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nano_loop *loop;
    static struct nano_bus *bus;
    static struct nano_sandbox *sb;
    static struct nano_cfg_doc *settings;
    struct nano_diag d = { 0 };
    struct nano_buf report;
    struct nano_value v;

    if (!loop) {
        nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT,
                           open("/dev/null", O_WRONLY));
        if (nano_loop_new(&loop) || nano_bus_new(loop, &bus) ||
            nano_sandbox_new(loop, bus, NULL, &sb) ||
            nano_cfg_parse_json(settings_json, strlen(settings_json), "fuzz",
                                &settings, NULL))
            return 0;
        nano_sandbox_set_pin_hook(sb, no_pins, NULL);
        v = nano_value_num(70, NULL);
        nano_bus_publish_value(bus, "sensors/boiler/temperature", &v);
    }
    nano_buf_init(&report, 1 << 16);
    nano_sandbox_check(data, size, &report, &d);
    nano_buf_free(&report);
    if (nano_sandbox_load(sb, "f", nano_cfg_root(settings), data, size, &d)
        != NANO_OK)
        return 0;
    v = nano_value_num(21.5, NULL);
    nano_bus_publish_value(bus, "in/n", &v);
    v = nano_value_str("{\"a\":[1,2]}", 11);
    v.type = NANO_VT_JSON;
    nano_bus_publish_value(bus, "in/j", &v);
    for (int i = 0; i < 8 && nano_loop_run_once(loop, 0) > 0; i++)
        ;
    nano_sandbox_unload(sb, "f");
    return 0;
}
