// SPDX-License-Identifier: GPL-2.0-or-later
/* Sysctls uplinkd needs (ip_forward, rp_filter...): changed only when the value found does
 * not do, logged, and put back on stop. Every original is written to a state file
 * ("key original_value" per line) before the value is changed, so that after a crash the
 * next start loads it and still restores what the administrator had.
 *
 * The state file is trusted only as far as it must be: it lives in a fixed directory per
 * network namespace (ul_sysctl_state_dir: /run/uplinkd/ns-<inode of the namespace>), which
 * and whose parent must be owned by root (or by the user uplinkd runs as) and writable by
 * nobody else, else it is not used; it is opened without following symbolic links; and it
 * may name only the keys uplinkd manages (managed_key) with integer values. Any other line
 * is logged and dropped, never written to /proc/sys.
 *
 * The sysctl tree is /proc/sys. Test builds only (-DUL_TESTING) read the environment
 * variable UL_SYSCTL_ROOT to point it at a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klog.h"
#include "sysctl.h"

#define KEY_MAX 128
#define VAL_MAX 64
#define STATE_BASE "/run/uplinkd"
#define STATE_NAME "sysctl.saved"
#define STATE_TMP STATE_NAME ".tmp"

struct saved {
	char key[KEY_MAX];
	char orig[VAL_MAX];
};

struct ul_sysctl {
	char *state_file;               /* for messages; NULL: originals kept in memory only */
	int dirfd;                      /* the state directory, checked; -1 without one */
	char *root;
	struct saved *v;
	size_t n;
};

/* "net/ipv4/conf/wan1/rp_filter": relative, no "." or ".." parts, nothing a line of the
 * state file could not hold. */
static bool key_ok(const char *key)
{
	size_t len = strlen(key);
	const char *p = key;

	if (!len || len >= KEY_MAX || key[0] == '/' || key[len - 1] == '/')
		return false;
	for (const char *c = key; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* The value as printed by sysctl(8): dots between the parts. */
static void dotted(char *out, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i < KEY_MAX - 1; i++)
		out[i] = key[i] == '/' ? '.' : key[i];
	out[i] = '\0';
}

static int key_path(const struct ul_sysctl *s, const char *key, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", s->root, key);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Read the value, trailing newline removed; -ERANGE if it does not fit. */
static int read_value(const struct ul_sysctl *s, const char *key, char *val, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err;

	err = key_path(s, key, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, val, len);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if ((size_t)n == len)
		return -ERANGE;
	while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' ' || val[n - 1] == '\t'))
		n--;
	val[n] = '\0';
	return 0;
}

static int write_value(const struct ul_sysctl *s, const char *key, const char *val)
{
	char path[PATH_MAX], line[VAL_MAX + 1];
	int fd, err = 0, n;

	err = key_path(s, key, path, sizeof(path));
	if (err)
		return err;
	n = snprintf(line, sizeof(line), "%s\n", val);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ERANGE;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, line, (size_t)n) != n)
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* A value as the state file and the kernel's integer sysctls hold it: one decimal int. */
static int parse_int(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < INT_MIN || *out > INT_MAX)
		return -EINVAL;
	return 0;
}

/* An interface name as the kernel takes it (dev_valid_name), or "all"/"default". */
static bool ifname_ok(const char *p, size_t n)
{
	if (!n || n >= 16 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/' || p[i] == ':' || (unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return false;
	return true;
}

/* The keys uplinkd manages, and so the only ones it reads from its state file and ever
 * writes: forwarding and the multipath hash policy of both families, rp_filter (IPv4) and
 * forwarding/accept_ra (IPv6) of an interface. */
bool ul_sysctl_managed(const char *key)
{
	static const char *const fixed[] = {
		"net/ipv4/ip_forward", "net/ipv4/fib_multipath_hash_policy",
		"net/ipv6/fib_multipath_hash_policy", NULL,
	};
	static const struct {
		const char *prefix, *leaf;
	} per_if[] = {
		{ "net/ipv4/conf/", "rp_filter" },
		{ "net/ipv6/conf/", "forwarding" },
		{ "net/ipv6/conf/", "accept_ra" },
	};

	if (!key_ok(key))
		return false;
	for (size_t i = 0; fixed[i]; i++)
		if (!strcmp(key, fixed[i]))
			return true;
	for (size_t i = 0; i < sizeof(per_if) / sizeof(per_if[0]); i++) {
		size_t pl = strlen(per_if[i].prefix);
		const char *ifn = key + pl, *slash;

		if (strncmp(key, per_if[i].prefix, pl))
			continue;
		slash = strchr(ifn, '/');
		if (slash && ifname_ok(ifn, (size_t)(slash - ifn)) &&
		    !strcmp(slash + 1, per_if[i].leaf))
			return true;
	}
	return false;
}

static struct saved *find(struct ul_sysctl *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key))
			return &s->v[i];
	return NULL;
}

