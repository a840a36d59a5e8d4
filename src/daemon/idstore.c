// SPDX-License-Identifier: GPL-2.0-or-later
/* The identity store file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idstore.h"
#include "log.h"

#define STORE_MAX_BYTES 65536

int ul_idstore_load(const char *path, struct ul_ident_map *m)
{
	char buf[STORE_MAX_BYTES + 1];
	size_t len = 0, bad = 0;
	int fd, err = 0;

	m->n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (len < STORE_MAX_BYTES) {
		ssize_t n = read(fd, buf + len, STORE_MAX_BYTES - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err)
		return err;
	buf[len] = 0;
	ul_ident_parse(buf, m, &bad);
	if (bad)
		ul_warn("identity store %s: %zu bad line%s ignored", path, bad, bad == 1 ? "" : "s");
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ul_idstore_save(const char *path, const struct ul_ident *a, size_t n)
{
	char tmp[4096];
	struct ul_buf b = { 0 };
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ul_ident_format(a, n, &b);
	if (b.oom) {
		ul_buf_free(&b);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		unlink(tmp);    /* left by a crash between open and rename */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, b.p, b.len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	ul_buf_free(&b);
	return err;
}
