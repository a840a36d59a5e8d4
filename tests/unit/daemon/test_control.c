// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket: request parsing, and a real server in a ul_loop on a socket in a
 * temporary directory, driven by non-blocking clients in the same loop and by
 * ul_control_request from a forked server. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "loop.h"
#include "tk.h"

/* ---- ul_control_parse ---- */

static void parse_ok(const char *req, const char *verb, const char *arg)
{
	char v[32], a[64];

	memset(a, 'x', sizeof(a));
	assert_int_equal(ul_control_parse(req, v, sizeof(v), a, sizeof(a)), 0);
	assert_string_equal(v, verb);
	assert_string_equal(a, arg);
}

static void parse_bad(const char *req)
{
	char v[32], a[64];

	assert_int_equal(ul_control_parse(req, v, sizeof(v), a, sizeof(a)), -EINVAL);
}

static void test_parse(void **state)
{
	char long_arg[80], v[8], a[64];

	(void)state;
	parse_ok("status", "status", "");
	parse_ok("status json", "status", "json");
	parse_ok("disable isp1", "disable", "isp1");
	parse_ok("enable   wan_2.x-Y", "enable", "wan_2.x-Y");
	parse_ok("some-verb A9", "some-verb", "A9");

	parse_bad("");
	parse_bad(" status");
	parse_bad("status ");
	parse_bad("status  ");
	parse_bad("Status");
	parse_bad("stat0s");
	parse_bad("status\tjson");
	parse_bad("status json extra");
	parse_bad("disable is/p1");
	parse_bad("disable isp1;");
	parse_bad("disable \"isp1\"");
	parse_bad("status\n");
	parse_bad("status\xc3\xa9");

	/* argument: 63 characters fit, 64 do not */
	memset(long_arg, 'a', sizeof(long_arg));
	memcpy(long_arg, "disable ", 8);
	long_arg[8 + 63] = '\0';
	parse_ok(long_arg, "disable", long_arg + 8);
	long_arg[8 + 63] = 'a';
	long_arg[8 + 64] = '\0';
	parse_bad(long_arg);

	/* the verb must fit the caller's buffer */
	assert_int_equal(ul_control_parse("reload", v, sizeof(v), a, sizeof(a)), 0);
	assert_int_equal(ul_control_parse("toolongverb", v, sizeof(v), a, sizeof(a)), -EINVAL);
	/* no room for an argument: only argument-less requests */
	assert_int_equal(ul_control_parse("status", v, sizeof(v), NULL, 0), 0);
	assert_int_equal(ul_control_parse("status json", v, sizeof(v), NULL, 0), -EINVAL);
}

/* ---- server fixture ---- */

struct fix {
	char dir[48];
	char path[96];
	struct ul_loop *loop;
	struct ul_control *ctl;
	int calls;
	char last_req[UL_CTL_MAX_REQ + 1];
	struct ul_timer guard;
	bool guard_fired;
};

static int handler(void *data, const char *req, struct ul_buf *body)
{
	struct fix *f = data;

	f->calls++;
	snprintf(f->last_req, sizeof(f->last_req), "%s", req);
	if (!strcmp(req, "status")) {
		ul_buf_printf(body, "LINK STATE\nisp1 up\n");
		return 0;
	}
	if (!strcmp(req, "status json")) {
		ul_buf_printf(body, "{\"links\": []}\n");
		return 0;
	}
	if (!strcmp(req, "reload"))
		return 0;
	if (!strcmp(req, "errno"))
		return -ENOENT;         /* no message: strerror is used */
	ul_buf_printf(body, "unknown command: %s\nsecond line", req);
	return -EINVAL;
}

