/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a program safe to run with the daemon's privileges? (A host check, like a group's
 * existence: it looks at the file system.) */
#ifndef UL_TRUST_H
#define UL_TRUST_H

#include <stddef.h>
#include <sys/stat.h>

/* 0 when path names a regular file, executable, owned by root and writable by nobody else,
 * and every directory on the way to it (as written and as resolved: symbolic links
 * followed) is owned by root and not writable by group or others — or, writable by them
 * but sticky (like /tmp), with the entry below it owned by root, which nobody else can
 * then rename or remove. Otherwise -errno and why (a phrase naming the offending path) in
 * why. The final file's identity, when accepted, in *st (may be NULL); its resolved path
 * in resolved (PATH_MAX bytes, may be NULL). */
int ul_path_trusted(const char *path, char *why, size_t why_len, struct stat *st,
		    char *resolved);

#endif
