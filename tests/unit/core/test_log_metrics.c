/* test_log_metrics.c - log line formats, repeat suppression with a count,
 * metrics registry identity, histogram buckets and percentiles. */
#include <fcntl.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/time.h"

/* Route the log to a pipe and return what was written so far. */
static int log_pipe[2];

static void
capture_begin(enum nano_log_format fmt)
{
    NT_ASSERT(pipe(log_pipe) == 0);
    fcntl(log_pipe[0], F_SETFL, O_NONBLOCK);
    nano_log_configure(NANO_LOG_DEBUG, fmt, log_pipe[1]);
}

static char *
capture_read(void)
{
    static char buf[16384];
    ssize_t n = read(log_pipe[0], buf, sizeof buf - 1);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int
count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void
test_logfmt_and_json_lines(void)
{
    capture_begin(NANO_LOG_LOGFMT);
    nano_logf(NANO_LOG_WARN, "drivers", "boiler: read \"timed\" out\nnext");
    char *out = capture_read();
    NT_CHECK(strncmp(out, "ts=", 3) == 0);
    NT_CHECK(strstr(out, " level=warn module=drivers msg=\"boiler: read \\\"timed\\\" out\\nnext\"\n") != NULL);
    NT_EQ_INT(count_lines(out), 1);

    capture_begin(NANO_LOG_JSON);
    nano_logf(NANO_LOG_ERR, "api", "tab\there %d", 5);
    out = capture_read();
    NT_CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
    NT_CHECK(strstr(out, "\"level\":\"error\",\"module\":\"api\",\"msg\":\"tab\\u0009here 5\"}\n") != NULL);

    /* Below the level: nothing. */
    nano_log_configure(NANO_LOG_WARN, NANO_LOG_LOGFMT, log_pipe[1]);
    nano_logf(NANO_LOG_INFO, "x", "hidden");
    NT_EQ_STR(capture_read(), "");

    /* An over-long message is cut, still one line. */
    nano_log_configure(NANO_LOG_DEBUG, NANO_LOG_LOGFMT, log_pipe[1]);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nano_logf(NANO_LOG_INFO, "x", "%s", big);
    out = capture_read();
    NT_EQ_INT(count_lines(out), 1);
    NT_CHECK(strstr(out, "...\"") != NULL);
    NT_CHECK(strlen(out) <= NANO_LOG_LINE_MAX + 64);
}

static void
test_repeats_are_counted(void)
{
    uint64_t w0, s0, w1, s1;

    capture_begin(NANO_LOG_LOGFMT);
    nano_log_set_repeat_window(200 * NANO_NS_PER_MS);
    nano_log_counts(&w0, &s0);
    for (int i = 0; i < 50; i++)
        nano_logf(NANO_LOG_WARN, "drivers", "boiler: read timed out");
    nano_logf(NANO_LOG_WARN, "drivers", "other message");
    char *out = capture_read();
    NT_EQ_INT(count_lines(out), 2);        /* first occurrence + the other */
    nano_log_counts(&w1, &s1);
    NT_EQ_INT(s1 - s0, 49);
    NT_EQ_INT(nano_log_flush_repeats(), 0);   /* window not over yet */
    usleep(250 * 1000);
    NT_EQ_INT(nano_log_flush_repeats(), 1);
    out = capture_read();
    NT_CHECK(strstr(out, "msg=\"boiler: read timed out\" repeated=49\n") != NULL);
    /* After the summary the message prints again. */
    nano_logf(NANO_LOG_WARN, "drivers", "boiler: read timed out");
    out = capture_read();
    NT_EQ_INT(count_lines(out), 1);
    NT_CHECK(strstr(out, "repeated") == NULL);
}

static void
test_metric_registry(void)
{
    struct nano_metric *a = nano_metric_counter("nano_test_total", "help");
    struct nano_metric *b = nano_metric_counter("nano_test_total", "help");
    NT_CHECK(a == b);
    nano_metric_inc(a);
    nano_metric_add(b, 2);
    NT_NEAR(nano_metric_find("nano_test_total")->value, 3, 0);
    /* Same name with another type is a bug: updates go to scratch, no crash. */
    struct nano_metric *g = nano_metric_gauge("nano_test_total", "help");
    NT_CHECK(g != a);
    nano_metric_set(g, 7);
    NT_NEAR(a->value, 3, 0);
    nano_metric_remove("nano_test_total");
    NT_CHECK(nano_metric_find("nano_test_total") == NULL);
    nano_metrics_reset();
}

static void
test_histogram_percentiles(void)
{
    struct nano_metric *h = nano_metric_histogram("nano_lat_ns", "latency");

    NT_EQ_INT(nano_hist_bucket(0.5), 0);
    NT_EQ_INT(nano_hist_bucket(1.0), 1);
    NT_EQ_INT(nano_hist_bucket(1.3), 2);
    NT_CHECK(nano_hist_bucket(1e6) < NANO_HIST_BUCKETS - 1);
    for (unsigned b = 1; b < 100; b++)
        NT_CHECK(nano_hist_bucket(nano_hist_bucket_upper(b) * 0.999) == b);
    /* 1..1000: p50 ~ 500, p99 ~ 990, within one bucket (<= 25 %). */
    for (int i = 1; i <= 1000; i++)
        nano_metric_observe(h, i);
    NT_EQ_INT(h->count, 1000);
    double p50 = nano_metric_percentile(h, 50), p99 = nano_metric_percentile(h, 99);
    NT_CHECK(p50 >= 500 && p50 <= 500 * 1.25);
    NT_CHECK(p99 >= 990 && p99 <= 1000);
    NT_NEAR(nano_metric_percentile(h, 100), 1000, 0);
    nano_metrics_reset();
}

NT_LIST = {
    { "logfmt_and_json_lines", test_logfmt_and_json_lines },
    { "repeats_are_counted", test_repeats_are_counted },
    { "metric_registry", test_metric_registry },
    { "histogram_percentiles", test_histogram_percentiles },
    { NULL, NULL }
};
