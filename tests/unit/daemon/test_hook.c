// SPDX-License-Identifier: GPL-2.0-or-later
/* The hook runner with a real ul_loop and a signalfd for SIGCHLD, as in the daemon. The
 * hooks are /bin/sh scripts written to a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hook.h"
#include "loop.h"
#include "tk.h"

struct fix {
	char dir[48];
	char out[96];
	struct ul_loop *loop;
	struct ul_hooks *h;
	struct ul_watch sw;             /* signalfd for SIGCHLD */
	sigset_t old_mask;
	int want_lines;
	struct ul_timer guard;
	bool guard_fired;
};

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void on_sigchld(struct ul_watch *w, uint32_t events)
{
	struct fix *f = w->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si))
		;
	ul_hooks_reap(f->h);
	if (count_lines(f->out) >= f->want_lines)
		ul_loop_stop(f->loop);
}

static void guard_cb(struct ul_timer *t)
{
	struct fix *f = t->data;

	f->guard_fired = true;
	ul_loop_stop(f->loop);
}

/* Run the loop until the output file has n lines; returns the time it took. */
static uint64_t run_until(struct fix *f, int n, uint64_t max_ms)
{
	uint64_t t0 = ul_now_ms();

	f->want_lines = n;
	f->guard_fired = false;
	assert_int_equal(ul_timer_arm(f->loop, &f->guard, t0 + max_ms), 0);
	if (count_lines(f->out) < n)
		assert_int_equal(ul_loop_run(f->loop), 0);
	ul_timer_cancel(f->loop, &f->guard);
	assert_false(f->guard_fired);
	return ul_now_ms() - t0;
}

static void write_script(struct fix *f, const char *name, const char *body, char *path,
			 size_t len)
{
	FILE *s;

	snprintf(path, len, "%s/%s", f->dir, name);
	s = fopen(path, "w");
	assert_non_null(s);
	fprintf(s, "#!/bin/sh\nD=%s\n%s", f->dir, body);
	fclose(s);
	assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	sigset_t chld;

	assert_non_null(f);
	tk_tmpdir(f->dir, sizeof(f->dir), "ul-hook");
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &chld, &f->old_mask), 0);
	f->sw.fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	assert_true(f->sw.fd >= 0);
	f->sw.cb = on_sigchld;
	f->sw.data = f;
	assert_int_equal(ul_loop_new(&f->loop), 0);
	assert_int_equal(ul_loop_add(f->loop, &f->sw, EPOLLIN), 0);
	assert_int_equal(ul_hooks_new(f->loop, &f->h), 0);
	f->guard.cb = guard_cb;
	f->guard.data = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	ul_hooks_free(f->h);
	/* nothing may be left behind: no child, no zombie */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	ul_loop_del(f->loop, &f->sw);
	close(f->sw.fd);
	ul_loop_free(f->loop);
	sigprocmask(SIG_SETMASK, &f->old_mask, NULL);
	tk_rmtree(f->dir);
	free(f);
	return 0;
}

static const char recorder[] =
	"[ -e $D/lock ] && echo OVERLAP >>$D/out\n"
	": >$D/lock\n"
	"env | grep -v '^PWD=' | sort >$D/env.$UPLINK_NAME\n"
	"grep -E '^Sig(Blk|Ign):' /proc/$$/status | tr -d '\\t' >$D/sig.$UPLINK_NAME\n"
	"readlink /proc/$$/fd/0 >$D/stdin.$UPLINK_NAME\n"
	"[ -e /proc/$$/fd/42 ] && echo LEAKED-FD >>$D/out\n"
	"[ \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ ] || echo NOT-GROUP-LEADER >>$D/out\n"
	"sleep 0.1\n"
	"rm -f $D/lock\n"
	"echo \"$UPLINK_NAME $UPLINK_STATE $UPLINK_PREVIOUS_STATE [$UPLINK_ACTIVE]\" >>$D/out\n"
	"exit 3\n";

