/* test_state.c - atomic state files: round trip, replace, torn writes,
 * flipped bits, foreign files and garbage never crash and are set aside. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/state.h"

static char dir[] = "/tmp/nano-state-XXXXXX";

static void
write_raw(const char *name, const char *data, size_t len)
{
    char path[512];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    NT_ASSERT(fd >= 0);
    NT_ASSERT(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static bool
exists(const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static void
test_round_trip_and_replace(void)
{
    struct nano_buf b;
    struct nano_diag d = { 0 };

    NT_ASSERT(mkdtemp(dir));
    NT_EQ_INT(nano_state_write(dir, "devices.json", "{\"a\":1}", 7), NANO_OK);
    nano_buf_init(&b, 1 << 20);
    NT_EQ_INT(nano_state_read(dir, "devices.json", &b, &d), NANO_OK);
    NT_EQ_STR(b.data, "{\"a\":1}");
    nano_buf_reset(&b);
    NT_EQ_INT(nano_state_write(dir, "devices.json", "{}", 2), NANO_OK);
    NT_EQ_INT(nano_state_read(dir, "devices.json", &b, &d), NANO_OK);
    NT_EQ_STR(b.data, "{}");
    NT_CHECK(!exists(".devices.json.tmp"));
    NT_EQ_INT(nano_state_read(dir, "missing.json", &b, &d), -ENOENT);
    NT_EQ_INT(nano_state_remove(dir, "devices.json"), NANO_OK);
    NT_EQ_INT(nano_state_remove(dir, "devices.json"), NANO_OK);
    /* Nested directory creation. */
    char nested[600];
    snprintf(nested, sizeof nested, "%s/a/b/c", dir);
    NT_EQ_INT(nano_state_mkdir(nested), NANO_OK);
    NT_EQ_INT(nano_state_write(nested, "x", "1", 1), NANO_OK);
    /* Writing into a missing directory is an error, not a crash. */
    NT_EQ_INT(nano_state_write("/nonexistent/dir", "x", "1", 1), -ENOENT);
    nano_buf_free(&b);
}

static void
test_corruption_is_detected_and_set_aside(void)
{
    static const struct { const char *name, *data, *why; } cases[] = {
        { "torn", "NANO-STATE 1 20 00000000\n{\"a\":", "torn write" },
        { "flip", NULL, "checksum mismatch" },
        { "foreign", "{\"plain\": \"json\"}", "bad header" },
        { "empty", "", "bad header" },
        { "garbage", "NANO-STATE 1 zz 1234\n", "malformed header" },
        { "nonl", "NANO-STATE 1 5 0000", "bad header" },
    };
    struct nano_buf b;

    NT_ASSERT(mkdtemp(dir));
    nano_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct nano_diag d = { 0 };
        char corrupt[64];
        if (cases[i].data) {
            write_raw(cases[i].name, cases[i].data, strlen(cases[i].data));
        } else {
            NT_EQ_INT(nano_state_write(dir, cases[i].name, "{\"temp\":21.5}", 13), NANO_OK);
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
            int fd = open(path, O_RDWR);
            NT_ASSERT(fd >= 0);
            lseek(fd, -3, SEEK_END);
            NT_ASSERT(write(fd, "6", 1) == 1);   /* 21.5 -> 26.5 */
            close(fd);
        }
        NT_MSG("case %s: %s", cases[i].name, d.msg);
        NT_EQ_INT(nano_state_read(dir, cases[i].name, &b, &d), NANO_ECORRUPT);
        NT_CHECK(strstr(d.msg, cases[i].why) != NULL);
        NT_EQ_INT(b.len, 0);
        NT_CHECK(!exists(cases[i].name));
        snprintf(corrupt, sizeof corrupt, "%s.corrupt", cases[i].name);
        NT_CHECK(exists(corrupt));
    }
    NT_EQ_INT(nano_crc32("123456789", 9), 0xCBF43926);   /* the check value */
    nano_buf_free(&b);
}

NT_LIST = {
    { "round_trip_and_replace", test_round_trip_and_replace },
    { "corruption_is_detected_and_set_aside", test_corruption_is_detected_and_set_aside },
    { NULL, NULL }
};
