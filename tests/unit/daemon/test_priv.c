// SPDX-License-Identifier: GPL-2.0-or-later
/* Dropping privileges, in forked children (a drop cannot be undone): what /proc says is
 * left afterwards. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "priv.h"
#include "tk.h"

/* "CapEff:\t0000000000003000" -> the value of one /proc/self/status field. */
static unsigned long long status_field(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	unsigned long long v = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, !strncmp(name, "Cap", 3) ? 16 : 10);
	fclose(f);
	return v;
}

/* Run fn in a child; its exit status. */
static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#define NET 0x3000ull                   /* CAP_NET_ADMIN (12), CAP_NET_RAW (13) */
#define SETID 0xc0ull                   /* CAP_SETGID (6), CAP_SETUID (7) */

static int drop_plain(void)
{
	if (ul_priv_drop(false))
		return 10;
	if (status_field("CapEff") != NET || status_field("CapPrm") != NET)
		return 11;
	if (status_field("CapBnd") != NET)
		return 12;
	if (status_field("NoNewPrivs") != 1)
		return 13;
	if (ul_priv_can_setid())
		return 14;
	if (getuid() != 0)
		return 15;
	/* again: nothing left to drop, nothing to apply (as under systemd) */
	if (ul_priv_drop(false) || status_field("CapEff") != NET)
		return 17;
	/* a hook exec'd by root gets no more than the bounding set */
	return system("test \"$(grep CapEff /proc/self/status | cut -f2)\" = 0000000000003000")
		? 16 : 0;
}

static int drop_setid(void)
{
	if (ul_priv_drop(true))
		return 20;
	if (status_field("CapEff") != NET || status_field("CapPrm") != (NET | SETID))
		return 21;
	if (!ul_priv_can_setid())
		return 22;
	/* a hook child becoming nobody: nothing left */
	if (ul_priv_become(65534, 65534, NULL, 0))
		return 23;
	if (status_field("CapEff") || status_field("CapPrm") || status_field("CapAmb"))
		return 24;
	if (getuid() != 65534 || getgid() != 65534 || setuid(0) == 0)
		return 25;
	return 0;
}

/* Without CAP_SETUID, hook_user cannot be honoured: said so at the drop. */
static int setid_missing(void)
{
	if (ul_priv_drop(false))
		return 30;
	return ul_priv_drop(true) == -EPERM ? 0 : 31;
}

static void test_drop(void **state)
{
	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	assert_int_equal(in_child(drop_plain), 0);
	assert_int_equal(in_child(drop_setid), 0);
	assert_int_equal(in_child(setid_missing), 0);
}

TK_MAIN(NULL, NULL, test_drop)
