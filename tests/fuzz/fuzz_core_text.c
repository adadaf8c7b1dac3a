/* fuzz_core_text.c - the core's small text parsers: durations, topic names
 * and filters (and matching them), CLI value text, and state file headers.
 * The first byte picks the parser; the rest is its input.  Checks beyond
 * "no crash": a parsed duration formats and re-parses to the same value, a
 * valid filter always matches itself made concrete, and a decoded state
 * payload lies inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/state.h"
#include "core/time.h"
#include "core/topic.h"
#include "core/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1 || size > 4096)
        return 0;
    s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: {
        uint64_t ns, again;
        char text[64];
        if (nano_duration_parse(s, &ns) == NANO_OK) {
            nano_duration_format(ns, text, sizeof text);
            if (nano_duration_parse(text, &again) != NANO_OK || again != ns)
                abort();
        }
        break;
    }
    case 1: {
        /* "filter\ttopic" */
        char *tab = strchr(s, '\t');
        if (tab)
            *tab = '\0';
        if (nano_topic_filter_check(s, NULL) == NANO_OK) {
            char concrete[600];
            size_t j = 0;
            for (const char *p = s; *p && j < sizeof concrete - 2; p++) {
                if (*p == '+' || *p == '#')
                    concrete[j++] = 'x';
                else
                    concrete[j++] = *p;
            }
            concrete[j] = '\0';
            if (s[0] != '+' && s[0] != '#' && concrete[0] != '$' &&
                nano_topic_check(concrete, NULL) == NANO_OK &&
                !nano_topic_match(s, concrete))
                abort();
            if (tab && nano_topic_check(tab + 1, NULL) == NANO_OK)
                (void)nano_topic_match(s, tab + 1);
        }
        break;
    }
    case 2: {
        struct nano_value v = nano_value_from_text(s);
        char out[128];
        nano_value_format(&v, out, sizeof out);
        break;
    }
    case 3: {
        struct nano_span payload;
        struct nano_diag d;
        if (nano_state_decode((const char *)data + 1, size - 1, &payload, &d) == NANO_OK &&
            (payload.p < data + 1 || payload.p + payload.len > data + size))
            abort();
        break;
    }
    }
    free(s);
    return 0;
}
