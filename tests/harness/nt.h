/* SPDX-License-Identifier: MIT
 *
 * nt.h - Nano's single-header unit test harness.
 *
 * A test file defines static test functions and one table:
 *
 *     NT_LIST = { { "name", fn }, ..., { NULL, NULL } };
 *
 * and includes this header once.  main() below runs every test (or those
 * named on the command line) each in its own forked process with a time
 * limit (NT_TIMEOUT seconds, default 20), so a crash, an abort from a
 * sanitizer or a hang fails one test and not the file.  Output is one line
 * per test and a last line "<file>: N passed, N failed" that tests/run.sh
 * reads.  Exit status is 0 only when every test passed.
 *
 * Checks: NT_CHECK(expr) records a failure with file:line and the expression
 * and goes on; NT_ASSERT(expr) stops the test; NT_MSG(fmt, ...) adds context
 * printed with the next failure.  NT_EQ_INT / NT_EQ_STR / NT_NEAR compare and
 * print both sides.  Runs on the target: needs only POSIX (fork, waitpid,
 * alarm), no second language.
 */
#ifndef NT_H
#define NT_H

#include <math.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct nt_test {
    const char *name;
    void (*fn)(void);
};

static int nt_failures;
static char nt_msgbuf[512];

static void
nt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
nt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    nt_failures++;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (nt_msgbuf[0])
        fprintf(stderr, " [%s]", nt_msgbuf);
    fputc('\n', stderr);
}

#define NT_MSG(...) snprintf(nt_msgbuf, sizeof nt_msgbuf, __VA_ARGS__)

#define NT_CHECK(expr)                                                        \
    do {                                                                      \
        if (!(expr))                                                          \
            nt_fail(__FILE__, __LINE__, "check failed: %s", #expr);           \
    } while (0)

#define NT_ASSERT(expr)                                                       \
    do {                                                                      \
        if (!(expr)) {                                                        \
            nt_fail(__FILE__, __LINE__, "assertion failed: %s", #expr);       \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

#define NT_EQ_INT(a, b)                                                       \
    do {                                                                      \
        long long nt_a_ = (long long)(a), nt_b_ = (long long)(b);             \
        if (nt_a_ != nt_b_)                                                   \
            nt_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,     \
                    nt_a_, nt_b_);                                            \
    } while (0)

#define NT_EQ_STR(a, b)                                                       \
    do {                                                                      \
        const char *nt_a_ = (a), *nt_b_ = (b);                                \
        if (!nt_a_ || !nt_b_ || strcmp(nt_a_, nt_b_) != 0)                    \
            nt_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                    nt_a_ ? nt_a_ : "(null)", nt_b_ ? nt_b_ : "(null)");      \
    } while (0)

#define NT_NEAR(a, b, eps)                                                    \
    do {                                                                      \
        double nt_a_ = (double)(a), nt_b_ = (double)(b);                      \
        if (!(fabs(nt_a_ - nt_b_) <= (eps)))                                  \
            nt_fail(__FILE__, __LINE__, "%s ~= %s: %.9g != %.9g (eps %g)",    \
                    #a, #b, nt_a_, nt_b_, (double)(eps));                     \
    } while (0)

#define NT_LIST static const struct nt_test nt_tests[]

static const struct nt_test nt_tests[];

static int
nt_run_one(const struct nt_test *t, unsigned timeout_s)
{
    struct timespec t0, t1;
    pid_t pid;
    int status;

    fflush(NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(timeout_s);
        nt_failures = 0;
        t->fn();
        fflush(NULL);
        _exit(nt_failures ? 1 : 0);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("  ok    %s (%.1f ms)\n", t->name, ms);
        return 0;
    }
    if (WIFSIGNALED(status))
        printf("  FAIL  %s (signal %d%s)\n", t->name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ", timed out" : "");
    else
        printf("  FAIL  %s\n", t->name);
    return 1;
}

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *env = getenv("NT_TIMEOUT");
    unsigned timeout_s = env ? (unsigned)atoi(env) : 20;
    int passed = 0, failed = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (const struct nt_test *t = nt_tests; t->name; t++) {
        if (argc > 1) {
            int wanted = 0;
            for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], t->name) == 0)
                    wanted = 1;
            if (!wanted)
                continue;
        }
        if (nt_run_one(t, timeout_s ? timeout_s : 20))
            failed++;
        else
            passed++;
    }
    printf("%s: %d passed, %d failed\n", prog, passed, failed);
    return failed ? 1 : 0;
}

#endif /* NT_H */
