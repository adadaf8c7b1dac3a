/* SPDX-License-Identifier: MIT
 *
 * topic.c - topic validation and wildcard matching (see topic.h).
 * Matching walks both strings once, level by level, without splitting or
 * allocating: it runs for every subscriber on every publish.
 */
#include <string.h>

#include "core/err.h"
#include "core/msg.h"
#include "core/topic.h"

int
nano_topic_check(const char *topic, const char **why)
{
    size_t len = topic ? strlen(topic) : 0;
    const char *dummy;

    if (!why)
        why = &dummy;
    if (len == 0) {
        *why = "topic is empty";
        return -EINVAL;
    }
    if (len > NANO_TOPIC_MAX) {
        *why = "topic is longer than 256 bytes";
        return -EINVAL;
    }
    if (strpbrk(topic, "+#")) {
        *why = "topic must not contain wildcards '+' or '#'";
        return -EINVAL;
    }
    return NANO_OK;
}

int
nano_topic_filter_check(const char *filter, const char **why)
{
    size_t len = filter ? strlen(filter) : 0;
    const char *dummy;

    if (!why)
        why = &dummy;
    if (len == 0) {
        *why = "filter is empty";
        return -EINVAL;
    }
    if (len > NANO_TOPIC_MAX) {
        *why = "filter is longer than 256 bytes";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        char c = filter[i];
        bool level_start = (i == 0 || filter[i - 1] == '/');
        bool level_end = (i + 1 == len || filter[i + 1] == '/');
        if (c == '+' && !(level_start && level_end)) {
            *why = "'+' must occupy a whole level";
            return -EINVAL;
        }
        if (c == '#' && !(level_start && i + 1 == len)) {
            *why = "'#' must be the last level on its own";
            return -EINVAL;
        }
    }
    return NANO_OK;
}

bool
nano_topic_match(const char *f, const char *t)
{
    if (*t == '$' && (*f == '+' || *f == '#'))
        return false;
    for (;;) {
        if (*f == '#')
            return true;                       /* rest of the topic, even none */
        if (*f == '+') {
            f++;
            while (*t && *t != '/')
                t++;
        } else {
            while (*f && *f != '/' && *f == *t) {
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/'))
                return false;                  /* levels differ */
        }
        /* both at '/' or end of string */
        if (*f == '\0' && *t == '\0')
            return true;
        if (*f == '\0')
            return false;                      /* topic has more levels */
        if (*t == '\0')
            /* filter has more: only "/#" may match the parent level */
            return f[0] == '/' && f[1] == '#' && f[2] == '\0';
        f++;
        t++;
    }
}

bool
nano_name_valid(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              (extra && strchr(extra, *s))))
            return false;
    return true;
}

int
nano_topic_level(const char *topic, unsigned idx, char *out, size_t cap)
{
    const char *p = topic, *end;
    size_t n;

    while (idx > 0) {
        p = strchr(p, '/');
        if (!p)
            return -1;
        p++;
        idx--;
    }
    end = strchr(p, '/');
    n = end ? (size_t)(end - p) : strlen(p);
    if (n + 1 > cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return (int)n;
}
