/* SPDX-License-Identifier: MIT
 *
 * test_cfg_json.c - the JSON parser: every value kind, escapes and Unicode,
 * numbers kept as written, positions in characters, nesting and size
 * limits, the exact message for each kind of malformed input, and clean
 * -ENOMEM at every allocation.
 */
#include <math.h>
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
    if (nano_cfg_parse_json(text, strlen(text), "t.json", &doc, &d) != NANO_OK) {
        nt_fail(__FILE__, __LINE__, "parse failed: %s",
                nano_diag_format(&d, msg, sizeof msg));
        exit(1);
    }
    return doc;
}

static void
test_all_value_kinds(void)
{
    struct nano_cfg_doc *doc = parse(
        "{\"s\": \"text\", \"i\": 42, \"f\": -1.5, \"t\": true, \"f2\": false,"
        " \"n\": null, \"a\": [1, \"two\", [], {}], \"o\": {\"k\": \"v\"}}");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n;
    char *dump;

    NT_ASSERT(r && r->kind == NANO_CFG_MAP);
    NT_EQ_INT(r->count, 8);
    NT_CHECK(r->key == NULL && r->parent == NULL);

    n = nano_cfg_get(r, "s");
    NT_ASSERT(n);
    NT_CHECK(n->kind == NANO_CFG_SCALAR && n->quoted);
    NT_EQ_STR(n->str, "text");
    NT_EQ_INT(n->len, 4);
    NT_EQ_STR(n->key, "s");
    NT_CHECK(n->parent == r);

    n = nano_cfg_get(r, "i");
    NT_CHECK(n->kind == NANO_CFG_SCALAR && !n->quoted);
    NT_EQ_STR(n->str, "42");
    n = nano_cfg_get(r, "f");
    NT_EQ_STR(n->str, "-1.5");
    n = nano_cfg_get(r, "t");
    NT_CHECK(n->kind == NANO_CFG_SCALAR && !n->quoted);
    NT_EQ_STR(n->str, "true");
    NT_EQ_STR(nano_cfg_get(r, "f2")->str, "false");
    n = nano_cfg_get(r, "n");
    NT_CHECK(n->kind == NANO_CFG_NULL);

    n = nano_cfg_get(r, "a");
    NT_ASSERT(n && n->kind == NANO_CFG_LIST);
    NT_EQ_INT(n->count, 4);
    NT_CHECK(n->child->kind == NANO_CFG_SCALAR && n->child->key == NULL);
    NT_CHECK(n->child->next->quoted);
    NT_CHECK(n->child->next->next->kind == NANO_CFG_LIST);
    NT_EQ_INT(n->child->next->next->count, 0);
    NT_CHECK(n->last->kind == NANO_CFG_MAP && n->last->child == NULL);
    NT_EQ_STR(nano_cfg_path(r, "o.k")->str, "v");

    /* document order is kept */
    NT_EQ_STR(r->child->key, "s");
    NT_EQ_STR(r->last->key, "o");

    dump = cfg_dump_str(r);
    NT_EQ_STR(dump,
              "map\n"
              "  \"s\": str \"text\"\n"
              "  \"i\": num 42\n"
              "  \"f\": num -1.5\n"
              "  \"t\": bool true\n"
              "  \"f2\": bool false\n"
              "  \"n\": null\n"
              "  \"a\": list\n"
              "    - num 1\n"
              "    - str \"two\"\n"
              "    - list\n"
              "    - map\n"
              "  \"o\": map\n"
              "    \"k\": str \"v\"\n");
    free(dump);
    nano_cfg_free(doc);
}

static void
test_top_level_scalars(void)
{
    struct nano_cfg_doc *doc = parse("  \"just a string\"  ");

    NT_CHECK(nano_cfg_root(doc)->kind == NANO_CFG_SCALAR);
    NT_EQ_STR(nano_cfg_root(doc)->str, "just a string");
    NT_EQ_INT(nano_cfg_root(doc)->col, 3);
    nano_cfg_free(doc);

    doc = parse("\n\t-7\n");
    NT_EQ_STR(nano_cfg_root(doc)->str, "-7");
    NT_EQ_INT(nano_cfg_root(doc)->line, 2);
    NT_EQ_INT(nano_cfg_root(doc)->col, 2);
    nano_cfg_free(doc);

    doc = parse("null");
    NT_CHECK(nano_cfg_root(doc)->kind == NANO_CFG_NULL);
    nano_cfg_free(doc);
}

