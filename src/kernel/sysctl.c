// SPDX-License-Identifier: GPL-2.0-or-later
/* Sysctls uplinkd needs (ip_forward, rp_filter...): changed only when the value found does
 * not do, logged, and put back on stop. Every original is written to a state file
 * ("key original_value" per line) before the value is changed, so that after a crash the
 * next start loads it and still restores what the administrator had.
 *
 * The sysctl tree is /proc/sys, or the directory named by the environment variable
 * UL_SYSCTL_ROOT when set (the unit tests point it at a temporary directory). */
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

struct saved {
	char key[KEY_MAX];
	char orig[VAL_MAX];
};

struct ul_sysctl {
	char *state_file;               /* NULL: originals kept in memory only */
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

static int parse_int(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	return 0;
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

/* Write the whole state file anew (temporary file + rename). */
static int save(const struct ul_sysctl *s)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, err = 0;

	if (!s->state_file)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->state_file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && strrchr(s->state_file, '/')) {
		/* The run directory may not exist yet (not started by systemd). */
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", s->state_file);
		*strrchr(dir, '/') = '\0';
		if (*dir && mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
	if (!err && rename(tmp, s->state_file))
		err = -errno;
out:
	if (err)
		unlink(tmp);
	return err;
}

static int load(struct ul_sysctl *s)
{
	char line[KEY_MAX + VAL_MAX + 8];
	unsigned int lineno = 0;
	FILE *f = fopen(s->state_file, "re");
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sp, *nl = strchr(line, '\n');

		lineno++;
		if (!nl && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			ul_kwarn("%s:%u: line too long, ignored", s->state_file, lineno);
			continue;
		}
		if (nl)
			*nl = '\0';
		sp = strchr(line, ' ');
		if (!sp) {
			ul_kwarn("%s:%u: malformed line, ignored", s->state_file, lineno);
			continue;
		}
		*sp = '\0';
		if (!key_ok(line) || strlen(sp + 1) >= VAL_MAX || !sp[1]) {
			ul_kwarn("%s:%u: malformed line, ignored", s->state_file, lineno);
			continue;
		}
		if (find(s, line))
			continue;
		err = remember(s, line, sp + 1);
		if (err)
			break;
	}
	fclose(f);
	if (!err && s->n)
		ul_knotice("sysctl: %zu original value(s) left by an earlier run loaded from %s",
			  s->n, s->state_file);
	return err;
}

int ul_sysctl_new(const char *state_file, struct ul_sysctl **out)
{
	const char *root = getenv("UL_SYSCTL_ROOT");
	struct ul_sysctl *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->root = strdup(root && *root ? root : "/proc/sys");
	if (state_file && *state_file)
		s->state_file = strdup(state_file);
	if (!s->root || (state_file && *state_file && !s->state_file)) {
		err = -ENOMEM;
		goto fail;
	}
	if (s->state_file) {
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

int ul_sysctl_check(struct ul_sysctl *s, const char *key, int value, int atleast, int fix,
		    long *found)
{
	char cur[VAL_MAX], want[16];
	int err;

	if (!key_ok(key))
		return -EINVAL;
	err = read_value(s, key, cur, sizeof(cur));
	if (err)
		return err;
	if (parse_int(cur, found))
		return -EINVAL;
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
	if (s->state_file && unlink(s->state_file) && errno != ENOENT)
		ul_kwarn("sysctl: cannot remove %s: %s", s->state_file, strerror(errno));
}

void ul_sysctl_free(struct ul_sysctl *s)
{
	if (!s)
		return;
	free(s->state_file);
	free(s->root);
	free(s->v);
	free(s);
}
