// SPDX-License-Identifier: GPL-2.0-or-later
/* Host checks of a parsed configuration: the groups and the hook user exist (getgrnam,
 * getpwnam), the hook can be trusted (ul_path_trusted). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hostcheck.h"
#include "trust.h"

static int check_group(const char *name, const struct ul_conf_where *at, struct ul_diag *diag)
{
	char q[UL_CONFIG_QLEN];

	if (!name[0] || getgrnam(name))
		return 0;
	ul_diag_add(diag, "%s: group %s does not exist", at->at,
		    ul_config_quote(name, q, sizeof(q)));
	return -EINVAL;
}

static int check_user(const char *name, const struct ul_conf_where *at, struct ul_diag *diag)
{
	char q[UL_CONFIG_QLEN];

	if (!name[0] || getpwnam(name))
		return 0;
	ul_diag_add(diag, "%s: user %s does not exist", at->at,
		    ul_config_quote(name, q, sizeof(q)));
	return -EINVAL;
}

/* Runs with uplinkd's privileges: root's, and nobody else can change it or swap it. */
static int check_hook(const struct ul_daemon_conf *d, struct ul_diag *diag)
{
	char q[UL_CONFIG_QLEN], why[PATH_MAX + 64];

	if (!d->hook[0] || !ul_path_trusted(d->hook, why, sizeof(why), NULL, NULL))
		return 0;
	ul_diag_add(diag, "%s: %s refused: %s", d->hook_at.at,
		    ul_config_quote(d->hook, q, sizeof(q)), why);
	return -EINVAL;
}

enum { K_CONTROL_GROUP, K_ADMIN_GROUP, K_HOOK, K_HOOK_USER, N_KEYS };

int ul_config_check_host(const struct ul_config *c, struct ul_diag *diag)
{
	const struct ul_daemon_conf *d = &c->daemon;
	const struct ul_conf_where *at[N_KEYS] = {
		&d->control_group_at, &d->admin_group_at, &d->hook_at, &d->hook_user_at,
	};
	bool done[N_KEYS] = { false };
	int err = 0;

	/* in the order of their lines, as the parser's messages */
	for (int n = 0; n < N_KEYS; n++) {
		int k = -1, e = 0;

		for (int i = 0; i < N_KEYS; i++)
			if (!done[i] && (k < 0 || at[i]->line < at[k]->line))
				k = i;
		done[k] = true;
		switch (k) {
		case K_CONTROL_GROUP:
			e = check_group(d->control_group, at[k], diag);
			break;
		case K_ADMIN_GROUP:
			e = check_group(d->admin_group, at[k], diag);
			break;
		case K_HOOK:
			e = check_hook(d, diag);
			break;
		case K_HOOK_USER:
			e = check_user(d->hook_user, at[k], diag);
			break;
		}
		if (e && !err)
			err = e;
	}
	return err;
}