static void test_three_in_order(void **state)
{
	struct fix *f = *state;
	char path[128], file[160];
	sigset_t usr1;

	write_script(f, "hook", recorder, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	/* what the daemon has that the hook must not inherit: a blocked and an ignored
	 * signal, a descriptor without CLOEXEC */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR2, SIG_IGN);
	assert_int_equal(dup2(2, 42), 42);

	assert_int_equal(ul_hooks_event(f->h, "isp1", "wan1", "up", "init", "isp1"), 0);
	assert_int_equal(ul_hooks_event(f->h, "isp2", "wan2", "up", "init", "isp1,isp2"), 0);
	assert_int_equal(ul_hooks_event(f->h, "isp3", "ppp0", "down", "up", ""), 0);
	run_until(f, 3, 10000);
	close(42);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	signal(SIGUSR2, SIG_DFL);

	assert_string_equal(tk_read(f->out),
			    "isp1 up init [isp1]\n"
			    "isp2 up init [isp1,isp2]\n"
			    "isp3 down up []\n");
	snprintf(file, sizeof(file), "%s/env.isp2", f->dir);
	assert_string_equal(tk_read(file),
			    "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
			    "UPLINK_ACTIVE=isp1,isp2\n"
			    "UPLINK_INTERFACE=wan2\n"
			    "UPLINK_NAME=isp2\n"
			    "UPLINK_PREVIOUS_STATE=init\n"
			    "UPLINK_STATE=up\n");
	snprintf(file, sizeof(file), "%s/sig.isp1", f->dir);
	{
		/* Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): libc's sigaction
		 * cannot touch them, and some runtimes (ASan) leave them ignored. */
		unsigned long long blk = 1, ign = 1;

		assert_int_equal(sscanf(tk_read(file), "SigBlk:%llx\nSigIgn:%llx", &blk, &ign), 2);
		assert_true(blk == 0);
		assert_true((ign & ~0x180000000ULL) == 0);
	}
	snprintf(file, sizeof(file), "%s/stdin.isp3", f->dir);
	assert_string_equal(tk_read(file), "/dev/null\n");
}

static const char hanger[] =
	"if [ \"$UPLINK_NAME\" = hang ]; then\n"
	"	sleep 60 & echo $! >$D/sleep.pid\n"
	"	wait\n"
	"fi\n"
	"echo \"$UPLINK_NAME\" >>$D/out\n";

static bool process_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && (p[2] == 'Z' || p[2] == 'X');      /* dead, not yet reaped by init */
}

static void test_timeout_kills(void **state)
{
	struct fix *f = *state;
	char path[128], file[160], *pid_s;
	uint64_t ms;
	pid_t sleeper;
	int i;

	write_script(f, "hook", hanger, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 1), 0);
	assert_int_equal(ul_hooks_event(f->h, "hang", "wan1", "down", "up", ""), 0);
	assert_int_equal(ul_hooks_event(f->h, "after", "wan1", "up", "down", "after"), 0);
	ms = run_until(f, 1, 10000);
	/* killed after its 1 s, then the next one ran */
	assert_true(ms >= 950);
	assert_true(ms < 4000);
	assert_string_equal(tk_read(f->out), "after\n");
	/* the whole process group went: the sleep the hook started too */
	snprintf(file, sizeof(file), "%s/sleep.pid", f->dir);
	pid_s = tk_read(file);
	assert_non_null(pid_s);
	sleeper = (pid_t)atoi(pid_s);
	assert_true(sleeper > 0);
	for (i = 0; i < 200 && !process_gone(sleeper); i++)
		usleep(10000);
	assert_true(process_gone(sleeper));
}

static const char appender[] = "echo \"$UPLINK_NAME\" >>$D/out\n";

static void test_queue_overflow(void **state)
{
	struct fix *f = *state;
	char path[128], name[16], *text, *line;
	int n = 0, expect = 44;

	write_script(f, "hook", appender, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_int_equal(ul_hooks_event(f->h, name, "x", "up", "down", ""), 0);
	}
	run_until(f, 257, 60000);
	/* e0 was running; of e1..e299 the 256 newest were kept */
	text = tk_read(f->out);
	line = strtok(text, "\n");
	assert_string_equal(line, "e0");
	while ((line = strtok(NULL, "\n"))) {
		snprintf(name, sizeof(name), "e%d", expect++);
		assert_string_equal(line, name);
		n++;
	}
	assert_int_equal(n, 256);
}

