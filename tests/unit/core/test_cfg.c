/* SPDX-License-Identifier: MIT
 *
 * test_cfg.c - the document side of cfg.h: building trees in code (add,
 * copy, unlink), lookup, typed reads and their messages, JSON output and
 * its round trip through the parser, bounded output buffers, loading real
 * files, and clean failure at every allocation while building.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/mem.h"

#include "cfg_test.h"

static struct nano_cfg_doc *
parse_yaml(const char *text)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char msg[400];

    memset(&d, 0, sizeof d);
    if (nano_cfg_parse_yaml(text, strlen(text), "t.yaml", &doc, &d) != NANO_OK) {
        nt_fail(__FILE__, __LINE__, "parse failed: %s",
                nano_diag_format(&d, msg, sizeof msg));
        exit(1);
    }
    return doc;
}

/* ---- building -------------------------------------------------------------- */

static void
test_build(void)
{
    struct nano_cfg_doc *doc = nano_cfg_new("api");
    struct nano_cfg_node *root, *log, *pins, *n;
    char level[8] = "info";
    char *s;

    NT_ASSERT(doc);
    root = nano_cfg_root(doc);
    NT_CHECK(root->kind == NANO_CFG_MAP && root->count == 0);
    NT_EQ_INT(root->line, 0);
    NT_EQ_STR(nano_cfg_origin(doc), "api");

    log = nano_cfg_add(doc, root, "log", NANO_CFG_MAP, NULL, false);
    NT_ASSERT(log);
    n = nano_cfg_add(doc, log, "level", NANO_CFG_SCALAR, level, true);
    NT_ASSERT(n);
    strcpy(level, "XXXX");                  /* the document made its own copy */
    NT_EQ_STR(n->str, "info");
    NT_EQ_INT(n->len, 4);
    NT_CHECK(n->quoted && n->parent == log);
    pins = nano_cfg_add(doc, root, "pins", NANO_CFG_LIST, NULL, false);
    NT_CHECK(nano_cfg_add(doc, pins, NULL, NANO_CFG_SCALAR, "17", false) != NULL);
    NT_CHECK(nano_cfg_add(doc, pins, NULL, NANO_CFG_NULL, NULL, false) != NULL);
    n = nano_cfg_add(doc, pins, NULL, NANO_CFG_SCALAR, NULL, true);
    NT_ASSERT(n);
    NT_EQ_STR(n->str, "");
    NT_EQ_INT(pins->count, 3);
    NT_CHECK(pins->last == n && pins->child->key == NULL);

    /* misuse returns NULL and changes nothing */
    NT_CHECK(nano_cfg_add(doc, root, NULL, NANO_CFG_SCALAR, "x", false) == NULL);
    NT_CHECK(nano_cfg_add(doc, pins, "k", NANO_CFG_SCALAR, "x", false) == NULL);
    NT_CHECK(nano_cfg_add(doc, pins->child, "k", NANO_CFG_SCALAR, "x", false) == NULL);
    NT_CHECK(nano_cfg_add(NULL, root, "k", NANO_CFG_SCALAR, "x", false) == NULL);
    NT_CHECK(nano_cfg_add(doc, NULL, "k", NANO_CFG_SCALAR, "x", false) == NULL);
    NT_CHECK(nano_cfg_add(doc, root, "k", (enum nano_cfg_kind)99, "x", false) == NULL);
    NT_EQ_INT(root->count, 2);
    NT_EQ_INT(pins->count, 3);

    s = cfg_json_str(root);
    NT_EQ_STR(s, "{\"log\":{\"level\":\"info\"},\"pins\":[17,null,\"\"]}");
    free(s);
    s = cfg_dump_str(root);
    NT_EQ_STR(s, "map\n"
                 "  \"log\": map\n"
                 "    \"level\": str \"info\"\n"
                 "  \"pins\": list\n"
                 "    - num 17\n"
                 "    - null\n"
                 "    - str \"\"\n");
    free(s);
    NT_CHECK(nano_cfg_path(root, "pins.0") == pins->child);
    NT_CHECK(nano_cfg_path(root, "pins.x") == NULL);
    NT_CHECK(nano_cfg_path(root, "log..level") == NULL);
    NT_CHECK(nano_cfg_path(root, "log.level.deeper") == NULL);
    NT_CHECK(nano_cfg_get(pins, "0") == NULL);       /* lists have no keys */
    nano_cfg_free(doc);
    nano_cfg_free(NULL);
}

