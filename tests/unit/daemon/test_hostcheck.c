// SPDX-License-Identifier: GPL-2.0-or-later
/* Host checks after parsing: the control group exists, the hook is an executable file;
 * messages in the parser's "FILE:LINE: key: message" form. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "hostcheck.h"
#include "tk.h"

#define L1 "links = ( { name = \"isp1\"; interface = \"wan1\"; } );\n"

/* text parses; the host check fails with exactly these messages, in this order. */
static void expect_host_errs(const char *text, ...)
{
	struct ul_config *c = tk_config(text);
	struct ul_diag d = { 0 };
	const char *msg;
	size_t n = 0;
	va_list ap;

	assert_int_equal(ul_config_check_host(c, &d), -EINVAL);
	va_start(ap, text);
	while ((msg = va_arg(ap, const char *))) {
		if (n >= d.n || strcmp(d.msgs[n], msg)) {
			fprintf(stderr, "want: %s\n", msg);
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "  diag[%zu] %s\n", i, d.msgs[i]);
			fail();
		}
		n++;
	}
	va_end(ap);
	assert_int_equal(d.n, n);
	ul_diag_free(&d);
	ul_config_free(c);
}

#define expect_host_err(text, msg) expect_host_errs(text, msg, (const char *)NULL)

static void host_checks(void **state)
{
	char tmpl[] = "/tmp/ul-host-XXXXXX", path[PATH_MAX + 64], buf[8192];
	char want[PATH_MAX + 200], want2[PATH_MAX + 200];
	struct ul_diag d = { 0 };
	struct ul_config *c;

	tk_tmpdir(tmpl, sizeof(tmpl), "ul-host");
	snprintf(path, sizeof(path), "%s/hook", tmpl);
	tk_write(NULL, path, "");		/* a hook that is there, not executable */

	/* a group that does not exist, a hook that is not executable */
	snprintf(buf, sizeof(buf), L1
		 "daemon = {\n"
		 "  log_level = \"info\";\n"
		 "  control_socket = \"/run/x.sock\";\n"
		 "  control_group = \"no-such-group-ul\";\n"
		 "  hook = \"%s\";\n"
		 "};\n", path);
	snprintf(want, sizeof(want), "t.conf:6: daemon.hook: \"%s\" refused: not executable "
		 "(mode 0644)", path);
	expect_host_errs(buf,
			 "t.conf:5: daemon.control_group: group \"no-such-group-ul\" does not exist",
			 want, (const char *)NULL);
	/* by line, as the parser orders its messages */
	snprintf(buf, sizeof(buf), L1 "daemon = {\n  hook = \"%s\";\n"
		 "  control_group = \"no-such-group-ul\";\n};\n", path);
	snprintf(want2, sizeof(want2), "t.conf:3: daemon.hook: \"%s\" refused: not executable "
		 "(mode 0644)", path);
	expect_host_errs(buf, want2,
			 "t.conf:4: daemon.control_group: group \"no-such-group-ul\" does not exist",
			 (const char *)NULL);
	expect_host_err(L1 "daemon = { hook = \"/nonexistent/ul-hook\"; };\n",
			"t.conf:2: daemon.hook: \"/nonexistent/ul-hook\" refused: No such file or "
			"directory");
	expect_host_err(L1 "daemon = { hook = \"/tmp\"; };\n",
			"t.conf:2: daemon.hook: \"/tmp\" refused: not a regular file");

	/* valid: an executable hook, the root group; and nothing to check at all */
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(buf, sizeof(buf), L1 "daemon = { hook = \"%s\"; control_group = \"root\"; };\n",
		 path);
	c = tk_config(buf);
	assert_int_equal(ul_config_check_host(c, &d), 0);
	assert_int_equal(d.n, 0);
	ul_config_free(c);
	c = tk_config(L1);
	assert_int_equal(ul_config_check_host(c, &d), 0);
	assert_int_equal(d.n, 0);
	ul_config_free(c);
	unlink(path);
	rmdir(tmpl);
}

TK_MAIN(NULL, NULL, host_checks)