static void guard_cb(struct ul_timer *t)
{
	struct fix *f = t->data;

	f->guard_fired = true;
	ul_loop_stop(f->loop);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tk_tmpdir(f->dir, sizeof(f->dir), "ul-ctl");
	snprintf(f->path, sizeof(f->path), "%s/run/uplinkd/control.sock", f->dir);
	assert_int_equal(ul_loop_new(&f->loop), 0);
	assert_int_equal(ul_control_open(f->loop, f->path, getgid(), handler, f, &f->ctl), 0);
	f->guard.cb = guard_cb;
	f->guard.data = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	ul_timer_cancel(f->loop, &f->guard);
	ul_control_close(f->ctl);
	ul_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "%s/run/uplinkd", f->dir);
	rmdir(cmd);
	snprintf(cmd, sizeof(cmd), "%s/run", f->dir);
	rmdir(cmd);
	assert_int_equal(rmdir(f->dir), 0);    /* the socket is gone: the tree is empty */
	free(f);
	return 0;
}

/* A non-blocking client in the same loop: sends its data at once, collects the reply
 * until EOF. */
struct tclient {
	struct ul_watch w;
	struct fix *f;
	int *pending;
	char reply[1024];
	size_t len;
	bool done;
	uint64_t t0, done_ms;
};

static void tclient_event(struct ul_watch *w, uint32_t events)
{
	struct tclient *c = w->data;

	(void)events;
	for (;;) {
		ssize_t n = recv(w->fd, c->reply + c->len, sizeof(c->reply) - 1 - c->len,
				 MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0) {
			c->len += (size_t)n;
			c->reply[c->len] = '\0';
			if (c->len < sizeof(c->reply) - 1)
				continue;
		}
		/* EOF, reset or full */
		c->done = true;
		c->done_ms = ul_now_ms() - c->t0;
		ul_loop_del(c->f->loop, w);
		close(w->fd);
		if (--*c->pending == 0)
			ul_loop_stop(c->f->loop);
		return;
	}
}

static void tclient_start(struct fix *f, struct tclient *c, int *pending, const void *data,
			  size_t len, bool eof)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (len)
		assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	if (eof)        /* "that is all": what was sent must do as the request */
		assert_int_equal(shutdown(fd, SHUT_WR), 0);
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->pending = pending;
	c->t0 = ul_now_ms();
	c->w.fd = fd;
	c->w.cb = tclient_event;
	c->w.data = c;
	(*pending)++;
	assert_int_equal(ul_loop_add(f->loop, &c->w, EPOLLIN), 0);
}

static void run(struct fix *f, uint64_t max_ms)
{
	f->guard_fired = false;
	assert_int_equal(ul_timer_arm(f->loop, &f->guard, ul_now_ms() + max_ms), 0);
	assert_int_equal(ul_loop_run(f->loop), 0);
	ul_timer_cancel(f->loop, &f->guard);
	assert_false(f->guard_fired);
}

/* One request on its own connection; the reply it got. */
static void one_eof(struct fix *f, const void *data, size_t len, bool eof, const char *expect)
{
	struct tclient c;
	int pending = 0;

	tclient_start(f, &c, &pending, data, len, eof);
	run(f, 5000);
	assert_true(c.done);
	assert_string_equal(c.reply, expect);
}

static void one(struct fix *f, const void *data, size_t len, const char *expect)
{
	one_eof(f, data, len, false, expect);
}

