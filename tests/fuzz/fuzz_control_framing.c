// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the control socket's framing, end to end. A real server (ul_control_open in a
 * ul_loop, on a socket in a private temporary directory) gets the input as a client's byte
 * stream, sent in chunks (the first byte sets their size) between the server's reads, then
 * end of file. The server must answer exactly one "OK\n..." or "ERR ...\n" (or nothing, to
 * nothing), never hang, never crash. The same bytes also go through the client's reply
 * parser. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "control.h"
#include "fuzz_tmp.h"
#include "log.h"
#include "loop.h"

static struct ul_loop *loop;
static struct ul_control *ctl;
static char path[96];

struct client {
	struct ul_watch w;
	struct ul_timer send_t, guard;
	const uint8_t *data;
	size_t len, off, chunk;
	char reply[8192];
	size_t reply_len;
	bool done;
};

static int handler(void *data, const char *req, struct ul_buf *body)
{
	(void)data;
	if (!strncmp(req, "status", 6)) {
		ul_buf_printf(body, "echo %s\n", req);
		return 0;
	}
	if (!strncmp(req, "reload", 6)) {
		ul_buf_printf(body, "reload refused\nline two\nline three");
		return -EINVAL;
	}
	return -ENOENT;
}

static void cleanup(void)
{
	ul_control_close(ctl);
	ul_loop_free(loop);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ul_log_set_level(LOG_CRIT);
	fuzz_tmpdir("ctl", cleanup);
	if (ul_loop_new(&loop))
		abort();
	fuzz_path(path, sizeof(path), "c.sock");
	if (ul_control_open(loop, path, (gid_t)-1, handler, NULL, &ctl))
		abort();
	return 0;
}

static void finish(struct client *c)
{
	if (c->done)
		return;
	c->done = true;
	ul_loop_del(loop, &c->w);
	ul_timer_cancel(loop, &c->send_t);
	ul_loop_stop(loop);
}

static void on_reply(struct ul_watch *w, uint32_t events)
{
	struct client *c = w->data;

	(void)events;
	for (;;) {
		ssize_t n = recv(w->fd, c->reply + c->reply_len, sizeof(c->reply) - c->reply_len,
				 MSG_DONTWAIT);

		if (n > 0) {
			c->reply_len += (size_t)n;
			if (c->reply_len == sizeof(c->reply))
				abort();        /* the fake handler never says that much */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		finish(c);              /* EOF or reset */
		return;
	}
}

static void on_send(struct ul_timer *t)
{
	struct client *c = t->data;
	size_t n = c->len - c->off < c->chunk ? c->len - c->off : c->chunk;

	if (n) {
		ssize_t r = send(c->w.fd, c->data + c->off, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0)
			c->off += (size_t)r;
		else if (r < 0 && errno != EAGAIN)
			c->off = c->len;        /* the server hung up: stop sending */
	}
	if (c->off < c->len)
		ul_timer_arm(loop, t, ul_now_ms());
	else
		shutdown(c->w.fd, SHUT_WR);
}

static void on_guard(struct ul_timer *t)
{
	(void)t;
	abort();                        /* the server neither answered nor hung up */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ul_buf body = { 0 };
	struct client c;
	int fd, r;

	if (size < 1 || size > 4096)
		return 0;
	/* the reply parser on the raw bytes */
	r = ul_control_parse_reply((const char *)data, size, &body);
	if (r < -EPROTO || (r == 0 && body.len != size - 3) || (r == 1 && body.len != size - 5))
		abort();
	ul_buf_free(&body);

	memset(&c, 0, sizeof(c));
	c.chunk = (size_t)(data[0] % 64) + 1;
	c.data = data + 1;
	c.len = size - 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	c.w.fd = fd;
	c.w.cb = on_reply;
	c.w.data = &c;
	c.send_t.cb = on_send;
	c.send_t.data = &c;
	c.guard.cb = on_guard;
	c.guard.data = &c;
	if (ul_loop_add(loop, &c.w, EPOLLIN) || ul_timer_arm(loop, &c.send_t, ul_now_ms()) ||
	    ul_timer_arm(loop, &c.guard, ul_now_ms() + 5000))
		abort();
	ul_loop_run(loop);
	ul_timer_cancel(loop, &c.guard);
	ul_timer_cancel(loop, &c.send_t);
	close(fd);
	/* nothing sent: nothing answered; otherwise one well-formed reply */
	if (c.reply_len) {
		r = ul_control_parse_reply(c.reply, c.reply_len, &body);
		ul_buf_free(&body);
		if (r < 0)
			abort();
		if (memchr(c.reply, '\0', c.reply_len))
			abort();
	} else if (c.len && memchr(c.data, '\n', c.len) && c.data[0] != '\n') {
		/* a full line always gets an answer (the fake handler answers everything) */
		abort();
	}
	return 0;
}
