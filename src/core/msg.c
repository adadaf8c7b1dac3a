/* SPDX-License-Identifier: MIT
 *
 * msg.c - refcounted immutable messages (see msg.h).
 * Layout of one allocation: struct nano_msg | topic NUL | unit NUL | payload.
 */
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/msg.h"
#include "core/time.h"
#include "core/topic.h"

static uint64_t live_msgs;

struct nano_msg *
nano_msg_new(const char *topic, const struct nano_value *v, int *err)
{
    size_t tlen, ulen = 0, plen = 0;
    struct nano_msg *m;
    char *p;
    int dummy;

    if (!err)
        err = &dummy;
    if (nano_topic_check(topic, NULL) != NANO_OK) {
        *err = -EINVAL;
        return NULL;
    }
    tlen = strlen(topic);
    if (v->unit) {
        ulen = strnlen(v->unit, NANO_UNIT_MAX + 1);
        if (ulen > NANO_UNIT_MAX) {
            *err = -EINVAL;
            return NULL;
        }
    }
    if (v->type == NANO_VT_STR || v->type == NANO_VT_BYTES ||
        v->type == NANO_VT_JSON) {
        plen = v->u.s.len;
        if (plen > NANO_PAYLOAD_MAX) {
            *err = -EINVAL;
            return NULL;
        }
    }
    m = nano_malloc(sizeof *m + tlen + 1 + ulen + 1 + plen + 1);
    if (!m) {
        *err = -ENOMEM;
        return NULL;
    }
    m->refs = 1;
    m->topic_len = (uint16_t)tlen;
    m->v = *v;
    p = m->topic;
    memcpy(p, topic, tlen + 1);
    p += tlen + 1;
    if (v->unit) {
        memcpy(p, v->unit, ulen);
        p[ulen] = '\0';
        m->v.unit = p;
        p += ulen + 1;
    } else {
        m->v.unit = NULL;
        *p++ = '\0';
    }
    if (v->type == NANO_VT_STR || v->type == NANO_VT_BYTES ||
        v->type == NANO_VT_JSON) {
        if (plen)
            memcpy(p, v->u.s.p, plen);
        p[plen] = '\0';              /* text payloads are usable as C strings */
        m->v.u.s.p = p;
    }
    if (m->v.ts_wall_us == 0)
        m->v.ts_wall_us = (int64_t)(nano_time_wall_ns() / 1000);
    if (m->v.ts_mono_us == 0)
        m->v.ts_mono_us = (int64_t)(nano_time_mono_ns() / 1000);
    live_msgs++;
    *err = NANO_OK;
    return m;
}

void
nano_msg_unref(const struct nano_msg *cm)
{
    struct nano_msg *m = (struct nano_msg *)cm;

    if (!m)
        return;
    NANO_ASSERT(m->refs > 0);
    if (--m->refs == 0) {
        live_msgs--;
        nano_free(m);
    }
}

uint64_t
nano_msg_live(void)
{
    return live_msgs;
}
