/* SPDX-License-Identifier: MIT
 *
 * test_cfg_yaml.c - the YAML front end: block and flow styles, scalar
 * styles and nulls, multi-line strings, comments, positions, empty files,
 * the exact message for each syntax or semantic error, limits, the same
 * tree as JSON for the same config, and clean -ENOMEM at every allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/nt.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/mem.h"

#include "cfg_test.h"

static struct nano_cfg_doc *
parse(const char *text)
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

static void
test_block_style(void)
{
    struct nano_cfg_doc *doc = parse(
        "log:\n"
        "  level: info\n"
        "devices:\n"
        "  boiler:\n"
        "    driver: bme280\n"
        "    tags:\n"
        "      - kitchen\n"
        "      - upstairs\n"
        "list:\n"
        "- a\n"
        "- b\n");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n;
    char *dump;

    NT_ASSERT(r->kind == NANO_CFG_MAP);
    NT_EQ_INT(r->count, 3);
    n = nano_cfg_path(r, "devices.boiler.tags");
    NT_ASSERT(n && n->kind == NANO_CFG_LIST);
    NT_EQ_INT(n->count, 2);
    NT_EQ_STR(n->last->str, "upstairs");
    NT_CHECK(!n->last->quoted);
    NT_EQ_STR(nano_cfg_path(r, "list.1")->str, "b");
    NT_CHECK(nano_cfg_path(r, "list.2") == NULL);
    NT_CHECK(nano_cfg_path(r, "devices.boiler.nope") == NULL);
    dump = cfg_dump_str(r);
    NT_EQ_STR(dump,
              "map\n"
              "  \"log\": map\n"
              "    \"level\": str \"info\"\n"
              "  \"devices\": map\n"
              "    \"boiler\": map\n"
              "      \"driver\": str \"bme280\"\n"
              "      \"tags\": list\n"
              "        - str \"kitchen\"\n"
              "        - str \"upstairs\"\n"
              "  \"list\": list\n"
              "    - str \"a\"\n"
              "    - str \"b\"\n");
    free(dump);
    nano_cfg_free(doc);
}

static void
test_flow_style(void)
{
    char *dump = cfg_parse_dump(CFG_YAML,
        "{a: 1, b: [x, \"y\", {c: d}], e: {}, f: [], g: [[1, 2], [3]]}\n");

    NT_EQ_STR(dump,
              "map\n"
              "  \"a\": num 1\n"
              "  \"b\": list\n"
              "    - str \"x\"\n"
              "    - str \"y\"\n"
              "    - map\n"
              "      \"c\": str \"d\"\n"
              "  \"e\": map\n"
              "  \"f\": list\n"
              "  \"g\": list\n"
              "    - list\n"
              "      - num 1\n"
              "      - num 2\n"
              "    - list\n"
              "      - num 3\n");
    free(dump);

    dump = cfg_parse_dump(CFG_YAML, "[a, b]\n");
    NT_EQ_STR(dump, "list\n  - str \"a\"\n  - str \"b\"\n");
    free(dump);
}

static void
test_scalars(void)
{
    struct nano_cfg_doc *doc = parse(
        "plain: hello world\n"
        "single: 'it''s'\n"
        "double: \"tab\\there \\u00e9 \\x41\"\n"
        "num: 42\n"
        "qnum: \"42\"\n"
        "bool: true\n"
        "yes: yes\n"
        "hex: 0x1F\n"
        "tilde: ~\n"
        "null1: null\n"
        "null2: Null\n"
        "null3: NULL\n"
        "empty:\n"
        "qnull: \"null\"\n"
        "qempty: ''\n"
        "colon: \"a: b\"\n"
        "hash: a#b\n"
        "url: http://x:80/y\n");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n;
    struct nano_diag d;
    int64_t i;
    bool b;

    memset(&d, 0, sizeof d);
    n = nano_cfg_get(r, "plain");
    NT_EQ_STR(n->str, "hello world");
    NT_CHECK(!n->quoted);
    n = nano_cfg_get(r, "single");
    NT_EQ_STR(n->str, "it's");
    NT_CHECK(n->quoted);
    n = nano_cfg_get(r, "double");
    NT_EQ_STR(n->str, "tab\there \xC3\xA9 A");
    NT_CHECK(n->quoted);
    n = nano_cfg_get(r, "num");
    NT_CHECK(n->kind == NANO_CFG_SCALAR && !n->quoted);
    NT_EQ_INT(nano_cfg_as_int(n, 0, 100, &i, &d), NANO_OK);
    NT_EQ_INT(i, 42);
    n = nano_cfg_get(r, "qnum");
    NT_CHECK(n->quoted);
    NT_EQ_INT(nano_cfg_as_int(n, 0, 100, &i, &d), NANO_ESCHEMA);
    NT_EQ_STR(d.msg, "'qnum' expects an integer from 0 to 100, got the string \"42\"");
    NT_EQ_INT(nano_cfg_as_bool(nano_cfg_get(r, "yes"), &b, &d), NANO_OK);
    NT_CHECK(b);
    NT_EQ_INT(nano_cfg_as_int(nano_cfg_get(r, "hex"), 0, 255, &i, &d), NANO_OK);
    NT_EQ_INT(i, 31);
    NT_CHECK(nano_cfg_get(r, "tilde")->kind == NANO_CFG_NULL);
    NT_CHECK(nano_cfg_get(r, "null1")->kind == NANO_CFG_NULL);
    NT_CHECK(nano_cfg_get(r, "null2")->kind == NANO_CFG_NULL);
    NT_CHECK(nano_cfg_get(r, "null3")->kind == NANO_CFG_NULL);
    n = nano_cfg_get(r, "empty");
    NT_CHECK(n->kind == NANO_CFG_NULL);
    NT_EQ_STR(n->str, "");
    n = nano_cfg_get(r, "qnull");
    NT_CHECK(n->kind == NANO_CFG_SCALAR && n->quoted);
    NT_EQ_STR(n->str, "null");
    n = nano_cfg_get(r, "qempty");
    NT_CHECK(n->kind == NANO_CFG_SCALAR && n->quoted && n->len == 0);
    NT_EQ_STR(nano_cfg_get(r, "colon")->str, "a: b");
    NT_EQ_STR(nano_cfg_get(r, "hash")->str, "a#b");
    NT_EQ_STR(nano_cfg_get(r, "url")->str, "http://x:80/y");
    nano_cfg_free(doc);
}

static void
test_multiline_strings(void)
{
    struct nano_cfg_doc *doc = parse(
        "literal: |\n"
        "  line one\n"
        "    indented\n"
        "  line three\n"
        "folded: >\n"
        "  folded\n"
        "  text\n"
        "\n"
        "  new para\n"
        "strip: |-\n"
        "  no newline\n"
        "keep: |+\n"
        "  keep\n"
        "\n"
        "plain: first\n"
        "  second\n"
        "dq: \"a\n"
        "  b\"\n");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n;

    n = nano_cfg_get(r, "literal");
    NT_EQ_STR(n->str, "line one\n  indented\nline three\n");
    NT_CHECK(n->quoted);                 /* a block scalar is a string */
    NT_EQ_INT(n->line, 1);
    NT_EQ_INT(n->col, 10);
    NT_EQ_STR(nano_cfg_get(r, "folded")->str, "folded text\nnew para\n");
    NT_EQ_STR(nano_cfg_get(r, "strip")->str, "no newline");
    NT_EQ_STR(nano_cfg_get(r, "keep")->str, "keep\n\n");
    n = nano_cfg_get(r, "plain");
    NT_EQ_STR(n->str, "first second");
    NT_CHECK(!n->quoted);
    NT_EQ_STR(nano_cfg_get(r, "dq")->str, "a b");
    nano_cfg_free(doc);
}

