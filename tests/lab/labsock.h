/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the lab's C tools (tcpsrc, probe_tool) share; each is built from its one .c file,
 * so the helpers here are static. */
#ifndef UL_LABSOCK_H
#define UL_LABSOCK_H

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Accept one connection on the listening socket lfd (non-blocking, close-on-exec; its peer
 * in *peer unless NULL) and allocate its state, size bytes zeroed, with the socket in *fd.
 * NULL when none is waiting or on failure, errno saying which (EAGAIN, EMFILE, ENOMEM...);
 * an accepted connection is closed again then. */
static inline void *lab_accept(int lfd, size_t size, int *fd, struct sockaddr_storage *peer)
{
	socklen_t plen = sizeof(*peer);
	void *c;

	*fd = accept4(lfd, (struct sockaddr *)peer, peer ? &plen : NULL,
		      SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (*fd < 0)
		return NULL;
	c = calloc(1, size);
	if (!c) {
		close(*fd);
		errno = ENOMEM;
	}
	return c;
}

#endif
