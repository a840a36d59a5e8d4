// SPDX-License-Identifier: GPL-2.0-or-later
/* The instance lock: a second taker is refused and told the holder's pid, the lock goes
 * with its holder (also a killed one), a child does not inherit it, names are checked.
 * Per-PID names, so parallel runs in one namespace do not meet. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "instance.h"
#include "tk.h"

static char name[64];

static int setup(void **state)
{
	(void)state;
	snprintf(name, sizeof(name), "uplinkd-unit-test-%d", (int)getpid());
	return 0;
}

static void second_is_refused(void **state)
{
	pid_t holder = -1;
	int fd, fd2, fl;

	(void)state;
	fd = ul_instance_lock(name, &holder);
	assert_true(fd >= 0);
	assert_int_equal(holder, 0);
	fl = fcntl(fd, F_GETFD);
	assert_true(fl & FD_CLOEXEC);
	fd2 = ul_instance_lock(name, &holder);
	assert_int_equal(fd2, -EEXIST);
	assert_int_equal(holder, getpid());
	/* the probe connection is accepted and closed by drain; asking again still works */
	ul_instance_drain(fd);
	assert_int_equal(ul_instance_lock(name, &holder), -EEXIST);
	assert_int_equal(holder, getpid());
	ul_instance_drain(fd);
	close(fd);
	/* released: it can be taken again */
	fd = ul_instance_lock(name, &holder);
	assert_true(fd >= 0);
	close(fd);
}

static void killed_holder_releases(void **state)
{
	int p[2], fd;
	pid_t child, holder = 0;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int l = ul_instance_lock(name, NULL);

		c = l >= 0 ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(ul_instance_lock(name, &holder), -EEXIST);
	assert_int_equal(holder, child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fd = ul_instance_lock(name, &holder);
	assert_true(fd >= 0);
	close(fd);
	close(p[0]);
	close(p[1]);
}

static void bad_names(void **state)
{
	char longname[128];

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(ul_instance_lock("", NULL), -EINVAL);
	assert_int_equal(ul_instance_lock(NULL, NULL), -EINVAL);
	assert_int_equal(ul_instance_lock(longname, NULL), -EINVAL);
}

TK_MAIN(setup, NULL, second_is_refused, killed_holder_releases, bad_names)
