#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: a WAN interface deleted and re-created (veth wan1 <-> c1, same names and addresses,
# a new ifindex). The link goes down at once ("interface removed"), its rules and routes go;
# after re-creation it comes back up, everything is reinstalled exactly as before (no
# leftovers, no duplicates) and new connections use it again. Twice, to catch state kept
# from the first round; then once more within a few milliseconds (one ip batch).
. "$(dirname "$0")/../lab/lab.sh"
lab_fault_start

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
for round in 1 2; do
	idx_old=$(lab_gw cat /sys/class/net/wan1/ifindex)
	t0=$(now_ms)
	lab_wan_del 1
	lab_wait_state isp1 down 2 || lab_fail "round $round: isp1 not down after wan1 was deleted"
	echo "round $round: isp1 down $(( $(now_ms) - t0 )) ms after wan1 was deleted"
	[ "$(grep -c 'link isp1: up -> down (interface removed)' "$LABDIR/uplinkd.log")" = "$round" ] ||
		lab_fail "round $round: no 'interface removed' transition line"
	sleep 0.3
	lab_gw ip rule | grep -q "from 192.168.1.2 lookup 201" && lab_fail "from-rule of isp1 stays"
	lab_gw ip rule | grep -q "lookup 201" && lab_fail "a rule to table 201 stays"
	[ -z "$(lab_gw ip route show table 201)" ] || lab_fail "table 201 not empty: $(lab_gw ip route show table 201)"
	lab_gw ip route show table 250 | grep -q wan1 && lab_fail "wan1 stays in the balance table"
	lab_gw ip route show table 250 | grep -q "via 192.168.2.1 dev wan2" ||
		lab_fail "balance table without wan2: $(lab_gw ip route show table 250)"
	[ "$(lab_link_field isp1 carrier)" = false ] || lab_fail "status: isp1 carrier not false"
	lab_no_dups
	out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 20 -p 4 -t 2000)
	echo "$out" | grep -q "^fail 0$" || lab_fail "traffic without wan1 failed: $out"

	t0=$(now_ms)
	lab_wan_add 1
	idx_new=$(lab_gw cat /sys/class/net/wan1/ifindex)
	[ "$idx_new" != "$idx_old" ] || lab_fail "the re-created wan1 kept ifindex $idx_old"
	lab_wait_state isp1 up 10 || lab_fail "round $round: isp1 not up after wan1 came back"
	echo "round $round: isp1 up $(( $(now_ms) - t0 )) ms after wan1 was re-created (ifindex $idx_old -> $idx_new)"
	for _ in $(seq 30); do
		lab_owned "$LABDIR/owned.after"
		cmp -s "$LABDIR/owned.before" "$LABDIR/owned.after" && break
		sleep 0.1
	done
	diff "$LABDIR/owned.before" "$LABDIR/owned.after" ||
		lab_fail "round $round: rules/routes differ from before the deletion"
	lab_no_dups
	lab_traffic_via 1 40 || lab_fail "round $round: isp1 carries no new connections after re-creation"
	[ "$(lab_link_field isp1 active)" = true ] || lab_fail "isp1 not active"
done
# 3. deleted and re-created within a few milliseconds (one ip batch): the daemon may never
# see wan1 gone, only its new ifindex; the probes must not stay on the old device
idx_old=$(lab_gw cat /sys/class/net/wan1/ifindex)
n0=$(grep -c "link isp1: .* -> up" "$LABDIR/uplinkd.log")
ip -n "$LAB-gw" -batch - <<EOB || lab_fail "quick re-creation failed"
link del wan1
link add wan1 type veth peer name c1 netns $LAB-isp1
addr add 192.168.1.2/24 dev wan1
link set wan1 up
route add default via 192.168.1.1 dev wan1
EOB
ip -n "$LAB-isp1" -batch - <<EOB || lab_fail "quick re-creation (ISP side) failed"
addr add 192.168.1.1/24 dev c1
link set c1 up
EOB
idx_new=$(lab_gw cat /sys/class/net/wan1/ifindex)
lab_log "quick re-creation: ifindex $idx_old -> $idx_new"
sleep 1.5	# longer than down_after rounds: stale probes would have taken it down by now
lab_wait_state isp1 up 10 || lab_fail "isp1 not up after a quick re-creation of wan1"
lab_converge "$LABDIR/owned.before" "$LABDIR/owned.after" || lab_fail "quick re-creation: state differs"
lab_no_dups
lab_traffic_via 1 40 || lab_fail "isp1 carries nothing after a quick re-creation"
sleep 1
[ "$(lab_link_field isp1 state)" = up ] || lab_fail "isp1 fell after a quick re-creation"
echo "quick re-creation (ifindex $idx_old -> $idx_new): isp1 up, state as before"

lab_ctl status >/dev/null || lab_fail "daemon does not answer"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_iface: ok"
