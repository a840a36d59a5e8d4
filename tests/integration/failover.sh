#!/bin/bash
# Failover and failback with interval 200 ms, down_after 3, up_after 3:
#  - silent upstream failure: new connections all succeed again within 2 s;
#  - healing: the link carries traffic again, no connection opened during the outage breaks;
#  - carrier loss: the link is down within 0.5 s;
#  - 20 % random loss on a link for 15 s: no transition (3 targets, quorum 1).
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_conf 2 weights=1,1 interval=200 timeout=200 down=3 up=3 \
	targets=203.0.113.11,203.0.113.12,203.0.113.13 quorum=1 > "$conf"
lab_up "$conf"

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
transitions() {  # link -> its transitions count (status --json, jq); 1 without a count
	local n
	n=$(lab_link_field "$1" transitions) && [[ $n =~ ^[0-9]+$ ]] || return 1
	echo "$n"
}

# --- silent failure of isp1 while new connections keep coming
lab_lan "$TCPSRC" burst 203.0.113.10 5001 7 -i 50 -t 1500 > "$LABDIR/burst.out" &
bpid=$!
sleep 1
t_cut=$(( $(now_ms) ))
lab_cut 1
start_ms=$(( t_cut ))
lab_wait_state isp1 down 5 || lab_fail "isp1 not down after a silent failure"
t_down=$(now_ms)
wait $bpid || lab_fail "the burst failed (exit status $?): $(tail -n 3 "$LABDIR/burst.out")"
# an empty or truncated result would pass every check below: it must have its attempts
attempts=$(grep -c '^attempt ' "$LABDIR/burst.out")
grep -q '^last_fail ' "$LABDIR/burst.out" || lab_fail "the burst's report is incomplete"
[ "$attempts" -ge 35 ] || lab_fail "the burst made only $attempts attempts in 7 s"
# attempts are stamped relative to burst start; burst started ~1 s before the cut
b0=$(( t_cut - 1000 ))
fails_late=$(awk -v cut=1000 '$1 == "attempt" && $3 == "fail" && $2 > cut + 2000' "$LABDIR/burst.out" | wc -l)
last_fail=$(awk '$1 == "attempt" && $3 == "fail" { t = $2 } END { print t + 0 }' "$LABDIR/burst.out")
lab_log "silent failure: down after $((t_down - t_cut)) ms; last failed attempt at ${last_fail} ms (cut at ~1000 ms); $(tail -n 2 "$LABDIR/burst.out" | tr '\n' ' ')"
echo "silent failure: state down $((t_down - t_cut)) ms after the cut"
[ "$fails_late" -eq 0 ] || lab_fail "$fails_late new connections failed more than 2 s after the cut"
grep -q "link isp1: up -> down (3 of 3 rounds failed)" "$LABDIR/uplinkd.log" || lab_fail "transition line missing"

# --- connections opened during the outage survive the failback
lab_lan "$TCPSRC" hold 203.0.113.10 5001 10 6 -f "$LABDIR/hold.ready" > "$LABDIR/hold.out" &
hpid=$!
lab_wait_file "$LABDIR/hold.ready" 5 || lab_fail "hold did not start"
t_heal=$(now_ms)
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1 not back up"
echo "failback: isp1 up $(( $(now_ms) - t_heal )) ms after healing"
wait $hpid || lab_fail "a connection opened during the outage broke at failback: $(cat "$LABDIR/hold.out")"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 100 -p 4)
echo "$out" | grep -q "^192.168.1.2 " || lab_fail "isp1 carries no new connections after failback: $out"
echo "$out" | grep -q "^fail 0$" || lab_fail "connections failed after failback: $out"

# --- carrier loss: down at once
t0=$(now_ms)
lab_carrier_down 2
lab_wait_state isp2 down 5 || lab_fail "isp2 not down after its carrier was lost"
dt=$(( $(now_ms) - t0 ))
echo "carrier loss: isp2 down after $dt ms"
[ "$dt" -le 500 ] || lab_fail "carrier loss took $dt ms (> 500)"
grep -q "link isp2: up -> down (carrier lost)" "$LABDIR/uplinkd.log" || lab_fail "carrier transition line missing"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 20 -t 2000)
echo "$out" | grep -q "^fail 0$" || lab_fail "connections failed with isp2 carrier down: $out"
lab_carrier_up 2
lab_wait_state isp2 up 10 || lab_fail "isp2 not back after carrier returned"

# --- a lossy link does not flap
before=$(transitions isp1) || lab_fail "no transitions count for isp1 in the status"
lab_loss 1 20
sleep 15
lab_loss 1 0
after=$(transitions isp1) || lab_fail "no transitions count for isp1 in the status"
echo "20% loss for 15 s: transitions of isp1 $before -> $after"
[ "$before" = "$after" ] || lab_fail "isp1 flapped under 20% loss ($before -> $after transitions)"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "failover: ok"
