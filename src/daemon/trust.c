// SPDX-License-Identifier: GPL-2.0-or-later
/* The trust check for programs uplinkd runs (the hook): keepalived's script security. A
 * file someone other than root can change, or swap by changing a directory above it, is
 * code that someone runs with uplinkd's capabilities. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

/* A directory is safe when root owns it and nobody else may write it, or when it is sticky
 * and what we use in it (child_uid) is root's: others cannot rename or remove that. */
static bool dir_ok(const struct stat *st, uid_t child_uid)
{
	if (st->st_uid != 0)
		return false;
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return true;
	return (st->st_mode & S_ISVTX) && child_uid == 0;
}

/* Every directory on the way to path (absolute): "/", "/a", "/a/b" for "/a/b/c", each
 * with the entry below it. */
static int check_dirs(const char *path, char *why, size_t why_len)
{
	size_t len = strlen(path);

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++) {
		char dir[PATH_MAX], child[PATH_MAX];
		struct stat dst, cst;
		size_t j = i + 1;

		if (path[i] != '/')
			continue;
		while (j < len && path[j] != '/')
			j++;
		if (j == i + 1)
			continue;       /* "//", or a trailing slash */
		snprintf(dir, sizeof(dir), "%.*s", i ? (int)i : 1, path);
		snprintf(child, sizeof(child), "%.*s", (int)j, path);
		if (stat(dir, &dst) || stat(child, &cst)) {
			int e = errno;

			snprintf(why, why_len, "%s", strerror(e));
			return -e;
		}
		if (!dir_ok(&dst, cst.st_uid)) {
			snprintf(why, why_len, "directory %s is %s", dir,
				 dst.st_uid ? "not owned by root" : "writable by group or others");
			return -EPERM;
		}
	}
	return 0;
}

int ul_path_trusted(const char *path, char *why, size_t why_len, struct stat *out,
		    char *resolved)
{
	char real[PATH_MAX];
	struct stat st;
	int err;

	if (path[0] != '/') {
		snprintf(why, why_len, "not an absolute path");
		return -EINVAL;
	}
	err = check_dirs(path, why, why_len);
	if (err)
		return err;
	if (!realpath(path, real)) {
		err = -errno;
		snprintf(why, why_len, "%s", strerror(-err));
		return err;
	}
	if (strcmp(real, path)) {
		err = check_dirs(real, why, why_len);
		if (err)
			return err;
	}
	if (lstat(real, &st)) {
		err = -errno;
		snprintf(why, why_len, "%s", strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		return -EINVAL;
	}
	if (st.st_uid != 0) {
		snprintf(why, why_len, "not owned by root (owner uid %u)", (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, why_len, "writable by group or others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (!(st.st_mode & S_IXUSR)) {
		snprintf(why, why_len, "not executable (mode %04o)", (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	if (out)
		*out = st;
	if (resolved)
		snprintf(resolved, PATH_MAX, "%s", real);
	return 0;
}
