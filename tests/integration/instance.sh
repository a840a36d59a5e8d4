#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One uplinkd per network namespace: a second one started while the first runs (same
# control socket, or another one) exits 1 with "uplinkd: already running (pid N)" and
# changes nothing: ip rules, all routing tables, the nftables ruleset, the sysctls, the
# control socket and the state files are byte-identical afterwards, and the first one still
# runs and answers. A uplinkd in another namespace (a second gateway) is not affected, and
# after the first stops (also after kill -9) a new one starts.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2
conf=$LABDIR/uplinkd.conf
lab_conf 2 interval=200 timeout=200 level=info >"$conf"

kstate() {	# kstate FILE: everything a second instance could touch
	{
		lab_snapshot "$1.k"
		cat "$1.k"
		echo "# sysctls"
		lab_gw sysctl net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy \
			net.ipv4.conf.wan1.rp_filter net.ipv4.conf.wan2.rp_filter \
			net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter
		echo "# runtime directory"
		ls -l --time-style=+%s.%N "$LABDIR" | grep -E 'ctl\.sock|sysctl|links\.ids' || true
		for f in "$LABDIR"/links.ids "$LABDIR"/*sysctl*; do
			[ -f "$f" ] && { echo "## $f"; cat "$f"; }
		done
	} >"$1" 2>&1
}

lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"
sleep 0.5
first=$LAB_UPLINKD_PID
kstate "$LABDIR/before"

for sock in "$LABDIR/ctl.sock" "$LABDIR/other.sock"; do
	rc=0
	out=$(timeout 10 ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -c "$conf" -s "$sock" 2>&1) || rc=$?
	echo "second instance (-s $sock): exit $rc: $out"
	[ $rc = 1 ] || lab_fail "second instance exit status $rc, want 1"
	[ "$out" = "uplinkd: already running (pid $first)" ] ||
		lab_fail "second instance said: '$out', want 'uplinkd: already running (pid $first)'"
	[ ! -e "$LABDIR/other.sock" ] || lab_fail "second instance created its socket"
	kstate "$LABDIR/after"
	diff "$LABDIR/before" "$LABDIR/after" || lab_fail "the second instance changed something"
	kill -0 "$first" 2>/dev/null || lab_fail "the first instance is gone"
	lab_ctl status >/dev/null || lab_fail "the first instance does not answer"
done
# many refused starts do not wedge the lock (the first accepts and drops the probes)
for _ in $(seq 40); do
	ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -c "$conf" -s "$LABDIR/other.sock" 2>/dev/null && \
		lab_fail "a second instance started"
done
out=$(ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -c "$conf" 2>&1) || true
[ "$out" = "uplinkd: already running (pid $first)" ] || lab_fail "after 40 refusals: '$out'"
# -t and -n need no lock
ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -t -c "$conf" >/dev/null || lab_fail "-t refused"
ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -n -c "$conf" -s "$LABDIR/ctl.sock" >/dev/null ||
	lab_fail "-n refused"
lab_traffic_via 1 20 && lab_traffic_via 2 20 || lab_fail "traffic after the refused starts"

# another namespace has its own lock: an instance there starts (and touches only its own)
ip netns add "$LAB-gw2" || lab_fail "netns gw2"
lab_on_exit "ip netns del $LAB-gw2 2>/dev/null"
ip -n "$LAB-gw2" link set lo up
ip netns exec "$LAB-gw2" "$UL_BUILD/uplinkd" -c "$conf" -s "$LABDIR/gw2.sock" \
	>"$LABDIR/gw2.log" 2>&1 &
gw2=$!
lab_wait_file "$LABDIR/gw2.sock" 10 || lab_fail "uplinkd in another namespace did not start: $(cat "$LABDIR/gw2.log")"
kill -0 "$gw2" || lab_fail "uplinkd in another namespace exited: $(cat "$LABDIR/gw2.log")"
kill -TERM "$gw2"
wait "$gw2" || lab_fail "uplinkd in gw2 exit status $?"

# after kill -9 the lock is gone with the process: a new instance starts
lab_uplinkd_kill KILL
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up after kill -9 + restart"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "instance: ok"