static void
test_escapes(void)
{
    struct nano_cfg_doc *doc = parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"a\\u0041b\"]");
    struct nano_cfg_node *n = nano_cfg_root(doc)->child;

    NT_EQ_INT(n->len, 8);
    NT_CHECK(memcmp(n->str, "\"\\/\b\f\n\r\t", 9) == 0);
    NT_EQ_STR(n->next->str, "aAb");
    nano_cfg_free(doc);
}

static void
test_unicode(void)
{
    struct nano_cfg_doc *doc = parse(
        "[\"\\u00e9\", \"\\u20AC\", \"\\uD83D\\uDE00\", \"\\uDBFF\\uDFFF\","
        " \"h\xC3\xA9llo \xE2\x82\xAC\", \"a\\u0000b\", \"\\u0000\"]");
    struct nano_cfg_node *n = nano_cfg_root(doc)->child;
    struct nano_diag d;
    const char *s;
    char msg[400];

    NT_EQ_STR(n->str, "\xC3\xA9");
    n = n->next;
    NT_EQ_STR(n->str, "\xE2\x82\xAC");
    n = n->next;
    NT_EQ_STR(n->str, "\xF0\x9F\x98\x80");          /* U+1F600 from a pair */
    n = n->next;
    NT_EQ_STR(n->str, "\xF4\x8F\xBF\xBF");          /* U+10FFFF */
    n = n->next;
    NT_EQ_STR(n->str, "h\xC3\xA9llo \xE2\x82\xAC"); /* raw UTF-8 untouched */
    n = n->next;
    NT_EQ_INT(n->len, 3);                           /* a NUL inside is kept */
    NT_CHECK(memcmp(n->str, "a\0b", 4) == 0);
    memset(&d, 0, sizeof d);
    d.origin = "t.json";
    NT_EQ_INT(nano_cfg_as_str(n, &s, &d), NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "t.json:1:65: item 6 of the document expects text without NUL "
              "characters, got \"a\\x00b\"");
    n = n->next;
    NT_EQ_INT(n->len, 1);
    nano_cfg_free(doc);
}

static void
test_numbers(void)
{
    struct nano_cfg_doc *doc = parse(
        "[0, -0, 123456789012345678901234567890, -17, 6.02e23, 1E-3, "
        "2.5E+10, -0.0, 1e999, 9223372036854775807, -9223372036854775808]");
    struct nano_cfg_node *n = nano_cfg_root(doc)->child;
    struct nano_diag d;
    char msg[400];
    double v;
    int64_t i;

    memset(&d, 0, sizeof d);
    NT_EQ_STR(n->str, "0");
    NT_EQ_INT(nano_cfg_as_int(n, INT64_MIN, INT64_MAX, &i, &d), NANO_OK);
    NT_EQ_INT(i, 0);
    n = n->next;
    NT_EQ_STR(n->str, "-0");
    n = n->next;
    /* big numbers keep every digit: the tree never rounds */
    NT_EQ_STR(n->str, "123456789012345678901234567890");
    NT_EQ_INT(nano_cfg_as_num(n, &v, &d), NANO_OK);
    NT_NEAR(v, 1.2345678901234568e29, 1e14);
    NT_EQ_INT(nano_cfg_as_int(n, INT64_MIN, INT64_MAX, &i, &d), NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "1:9: item 3 of the document expects an integer, got "
              "123456789012345678901234567890 (out of range)");
    n = n->next;
    NT_EQ_INT(nano_cfg_as_int(n, -100, 100, &i, &d), NANO_OK);
    NT_EQ_INT(i, -17);
    n = n->next;
    NT_EQ_STR(n->str, "6.02e23");
    NT_EQ_INT(nano_cfg_as_num(n, &v, &d), NANO_OK);
    NT_NEAR(v, 6.02e23, 1e9);
    NT_EQ_INT(nano_cfg_as_int(n, INT64_MIN, INT64_MAX, &i, &d), NANO_ESCHEMA);
    n = n->next;
    NT_EQ_INT(nano_cfg_as_num(n, &v, &d), NANO_OK);
    NT_NEAR(v, 0.001, 1e-12);
    n = n->next;
    NT_EQ_STR(n->str, "2.5E+10");
    NT_EQ_INT(nano_cfg_as_num(n, &v, &d), NANO_OK);
    NT_NEAR(v, 2.5e10, 1e-3);
    n = n->next;
    NT_EQ_STR(n->str, "-0.0");
    n = n->next;
    NT_EQ_STR(n->str, "1e999");                     /* valid JSON, no double */
    NT_EQ_INT(nano_cfg_as_num(n, &v, &d), NANO_ESCHEMA);
    NT_EQ_STR(d.msg, "item 9 of the document expects a number, got 1e999 "
                     "(out of range)");
    n = n->next;
    NT_EQ_INT(nano_cfg_as_int(n, INT64_MIN, INT64_MAX, &i, &d), NANO_OK);
    NT_CHECK(i == INT64_MAX);
    n = n->next;
    NT_EQ_INT(nano_cfg_as_int(n, INT64_MIN, INT64_MAX, &i, &d), NANO_OK);
    NT_CHECK(i == INT64_MIN);
    nano_cfg_free(doc);
}

