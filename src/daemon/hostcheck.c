// SPDX-License-Identifier: GPL-2.0-or-later
/* Host checks of a parsed configuration (getgrnam, access, stat). */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hostcheck.h"

static int check_group(const struct ul_daemon_conf *d, struct ul_diag *diag)
{
	char q[UL_CONFIG_QLEN];

	if (!d->control_group[0] || getgrnam(d->control_group))
		return 0;
	ul_diag_add(diag, "%s: group %s does not exist", d->control_group_at.at,
		    ul_config_quote(d->control_group, q, sizeof(q)));
	return -EINVAL;
}

static int check_hook(const struct ul_daemon_conf *d, struct ul_diag *diag)
{
	char q[UL_CONFIG_QLEN];
	struct stat st;

	if (!d->hook[0])
		return 0;
	if (access(d->hook, X_OK)) {
		int e = errno;

		ul_diag_add(diag, "%s: %s is not executable: %s", d->hook_at.at,
			    ul_config_quote(d->hook, q, sizeof(q)), strerror(e));
		return -EINVAL;
	}
	if (stat(d->hook, &st) || !S_ISREG(st.st_mode)) {
		ul_diag_add(diag, "%s: %s is not a regular file", d->hook_at.at,
			    ul_config_quote(d->hook, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

int ul_config_check_host(const struct ul_config *c, struct ul_diag *diag)
{
	const struct ul_daemon_conf *d = &c->daemon;
	int e1, e2;

	/* in the order of their lines, as the parser's messages */
	if (d->hook_at.line && d->hook_at.line < d->control_group_at.line) {
		e2 = check_hook(d, diag);
		e1 = check_group(d, diag);
	} else {
		e1 = check_group(d, diag);
		e2 = check_hook(d, diag);
	}
	return e1 ? e1 : e2;
}