static void
test_comments(void)
{
    char *dump = cfg_parse_dump(CFG_YAML,
        "# Nano configuration\n"
        "log:            # logging\n"
        "  # the level\n"
        "  level: info   # trailing\n"
        "tags:\n"
        "  - a   # first\n"
        "  # between\n"
        "  - \"b # not a comment\"\n"
        "  - c#d\n"
        "# the end\n");

    NT_EQ_STR(dump,
              "map\n"
              "  \"log\": map\n"
              "    \"level\": str \"info\"\n"
              "  \"tags\": list\n"
              "    - str \"a\"\n"
              "    - str \"b # not a comment\"\n"
              "    - str \"c#d\"\n");
    free(dump);
}

static void
test_positions(void)
{
    struct nano_cfg_doc *doc = parse(
        "# header\n"
        "log:\n"
        "  level: info\n"
        "pins:\n"
        "  - {chip: gpiochip0, line: 17}\n"
        "  - name: \"\xC3\xA9\"\n"
        "    x: 1\n"
        "unicode: {\xC3\xA9: \xC3\xBC, k: v}\n");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n, *item;

    NT_EQ_INT(r->line, 2);
    NT_EQ_INT(r->col, 1);
    n = nano_cfg_get(r, "log");
    NT_EQ_INT(n->key_line, 2);
    NT_EQ_INT(n->key_col, 1);
    NT_EQ_INT(n->line, 3);              /* a block map starts at its first key */
    NT_EQ_INT(n->col, 3);
    n = nano_cfg_path(r, "log.level");
    NT_EQ_INT(n->key_line, 3);
    NT_EQ_INT(n->key_col, 3);
    NT_EQ_INT(n->line, 3);
    NT_EQ_INT(n->col, 10);
    n = nano_cfg_get(r, "pins");
    NT_EQ_INT(n->line, 5);
    NT_EQ_INT(n->col, 3);
    item = n->child;
    NT_EQ_INT(item->line, 5);
    NT_EQ_INT(item->col, 5);
    NT_EQ_INT(item->child->key_col, 6);
    NT_EQ_INT(item->child->col, 12);
    NT_EQ_INT(item->last->key_col, 23);
    NT_EQ_INT(item->last->col, 29);
    item = item->next;
    NT_EQ_INT(item->line, 6);
    NT_EQ_INT(item->col, 5);
    NT_EQ_INT(item->child->col, 11);
    NT_EQ_INT(item->last->key_line, 7);
    NT_EQ_INT(item->last->key_col, 5);
    NT_EQ_INT(item->last->col, 8);
    n = nano_cfg_get(r, "unicode");
    NT_EQ_INT(n->child->key_col, 11);
    NT_EQ_INT(n->child->col, 14);
    NT_EQ_INT(n->last->key_col, 17);    /* columns count characters */
    NT_EQ_INT(n->last->col, 20);
    nano_cfg_free(doc);
}