static void
test_positions(void)
{
    /* Columns count characters: "é" and "ü" are two bytes, one column. */
    struct nano_cfg_doc *doc = parse(
        "{\n"
        "  \"name\": \"boiler\",\n"
        "  \"list\": [1,\n"
        "     \"\xC3\xA9\", 3],\n"
        "  \"\xC3\xBC\": {\"x\": null}\n"
        "}");
    struct nano_cfg_node *r = nano_cfg_root(doc), *n;

    NT_EQ_INT(r->line, 1);
    NT_EQ_INT(r->col, 1);
    n = nano_cfg_get(r, "name");
    NT_EQ_INT(n->key_line, 2);
    NT_EQ_INT(n->key_col, 3);
    NT_EQ_INT(n->line, 2);
    NT_EQ_INT(n->col, 11);
    n = nano_cfg_get(r, "list");
    NT_EQ_INT(n->key_col, 3);
    NT_EQ_INT(n->line, 3);
    NT_EQ_INT(n->col, 11);
    NT_EQ_INT(n->child->line, 3);
    NT_EQ_INT(n->child->col, 12);
    NT_EQ_INT(n->child->next->line, 4);
    NT_EQ_INT(n->child->next->col, 6);
    NT_EQ_INT(n->last->line, 4);
    NT_EQ_INT(n->last->col, 11);
    n = nano_cfg_get(r, "\xC3\xBC");
    NT_ASSERT(n);
    NT_EQ_INT(n->key_line, 5);
    NT_EQ_INT(n->line, 5);
    NT_EQ_INT(n->col, 8);
    NT_EQ_INT(n->child->key_col, 9);
    NT_EQ_INT(n->child->col, 14);
    nano_cfg_free(doc);
}

static void
test_line_endings_and_bom(void)
{
    struct nano_cfg_doc *doc = parse("{\r\n\"a\":\r\n 1,\r\"b\": 2}");
    struct nano_cfg_node *r = nano_cfg_root(doc);

    NT_EQ_INT(r->child->key_line, 2);
    NT_EQ_INT(r->child->key_col, 1);
    NT_EQ_INT(r->child->line, 3);
    NT_EQ_INT(r->child->col, 2);
    NT_EQ_INT(r->last->key_line, 4);        /* a lone CR ends a line too */
    NT_EQ_INT(r->last->col, 6);
    nano_cfg_free(doc);

    doc = parse("\xEF\xBB\xBF{\"a\": 1}");
    NT_EQ_INT(nano_cfg_root(doc)->col, 1);
    NT_EQ_INT(nano_cfg_root(doc)->child->key_col, 2);
    nano_cfg_free(doc);
}

