// SPDX-License-Identifier: GPL-2.0-or-later
/* uplinkctl: the command-line client of uplinkd's control socket.
 * Exit status: 0 OK, 1 the daemon answered ERR (or stdout failed), 2 the daemon could not be
 * reached or answered garbage, 64 usage error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"

#ifndef UL_VERSION
#define UL_VERSION "unknown"
#endif

#define EXIT_ERR 1
#define EXIT_COMM 2
#define EXIT_USAGE 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uplinkctl [-s SOCKET] COMMAND\n"
		"\n"
		"commands:\n"
		"  status [--json]   per-link state table (or JSON)\n"
		"  reload            reload the configuration (same as SIGHUP)\n"
		"  disable LINK      take a link out of service (survives reload)\n"
		"  enable LINK       put a disabled link back\n"
		"  metrics           Prometheus text exposition format\n"
		"\n"
		"options:\n"
		"  -s, --socket SOCKET  control socket (default " UL_DEFAULT_SOCKET ")\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uplinkctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	return EXIT_USAGE;
}

/* Errors that mean the socket could not be reached at all. */
static bool connect_error(int err)
{
	switch (err) {
	case ENOENT: case ECONNREFUSED: case EACCES: case EPERM: case ENOTSOCK:
	case ENAMETOOLONG: case ENOTDIR: case EPROTOTYPE: case ELOOP:
		return true;
	default:
		return false;
	}
}

/* Build the request line from the command words; exit status on error, else 0. */
static int build_request(int argc, char **argv, char *req, size_t len)
{
	const char *cmd = argv[0];
	char verb[32], arg[64];

	if (!strcmp(cmd, "status")) {
		if (argc == 1)
			snprintf(req, len, "status");
		else if (argc == 2 && !strcmp(argv[1], "--json"))
			snprintf(req, len, "status json");
		else
			return usage_error("status: unexpected argument '%s'", argv[1]);
		return 0;
	}
	if (!strcmp(cmd, "reload") || !strcmp(cmd, "metrics")) {
		if (argc != 1)
			return usage_error("unexpected argument '%s'", argv[1]);
		snprintf(req, len, "%s", cmd);
		return 0;
	}
	if (!strcmp(cmd, "disable") || !strcmp(cmd, "enable")) {
		if (argc != 2)
			return usage_error(argc < 2 ? "%s: which link?" : "%s: too many arguments",
					   cmd);
		if (snprintf(req, len, "%s %s", cmd, argv[1]) >= (int)len ||
		    ul_control_parse(req, verb, sizeof(verb), arg, sizeof(arg)))
			return usage_error("invalid link name '%s'", argv[1]);
		return 0;
	}
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = UL_DEFAULT_SOCKET;
	struct ul_buf body = { 0 };
	char req[UL_CTL_MAX_REQ];
	int c, r, ret;

	while ((c = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("uplinkctl %s\n", UL_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command given");
	ret = build_request(argc - optind, argv + optind, req, sizeof(req));
	if (ret)
		return ret;

	r = ul_control_request(sock, req, &body);
	if (r < 0) {
		if (connect_error(-r))
			fprintf(stderr, "uplinkctl: cannot connect to %s: %s\n", sock,
				strerror(-r));
		else if (r == -EPROTO)
			fprintf(stderr, "uplinkctl: %s: malformed reply from the daemon\n", sock);
		else
			fprintf(stderr, "uplinkctl: %s: %s\n", sock, strerror(-r));
		ret = EXIT_COMM;
	} else if (r == 1) {
		fprintf(stderr, "uplinkctl: %s\n", body.len ? body.p : "error");
		ret = EXIT_ERR;
	} else {
		if (body.len && fwrite(body.p, 1, body.len, stdout) != body.len)
			ret = EXIT_ERR;
		if (fflush(stdout) || ferror(stdout))
			ret = EXIT_ERR;
		if (ret)
			fprintf(stderr, "uplinkctl: writing the output: %s\n", strerror(errno));
	}
	ul_buf_free(&body);
	return ret;
}
