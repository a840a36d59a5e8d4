/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket. Protocol: the client sends one request line (at most
 * UL_CTL_MAX_REQ bytes, ending in '\n'); the server answers "OK\n" or "ERR message\n",
 * then the body, and closes. Requests: status, status json, reload, disable LINK,
 * enable LINK, metrics. */
#ifndef UL_CONTROL_H
#define UL_CONTROL_H

#include <sys/types.h>

#include "buf.h"
#include "loop.h"

#define UL_CTL_MAX_REQ 256
#define UL_CTL_MAX_CLIENTS 16
#define UL_CTL_TIMEOUT_MS 2000

/* Handle one request (NUL-terminated, newline stripped). Fill body; return 0 for OK or a
 * negative errno with an error message in body (sent as "ERR <body>"). */
typedef int (*ul_ctl_handler)(void *data, const char *req, struct ul_buf *body);

struct ul_control;

/* Creates the parent directory if missing, replaces a stale socket, mode 0660, group gid
 * (or -1 to leave root). */
int ul_control_open(struct ul_loop *loop, const char *path, gid_t gid, ul_ctl_handler h,
		    void *data, struct ul_control **out);
void ul_control_close(struct ul_control *c);
/* Split a request into verb and argument, validating characters; pure. 0 or -EINVAL. */
int ul_control_parse(const char *req, char *verb, size_t verb_len, char *arg, size_t arg_len);

/* Client side (uplinkctl): send req, read the whole reply into body. Returns 0 for OK,
 * 1 for ERR (message in body), or -errno. */
int ul_control_request(const char *path, const char *req, struct ul_buf *body);

#endif
