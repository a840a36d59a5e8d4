// SPDX-License-Identifier: GPL-2.0-or-later
/* Sysctl handling against a fake /proc/sys in a temporary directory (UL_SYSCTL_ROOT, read
 * only by this test's own -DUL_TESTING build of sysctl.c). */
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
#include "tk.h"

struct fix {
	char dir[48];
	char root[96];
	char sdir[96];          /* the state directory given to ul_sysctl_new */
	char state[128];        /* the state file in it */
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

static const char *key(struct fix *f, const char *k)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->root, k);
	return tk_read(path);
}

/* A sysctl and the value its file must hold. */
struct kv {
	const char *key, *value;
};

/* A key and what a call must say of it (an errno, whether it is managed). */
struct key_want {
	const char *key;
	int want;
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The end of a run: ul_sysctl_restore, then every key holds its value and the state file
 * is gone; s freed. */
static void end_restored(struct fix *f, struct ul_sysctl *s, const struct kv *kv, size_t n)
{
	ul_sysctl_restore(s);
	for (size_t i = 0; i < n; i++) {
		const char *got = key(f, kv[i].key);

		if (!got || strcmp(got, kv[i].value))
			fail_msg("%s: \"%s\" after the restore, wanted \"%s\"", kv[i].key,
				 got ? got : "(missing)", kv[i].value);
	}
	assert_null(tk_read(f->state));
	ul_sysctl_free(s);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tk_tmpdir(f->dir, sizeof(f->dir), "ul-sysctl");
	snprintf(f->root, sizeof(f->root), "%s/proc-sys", f->dir);
	snprintf(f->sdir, sizeof(f->sdir), "%s/run/ns-test", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/sysctl.saved", f->sdir);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(setenv("UL_SYSCTL_ROOT", f->root, 1), 0);
	put(f, "net/ipv4/ip_forward", "0\n");
	put(f, "net/ipv4/conf/all/rp_filter", "1\n");
	put(f, "net/ipv4/conf/wan1/rp_filter", "2\n");
	put(f, "net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
	put(f, "net/ipv4/tcp_syncookies", "1\n");
	put(f, "kernel/core_pattern", "core\n");
	put(f, "net/ipv6/conf/wan1/accept_ra", "1\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	unsetenv("UL_SYSCTL_ROOT");
	tk_rmtree(f->dir);
	free(f);
	return 0;
}

static void test_ensure_and_restore(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s;

	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	/* nothing changed yet: no state file (its directory is made when needed) */
	assert_null(tk_read(f->state));

	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "1\n");
	assert_string_equal(tk_read(f->state), "net/ipv4/ip_forward 0\n");

	/* already as wanted: untouched, not recorded */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/wan1/rp_filter", 2, 0), 0);
	/* at least 1: 2 is fine too */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/wan1/rp_filter", 1, 1), 0);
	assert_string_equal(key(f, "net/ipv4/conf/wan1/rp_filter"), "2\n");
	assert_string_equal(tk_read(f->state), "net/ipv4/ip_forward 0\n");

	/* changed twice (1 -> 2 -> 0): the first original is the one kept */
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 2, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 0, 0), 0);
	assert_string_equal(key(f, "net/ipv4/conf/all/rp_filter"), "0\n");
	assert_string_equal(tk_read(f->state),
			    "net/ipv4/ip_forward 0\nnet/ipv4/conf/all/rp_filter 1\n");

	end_restored(f, s, (const struct kv[]){ { "net/ipv4/ip_forward", "0\n" },
					       { "net/ipv4/conf/all/rp_filter", "1\n" },
					       { "net/ipv4/conf/wan1/rp_filter", "2\n" } }, 3);
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
	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/wan1/accept_ra", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/wan2/accept_ra", &v), -EINVAL);
	assert_int_equal(ul_sysctl_get(s, "net/ipv6/conf/nope/accept_ra", &v), -ENOENT);
	assert_int_equal(ul_sysctl_get(s, "../x", &v), -EINVAL);
	/* reading records nothing */
	end_restored(f, s, (const struct kv[]){ { "net/ipv6/conf/wan1/accept_ra", "1\n" } }, 1);
}