static void test_socket_file(void **state)
{
	struct fix *f = *state;
	struct stat st;
	char dir[128];

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getgid());
	snprintf(dir, sizeof(dir), "%s/run/uplinkd", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_requests(void **state)
{
	struct fix *f = *state;

	one(f, "status\n", 7, "OK\nLINK STATE\nisp1 up\n");
	assert_string_equal(f->last_req, "status");
	one(f, "status json\n", 12, "OK\n{\"links\": []}\n");
	one(f, "reload\r\n", 8, "OK\n");
	assert_string_equal(f->last_req, "reload");
	/* a request ended by EOF instead of a newline still counts */
	one_eof(f, "reload", 6, true, "OK\n");
	/* the message's first line goes with ERR, the rest follows, newline-terminated */
	one(f, "disable isp9\n", 13, "ERR unknown command: disable isp9\nsecond line\n");
	one(f, "errno\n", 6, "ERR No such file or directory\n");
	assert_int_equal(f->calls, 6);
}

static void test_bad_requests(void **state)
{
	struct fix *f = *state;
	char big[UL_CTL_MAX_REQ + 50];

	one(f, "Hello World!\n", 13, "ERR malformed request\n");
	one(f, "status  \n", 9, "ERR malformed request\n");
	one(f, "\n", 1, "ERR malformed request\n");
	one(f, "sta\0tus\n", 8, "ERR malformed request\n");
	one(f, "status\0\n", 8, "ERR malformed request\n");
	one(f, "status \x01json\n", 13, "ERR malformed request\n");
	one(f, "disable \xc3\xa9\n", 11, "ERR malformed request\n");
	memset(big, 'a', sizeof(big));
	one(f, big, sizeof(big), "ERR request too long\n");
	/* exactly UL_CTL_MAX_REQ bytes without a newline is too long as well */
	one_eof(f, big, UL_CTL_MAX_REQ, true, "ERR request too long\n");
	/* the handler never saw any of them */
	assert_int_equal(f->calls, 0);
	/* and the server still works */
	one(f, "status\n", 7, "OK\nLINK STATE\nisp1 up\n");
	assert_int_equal(f->calls, 1);
}

static void test_many_clients(void **state)
{
	struct fix *f = *state;
	struct tclient c[20];
	int pending = 0, ok = 0, busy = 0;

	for (int i = 0; i < 20; i++)
		tclient_start(f, &c[i], &pending, "status\n", 7, false);
	run(f, 5000);
	for (int i = 0; i < 20; i++) {
		assert_true(c[i].done);
		if (!strcmp(c[i].reply, "OK\nLINK STATE\nisp1 up\n"))
			ok++;
		else if (!strcmp(c[i].reply, "ERR busy\n"))
			busy++;
		else
			fail_msg("client %d got \"%s\"", i, c[i].reply);
	}
	/* all 20 are pending when the server first looks: 16 served, the rest told so */
	assert_int_equal(ok, UL_CTL_MAX_CLIENTS);
	assert_int_equal(busy, 20 - UL_CTL_MAX_CLIENTS);
	assert_int_equal(f->calls, UL_CTL_MAX_CLIENTS);

	/* with the earlier ones gone, 16 at once are all served */
	for (int i = 0; i < UL_CTL_MAX_CLIENTS; i++)
		tclient_start(f, &c[i], &pending, "status\n", 7, false);
	run(f, 5000);
	for (int i = 0; i < UL_CTL_MAX_CLIENTS; i++)
		assert_string_equal(c[i].reply, "OK\nLINK STATE\nisp1 up\n");
}

static void test_silent_client(void **state)
{
	struct fix *f = *state;
	struct tclient silent, partial, quick;
	int pending = 0;

	tclient_start(f, &silent, &pending, NULL, 0, false);
	tclient_start(f, &partial, &pending, "stat", 4, false);
	tclient_start(f, &quick, &pending, "status\n", 7, false);
	run(f, 10000);
	/* the good client is not held up by the silent ones */
	assert_string_equal(quick.reply, "OK\nLINK STATE\nisp1 up\n");
	assert_true(quick.done_ms < 1000);
	/* the silent and the slow one are dropped after the timeout, without a reply */
	assert_int_equal(silent.len, 0);
	assert_int_equal(partial.len, 0);
	assert_true(silent.done_ms >= UL_CTL_TIMEOUT_MS - 50);
	assert_true(silent.done_ms < UL_CTL_TIMEOUT_MS + 1500);
	assert_true(partial.done_ms >= UL_CTL_TIMEOUT_MS - 50);
	assert_int_equal(f->calls, 1);
}

/* ---- socket life cycle ---- */

static void test_open_stale_and_busy(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ul_control *c2 = NULL;
	char path2[96];
	int fd;

	/* someone is listening there: refused, and the live socket is left alone */
	assert_int_equal(ul_control_open(f->loop, f->path, (gid_t)-1, handler, f, &c2),
			 -EADDRINUSE);
	one(f, "status\n", 7, "OK\nLINK STATE\nisp1 up\n");

	/* a stale socket (bound, nobody listening) is replaced */
	snprintf(path2, sizeof(path2), "%s/stale.sock", f->dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path2);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ul_control_open(f->loop, path2, (gid_t)-1, handler, f, &c2), 0);
	ul_control_close(c2);
	assert_int_equal(access(path2, F_OK), -1);

	/* a regular file is never removed */
	fd = open(path2, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ul_control_open(f->loop, path2, (gid_t)-1, handler, f, &c2), -EEXIST);
	assert_int_equal(access(path2, F_OK), 0);
	unlink(path2);
}

