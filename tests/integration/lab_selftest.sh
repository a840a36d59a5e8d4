#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab itself, without uplinkd: topology, the failure knobs (cut, loss, carrier), BCP38,
# the tcpsrc modes, the JSON helper, and a cleanup that leaves no namespace behind.
set -euo pipefail
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
lab_create 2 --bcp38

S=$LAB_SERVICE
P=$LAB_PORT

has_line() {	# has_line TEXT LINE: LINE is one of the lines of TEXT (trailing blanks ignored)
	sed 's/[[:space:]]*$//' <<<"$1" | grep -qxF -- "$2"
}

# --- topology -------------------------------------------------------------------------------
lab_assert "gateway ip_forward is 0" [ "$(lab_gw cat /proc/sys/net/ipv4/ip_forward)" = 0 ]
lab_assert "isp1 ip_forward is 1" [ "$(lab_isp 1 cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
main=$(lab_gw ip -4 route show table main)
lab_assert "gateway main table has the DHCP default via wan1" \
	has_line "$main" "default via 192.168.1.1 dev wan1"
lab_assert "gateway main table has exactly one default route" \
	[ "$(grep -c '^default' <<<"$main")" = 1 ]
lab_assert "the Internet host has no default route" \
	[ -z "$(lab_net ip -4 route show default)" ]
lab_assert "the LAN host has both LAN addresses" \
	'lab_lan ip -4 addr show dev lan0 | grep -q "10.0.1.2/24"'
lab_assert "IPv6 is off in the gateway (stable snapshots)" [ -z "$(lab_gw ip -6 addr show)" ]

# LAN host -> gateway (a throw-away server on the gateway)
lab_bg gw tcpsrc serve 0.0.0.0 5002 2>/dev/null
lab_wait_cmd 5 sh -c "ip netns exec $LAB-gw ss -Hltn 'sport = 5002' | grep -q ." ||
	lab_fail "server on the gateway did not start"
out=$(lab_lan tcpsrc count 10.0.0.1 5002 3 -t 2000)
lab_assert "LAN host reaches the gateway from 10.0.0.2" has_line "$out" "10.0.0.2 3"
out=$(lab_lan tcpsrc count 10.0.1.1 5002 3 -t 2000 -s 10.0.1.2)
lab_assert "LAN host reaches the gateway from 10.0.1.2" has_line "$out" "10.0.1.2 3"
out=$(lab_lan tcpsrc count "$S" "$P" 2 -t 500)
lab_assert "without uplinkd the LAN does not reach the Internet (ip_forward 0)" \
	has_line "$out" "fail 2"

# --- gateway -> Internet via the DHCP default ------------------------------------------------
out=$(lab_gw tcpsrc count "$S" "$P" 10 -t 2000)
lab_assert "gateway reaches $S via isp1 (10 of 10)" has_line "$out" "192.168.1.2 10"
lab_assert "no failed connection" has_line "$out" "fail 0"
out=$(lab_gw tcpsrc count 203.0.113.19 "$P" 20 -t 2000 -p 5)
lab_assert "20 parallel connections to 203.0.113.19" has_line "$out" "192.168.1.2 20"

# --- cut / heal ----------------------------------------------------------------------------
lab_cut 1
t0=${EPOCHREALTIME/./}
out=$(lab_gw tcpsrc count "$S" "$P" 3 -t 500)
dt=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
lab_assert "isp1 cut: all 3 connections fail" has_line "$out" "fail 3"
lab_assert "isp1 cut: the failures were bounded by the timeout ($dt ms)" [ "$dt" -lt 3000 ]
lab_assert "isp1 cut: carrier of wan1 still up" 'lab_gw ip link show wan1 | grep -q LOWER_UP'
lab_heal 1
out=$(lab_gw tcpsrc count "$S" "$P" 3 -t 2000)
lab_assert "isp1 healed: connections work again" has_line "$out" "192.168.1.2 3"

# hold: long-lived connections break when the link is cut under them
rdy=$LABDIR/hold.ready
lab_gw tcpsrc hold "$S" "$P" 5 3 -i 100 -t 1000 -f "$rdy" >"$LABDIR/hold.out" 2>/dev/null &
hold_pid=$!
lab_wait_file "$rdy" 10 || lab_fail "tcpsrc hold did not get ready"
lab_cut 1
rc=0
wait "$hold_pid" || rc=$?
lab_heal 1
out=$(cat "$LABDIR/hold.out")
lab_assert "hold across a cut exits 1" [ "$rc" = 1 ]
lab_assert "hold saw 5 connections via isp1" has_line "$out" "seen 192.168.1.2 5"
lab_assert "hold: all 5 broken" has_line "$out" "broken 5"
lab_assert "hold: all lost on 192.168.1.2" has_line "$out" "lost 192.168.1.2 5"

# hold without trouble
out=$(lab_gw tcpsrc hold "$S" "$P" 5 1 -i 100 -t 1000) ||
	lab_fail "hold on a healthy link failed: $out"
lab_assert "hold on a healthy link: ok 5" has_line "$out" "ok 5"

# hold ended early by SIGTERM still reports (lab_bg gives the real PID)
lab_bg gw tcpsrc hold "$S" "$P" 3 60 -f "$LABDIR/hold2.ready" >"$LABDIR/hold2.out" 2>&1
hold_pid=$LAB_BG_PID
lab_wait_file "$LABDIR/hold2.ready" 10 || lab_fail "tcpsrc hold did not get ready"
kill -TERM "$hold_pid"
rc=0
wait "$hold_pid" || rc=$?
out=$(cat "$LABDIR/hold2.out")
lab_assert "hold stopped by SIGTERM exits 0 and reports" '[ $rc = 0 ] && has_line "$out" "ok 3"'

# burst: an outage of about one second in the middle
lab_gw tcpsrc burst "$S" "$P" 3 -i 100 -t 400 >"$LABDIR/burst.out" 2>/dev/null &
burst_pid=$!
sleep 1
lab_cut 1
sleep 1
lab_heal 1
wait "$burst_pid" || lab_fail "tcpsrc burst failed"
out=$(cat "$LABDIR/burst.out")
okn=$(sed -n 's/^ok //p' <<<"$out")
failn=$(sed -n 's/^fail //p' <<<"$out")
lab_log "burst: ok $okn fail $failn, $(grep -E '^(first|last)_fail' <<<"$out" | tr '\n' ' ')"
lab_assert "burst: about 30 attempts" '[ $((okn + failn)) -ge 25 ] && [ $((okn + failn)) -le 31 ]'
lab_assert "burst: the outage was seen" [ "$failn" -ge 5 ]
lab_assert "burst: connections before and after it worked" [ "$okn" -ge 10 ]
lab_assert "burst: the last attempt succeeded" \
	'grep "^attempt " <<<"$out" | tail -n 1 | grep -q " ok 192.168.1.2$"'

# --- loss ----------------------------------------------------------------------------------
lab_loss 1 100
out=$(lab_gw tcpsrc count "$S" "$P" 3 -t 500)
lab_assert "100 % loss: all fail" has_line "$out" "fail 3"
lab_loss 1 50
out=$(lab_gw tcpsrc count "$S" "$P" 40 -t 700 -p 10)
f=$(sed -n 's/^fail //p' <<<"$out")
lab_log "50 % loss: $f of 40 failed"
lab_assert "50 % loss: some but not all fail" '[ "$f" -gt 0 ] && [ "$f" -lt 40 ]'
lab_loss 1 0
out=$(lab_gw tcpsrc count "$S" "$P" 5 -t 2000)
lab_assert "loss removed: all work" has_line "$out" "192.168.1.2 5"
lab_assert "no rule left in labctl" \
	'[ -z "$(lab_isp 1 nft list chain inet labctl loss | grep drop)" ]'

# --- source routing via isp2 -----------------------------------------------------------------
lab_gw ip rule add from 192.168.2.2 lookup 100 pref 100
lab_gw ip route add default via 192.168.2.1 dev wan2 table 100
out=$(lab_gw tcpsrc count "$S" "$P" 5 -t 2000 -s 192.168.2.2)
lab_assert "from 192.168.2.2 via isp2 works" has_line "$out" "192.168.2.2 5"
lab_gw ip rule del pref 100
lab_gw ip route flush table 100

# --- BCP38: 192.168.2.2 must not leave through isp1 ------------------------------------------
before=$(lab_isp 1 nft list table inet lab | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
lab_gw ip rule add from 192.168.2.2 lookup 101 pref 101
lab_gw ip route add default via 192.168.1.1 dev wan1 table 101
out=$(lab_gw tcpsrc count "$S" "$P" 3 -t 500 -s 192.168.2.2)
after=$(lab_isp 1 nft list table inet lab | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
lab_gw ip rule del pref 101
lab_gw ip route flush table 101
lab_assert "BCP38: spoofed source via isp1 fails" has_line "$out" "fail 3"
lab_assert "BCP38: isp1's drop counter moved ($before -> $after)" [ "$after" -gt "$before" ]
out=$(lab_gw tcpsrc count "$S" "$P" 2 -t 2000)
lab_assert "normal traffic via isp1 unaffected" has_line "$out" "192.168.1.2 2"

# --- carrier --------------------------------------------------------------------------------
lab_carrier_down 1
link=$(lab_gw ip link show wan1)
lab_assert "carrier down: wan1 shows NO-CARRIER" grep -q NO-CARRIER <<<"$link"
lab_assert "carrier down: wan1 lost LOWER_UP" '! grep -q LOWER_UP <<<"$link"'
lab_assert "carrier down: wan1 stays admin-up" 'grep -q "[<,]UP[,>]" <<<"$link"'
out=$(lab_gw tcpsrc count "$S" "$P" 2 -t 500)
lab_assert "carrier down: no connection via wan1" has_line "$out" "fail 2"
lab_carrier_up 1
lab_wait_cmd 5 sh -c "ip -n $LAB-gw link show wan1 | grep -q LOWER_UP" ||
	lab_fail "carrier did not come back"
out=$(lab_gw tcpsrc count "$S" "$P" 2 -t 2000)
lab_assert "carrier up: connections work again" has_line "$out" "192.168.1.2 2"

# --- helpers --------------------------------------------------------------------------------
json='{ "version": "1.0.0", "uptime_s": 12.3,
  "links": [ { "name": "isp1", "interface": "wan1", "state": "up", "carrier": true,
               "active": true, "tier": 1, "weight": 30, "rtt_ms": 1.4, "loss_pct": 0.0,
               "since_s": 10.2, "transitions": 2 },
             {"name":"isp10","interface":"wan10","state":"degraded","active":false} ] }'
lab_assert "json: isp1 state" [ "$(lab_json_link_field "$json" isp1 state)" = up ]
lab_assert "json: isp1 transitions" [ "$(lab_json_link_field "$json" isp1 transitions)" = 2 ]
lab_assert "json: isp1 carrier" [ "$(lab_json_link_field "$json" isp1 carrier)" = true ]
lab_assert "json: isp10 (compact) state" \
	[ "$(lab_json_link_field "$json" isp10 state)" = degraded ]
lab_assert "json: isp10 active" [ "$(lab_json_link_field "$json" isp10 active)" = false ]
lab_assert "json: unknown link" '! lab_json_link_field "$json" isp2 state'

lab_snapshot "$LABDIR/snap1"
lab_snapshot "$LABDIR/snap2"
lab_assert "snapshot has the main default route" \
	grep -q "^default via 192.168.1.1 dev wan1" "$LABDIR/snap1"
lab_assert "snapshot has the rules" grep -q "lookup main" "$LABDIR/snap1"
lab_assert "snapshot is stable" cmp -s "$LABDIR/snap1" "$LABDIR/snap2"

# --- cleanup --------------------------------------------------------------------------------
lab_bg net sleep 300	# something still running in the lab
lab_cleanup
lab_assert "cleanup leaves no $LAB-* namespace" '[ -z "$(ip netns list | grep "^$LAB-")" ]'
lab_assert "cleanup ended the lab's processes" '! kill -0 "$LAB_BG_PID" 2>/dev/null'
lab_cleanup	# idempotent
echo "lab selftest passed"