static void test_bad_keys(void **state)
{
	static const struct key_want bad[] = {
		{ "", -EINVAL },
		{ "/net/ipv4/ip_forward", -EINVAL },
		{ "net/../../etc/passwd", -EINVAL },
		{ "net/ipv4/./ip_forward", -EINVAL },
		{ "net//ipv4", -EINVAL },
		{ "net/ipv4/ip forward", -EINVAL },
		{ "net/ipv4/", -EINVAL },
		/* keys uplinkd does not manage are refused before they are even read */
		{ "net/ipv4/nonexistent", -EPERM },
		{ "net/ipv4/tcp_rmem", -EPERM },
		{ "kernel/core_pattern", -EPERM },
		{ "net/ipv4/conf/wan1/forwarding", -EPERM },
		{ "net/ipv4/conf/a/b/rp_filter", -EPERM },
		{ "net/ipv4/conf/nonexistent/rp_filter", -ENOENT },
	};
	struct fix *f = *state;
	struct ul_sysctl *s;

	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	for (size_t i = 0; i < N_OF(bad); i++) {
		int err = ul_sysctl_ensure(s, bad[i].key, 1, 0);

		if (err != bad[i].want)
			fail_msg("ensure \"%s\": %d, wanted %d", bad[i].key, err, bad[i].want);
	}
	/* not a single number: refused, left alone */
	put(f, "net/ipv4/conf/wan1/rp_filter", "1 2\n");
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/wan1/rp_filter", 2, 0), -EINVAL);
	assert_string_equal(key(f, "net/ipv4/conf/wan1/rp_filter"), "1 2\n");
	assert_string_equal(key(f, "net/ipv4/tcp_rmem"), "4096\t131072\t6291456\n");
	/* nothing was recorded */
	assert_null(tk_read(f->state));
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

	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	ul_sysctl_free(s);              /* "crash": no restore */
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "1\n");
	assert_string_equal(tk_read(f->state), "net/ipv4/ip_forward 0\n");

	/* a damaged line in the file is skipped, the rest is used */
	fp = fopen(f->state, "a");
	assert_non_null(fp);
	fputs("garbage-without-value\n../etc/shadow 1\n", fp);
	/* planted: keys uplinkd does not manage, values that are not integers */
	fputs("kernel/core_pattern |/tmp/x\n", fp);
	fputs("kernel/core_pattern 5\n", fp);
	fputs("net/ipv4/tcp_syncookies 0\n", fp);
	fputs("net/ipv4/conf/wan1/rp_filter |/tmp/x\n", fp);
	fputs("net/ipv4/conf/wan1/rp_filter 99999999999\n", fp);
	fputs("net/ipv4/conf/../../../kernel/core_pattern 1\n", fp);
	/* a managed key with an integer (IPv6 counterpart): taken */
	fputs("net/ipv6/conf/wan1/accept_ra 2\n", fp);
	fclose(fp);

	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/conf/all/rp_filter", 2, 0), 0);
	assert_string_equal(tk_read(f->state),
			    "net/ipv4/ip_forward 0\nnet/ipv6/conf/wan1/accept_ra 2\n"
			    "net/ipv4/conf/all/rp_filter 1\n");
	end_restored(f, s, (const struct kv[]){ { "net/ipv4/ip_forward", "0\n" },
					       { "net/ipv4/conf/all/rp_filter", "1\n" },
					       { "net/ipv6/conf/wan1/accept_ra", "2\n" },
					       /* never written back */
					       { "kernel/core_pattern", "core\n" },
					       { "net/ipv4/tcp_syncookies", "1\n" },
					       { "net/ipv4/conf/wan1/rp_filter", "2\n" } }, 6);
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

	/* a state directory that cannot even be looked for: refused at once */
	snprintf(bad, sizeof(bad), "%s/proc-sys/net/ipv4/ip_forward/ns", f->dir);
	assert_int_equal(ul_sysctl_new(bad, &s), -ENOTDIR);
	/* two directory levels missing: only one is ever created */
	snprintf(bad, sizeof(bad), "%s/a/b/ns", f->dir);
	assert_int_equal(ul_sysctl_new(bad, &s), -ENOENT);

	/* the directory can no longer be written: nothing is changed */
	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	assert_int_equal(chmod(f->sdir, 0500), 0);
	if (!geteuid()) {       /* root writes anyway (CAP_DAC_OVERRIDE): make it a file */
		assert_int_equal(chmod(f->sdir, 0700), 0);
		snprintf(bad, sizeof(bad), "%s/sysctl.saved.tmp", f->sdir);
		assert_int_equal(mkdir(bad, 0700), 0);
	}
	assert_true(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0) < 0);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	ul_sysctl_restore(s);
	assert_string_equal(key(f, "net/ipv4/ip_forward"), "0\n");
	ul_sysctl_free(s);
	chmod(f->sdir, 0700);
}