static int remember(struct ul_sysctl *s, const char *key, const char *orig)
{
	struct saved *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	snprintf(v[s->n].key, KEY_MAX, "%s", key);
	snprintf(v[s->n].orig, VAL_MAX, "%s", orig);
	s->n++;
	return 0;
}

/* Owned by root or by us, writable by nobody else. */
static int trusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return -EPERM;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM;
	return 0;
}

/* Open (creating it with mode if missing and create) directory name in parentfd, not
 * following a symbolic link, and check it is trusted. A descriptor or -errno. */
static int open_dir(int parentfd, const char *name, const char *what, mode_t mode, bool create)
{
	struct stat st;
	int fd, err;

	if (create && mkdirat(parentfd, name, mode) && errno != EEXIST)
		return -errno;
	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = trusted(&st);
	if (err) {
		ul_kerr("sysctl: %s (owner uid %u, mode %04o) must be owned by root%s and writable "
		       "by nobody else: not used", what, (unsigned)st.st_uid,
		       (unsigned)(st.st_mode & 07777), geteuid() ? " or by uplinkd's user" : "");
		close(fd);
		return err;
	}
	return fd;
}

int ul_sysctl_state_dir(char *out, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	n = snprintf(out, len, STATE_BASE "/ns-%llu", (unsigned long long)st.st_ino);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The state directory: its parent (one level is created if missing, mode 0755: the
 * control socket may live there too) and itself (mode 0700) must be trusted. */
static int open_state_dir(struct ul_sysctl *s, const char *dir)
{
	char parent[PATH_MAX], *slash;
	int pfd, fd;

	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	slash = strrchr(parent, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	if (slash == parent) {
		pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return -errno;
	} else {
		char *pslash = strrchr(parent, '/');
		int gfd = -1;

		/* the parent's parent (/run) is taken as the system made it */
		if (pslash && pslash != parent) {
			*pslash = '\0';
			gfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			*pslash = '/';
		} else {
			gfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (gfd < 0)
			return -errno;
		pfd = open_dir(gfd, pslash ? pslash + 1 : parent, parent, 0755, true);
		close(gfd);
		if (pfd < 0)
			return pfd;
	}
	fd = open_dir(pfd, slash + 1, dir, 0700, true);
	close(pfd);
	if (fd < 0)
		return fd;
	s->dirfd = fd;
	return 0;
}

/* Write the whole state file anew: a new temporary file (never an existing one, never
 * through a symbolic link), then renamed over the old. */
static int save(const struct ul_sysctl *s)
{
	FILE *f;
	int fd, err = 0;

	if (s->dirfd < 0)
		return 0;
	fd = openat(s->dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0 && errno == EEXIST) {
		/* left by a crash during a save */
		if (unlinkat(s->dirfd, STATE_TMP, 0) && errno != ENOENT)
			return -errno;
		fd = openat(s->dirfd, STATE_TMP,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s %s\n", s->v[i].key, s->v[i].orig);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_NAME))
		err = -errno;
out:
	if (err)
		unlinkat(s->dirfd, STATE_TMP, 0);
	return err;
}

/* One line of the state file: "key value", a managed key and an integer; 0 if taken,
 * else why not (for the log). */
static const char *parse_line(struct ul_sysctl *s, char *line, int *err)
{
	char *sp = strchr(line, ' ');
	long v;

	*err = 0;
	if (!sp)
		return "malformed line";
	*sp = '\0';
	if (!key_ok(line) || !sp[1] || strlen(sp + 1) >= VAL_MAX)
		return "malformed line";
	if (!ul_sysctl_managed(line))
		return "not a key uplinkd manages";
	if (parse_int(sp + 1, &v))
		return "not an integer value";
	if (find(s, line))
		return NULL;
	*err = remember(s, line, sp + 1);
	return NULL;
}

int ul_sysctl_load_text(struct ul_sysctl *s, const char *name, FILE *f)
{
	char line[KEY_MAX + VAL_MAX + 8];
	unsigned int lineno = 0;
	int err = 0;

	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');
		const char *why;

		lineno++;
		if (!nl && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			ul_kwarn("%s:%u: line too long, ignored", name, lineno);
			continue;
		}
		if (nl)
			*nl = '\0';
		if (!line[0])
			continue;
		why = parse_line(s, line, &err);
		if (err)
			break;
		if (why)
			ul_kwarn("%s:%u: %s, ignored (never written): %.*s", name, lineno, why,
				KEY_MAX, line);
	}
	return err;
}

static int load(struct ul_sysctl *s)
{
	struct stat st;
	FILE *f;
	int fd, err;

	fd = openat(s->dirfd, STATE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || trusted(&st)) {
		ul_kerr("sysctl: %s is not a regular file owned by root%s and writable by nobody "
		       "else: not used", s->state_file, geteuid() ? " or uplinkd's user" : "");
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	err = ul_sysctl_load_text(s, s->state_file, f);
	fclose(f);
	if (!err && s->n)
		ul_knotice("sysctl: %zu original value(s) left by an earlier run loaded from %s",
			  s->n, s->state_file);
	return err;
}

int ul_sysctl_new(const char *state_dir, struct ul_sysctl **out)
{
	const char *root = NULL;
	struct ul_sysctl *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->dirfd = -1;
#ifdef UL_TESTING
	root = getenv("UL_SYSCTL_ROOT");
#endif
	s->root = strdup(root && *root ? root : "/proc/sys");
	if (!s->root) {
		err = -ENOMEM;
		goto fail;
	}
	if (state_dir && *state_dir) {
		if (asprintf(&s->state_file, "%s/" STATE_NAME, state_dir) < 0) {
			s->state_file = NULL;
			err = -ENOMEM;
			goto fail;
		}
		err = open_state_dir(s, state_dir);
		if (err) {
			ul_kerr("sysctl: state directory %s: %s", state_dir, strerror(-err));
			goto fail;
		}
		err = load(s);
		if (err) {
			ul_kerr("sysctl: cannot read %s: %s", s->state_file, strerror(-err));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	ul_sysctl_free(s);
	return err;
}

int ul_sysctl_ensure(struct ul_sysctl *s, const char *key, int value, int atleast)
{
	char cur[VAL_MAX], want[16], name[KEY_MAX];
	long have;
	int err;

	if (!key_ok(key))
		return -EINVAL;
	dotted(name, key);
	if (!ul_sysctl_managed(key)) {
		ul_kerr("sysctl %s: not a key uplinkd manages, left alone", name);
		return -EPERM;
	}
	err = read_value(s, key, cur, sizeof(cur));
	if (err) {
		ul_kerr("sysctl %s: cannot read: %s", name, strerror(-err));
		return err;
	}
	if (parse_int(cur, &have)) {
		ul_kerr("sysctl %s: not a number: \"%s\"", name, cur);
		return -EINVAL;
	}
	if (have == value || (atleast && have > value))
		return 0;
	if (!find(s, key)) {
		err = remember(s, key, cur);
		if (!err)
			err = save(s);
		if (err) {
			if (err != -ENOMEM)
				s->n--;
			ul_kerr("sysctl %s: cannot record the original value in %s: %s", name,
			       s->state_file ? s->state_file : "memory", strerror(-err));
			return err;
		}
	}
	snprintf(want, sizeof(want), "%d", value);
	err = write_value(s, key, want);
	if (err) {
		ul_kerr("sysctl %s: cannot set %s: %s", name, want, strerror(-err));
		return err;
	}
	ul_knotice("sysctl %s: %s -> %s", name, cur, want);
	return 0;
}

int ul_sysctl_get(struct ul_sysctl *s, const char *key, long *value)
{
	char cur[VAL_MAX];
	int err;

	if (!key_ok(key))
		return -EINVAL;
	err = read_value(s, key, cur, sizeof(cur));
	if (err)
		return err;
	return parse_int(cur, value) ? -EINVAL : 0;
}

int ul_sysctl_check(struct ul_sysctl *s, const char *key, int value, int atleast, int fix,
		    long *found)
{
	char want[16];
	int err = ul_sysctl_get(s, key, found);

	if (err)
		return err;
	if (*found == value || (atleast && *found > value))
		return 0;
	if (!fix)
		return 1;
	/* the original stays the one found before uplinkd first changed it (if it did) */
	snprintf(want, sizeof(want), "%d", value);
	err = write_value(s, key, want);
	return err ? err : 1;
}

void ul_sysctl_restore(struct ul_sysctl *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		char cur[VAL_MAX], name[KEY_MAX];
		int err;

		dotted(name, s->v[i].key);
		if (!ul_sysctl_managed(s->v[i].key))    /* never: load and ensure refuse them */
			continue;
		if (read_value(s, s->v[i].key, cur, sizeof(cur)))
			snprintf(cur, sizeof(cur), "?");
		else if (!strcmp(cur, s->v[i].orig))
			continue;
		err = write_value(s, s->v[i].key, s->v[i].orig);
		if (err)
			ul_kwarn("sysctl %s: cannot restore %s: %s", name, s->v[i].orig,
				strerror(-err));
		else
			ul_knotice("sysctl %s: %s -> %s (restored)", name, cur, s->v[i].orig);
	}
	s->n = 0;
	if (s->dirfd >= 0 && unlinkat(s->dirfd, STATE_NAME, 0) && errno != ENOENT)
		ul_kwarn("sysctl: cannot remove %s: %s", s->state_file, strerror(errno));
	if (s->dirfd >= 0) {
		/* the namespace's directory too, when empty: a namespace made later may get the
		 * same inode number */
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", s->state_file);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			if (rmdir(dir) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
				ul_kdebug("sysctl: cannot remove %s: %s", dir, strerror(errno));
		}
	}
}

int ul_sysctl_saved(const struct ul_sysctl *s, size_t i, const char **key, const char **orig)
{
	if (i >= s->n)
		return -ENOENT;
	*key = s->v[i].key;
	*orig = s->v[i].orig;
	return 0;
}

void ul_sysctl_free(struct ul_sysctl *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->state_file);
	free(s->root);
	free(s->v);
	free(s);
}
