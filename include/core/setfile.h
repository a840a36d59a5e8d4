/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prefix files of named sets: one address or prefix a line, '#' comments, blank lines.
 * Pure: the text comes from the caller (config.c's reader, a test, a fuzzer). */
#ifndef UL_SETFILE_H
#define UL_SETFILE_H

#include <stddef.h>

#include "addr.h"
#include "config.h"

/* Errors reported per file before the rest are summed up in one line. */
#define UL_SETFILE_MAX_ERRORS 20

/*
 * Parse text[0..len) (NUL bytes are errors, no terminator needed). family: AF_INET or AF_INET6,
 * the set's type; 0 accepts both. Each bad line is one "NAME:LINE: message" in diag. Returns
 * 0 with *out (malloc'd, NULL when the file holds no prefix) and *n set, -EINVAL (errors in
 * diag, *out NULL) or -ENOMEM. Duplicates and overlapping prefixes are allowed (the set merges
 * them).
 */
int ul_setfile_parse(const char *text, size_t len, const char *name, int family,
		     struct ul_addr **out, size_t *n, struct ul_diag *diag);

#endif
