/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket. Protocol: the client sends one request line (at most
 * UL_CTL_MAX_REQ bytes, ending in '\n'); the server answers "OK\n" or "ERR message\n",
 * then the body, and closes. Requests: status, status json, reload, disable LINK,
 * enable LINK, metrics. */
#ifndef UL_CONTROL_H
#define UL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "loop.h"

#define UL_CTL_MAX_REQ 256
#define UL_CTL_MAX_CLIENTS 16
#define UL_CTL_TIMEOUT_MS 2000

/* Handle one request (NUL-terminated, newline stripped). Fill body; return 0 for OK or a
 * negative errno with an error message in body (sent as "ERR <body>"). Only requests the
 * peer is permitted to make reach the handler (see ul_control_permitted); changes have
 * been logged with the peer's uid. */
typedef int (*ul_ctl_handler)(void *data, const char *req, struct ul_buf *body);

struct ul_control;

/* Creates the parent directory if missing, replaces a stale socket, mode 0660, group gid
 * (or -1 to leave root); gid is also the read group (see ul_control_set_access), no admin
 * group. Changing the group needs CAP_CHOWN or membership of gid: open before dropping
 * privileges. */
int ul_control_open(struct ul_loop *loop, const char *path, gid_t gid, ul_ctl_handler h,
		    void *data, struct ul_control **out);
/* Who may read (status, metrics, unknown verbs) and who may change (reload, disable,
 * enable) besides root; (gid_t)-1 for nobody. Members of admin_gid may also read. */
void ul_control_set_access(struct ul_control *c, gid_t read_gid, gid_t admin_gid);
/* Give the socket actually bound (never another file now at its path, never through a
 * symbolic link) to group gid; 0, -ESTALE if the path is no longer our socket, -errno. */
int ul_control_set_group(struct ul_control *c, gid_t gid);
/* The path the socket was bound at. */
const char *ul_control_path(const struct ul_control *c);

/* A peer's credentials, as SO_PEERCRED/SO_PEERGROUPS give them. */
struct ul_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

/* reload, disable, enable */
bool ul_control_is_change(const char *verb);
/* The contract's policy: root anything; admin_gid members anything; read_gid members
 * what is not a change. Pure. */
bool ul_control_permitted(const struct ul_ctl_peer *p, gid_t read_gid, gid_t admin_gid,
			  bool change);
void ul_control_close(struct ul_control *c);
/* Split a request into verb and argument, validating characters; pure. 0 or -EINVAL. */
int ul_control_parse(const char *req, char *verb, size_t verb_len, char *arg, size_t arg_len);

/* Client side (uplinkctl): send req, read the whole reply into body. Returns 0 for OK,
 * 1 for ERR (message in body), or -errno. */
int ul_control_request(const char *path, const char *req, struct ul_buf *body);
/* The reply as read (len bytes): 0 for OK (the body after "OK\n"), 1 for ERR (the message
 * and what follows, without the last newline), -EPROTO for anything else. */
int ul_control_parse_reply(const char *in, size_t len, struct ul_buf *body);

#endif
