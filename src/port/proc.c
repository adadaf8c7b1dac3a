/* SPDX-License-Identifier: MIT
 *
 * proc.c - memory figures from /proc/self/status and smaps_rollup.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "port/proc.h"

static void
scan(const char *path, const char *const *keys, uint64_t *const *outs, int n)
{
    char line[256];
    FILE *f = fopen(path, "re");

    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        for (int i = 0; i < n; i++) {
            size_t kl = strlen(keys[i]);
            unsigned long long kb;
            if (strncmp(line, keys[i], kl) == 0 &&
                sscanf(line + kl, " %llu", &kb) == 1)
                *outs[i] = kb * 1024;
        }
    }
    fclose(f);
}

int
nano_proc_mem(struct nano_proc_mem *out)
{
    static const char *const st_keys[] = { "VmRSS:", "VmHWM:", "RssAnon:" };
    static const char *const sm_keys[] = { "Pss:" };

    memset(out, 0, sizeof *out);
    scan("/proc/self/status", st_keys,
         (uint64_t *const[]){ &out->rss, &out->hwm, &out->anon }, 3);
    scan("/proc/self/smaps_rollup", sm_keys, (uint64_t *const[]){ &out->pss }, 1);
    return out->rss ? NANO_OK : -ENOENT;
}