/* ul_control_request against a server running in a child process. */
/* The control server's loop in a child process (killed by the test): its pid. */
static pid_t serve_in_child(struct fix *f)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ul_loop_run(f->loop);
		_exit(0);
	}
	return pid;
}

static void test_client_request(void **state)
{
	struct fix *f = *state;
	struct ul_buf body = { 0 };
	char nopath[160];
	pid_t pid;
	int st;

	pid = serve_in_child(f);
	assert_int_equal(ul_control_request(f->path, "status", &body), 0);
	assert_string_equal(body.p, "LINK STATE\nisp1 up\n");
	assert_int_equal(ul_control_request(f->path, "reload", &body), 0);
	assert_int_equal(body.len, 0);
	assert_int_equal(ul_control_request(f->path, "bogus", &body), 1);
	assert_string_equal(body.p, "unknown command: bogus\nsecond line");
	assert_int_equal(ul_control_request(f->path, "BAD", &body), 1);
	assert_string_equal(body.p, "malformed request");
	/* requests the protocol cannot carry are refused before sending */
	assert_int_equal(ul_control_request(f->path, "a\nb", &body), -EINVAL);
	snprintf(nopath, sizeof(nopath), "%s/nothing.sock", f->dir);
	assert_int_equal(ul_control_request(nopath, "status", &body), -ENOENT);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ul_buf_free(&body);
}

/* ---- who may do what ---- */

static void test_permitted(void **state)
{
	const gid_t g_read[] = { 5, 1001 }, g_admin[] = { 1002 }, g_none[] = { 7 };
	struct ul_ctl_peer root = { .uid = 0, .gid = 0 };
	struct ul_ctl_peer reader = { .uid = 1000, .gid = 1000, .groups = g_read, .n_groups = 2 };
	struct ul_ctl_peer admin = { .uid = 1000, .gid = 1000, .groups = g_admin, .n_groups = 1 };
	struct ul_ctl_peer admin_primary = { .uid = 1000, .gid = 1002 };
	struct ul_ctl_peer other = { .uid = 1000, .gid = 1000, .groups = g_none, .n_groups = 1 };

	(void)state;
	assert_true(ul_control_is_change("reload"));
	assert_true(ul_control_is_change("disable"));
	assert_true(ul_control_is_change("enable"));
	assert_false(ul_control_is_change("status"));
	assert_false(ul_control_is_change("metrics"));

	assert_true(ul_control_permitted(&root, (gid_t)-1, (gid_t)-1, true));
	assert_true(ul_control_permitted(&reader, 1001, 1002, false));
	assert_false(ul_control_permitted(&reader, 1001, 1002, true));
	assert_true(ul_control_permitted(&admin, 1001, 1002, true));
	assert_true(ul_control_permitted(&admin, 1001, 1002, false));
	assert_true(ul_control_permitted(&admin_primary, 1001, 1002, true));
	assert_false(ul_control_permitted(&other, 1001, 1002, false));
	assert_false(ul_control_permitted(&other, 1001, 1002, true));
	/* no admin group: changes are root's alone */
	assert_false(ul_control_permitted(&reader, 1001, (gid_t)-1, true));
	assert_false(ul_control_permitted(&admin, 1001, (gid_t)-1, true));
	/* no groups at all: root only */
	assert_false(ul_control_permitted(&reader, (gid_t)-1, (gid_t)-1, false));
}

