/* SPDX-License-Identifier: MIT
 *
 * test_load.c - the loader rejects malformed and invalid modules with a
 * message and the offending byte offset, accepts valid ones, honours the
 * 1.0 feature switch, and reports imports and exports.
 */
#include <errno.h>

#include "harness/nt.h"
#include "wasm/wasm.h"
#include "wasm_asm.h"

static int
load(const uint8_t *b, size_t n, const struct nano_wasm_limits *lim,
     struct nano_wasm_error *err)
{
    struct nano_wasm_module *mod = NULL;
    int rc;

    memset(err, 0, sizeof *err);
    rc = nano_wasm_module_load(b, n, lim, &mod, err);
    if (rc == 0)
        NT_CHECK(mod != NULL);
    else
        NT_CHECK(mod == NULL);
    nano_wasm_module_free(mod);
    return rc;
}

static void
test_malformed_rejected_with_offset(void)
{
    static const uint8_t bad_magic[] = { 0, 'a', 's', 'n', 1, 0, 0, 0 };
    static const uint8_t bad_version[] = { 0, 'a', 's', 'm', 2, 0, 0, 0 };
    static const uint8_t truncated[] = { 0, 'a', 's', 'm', 1, 0, 0 };
    /* type section claims 5 bytes, has 3 */
    static const uint8_t short_section[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0 };
    /* a type section with one type, then junk inside the section */
    static const uint8_t long_section[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 0, 0xff
    };
    /* LEB128 count using 6 bytes */
    static const uint8_t long_leb[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0, 1, 7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0
    };
    /* unknown section id 14 */
    static const uint8_t bad_id[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 14, 0 };
    /* sections out of order: function (3) before type (1) */
    static const uint8_t order[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 3, 1, 0, 1, 1, 0 };
    struct nano_wasm_error err;

    NT_EQ_INT(load(bad_magic, sizeof bad_magic, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "magic header not detected");
    NT_EQ_INT(err.offset, 0);
    NT_EQ_INT(load(bad_version, sizeof bad_version, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "unknown binary version");
    NT_EQ_INT(err.offset, 4);
    NT_EQ_INT(load(truncated, sizeof truncated, NULL, &err), -EINVAL);
    NT_EQ_INT(load(short_section, sizeof short_section, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "length out of bounds");
    NT_EQ_INT(err.offset, 9);
    NT_EQ_INT(load(long_section, sizeof long_section, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "section size mismatch");
    NT_EQ_INT(err.offset, 14);
    NT_EQ_INT(load(long_leb, sizeof long_leb, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "integer representation too long");
    NT_EQ_INT(err.offset, 10);
    NT_EQ_INT(load(bad_id, sizeof bad_id, NULL, &err), -EINVAL);
    NT_EQ_STR(err.msg, "malformed section id");
    NT_EQ_INT(err.offset, 8);
    NT_EQ_INT(load(order, sizeof order, NULL, &err), -EINVAL);
    NT_EQ_INT(load(NULL, 0, NULL, &err), -EINVAL);
}

static void
test_invalid_rejected_with_message(void)
{
    /* (func (result i32) (i64.const 0)) : wrong result type */
    static const uint8_t wrong_result[] = { W_I64_CONST, 0, W_END };
    /* (func (i32.add (i32.const 1))) : missing operand */
    static const uint8_t underflow[] = { W_I32_CONST, 1, W_I32_ADD, W_DROP, W_END };
    /* (func (local.get 5)) : no such local */
    static const uint8_t bad_local[] = { W_LOCAL_GET, 5, W_DROP, W_END };
    /* (func (br 3)) : no such label */
    static const uint8_t bad_label[] = { W_BR, 3, W_END };
    /* (func (i32.load (i32.const 0))) without a memory */
    static const uint8_t no_mem[] = { W_I32_CONST, 0, W_I32_LOAD, 2, 0, W_DROP, W_END };
    /* (func) missing its end */
    static const uint8_t no_end[] = { W_NOP };
    /* unknown opcode 0xff */
    static const uint8_t bad_op[] = { 0xff, W_END };
    static const struct {
        const uint8_t *code;
        size_t len;
        const char *sig, *msg;
    } cases[] = {
        { wrong_result, sizeof wrong_result, "()i", "type mismatch" },
        { underflow, sizeof underflow, "()", "type mismatch" },
        { bad_local, sizeof bad_local, "()", "unknown local 5" },
        { bad_label, sizeof bad_label, "()", "unknown label" },
        { no_mem, sizeof no_mem, "()", "unknown memory 0" },
        { no_end, sizeof no_end, "()", "unexpected end of section or function" },
        { bad_op, sizeof bad_op, "()", "illegal opcode" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wa_func f = { cases[i].sig, NULL, cases[i].code, cases[i].len, "f" };
        struct wa_module m = { .funcs = &f, .nfuncs = 1 };
        struct wa_buf bin;
        struct nano_wasm_error err;

        wa_build(&m, &bin);
        NT_MSG("case %zu", i);
        NT_EQ_INT(load(bin.d, bin.n, NULL, &err), -EINVAL);
        NT_EQ_STR(err.msg, cases[i].msg);
        /* the offset points into the code section, at the function body */
        NT_CHECK(err.offset > 20 && err.offset <= bin.n);
    }
}

static void
test_valid_module_and_info(void)
{
    static const uint8_t add_code[] = {
        W_LOCAL_GET, 0, W_LOCAL_GET, 1, W_I32_ADD, W_END
    };
    static const struct wa_import im[] = { { "nano", "log", "(ii)" } };
    static const struct wa_func f[] = {
        WA_FUNC("(ii)i", NULL, add_code, "add"),
    };
    struct wa_module m = { .imports = im, .nimports = 1, .funcs = f, .nfuncs = 1,
                           .memory = 1, .mem_min = 1, .mem_max = 2, .globals = "I" };
    struct nano_wasm_module *mod;
    struct nano_wasm_extern_info info;
    struct nano_wasm_error err;
    struct wa_buf bin;
    char sig[32];

    wa_build(&m, &bin);
    NT_ASSERT(nano_wasm_module_load(bin.d, bin.n, NULL, &mod, &err) == 0);
    NT_EQ_INT(nano_wasm_module_import_count(mod), 1);
    NT_EQ_INT(nano_wasm_module_import(mod, 0, &info), 0);
    NT_EQ_INT(info.kind, NANO_WASM_EXTERN_FUNC);
    NT_EQ_STR(info.module, "nano");
    NT_EQ_STR(info.name, "log");
    NT_EQ_STR(nano_wasm_sig_string(&info, sig, sizeof sig), "(ii)");
    NT_EQ_INT(nano_wasm_module_import(mod, 1, &info), -ENOENT);
    NT_EQ_INT(nano_wasm_module_export_count(mod), 3);
    NT_EQ_INT(nano_wasm_module_export(mod, 0, &info), 0);
    NT_EQ_STR(info.name, "add");
    NT_EQ_STR(nano_wasm_sig_string(&info, sig, sizeof sig), "(ii)i");
    NT_EQ_INT(nano_wasm_module_export(mod, 1, &info), 0);
    NT_EQ_INT(info.kind, NANO_WASM_EXTERN_MEMORY);
    NT_EQ_INT(info.min, 1);
    NT_EQ_INT(info.max, 2);
    NT_EQ_INT(nano_wasm_module_export(mod, 2, &info), 0);
    NT_EQ_INT(info.kind, NANO_WASM_EXTERN_GLOBAL);
    NT_EQ_INT(info.type, NANO_WASM_I64);
    NT_EQ_INT(info.mut, 1);
    nano_wasm_module_free(mod);
}

static void
test_features_can_be_switched_off(void)
{
    /* (func (result i32) (i32.extend8_s (i32.const 0x80))) - sign extension */
    static const uint8_t ext_code[] = { W_I32_CONST, 0x80, 0x01, 0xc0, W_END };
    /* (func (result i32 i32) ...) - multi-value */
    static const uint8_t two_code[] = { W_I32_CONST, 1, W_I32_CONST, 2, W_END };
    struct wa_func f1 = WA_FUNC("()i", NULL, ext_code, "f");
    struct wa_func f2 = WA_FUNC("()ii", NULL, two_code, "f");
    struct wa_module m = { .funcs = &f1, .nfuncs = 1 };
    struct nano_wasm_limits mvp = { .features_off = NANO_WASM_FEAT_ALL };
    struct nano_wasm_error err;
    struct wa_buf bin;

    wa_build(&m, &bin);
    NT_EQ_INT(load(bin.d, bin.n, NULL, &err), 0);
    NT_EQ_INT(load(bin.d, bin.n, &mvp, &err), -EINVAL);
    NT_EQ_STR(err.msg, "illegal opcode");
    m.funcs = &f2;
    wa_build(&m, &bin);
    NT_EQ_INT(load(bin.d, bin.n, NULL, &err), 0);
    NT_EQ_INT(load(bin.d, bin.n, &mvp, &err), -EINVAL);
    NT_EQ_STR(err.msg, "invalid result arity");
}

static void
test_too_many_locals(void)
{
    /* one local group of 1,000,000 i32: over the implementation limit */
    static const uint8_t bin[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        1, 4, 1, 0x60, 0, 0,                   /* type () -> () */
        3, 2, 1, 0,                            /* one function */
        10, 8, 1, 6, 1, 0xc0, 0x84, 0x3d, 0x7f, W_END,
    };
    struct nano_wasm_error err;

    NT_EQ_INT(load(bin, sizeof bin, NULL, &err), -E2BIG);
    NT_EQ_STR(err.msg, "too many locals");
}

NT_LIST = {
    { "malformed_rejected_with_offset", test_malformed_rejected_with_offset },
    { "invalid_rejected_with_message",  test_invalid_rejected_with_message },
    { "valid_module_and_info",          test_valid_module_and_info },
    { "features_can_be_switched_off",   test_features_can_be_switched_off },
    { "too_many_locals",                test_too_many_locals },
    { NULL, NULL }
};
