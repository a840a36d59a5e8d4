// SPDX-License-Identifier: GPL-2.0-or-later
/* The control verbs (control.h has the protocol): one table of name, the argument it
 * takes, and its handler. A verb given the wrong argument is an unknown request. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "control.h"
#include "daemon.h"
#include "status.h"

struct verb {
	const char *name;
	bool (*arg_ok)(const char *arg);
	int (*run)(struct ul_daemon *d, const char *arg, struct ul_buf *body);
};

static bool arg_none(const char *arg)
{
	return !arg[0];
}

static bool arg_link(const char *arg)
{
	return arg[0] != '\0';
}

static bool arg_format(const char *arg)
{
	return !arg[0] || !strcmp(arg, "json");
}

static int verb_status(struct ul_daemon *d, const char *arg, struct ul_buf *body)
{
	struct ul_status s;

	ul_daemon_snapshot(d, &s);
	if (arg[0])
		ul_status_json(&s, body);
	else
		ul_status_table(&s, body);
	return 0;
}

static int verb_metrics(struct ul_daemon *d, const char *arg, struct ul_buf *body)
{
	struct ul_status s;

	ul_daemon_snapshot(d, &s);
	ul_status_metrics(&s, body);
	return 0;
}

static int verb_reload(struct ul_daemon *d, const char *arg, struct ul_buf *body)
{
	if (ul_daemon_reload(d, body))
		return -EINVAL;
	ul_buf_printf(body, "configuration reloaded\n");
	return 0;
}

static int verb_disable(struct ul_daemon *d, const char *arg, struct ul_buf *body)
{
	return ul_daemon_set_disabled(d, arg, true, body);
}

static int verb_enable(struct ul_daemon *d, const char *arg, struct ul_buf *body)
{
	return ul_daemon_set_disabled(d, arg, false, body);
}

static const struct verb verbs[] = {
	{ "status", arg_format, verb_status },          /* status [json] */
	{ "metrics", arg_none, verb_metrics },
	{ "reload", arg_none, verb_reload },
	{ "disable", arg_link, verb_disable },          /* disable LINK */
	{ "enable", arg_link, verb_enable },            /* enable LINK */
};

int ul_verbs_handle(void *data, const char *req, struct ul_buf *body)
{
	char verb[32], arg[64];

	if (ul_control_parse(req, verb, sizeof(verb), arg, sizeof(arg))) {
		ul_buf_printf(body, "malformed request");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].name) && verbs[i].arg_ok(arg))
			return verbs[i].run(data, arg, body);
	ul_buf_printf(body, "unknown request \"%s\"", verb);
	return -EINVAL;
}
