/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What of a parsed configuration only this host can say: the control and admin groups and
 * the hook user exist, the hook can be trusted (ul_path_trusted: root's, and nobody else can
 * change it or a directory on its way). Run after parsing by -t, -n, start and reload. */
#ifndef UL_HOSTCHECK_H
#define UL_HOSTCHECK_H

#include "config.h"

/* 0, or -EINVAL with each problem in diag as "FILE:LINE: key: message". */
int ul_config_check_host(const struct ul_config *c, struct ul_diag *diag);

#endif
