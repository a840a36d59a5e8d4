// SPDX-License-Identifier: GPL-2.0-or-later
/* The state-change hook. Events are queued (bounded; overflow drops the oldest) and run
 * one at a time, in order, with fork + execve (no shell) and exactly the contract's
 * environment. The child gets its own process group so a hook that outlives its
 * timeout is killed together with whatever it started. The daemon calls
 * ul_hooks_reap on SIGCHLD; only our own child's pid is waited for.
 *
 * Trust: when configured, the hook must pass ul_path_trusted (root's, nobody else can
 * change it or a directory above it); it is then opened (O_PATH, not following a link)
 * and every run execs that very file through its descriptor (execveat AT_EMPTY_PATH), with
 * no second lookup by path. A script sees its descriptor as fd 3 (the kernel hands the
 * interpreter /dev/fd/3). With a hook user the child becomes that user, with its groups
 * and no capabilities, before the exec. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "priv.h"
#include "trust.h"

#define HOOK_QUEUE_MAX 256
#define HOOK_PATH_ENV "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

enum { E_NAME, E_IFACE, E_STATE, E_PREV, E_ACTIVE, N_ENV };

static const char *const env_names[N_ENV] = {
	"UPLINK_NAME", "UPLINK_INTERFACE", "UPLINK_STATE", "UPLINK_PREVIOUS_STATE",
	"UPLINK_ACTIVE",
};

/* The hook file as checked and opened, shared by the events queued while it was the one
 * configured. */
struct hook_bin {
	char *path;
	int fd;                         /* O_PATH */
	bool as_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	unsigned refs;
};

struct hook_event {
	char *path;                     /* the hook configured when the event was queued */
	struct hook_bin *bin;
	uint32_t timeout_s;
	char *env[N_ENV + 3];           /* "NAME=value"..., PATH, [UPLINK_FAMILY], NULL */
	char *family;                   /* "UPLINK_FAMILY=ipv6", or NULL (IPv4: the 1.0 set) */
};

struct ul_hooks {
	struct ul_loop *loop;
	char *path;                     /* NULL: no hook */
	struct hook_bin *bin;
	uint32_t timeout_s;
	struct hook_event *queue[HOOK_QUEUE_MAX];
	size_t head, n;
	struct hook_event *cur;         /* running, or NULL */
	pid_t pid;
	bool killed;
	uint64_t started_ms;
	struct ul_timer timer;
};

/* The value part of an environment entry, for messages. */
static const char *val(const struct hook_event *e, int i)
{
	return e->env[i] + strlen(env_names[i]) + 1;
}

static void bin_put(struct hook_bin *b)
{
	if (!b || --b->refs)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->groups);
	free(b->path);
	free(b);
}

static void event_free(struct hook_event *e)
{
	if (!e)
		return;
	bin_put(e->bin);
	free(e->path);
	for (int i = 0; i < N_ENV; i++)
		free(e->env[i]);
	free(e->family);
	free(e);
}

static void kill_timeout(struct ul_timer *t)
{
	struct ul_hooks *h = t->data;

	if (!h->pid)
		return;
	if (kill(-h->pid, SIGKILL) && kill(h->pid, SIGKILL))
		ul_warn("hook %s: kill: %s", h->cur->path, strerror(errno));
	h->killed = true;
	ul_warn("hook %s (%s %s) killed after %us", h->cur->path, val(h->cur, E_NAME),
		val(h->cur, E_STATE), h->cur->timeout_s);
}

/* All but 0-3 (stdout and stderr are the daemon's: its log). */
static void close_other_fds(void)
{
#ifdef SYS_close_range
	if (!syscall(SYS_close_range, 4U, ~0U, 0U))
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 4; fd < max; fd++)
		close(fd);
}

