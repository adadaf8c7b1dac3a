/* SPDX-License-Identifier: MIT
 *
 * ctl_cmds.h - nanoctl commands defined outside nanoctl.c, one function per
 * top-level command (argv[0] is the command name).  Each returns an exit
 * code from ctl.h.
 */
#ifndef NANO_CMD_CTL_CMDS_H
#define NANO_CMD_CTL_CMDS_H

int ctl_cmd_gpio(int argc, char **argv);
int ctl_cmd_sim(int argc, char **argv);
int ctl_cmd_service(int argc, char **argv);
int ctl_cmd_sandbox(int argc, char **argv);

#endif
