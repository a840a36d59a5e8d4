#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Link quality by RTT, end to end, with the lab's delay line (interval 200 ms, timeout
# 1000 ms, max_rtt_ms = 100, 3 targets):
#  - +150 ms on isp1 makes it degraded within the documented 7 rounds (not before 6);
#  - while degraded it carries no new connections (isp2 does) and keeps its established ones;
#  - status (JSON and text) shows the RTT rising and falling;
#  - without the delay it is up again only after the recovery margin (10 rounds in it);
#  - +1500 ms, beyond the probe timeout: isp1 is down, never degraded, and stays down.
. "$(dirname "$0")/../lab/lab.sh"
lab_quality_up 1000 'max_rtt_ms = 100;'

# wait_rtt LINK 'OP VALUE' TIMEOUT_S: until the link's rtt_ms satisfies it
wait_rtt() {
	local end=$(( $(lab_now_us) + $3 * 1000000 )) r
	while :; do
		r=$(lab_link_field "$1" rtt_ms) && lab_fcmp "$r $2" && return 0
		[ "$(lab_now_us)" -ge $end ] && return 1
		sleep 0.1
	done
}
# transition_ms FROM TO SECS T0 CAUSE WHY: waits up to SECS for isp1's FROM -> TO transition
# after T0 (us); sets dt to the ms since T0, logs and prints it; the test fails (WHY) if none
# came
transition_ms() {
	local t
	t=$(lab_wait_transition isp1 "$1" "$2" "$3" "$4") || lab_fail "$6"
	dt=$(( (t - $4) / 1000 ))
	lab_log "isp1 $2 $dt ms after $5"
	echo "rtt: $5 -> $2 after $dt ms"
}
# row LINK: the link's row of the text status
row() { lab_ctl status | awk -v l="$1" '$1 == l'; }

sleep 2.5	# a full quality window (10 rounds) before the delay
rtt=$(lab_link_field isp1 rtt_ms)
lab_assert "isp1 up and fast before the delay (rtt $rtt ms)" \
	lab_fcmp "${rtt:--1} >= 0 && ${rtt:--1} < 20"

# --- +150 ms: degraded ----------------------------------------------------------------------
lab_hold 10 "$LAB_SERVICE" "$LAB_PORT" 12 8 -i 200 -t 3000
hold=$LAB_BG_PID
t0=$(lab_now_us)
lab_delay 1 150
transition_ms up degraded 15 "$t0" "+150 ms" \
	"isp1 not degraded with +150 ms"	# 7 rounds of 200 ms = 1400 ms
lab_assert "degraded not before 6 rounds: the limit is on the 10-round average ($dt ms)" \
	[ "$dt" -ge 1000 ]
lab_assert "degraded within 7 rounds, with slack for a loaded machine ($dt ms <= 10000)" \
	[ "$dt" -le 10000 ]
lab_assert "the log says why" 'grep -Eq "link isp1: up -> degraded \(rtt [0-9.]+ ms > 100 ms\)" "$LABDIR/uplinkd.log"'
json=$(lab_ctl status --json)
lab_assert "JSON: isp1 degraded and not active" \
	'[ "$(lab_json_link_field "$json" isp1 state)" = degraded ] &&
	 [ "$(lab_json_link_field "$json" isp1 active)" = false ]'
lab_assert "JSON: isp2 up and active" \
	'[ "$(lab_json_link_field "$json" isp2 state)" = up ] &&
	 [ "$(lab_json_link_field "$json" isp2 active)" = true ]'
out=$(lab_lan tcpsrc count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 3000)
lab_assert "while isp1 is degraded, 40 new connections all by isp2" \
	'grep -qx "192.168.2.2 40" <<<"$out" && grep -qx "fail 0" <<<"$out"'
wait_rtt isp1 ">= 140" 10 || lab_fail "isp1's rtt_ms did not reach 140: $(lab_ctl status --json)"
rtt=$(lab_link_field isp1 rtt_ms)
lab_assert "JSON: isp1 rtt_ms shows the delay ($rtt ms)" lab_fcmp "$rtt >= 140 && $rtt < 400"
r=$(row isp1)
lab_log "status: $r"
lab_assert "text status: isp1 degraded, its RTT ~150 ms, not active" \
	'grep -Eq "^isp1 +wan1 +degraded .* 1[4-9][0-9]\.[0-9]ms .* no *$" <<<"$r"'