/* In the child: never returns. */
static void child_exec(const struct hook_event *e)
{
	char *argv[2] = { e->path, NULL };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	const struct hook_bin *b = e->bin;
	sigset_t none;
	int fd, err;

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);      /* fails harmlessly for KILL, STOP, RT holes */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || (fd != 0 && dup2(fd, 0) < 0))
		_exit(126);
	/* the checked file becomes fd 3, kept open across the exec (a script's interpreter
	 * opens it as /dev/fd/3) */
	if ((b->fd != 3 && dup2(b->fd, 3) < 0) || fcntl(3, F_SETFD, 0) < 0)
		_exit(126);
	close_other_fds();
	if (b->as_user) {
		err = ul_priv_become(b->uid, b->gid, b->groups, b->n_groups);
		if (err) {
			dprintf(2, "<%d>hook %s: cannot become uid %u: %s\n", LOG_ERR, e->path,
				(unsigned)b->uid, strerror(-err));
			_exit(126);
		}
	}
	syscall(SYS_execveat, 3, "", argv, e->env, AT_EMPTY_PATH);
	dprintf(2, "<%d>hook %s: cannot execute: %s\n", LOG_ERR, e->path, strerror(errno));
	_exit(127);
}

/* Start queued events until one runs (or the queue is empty). */
static void start_next(struct ul_hooks *h)
{
	while (!h->pid && h->n) {
		struct hook_event *e = h->queue[h->head];
		pid_t pid;

		h->queue[h->head] = NULL;
		h->head = (h->head + 1) % HOOK_QUEUE_MAX;
		h->n--;
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			ul_err("hook %s: fork: %s", e->path, strerror(errno));
			event_free(e);
			continue;
		}
		if (pid == 0)
			child_exec(e);
		setpgid(pid, pid);      /* also in the parent: no race with kill(-pid) */
		h->cur = e;
		h->pid = pid;
		h->killed = false;
		h->started_ms = ul_now_ms();
		ul_debug("hook %s started (pid %d, %s %s)", e->path, (int)pid, val(e, E_NAME),
			 val(e, E_STATE));
		if (e->timeout_s &&
		    ul_timer_arm(h->loop, &h->timer, h->started_ms + e->timeout_s * 1000ull))
			ul_warn("hook %s: cannot arm its timeout", e->path);
	}
}

static void finished(struct ul_hooks *h, int status)
{
	struct hook_event *e = h->cur;
	uint64_t ms = ul_now_ms() - h->started_ms;

	ul_timer_cancel(h->loop, &h->timer);
	if (h->killed)
		ul_debug("hook %s: reaped after kill", e->path);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ul_debug("hook %s: exit 0 after %llu ms", e->path, (unsigned long long)ms);
	else if (WIFEXITED(status))
		ul_warn("hook %s: exit status %d (%s %s)", e->path, WEXITSTATUS(status),
			val(e, E_NAME), val(e, E_STATE));
	else if (WIFSIGNALED(status))
		ul_warn("hook %s: killed by signal %d (%s %s)", e->path, WTERMSIG(status),
			val(e, E_NAME), val(e, E_STATE));
	event_free(e);
	h->cur = NULL;
	h->pid = 0;
	h->killed = false;
}

void ul_hooks_reap(struct ul_hooks *h)
{
	while (h && h->pid) {
		int status = 0;
		pid_t r = waitpid(h->pid, &status, WNOHANG);

		if (r == 0)
			return;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ul_warn("hook %s: waitpid: %s", h->cur->path, strerror(errno));
			status = 0;
		}
		finished(h, status);
		start_next(h);
	}
}

int ul_hooks_new(struct ul_loop *loop, struct ul_hooks **out)
{
	struct ul_hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->timer.cb = kill_timeout;
	h->timer.data = h;
	*out = h;
	return 0;
}

