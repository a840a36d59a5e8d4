// SPDX-License-Identifier: GPL-2.0-or-later
/* Sysctl handling against a fake /proc/sys in a temporary directory (UL_SYSCTL_ROOT). */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sysctl.h"

struct fix {
	char dir[48];
	char root[96];
	char state[96];
};

static void put(struct fix *f, const char *key, const char *content)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, key);
	for (char *p = path + strlen(f->root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static const char *get(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static const char *key(struct fix *f, const char *k)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->root, k);
	return get(path);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ul-sysctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/proc-sys", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/run/sysctl.saved", f->dir);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(setenv("UL_SYSCTL_ROOT", f->root, 1), 0);
	put(f, "net/ipv4/ip_forward", "0\n");
	put(f, "net/ipv4/conf/all/rp_filter", "1\n");
	put(f, "net/ipv4/conf/wan1/rp_filter", "2\n");
	put(f, "net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	unsetenv("UL_SYSCTL_ROOT");
	assert_int_equal(nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static void test_ensure_and_restore(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;

	assert_int_equal(ul_sysctl_new(f->state, &s), 0);
	/* nothing changed yet: no state file (its directory is made when needed) */
	assert_null(get(f->state));

	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "1\n");
	assert_string_equal(get(f->state), "net/ipv4/ip_forward 0\n");

	/* already as wanted: untouched, not recorded */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/wan1/rp_filter", 2, 0), 0);
	/* at least 1: 2 is fine too */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/wan1/rp_filter", 1, 1), 0);
	assert_string_equal(key(f, "net/ipv4/conf/wan1/rp_filter"), "2\n");
	assert_string_equal(get(f->state), "net/ipv4/ip_forward 0\n");

	/* changed twice (1 -> 2 -> 0): the first original is the one kept */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 2, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 0, 0), 0);
	assert_string_equal(key(f, "net/ipv4/conf/all/rp_filter"), "0\n");
	assert_string_equal(get(f->state),
			    "net/ipv4/ip_forward 0\nnet/ipv4/conf/all/rp_filter 1\n");

	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	assert_string_equal(key(f, "net/ipv4/conf/all/rp_filter"), "1\n");
	assert_string_equal(key(f, "net/ipv4/conf/wan1/rp_filter"), "2\n");
	assert_null(get(f->state));
	ul_sysctl_free(s);
}

/* ul_sysctl_get: what the daemon reads before it sets accept_ra (a WAN interface's 0 is
 * the administrator's and stays). */
static void test_get(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;
	long v;

	put(f, "net/ipv6/conf/wan1/accept_ra", "1\n");
	put(f, "net/ipv6/conf/wan2/accept_ra", "x\n");
	assert_int_equal(ul_sysctl_new(f->state, &s), 0);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/wan1/accept_ra", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/wan2/accept_ra", &v), -EINVAL);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/nope/accept_ra", &v), -ENOENT);
	assert_int_equal(ul_sysctl_get(s, "../x", &v), -EINVAL);
	/* reading records nothing */
	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv6/conf/wan1/accept_ra"), "1\n");
	assert_null(get(f->state));
	ul_sysctl_free(s);
}

static void test_bad_keys(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;

	assert_int_equal(ul_sysctl_new(f->state, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "/net/ipv4/ip_forward", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net/../../etc/passwd", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/./ip_forward", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net//ipv4", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip forward", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/", 1, 0), -EINVAL);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/nonexistent", 1, 0), -ENOENT);
	/* not a single number: refused, left alone */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/tcp_rmem", 1, 0), -EINVAL);
	assert_string_equal(key(f, "net/ipv4/tcp_rmem"), "4096\t131072\t6291456\n");
	/* nothing was recorded */
	assert_null(get(f->state));
	ul_sysctl_restore(s);
	ul_sysctl_free(s);
}

/* A crash leaves the state file: the next start restores the first run's originals,
 * not the values the crashed run had set. */
static void test_crash_recovery(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;
	FILE *fp;

	assert_int_equal(ul_sysctl_new(f->state, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	ul_sysctl_free(s);              /* "crash": no restore */
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "1\n");
	assert_string_equal(get(f->state), "net/ipv4/ip_forward 0\n");

	/* a damaged line in the file is skipped, the rest is used */
	fp = fopen(f->state, "a");
	assert_non_null(fp);
	fputs("garbage-without-value\n../etc/shadow 1\n", fp);
	fclose(fp);

	assert_int_equal(ul_sysctl_new(f->state, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 2, 0), 0);
	assert_string_equal(get(f->state),
			    "net/ipv4/ip_forward 0\nnet/ipv4/conf/all/rp_filter 1\n");
	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	assert_string_equal(key(f, "net/ipv4/conf/all/rp_filter"), "1\n");
	assert_null(get(f->state));
	ul_sysctl_free(s);
}

/* Without a state file the originals are kept in memory. */
static void test_no_state_file(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;

	assert_int_equal(ul_sysctl_new(NULL, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 1), 0);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "1\n");
	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	ul_sysctl_free(s);
}

/* The state file cannot be written: nothing is changed. */
static void test_unwritable_state(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;
	char bad[160];

	/* a state file that cannot even be looked for: refused at once */
	snprintf(bad, sizeof(bad), "%s/proc-sys/net/ipv4/ip_forward/saved", f->dir);
	assert_int_equal(ul_sysctl_new(bad, &s), -ENOTDIR);
	/* two directory levels missing: only one is ever created */
	snprintf(bad, sizeof(bad), "%s/a/b/saved", f->dir);
	assert_int_equal(ul_sysctl_new(bad, &s), 0);
	assert_true(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0) < 0);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	ul_sysctl_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ensure_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