static void
test_copy(void)
{
    struct nano_cfg_doc *src = parse_yaml(
        "dev:\n  driver: bme280\n  tags: [a, b]\n  params: {x: 1, y: {z: ~}}\n"
        "other: 5\n");
    struct nano_cfg_doc *dst = nano_cfg_new("merged");
    struct nano_cfg_node *droot = nano_cfg_root(dst), *c, *c2, *list;
    const struct nano_cfg_node *dev = nano_cfg_get(nano_cfg_root(src), "dev");
    char *s;

    c = nano_cfg_copy(dst, droot, NULL, dev);
    NT_ASSERT(c);
    NT_EQ_STR(c->key, "dev");
    NT_EQ_INT(c->key_line, 1);              /* positions travel with the copy */
    NT_EQ_INT(c->line, dev->line);
    NT_EQ_INT(nano_cfg_path(c, "params.y.z")->line, 4);
    c2 = nano_cfg_copy(dst, droot, "dev2", dev);
    NT_ASSERT(c2);
    NT_EQ_STR(c2->key, "dev2");
    list = nano_cfg_add(dst, droot, "all", NANO_CFG_LIST, NULL, false);
    NT_CHECK(nano_cfg_copy(dst, list, NULL, nano_cfg_get(nano_cfg_root(src),
                                                        "other")) != NULL);
    NT_CHECK(list->child->key == NULL);
    NT_CHECK(nano_cfg_copy(dst, list, NULL, dev) != NULL);

    /* nothing in dst points into src once src is gone (ASan would tell) */
    nano_cfg_free(src);
    s = cfg_json_str(droot);
    NT_EQ_STR(s, "{\"dev\":{\"driver\":\"bme280\",\"tags\":[\"a\",\"b\"],"
                 "\"params\":{\"x\":1,\"y\":{\"z\":null}}},"
                 "\"dev2\":{\"driver\":\"bme280\",\"tags\":[\"a\",\"b\"],"
                 "\"params\":{\"x\":1,\"y\":{\"z\":null}}},"
                 "\"all\":[5,{\"driver\":\"bme280\",\"tags\":[\"a\",\"b\"],"
                 "\"params\":{\"x\":1,\"y\":{\"z\":null}}}]}");
    free(s);

    /* into its own subtree: refused, nothing added */
    NT_CHECK(nano_cfg_copy(dst, nano_cfg_path(droot, "dev.params"), "loop", c) == NULL);
    NT_EQ_INT(nano_cfg_path(droot, "dev.params")->count, 2);
    /* a map child needs a key from somewhere */
    NT_CHECK(nano_cfg_copy(dst, droot, NULL, droot->last->child) == NULL);
    NT_CHECK(nano_cfg_copy(dst, nano_cfg_path(droot, "dev.driver"), "k", c) == NULL);
    NT_EQ_INT(droot->count, 3);
    nano_cfg_free(dst);
}

static void
test_copy_keeps_nul_bytes(void)
{
    struct nano_cfg_doc *src = NULL, *dst = nano_cfg_new("x");
    struct nano_cfg_node *n;

    static const char text[] = "{\"k\": \"a\\u0000b\"}";

    NT_ASSERT(nano_cfg_parse_json(text, sizeof text - 1, "j", &src, NULL) ==
              NANO_OK);
    n = nano_cfg_copy(dst, nano_cfg_root(dst), NULL,
                      nano_cfg_root(src)->child);
    NT_ASSERT(n);
    NT_EQ_INT(n->len, 3);
    NT_CHECK(memcmp(n->str, "a\0b", 4) == 0);
    nano_cfg_free(src);
    nano_cfg_free(dst);
}

