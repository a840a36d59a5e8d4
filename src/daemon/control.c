// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket: a unix stream server in the event loop, one request line per
 * connection, and the matching client used by uplinkctl.
 *
 * Who may do what (the contract): the peer's credentials are read from the socket
 * (SO_PEERCRED, and SO_PEERGROUPS for its supplementary groups: what the peer had when it
 * connected, no lookup in the user database). Reading (status, metrics, and any verb not a
 * change) is for root and the members of the read group (daemon.control_group) or of the
 * admin group; changes (reload, disable, enable) for root and the members of the admin
 * group (daemon.admin_group). Others get "ERR permission denied" and the handler never
 * sees their request; every change let through is logged with the peer's uid. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define CTL_REPLY_MAX (4u << 20)        /* client: largest reply accepted */
#define CTL_CLIENT_TIMEOUT_S 5          /* client: send/receive timeout */

struct ctl_client {
	struct ul_control *ctl;
	struct ul_watch w;
	struct ul_timer timer;
	char req[UL_CTL_MAX_REQ];
	size_t req_len;
	struct ul_buf out;
	size_t out_off;
	bool replying;
	struct ctl_client *prev, *next;
};

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#define CTL_MAX_GROUPS 1024

struct ul_control {
	struct ul_loop *loop;
	struct ul_watch lw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;                      /* identity of the socket we bound, to unlink only it */
	ino_t ino;
	ul_ctl_handler handler;
	void *data;
	gid_t read_gid, admin_gid;      /* (gid_t)-1: none (root only) */
	struct ctl_client *clients;
	size_t n_clients;
};

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!len)
		return -EINVAL;
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* ---- parsing ---- */

static bool verb_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '-';
}

static bool arg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

int ul_control_parse(const char *req, char *verb, size_t verb_len, char *arg, size_t arg_len)
{
	const char *p = req, *v, *a;
	size_t vn, an;

	if (!req || !verb || !verb_len)
		return -EINVAL;
	v = p;
	while (verb_char(*p))
		p++;
	vn = (size_t)(p - v);
	if (!vn || vn >= verb_len)
		return -EINVAL;
	if (*p == '\0') {
		an = 0;
		a = p;
	} else {
		if (*p != ' ')
			return -EINVAL;
		while (*p == ' ')
			p++;
		a = p;
		while (arg_char(*p))
			p++;
		an = (size_t)(p - a);
		if (*p != '\0' || an < 1 || an > 63)
			return -EINVAL;
		if (!arg || an >= arg_len)
			return -EINVAL;
	}
	memcpy(verb, v, vn);
	verb[vn] = '\0';
	if (arg && arg_len) {
		memcpy(arg, a, an);
		arg[an] = '\0';
	}
	return 0;
}

/* ---- server ---- */

