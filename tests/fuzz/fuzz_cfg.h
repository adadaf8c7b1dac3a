/* SPDX-License-Identifier: MIT
 *
 * fuzz_cfg.h - the body shared by fuzz_cfg_json.c and fuzz_cfg_yaml.c.
 *
 * For any input: a failed parse must return no document and a message with
 * a position when it is a syntax error.  A successful parse must survive
 * every reader (typed reads, path lookup, validation against a schema of
 * every field type) and round-trip: its JSON output must parse again and
 * dump exactly as the original, and so must a deep copy.  Any broken
 * promise aborts, which libFuzzer reports as a crash.
 */
#ifndef NANO_FUZZ_CFG_H
#define NANO_FUZZ_CFG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cfg.h"

#define FUZZ_MUST(cond, what)                                              \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "broken promise: %s (%s)\n", what, #cond);     \
            abort();                                                       \
        }                                                                  \
    } while (0)

typedef int fuzz_parse_fn(const char *text, size_t len, const char *origin,
                          struct nano_cfg_doc **doc_out, struct nano_diag *d);

static const char *const fz_choices[] = { "a", "info", "out", NULL };

static int
fz_check(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return n->count > 3 ? nano_cfg_error(n, d, "too many: %zu", n->count)
                        : NANO_OK;
}

static const struct nano_cfg_field fz_leaf_fields[] = {
    { .key = "s", .type = NANO_CFGT_STR, .required = true },
    { .key = "n", .type = NANO_CFGT_NUM, .min = -1, .max = 1 },
    { .key = "i", .type = NANO_CFGT_INT, .min = 0, .max = 1023 },
    { .key = "b", .type = NANO_CFGT_BOOL },
    { .key = "d", .type = NANO_CFGT_DURATION, .min = 0.1, .max = 60 },
    { .key = "e", .type = NANO_CFGT_ENUM, .choices = fz_choices },
    { .key = "x", .type = NANO_CFGT_ANY, .check = fz_check },
    { .key = "t", .type = NANO_CFGT_STR_OR_LIST },
    { 0 }
};
static const struct nano_cfg_field fz_leaf = {
    .type = NANO_CFGT_MAP, .fields = fz_leaf_fields, .check = fz_check,
};
static const struct nano_cfg_field fz_open = {
    .type = NANO_CFGT_MAP, .fields = fz_leaf_fields, .open = true,
};
static const struct nano_cfg_field fz_top_fields[] = {
    { .key = "a", .type = NANO_CFGT_MAP, .fields = fz_leaf_fields },
    { .key = "devices", .type = NANO_CFGT_DICT, .item = &fz_leaf,
      .noun = "device" },
    { .key = "list", .type = NANO_CFGT_LIST, .item = &fz_open },
    { .key = "plain", .type = NANO_CFGT_LIST, .item = &fz_leaf_fields[0] },
    { 0 }
};
static const struct nano_cfg_field fz_schema = {
    .type = NANO_CFGT_MAP, .fields = fz_top_fields,
};

static void
fz_dump(const struct nano_cfg_node *n, struct nano_buf *b)
{
    nano_buf_init(b, 64u << 20);
    FUZZ_MUST(nano_cfg_dump(n, b) == NANO_OK, "dump of a parsed tree");
}

/* Every typed read on every node: results vary, crashes must not. */
static void
fz_read_all(const struct nano_cfg_node *root)
{
    const struct nano_cfg_node *n = root;
    struct nano_diag d;
    char out[NANO_DIAG_MSG_MAX + 64];

    for (;;) {
        const char *s;
        double v;
        int64_t i;
        bool b;
        uint64_t ns;

        memset(&d, 0, sizeof d);
        if (nano_cfg_as_str(n, &s, &d) == NANO_OK)
            FUZZ_MUST(strlen(s) == n->len, "as_str refuses embedded NUL");
        else
            FUZZ_MUST(d.msg[0], "as_str explains");
        (void)nano_cfg_as_num(n, &v, &d);
        (void)nano_cfg_as_int(n, -5, 5, &i, &d);
        (void)nano_cfg_as_bool(n, &b, &d);
        (void)nano_cfg_as_duration(n, &ns, &d);
        nano_diag_format(&d, out, sizeof out);
        if (n->key)
            FUZZ_MUST(nano_cfg_get(n->parent, n->key) != NULL, "get finds a key");
        if (n->child) {
            n = n->child;
            continue;
        }
        while (n != root && !n->next)
            n = n->parent;
        if (n == root)
            break;
        n = n->next;
    }
    (void)nano_cfg_path(root, "a.s");
    (void)nano_cfg_path(root, "list.0.s");
    (void)nano_cfg_path(root, "0");
}