static void
test_depth_limit(void)
{
    char text[300];
    struct nano_cfg_limits lim = { .max_depth = 2 };
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char msg[400];
    int rc;

    memset(text, 0, sizeof text);
    memset(text, '[', NANO_CFG_MAX_DEPTH);
    memset(text + NANO_CFG_MAX_DEPTH, ']', NANO_CFG_MAX_DEPTH);
    NT_EQ_STR(cfg_err(CFG_JSON, text, "nano.json", &rc), "OK");

    memset(text, 0, sizeof text);
    memset(text, '[', NANO_CFG_MAX_DEPTH + 1);
    memset(text + NANO_CFG_MAX_DEPTH + 1, ']', NANO_CFG_MAX_DEPTH + 1);
    NT_EQ_STR(cfg_err(CFG_JSON, text, "nano.json", &rc),
              "nano.json:1:65: too deeply nested: the limit is 64 levels of "
              "objects and arrays");
    NT_EQ_INT(rc, -E2BIG);

    /* far deeper than the limit: refused without recursing that deep */
    memset(text, '{', 250);
    text[250] = '\0';
    NT_EQ_STR(cfg_err(CFG_JSON, text, "nano.json", &rc),
              "nano.json:1:2: expected a string key or '}', got '{'");
    NT_EQ_INT(rc, NANO_EPARSE);
    memset(text, '[', 250);
    NT_EQ_STR(cfg_err(CFG_JSON, text, "nano.json", &rc),
              "nano.json:1:65: too deeply nested: the limit is 64 levels of "
              "objects and arrays");

    memset(&d, 0, sizeof d);
    rc = nano_cfg_parse_json_ex("{\"a\": {\"b\": {}}}", 16, "api", &lim, &doc, &d);
    NT_EQ_INT(rc, -E2BIG);
    NT_CHECK(doc == NULL);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "api:1:13: too deeply nested: the limit is 2 levels of objects "
              "and arrays");
    rc = nano_cfg_parse_json_ex("{\"a\": {\"b\": 1}}", 15, "api", &lim, &doc, &d);
    NT_EQ_INT(rc, NANO_OK);
    nano_cfg_free(doc);
}

static void
test_node_and_byte_limits(void)
{
    struct nano_cfg_limits lim = { .max_nodes = 3 };
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char msg[400];

    memset(&d, 0, sizeof d);
    NT_EQ_INT(nano_cfg_parse_json_ex("[1, 2, 3]", 9, "api", &lim, &doc, &d),
              -E2BIG);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "api:1:8: too many values: the limit is 3");
    NT_EQ_INT(nano_cfg_parse_json_ex("[1, 2]", 6, "api", &lim, &doc, &d), NANO_OK);
    nano_cfg_free(doc);

    lim.max_nodes = 0;
    lim.max_bytes = 4;
    NT_EQ_INT(nano_cfg_parse_json_ex("[1,2]", 5, "api", &lim, &doc, &d), -E2BIG);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "api: input is 5 bytes, more than the limit of 4");
    NT_EQ_INT(nano_cfg_parse_json_ex("[12]", 4, "api", &lim, &doc, &d), NANO_OK);
    nano_cfg_free(doc);

    /* a limit above the compile-time maximum is the maximum */
    lim.max_bytes = (size_t)NANO_CFG_MAX_BYTES * 4;
    NT_EQ_INT(nano_cfg_parse_json_ex("[1]", NANO_CFG_MAX_BYTES + 1u, "api", &lim,
                                     &doc, &d), -E2BIG);
}