static void client_free(struct ctl_client *cl)
{
	struct ul_control *c = cl->ctl;

	ul_timer_cancel(c->loop, &cl->timer);
	ul_loop_del(c->loop, &cl->w);
	close(cl->w.fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	ul_buf_free(&cl->out);
	free(cl);
}

/* Send what is left of the reply; 1 when done, 0 to wait for EPOLLOUT, -errno. */
static int client_flush(struct ctl_client *cl)
{
	while (cl->out_off < cl->out.len) {
		ssize_t n = send(cl->w.fd, cl->out.p + cl->out_off, cl->out.len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		cl->out_off += (size_t)n;
	}
	return 1;
}

/* Queue a reply and start sending it; frees the client when it is all out (or failed). */
static void client_reply(struct ctl_client *cl)
{
	int r;

	cl->replying = true;
	if (cl->out.oom) {
		ul_buf_reset(&cl->out);
		ul_buf_printf(&cl->out, "ERR out of memory\n");
		if (cl->out.oom) {
			client_free(cl);
			return;
		}
	}
	r = client_flush(cl);
	if (r == 0 && !ul_loop_mod(cl->ctl->loop, &cl->w, EPOLLOUT))
		return;
	if (r < 0)
		ul_debug("control: client write failed: %s", strerror(-r));
	client_free(cl);
}

static void client_error(struct ctl_client *cl, const char *msg)
{
	ul_buf_reset(&cl->out);
	ul_buf_printf(&cl->out, "ERR %s\n", msg);
	client_reply(cl);
}

/* ---- who may do what ---- */

bool ul_control_is_change(const char *verb)
{
	return !strcmp(verb, "reload") || !strcmp(verb, "disable") || !strcmp(verb, "enable");
}

bool ul_control_permitted(const struct ul_ctl_peer *p, gid_t read_gid, gid_t admin_gid,
			  bool change)
{
	bool admin = false, reader = false;

	if (p->uid == 0)
		return true;
	for (size_t i = 0; i <= p->n_groups; i++) {
		gid_t g = i == p->n_groups ? p->gid : p->groups[i];

		admin |= admin_gid != (gid_t)-1 && g == admin_gid;
		reader |= read_gid != (gid_t)-1 && g == read_gid;
	}
	return change ? admin : admin || reader;
}

/* The peer's uid, gid and supplementary groups as they were at connect(). */
static int peer_of(int fd, struct ul_ctl_peer *p, gid_t *groups, size_t max)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	p->pid = cr.pid;
	p->uid = cr.uid;
	p->gid = cr.gid;
	p->groups = groups;
	p->n_groups = 0;
	if (!cr.uid)
		return 0;
	len = (socklen_t)(max * sizeof(gid_t));
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		p->n_groups = len / sizeof(gid_t);
		return 0;
	}
	if (errno == ENOPROTOOPT) {     /* kernel before 4.13: the user database */
		struct passwd *pw = getpwuid(cr.uid);
		int n = (int)max;

		if (pw && getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0) {
			p->n_groups = (size_t)n;
			return 0;
		}
		return 0;       /* the primary group alone */
	}
	return -errno;          /* ERANGE: more groups than we look at; refused */
}

static void client_request(struct ctl_client *cl, size_t len)
{
	struct ul_control *c = cl->ctl;
	struct ul_buf body = { 0 };
	struct ul_ctl_peer peer;
	char verb[32], arg[64];
	gid_t *groups;
	bool change;
	int r;

	if (len && cl->req[len - 1] == '\r')     /* tolerate CRLF line ends */
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)cl->req[i];

		if (ch < 0x20 || ch >= 0x7f) {
			client_error(cl, "malformed request");
			return;
		}
	}
	cl->req[len] = '\0';    /* len < UL_CTL_MAX_REQ: the newline (or spare room) is here */
	if (ul_control_parse(cl->req, verb, sizeof(verb), arg, sizeof(arg))) {
		client_error(cl, "malformed request");
		return;
	}
	change = ul_control_is_change(verb);
	groups = malloc(CTL_MAX_GROUPS * sizeof(*groups));
	r = groups ? peer_of(cl->w.fd, &peer, groups, CTL_MAX_GROUPS) : -ENOMEM;
	if (r || !ul_control_permitted(&peer, c->read_gid, c->admin_gid, change)) {
		if (r)
			ul_warn("control: \"%s\" refused: peer credentials: %s", cl->req,
				strerror(-r));
		else
			ul_warn("control: \"%s\" from uid %u (pid %d) refused: permission denied",
				cl->req, (unsigned)peer.uid, (int)peer.pid);
		free(groups);
		client_error(cl, "permission denied");
		return;
	}
	free(groups);
	if (change)
		ul_notice("control: \"%s\" by uid %u (pid %d)", cl->req, (unsigned)peer.uid,
			  (int)peer.pid);
	r = c->handler(c->data, cl->req, &body);
	ul_buf_reset(&cl->out);
	if (body.oom) {
		ul_buf_printf(&cl->out, "ERR out of memory\n");
	} else if (r == 0) {
		ul_buf_put(&cl->out, "OK\n", 3);
		if (body.len)
			ul_buf_put(&cl->out, body.p, body.len);
	} else {
		/* "ERR " and the message's first line (strerror if there is none); further
		 * lines (e.g. the errors of a refused reload) follow as the body. */
		size_t n = body.len ? strcspn(body.p, "\n") : 0;

		if (n)
			ul_buf_printf(&cl->out, "ERR %.*s\n", (int)n, body.p);
		else
			ul_buf_printf(&cl->out, "ERR %s\n", strerror(r < 0 ? -r : EIO));
		if (n + 1 < body.len) {
			ul_buf_put(&cl->out, body.p + n + 1, body.len - n - 1);
			if (body.p[body.len - 1] != '\n')
				ul_buf_put(&cl->out, "\n", 1);
		}
	}
	ul_buf_free(&body);
	client_reply(cl);
}