/* The state directory and its parent must be ours and writable by nobody else; the
 * state file is never reached through a symbolic link. */
static void test_untrusted_dir(void **state)
{
	struct fix *f = *state;
	struct ul_sysctl *s = NULL;
	char parent[128], path[160], victim[128];
	FILE *fp;

	snprintf(parent, sizeof(parent), "%s/run", f->dir);
	assert_int_equal(mkdir(parent, 0755), 0);
	/* parent writable by others */
	assert_int_equal(chmod(parent, 0777), 0);
	assert_int_equal(ul_sysctl_new(f->sdir, &s), -EPERM);
	assert_int_equal(chmod(parent, 0755), 0);
	/* the state directory itself group-writable */
	assert_int_equal(mkdir(f->sdir, 0700), 0);
	assert_int_equal(chmod(f->sdir, 0770), 0);
	assert_int_equal(ul_sysctl_new(f->sdir, &s), -EPERM);
	assert_int_equal(rmdir(f->sdir), 0);
	/* the state directory a symbolic link */
	assert_int_equal(symlink("/", f->sdir), 0);
	assert_true(ul_sysctl_new(f->sdir, &s) < 0);
	assert_int_equal(unlink(f->sdir), 0);
	/* the state file a symbolic link: not read */
	assert_int_equal(mkdir(f->sdir, 0700), 0);
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	fp = fopen(victim, "w");
	assert_non_null(fp);
	fputs("kernel/core_pattern 1\n", fp);
	fclose(fp);
	assert_int_equal(symlink(victim, f->state), 0);
	assert_int_equal(ul_sysctl_new(f->sdir, &s), -ELOOP);
	assert_int_equal(unlink(f->state), 0);
	/* a state file others may write: not read */
	fp = fopen(f->state, "w");
	assert_non_null(fp);
	fputs("net/ipv4/ip_forward 1\n", fp);
	fclose(fp);
	assert_int_equal(chmod(f->state, 0666), 0);
	assert_int_equal(ul_sysctl_new(f->sdir, &s), -EPERM);
	assert_int_equal(unlink(f->state), 0);
	/* a temporary file planted as a symbolic link is replaced, never written through */
	snprintf(path, sizeof(path), "%s/sysctl.saved.tmp", f->sdir);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(ul_sysctl_new(f->sdir, &s), 0);
	assert_int_equal(ul_sysctl_ensure(s, "net/ipv4/ip_forward", 1, 0), 0);
	assert_string_equal(tk_read(victim), "kernel/core_pattern 1\n");
	assert_string_equal(tk_read(f->state), "net/ipv4/ip_forward 0\n");
	ul_sysctl_restore(s);
	ul_sysctl_free(s);
}

static void test_managed(void **state)
{
	static const struct key_want keys[] = {
		{ "net/ipv4/ip_forward", true },
		{ "net/ipv4/fib_multipath_hash_policy", true },
		{ "net/ipv6/fib_multipath_hash_policy", true },
		{ "net/ipv4/conf/all/rp_filter", true },
		{ "net/ipv4/conf/wan-1.100/rp_filter", true },
		{ "net/ipv6/conf/wan1/forwarding", true },
		{ "net/ipv6/conf/wan1/accept_ra", true },
		{ "kernel/core_pattern", false },
		{ "net/ipv4/tcp_syncookies", false },
		{ "net/ipv4/conf/wan1/forwarding", false },
		{ "net/ipv4/conf//rp_filter", false },
		{ "net/ipv4/conf/../rp_filter", false },
		{ "net/ipv4/conf/averyveryverylongname/rp_filter", false },
		{ "net/ipv4/conf/wan1/rp_filter/x", false },
		{ "net/ipv4/ip_forward/", false },
	};
	char dir[64], want[64];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < N_OF(keys); i++)
		if (ul_sysctl_managed(keys[i].key) != keys[i].want)
			fail_msg("%s: managed %d, wanted %d", keys[i].key, !keys[i].want,
				 keys[i].want);

	assert_int_equal(ul_sysctl_state_dir(dir, sizeof(dir)), 0);
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(want, sizeof(want), "/run/uplinkd/ns-%llu", (unsigned long long)st.st_ino);
	assert_string_equal(dir, want);
	assert_int_equal(ul_sysctl_state_dir(dir, 10), -ENAMETOOLONG);
}

TK_MAIN_EACH(setup, teardown, test_ensure_and_restore, test_get, test_bad_keys,
	     test_crash_recovery, test_no_state_file, test_unwritable_state, test_untrusted_dir,
	     test_managed)
