// SPDX-License-Identifier: GPL-2.0-or-later
/* The hook's trust check (ul_path_trusted) on files and directories in a temporary tree,
 * and the host check of the daemon keys that go with it (hook, admin_group, hook_user). */
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
#include "trust.h"
#include "tk.h"

static char top[64];

static void mkfile(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void refused(const char *path, int err, const char *why_part)
{
	char why[PATH_MAX + 64] = "";

	assert_int_equal(ul_path_trusted(path, why, sizeof(why), NULL, NULL), err);
	if (!strstr(why, why_part))
		fail_msg("%s: \"%s\" does not say \"%s\"", path, why, why_part);
}

static void test_trust(void **state)
{
	char d[128], f[160], l[160], real[PATH_MAX], why[PATH_MAX + 64];
	struct stat st;

	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	snprintf(top, sizeof(top), "/tmp/ul-trust-XXXXXX");
	assert_non_null(mkdtemp(top));
	assert_int_equal(chmod(top, 0755), 0);

	/* good: root's, 0755, in root's directories (/tmp is sticky: fine for root's entry) */
	snprintf(f, sizeof(f), "%s/hook", top);
	mkfile(f, 0755);
	assert_int_equal(ul_path_trusted(f, why, sizeof(why), &st, real), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(real, f);

	/* the file itself */
	assert_int_equal(chmod(f, 0775), 0);
	refused(f, -EPERM, "writable by group or others (mode 0775)");
	assert_int_equal(chmod(f, 0757), 0);
	refused(f, -EPERM, "writable by group or others");
	assert_int_equal(chmod(f, 0644), 0);
	refused(f, -EACCES, "not executable");
	assert_int_equal(chmod(f, 0755), 0);
	assert_int_equal(chown(f, 65534, 0), 0);
	refused(f, -EPERM, "not owned by root (owner uid 65534)");
	assert_int_equal(chown(f, 0, 0), 0);
	refused(top, -EINVAL, "not a regular file");
	refused("hook", -EINVAL, "not an absolute path");

	/* a directory on the way */
	snprintf(d, sizeof(d), "%s/sub", top);
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(f, sizeof(f), "%s/sub/hook", top);
	mkfile(f, 0755);
	assert_int_equal(ul_path_trusted(f, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(chmod(d, 0775), 0);
	refused(f, -EPERM, "is writable by group or others");
	/* the message names the directory */
	{
		char w[PATH_MAX + 64];

		ul_path_trusted(f, w, sizeof(w), NULL, NULL);
		assert_non_null(strstr(w, d));
	}
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(chown(d, 65534, 0), 0);
	refused(f, -EPERM, "is not owned by root");
	assert_int_equal(chown(d, 0, 0), 0);
	/* sticky and world-writable: fine for root's entries, not for another's */
	assert_int_equal(chmod(d, 01777), 0);
	assert_int_equal(ul_path_trusted(f, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(chown(f, 65534, 0), 0);
	refused(f, -EPERM, "is writable by group or others");
	assert_int_equal(chown(f, 0, 0), 0);
	assert_int_equal(chmod(d, 0755), 0);

	/* through a symbolic link: the link's directory and the target's are checked */
	snprintf(l, sizeof(l), "%s/link", top);
	assert_int_equal(symlink(f, l), 0);
	assert_int_equal(ul_path_trusted(l, why, sizeof(why), NULL, real), 0);
	assert_string_equal(real, f);
	assert_int_equal(chmod(d, 0777), 0);
	refused(l, -EPERM, "is writable by group or others");
	assert_int_equal(chmod(d, 0755), 0);
	refused("/nonexistent/ul-hook", -ENOENT, "No such file");

	assert_int_equal(unlink(l), 0);
	assert_int_equal(unlink(f), 0);
	assert_int_equal(rmdir(d), 0);
	snprintf(f, sizeof(f), "%s/hook", top);
	assert_int_equal(unlink(f), 0);
	assert_int_equal(rmdir(top), 0);
}

/* The host check refuses an untrusted hook with its path, and checks the new keys. */
static void test_host_keys(void **state)
{
	char tmpl[] = "/tmp/ul-cfgt-XXXXXX", conf[128], hook[128], text[1024], want[256];
	struct ul_diag diag = { 0 };
	struct ul_config *c = NULL;
	FILE *fp;

	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(tmpl));
	snprintf(conf, sizeof(conf), "%s/t.conf", tmpl);
	snprintf(hook, sizeof(hook), "%s/hook", tmpl);
	mkfile(hook, 0775);
	snprintf(text, sizeof(text),
		 "links = ({ name = \"a\"; interface = \"eth0\"; gateway = \"auto\"; });\n"
		 "daemon = {\n  hook = \"%s\";\n  admin_group = \"no-such-group-ul\";\n"
		 "  hook_user = \"no-such-user-ul\";\n};\n", hook);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	/* parsing takes them; the host check says what is wrong, by line */
	assert_int_equal(ul_config_load(conf, &c, &diag), 0);
	assert_int_equal(ul_config_check_host(c, &diag), -EINVAL);
	assert_int_equal(diag.n, 3);
	snprintf(want, sizeof(want), "%s:3: daemon.hook: \"%s\" refused: writable by group or "
		 "others (mode 0775)", conf, hook);
	assert_string_equal(diag.msgs[0], want);
	snprintf(want, sizeof(want), "%s:4: daemon.admin_group: group \"no-such-group-ul\" does "
		 "not exist", conf);
	assert_string_equal(diag.msgs[1], want);
	snprintf(want, sizeof(want), "%s:5: daemon.hook_user: user \"no-such-user-ul\" does not "
		 "exist", conf);
	assert_string_equal(diag.msgs[2], want);
	ul_diag_free(&diag);
	ul_config_free(c);

	assert_int_equal(chmod(hook, 0755), 0);
	snprintf(text, sizeof(text),
		 "links = ({ name = \"a\"; interface = \"eth0\"; gateway = \"auto\"; });\n"
		 "daemon = { hook = \"%s\"; admin_group = \"root\"; hook_user = \"nobody\"; };\n",
		 hook);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(ul_config_load(conf, &c, &diag), 0);
	assert_int_equal(ul_config_check_host(c, &diag), 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(c->daemon.hook, hook);
	assert_string_equal(c->daemon.admin_group, "root");
	assert_string_equal(c->daemon.hook_user, "nobody");
	ul_config_free(c);

	/* found by fuzz_config: including a directory made libconfig's scanner exit() */
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs("@include \".\"\nlinks = ({ name = \"a\"; interface = \"eth0\"; });\n", fp);
	fclose(fp);
	assert_true(ul_config_load(conf, &c, &diag) < 0);
	assert_int_equal(diag.n, 1);
	assert_non_null(strstr(diag.msgs[0], "Is a directory"));
	ul_diag_free(&diag);
	unlink(conf);
	unlink(hook);
	rmdir(tmpl);
}

TK_MAIN(NULL, NULL, test_trust, test_host_keys)