static void
test_empty_documents(void)
{
    static const char *const empties[] = {
        "", "\n\n", "# only a comment\n", "---\n", "--- # nothing\n...\n",
        "\xEF\xBB\xBF",
    };
    struct nano_cfg_doc *doc;

    for (size_t i = 0; i < NANO_ARRAY_LEN(empties); i++) {
        NT_MSG("case %zu", i);
        doc = parse(empties[i]);
        NT_CHECK(nano_cfg_root(doc)->kind == NANO_CFG_MAP);
        NT_EQ_INT(nano_cfg_root(doc)->count, 0);
        NT_CHECK(nano_cfg_root(doc)->str == NULL);
        nano_cfg_free(doc);
    }
    nt_msgbuf[0] = '\0';
    doc = parse("");
    NT_EQ_INT(nano_cfg_root(doc)->line, 1);
    NT_EQ_INT(nano_cfg_root(doc)->col, 1);
    nano_cfg_free(doc);
    /* an explicit null is not "empty" */
    doc = parse("~\n");
    NT_CHECK(nano_cfg_root(doc)->kind == NANO_CFG_NULL);
    nano_cfg_free(doc);
    /* directives and an end marker are fine */
    doc = parse("%YAML 1.1\n---\na: 1\n...\n");
    NT_EQ_STR(nano_cfg_root(doc)->child->str, "1");
    nano_cfg_free(doc);
}