static const struct cfg_bad bad_json[] = {
    { "{\"a\": 1,}", "nano.json:1:9: expected a string key after ',', got '}' "
      "(trailing commas are not allowed)", NANO_EPARSE },
    { "[1, 2,]", "nano.json:1:7: expected a value after ',', got ']' "
      "(trailing commas are not allowed)", NANO_EPARSE },
    { "{\n  \"a\": 1,\n  \"b\": [1, 2]\n]",
      "nano.json:4:1: expected ',' or '}' after an object member, got ']'",
      NANO_EPARSE },
    { "{\"a\" 1}", "nano.json:1:6: expected ':' after key 'a', got a number",
      NANO_EPARSE },
    { "{\"a\": 1 \"b\": 2}", "nano.json:1:9: expected ',' or '}' after an "
      "object member, got a string", NANO_EPARSE },
    { "[1 2]", "nano.json:1:4: expected ',' or ']' after an array element, "
      "got a number", NANO_EPARSE },
    { "[\"a\" \"b\"]", "nano.json:1:6: expected ',' or ']' after an array "
      "element, got a string", NANO_EPARSE },
    { "{\"a\": 01}", "nano.json:1:7: invalid number '01': leading zeros are "
      "not allowed", NANO_EPARSE },
    { "{\"a\": \"abc", "nano.json:1:7: unterminated string: no closing '\"' "
      "before the end of input", NANO_EPARSE },
    { "{\"a\": tru}", "nano.json:1:7: expected a value, got 'tru' (did you "
      "mean 'true'?)", NANO_EPARSE },
    { "[True]", "nano.json:1:2: expected a value, got 'True' (did you mean "
      "'true'?)", NANO_EPARSE },
    { "{\"mode\": fast}", "nano.json:1:10: expected a value, got 'fast' "
      "(strings must be in double quotes)", NANO_EPARSE },
    { "[NaN]", "nano.json:1:2: expected a value, got 'NaN' (JSON has no NaN "
      "or Infinity)", NANO_EPARSE },
    { "{\"a\": 1, \"a\": 2}", "nano.json:1:10: duplicate key 'a' (first "
      "defined at 1:2)", NANO_EPARSE },
    { "{\"outer\": {\"x\": 1,\n  \"x\": 2}}", "nano.json:2:3: duplicate key "
      "'x' (first defined at 1:12)", NANO_EPARSE },
    { "\"line\nbreak\"", "nano.json:1:6: line break inside a string (is the "
      "closing '\"' missing? write a line break as \\n)", NANO_EPARSE },
    { "\"tab\there\"", "nano.json:1:5: control character U+0009 in a string "
      "must be written as \\u0009", NANO_EPARSE },
    { "\"\\ud800\"", "nano.json:1:2: invalid \\u escape in string: high "
      "surrogate \\uD800 must be followed by a low surrogate \\uDC00-\\uDFFF",
      NANO_EPARSE },
    { "\"\\ud800\\u0041\"", "nano.json:1:2: invalid \\u escape in string: "
      "high surrogate \\uD800 must be followed by a low surrogate "
      "\\uDC00-\\uDFFF", NANO_EPARSE },
    { "\"ab\\udc00x\"", "nano.json:1:4: invalid \\u escape in string: "
      "\\uDC00 is a low surrogate without a high surrogate before it",
      NANO_EPARSE },
    { "\"\\u12\"", "nano.json:1:2: invalid \\u escape in string: expected 4 "
      "hex digits", NANO_EPARSE },
    { "\"\\x41\"", "nano.json:1:2: invalid escape '\\x' in string (valid: "
      "\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", NANO_EPARSE },
    { "\"caf\xC3\"", "nano.json:1:5: invalid UTF-8 in string: byte 0xC3",
      NANO_EPARSE },
    { "\"\xED\xA0\x80\"", "nano.json:1:2: invalid UTF-8 in string: byte 0xED",
      NANO_EPARSE },
    { "[\"\xC0\xAF\"]", "nano.json:1:3: invalid UTF-8 in string: byte 0xC0",
      NANO_EPARSE },
    { "// comment\n{}", "nano.json:1:1: expected a value, got '/'",
      NANO_EPARSE },
    { "{\"a\": 1} // note", "nano.json:1:10: expected the end of input after "
      "the top-level value, got '/'", NANO_EPARSE },
    { "{\"a\":1}}", "nano.json:1:8: expected the end of input after the "
      "top-level value, got '}'", NANO_EPARSE },
    { "", "nano.json:1:1: expected a value, got end of input", NANO_EPARSE },
    { "  \n  ", "nano.json:2:3: expected a value, got end of input",
      NANO_EPARSE },
    { "{\"a\": [1, 2", "nano.json:1:12: expected ',' or ']' after an array "
      "element, got end of input", NANO_EPARSE },
    { "{a: 1}", "nano.json:1:2: expected a string key or '}', got 'a'",
      NANO_EPARSE },
    { "{'a': 1}", "nano.json:1:2: expected a string key or '}', got a single "
      "quote (JSON strings use double quotes)", NANO_EPARSE },
    { "{\"a\": 1, b: 2}", "nano.json:1:10: expected a string key after ',', "
      "got 'b'", NANO_EPARSE },
    { "[-]", "nano.json:1:3: expected a digit after '-', got ']'",
      NANO_EPARSE },
    { "[1.]", "nano.json:1:4: expected a digit after the decimal point, got "
      "']'", NANO_EPARSE },
    { "[1e+]", "nano.json:1:5: expected a digit in the exponent, got ']'",
      NANO_EPARSE },
    { "[.5]", "nano.json:1:2: expected a value, got '.'", NANO_EPARSE },
    { "[+1]", "nano.json:1:2: expected a value, got '+'", NANO_EPARSE },
    { "[1,,2]", "nano.json:1:4: expected a value, got ','", NANO_EPARSE },
    { "{\"a\":}", "nano.json:1:6: expected a value, got '}'", NANO_EPARSE },
    { "[\x01]", "nano.json:1:2: expected a value, got control character "
      "U+0001", NANO_EPARSE },
    { "[\xC3\xA9]", "nano.json:1:2: expected a value, got '\xC3\xA9'",
      NANO_EPARSE },
    { "[\xFF]", "nano.json:1:2: expected a value, got byte 0xFF, which is "
      "not UTF-8", NANO_EPARSE },
    { "{\"a\\u0000\": 1}", "nano.json:1:2: a key must not contain \\u0000",
      NANO_EPARSE },
    { "\xEF\xBB\xBF[1,]", "nano.json:1:4: expected a value after ',', got "
      "']' (trailing commas are not allowed)", NANO_EPARSE },
    { "{\"\xC3\xA9t\xC3\xA9\": 1,\n \"b\": [1 x]}", "nano.json:2:10: "
      "expected ',' or ']' after an array element, got 'x'", NANO_EPARSE },
};