static void client_read(struct ctl_client *cl)
{
	for (;;) {
		size_t room = sizeof(cl->req) - cl->req_len;
		char *nl;
		ssize_t n;

		if (!room) {
			client_error(cl, "request too long");
			return;
		}
		n = recv(cl->w.fd, cl->req + cl->req_len, room, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_free(cl);
			return;
		}
		if (n == 0) {
			/* EOF: a request without its newline still counts; nothing: just go. */
			if (!cl->req_len)
				client_free(cl);
			else if (cl->req_len == sizeof(cl->req))
				client_error(cl, "request too long");
			else
				client_request(cl, cl->req_len);
			return;
		}
		if (memchr(cl->req + cl->req_len, '\0', (size_t)n)) {
			client_error(cl, "malformed request");
			return;
		}
		nl = memchr(cl->req + cl->req_len, '\n', (size_t)n);
		cl->req_len += (size_t)n;
		if (nl) {
			client_request(cl, (size_t)(nl - cl->req));
			return;
		}
	}
}

static void client_event(struct ul_watch *w, uint32_t events)
{
	struct ctl_client *cl = w->data;
	int r;

	if (cl->replying) {
		r = client_flush(cl);
		if (r == 0 && !(events & (EPOLLERR | EPOLLHUP)))
			return;
		client_free(cl);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(cl);
}

static void client_timeout(struct ul_timer *t)
{
	struct ctl_client *cl = t->data;

	ul_debug("control: client timed out after %d ms", UL_CTL_TIMEOUT_MS);
	client_free(cl);
}

static void busy_reply(int fd)
{
	static const char msg[] = "ERR busy\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		ul_debug("control: busy reply failed: %s", strerror(errno));
	close(fd);
}

static void listen_event(struct ul_watch *w, uint32_t events)
{
	struct ul_control *c = w->data;

	(void)events;
	for (;;) {
		struct ctl_client *cl;
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ul_warn("control: accept: %s", strerror(errno));
			return;
		}
		if (c->n_clients >= UL_CTL_MAX_CLIENTS) {
			busy_reply(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			busy_reply(fd);
			continue;
		}
		cl->ctl = c;
		cl->w.fd = fd;
		cl->w.cb = client_event;
		cl->w.data = cl;
		cl->timer.cb = client_timeout;
		cl->timer.data = cl;
		if (ul_loop_add(c->loop, &cl->w, EPOLLIN | EPOLLRDHUP) ||
		    ul_timer_arm(c->loop, &cl->timer, ul_now_ms() + UL_CTL_TIMEOUT_MS)) {
			ul_loop_del(c->loop, &cl->w);
			ul_timer_cancel(c->loop, &cl->timer);
			busy_reply(fd);
			free(cl);
			continue;
		}
		cl->next = c->clients;
		if (c->clients)
			c->clients->prev = cl;
		c->clients = cl;
		c->n_clients++;
	}
}

/* mkdir -p for the directory part of path; directories created get mode 0755 whatever
 * the umask (the group given access to the socket must be able to reach it). */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	size_t len = strlen(path);

	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755))
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

