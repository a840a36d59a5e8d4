/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growing text buffer; an allocation failure sticks in ->oom. */
#ifndef UL_BUF_H
#define UL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct ul_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void ul_buf_printf(struct ul_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ul_buf_put(struct ul_buf *b, const void *data, size_t len);
/* JSON string literal with escapes, quotes included. */
void ul_buf_json_str(struct ul_buf *b, const char *s);
void ul_buf_reset(struct ul_buf *b);
void ul_buf_free(struct ul_buf *b);

#endif
