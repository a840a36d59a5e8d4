// SPDX-License-Identifier: GPL-2.0-or-later
/* Readiness and watchdog notification to the service manager. With libsystemd this is
 * sd_notify; without it the same datagram protocol is spoken by hand: one datagram with
 * the state string to the AF_UNIX socket named by $NOTIFY_SOCKET ("/path", or "@name"
 * for the abstract namespace). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

#ifdef HAVE_LIBSYSTEMD

void ul_notify(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		ul_debug("sd_notify: %s", strerror(-r));
}

uint64_t ul_notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return 0;
	return usec / 1000 ? usec / 1000 : 1;
}

#else

static int notify_send(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len, slen = strlen(state);
	socklen_t alen;
	ssize_t n;
	int fd, err = 0;

	if (!e || !*e)
		return 0;
	len = strlen(e);
	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (e[0] == '@') {
		if (len < 2)
			return -EINVAL;
		sa.sun_path[0] = '\0';
		memcpy(sa.sun_path + 1, e + 1, len - 1);
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else if (e[0] == '/') {
		memcpy(sa.sun_path, e, len + 1);
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	} else {
		return -EAFNOSUPPORT;   /* e.g. vsock:..., which we do not speak */
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sa, alen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != slen)
		err = -EMSGSIZE;
	close(fd);
	return err;
}

void ul_notify(const char *state)
{
	int r = notify_send(state);

	if (r < 0)
		ul_debug("sd_notify: %s", strerror(-r));
}

static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

uint64_t ul_notify_watchdog_ms(void)
{
	const char *pid_s = getenv("WATCHDOG_PID");
	uint64_t usec, pid;

	if (parse_u64(getenv("WATCHDOG_USEC"), &usec) || !usec)
		return 0;
	/* The watchdog is meant for another process of the service: not ours. */
	if (pid_s && (parse_u64(pid_s, &pid) || pid != (uint64_t)getpid()))
		return 0;
	return usec / 1000 ? usec / 1000 : 1;
}

#endif
