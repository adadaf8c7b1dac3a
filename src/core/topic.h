/* SPDX-License-Identifier: MIT
 *
 * topic.h - topic names and MQTT-style filters.
 *
 * Topics are '/'-separated levels ("sensors/boiler/temperature").  Filters
 * may use '+' for exactly one level and '#' (last level only) for any number
 * of remaining levels, including none: "sensors/#" matches "sensors".
 * Topics starting with '$' are not matched by a leading wildcard (MQTT 4.7.2).
 */
#ifndef NANO_CORE_TOPIC_H
#define NANO_CORE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* A publishable topic: 1..NANO_TOPIC_MAX bytes, no '+', '#' or NUL.
 * Returns NANO_OK or -EINVAL with a reason in *why (static string). */
int nano_topic_check(const char *topic, const char **why);

/* A valid filter: wildcards only as whole levels, '#' only last. */
int nano_topic_filter_check(const char *filter, const char **why);

/* Does filter match topic?  Both assumed valid. */
bool nano_topic_match(const char *filter, const char *topic);

/* A name users give things that become topic levels or file names (device
 * instances, services, modules, buses): 1..max bytes of ASCII letters,
 * digits, '_', '-' and any character in extra (NULL: none). */
bool nano_name_valid(const char *s, size_t max, const char *extra);

/* Copy level idx (0-based) of topic into out; returns its length or -1. */
int nano_topic_level(const char *topic, unsigned idx, char *out, size_t cap);

#endif