static const struct cfg_bad bad_yaml[] = {
    { "a:\n  b: 1\n c: 2\n",
      "nano.yaml:3:2: did not find expected key while parsing a block mapping "
      "that started at 1:1 (check the indentation of this line)", NANO_EPARSE },
    { "devices:\n  boiler:\n    driver: x\n   interval: 5s\n",
      "nano.yaml:4:4: did not find expected key while parsing a block mapping "
      "that started at 2:3 (check the indentation of this line)", NANO_EPARSE },
    { "a:\n\tb: 1\n",
      "nano.yaml:2:1: found a tab character in the indentation (YAML indents "
      "with spaces only)", NANO_EPARSE },
    { "key: value\n\tother: 1\n",
      "nano.yaml:2:1: found a tab character in the indentation (YAML indents "
      "with spaces only)", NANO_EPARSE },
    { "a: \"abc\nb: 2\n",
      "nano.yaml:3:1: found unexpected end of stream while scanning a quoted "
      "scalar that started at 1:4 (is the closing quote missing?)", NANO_EPARSE },
    { "a: 'x\n",
      "nano.yaml:2:1: found unexpected end of stream while scanning a quoted "
      "scalar that started at 1:4 (is the closing quote missing?)", NANO_EPARSE },
    { "a: \"\\q\"\n",
      "nano.yaml:1:5: found unknown escape character while parsing a quoted "
      "scalar that started at 1:4", NANO_EPARSE },
    { "a: 1\n---\nb: 2\n",
      "nano.yaml:2:1: found a second YAML document; a config file must hold "
      "exactly one", NANO_EPARSE },
    { "a: 1\nb: 2\na: 3\n",
      "nano.yaml:3:1: duplicate key 'a' (first defined at 1:1)", NANO_EPARSE },
    { "m: {x: 1, x: 2}\n",
      "nano.yaml:1:11: duplicate key 'x' (first defined at 1:5)", NANO_EPARSE },
    { "devices:\n  boiler: {}\n  pump: {}\n  boiler: {}\n",
      "nano.yaml:4:3: duplicate key 'boiler' (first defined at 2:3)",
      NANO_EPARSE },
    { "base: &b {x: 1}\n",
      "nano.yaml:1:7: anchors and aliases are not supported, found anchor "
      "'&b' (write the value out instead)", NANO_EPARSE },
    { "a: 1\nb: *a\n",
      "nano.yaml:2:4: anchors and aliases are not supported, found alias "
      "'*a' (write the value out instead)", NANO_EPARSE },
    { "port: !!int 80\n",
      "nano.yaml:1:7: tags are not supported, found '!!int' (quote the value "
      "if it must stay a string)", NANO_EPARSE },
    { "dev: !sensor {a: 1}\n",
      "nano.yaml:1:6: tags are not supported, found '!sensor' (quote the "
      "value if it must stay a string)", NANO_EPARSE },
    { "name: a: b\n",
      "nano.yaml:1:8: mapping values are not allowed in this context (check "
      "the indentation, and quote values that contain ': ')", NANO_EPARSE },
    { "a: 1\n  b: 2\n",
      "nano.yaml:2:4: mapping values are not allowed in this context (check "
      "the indentation, and quote values that contain ': ')", NANO_EPARSE },
    { "a: [1, 2\nb: 3\n",
      "nano.yaml:2:2: did not find expected ',' or ']' while parsing a flow "
      "sequence that started at 1:4", NANO_EPARSE },
    { "a: {b: 1\n",
      "nano.yaml:2:1: did not find expected ',' or '}' while parsing a flow "
      "mapping that started at 1:4", NANO_EPARSE },
    { "a:\n  - 1\n  b: 2\n",
      "nano.yaml:3:3: did not find expected '-' indicator while parsing a "
      "block collection that started at 2:3 (check the indentation of this "
      "line)", NANO_EPARSE },
    { "- a\n- b\nc: d\n",
      "nano.yaml:3:1: did not find expected '-' indicator while parsing a "
      "block collection that started at 1:1 (check the indentation of this "
      "line)", NANO_EPARSE },
    { "name: caf\xC3\n",
      "nano.yaml:1:10: invalid UTF-8 byte 0xC3 (the file must be UTF-8)",
      NANO_EPARSE },
    { "a: 1\nb: \xFF\n",
      "nano.yaml:2:4: invalid UTF-8 byte 0xFF (the file must be UTF-8)",
      NANO_EPARSE },
    { "a: \x01\n",
      "nano.yaml:1:4: control character U+0001 is not allowed in YAML (write "
      "it as an escape in a double-quoted string)", NANO_EPARSE },
    { "? [a, b]\n: 1\n",
      "nano.yaml:1:3: a map key must be a plain value, not a list",
      NANO_EPARSE },
    { "{? {a: 1} : 2}\n",
      "nano.yaml:1:4: a map key must be a plain value, not a map", NANO_EPARSE },
    { "a: @home\n",
      "nano.yaml:1:4: found character that cannot start any token (quote "
      "values that start with '@' or '`')", NANO_EPARSE },
    { "!x!foo bar\n", "nano.yaml:1:1: found undefined tag handle", NANO_EPARSE },
    { "\"\": 1\n? \n: 2\n",
      "nano.yaml:2:2: a map key must not be empty", NANO_EPARSE },
};