static void
test_unlink(void)
{
    struct nano_cfg_doc *doc = parse_yaml("a: 1\nb: 2\nc: 3\nlist: [x, y, z]\n");
    struct nano_cfg_node *r = nano_cfg_root(doc);
    struct nano_cfg_node *a = nano_cfg_get(r, "a"), *b = nano_cfg_get(r, "b");
    struct nano_cfg_node *c = nano_cfg_get(r, "c"), *list = nano_cfg_get(r, "list");
    char *s;

    nano_cfg_unlink(b);                     /* middle */
    NT_EQ_INT(r->count, 3);
    NT_CHECK(a->next == c && b->parent == NULL && b->next == NULL);
    NT_CHECK(nano_cfg_get(r, "b") == NULL);
    nano_cfg_unlink(b);                     /* twice: no-op */
    NT_EQ_INT(r->count, 3);
    nano_cfg_unlink(list);                  /* last */
    NT_CHECK(r->last == c && c->next == NULL);
    nano_cfg_unlink(a);                     /* first */
    NT_CHECK(r->child == c);
    NT_EQ_INT(r->count, 1);
    nano_cfg_unlink(r);                     /* root: no-op */
    NT_CHECK(nano_cfg_root(doc) == r);
    nano_cfg_unlink(c);
    NT_CHECK(r->child == NULL && r->last == NULL && r->count == 0);
    /* a replaced value: unlink, then add under the same key */
    NT_CHECK(nano_cfg_add(doc, r, "b", NANO_CFG_SCALAR, "new", true) != NULL);
    NT_CHECK(nano_cfg_copy(doc, r, "list", list) != NULL);   /* detached node */
    s = cfg_json_str(r);
    NT_EQ_STR(s, "{\"b\":\"new\",\"list\":[\"x\",\"y\",\"z\"]}");
    free(s);
    nano_cfg_unlink(NULL);
    nano_cfg_free(doc);
}

/* ---- typed reads ----------------------------------------------------------- */

static struct nano_diag rd;

static const char *
msg_of(int rc)
{
    static char out[400];

    if (rc == NANO_OK)
        return "OK";
    return nano_diag_format(&rd, out, sizeof out);
}

