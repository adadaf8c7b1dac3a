/* SPDX-License-Identifier: MIT
 *
 * readytime.c - time from exec of nanod to its API answering, many times.
 *
 *   readytime NANOD CONFIG RUNS
 *
 * Each run: a fresh temporary state directory and socket; the clock starts
 * just before fork(), the child execs nanod, the parent tries to connect to
 * the socket and send GET /v1/status in a tight loop, and the clock stops
 * when the complete "HTTP/1.1 200" response head arrives.  nanod is then
 * stopped with SIGTERM.  Prints the median, p90, min and max in ms.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
try_status(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    static const char req[] = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[256];
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ssize_t n;

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return 0;
    }
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return 0;
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    int runs = argc > 3 ? atoi(argv[3]) : 50;
    double *t;

    if (argc < 3 || runs <= 0) {
        fprintf(stderr, "usage: readytime NANOD CONFIG [RUNS]\n");
        return 2;
    }
    t = calloc((size_t)runs, sizeof *t);
    for (int i = 0; i < runs; i++) {
        char dir[] = "/tmp/nano-ready-XXXXXX", sock[128], state[128];
        if (!mkdtemp(dir))
            return 1;
        snprintf(sock, sizeof sock, "%s/nano.sock", dir);
        snprintf(state, sizeof state, "%s/state", dir);
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", 1);
            dup2(null, 2);
            execl(argv[1], argv[1], "--config", argv[2], "--state-dir", state,
                  "--socket", sock, (char *)NULL);
            _exit(127);
        }
        /* Poll every 50 us: a tight spin would steal the CPU nanod needs
         * to start on a small machine. */
        while (!try_status(sock)) {
            struct timespec pause = { 0, 50000 };
            nanosleep(&pause, NULL);
            if (now_ms() - t0 > 10000) {
                fprintf(stderr, "readytime: nanod not ready after 10 s\n");
                kill(pid, SIGKILL);
                return 1;
            }
        }
        t[i] = now_ms() - t0;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    printf("runs=%d median_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f\n", runs,
           t[runs / 2], t[(runs * 9) / 10], t[0], t[runs - 1]);
    free(t);
    return 0;
}