static void
test_malformed(void)
{
    NT_CHECK(NANO_ARRAY_LEN(bad_yaml) >= 15);
    cfg_check_bad(CFG_YAML, bad_yaml, NANO_ARRAY_LEN(bad_yaml), "nano.yaml");
}

static void
test_limits(void)
{
    struct nano_cfg_limits lim = { .max_nodes = 4 };
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char text[300], msg[400];
    int rc;

    memset(text, 0, sizeof text);
    memset(text, '[', NANO_CFG_MAX_DEPTH);
    memset(text + NANO_CFG_MAX_DEPTH, ']', NANO_CFG_MAX_DEPTH);
    NT_EQ_STR(cfg_err(CFG_YAML, text, "nano.yaml", &rc), "OK");
    memset(text, 0, sizeof text);
    memset(text, '[', 200);
    NT_EQ_STR(cfg_err(CFG_YAML, text, "nano.yaml", &rc),
              "nano.yaml:1:65: too deeply nested: the limit is 64 levels of "
              "maps and lists");
    NT_EQ_INT(rc, -E2BIG);

    memset(&d, 0, sizeof d);
    rc = nano_cfg_parse_yaml_ex("a: 1\nb: 2\nc: 3\nd: 4\n", 20, "t.yaml", &lim,
                                &doc, &d);
    NT_EQ_INT(rc, -E2BIG);
    NT_CHECK(doc == NULL);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "t.yaml:4:4: too many values: the limit is 4");
    lim.max_nodes = 0;
    lim.max_bytes = 10;
    rc = nano_cfg_parse_yaml_ex("a: 1\nb: 2\nc: 3\n", 15, "t.yaml", &lim, &doc, &d);
    NT_EQ_INT(rc, -E2BIG);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "t.yaml: input is 15 bytes, more than the limit of 10");
}

/* A big map goes through the hash index for duplicate keys. */
static void
test_duplicate_in_big_map(void)
{
    struct nano_buf b;
    int rc;

    nano_buf_init(&b, 1u << 20);
    for (int i = 0; i < 300; i++)
        nano_buf_printf(&b, "key%d: %d\n", i, i);
    NT_EQ_STR(cfg_err(CFG_YAML, b.data, "big.yaml", &rc), "OK");
    nano_buf_puts(&b, "key123: again\n");
    NT_EQ_STR(cfg_err(CFG_YAML, b.data, "big.yaml", &rc),
              "big.yaml:301:1: duplicate key 'key123' (first defined at 124:1)");
    nano_buf_free(&b);
}

