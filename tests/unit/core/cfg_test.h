/* SPDX-License-Identifier: MIT
 *
 * cfg_test.h - helpers shared by the test_cfg*.c files (include once, after
 * harness/nt.h): parse and report the formatted diagnostic, dump a tree to a
 * string, and ask LeakSanitizer about leaks at a chosen point.
 *
 * Tests run in a child that ends with _exit(), which skips LeakSanitizer's
 * exit-time check, so tests that care call CFG_CHECK_NO_LEAKS() themselves.
 */
#ifndef NANO_TEST_CFG_TEST_H
#define NANO_TEST_CFG_TEST_H

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define CFG_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CFG_HAVE_LSAN 1
#endif
#endif

#ifdef CFG_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define CFG_CHECK_NO_LEAKS() NT_CHECK(__lsan_do_recoverable_leak_check() == 0)
#else
#define CFG_CHECK_NO_LEAKS() ((void)0)
#endif

enum { CFG_JSON, CFG_YAML };

static inline int
cfg_parse(int lang, const char *text, const char *origin,
          struct nano_cfg_doc **doc, struct nano_diag *d)
{
    size_t len = strlen(text);

    return lang == CFG_JSON ? nano_cfg_parse_json(text, len, origin, doc, d)
                            : nano_cfg_parse_yaml(text, len, origin, doc, d);
}

/* Parse text and return the formatted diagnostic ("origin:l:c: msg"), or
 * "OK" when it parsed.  *rc_out (if given) gets the return code.  The
 * string lives in a static buffer until the next call. */
static inline const char *
cfg_err(int lang, const char *text, const char *origin, int *rc_out)
{
    static char out[NANO_DIAG_MSG_MAX + 128];
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    int rc;

    memset(&d, 0, sizeof d);
    rc = cfg_parse(lang, text, origin, &doc, &d);
    if (rc_out)
        *rc_out = rc;
    if (rc == NANO_OK) {
        nano_cfg_free(doc);
        return "OK";
    }
    if (doc)
        return "error, but a document was returned";
    return nano_diag_format(&d, out, sizeof out);
}

/* Dump of n as a heap string (free()), "" for NULL. */
static inline char *
cfg_dump_str(const struct nano_cfg_node *n)
{
    struct nano_buf b;
    char *s;

    if (!n)
        return strdup("");
    nano_buf_init(&b, 1u << 24);
    if (nano_cfg_dump(n, &b) != NANO_OK) {
        nano_buf_free(&b);
        return strdup("(dump failed)");
    }
    s = strdup(b.data ? b.data : "");
    nano_buf_free(&b);
    return s;
}

static inline char *
cfg_json_str(const struct nano_cfg_node *n)
{
    struct nano_buf b;
    char *s;

    nano_buf_init(&b, 1u << 24);
    if (nano_cfg_to_json(n, &b) != NANO_OK) {
        nano_buf_free(&b);
        return strdup("(to_json failed)");
    }
    s = strdup(b.data ? b.data : "");
    nano_buf_free(&b);
    return s;
}

/* Dump of a parsed text ("parse error: ..." when it does not parse). */
static inline char *
cfg_parse_dump(int lang, const char *text)
{
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    char *s;

    memset(&d, 0, sizeof d);
    if (cfg_parse(lang, text, "t", &doc, &d) != NANO_OK) {
        char msg[NANO_DIAG_MSG_MAX + 128], *r;
        nano_diag_format(&d, msg, sizeof msg);
        r = malloc(strlen(msg) + 16);
        strcpy(r, "parse error: ");
        strcat(r, msg);
        return r;
    }
    s = cfg_dump_str(nano_cfg_root(doc));
    nano_cfg_free(doc);
    return s;
}

/* An expected error: the input, the formatted message, the return code. */
struct cfg_bad {
    const char *text;
    const char *msg;
    int         rc;
};

static inline void
cfg_check_bad(int lang, const struct cfg_bad *cases, size_t n, const char *origin)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        const char *got = cfg_err(lang, cases[i].text, origin, &rc);

        NT_MSG("case %zu: %s", i, cases[i].text);
        NT_EQ_STR(got, cases[i].msg);
        NT_EQ_INT(rc, cases[i].rc);
    }
    nt_msgbuf[0] = '\0';
}

#endif