static void
test_typed_reads(void)
{
    struct nano_cfg_doc *doc = parse_yaml(
        "s: hello\n"                         /* 1 */
        "m: {a: 1}\n"                        /* 2 */
        "b1: True\n"                         /* 3 */
        "b2: OFF\n"                          /* 4 */
        "b3: \"yes\"\n"                      /* 5 */
        "b4: maybe\n"                        /* 6 */
        "i1: 0x10\n"                         /* 7 */
        "i2: -0x10\n"                        /* 8 */
        "i3: +5\n"                           /* 9 */
        "i4: 1_000\n"                        /* 10 */
        "i5: 11\n"                           /* 11 */
        "i6: 0x\n"                           /* 12 */
        "n1: 1.5e3\n"                        /* 13 */
        "n2: .5\n"                           /* 14 */
        "n3: inf\n"                          /* 15 */
        "n4: 0x10\n"                         /* 16 */
        "d1: 500ms\n"                        /* 17 */
        "d2: 1h30m\n"                        /* 18 */
        "d3: 5\n"                            /* 19 */
        "d4: fast\n"                         /* 20 */
        "list: [a, {x: 1}]\n"                /* 21 */
        "e:\n");                             /* 22 */
    struct nano_cfg_node *r = nano_cfg_root(doc);
    const char *s;
    bool b;
    int64_t i;
    double v;
    uint64_t ns;

    rd.origin = "t.yaml";
    NT_EQ_STR(msg_of(nano_cfg_as_str(nano_cfg_get(r, "s"), &s, &rd)), "OK");
    NT_EQ_STR(s, "hello");
    NT_EQ_STR(msg_of(nano_cfg_as_str(nano_cfg_get(r, "m"), &s, &rd)),
              "t.yaml:2:4: 'm' expects a string, got a map");
    NT_EQ_STR(msg_of(nano_cfg_as_str(nano_cfg_get(r, "e"), &s, &rd)),
              "t.yaml:22:3: 'e' expects a string, got an empty value");
    NT_EQ_STR(msg_of(nano_cfg_as_str(r, &s, &rd)),
              "t.yaml:1:1: the document expects a string, got a map");

    NT_EQ_STR(msg_of(nano_cfg_as_bool(nano_cfg_get(r, "b1"), &b, &rd)), "OK");
    NT_CHECK(b);
    NT_EQ_STR(msg_of(nano_cfg_as_bool(nano_cfg_get(r, "b2"), &b, &rd)), "OK");
    NT_CHECK(!b);
    NT_EQ_STR(msg_of(nano_cfg_as_bool(nano_cfg_get(r, "b3"), &b, &rd)),
              "t.yaml:5:5: 'b3' expects true or false, got the string \"yes\"");
    NT_EQ_STR(msg_of(nano_cfg_as_bool(nano_cfg_get(r, "b4"), &b, &rd)),
              "t.yaml:6:5: 'b4' expects true or false, got 'maybe'");

    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i1"), 0, 100, &i, &rd)), "OK");
    NT_EQ_INT(i, 16);
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i2"), -100, 100, &i, &rd)), "OK");
    NT_EQ_INT(i, -16);
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i3"), 0, 10, &i, &rd)), "OK");
    NT_EQ_INT(i, 5);
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i4"), 0, 10000, &i, &rd)),
              "t.yaml:10:5: 'i4' expects an integer from 0 to 10000, got '1_000'");
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i5"), 1, 10, &i, &rd)),
              "t.yaml:11:5: 'i5' expects an integer from 1 to 10, got 11");
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_get(r, "i6"), INT64_MIN, INT64_MAX,
                                     &i, &rd)),
              "t.yaml:12:5: 'i6' expects an integer, got '0x'");

    NT_EQ_STR(msg_of(nano_cfg_as_num(nano_cfg_get(r, "n1"), &v, &rd)), "OK");
    NT_NEAR(v, 1500, 1e-9);
    NT_EQ_STR(msg_of(nano_cfg_as_num(nano_cfg_get(r, "n2"), &v, &rd)), "OK");
    NT_NEAR(v, 0.5, 1e-12);
    NT_EQ_STR(msg_of(nano_cfg_as_num(nano_cfg_get(r, "n3"), &v, &rd)),
              "t.yaml:15:5: 'n3' expects a number, got 'inf'");
    NT_EQ_STR(msg_of(nano_cfg_as_num(nano_cfg_get(r, "n4"), &v, &rd)),
              "t.yaml:16:5: 'n4' expects a number, got '0x10'");

    NT_EQ_STR(msg_of(nano_cfg_as_duration(nano_cfg_get(r, "d1"), &ns, &rd)), "OK");
    NT_CHECK(ns == 500000000ull);
    NT_EQ_STR(msg_of(nano_cfg_as_duration(nano_cfg_get(r, "d2"), &ns, &rd)), "OK");
    NT_CHECK(ns == 5400000000000ull);
    NT_EQ_STR(msg_of(nano_cfg_as_duration(nano_cfg_get(r, "d3"), &ns, &rd)), "OK");
    NT_CHECK(ns == 5000000000ull);
    NT_EQ_STR(msg_of(nano_cfg_as_duration(nano_cfg_get(r, "d4"), &ns, &rd)),
              "t.yaml:20:5: 'd4' expects a duration such as 500ms or 30s, got "
              "'fast'");
    NT_EQ_STR(msg_of(nano_cfg_as_duration(nano_cfg_get(r, "list"), &ns, &rd)),
              "t.yaml:21:7: 'list' expects a duration such as 500ms or 30s, got "
              "a list");
    NT_EQ_STR(msg_of(nano_cfg_as_int(nano_cfg_path(r, "list.1"), 0, 1, &i, &rd)),
              "t.yaml:21:11: item 2 of 'list' expects an integer from 0 to 1, "
              "got a map");

    /* nano_cfg_error: position of the node, message as given, origin kept */
    NT_EQ_INT(nano_cfg_error(nano_cfg_get(r, "s"), &rd, "%s is %d", "x", 3),
              NANO_ESCHEMA);
    NT_EQ_STR(msg_of(NANO_ESCHEMA), "t.yaml:1:4: x is 3");
    NT_EQ_INT(nano_cfg_error(nano_cfg_get(r, "s"), NULL, "no diag"), NANO_ESCHEMA);
    nano_cfg_free(doc);
}

