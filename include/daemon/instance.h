/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One uplinkd per network namespace: a listening unix socket with an abstract name ("\0"
 * + name) is the lock. Abstract names exist per network namespace, so a second instance
 * in the same namespace cannot bind it and one in another namespace never sees it; it
 * vanishes with its process (also after kill -9), nothing is left on disk. */
#ifndef UL_INSTANCE_H
#define UL_INSTANCE_H

#include <sys/types.h>

#define UL_INSTANCE_NAME "uplinkd"

/* Takes the lock: returns its fd (close-on-exec, non-blocking), -EEXIST when another
 * process holds it (*holder = its pid as seen here, 0 if it could not be learnt), or
 * another -errno. name: at most 100 characters. */
int ul_instance_lock(const char *name, pid_t *holder);
/* Accepts and closes the connections other instances made to learn the holder's pid
 * (call when the fd is readable; they are harmless until the backlog is full). */
void ul_instance_drain(int fd);

#endif
