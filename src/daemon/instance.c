// SPDX-License-Identifier: GPL-2.0-or-later
/* The per-namespace instance lock: an abstract unix socket. A second instance learns the
 * holder's pid by connecting: a listening unix socket hands its credentials (those of the
 * process that called listen) to every connecting peer (SO_PEERCRED). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "instance.h"

static socklen_t abstract_addr(struct sockaddr_un *sa, const char *name)
{
	size_t n = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n + 1 > sizeof(sa->sun_path))
		return 0;
	memcpy(sa->sun_path + 1, name, n);      /* sun_path[0] = 0: abstract */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static pid_t holder_pid(const struct sockaddr_un *sa, socklen_t sl)
{
	struct ucred cr = { 0 };
	socklen_t cl = sizeof(cr);
	pid_t pid = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)sa, sl) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
		pid = cr.pid;
	close(fd);
	return pid;
}

int ul_instance_lock(const char *name, pid_t *holder)
{
	struct sockaddr_un sa;
	socklen_t sl;
	int fd, err;

	if (holder)
		*holder = 0;
	if (!name || !*name || strlen(name) > 100)
		return -EINVAL;
	sl = abstract_addr(&sa, name);
	if (!sl)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sl)) {
		err = -errno;
		close(fd);
		if (err == -EADDRINUSE) {
			if (holder)
				*holder = holder_pid(&sa, sl);
			return -EEXIST;
		}
		return err;
	}
	if (listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void ul_instance_drain(int fd)
{
	for (int i = 0; i < 64; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0)
			return;
		close(c);
	}
}