/* The same configuration in both syntaxes gives the same tree. */
static const char same_yaml[] =
    "# Nano configuration, YAML flavour\n"
    "log:\n"
    "  level: info\n"
    "  format: json\n"
    "devices:\n"
    "  boiler:\n"
    "    driver: bme280\n"
    "    interval: 10s\n"
    "    enabled: true\n"
    "    address: 0x76          # stays text: not a JSON number\n"
    "    offset: -0.5\n"
    "    calibration: [1.0, 2e3, -7]\n"
    "  tank:\n"
    "    driver: ds18b20\n"
    "    enabled: false\n"
    "    label: \"Tank \\u00e9 \\\"north\\\"\"\n"
    "    note: ~\n"
    "pins:\n"
    "  led: {chip: gpiochip0, line: 17, direction: out}\n"
    "rules:\n"
    "  - when temperature > 30\n"
    "  - 'then gpio.set(led, HIGH)'\n"
    "empty_map: {}\n"
    "empty_list: []\n";

static const char same_json[] =
    "{\n"
    "  \"log\": {\"level\": \"info\", \"format\": \"json\"},\n"
    "  \"devices\": {\n"
    "    \"boiler\": {\n"
    "      \"driver\": \"bme280\", \"interval\": \"10s\", \"enabled\": true,\n"
    "      \"address\": \"0x76\", \"offset\": -0.5,\n"
    "      \"calibration\": [1.0, 2e3, -7]\n"
    "    },\n"
    "    \"tank\": {\"driver\": \"ds18b20\", \"enabled\": false,\n"
    "             \"label\": \"Tank \xC3\xA9 \\\"north\\\"\", \"note\": null}\n"
    "  },\n"
    "  \"pins\": {\"led\": {\"chip\": \"gpiochip0\", \"line\": 17, "
    "\"direction\": \"out\"}},\n"
    "  \"rules\": [\"when temperature > 30\", \"then gpio.set(led, HIGH)\"],\n"
    "  \"empty_map\": {},\n"
    "  \"empty_list\": []\n"
    "}\n";

static void
test_same_tree_as_json(void)
{
    char *y = cfg_parse_dump(CFG_YAML, same_yaml);
    char *j = cfg_parse_dump(CFG_JSON, same_json);

    NT_EQ_STR(y, j);
    NT_CHECK(strstr(y, "\"address\": str \"0x76\"") != NULL);
    NT_CHECK(strstr(y, "\"calibration\": list\n        - num 1.0\n") != NULL);
    free(y);
    free(j);
}

static void
test_alloc_failure(void)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char *want, *dump;
    uint64_t k;
    int rc;

    doc = parse(same_yaml);
    want = cfg_dump_str(nano_cfg_root(doc));
    nano_cfg_free(doc);

    for (k = 1; k < 1000; k++) {
        memset(&d, 0, sizeof d);
        doc = (struct nano_cfg_doc *)&d;
        nano_mem_fail_after(k);
        rc = nano_cfg_parse_yaml(same_yaml, sizeof same_yaml - 1, "t.yaml",
                                 &doc, &d);
        nano_mem_fail_after(0);
        if (rc == NANO_OK)
            break;
        NT_MSG("allocation %llu", (unsigned long long)k);
        NT_EQ_INT(rc, -ENOMEM);
        NT_CHECK(doc == NULL);
        NT_EQ_STR(d.msg, "out of memory");
    }
    nt_msgbuf[0] = '\0';
    NT_CHECK(k >= 2);
    NT_ASSERT(rc == NANO_OK);
    dump = cfg_dump_str(nano_cfg_root(doc));
    NT_EQ_STR(dump, want);
    free(dump);
    free(want);
    nano_cfg_free(doc);
    CFG_CHECK_NO_LEAKS();
}

NT_LIST = {
    { "block_style",            test_block_style },
    { "flow_style",             test_flow_style },
    { "scalars",                test_scalars },
    { "multiline_strings",      test_multiline_strings },
    { "comments",               test_comments },
    { "positions",              test_positions },
    { "empty_documents",        test_empty_documents },
    { "malformed",              test_malformed },
    { "limits",                 test_limits },
    { "duplicate_in_big_map",   test_duplicate_in_big_map },
    { "same_tree_as_json",      test_same_tree_as_json },
    { "alloc_failure",          test_alloc_failure },
    { NULL, NULL }
};
