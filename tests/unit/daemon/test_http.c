// SPDX-License-Identifier: GPL-2.0-or-later
/* Metrics over HTTP: request parsing, and the server on the loop answering a forked client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "tk.h"

static int parse(const char *s, bool *head)
{
	return ul_http_parse(s, strlen(s), head);
}

static void test_parse(void **state)
{
	char big[UL_HTTP_MAX_REQ + 64];
	bool head;

	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head), 200);
	assert_false(head);
	assert_int_equal(parse("GET /metrics HTTP/1.0\n\n", &head), 200);
	assert_int_equal(parse("GET /metrics?x=1 HTTP/1.1\r\n\r\n", &head), 200);
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &head), 200);
	assert_true(head);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", &head), 0);  /* more */
	assert_int_equal(parse("GET /", &head), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(parse("DELETE /x HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n", &head), 505);
	assert_int_equal(parse("GET /metrics FOO\r\n\r\n", &head), 400);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", &head), 400);
	assert_int_equal(parse("GET\r\n\r\n", &head), 400);
	assert_int_equal(parse("GET  /metrics HTTP/1.1\r\n\r\n", &head), 400);
	assert_int_equal(parse("GET /me\ttrics HTTP/1.1\r\n\r\n", &head), 400);
	/* over 4 KiB without the end of the head: refused */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(ul_http_parse(big, UL_HTTP_MAX_REQ, &head), 431);
	assert_int_equal(ul_http_parse(big, UL_HTTP_MAX_REQ - 1, &head), 0);
	memcpy(big + UL_HTTP_MAX_REQ + 10, "\r\n\r\n", 4);
	assert_int_equal(ul_http_parse(big, UL_HTTP_MAX_REQ + 14, &head), 431);
}

static int metrics(void *data, struct ul_buf *body)
{
	int *calls = data;

	(*calls)++;
	ul_buf_printf(body, "# TYPE x counter\nx %d\n", *calls);
	return 0;
}

static struct ul_loop *loop;
static pid_t child;
static int child_status = -1;

static void poll_child(struct ul_timer *t)
{
	if (waitpid(child, &child_status, WNOHANG) == child) {
		ul_loop_stop(loop);
		return;
	}
	ul_timer_arm(loop, t, ul_now_ms() + 10);
}

/* child: one request, the whole answer into out */
static int exchange(uint16_t port, const char *req, size_t req_len, char *out, size_t outlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	if (req_len && send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
		return -1;
	while (len + 1 < outlen && (n = recv(fd, out + len, outlen - 1 - len, 0)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	return 0;
}

static int client_main(uint16_t port)
{
	static char out[65536], big[8192];
	int fds[UL_HTTP_MAX_CLIENTS + 2];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (exchange(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 35, out, sizeof(out)) ||
	    !strstr(out, "HTTP/1.1 200 OK\r\n") ||
	    !strstr(out, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") ||
	    !strstr(out, "Content-Length: 21\r\n") || !strstr(out, "\r\n\r\n# TYPE x counter\nx 1\n"))
		return 10;
	if (exchange(port, "HEAD /metrics HTTP/1.0\r\n\r\n", 26, out, sizeof(out)) ||
	    !strstr(out, "HTTP/1.1 200 OK\r\n") || strstr(out, "x 2"))
		return 11;
	if (exchange(port, "GET /nope HTTP/1.1\r\n\r\n", 22, out, sizeof(out)) ||
	    strncmp(out, "HTTP/1.1 404 Not Found\r\n", 24))
		return 12;
	if (exchange(port, "PUT /metrics HTTP/1.1\r\n\r\n", 25, out, sizeof(out)) ||
	    strncmp(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) ||
	    !strstr(out, "Allow: GET, HEAD\r\n"))
		return 13;
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	if (exchange(port, big, 5000, out, sizeof(out)) ||
	    strncmp(out, "HTTP/1.1 431 ", 13))
		return 14;
	/* the clients slots: all taken by silent clients, one more is refused at once */
	for (int i = 0; i < UL_HTTP_MAX_CLIENTS + 1; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)))
			return 15;
	}
	{
		ssize_t n = recv(fds[UL_HTTP_MAX_CLIENTS], out, sizeof(out) - 1, 0);

		if (n <= 0)
			return 16;
		out[n] = '\0';
		if (strncmp(out, "HTTP/1.1 503 ", 13))
			return 17;
	}
	for (int i = 0; i < UL_HTTP_MAX_CLIENTS + 1; i++)
		close(fds[i]);
	usleep(200 * 1000);     /* the server sees them go */
	/* and a silent client is closed after the timeout (5 s), then requests work again */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char ch;

		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || recv(fd, &ch, 1, 0) != 0)
			return 18;
		close(fd);
	}
	if (exchange(port, "GET /metrics HTTP/1.1\r\n\r\n", 25, out, sizeof(out)) ||
	    !strstr(out, "x 3\n"))
		return 19;
	return 0;
}

static void test_server(void **state)
{
	struct ul_timer t = { .cb = poll_child };
	struct ul_addr lo;
	struct ul_http *h = NULL;
	int calls = 0, ret = -1;
	uint16_t port = 0;

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(ul_loop_new(&loop), 0);
	assert_int_equal(ul_addr_parse("127.0.0.1", false, &lo), 0);
	for (int i = 0; i < 50 && ret; i++) {
		port = (uint16_t)(20000 + (getpid() * 7 + i * 131) % 40000);
		ret = ul_http_open(loop, &lo, port, metrics, &calls, &h);
	}
	assert_int_equal(ret, 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(client_main(port));
	ul_timer_arm(loop, &t, ul_now_ms() + 10);
	assert_int_equal(ul_loop_run(loop), 0);
	assert_true(WIFEXITED(child_status));
	if (WEXITSTATUS(child_status))
		fail_msg("client step %d failed", WEXITSTATUS(child_status));
	assert_int_equal(calls, 3);     /* GET, HEAD (renders for Content-Length), GET */
	ul_http_close(h);
	ul_loop_free(loop);
}

TK_MAIN(NULL, NULL, test_parse, test_server)
