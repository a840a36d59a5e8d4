#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: a netlink event storm. Thousands of address adds/deletes and link flaps on a spare
# veth in the gateway (bounded ip -batch runs):
#  A. while uplinkd runs: it keeps answering status, and afterwards its state is unchanged;
#  B. while uplinkd is stopped (SIGSTOP), so its event queue overflows for sure (ENOBUFS),
#     with a real change lost in the overflow (wan2's carrier drops at the end of the storm):
#     after SIGCONT it logs the resync, finds the change (isp2 down) and the state is right.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_conf 2 weights=1,1 interval=200 timeout=200 down=3 up=3 > "$conf"
lab_gw ip link add spare0 type veth peer name spare1
lab_gw ip link set spare1 up
lab_gw ip link set spare0 up
lab_up "$conf"
lab_baseline "$LABDIR/owned.before"

# storm_batch ROUNDS: address adds/deletes (each /24: address, prefix and local route
# events) and link flaps on spare0, as an ip batch
storm_batch() {
	local r i
	for ((r = 0; r < $1; r++)); do
		for ((i = 1; i <= 200; i++)); do
			echo "addr add 10.$((100 + r % 100)).$i.1/24 dev spare0"
		done
		for ((i = 1; i <= 200; i++)); do
			echo "addr del 10.$((100 + r % 100)).$i.1/24 dev spare0"
		done
		echo "link set spare0 down"
		echo "link set spare0 up"
	done
}
storm_batch 10 > "$LABDIR/storm.batch"		# 4000 address changes, 10 flaps
n_cmds=$(wc -l < "$LABDIR/storm.batch")

# --- A: storm while the daemon runs; status must keep coming
t0=${EPOCHREALTIME/./}
( for _ in 1 2 3; do ip -n "$LAB-gw" -batch "$LABDIR/storm.batch" || exit 1; done ) &
spid=$!
asked=0 answered=0 worst=0
while kill -0 $spid 2>/dev/null && [ $asked -lt 200 ]; do
	a=${EPOCHREALTIME/./}
	asked=$((asked + 1))
	LAB_CTL_TIMEOUT=3 lab_ctl status >/dev/null 2>&1 && answered=$((answered + 1))
	ms=$(( (${EPOCHREALTIME/./} - a) / 1000 ))
	[ $ms -gt $worst ] && worst=$ms
	sleep 0.05
done
wait $spid || lab_fail "storm A: ip -batch failed"
echo "storm A: $((3 * n_cmds)) commands in $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms;" \
	"status answered $answered of $asked, slowest ${worst} ms"
[ $asked -gt 0 ] && [ $answered = $asked ] || lab_fail "status not answered during the storm"
[ $worst -lt 2000 ] || lab_fail "status took $worst ms during the storm"
sleep 0.5
lab_all_up 5 || lab_fail "links not up after storm A"
lab_owned "$LABDIR/owned.after"
diff "$LABDIR/owned.before" "$LABDIR/owned.after" || lab_fail "storm A changed the state"
lab_no_dups

# --- B: the daemon stopped during the storm: its event queue overflows
kill -STOP "$LAB_UPLINKD_PID"
lab_on_exit 'kill -CONT $LAB_UPLINKD_PID 2>/dev/null'
for _ in 1 2 3 4 5; do ip -n "$LAB-gw" -batch "$LABDIR/storm.batch" || lab_fail "storm B: ip -batch failed"; done
lab_carrier_down 2	# its events are lost in the overflow
kill -CONT "$LAB_UPLINKD_PID"
t0=${EPOCHREALTIME/./}
lab_wait_cmd 5 grep -q "resynchronising" "$LABDIR/uplinkd.log"
grep -q "netlink events lost (ENOBUFS), resynchronising" "$LABDIR/uplinkd.log" ||
	lab_fail "no resync logged after the overflow"
lab_wait_state isp2 down 3 || lab_fail "the carrier loss lost in the overflow was not found"
echo "storm B: overflow, resync logged; isp2 down $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms after SIGCONT"
grep -q "link isp2: up -> down (carrier lost)" "$LABDIR/uplinkd.log" || lab_fail "transition line"
[ "$(lab_link_field isp1 state)" = up ] || lab_fail "isp1 not up after storm B"
lab_gw ip route show table 250 | grep -q wan2 && lab_fail "wan2 in the balance table while down"
lab_carrier_up 2
lab_wait_state isp2 up 10 || lab_fail "isp2 not back"
lab_converge "$LABDIR/owned.before" "$LABDIR/owned.after" || lab_fail "state differs after storm B"
lab_no_dups
lab_traffic_via 1 40 && lab_traffic_via 2 40 || lab_fail "traffic after the storms"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_nlstorm: ok"
