// SPDX-License-Identifier: GPL-2.0-or-later
/* Dropping privileges with libcap-ng, with or without systemd.
 *
 * Started as root (by hand, OpenRC, a container): everything but CAP_NET_ADMIN (routes,
 * rules, nftables, SO_MARK, net sysctls) and CAP_NET_RAW (ICMP probes, SO_BINDTODEVICE) is
 * dropped from the effective, permitted and bounding sets once the set-up that needs more
 * (CAP_CHOWN for the control socket's group) is done. uid 0 stays: /proc/sys/net and
 * /run/uplinkd are root's, so they stay writable without CAP_DAC_OVERRIDE. A hook exec'd
 * by root gets at most the bounding set, i.e. the same two.
 * Started by systemd as User=uplinkd with those two as ambient capabilities: the same
 * call finds nothing more to drop (the bounding set is systemd's), keeps them ambient so a
 * hook has what the daemon has, and sets no_new_privs.
 * With daemon.hook_user, CAP_SETUID and CAP_SETGID stay permitted (never effective) so a
 * hook child can switch to that user; the child drops every capability before exec. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "log.h"
#include "priv.h"

/* Whether the process has nothing beyond what the drop would leave: then there is nothing
 * to apply (under systemd, where capset(2) is refused by the system call filter). */
static bool already_minimal(bool keep_setid, bool bounds)
{
	for (unsigned c = 0; c < 64; c++) {
		bool net = c == CAP_NET_ADMIN || c == CAP_NET_RAW;
		bool setid = keep_setid && (c == CAP_SETUID || c == CAP_SETGID);

		if (net || setid)
			continue;
		if (capng_have_capability(CAPNG_EFFECTIVE, c) ||
		    capng_have_capability(CAPNG_PERMITTED, c) ||
		    capng_have_capability(CAPNG_INHERITABLE, c) ||
		    capng_have_capability(CAPNG_AMBIENT, c) ||
		    (bounds && capng_have_capability(CAPNG_BOUNDING_SET, c)))
			return false;
	}
	return !keep_setid || (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
			       !capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID));
}

int ul_priv_drop(bool keep_setid)
{
	static const int keep[] = { CAP_NET_ADMIN, CAP_NET_RAW };
	static const int setid[] = { CAP_SETUID, CAP_SETGID };
	bool have[2], ambient[2], bounds;
	int sel = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;

	if (capng_get_caps_process()) {
		ul_err("privileges: cannot read the capabilities of the process");
		return -EIO;
	}
	bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	for (int i = 0; i < 2; i++) {
		have[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned)keep[i]);
		ambient[i] = capng_have_capability(CAPNG_AMBIENT, (unsigned)keep[i]);
	}
	if (keep_setid && (!capng_have_capability(CAPNG_PERMITTED, CAP_SETUID) ||
			   !capng_have_capability(CAPNG_PERMITTED, CAP_SETGID))) {
		ul_err("privileges: daemon.hook_user needs CAP_SETUID and CAP_SETGID, which this "
		       "process does not have");
		return -EPERM;
	}
	if (already_minimal(keep_setid, bounds))
		goto nnp;
	capng_clear(CAPNG_SELECT_ALL);
	for (int i = 0; i < 2; i++) {
		if (!have[i])
			continue;
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			     (unsigned)keep[i]);
		if (ambient[i])
			capng_update(CAPNG_ADD, CAPNG_INHERITABLE | CAPNG_AMBIENT,
				     (unsigned)keep[i]);
	}
	if (keep_setid)
		for (int i = 0; i < 2; i++)
			capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				     (unsigned)setid[i]);
	if (bounds)
		sel |= CAPNG_SELECT_BOUNDS;
	if (capng_apply((capng_select_t)sel)) {
		ul_err("privileges: cannot drop capabilities");
		return -EPERM;
	}
nnp:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		int err = errno;

		ul_err("privileges: no_new_privs: %s", strerror(err));
		return -err;
	}
	if (!have[0] || !have[1])
		ul_warn("privileges: running without %s%s%s", have[0] ? "" : "CAP_NET_ADMIN",
			!have[0] && !have[1] ? " and " : "", have[1] ? "" : "CAP_NET_RAW");
	ul_info("privileges: uid %u keeps CAP_NET_ADMIN CAP_NET_RAW%s only; no_new_privs set",
		(unsigned)geteuid(), keep_setid ? " (and CAP_SETUID CAP_SETGID for hook_user)" : "");
	return 0;
}

bool ul_priv_can_setid(void)
{
	if (capng_get_caps_process())
		return false;
	return capng_have_capability(CAPNG_PERMITTED, CAP_SETUID) &&
	       capng_have_capability(CAPNG_PERMITTED, CAP_SETGID);
}

int ul_priv_become(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
	if (capng_get_caps_process())
		return -EIO;
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_SETUID);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_SETGID);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	if (setgroups(n_groups, groups) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		return -errno;
	/* uid 0 -> another clears the capabilities by itself, uplinkd -> another does not */
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (capng_apply((capng_select_t)(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT)))
		return -EPERM;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	if (uid && (setuid(0) == 0 || geteuid() != uid || getegid() != gid))
		return -EPERM;
	return 0;
}