static void
test_malformed(void)
{
    NT_CHECK(NANO_ARRAY_LEN(bad_json) >= 15);
    cfg_check_bad(CFG_JSON, bad_json, NANO_ARRAY_LEN(bad_json), "nano.json");
}

/* Objects past CFG_KEYSET_MIN keys use the hash index: duplicates must
 * still be found, with the right first position, and big objects must
 * parse in linear time. */
static void
test_duplicate_in_big_object(void)
{
    struct nano_buf b;
    char want[200], *first, *second;
    const char *got;
    int rc;

    nano_buf_init(&b, 1u << 24);
    nano_buf_putc(&b, '{');
    for (int i = 0; i < 1000; i++)
        nano_buf_printf(&b, "\"k%d\":%d,", i, i);
    nano_buf_puts(&b, "\"k500\":1}");
    first = strstr(b.data, "\"k500\"");
    second = strstr(first + 1, "\"k500\"");
    snprintf(want, sizeof want,
             "big.json:1:%d: duplicate key 'k500' (first defined at 1:%d)",
             (int)(second - b.data) + 1, (int)(first - b.data) + 1);
    got = cfg_err(CFG_JSON, b.data, "big.json", &rc);
    NT_EQ_STR(got, want);
    NT_EQ_INT(rc, NANO_EPARSE);

    /* 15k distinct keys, each a map whose keys repeat across maps (150k
     * values, under NANO_CFG_MAX_NODES) */
    nano_buf_reset(&b);
    nano_buf_putc(&b, '{');
    for (int i = 0; i < 15000; i++)
        nano_buf_printf(&b, "\"key%d\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,"
                        "\"f\":6,\"g\":7,\"h\":8,\"i\":9},", i);
    nano_buf_puts(&b, "\"end\":0}");
    NT_EQ_STR(cfg_err(CFG_JSON, b.data, "big.json", &rc), "OK");
    nano_buf_free(&b);
}

/* The arena is the point: a small API body is one allocation, and a big
 * document a handful, not one per node. */
static void
test_allocation_count(void)
{
    static const char body[] = "{\"cmd\": \"set\", \"pin\": \"led\", \"value\": 1}";
    struct nano_cfg_doc *doc;
    struct nano_buf b;
    uint64_t before;
    int rc;

    before = nano_mem_alloc_count();
    rc = nano_cfg_parse_json(body, sizeof body - 1, "api", &doc, NULL);
    NT_EQ_INT(rc, NANO_OK);
    NT_EQ_INT(nano_mem_alloc_count() - before, 1);
    nano_cfg_free(doc);

    nano_buf_init(&b, 1u << 24);
    nano_buf_putc(&b, '[');
    for (int i = 0; i < 10000; i++)
        nano_buf_printf(&b, "%s{\"id\":%d,\"name\":\"sensor %d\"}", i ? "," : "",
                        i, i);
    nano_buf_putc(&b, ']');
    before = nano_mem_alloc_count();
    rc = nano_cfg_parse_json(b.data, b.len, "big", &doc, NULL);
    NT_EQ_INT(rc, NANO_OK);
    NT_MSG("%llu allocations for 30001 nodes",
           (unsigned long long)(nano_mem_alloc_count() - before));
    NT_CHECK(nano_mem_alloc_count() - before <= 24);
    NT_EQ_INT(nano_cfg_root(doc)->count, 10000);
    nano_cfg_free(doc);
    nano_buf_free(&b);
}

