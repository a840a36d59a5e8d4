#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Link quality by loss, end to end, with the lab's delay line (interval 200 ms, timeout
# 500 ms, max_loss_pct = 20, 3 targets, quorum 1):
#  - 30 % loss on isp1 makes it degraded (not down), and it stays degraded while the loss
#    lasts: no new connections on it, status shows the loss;
#  - without the loss it is up again only after the recovery margin;
#  - 20 % loss, right at the limit, for 20 s: at most the documented 9 transitions.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
command -v iptables >/dev/null || { echo "SKIP: iptables missing (make deps)"; exit 77; }
lab_create 2 --bcp38
lab_translog_hook
conf=$LABDIR/uplinkd.conf
lab_conf 2 weights=1,1 interval=200 timeout=500 down=3 up=3 quorum=1 \
	targets=203.0.113.11,203.0.113.12,203.0.113.13 check_extra='max_loss_pct = 20;' \
	daemon_extra="hook = \"$LAB_TRANSLOG_HOOK\";" >"$conf"
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"

now_us() { echo "${EPOCHREALTIME/./}"; }
fcmp() { awk "BEGIN { exit !($1) }"; }
field() { lab_link_field "$1" "$2"; }

sleep 2.5	# a full quality window (10 rounds) first
loss=$(field isp1 loss_pct)
lab_assert "isp1 up without loss ($loss%)" fcmp "${loss:--1} == 0"

# --- 30 % loss: degraded, and it stays so ----------------------------------------------------
t0=$(now_us)
lab_delay 1 0 0 30
t_deg=$(lab_wait_transition isp1 up '*' 20 "$t0") || lab_fail "isp1 not degraded with 30% loss"
dt=$(( (t_deg - t0) / 1000 ))
lab_log "isp1 changed $dt ms after 30% loss: $(lab_transitions isp1 "$t0")"
echo "loss: 30% -> degraded after $dt ms"
lab_assert "30% loss: isp1 degraded, not down" \
	'[ "$(lab_transitions isp1 "$t0" | awk "NR == 1 { print \$4 }")" = degraded ]'
lab_assert "the log says why" 'grep -Eq "link isp1: up -> degraded \(loss [0-9]+% > 20%\)" "$LABDIR/uplinkd.log"'
json=$(lab_ctl status --json)
loss=$(lab_json_link_field "$json" isp1 loss_pct)
lab_assert "JSON: isp1 loss_pct above the limit ($loss%), not active" \
	'fcmp "$loss > 20 && $loss <= 70" && [ "$(lab_json_link_field "$json" isp1 active)" = false ]'
r=$(lab_ctl status | awk '$1 == "isp1"')
lab_log "status: $r"
lab_assert "text status: isp1 degraded with its loss" \
	'grep -Eq "^isp1 +wan1 +degraded .* [0-9.]+ms +[2-7][0-9](\.[0-9])?% " <<<"$r"'
out=$(lab_lan tcpsrc count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 3000)
lab_assert "while isp1 is degraded, 40 new connections all by isp2" \
	'grep -qx "192.168.2.2 40" <<<"$out" && grep -qx "fail 0" <<<"$out"'
samples=()
for _ in $(seq 20); do
	samples+=("$(field isp1 loss_pct)")
	sleep 0.4
done
lab_log "loss_pct seen under 30% loss: ${samples[*]}"
lab_assert "status follows the loss (${samples[*]})" \
	'printf "%s\n" "${samples[@]}" | awk "\$1 >= 5 && \$1 <= 70 { n++ } END { exit !(n == 20) }" &&
	 [ "$(printf "%s\n" "${samples[@]}" | sort -u | wc -l)" -ge 2 ]'
lab_assert "30% loss for ~10 s: isp1 stays degraded (one transition: $(lab_transitions isp1 "$t0" | wc -l))" \
	[ "$(lab_transitions isp1 "$t0" | wc -l)" = 1 ]

# --- loss gone: up after the margin ----------------------------------------------------------
t1=$(now_us)
lab_undelay 1
t_up=$(lab_wait_transition isp1 degraded up 30 "$t1") || lab_fail "isp1 not up 30 s after the loss went"
dt=$(( (t_up - t1) / 1000 ))
echo "loss: gone -> up after $dt ms"
lab_assert "not up before ~10 rounds in the margin ($dt ms >= 1500)" [ "$dt" -ge 1500 ]
lab_assert "up within 20 s ($dt ms)" [ "$dt" -le 20000 ]
lab_assert "the log says why" \
	'grep -q "link isp1: degraded -> up (quality within the margin for 10 rounds)" "$LABDIR/uplinkd.log"'
loss=$(field isp1 loss_pct)
lab_assert "isp1 loss back within the margin ($loss%)" fcmp "$loss <= 10"
lab_assert "isp1 carries new connections again" lab_traffic_via 1 40

# --- 20 % loss, right at the limit: no flapping ---------------------------------------------
sleep 2	# the window clean again
t2=$(now_us)
lab_delay 1 0 0 20
sleep 20
n=$(lab_transitions isp1 "$t2" | wc -l)
lab_log "20% loss for 20 s: $n transition(s): $(lab_transitions isp1 "$t2" | awk '{ print $3 ">" $4 }' | tr '\n' ' ')"
echo "loss: 20% (at the limit) for 20 s -> $n transition(s)"
lab_assert "20% loss at the limit for 20 s: at most 9 transitions ($n)" [ "$n" -le 9 ]
lab_assert "... and never down" '! lab_transitions isp1 "$t2" | grep -q " down "'
lab_undelay 1

lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "quality_loss: ok"
