/* test_w1.c - the w1 sysfs back end on the emulated tree: bus names,
 * listing by family, DS18B20 w1_slave text as the kernel writes it, faults
 * rendered the kernel's way, unplug, and the TIMEOUT fault's blocked reader
 * released through the offload lane. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/time.h"
#include "hal/offload.h"
#include "hal/sim.h"
#include "hal/w1.h"

#define ID1 "28-000005e2fdc3"
#define ID2 "28-0000072a9b11"

static void
read_slave(struct nano_w1 *w, const char *id, char *buf, size_t cap)
{
    char path[NANO_W1_PATH_MAX];

    NT_ASSERT(nano_w1_attr_path(w, id, "w1_slave", path, sizeof path) == NANO_OK);
    NT_ASSERT(nano_w1_read_file(path, buf, cap) >= 0);
}

static void
test_ids_and_names(void)
{
    struct nano_w1 *w;
    char tmp[] = "/tmp/nano-w1-XXXXXX";

    NT_CHECK(nano_w1_id_valid(ID1));
    NT_CHECK(nano_w1_id_valid("28-000005E2FDC3"));
    NT_CHECK(!nano_w1_id_valid("28000005e2fdc3"));
    NT_CHECK(!nano_w1_id_valid("28-000005e2fdcg"));
    NT_CHECK(!nano_w1_id_valid("w1_bus_master1"));
    NT_EQ_INT(nano_w1_open("nosuchbus", &w), -ENOENT);
    NT_EQ_INT(nano_w1_open("sim:wire0", &w), -ENOENT);      /* not created */
    NT_EQ_INT(nano_w1_open("/nonexistent/w1", &w), -ENOENT);
    NT_EQ_INT(nano_w1_open("/dev/null", &w), -ENOTDIR);

    /* "w1" is the root, which can be moved (for tests, or odd kernels). */
    NT_ASSERT(mkdtemp(tmp));
    nano_w1_set_default_root(tmp);
    NT_EQ_INT(nano_w1_open("w1", &w), NANO_OK);
    NT_EQ_STR(nano_w1_root(w), tmp);
    nano_w1_close(w);
    NT_EQ_INT(nano_w1_open("w1_bus_master1", &w), -ENOENT);
    nano_w1_set_default_root(NULL);
    rmdir(tmp);
    nano_w1_close(NULL);
}

static void
test_listing_and_text(void)
{
    struct nano_w1 *w;
    char ids[4][NANO_W1_ID_MAX], text[256], path[NANO_W1_PATH_MAX];
    static const uint8_t therm[] = { 0x28 }, other[] = { 0x10 };

    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID2) == NANO_OK);
    NT_ASSERT(nano_sim_add("wire0", "ds18b20", ID1) == NANO_OK);
    NT_ASSERT(nano_w1_open("sim:wire0", &w) == NANO_OK);
    NT_EQ_INT(nano_w1_list(w, therm, 1, ids, 4), 2);
    NT_EQ_STR(ids[0], ID1);                                   /* sorted */
    NT_EQ_STR(ids[1], ID2);
    NT_EQ_INT(nano_w1_list(w, other, 1, ids, 4), 0);
    NT_EQ_INT(nano_w1_list(w, NULL, 0, ids, 1), 2);           /* count > cap */
    nano_w1_close(w);
    NT_ASSERT(nano_w1_open("wire0", &w) == NANO_OK);          /* bare name */

    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", 23.125) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    /* Exactly the example of the kernel's w1-therm documentation. */
    NT_EQ_STR(text, "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"
                    "72 01 4b 46 7f ff 0e 10 57 t=23125\n");
    NT_ASSERT(nano_sim_set("wire0", ID1, "temperature", -10.0625) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strstr(text, "5f ff") == text);                  /* 0xFF5F */
    NT_CHECK(strstr(text, "YES\n") != NULL);
    NT_CHECK(strstr(text, "t=-10062\n") != NULL);             /* truncates */
    NT_EQ_INT(nano_sim_set("wire0", ID1, "temperature", 200), -ERANGE);

    NT_ASSERT(nano_sim_fault("wire0", ID1, NANO_SIM_FAULT_CRC, -1) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strstr(text, " NO\n") != NULL);
    NT_ASSERT(nano_sim_fault("wire0", ID1, NANO_SIM_FAULT_POWERON, -1) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strncmp(text, "50 05", 5) == 0 && strstr(text, "t=85000"));
    NT_ASSERT(nano_sim_fault("wire0", ID1, NANO_SIM_FAULT_NACK, -1) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strncmp(text, "ff ff ff ff ff ff ff ff ff : crc=", 33) == 0);
    NT_CHECK(strstr(text, " NO\n") && strstr(text, "t=-62"));
    NT_ASSERT(nano_sim_fault("wire0", ID1, NANO_SIM_FAULT_NONE, -1) == NANO_OK);
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strstr(text, "YES") != NULL);

    /* Unplug removes the slave's directory, as the kernel's search does. */
    NT_ASSERT(nano_sim_unplug("wire0", ID1) == NANO_OK);
    NT_EQ_INT(nano_w1_list(w, therm, 1, ids, 4), 1);
    NT_ASSERT(nano_w1_attr_path(w, ID1, "w1_slave", path, sizeof path) == NANO_OK);
    NT_EQ_INT(nano_w1_read_file(path, text, sizeof text), -ENOENT);
    NT_ASSERT(nano_sim_replug("wire0", ID1) == NANO_OK);
    NT_EQ_INT(nano_w1_list(w, therm, 1, ids, 4), 2);
    NT_EQ_INT(nano_w1_attr_path(w, "bogus", "w1_slave", path, sizeof path), -EINVAL);
    NT_EQ_INT(nano_w1_attr_path(w, ID1, "../x", path, sizeof path), -EINVAL);
    nano_w1_close(w);

    char dir[256];
    NT_ASSERT(nano_sim_w1_dir("wire0", dir, sizeof dir) == NANO_OK);
    nano_sim_reset();
    struct stat st;
    NT_CHECK(stat(dir, &st) < 0);                             /* cleaned up */
}