static void test_disable_and_exec_failure(void **state)
{
	struct fix *f = *state;
	char path[128], missing[160];

	/* no hook configured, or configured off: nothing runs */
	assert_int_equal(ul_hooks_event(f->h, "isp1", "wan1", "up", "init", "isp1"), 0);
	write_script(f, "hook", appender, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	assert_int_equal(ul_hooks_configure(f->h, "", 10), 0);
	assert_int_equal(ul_hooks_event(f->h, "isp1", "wan1", "up", "init", "isp1"), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);

	/* a missing hook is refused: nothing runs */
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(ul_hooks_configure(f->h, missing, 10), -ENOENT);
	assert_int_equal(ul_hooks_event(f->h, "lost", "wan1", "up", "init", ""), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	/* a hook that cannot be executed (its interpreter is missing) is logged and the next
	 * event still runs; the hook in force when an event was queued is the one used */
	snprintf(missing, sizeof(missing), "%s/badinterp", f->dir);
	{
		FILE *s = fopen(missing, "w");

		assert_non_null(s);
		fputs("#!/nonexistent/sh\n", s);
		fclose(s);
		assert_int_equal(chmod(missing, 0755), 0);
	}
	assert_int_equal(ul_hooks_configure(f->h, missing, 10), 0);
	assert_int_equal(ul_hooks_event(f->h, "lost", "wan1", "up", "init", ""), 0);
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	assert_int_equal(ul_hooks_event(f->h, "next", "wan1", "up", "init", ""), 0);
	run_until(f, 1, 10000);
	assert_string_equal(tk_read(f->out), "next\n");
}

/* An IPv6 transition: the 1.0 environment plus UPLINK_FAMILY=ipv6. */
static void test_family(void **state)
{
	struct fix *f = *state;
	char path[128], file[160];

	write_script(f, "hook", recorder, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	assert_int_equal(ul_hooks_event_family(f->h, "isp1", "wan1", "down", "up", "isp2", "ipv6"),
			 0);
	run_until(f, 1, 10000);
	assert_string_equal(tk_read(f->out), "isp1 down up [isp2]\n");
	snprintf(file, sizeof(file), "%s/env.isp1", f->dir);
	assert_string_equal(tk_read(file),
			    "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
			    "UPLINK_ACTIVE=isp2\n"
			    "UPLINK_FAMILY=ipv6\n"
			    "UPLINK_INTERFACE=wan1\n"
			    "UPLINK_NAME=isp1\n"
			    "UPLINK_PREVIOUS_STATE=up\n"
			    "UPLINK_STATE=down\n");
}

static void test_free_kills_running(void **state)
{
	struct fix *f = *state;
	char path[128];
	uint64_t t0;

	write_script(f, "hook", hanger, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 30), 0);
	assert_int_equal(ul_hooks_event(f->h, "hang", "wan1", "down", "up", ""), 0);
	assert_int_equal(ul_hooks_event(f->h, "queued", "wan1", "up", "down", ""), 0);
	usleep(100000);
	t0 = ul_now_ms();
	ul_hooks_free(f->h);
	assert_true(ul_now_ms() - t0 < 2000);
	/* the running one was killed and reaped, the queued one never ran */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(count_lines(f->out), 0);
	assert_int_equal(ul_hooks_new(f->loop, &f->h), 0);     /* for teardown */
}

/* Refused: a hook others may change, or in a directory others may write. */
static void test_untrusted(void **state)
{
	struct fix *f = *state;
	char path[128];

	if (geteuid()) {
		skip();
		return;
	}
	write_script(f, "hook", appender, path, sizeof(path));
	assert_int_equal(chmod(path, 0775), 0);
	assert_int_equal(ul_hooks_configure(f->h, path, 10), -EPERM);
	assert_int_equal(ul_hooks_event(f->h, "no", "wan1", "up", "init", ""), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(ul_hooks_configure(f->h, path, 10), -EPERM);
	assert_int_equal(ul_hooks_event(f->h, "no", "wan1", "up", "init", ""), 0);
	assert_int_equal(chown(path, 0, 0), 0);
	/* a good one, then it goes bad: a reconfiguration refuses it and runs nothing */
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(ul_hooks_configure(f->h, path, 10), -EPERM);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(ul_hooks_event(f->h, "no", "wan1", "up", "init", ""), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(count_lines(f->out), 0);
}

/* The file checked is the file run: replacing the path afterwards changes nothing. */
static void test_exec_by_descriptor(void **state)
{
	struct fix *f = *state;
	char path[128], evil[128];

	write_script(f, "hook", appender, path, sizeof(path));
	assert_int_equal(ul_hooks_configure(f->h, path, 10), 0);
	write_script(f, "evil", "echo EVIL >>$D/out\n", evil, sizeof(evil));
	assert_int_equal(rename(evil, path), 0);
	assert_int_equal(ul_hooks_event(f->h, "checked", "wan1", "up", "init", ""), 0);
	run_until(f, 1, 10000);
	assert_string_equal(tk_read(f->out), "checked\n");
}

/* hook_user: the child runs as that user, with its groups and no capabilities. */
static void test_hook_user(void **state)
{
	struct fix *f = *state;
	char path[128];
	int fd;

	if (geteuid()) {
		skip();
		return;
	}
	assert_int_equal(chmod(f->dir, 0755), 0);
	fd = open(f->out, O_CREAT | O_WRONLY, 0666);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(f->out, 0666), 0);
	write_script(f, "hook", "echo \"$(id -u) $(id -G) $(grep -E '^Cap(Eff|Prm|Amb)' "
		     "/proc/$$/status | tr -d '\\t\\n')\" >>$D/out\n", path, sizeof(path));
	assert_int_equal(ul_hooks_configure_as(f->h, path, 10, "nobody"), 0);
	assert_int_equal(ul_hooks_event(f->h, "u", "wan1", "up", "init", ""), 0);
	run_until(f, 1, 10000);
	assert_string_equal(tk_read(f->out), "65534 65534 CapPrm:0000000000000000CapEff:"
			    "0000000000000000CapAmb:0000000000000000\n");
	assert_int_equal(ul_hooks_configure_as(f->h, path, 10, "no-such-user-ul"), -ENOENT);
	assert_int_equal(chmod(f->dir, 0700), 0);
}

TK_MAIN_EACH(setup, teardown, test_three_in_order, test_timeout_kills, test_queue_overflow,
	     test_disable_and_exec_failure, test_family, test_free_kills_running,
	     test_untrusted, test_exec_by_descriptor, test_hook_user)
