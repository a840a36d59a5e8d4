#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: kill -9 at random points, then restart; N rounds (default 20). Each round starts
# uplinkd with one of three configs (weights 1,1 / 1,3 / 2,1), checks that the state
# converged to exactly that config's (rules, link and balance tables, one table inet
# uplinkd, no duplicates; references taken from clean starts at the beginning), then
# triggers a change (cut/heal of isp1, carrier loss of wan2, a reload with other weights,
# or nothing: a kill during start-up) and kills uplinkd with SIGKILL 0-300 ms later.
# At the end a clean SIGTERM must leave ip rule, ip route show table all and nft list
# ruleset exactly as before the first start, and the sysctls restored.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
N=${FAULTS_KILL_ROUNDS:-20}
seed=${FAULTS_SEED:-$$}
RANDOM=$seed
echo "kill -9 rounds: $N, seed $seed"
W=(1,1 1,3 2,1)
for c in 0 1 2; do
	lab_conf 2 weights="${W[$c]}" interval=200 timeout=200 down=3 up=3 level=info > "$LABDIR/c$c.conf"
done
mkconf() { cp "$LABDIR/c$1.conf" "$conf.tmp" && mv -f "$conf.tmp" "$conf"; }
sysctls() {
	lab_gw sysctl -n net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy \
		net.ipv4.conf.wan1.rp_filter net.ipv4.conf.wan2.rp_filter | tr '\n' ' '
}
state() { lab_owned "$LABDIR/$1.owned" --nft; }
converged() { lab_converge "$LABDIR/$1.owned" "$LABDIR/now.owned" --nft; }	# to REF's state
# start uplinkd without waiting for it (a kill may come during its start-up)
start_nowait() {
	rm -f "$LABDIR/ctl.sock"
	echo "=== $(date '+%T') uplinkd (no wait)" >> "$LABDIR/uplinkd.log"
	ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -c "$conf" -s "$LABDIR/ctl.sock" \
		>>"$LABDIR/uplinkd.log" 2>&1 &
	LAB_UPLINKD_PID=$!
}

lab_snapshot "$LABDIR/before"
sys_before=$(sysctls)

# references: each config from a clean start, and a clean stop leaves nothing
for c in 0 1 2; do
	mkconf $c
	lab_uplinkd_start "$conf"
	lab_all_up 10 || lab_fail "links not up (config $c)"
	sleep 0.3
	state "ref$c"
	lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
	lab_snapshot "$LABDIR/after"
	diff "$LABDIR/before" "$LABDIR/after" || lab_fail "clean stop (config $c) left something"
done

t0=${EPOCHREALTIME/./}
cur=0
for ((r = 1; r <= N; r++)); do
	cur=$((RANDOM % 3))
	mkconf $cur
	what=$((RANDOM % 5))
	# half of the kills within 30 ms (where the reconcile after a change runs), half 0-300 ms
	if [ $((RANDOM % 2)) = 0 ]; then delay=$((RANDOM % 31)); else delay=$((RANDOM % 301)); fi
	if [ $what = 4 ]; then
		# a kill during start-up (adoption of the crashed state, first reconcile)
		start_nowait
		sleep "$(printf '0.%03d' "$delay")"
		lab_uplinkd_kill KILL
		lab_log "round $r: config ${W[$cur]}, killed ${delay} ms after its start"
		mkconf $cur
		lab_uplinkd_start "$conf"
	else
		lab_uplinkd_start "$conf"
	fi
	lab_all_up 10 || lab_fail "round $r: links not up"
	converged "ref$cur" || lab_fail "round $r: state did not converge to config ${W[$cur]}"
	lab_no_dups
	case $what in
	0) lab_cut 1; desc="isp1 cut" ;;
	1) lab_carrier_down 2; desc="wan2 carrier down" ;;
	2|3) nxt=$(( (cur + 1 + RANDOM % 2) % 3 )); mkconf $nxt; kill -HUP "$LAB_UPLINKD_PID"
	     desc="reload ${W[$cur]} -> ${W[$nxt]}"; cur=$nxt ;;
	4) desc="idle" ;;
	esac
	[ $what = 0 ] && sleep 0.6	# isp1's 3 failed rounds: the kill comes around its reconcile
	sleep "$(printf '0.%03d' "$delay")"
	lab_uplinkd_kill KILL
	lab_log "round $r: $desc, kill -9 after ${delay} ms"
	[ $what = 0 ] && lab_heal 1
	[ $what = 1 ] && lab_carrier_up 2
done
echo "$N rounds in $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"

# a last start converges, then SIGTERM leaves everything as it was
mkconf $cur
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up at the end"
converged "ref$cur" || lab_fail "final state did not converge to config ${W[$cur]}"
lab_no_dups
lab_traffic_via 1 40 && lab_traffic_via 2 40 || lab_fail "no traffic at the end"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_snapshot "$LABDIR/after"
diff "$LABDIR/before" "$LABDIR/after" || lab_fail "kernel state after SIGTERM differs from before the first start"
[ "$(sysctls)" = "$sys_before" ] || lab_fail "sysctls not restored: $(sysctls), before: $sys_before"
lab_san_check
echo "faults_kill9: ok"
