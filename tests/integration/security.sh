#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Trust boundaries of a daemon run by hand (no systemd): it keeps CAP_NET_ADMIN and
# CAP_NET_RAW only, with no_new_privs; lines planted in its sysctl state file (keys it
# does not manage, values that are not integers) are never written; the control socket
# lets control_group read and only admin_group change; an untrusted hook is refused at
# -t and at reload, with its path.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
command -v setpriv >/dev/null || { echo "setpriv (util-linux) missing"; exit 77; }
lab_create 2
conf=$LABDIR/uplinkd.conf
# control_group nogroup (uplinkctl as nobody can read), admin_group "daemon" (gid 1)
lab_conf 2 daemon_extra='control_group = "nogroup"; admin_group = "daemon";' > "$conf"
chmod 0755 "$LABDIR"
ino=$(ip netns exec "$LAB-gw" stat -L -c %i /proc/self/ns/net)
sdir=/run/uplinkd/ns-$ino
lab_on_exit "rm -rf '$sdir'"

before_rpf=$(lab_gw sysctl -n net.ipv4.conf.wan1.rp_filter)

# ---- privileges
lab_uplinkd_start "$conf"
st=/proc/$LAB_UPLINKD_PID/status
capeff=$(awk '/^CapEff:/ {print $2}' "$st")
echo "CapEff without systemd: $capeff (uid $(awk '/^Uid:/ {print $2}' "$st"))"
[ "$capeff" = 0000000000003000 ] || lab_fail "CapEff $capeff, want 0000000000003000 (NET_ADMIN NET_RAW)"
[ "$(awk '/^CapBnd:/ {print $2}' "$st")" = 0000000000003000 ] || lab_fail "bounding set not reduced"
[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || lab_fail "no_new_privs not set"
lab_all_up 10 || lab_fail "links not up"

# ---- authorization
as_nobody() { ip netns exec "$LAB-gw" setpriv --reuid=65534 --regid=65534 "$@" \
	"$UL_BUILD/uplinkctl" -s "$LABDIR/ctl.sock" "${ARGS[@]}"; }
ARGS=(status); out=$(as_nobody --clear-groups 2>&1) || lab_fail "control_group member refused status: $out"
ARGS=(disable isp1); out=$(as_nobody --clear-groups 2>&1) && lab_fail "control_group member could disable"
echo "$out" | grep -q "permission denied" || lab_fail "refusal not 'permission denied': $out"
[ "$(lab_link_field isp1 state)" = up ] || lab_fail "isp1 changed by a refused request"
ARGS=(disable isp1); out=$(as_nobody --groups=1 2>&1) || lab_fail "admin_group member refused disable: $out"
lab_wait_state isp1 disabled 10 || lab_fail "isp1 not disabled"
grep -q 'control: "disable isp1" by uid 65534' "$LABDIR/uplinkd.log" || lab_fail "change not logged with the uid"
ARGS=(enable isp1); as_nobody --groups=1 >/dev/null 2>&1 || lab_fail "admin could not enable"

# ---- hook trust: refused at -t and at reload, with the path
hook=$LABDIR/hook.sh
printf '#!/bin/sh\nexit 0\n' > "$hook"
chmod 0775 "$hook"
lab_conf 2 daemon_extra="hook = \"$hook\";" > "$LABDIR/hook.conf"
out=$("$UL_BUILD/uplinkd" -t -c "$LABDIR/hook.conf" 2>&1) && lab_fail "-t accepted a group-writable hook"
echo "$out" | grep -q "daemon.hook: \"$hook\" refused: writable by group or others" ||
	lab_fail "-t message: $out"
cp "$LABDIR/hook.conf" "$conf"
out=$(lab_ctl reload 2>&1) && lab_fail "reload accepted a group-writable hook"
echo "$out" | grep -q "$hook" || lab_fail "reload refusal without the path: $out"
chmod 0755 "$hook"
"$UL_BUILD/uplinkd" -t -c "$LABDIR/hook.conf" >/dev/null || lab_fail "-t refused a good hook"
lab_conf 2 daemon_extra='control_group = "nogroup"; admin_group = "daemon";' > "$conf"

# ---- the state file: a crash leaves it; planted lines are dropped at the next start
lab_gw sysctl -qw net.ipv4.tcp_syncookies=1
core_before=$(cat /proc/sys/kernel/core_pattern)
lab_uplinkd_kill
[ -f "$sdir/sysctl.saved" ] || lab_fail "no state file in $sdir after a crash"
[ "$(stat -c %a "$sdir")" = 700 ] || lab_fail "state directory mode $(stat -c %a "$sdir")"
cat >> "$sdir/sysctl.saved" <<EOP
kernel/core_pattern |/tmp/x
net/ipv4/tcp_syncookies 0
net/ipv4/conf/wan1/rp_filter |/tmp/x
EOP
lab_uplinkd_start "$conf"
grep -q "not a key uplinkd manages, ignored (never written): kernel/core_pattern" "$LABDIR/uplinkd.log" ||
	lab_fail "planted core_pattern line not reported"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
[ "$(cat /proc/sys/kernel/core_pattern)" = "$core_before" ] || lab_fail "core_pattern was written!"
[ "$(lab_gw sysctl -n net.ipv4.tcp_syncookies)" = 1 ] || lab_fail "tcp_syncookies was written"
[ "$(lab_gw sysctl -n net.ipv4.conf.wan1.rp_filter)" = "$before_rpf" ] || lab_fail "rp_filter not restored"
[ ! -e "$sdir" ] || lab_fail "state directory left after a clean stop: $(ls -la "$sdir")"
echo "security: ok"
