/* SPDX-License-Identifier: MIT
 *
 * ctl.h - shared by nanoctl's command files (nanoctl.c, ctl_*.c).
 *
 * Exit codes (documented in the README):
 *   0  success
 *   1  failure: nanod is not running, or it answered with a server error
 *   2  usage error (bad command line)
 *   3  not found (no such topic, device, driver, service)
 *   4  rejected: invalid input or a conflict (the message says why)
 */
#ifndef NANO_CMD_CTL_H
#define NANO_CMD_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/cfg.h"

#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define EXIT_NOTFOUND  3
#define EXIT_REJECTED  4
#define CALL_TIMEOUT_MS 10000

extern char ctl_socket[4096];   /* the API socket in use */
extern bool ctl_json;           /* --json: print the API's JSON */

/* Print why nanod could not be reached; returns EXIT_FAIL. */
int ctl_unreachable(int rc);

/* Print the API's JSON error body (gcc-style with line:col when given) and
 * map the HTTP status to an exit code. */
int ctl_api_error(int status, const struct nano_buf *body);

/* One request.  Returns 0 with the parsed JSON body in *doc_out (Returns
 * owned; nano_cfg_free) and/or the raw body appended to raw_out (either may
 * be NULL), or prints why and returns the exit code. */
int ctl_call(const char *method, const char *target, const char *body,
             struct nano_cfg_doc **doc_out, struct nano_buf *raw_out);

/* What most commands do: one request; with --json the body is printed as it
 * came and *doc_out is NULL, otherwise the parsed body is in *doc_out
 * (Returns owned; nano_cfg_free).  Returns 0 or the exit code (printed).
 * Callers write: if ((rc = ctl_fetch(...)) || !doc) return rc; */
int ctl_fetch(const char *method, const char *target, const char *body,
              struct nano_cfg_doc **doc_out);

/* --json: one request, its body printed as it came. */
int ctl_call_print_json(const char *method, const char *target,
                        const char *body);

/* Field access on a response object: a scalar's text or def; a number or 0. */
const char *ctl_str(const struct nano_cfg_node *obj, const char *key,
                    const char *def);
double ctl_num(const struct nano_cfg_node *obj, const char *key);

/* A value node as table text: numbers %.6g, strings bare, JSON compact. */
const char *ctl_value_text(const struct nano_cfg_node *v, char *out, size_t cap);
const char *ctl_bytes_text(double bytes, char *out, size_t cap);
const char *ctl_age_text(double ts_us, char *out, size_t cap);  /* "3s ago" */

/* Append s as a JSON string literal / percent-encoded for a query. */
void ctl_buf_json_str(struct nano_buf *b, const char *s);
void ctl_buf_query_str(struct nano_buf *b, const char *s);

#endif
