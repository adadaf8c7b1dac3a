/* test_json.c - JSON writer: separators, nesting, escaping, numbers,
 * invalid UTF-8 replacement and sticky errors at the buffer maximum. */
#include "harness/nt.h"
#include "core/err.h"
#include "core/json.h"

static void
test_nested_document(void)
{
    struct nano_buf b;
    struct nano_json w;

    nano_buf_init(&b, 4096);
    nano_json_init(&w, &b);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "a");
    nano_json_int(&w, -3);
    nano_json_key(&w, "list");
    nano_json_arr_begin(&w);
    nano_json_num(&w, 21.5);
    nano_json_bool(&w, true);
    nano_json_null(&w);
    nano_json_obj_begin(&w);
    nano_json_obj_end(&w);
    nano_json_arr_end(&w);
    nano_json_key(&w, "s");
    nano_json_str(&w, "x");
    nano_json_obj_end(&w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_EQ_STR(b.data, "{\"a\":-3,\"list\":[21.5,true,null,{}],\"s\":\"x\"}");
    nano_buf_free(&b);
}

static void
test_escaping(void)
{
    struct nano_buf b;

    nano_buf_init(&b, 256);
    const char in[] = "q\"b\\n\n\t\x01 \xC3\xA9 \xFF end";
    NT_EQ_INT(nano_json_escape(&b, in, sizeof in - 1), NANO_OK);
    NT_EQ_STR(b.data, "q\\\"b\\\\n\\n\\t\\u0001 \xC3\xA9 \xEF\xBF\xBD end");
    nano_buf_free(&b);
}

static void
test_numbers_round_trip(void)
{
    char tmp[40];
    static const double vals[] = { 0.1, 0.1 + 0.2, 1e300, -2.5e-7, 123456789012.0, 1.0 / 3 };

    for (size_t i = 0; i < NANO_ARRAY_LEN(vals); i++) {
        nano_json_fmt_double(tmp, sizeof tmp, vals[i]);
        NT_CHECK(strtod(tmp, NULL) == vals[i]);
    }
    nano_json_fmt_double(tmp, sizeof tmp, 21.5);
    NT_EQ_STR(tmp, "21.5");
    nano_json_fmt_double(tmp, sizeof tmp, 42.0);
    NT_EQ_STR(tmp, "42");

    struct nano_buf b;
    struct nano_json w;
    nano_buf_init(&b, 64);
    nano_json_init(&w, &b);
    nano_json_num(&w, NAN);
    NT_EQ_STR(b.data, "null");
    nano_buf_free(&b);
}

static void
test_sticky_error_at_max(void)
{
    struct nano_buf b;
    struct nano_json w;

    nano_buf_init(&b, 10);
    nano_json_init(&w, &b);
    nano_json_arr_begin(&w);
    nano_json_str(&w, "0123456789");
    nano_json_int(&w, 1);
    nano_json_arr_end(&w);
    NT_EQ_INT(nano_json_end(&w), -ENOSPC);
    NT_CHECK(b.len <= 10);
    nano_buf_free(&b);
}

NT_LIST = {
    { "nested_document", test_nested_document },
    { "escaping", test_escaping },
    { "numbers_round_trip", test_numbers_round_trip },
    { "sticky_error_at_max", test_sticky_error_at_max },
    { NULL, NULL }
};