static void
test_to_json_exact(void)
{
    struct nano_cfg_doc *doc = parse(
        "{ \"a\" : [ 1 , -2.5e3 , true , null , \"x\\\"y\\\\z\\n\\u0001\" ] ,\n"
        "  \"\\u00e9\" : { } , \"b\" : [ ] }");
    char *json = cfg_json_str(nano_cfg_root(doc));

    NT_EQ_STR(json, "{\"a\":[1,-2.5e3,true,null,\"x\\\"y\\\\z\\n\\u0001\"],"
                    "\"\xC3\xA9\":{},\"b\":[]}");
    free(json);
    nano_cfg_free(doc);
}

static void
test_alloc_failure(void)
{
    /* Enough values to need a second arena chunk and more than
     * CFG_KEYSET_MIN keys in one object, so every allocation site fails
     * at least once. */
    static const char text[] =
        "{\"log\": {\"level\": \"info\", \"format\": \"text\"},\n"
        " \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6,\n"
        " \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": [1, 2, 3, 4, 5, 6, 7, 8],\n"
        " \"s\": \"caf\\u00e9 \\ud83d\\ude00 with a longer string to copy\",\n"
        " \"devices\": {\"a\": {\"driver\": \"sim\", \"x\": [true, false, null]},\n"
        "   \"b\": {\"driver\": \"sim\", \"x\": [true, false, null]},\n"
        "   \"c\": {\"driver\": \"sim\", \"x\": [true, false, null]}}}";
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    char *want, *dump;
    uint64_t k;
    int rc;

    doc = parse(text);
    want = cfg_dump_str(nano_cfg_root(doc));
    nano_cfg_free(doc);

    for (k = 1; k < 1000; k++) {
        memset(&d, 0, sizeof d);
        doc = (struct nano_cfg_doc *)&d;       /* must be reset to NULL */
        nano_mem_fail_after(k);
        rc = nano_cfg_parse_json(text, sizeof text - 1, "t.json", &doc, &d);
        nano_mem_fail_after(0);
        if (rc == NANO_OK)
            break;
        NT_MSG("allocation %llu", (unsigned long long)k);
        NT_EQ_INT(rc, -ENOMEM);
        NT_CHECK(doc == NULL);
        NT_EQ_STR(d.msg, "out of memory");
    }
    nt_msgbuf[0] = '\0';
    NT_MSG("parse needed %llu allocations", (unsigned long long)k);
    NT_CHECK(k >= 3);                 /* first chunk, a second one, the index */
    NT_ASSERT(rc == NANO_OK);
    dump = cfg_dump_str(nano_cfg_root(doc));
    NT_EQ_STR(dump, want);
    free(dump);
    free(want);
    nano_cfg_free(doc);
    CFG_CHECK_NO_LEAKS();
}

NT_LIST = {
    { "all_value_kinds",          test_all_value_kinds },
    { "top_level_scalars",        test_top_level_scalars },
    { "escapes",                  test_escapes },
    { "unicode",                  test_unicode },
    { "numbers",                  test_numbers },
    { "positions",                test_positions },
    { "line_endings_and_bom",     test_line_endings_and_bom },
    { "depth_limit",              test_depth_limit },
    { "node_and_byte_limits",     test_node_and_byte_limits },
    { "malformed",                test_malformed },
    { "duplicate_in_big_object",  test_duplicate_in_big_object },
    { "allocation_count",         test_allocation_count },
    { "to_json_exact",            test_to_json_exact },
    { "alloc_failure",            test_alloc_failure },
    { NULL, NULL }
};