rc=0
wait "$hold" || rc=$?
lab_log "hold: $(tr '\n' ' ' <"$LABDIR/hold.out")"
lab_assert "established connections on isp1 were there" 'grep -Eq "^seen 192.168.1.2 [1-9]" "$LABDIR/hold.out"'
lab_assert "established connections on isp1 kept working while it was degraded" \
	'[ $rc = 0 ] && grep -qx "broken 0" "$LABDIR/hold.out"'

# --- delay gone: up again after the recovery margin ----------------------------------------
t1=$(lab_now_us)
lab_undelay 1
samples=()
while :; do
	cur=$(lab_link_field isp1 rtt_ms) && samples+=("$cur")
	[ "$(lab_transitions isp1 "$t1" | awk '$4 == "up"' | wc -l)" -gt 0 ] && break
	[ $(( $(lab_now_us) - t1 )) -gt 30000000 ] && break
	sleep 0.1
done
transition_ms degraded up 1 "$t1" "delay gone" \
	"isp1 not up 30 s after the delay went"	# the loop above waited up to 30 s
lab_log "rtt_ms seen: ${samples[*]}"
lab_assert "not up before ~14 rounds: average into the margin, then 10 rounds in it ($dt ms >= 2000)" \
	[ "$dt" -ge 2000 ]
lab_assert "up within 20 s ($dt ms)" [ "$dt" -le 20000 ]
lab_assert "the log says why" \
	'grep -q "link isp1: degraded -> up (quality within the margin for 10 rounds)" "$LABDIR/uplinkd.log"'
lab_assert "status showed the RTT falling through the margin (${samples[*]})" \
	'printf "%s\n" "${samples[@]}" | awk "\$1 > 20 && \$1 < 130 { n++ } END { exit !(n >= 1) }"'
rtt=$(lab_link_field isp1 rtt_ms)
lab_assert "isp1 rtt back within the margin ($rtt ms)" lab_fcmp "$rtt < 80"
lab_assert "isp1 carries new connections again" lab_traffic_via 1 40
lab_assert "no other isp1 transition than up -> degraded -> up" \
	[ "$(lab_transitions isp1 "$t0" | awk '{ print $3 ">" $4 }' | tr '\n' ' ')" = "up>degraded degraded>up " ]

# --- latency beyond the probe timeout: down, not degraded -----------------------------------
t2=$(lab_now_us)
lab_delay 1 1500
t_down=$(lab_wait_transition isp1 up '*' 15 "$t2") || lab_fail "isp1 did not change with +1500 ms"
lab_assert "+1500 ms > timeout_ms 1000: isp1 goes down, not degraded ($(lab_transitions isp1 "$t2"))" \
	'[ "$(lab_transitions isp1 "$t2" | awk "NR == 1 { print \$4 }")" = down ]'
lab_log "isp1 down $(( (t_down - t2) / 1000 )) ms after +1500 ms"
lab_assert "the log says: rounds failed" 'grep -q "link isp1: up -> down (3 of 3 rounds failed)" "$LABDIR/uplinkd.log"'
sleep 3
json=$(lab_ctl status --json)
loss=$(lab_json_link_field "$json" isp1 loss_pct)
lab_assert "late answers do not bring it back: still down 3 s later, loss ${loss}%" \
	'[ "$(lab_json_link_field "$json" isp1 state)" = down ] && lab_fcmp "$loss >= 50"'
lab_assert "only the one transition" [ "$(lab_transitions isp1 "$t2" | wc -l)" = 1 ]
out=$(lab_lan tcpsrc count "$LAB_SERVICE" "$LAB_PORT" 20 -p 4 -t 3000)
lab_assert "isp1 down: new connections by isp2" \
	'grep -qx "192.168.2.2 20" <<<"$out" && grep -qx "fail 0" <<<"$out"'
lab_undelay 1
lab_wait_state isp1 up 15 || lab_fail "isp1 not back up after the delay went"

lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "quality_rtt: ok"
