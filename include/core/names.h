/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names of things as they are written in the config, the logs and the JSON. */
#ifndef UL_NAMES_H
#define UL_NAMES_H

#include <syslog.h>

/* "error|warning|notice|info|debug" -> LOG_*, or -1. */
int ul_log_level_parse(const char *s);
const char *ul_log_level_name(int level);

#endif
