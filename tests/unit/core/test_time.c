/* test_time.c - duration parsing and formatting, RFC 3339 timestamps. */
#include "harness/nt.h"
#include "core/err.h"
#include "core/time.h"

static void
test_duration_parse(void)
{
    static const struct { const char *s; uint64_t ns; } ok[] = {
        { "500ms", 500 * NANO_NS_PER_MS }, { "30s", 30 * NANO_NS_PER_S },
        { "5m", 300 * NANO_NS_PER_S }, { "1h30m", 5400 * NANO_NS_PER_S },
        { "1.5s", 1500 * NANO_NS_PER_MS }, { "2", 2 * NANO_NS_PER_S },
        { "0.25", 250 * NANO_NS_PER_MS }, { "10us", 10000 }, { "7ns", 7 },
        { "1d", 86400 * NANO_NS_PER_S }, { "0s", 0 }, { "2min", 120 * NANO_NS_PER_S },
    };
    static const char *const bad[] = {
        "", "s", "fast", "-1s", "1x", "1m30", "nan", "inf", "1e400s", "1 s s", "s1",
    };
    uint64_t ns;

    for (size_t i = 0; i < NANO_ARRAY_LEN(ok); i++) {
        NT_MSG("%s", ok[i].s);
        NT_EQ_INT(nano_duration_parse(ok[i].s, &ns), NANO_OK);
        NT_EQ_INT(ns, ok[i].ns);
    }
    for (size_t i = 0; i < NANO_ARRAY_LEN(bad); i++) {
        NT_MSG("%s", bad[i]);
        NT_EQ_INT(nano_duration_parse(bad[i], &ns), NANO_EPARSE);
    }
}

static void
test_duration_format_round_trips(void)
{
    static const struct { uint64_t ns; const char *s; } cases[] = {
        { 0, "0s" }, { 250 * NANO_NS_PER_MS, "250ms" }, { 30 * NANO_NS_PER_S, "30s" },
        { 300 * NANO_NS_PER_S, "5m" }, { 5400 * NANO_NS_PER_S, "1h30m" },
        { 33030 * NANO_NS_PER_S, "9h10m30s" }, { 3605 * NANO_NS_PER_S, "1h5s" },
        { 1500, "1500ns" }, { 2000, "2us" },
    };
    char out[32];
    uint64_t back;

    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        nano_duration_format(cases[i].ns, out, sizeof out);
        NT_EQ_STR(out, cases[i].s);
        NT_EQ_INT(nano_duration_parse(out, &back), NANO_OK);
        NT_EQ_INT(back, cases[i].ns);
    }
}

static void
test_rfc3339(void)
{
    char out[40];

    nano_time_format_rfc3339(1764777600123456000ull, out, sizeof out);
    NT_EQ_STR(out, "2025-12-03T16:00:00.123456Z");
}

NT_LIST = {
    { "duration_parse", test_duration_parse },
    { "duration_format_round_trips", test_duration_format_round_trips },
    { "rfc3339", test_rfc3339 },
    { NULL, NULL }
};
