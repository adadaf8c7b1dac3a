/* SPDX-License-Identifier: MIT
 *
 * abi.c - does a module fit the host interface?  nano_sandbox_check() loads
 * a module with the engine (decode, validate, compile) and compares its
 * imports and exports with SB_IMPORTS (sandbox_int.h), so both `nanoctl
 * sandbox build` and the daemon reject a module with a sentence that names
 * the import or export at fault, before anything is linked.
 *
 * This file depends on the engine and core's buffers only, so nanoctl can
 * link it without the rest of the sandbox.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "sandbox/sandbox_int.h"

static const struct {
    const char *name, *sig;
} abi_imports[] = {
#define SB_ROW(n, sig) { #n, sig },
    SB_IMPORTS(SB_ROW)
#undef SB_ROW
};

static bool
name_is(const struct nano_wasm_extern_info *x, const char *s)
{
    return x->name_len == strlen(s) && memcmp(x->name, s, x->name_len) == 0;
}

/* Printable form of a wasm name (they may hold any byte). */
static const char *
shown(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
    }
    out[k] = '\0';
    return out;
}

static int
check_import(const struct nano_wasm_extern_info *x, struct nano_buf *report,
             struct nano_diag *d)
{
    char mod[64], name[64], sig[32];

    shown(x->module, x->module_len, mod, sizeof mod);
    shown(x->name, x->name_len, name, sizeof name);
    if (x->module_len != 4 || memcmp(x->module, "nano", 4) != 0) {
        if (!strncmp(mod, "wasi", 4))
            return nano_diag_set(d, -EINVAL, 0, 0, "import %s.%s: the module "
                                 "was built against WASI (printf, malloc from "
                                 "wasi-libc pulled it in?); Nano offers only "
                                 "the imports of module 'nano'", mod, name);
        return nano_diag_set(d, -EINVAL, 0, 0, "import %s.%s: Nano offers "
                             "only the imports of module 'nano' (see "
                             "docs/wasm-abi.md)", mod, name);
    }
    if (x->kind != NANO_WASM_EXTERN_FUNC)
        return nano_diag_set(d, -EINVAL, 0, 0, "import nano.%s: only functions "
                             "are imported from 'nano' (the module must define "
                             "its own memory)", name);
    nano_wasm_sig_string(x, sig, sizeof sig);
    for (size_t i = 0; i < NANO_ARRAY_LEN(abi_imports); i++) {
        if (!name_is(x, abi_imports[i].name))
            continue;
        if (strcmp(sig, abi_imports[i].sig) != 0)
            return nano_diag_set(d, -EINVAL, 0, 0, "import nano.%s has type %s, "
                                 "expected %s", name, sig, abi_imports[i].sig);
        if (report)
            nano_buf_printf(report, "import  nano.%-14s %s\n", name, sig);
        return NANO_OK;
    }
    return nano_diag_set(d, -EINVAL, 0, 0, "import nano.%s: no such host "
                         "function (see docs/wasm-abi.md)", name);
}

static int
check_export(const struct nano_wasm_extern_info *x, unsigned *inbox_parts,
             struct nano_buf *report, struct nano_diag *d)
{
    char sig[32];
    const char *want = NULL, *also = NULL;

    if (name_is(x, "on_message"))
        want = SB_ON_MESSAGE_SIG;
    else if (name_is(x, "init"))
        want = "()", also = "()i";
    else if (name_is(x, "nano_inbox") || name_is(x, "nano_inbox_size"))
        want = "()i";
    if (!want)
        return NANO_OK;                 /* exports of its own: not ours */
    if (x->kind != NANO_WASM_EXTERN_FUNC)
        return nano_diag_set(d, -EINVAL, 0, 0, "export '%.*s' must be a "
                             "function", (int)x->name_len, x->name);
    nano_wasm_sig_string(x, sig, sizeof sig);
    if (strcmp(sig, want) != 0 && (!also || strcmp(sig, also) != 0))
        return nano_diag_set(d, -EINVAL, 0, 0, "export '%.*s' has type %s, "
                             "expected %s%s%s", (int)x->name_len, x->name, sig,
                             want, also ? " or " : "", also ? also : "");
    if (name_is(x, "nano_inbox"))
        *inbox_parts |= 1;
    if (name_is(x, "nano_inbox_size"))
        *inbox_parts |= 2;
    if (report)
        nano_buf_printf(report, "export  %-19.*s %s\n", (int)x->name_len,
                        x->name, sig);
    return NANO_OK;
}

int
nano_sandbox_check(const uint8_t *wasm, size_t len, struct nano_buf *report,
                   struct nano_diag *d)
{
    struct nano_wasm_module *mod = NULL;
    struct nano_wasm_error err;
    struct nano_wasm_extern_info x;
    unsigned inbox = 0;
    int rc;

    if (len > NANO_SANDBOX_MODULE_MAX)
        return nano_diag_set(d, -E2BIG, 0, 0, "module of %zu bytes is over "
                             "the limit of %u", len, NANO_SANDBOX_MODULE_MAX);
    rc = nano_wasm_module_load(wasm, len, NULL, &mod, &err);
    if (rc != 0)
        return nano_diag_set(d, rc == -ENOMEM ? -ENOMEM : -EINVAL, 0, 0,
                             "invalid module at byte %zu: %s", err.offset,
                             err.msg);
    for (size_t i = 0; rc == NANO_OK &&
                       nano_wasm_module_import(mod, i, &x) == 0; i++)
        rc = check_import(&x, report, d);
    for (size_t i = 0; rc == NANO_OK &&
                       nano_wasm_module_export(mod, i, &x) == 0; i++)
        rc = check_export(&x, &inbox, report, d);
    if (rc == NANO_OK && (inbox == 1 || inbox == 2))
        rc = nano_diag_set(d, -EINVAL, 0, 0, "the module exports %s without "
                           "%s: the inbox needs both", inbox == 1 ?
                           "nano_inbox" : "nano_inbox_size", inbox == 1 ?
                           "nano_inbox_size" : "nano_inbox");
    nano_wasm_module_free(mod);
    return rc;
}
