#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No flapping around max_rtt_ms: isp1's RTT jitters across the limit (max_rtt_ms = 100,
# interval 200 ms) for 60 s: the delay line draws 83 +- 60 ms per packet, and as the three
# probes of a round leave in the order they came (each waits for the one before), a round
# averages about 100 ms, the worst case. The rounds really cross the limit both ways, and isp1 changes between up and degraded at most the 9 times in 300 rounds
# that uplinkd.conf(5) documents, never goes down, and isp2 never moves.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
command -v iptables >/dev/null || { echo "SKIP: iptables missing (make deps)"; exit 77; }
JITTER_S=${UL_JITTER_S:-60}
lab_create 2 --bcp38
lab_translog_hook
conf=$LABDIR/uplinkd.conf
lab_conf 2 weights=1,1 interval=200 timeout=1000 down=3 up=3 quorum=1 \
	targets=203.0.113.11,203.0.113.12,203.0.113.13 check_extra='max_rtt_ms = 100;' \
	daemon_extra="hook = \"$LAB_TRANSLOG_HOOK\";" >"$conf"
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"
now_us() { echo "${EPOCHREALTIME/./}"; }
sleep 2.5	# a full quality window first

t0=$(now_us)
log0=$(wc -l <"$LABDIR/uplinkd.log")
lab_delay 1 83 60
sleep "$JITTER_S"
t1=$(now_us)
# the rounds isp1 had meanwhile, from the daemon's debug log
rounds=$(tail -n +"$log0" "$LABDIR/uplinkd.log" |
	sed -n 's/^<7>link isp1: round [0-9]*\/[0-9]* answered, rtt \([0-9.]*\) ms$/\1/p')
n_rounds=$(wc -l <<<"$rounds")
above=$(awk '$1 > 100' <<<"$rounds" | wc -l)
below=$(awk '$1 <= 100' <<<"$rounds" | wc -l)
n=$(lab_transitions isp1 "$t0" "$t1" | wc -l)
seq=$(lab_transitions isp1 "$t0" "$t1" | awk '{ print $3 ">" $4 }' | tr '\n' ' ')
lab_log "jitter ${JITTER_S} s: $n_rounds rounds, $above above 100 ms, $below at or below; $n transition(s): $seq"
echo "jitter: 83 +- 60 ms per packet for ${JITTER_S} s, $n_rounds rounds ($above above the limit): $n transition(s)"
lab_assert "the rounds cross the limit both ways ($above above, $below below)" \
	'[ "$above" -ge $((n_rounds / 4)) ] && [ "$below" -ge $((n_rounds / 4)) ]'
lab_assert "at most 9 up/degraded transitions in ${JITTER_S} s (<= 300 rounds): $n" [ "$n" -le 9 ]
lab_assert "isp1 never down" '[ -z "$(lab_transitions isp1 "$t0" "$t1" | awk "\$4 == \"down\"")" ]'
lab_assert "isp2 never moved" [ "$(lab_transitions isp2 "$t0" | wc -l)" = 0 ]
lab_undelay 1
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "quality_jitter: ok"
