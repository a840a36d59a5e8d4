/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The identity store: the remembered link ids and tables (identity.h), one text file in
 * the daemon's runtime directory, replaced atomically. */
#ifndef UL_IDSTORE_H
#define UL_IDSTORE_H

#include <stddef.h>

#include "identity.h"

/* Reads path into m. A missing file is an empty map (0); bad lines are skipped with a
 * warning. -errno on other errors (m is then empty). */
int ul_idstore_load(const char *path, struct ul_ident_map *m);
/* Writes the assignment: a new file path.tmp (O_EXCL|O_NOFOLLOW, a stale one from a
 * crash is removed first), fsync, rename over path. 0 or -errno. */
int ul_idstore_save(const char *path, const struct ul_ident *a, size_t n);

#endif