/* Check and open the hook; resolve its user. */
static int bin_open(const char *path, const char *user, struct hook_bin **out)
{
	char why[PATH_MAX + 64], real[PATH_MAX];
	struct hook_bin *b;
	struct stat st, fst;
	int err;

	err = ul_path_trusted(path, why, sizeof(why), &st, real);
	if (err) {
		ul_err("hook %s refused: %s", path, why);
		return err;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->refs = 1;
	b->path = strdup(path);
	b->fd = open(real, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (!b->path || b->fd < 0) {
		err = b->path ? -errno : -ENOMEM;
		goto fail;
	}
	/* what was opened is what was checked */
	if (fstat(b->fd, &fst) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
	    fst.st_uid != 0 || (fst.st_mode & (S_IWGRP | S_IWOTH)) || !S_ISREG(fst.st_mode)) {
		ul_err("hook %s refused: it changed while being checked", path);
		err = -EPERM;
		goto fail;
	}
	if (user && *user) {
		struct passwd *pw = getpwnam(user);
		int n = 64;

		if (!pw) {
			ul_err("hook %s: hook_user %s does not exist", path, user);
			err = -ENOENT;
			goto fail;
		}
		b->as_user = true;
		b->uid = pw->pw_uid;
		b->gid = pw->pw_gid;
		for (;;) {
			gid_t *g = realloc(b->groups, (size_t)n * sizeof(*g));

			if (!g) {
				err = -ENOMEM;
				goto fail;
			}
			b->groups = g;
			if (getgrouplist(pw->pw_name, pw->pw_gid, g, &n) >= 0)
				break;
			if (n > 65536) {
				err = -E2BIG;
				goto fail;
			}
		}
		b->n_groups = (size_t)n;
	}
	*out = b;
	return 0;
fail:
	bin_put(b);
	return err;
}

int ul_hooks_configure_as(struct ul_hooks *h, const char *path, uint32_t timeout_s,
			  const char *user)
{
	struct hook_bin *b = NULL;
	char *p = NULL;
	int err = 0;

	if (path && *path) {
		err = bin_open(path, user, &b);
		if (!err) {
			p = strdup(path);
			if (!p)
				err = -ENOMEM;
		}
	}
	/* a hook that fails the check is not run at all (not even the previous one) */
	free(h->path);
	bin_put(h->bin);
	h->path = err ? NULL : p;
	h->bin = err ? NULL : b;
	if (err) {
		free(p);
		bin_put(b);
	}
	h->timeout_s = timeout_s;
	return err;
}

int ul_hooks_configure(struct ul_hooks *h, const char *path, uint32_t timeout_s)
{
	return ul_hooks_configure_as(h, path, timeout_s, NULL);
}

int ul_hooks_event(struct ul_hooks *h, const char *name, const char *ifname, const char *state,
		   const char *prev, const char *active_csv)
{
	return ul_hooks_event_family(h, name, ifname, state, prev, active_csv, NULL);
}

int ul_hooks_event_family(struct ul_hooks *h, const char *name, const char *ifname,
			  const char *state, const char *prev, const char *active_csv,
			  const char *family)
{
	const char *vals[N_ENV] = { name, ifname, state, prev, active_csv };
	struct hook_event *e;

	if (!h->path)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->path = strdup(h->path);
	e->bin = h->bin;
	e->bin->refs++;
	e->timeout_s = h->timeout_s;
	for (int i = 0; i < N_ENV; i++)
		if (asprintf(&e->env[i], "%s=%s", env_names[i], vals[i] ? vals[i] : "") < 0)
			e->env[i] = NULL;
	e->env[N_ENV] = (char *)HOOK_PATH_ENV;
	e->env[N_ENV + 1] = NULL;
	if (family && asprintf(&e->family, "UPLINK_FAMILY=%s", family) < 0) {
		e->family = NULL;
		event_free(e);
		return -ENOMEM;
	}
	e->env[N_ENV + 1] = e->family;
	e->env[N_ENV + 2] = NULL;
	for (int i = 0; i < N_ENV; i++) {
		if (!e->env[i] || !e->path) {
			event_free(e);
			return -ENOMEM;
		}
	}
	if (h->n == HOOK_QUEUE_MAX) {
		struct hook_event *old = h->queue[h->head];

		ul_warn("hook queue full (%d events): dropping the oldest (%s %s)", HOOK_QUEUE_MAX,
			val(old, E_NAME), val(old, E_STATE));
		event_free(old);
		h->queue[h->head] = NULL;
		h->head = (h->head + 1) % HOOK_QUEUE_MAX;
		h->n--;
	}
	h->queue[(h->head + h->n) % HOOK_QUEUE_MAX] = e;
	h->n++;
	start_next(h);
	return 0;
}

void ul_hooks_free(struct ul_hooks *h)
{
	if (!h)
		return;
	if (h->pid) {
		if (kill(-h->pid, SIGKILL))
			kill(h->pid, SIGKILL);
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
		ul_info("hook %s: killed at shutdown", h->cur->path);
		event_free(h->cur);
	}
	ul_timer_cancel(h->loop, &h->timer);
	while (h->n) {
		event_free(h->queue[h->head]);
		h->head = (h->head + 1) % HOOK_QUEUE_MAX;
		h->n--;
	}
	bin_put(h->bin);
	free(h->path);
	free(h);
}