static int
fuzz_cfg_one(fuzz_parse_fn *parse, const uint8_t *data, size_t size)
{
    struct nano_cfg_doc *doc = (struct nano_cfg_doc *)&doc, *back = NULL, *cp;
    struct nano_buf d1, d2, json;
    struct nano_diag d;
    char out[NANO_DIAG_MSG_MAX + 64];
    int rc;

    memset(&d, 0, sizeof d);
    rc = parse((const char *)data, size, "fuzz", &doc, &d);
    if (rc != NANO_OK) {
        FUZZ_MUST(doc == NULL, "no document on error");
        FUZZ_MUST(rc == NANO_EPARSE || rc == -E2BIG || rc == -ENOMEM,
                  "documented error codes only");
        FUZZ_MUST(d.msg[0] != '\0', "an error has a message");
        FUZZ_MUST(rc != NANO_EPARSE || d.line >= 1, "syntax errors have a line");
        FUZZ_MUST(strcmp(d.origin, "fuzz") == 0, "origin set");
        nano_diag_format(&d, out, sizeof out);
        return 0;
    }
    FUZZ_MUST(doc && nano_cfg_root(doc), "a document has a root");

    fz_read_all(nano_cfg_root(doc));
    memset(&d, 0, sizeof d);
    rc = nano_cfg_validate_doc(doc, &fz_schema, NULL, NULL, &d);
    FUZZ_MUST(rc == NANO_OK || (rc == NANO_ESCHEMA && d.msg[0]),
              "validation passes or explains");

    fz_dump(nano_cfg_root(doc), &d1);

    nano_buf_init(&json, 64u << 20);
    FUZZ_MUST(nano_cfg_to_json(nano_cfg_root(doc), &json) == NANO_OK, "to_json");
    rc = nano_cfg_parse_json(json.data, json.len, "rt", &back, &d);
    if (rc != NANO_OK)
        fprintf(stderr, "re-parse: %s\njson: %.*s\n",
                nano_diag_format(&d, out, sizeof out), (int)json.len, json.data);
    FUZZ_MUST(rc == NANO_OK, "to_json output parses as JSON");
    fz_dump(nano_cfg_root(back), &d2);
    if (d1.len != d2.len || memcmp(d1.data, d2.data, d1.len) != 0)
        fprintf(stderr, "before:\n%s\nafter:\n%s\n", d1.data, d2.data);
    FUZZ_MUST(d1.len == d2.len && memcmp(d1.data, d2.data, d1.len) == 0,
              "JSON round trip keeps the tree");
    nano_cfg_free(back);
    nano_buf_free(&d2);

    /* a deep copy is the same tree, and does not depend on the original */
    cp = nano_cfg_new("copy");
    FUZZ_MUST(cp, "new");
    FUZZ_MUST(nano_cfg_copy(cp, nano_cfg_root(cp), "c", nano_cfg_root(doc)),
              "copy");
    nano_cfg_free(doc);
    fz_dump(nano_cfg_root(cp)->child, &d2);
    FUZZ_MUST(d1.len == d2.len && memcmp(d1.data, d2.data, d1.len) == 0,
              "a copy dumps the same");
    nano_cfg_unlink(nano_cfg_root(cp)->child);
    FUZZ_MUST(nano_cfg_root(cp)->count == 0, "unlink");
    nano_cfg_free(cp);

    nano_buf_free(&d1);
    nano_buf_free(&d2);
    nano_buf_free(&json);
    return 0;
}

#endif
