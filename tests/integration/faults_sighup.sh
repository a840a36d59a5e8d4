#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: a SIGHUP storm. 200 SIGHUPs in a burst while the config file alternates between two
# good configs (A: weights 1,1; B: weights 1,3 and a policy rule; each written atomically),
# ending with B. The daemon survives, its final state is exactly what B gives (taken from a
# calm reload to B before the storm), no duplicates, and connections held across the storm
# (tcpsrc hold) survive.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_conf 2 weights=1,1 interval=200 timeout=200 level=info > "$LABDIR/A.conf"
lab_conf 2 weights=1,3 interval=200 timeout=200 level=info \
	extra='rules = ( { name = "to12"; dst = [ "203.0.113.12/32" ]; via = [ "isp2", "isp1" ]; } );' \
	> "$LABDIR/B.conf"
use() { cp "$LABDIR/$1.conf" "$conf.tmp" && mv -f "$conf.tmp" "$conf"; }

# state STEM: what uplinkd owns, with its nftables table (set elements left out)
state() { lab_owned "$LABDIR/$1.owned" --nft; }
# settle_to STEM: wait until the state equals the reference STEM
settle_to() { lab_converge "$LABDIR/$1.owned" "$LABDIR/now.owned" --nft; }
# reload_calm CONF: one SIGHUP and wait until it is logged as done and applied
reload_calm() {
	local n
	n=$(grep -c "reloading" "$LABDIR/uplinkd.log")
	use "$1"
	kill -HUP "$LAB_UPLINKD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c "reloading" "$LABDIR/uplinkd.log")" -gt "$n" ] && break
		sleep 0.05
	done
	sleep 0.5
}

use A
lab_up "$conf"
sleep 0.3
state refA
reload_calm B
state refB
lab_gw ip route show table 250 | grep -q "weight 3" || lab_fail "B not applied by a calm reload"
diff <(sed -n '/# table inet/,$p' "$LABDIR/refA.owned") <(sed -n '/# table inet/,$p' "$LABDIR/refB.owned") >/dev/null &&
	lab_fail "A and B give the same ruleset"
reload_calm A
settle_to refA || lab_fail "back to A: state differs"

lab_lan "$LAB_TCPSRC" hold "$LAB_SERVICE" "$LAB_PORT" 10 6 -f "$LABDIR/hold.ready" > "$LABDIR/hold.out" &
hpid=$!
lab_wait_file "$LABDIR/hold.ready" 5 || lab_fail "hold did not start"
n0=$(grep -c "reloading" "$LABDIR/uplinkd.log")
t0=${EPOCHREALTIME/./}
for i in $(seq 200); do
	[ $((i % 10)) = 0 ] && { [ $((i / 10 % 2)) = 0 ] && use B || use A; }
	kill -HUP "$LAB_UPLINKD_PID" || lab_fail "uplinkd died in the SIGHUP storm (after $i)"
done
use B
kill -HUP "$LAB_UPLINKD_PID" || lab_fail "uplinkd died in the SIGHUP storm"
echo "201 SIGHUPs sent in $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
lab_ctl status >/dev/null || lab_fail "no status after the storm"
sleep 1
n=$(( $(grep -c "reloading" "$LABDIR/uplinkd.log") - n0 ))
refused=$(grep -c "reload refused" "$LABDIR/uplinkd.log")
echo "reloads done: $n (signals coalesce), refused: $refused"
[ "$n" -ge 1 ] || lab_fail "no reload in the storm"
[ "$refused" = 0 ] || lab_fail "a good config was refused"
settle_to refB || lab_fail "the state after the storm is not B's"
lab_no_dups
[ "$(lab_link_field isp1 state)" = up ] && [ "$(lab_link_field isp2 state)" = up ] ||
	lab_fail "links not up after the storm"
[ "$(lab_link_field isp2 weight)" = 3 ] || lab_fail "status weight of isp2 is not B's"
wait $hpid || lab_fail "held connections broke in the SIGHUP storm: $(cat "$LABDIR/hold.out")"
echo "held connections: $(grep -E '^(ok|broken)' "$LABDIR/hold.out" | tr '\n' ' ')"
lab_traffic_via 2 40 || lab_fail "no traffic after the storm"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_sighup: ok"