/* A request as another user (a child that drops to uid 65534 with the given groups);
 * the reply's status (0 OK, 1 ERR) and first line. */
static int request_as(const char *path, gid_t gid, const gid_t *groups, size_t n,
		      const char *req, char *reply, size_t len)
{
	int fds[2], st;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ul_buf body = { 0 };
		int r;

		close(fds[0]);
		if (setgroups(n, groups) || setgid(gid) || setuid(65534))
			_exit(99);
		r = ul_control_request(path, req, &body);
		if (body.len && write(fds[1], body.p, body.len) < 0)
			_exit(98);
		_exit(r < 0 ? 97 : r);
	}
	close(fds[1]);
	got = read(fds[0], reply, len - 1);
	reply[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_authorization(void **state)
{
	struct fix *f = *state;
	const gid_t readers[] = { 1001 }, admins[] = { 1002 }, others[] = { 1003 };
	char reply[256];
	pid_t pid;
	int st;

	if (geteuid()) {
		skip();
		return;
	}
	/* let everyone reach the socket: the policy alone decides */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	ul_control_set_access(f->ctl, 1001, 1002);
	pid = serve_in_child(f);
	/* nobody in particular: nothing */
	assert_int_equal(request_as(f->path, 65534, NULL, 0, "status", reply, sizeof(reply)), 1);
	assert_string_equal(reply, "permission denied");
	assert_int_equal(request_as(f->path, 65534, others, 1, "reload", reply, sizeof(reply)), 1);
	assert_string_equal(reply, "permission denied");
	assert_int_equal(request_as(f->path, 65534, others, 1, "bogus", reply, sizeof(reply)), 1);
	assert_string_equal(reply, "permission denied");
	/* the read group: status, not changes */
	assert_int_equal(request_as(f->path, 65534, readers, 1, "status", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "LINK STATE\nisp1 up\n");
	assert_int_equal(request_as(f->path, 65534, readers, 1, "reload", reply, sizeof(reply)), 1);
	assert_string_equal(reply, "permission denied");
	assert_int_equal(request_as(f->path, 65534, readers, 1, "disable isp1", reply,
				    sizeof(reply)), 1);
	assert_string_equal(reply, "permission denied");
	assert_int_equal(request_as(f->path, 1001, NULL, 0, "enable isp1", reply, sizeof(reply)),
			 1);
	assert_string_equal(reply, "permission denied");
	/* the admin group, as a supplementary or as the primary group: changes and reading */
	assert_int_equal(request_as(f->path, 65534, admins, 1, "reload", reply, sizeof(reply)), 0);
	assert_int_equal(request_as(f->path, 1002, NULL, 0, "reload", reply, sizeof(reply)), 0);
	assert_int_equal(request_as(f->path, 65534, admins, 1, "status", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "LINK STATE\nisp1 up\n");
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* The socket's group is changed on the socket we bound only, never through a link. */
static void test_set_group(void **state)
{
	struct fix *f = *state;
	char victim[128];
	struct stat st;
	int fd;

	if (geteuid()) {
		skip();
		return;
	}
	assert_int_equal(ul_control_set_group(f->ctl, 1001), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_string_equal(ul_control_path(f->ctl), f->path);
	/* someone put a symbolic link where the socket was */
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rename(f->path, victim) == 0 ? 0 : -1, 0);    /* the socket moved */
	assert_int_equal(symlink(victim, f->path), 0);
	assert_int_equal(ul_control_set_group(f->ctl, 1002), -ESTALE);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_gid, 1001);
	unlink(f->path);
	unlink(victim);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return TK_RUN(NULL, NULL, setup, teardown, test_parse, test_socket_file, test_requests,
		      test_bad_requests, test_many_clients, test_silent_client,
		      test_open_stale_and_busy, test_client_request, test_permitted,
		      test_authorization, test_set_group);
}
