/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fuzz targets that need files share (each target is built from its one .c file). */
#ifndef UL_FUZZ_TMP_H
#define UL_FUZZ_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[64];               /* the target's private directory */
static void (*fuzz_dir_cleanup)(void);

static inline void fuzz_dir_remove(void)
{
	fuzz_dir_cleanup();
	rmdir(fuzz_dir);
}

/* Makes the target's directory, /tmp/ul-fuzz-NAME-XXXXXX (aborts when it cannot); at exit,
 * cleanup runs (it removes what the target put there), then the directory goes. */
static inline void fuzz_tmpdir(const char *name, void (*cleanup)(void))
{
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/ul-fuzz-%s-XXXXXX", name);
	if (!mkdtemp(fuzz_dir))
		abort();
	fuzz_dir_cleanup = cleanup;
	atexit(fuzz_dir_remove);
}

/* The name of a file in it. */
static inline void fuzz_path(char *path, size_t len, const char *file)
{
	snprintf(path, len, "%s/%s", fuzz_dir, file);
}

#endif
