// SPDX-License-Identifier: GPL-2.0-or-later
/* uplinkd: options, -t (check the configuration), -n (print what it would install), and
 * the daemon (src/daemon/daemon.c) wired to the real kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "hostcheck.h"
#include "instance.h"
#include "kport.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uplinkd [-c FILE] [-s SOCKET] [-l LEVEL]   run in the foreground\n"
		"       uplinkd -t [-c FILE]                       check the configuration\n"
		"       uplinkd -n [-c FILE]                       print what it would install\n"
		"       uplinkd -V | --version\n"
		"LEVEL: error | warning | notice | info | debug; FILE defaults to %s\n",
		UL_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "test", no_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ul_daemon d = { .cfg_path = UL_DEFAULT_CONFIG, .level_override = -1 };
	struct ul_diag diag = { 0 };
	bool test = false, dry = false;
	struct ul_config *c;
	int opt, err;

	ul_log_init("uplinkd");
	while ((opt = getopt_long(argc, argv, "c:s:l:tnVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.cfg_path = optarg;
			break;
		case 's':
			d.sock_override = optarg;
			break;
		case 'l':
			d.level_override = ul_log_level_parse(optarg);
			if (d.level_override < 0) {
				fprintf(stderr, "uplinkd: -l %s: not one of error, warning, notice, "
					"info, debug\n", optarg);
				return 64;
			}
			break;
		case 't':
			test = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'V':
			printf("uplinkd %s\n", UL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	/* one instance per network namespace: the lock before anything is touched */
	if (!test && !dry) {
		pid_t holder = 0;
		int fd = ul_instance_lock(UL_INSTANCE_NAME, &holder);

		if (fd == -EEXIST) {
			if (holder > 0)
				fprintf(stderr, "uplinkd: already running (pid %d)\n", (int)holder);
			else
				fprintf(stderr, "uplinkd: already running\n");
			return 1;
		}
		if (fd < 0) {
			fprintf(stderr, "uplinkd: instance lock: %s\n", strerror(-fd));
			return 1;
		}
		d.lock_w.fd = fd;
		d.locked = true;
	}
	err = ul_config_load(d.cfg_path, &c, &diag);
	if (!err && (err = ul_config_check_host(c, &diag)))
		ul_config_free(c);
	if (err) {
		for (size_t i = 0; i < diag.n; i++)
			fprintf(stderr, "%s\n", diag.msgs[i]);
		ul_diag_free(&diag);
		return 1;
	}
	if (test) {
		printf("%s: configuration OK\n", d.cfg_path);
		ul_config_free(c);
		return 0;
	}
	if (ul_kport_netlink(&d.kp)) {
		fprintf(stderr, "uplinkd: %s\n", strerror(ENOMEM));
		ul_config_free(c);
		return 1;
	}
	d.cfg = c;
	if (dry) {
		int rc = ul_daemon_dry_run(&d);

		ul_config_free(c);
		return rc;
	}
	ul_log_set_level(d.level_override >= 0 ? d.level_override : c->daemon.log_level);
	return ul_daemon_run(&d);
}