/* Remove a leftover socket nobody listens on; refuse anything else at path. */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		ul_err("control: %s exists and is not a socket", path);
		return -EEXIST;
	}
	r = fill_addr(&sa, path);
	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = errno;
	close(fd);
	if (r == 0 || err == EAGAIN || err == EINPROGRESS) {
		ul_err("control: %s is in use by a running process", path);
		return -EADDRINUSE;
	}
	if (err != ECONNREFUSED)
		return -err;
	ul_info("control: removing stale socket %s", path);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int ul_control_open(struct ul_loop *loop, const char *path, gid_t gid, ul_ctl_handler h,
		    void *data, struct ul_control **out)
{
	struct ul_control *c;
	struct sockaddr_un sa;
	struct stat st;
	bool bound = false;
	mode_t old_mask;
	int fd = -1, err, r;

	err = fill_addr(&sa, path);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	c->loop = loop;
	c->handler = h;
	c->data = data;
	err = make_parent(path);
	if (err) {
		ul_err("control: cannot create the directory of %s: %s", path, strerror(-err));
		goto fail;
	}
	err = clear_stale(path);
	if (err)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	/* bind creates the file with mode 0777 & ~umask: 0660 from the start (no chmod by
	 * path, which would follow a symbolic link put there meanwhile) */
	old_mask = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = -errno;
	umask(old_mask);
	if (r) {
		ul_err("control: bind %s: %s", path, strerror(-err));
		goto fail;
	}
	bound = true;
	if (lstat(path, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISSOCK(st.st_mode)) {
		err = -EEXIST;
		ul_err("control: %s was replaced while it was being created", path);
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->read_gid = gid;
	c->admin_gid = (gid_t)-1;
	if (gid != (gid_t)-1) {
		err = ul_control_set_group(c, gid);
		if (err) {
			ul_err("control: setting the group of %s: %s", path, strerror(-err));
			goto fail;
		}
	}
	if (listen(fd, 64)) {
		err = -errno;
		goto fail;
	}
	c->lw.fd = fd;
	c->lw.cb = listen_event;
	c->lw.data = c;
	err = ul_loop_add(loop, &c->lw, EPOLLIN);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	if (bound)
		unlink(path);
	if (fd >= 0)
		close(fd);
	free(c);
	return err;
}

int ul_control_set_group(struct ul_control *c, gid_t gid)
{
	struct stat st;

	if (gid == (gid_t)-1)
		return 0;
	/* only the socket we bound, never what may have been put at its path since */
	if (lstat(c->path, &st))
		return -errno;
	if (!S_ISSOCK(st.st_mode) || st.st_dev != c->dev || st.st_ino != c->ino)
		return -ESTALE;
	if (st.st_gid == gid)
		return 0;
	if (fchownat(AT_FDCWD, c->path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

const char *ul_control_path(const struct ul_control *c)
{
	return c->path;
}

void ul_control_set_access(struct ul_control *c, gid_t read_gid, gid_t admin_gid)
{
	c->read_gid = read_gid;
	c->admin_gid = admin_gid;
}

void ul_control_close(struct ul_control *c)
{
	struct stat st;

	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	ul_loop_del(c->loop, &c->lw);
	close(c->lw.fd);
	/* Only unlink the socket if it is still the one we created. */
	if (!lstat(c->path, &st) && S_ISSOCK(st.st_mode) && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}

/* ---- client ---- */

int ul_control_parse_reply(const char *in, size_t len, struct ul_buf *body)
{
	ul_buf_reset(body);
	if (len >= 3 && !memcmp(in, "OK\n", 3)) {
		ul_buf_put(body, in + 3, len - 3);
	} else if (len >= 5 && !memcmp(in, "ERR ", 4) && in[len - 1] == '\n') {
		/* the message, and the lines that may follow it, without the last newline */
		ul_buf_put(body, in + 4, len - 5);
		return body->oom ? -ENOMEM : 1;
	} else {
		return -EPROTO;
	}
	return body->oom ? -ENOMEM : 0;
}

int ul_control_request(const char *path, const char *req, struct ul_buf *body)
{
	struct timeval tv = { .tv_sec = CTL_CLIENT_TIMEOUT_S };
	struct ul_buf in = { 0 };
	struct sockaddr_un sa;
	size_t req_len = strlen(req), off = 0;
	char *line = NULL;
	int fd, err;

	err = fill_addr(&sa, path);
	if (err)
		return err;
	if (req_len + 1 > UL_CTL_MAX_REQ || strchr(req, '\n'))
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	line = malloc(req_len + 1);
	if (!line) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(line, req, req_len);
	line[req_len] = '\n';
	while (off < req_len + 1) {
		ssize_t n = send(fd, line + off, req_len + 1 - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A busy server answers "ERR busy" and closes before reading: the
			 * reply is still there to read. */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			err = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			goto out;
		}
		off += (size_t)n;
	}
	for (;;) {
		char chunk[16384];
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A server that already replied may reset instead of a clean close. */
			if (errno == ECONNRESET && in.len && memchr(in.p, '\n', in.len))
				break;
			err = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (in.len + (size_t)n > CTL_REPLY_MAX) {
			err = -EMSGSIZE;
			goto out;
		}
		ul_buf_put(&in, chunk, (size_t)n);
		if (in.oom) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = ul_control_parse_reply(in.p, in.len, body);
out:
	free(line);
	ul_buf_free(&in);
	close(fd);
	return err;
}