struct read_job {
    struct nano_offload_job base;
    char                    path[NANO_W1_PATH_MAX];
    char                    text[128];
    ssize_t                 rc;
    int                    *done;
};

static void
job_run(struct nano_offload_job *j)
{
    struct read_job *r = (struct read_job *)j;

    r->rc = nano_w1_read_file(r->path, r->text, sizeof r->text);
}

static void
job_done(struct nano_offload_job *j)
{
    struct read_job *r = (struct read_job *)j;

    *r->done = r->rc == 0 ? 1 : 2;     /* 1: EOF, nothing read */
}

static void
test_timeout_blocks_until_cleared(void)
{
    struct nano_loop *loop;
    struct nano_w1 *w;
    struct read_job *job;
    int done = 0;

    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_sim_add("wire1", "ds18b20", ID1) == NANO_OK);
    NT_ASSERT(nano_sim_fault("wire1", ID1, NANO_SIM_FAULT_TIMEOUT, -1) == NANO_OK);
    NT_ASSERT(nano_w1_open("sim:wire1", &w) == NANO_OK);
    job = nano_offload_job_new(sizeof *job, job_run, job_done, NULL);
    NT_ASSERT(job);
    job->done = &done;
    NT_ASSERT(nano_w1_attr_path(w, ID1, "w1_slave", job->path, sizeof job->path) == NANO_OK);
    NT_ASSERT(nano_offload_submit(NULL, loop, &job->base) == NANO_OK);

    uint64_t end = nano_time_mono_ns() + 100 * NANO_NS_PER_MS;
    while (nano_time_mono_ns() < end)
        nano_loop_run_once(loop, 10);
    NT_EQ_INT(done, 0);                                      /* still blocked */
    NT_EQ_INT(nano_offload_pending(), 1);

    NT_ASSERT(nano_sim_fault("wire1", ID1, NANO_SIM_FAULT_NONE, -1) == NANO_OK);
    for (int i = 0; i < 100 && !done; i++)
        nano_loop_run_once(loop, 10);
    NT_EQ_INT(done, 1);                                      /* EOF */
    NT_EQ_INT(nano_offload_pending(), 0);

    /* The file is back: a new read gets a reading. */
    char text[256];
    read_slave(w, ID1, text, sizeof text);
    NT_CHECK(strstr(text, "YES") != NULL);
    nano_w1_close(w);
    nano_offload_shutdown();
    nano_loop_free(loop);
    nano_sim_reset();
}

NT_LIST = {
    { "ids_and_names",                test_ids_and_names },
    { "listing_and_text",             test_listing_and_text },
    { "timeout_blocks_until_cleared", test_timeout_blocks_until_cleared },
    { NULL, NULL }
};