/* Long or odd values are shown cut and escaped, never raw. */
static void
test_found_text_is_bounded(void)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    uint64_t ns;

    memset(&d, 0, sizeof d);
    NT_EQ_INT(nano_cfg_parse_json(
        "{\"interval\": \"0123456789012345678901234567890123456789-and-more\","
        " \"tab\": \"a\\tb\\u0001\"}", 86, "j", &doc, &d), NANO_OK);
    NT_EQ_INT(nano_cfg_as_duration(nano_cfg_root(doc)->child, &ns, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(d.msg, "'interval' expects a duration such as 500ms or 30s, got "
                     "\"0123456789012345678901234567890123456789...\"");
    NT_EQ_INT(nano_cfg_as_duration(nano_cfg_root(doc)->last, &ns, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(d.msg, "'tab' expects a duration such as 500ms or 30s, got "
                     "\"a\\tb\\x01\"");
    nano_cfg_free(doc);
}

/* ---- JSON output ----------------------------------------------------------- */

static void
test_to_json_scalars(void)
{
    struct nano_cfg_doc *doc = nano_cfg_new("x");
    struct nano_cfg_node *r = nano_cfg_root(doc), *sub;
    char *s;

    nano_cfg_add(doc, r, "plain_num", NANO_CFG_SCALAR, "1.5", false);
    nano_cfg_add(doc, r, "quoted_num", NANO_CFG_SCALAR, "1.5", true);
    nano_cfg_add(doc, r, "leading0", NANO_CFG_SCALAR, "012", false);
    nano_cfg_add(doc, r, "hex", NANO_CFG_SCALAR, "0x1F", false);
    nano_cfg_add(doc, r, "t", NANO_CFG_SCALAR, "true", false);
    nano_cfg_add(doc, r, "qt", NANO_CFG_SCALAR, "true", true);
    nano_cfg_add(doc, r, "yes", NANO_CFG_SCALAR, "yes", false);
    nano_cfg_add(doc, r, "pnull", NANO_CFG_SCALAR, "null", false);
    nano_cfg_add(doc, r, "nul", NANO_CFG_NULL, NULL, false);
    nano_cfg_add(doc, r, "esc", NANO_CFG_SCALAR,
                 "q\" b\\ nl\n cr\r tab\t bs\b ff\f c1\x01 del\x7f \xC3\xA9", true);
    nano_cfg_add(doc, r, "bad", NANO_CFG_SCALAR, "a\xFF" "b\xC3", true);
    nano_cfg_add(doc, r, "k\"ey\n", NANO_CFG_SCALAR, "v", true);
    sub = nano_cfg_add(doc, r, "sub", NANO_CFG_MAP, NULL, false);
    nano_cfg_add(doc, sub, "x", NANO_CFG_LIST, NULL, false);
    s = cfg_json_str(r);
    NT_EQ_STR(s, "{\"plain_num\":1.5,\"quoted_num\":\"1.5\",\"leading0\":\"012\","
                 "\"hex\":\"0x1F\",\"t\":true,\"qt\":\"true\",\"yes\":\"yes\","
                 "\"pnull\":null,\"nul\":null,"
                 "\"esc\":\"q\\\" b\\\\ nl\\n cr\\r tab\\t bs\\b ff\\f c1\\u0001 "
                 "del\x7f \xC3\xA9\",\"bad\":\"a\\ufffdb\\ufffd\","
                 "\"k\\\"ey\\n\":\"v\",\"sub\":{\"x\":[]}}");
    free(s);
    s = cfg_json_str(sub);                  /* a subtree on its own */
    NT_EQ_STR(s, "{\"x\":[]}");
    free(s);
    s = cfg_json_str(r->child);
    NT_EQ_STR(s, "1.5");
    free(s);
    nano_cfg_free(doc);
}

static char *
roundtrip_dump(const struct nano_cfg_node *n)
{
    struct nano_cfg_doc *back = NULL;
    struct nano_diag d;
    char *json = cfg_json_str(n), *dump, msg[400];

    memset(&d, 0, sizeof d);
    if (nano_cfg_parse_json(json, strlen(json), "rt", &back, &d) != NANO_OK) {
        nt_fail(__FILE__, __LINE__, "re-parse failed: %s on %s",
                nano_diag_format(&d, msg, sizeof msg), json);
        free(json);
        return strdup("");
    }
    free(json);
    dump = cfg_dump_str(nano_cfg_root(back));
    nano_cfg_free(back);
    return dump;
}

static void
test_to_json_round_trip(void)
{
    static const char *const texts[] = {
        "log: {level: info}\nlist: [1, -2.5, 1e400, true, false, ~, '', \"x\\ty\"]\n"
        "text: |\n  two\n  lines\n\"\\u00e9\\\"k\": v\nplain: 012\nhex: 0x10\n",
        "[a, [b, [c, [d, {}]]], []]\n",
        "\"just a scalar\"\n",
        "~\n",
        "",
    };
    struct nano_cfg_doc *doc = nano_cfg_new("b");
    struct nano_cfg_node *r = nano_cfg_root(doc);
    char *a, *b;

    for (size_t i = 0; i < NANO_ARRAY_LEN(texts); i++) {
        struct nano_cfg_doc *y = parse_yaml(texts[i]);

        NT_MSG("case %zu", i);
        a = cfg_dump_str(nano_cfg_root(y));
        b = roundtrip_dump(nano_cfg_root(y));
        NT_EQ_STR(b, a);
        free(a);
        free(b);
        nano_cfg_free(y);
    }
    nt_msgbuf[0] = '\0';

    /* a built tree, including a plain "null" scalar and a NUL byte */
    nano_cfg_add(doc, r, "pnull", NANO_CFG_SCALAR, "null", false);
    nano_cfg_add(doc, nano_cfg_add(doc, r, "l", NANO_CFG_LIST, NULL, false),
                 NULL, NANO_CFG_SCALAR, "-0.0e-0", false);
    a = cfg_dump_str(r);
    b = roundtrip_dump(r);
    NT_EQ_STR(b, a);
    NT_EQ_STR(a, "map\n  \"pnull\": null\n  \"l\": list\n    - num -0.0e-0\n");
    free(a);
    free(b);
    nano_cfg_free(doc);
}

static void
test_output_bounded(void)
{
    struct nano_cfg_doc *doc = parse_yaml("key: a fairly long value here\n");
    struct nano_buf b;

    nano_buf_init(&b, 10);
    NT_EQ_INT(nano_cfg_to_json(nano_cfg_root(doc), &b), -ENOSPC);
    NT_CHECK(b.len <= 10);
    nano_buf_reset(&b);
    NT_EQ_INT(nano_cfg_dump(nano_cfg_root(doc), &b), -ENOSPC);
    nano_buf_free(&b);
    nano_buf_init(&b, 64);
    NT_EQ_INT(nano_cfg_to_json(nano_cfg_root(doc), &b), NANO_OK);
    NT_EQ_INT(nano_cfg_to_json(NULL, &b), -EINVAL);
    NT_EQ_INT(nano_cfg_dump(NULL, &b), -EINVAL);
    nano_buf_free(&b);
    nano_cfg_free(doc);
}

/* ---- files ----------------------------------------------------------------- */

static char tmpdir[64];

static char *
put_file(const char *name, const char *text)
{
    static char path[160];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    NT_ASSERT(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *
load(const char *path, int *rc_out, char **dump_out)
{
    static char out[600];
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;

    memset(&d, 0, sizeof d);
    *rc_out = nano_cfg_load_file(path, &doc, &d);
    if (*rc_out != NANO_OK) {
        NT_CHECK(doc == NULL);
        NT_CHECK(d.origin == path);
        return nano_diag_format(&d, out, sizeof out);
    }
    NT_EQ_STR(nano_cfg_origin(doc), path);
    if (dump_out)
        *dump_out = cfg_dump_str(nano_cfg_root(doc));
    nano_cfg_free(doc);
    return "OK";
}

static void
test_load_file(void)
{
    char want[300], *dump, *path;
    int rc, fd;

    strcpy(tmpdir, "/tmp/nano-cfg-XXXXXX");
    NT_ASSERT(mkdtemp(tmpdir));

    path = put_file("nano.yaml", "log:\n  level: info\n");
    NT_EQ_STR(load(path, &rc, &dump), "OK");
    NT_EQ_STR(dump, "map\n  \"log\": map\n    \"level\": str \"info\"\n");
    free(dump);

    /* by extension: .json is JSON (a YAML-only form is an error) */
    path = put_file("nano.json", "{\"a\": 1,}");
    snprintf(want, sizeof want, "%s:1:9: expected a string key after ',', got "
             "'}' (trailing commas are not allowed)", path);
    NT_EQ_STR(load(path, &rc, NULL), want);
    NT_EQ_INT(rc, NANO_EPARSE);
    /* .yml is YAML even when it starts with '{' */
    path = put_file("flow.yml", "{a: 1}");
    NT_EQ_STR(load(path, &rc, NULL), "OK");
    /* no extension: '{' first means JSON */
    path = put_file("config", "\n  {\"a\": [1 2]}");
    snprintf(want, sizeof want, "%s:2:12: expected ',' or ']' after an array "
             "element, got a number", path);
    NT_EQ_STR(load(path, &rc, NULL), want);
    path = put_file("other.conf", "a: 1\n b: 2\n");
    snprintf(want, sizeof want, "%s:2:3: mapping values are not allowed in "
             "this context (check the indentation, and quote values that "
             "contain ': ')", path);
    NT_EQ_STR(load(path, &rc, NULL), want);

    /* an empty file is an empty configuration */
    path = put_file("empty.yaml", "");
    NT_EQ_STR(load(path, &rc, &dump), "OK");
    NT_EQ_STR(dump, "map\n");
    free(dump);

    /* not a regular file: read until EOF */
    NT_EQ_STR(load("/dev/null", &rc, NULL), "OK");

    snprintf(want, sizeof want, "%s/missing.yaml", tmpdir);
    path = strdup(want);
    snprintf(want, sizeof want, "%s: cannot open file: No such file or "
             "directory", path);
    NT_EQ_STR(load(path, &rc, NULL), want);
    NT_EQ_INT(rc, -ENOENT);
    free(path);

    snprintf(want, sizeof want, "%s: cannot read file: Is a directory", tmpdir);
    NT_EQ_STR(load(tmpdir, &rc, NULL), want);
    NT_EQ_INT(rc, -EISDIR);

    /* too big, checked before reading (a sparse file costs nothing) */
    path = put_file("huge.yaml", "");
    fd = open(path, O_WRONLY);
    NT_ASSERT(fd >= 0);
    NT_CHECK(ftruncate(fd, (off_t)NANO_CFG_MAX_BYTES + 1) == 0);
    close(fd);
    snprintf(want, sizeof want, "%s: file is %u bytes, more than the limit of %u",
             path, NANO_CFG_MAX_BYTES + 1, NANO_CFG_MAX_BYTES);
    NT_EQ_STR(load(path, &rc, NULL), want);
    NT_EQ_INT(rc, -E2BIG);

    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        NT_CHECK(system(cmd) == 0);
    }
    CFG_CHECK_NO_LEAKS();
}

/* ---- allocation failure while building ------------------------------------ */

/* Build a document big enough for several chunks and a big string.
 * Returns NANO_OK or -ENOMEM; *doc_out is whatever was created. */
static int
build_all(const struct nano_cfg_node *src, struct nano_cfg_doc **doc_out)
{
    struct nano_cfg_doc *doc = nano_cfg_new("built");
    struct nano_cfg_node *list;
    char big[3000], key[16];

    *doc_out = doc;
    if (!doc)
        return -ENOMEM;
    list = nano_cfg_add(doc, nano_cfg_root(doc), "list", NANO_CFG_LIST, NULL, false);
    if (!list)
        return -ENOMEM;
    for (int i = 0; i < 60; i++) {
        snprintf(key, sizeof key, "%d", i);
        if (!nano_cfg_add(doc, list, NULL, NANO_CFG_SCALAR, key, false))
            return -ENOMEM;
    }
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    if (!nano_cfg_add(doc, nano_cfg_root(doc), "big", NANO_CFG_SCALAR, big, true))
        return -ENOMEM;
    if (!nano_cfg_copy(doc, nano_cfg_root(doc), "copy", src))
        return -ENOMEM;
    return NANO_OK;
}

static void
test_alloc_failure_building(void)
{
    struct nano_cfg_doc *src = parse_yaml(
        "a: {b: [1, 2, 3, {c: d}], e: text}\nf: [x, y, z, w, v, u, t, s]\n");
    struct nano_cfg_doc *doc;
    char *want, *got;
    uint64_t k;
    int rc;

    NT_EQ_INT(build_all(nano_cfg_root(src), &doc), NANO_OK);
    want = cfg_dump_str(nano_cfg_root(doc));
    nano_cfg_free(doc);
    for (k = 1; k < 1000; k++) {
        nano_mem_fail_after(k);
        rc = build_all(nano_cfg_root(src), &doc);
        nano_mem_fail_after(0);
        if (rc == NANO_OK)
            break;
        NT_EQ_INT(rc, -ENOMEM);
        if (doc) {
            /* a failed copy leaves nothing half-linked */
            NT_CHECK(nano_cfg_get(nano_cfg_root(doc), "copy") == NULL);
        }
        nano_cfg_free(doc);
    }
    NT_MSG("build needed %llu allocations", (unsigned long long)k);
    NT_CHECK(k >= 4);
    got = cfg_dump_str(nano_cfg_root(doc));
    NT_EQ_STR(got, want);
    free(got);
    free(want);
    nano_cfg_free(doc);
    nano_cfg_free(src);
    CFG_CHECK_NO_LEAKS();
}

/* A document sized with nano_cfg_copy_size() takes a copy of the subtree's
 * children in its one allocation, and the copy is the same tree. */
static void
test_sized_copy_is_one_allocation(void)
{
    static const char *const texts[] = {
        "{\"driver\":\"bme280\",\"bus\":\"i2c1\"}",
        "{\"driver\":\"sim\",\"interval\":\"100ms\",\"quantities\":{\"t\":"
        "{\"wave\":\"sine\",\"min\":1,\"max\":2,\"unit\":\"\u00b0C\"}},"
        "\"faults\":[{\"kind\":\"timeout\",\"after\":\"1s\"}]}",
        "{}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct nano_cfg_doc *src = NULL, *dst;
        struct nano_buf a, b;
        NT_ASSERT(nano_cfg_parse_json(texts[i], strlen(texts[i]), "t", &src, NULL) == NANO_OK);
        uint64_t n0 = nano_mem_alloc_count();
        dst = nano_cfg_new_sized("device", nano_cfg_copy_size(nano_cfg_root(src)));
        NT_ASSERT(dst);
        for (struct nano_cfg_node *k = nano_cfg_root(src)->child; k; k = k->next)
            NT_CHECK(nano_cfg_copy(dst, nano_cfg_root(dst), k->key, k) != NULL);
        NT_MSG("text %zu", i);
        NT_EQ_INT(nano_mem_alloc_count() - n0, 1);
        nano_buf_init(&a, 4096);
        nano_buf_init(&b, 4096);
        nano_cfg_dump(nano_cfg_root(src), &a);
        nano_cfg_dump(nano_cfg_root(dst), &b);
        NT_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        nano_buf_free(&a);
        nano_buf_free(&b);
        nano_cfg_free(dst);
        nano_cfg_free(src);
    }
}

NT_LIST = {
    { "sized_copy_is_one_allocation", test_sized_copy_is_one_allocation },
    { "build",                     test_build },
    { "copy",                      test_copy },
    { "copy_keeps_nul_bytes",      test_copy_keeps_nul_bytes },
    { "unlink",                    test_unlink },
    { "typed_reads",               test_typed_reads },
    { "found_text_is_bounded",     test_found_text_is_bounded },
    { "to_json_scalars",           test_to_json_scalars },
    { "to_json_round_trip",        test_to_json_round_trip },
    { "output_bounded",            test_output_bounded },
    { "load_file",                 test_load_file },
    { "alloc_failure_building",    test_alloc_failure_building },
    { NULL, NULL }
};
