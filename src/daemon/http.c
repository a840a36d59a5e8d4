// SPDX-License-Identifier: GPL-2.0-or-later
/* Metrics over HTTP (see http.h): a small HTTP/1.0 and 1.1 server on the event loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

struct client {
	struct ul_http *h;
	struct ul_watch w;
	struct ul_timer timer;
	char in[UL_HTTP_MAX_REQ + 1];
	size_t in_len;
	struct ul_buf out;
	size_t out_off;
	bool used, writing;
};

struct ul_http {
	struct ul_loop *loop;
	struct ul_watch listen;
	ul_http_metrics_fn fn;
	void *data;
	struct client clients[UL_HTTP_MAX_CLIENTS];
	uint64_t refused;
};

/* ---- parsing (pure) ---- */

static const char *find_end(const char *buf, size_t len, size_t *end)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n') {
			*end = i + 2;
			return buf;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			*end = i + 3;
			return buf;
		}
	}
	return NULL;
}

int ul_http_parse(const char *buf, size_t len, bool *head)
{
	const char *sp1, *sp2, *eol, *path;
	size_t end = 0, mlen, plen;

	*head = false;
	if (!find_end(buf, len, &end))
		return len >= UL_HTTP_MAX_REQ ? 431 : 0;
	if (end > UL_HTTP_MAX_REQ)
		return 431;
	eol = memchr(buf, '\n', end);
	if (!eol)
		return 400;
	if (eol > buf && eol[-1] == '\r')
		eol--;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	for (const char *p = buf; p < eol; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return 400;
	if ((size_t)(eol - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return strncmp(sp2 + 1, "HTTP/", 5) ? 400 : 505;
	mlen = (size_t)(sp1 - buf);
	path = sp1 + 1;
	plen = (size_t)(sp2 - path);
	for (size_t i = 0; i < mlen; i++)
		if (buf[i] < 'A' || buf[i] > 'Z')
			return 400;
	/* the path without its query */
	for (size_t i = 0; i < plen; i++)
		if (path[i] == '?') {
			plen = i;
			break;
		}
	if (!(plen == 8 && !memcmp(path, "/metrics", 8)))
		return 404;
	if (mlen == 3 && !memcmp(buf, "GET", 3))
		return 200;
	if (mlen == 4 && !memcmp(buf, "HEAD", 4)) {
		*head = true;
		return 200;
	}
	return 405;
}

/* ---- the server ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "HTTP Version Not Supported";
	}
}

static void client_close(struct client *c)
{
	if (!c->used)
		return;
	ul_loop_del(c->h->loop, &c->w);
	ul_timer_cancel(c->h->loop, &c->timer);
	close(c->w.fd);
	ul_buf_free(&c->out);
	c->used = false;
}

static void on_timeout(struct ul_timer *t)
{
	client_close(t->data);
}

static void flush_out(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->w.fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->writing) {
				c->writing = true;
				ul_loop_mod(c->h->loop, &c->w, EPOLLOUT);
			}
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(c);
}

static void respond(struct client *c, int status, bool head)
{
	struct ul_buf body = { 0 };
	const char *type = "text/plain; charset=utf-8";

	if (status == 200) {
		if (c->h->fn(c->h->data, &body) || body.oom) {
			ul_buf_free(&body);
			status = 500;
		} else {
			type = "text/plain; version=0.0.4; charset=utf-8";
		}
	}
	if (status != 200)
		ul_buf_printf(&body, "%d %s\n", status, reason(status));
	ul_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "%sConnection: close\r\n\r\n", status, reason(status), type, body.len,
		      status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		ul_buf_put(&c->out, body.p, body.len);
	ul_buf_free(&body);
	if (c->out.oom) {
		client_close(c);
		return;
	}
	/* nothing more is read from this client */
	shutdown(c->w.fd, SHUT_RD);
	flush_out(c);
}

static void on_client(struct ul_watch *w, uint32_t events)
{
	struct client *c = w->data;
	bool head;
	int st;

	if (c->writing) {
		if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT))
			client_close(c);
		else
			flush_out(c);
		return;
	}
	for (;;) {
		ssize_t n = recv(w->fd, c->in + c->in_len, UL_HTTP_MAX_REQ - c->in_len,
				 MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->in_len += (size_t)n;
		st = ul_http_parse(c->in, c->in_len, &head);
		if (st) {
			respond(c, st, head);
			return;
		}
		if (c->in_len >= UL_HTTP_MAX_REQ) {
			respond(c, 431, false);
			return;
		}
	}
}

static void on_accept(struct ul_watch *w, uint32_t events)
{
	struct ul_http *h = w->data;

	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;         /* EAGAIN, or an error for that one connection */
		for (size_t i = 0; i < UL_HTTP_MAX_CLIENTS; i++)
			if (!h->clients[i].used) {
				c = &h->clients[i];
				break;
			}
		if (!c) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
						   "Content-Length: 0\r\nConnection: close\r\n\r\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				h->refused++;
			h->refused++;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->h = h;
		c->w = (struct ul_watch){ .fd = fd, .cb = on_client, .data = c };
		c->timer = (struct ul_timer){ .cb = on_timeout, .data = c };
		if (ul_loop_add(h->loop, &c->w, EPOLLIN)) {
			close(fd);
			continue;
		}
		c->used = true;
		ul_timer_arm(h->loop, &c->timer, ul_now_ms() + UL_HTTP_TIMEOUT_MS);
	}
}

int ul_http_open(struct ul_loop *loop, const struct ul_addr *addr, uint16_t port,
		 ul_http_metrics_fn fn, void *data, struct ul_http **out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	struct ul_http *h;
	int fd, one = 1, ret;
	char a[UL_ADDR_STRLEN];

	*out = NULL;
	if (addr->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr->bytes, 16);
		sl = sizeof(*s6);
	} else if (addr->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr->bytes, 4);
		sl = sizeof(*s4);
	} else {
		return -EAFNOSUPPORT;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		goto err;
	}
	h->loop = loop;
	h->fn = fn;
	h->data = data;
	h->listen = (struct ul_watch){ .fd = fd, .cb = on_accept, .data = h };
	ret = ul_loop_add(loop, &h->listen, EPOLLIN);
	if (ret) {
		close(fd);
		goto err;
	}
	*out = h;
	return 0;
err:
	ul_err("metrics: cannot listen on %s%s%s:%u: %s", addr->family == AF_INET6 ? "[" : "",
	       ul_addr_format(addr, a, sizeof(a)), addr->family == AF_INET6 ? "]" : "", port,
	       strerror(-ret));
	free(h);
	return ret;
}

void ul_http_close(struct ul_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < UL_HTTP_MAX_CLIENTS; i++)
		client_close(&h->clients[i]);
	ul_loop_del(h->loop, &h->listen);
	close(h->listen.fd);
	free(h);
}
