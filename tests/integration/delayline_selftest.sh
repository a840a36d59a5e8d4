#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's delay line (lab_delay / lab_undelay, tests/lab/delayline.c), without uplinkd:
# the RTT a ping through the ISP measures grows by the requested delay (MS is added RTT,
# not one-way), jitter spreads it, loss drops that share of round trips, the other ISP is
# untouched, TCP still works through it, and undelay / replacement / a crashed delay line
# leave the ISP forwarding normally.
set -euo pipefail
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
command -v iptables >/dev/null || { echo "SKIP: iptables missing (make deps)"; exit 77; }
command -v ping >/dev/null || { echo "SKIP: ping missing (make deps)"; exit 77; }
lab_create 2

# The gateway's main table reaches the Internet by isp1 (its DHCP default); .12 by isp2.
lab_gw ip route add 203.0.113.12/32 via 192.168.2.1 dev wan2

# rtt DST COUNT INTERVAL_S: "MIN AVG MAX LOSS_PCT" of a ping from the gateway (ms).
rtt() {
	local out
	out=$(lab_gw ping -n -q -c "$2" -i "$3" -W 2 "$1" 2>&1) || true
	awk '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) loss = $i + 0 }
	     /^rtt / { split($4, v, "/"); mn = v[1]; av = v[2]; mx = v[3] }
	     END { if (mn == "") { mn = av = mx = -1 } print mn, av, mx, loss }' <<<"$out"
}
# fcmp 'EXPR': floating point test with awk (variables given as awk -v are not needed:
# the caller interpolates the numbers).
fcmp() { awk "BEGIN { exit !($1) }"; }

read -r mn0 av0 mx0 l0 <<<"$(rtt 203.0.113.10 20 0.05)"
lab_log "baseline via isp1: min $mn0 avg $av0 max $mx0 ms, loss $l0%"
lab_assert "baseline ping via isp1 answered" [ "$l0" = 0 ]

# --- fixed delay ---------------------------------------------------------------------------
lab_delay 1 100
read -r mn av mx l <<<"$(rtt 203.0.113.10 20 0.1)"
lab_log "delay 100 ms: min $mn avg $av max $mx ms, loss $l%; added RTT $(awk "BEGIN { print $av - $av0 }") ms"
lab_assert "delay 100: no loss" [ "$l" = 0 ]
lab_assert "delay 100: no ping faster than 100 ms (min $mn)" fcmp "$mn >= 99.9"
lab_assert "delay 100: added RTT ~100 ms, not 200 (avg $av)" fcmp "$av >= 99.9 && $av < 160"
read -r mn2 av2 mx2 l2 <<<"$(rtt 203.0.113.12 10 0.05)"
lab_assert "isp2 untouched by isp1's delay line (avg $av2 ms)" fcmp "$l2 == 0 && $av2 < 50"
out=$(lab_gw tcpsrc count "$LAB_SERVICE" "$LAB_PORT" 5 -t 3000)
lab_assert "TCP through the delay line: 5 of 5 connections" \
	'grep -qx "192.168.1.2 5" <<<"$out" && grep -qx "fail 0" <<<"$out"'

# --- replaced settings ---------------------------------------------------------------------
lab_delay 1 200
read -r mn av mx l <<<"$(rtt 203.0.113.10 10 0.1)"
lab_log "delay 200 ms: min $mn avg $av max $mx ms, loss $l%"
lab_assert "lab_delay again replaces the delay (min $mn >= 200)" fcmp "$mn >= 199.9 && $av < 260"
lab_assert "one NFQUEUE rule in isp1" \
	[ "$(lab_isp 1 iptables -w -S FORWARD | grep -c NFQUEUE)" = 1 ]
lab_assert "one delay line process in isp1" \
	[ "$(ip netns pids "$LAB-isp1" | xargs -r ps -o comm= -p | grep -c '^delayline$')" = 1 ]

# --- jitter -----------------------------------------------------------------------------
# pings 100 ms apart never queue behind each other, so each sees its own draw: 60..140 ms
lab_delay 1 100 40
read -r mn av mx l <<<"$(rtt 203.0.113.10 40 0.1)"
lab_log "delay 100 ms jitter 40 ms: min $mn avg $av max $mx ms, loss $l%"
lab_assert "jitter 40: RTT within 60..140 ms plus slack (min $mn, max $mx)" \
	fcmp "$mn >= 59.9 && $mx < 200"
lab_assert "jitter 40: the RTT spreads (max - min = $(awk "BEGIN { print $mx - $mn }") ms >= 30)" \
	fcmp "$mx - $mn >= 30"
lab_assert "jitter 40: the average stays near 100 ms (avg $av)" fcmp "$av >= 85 && $av < 150"

# --- loss -------------------------------------------------------------------------------
lab_delay 1 0 0 30
read -r mn av mx l <<<"$(rtt 203.0.113.10 200 0.01)"
lab_log "loss 30%: $l% of 200 pings lost, avg $av ms"
lab_assert "loss 30: 15..45% of the round trips lost ($l%)" fcmp "$l >= 15 && $l <= 45"
lab_assert "loss 30 without delay: the answered ones are fast (avg $av)" fcmp "$av >= 0 && $av < 50"

# --- undelay ------------------------------------------------------------------------------
lab_delay 1 100
lab_undelay 1
read -r mn av mx l <<<"$(rtt 203.0.113.10 20 0.05)"
lab_log "after lab_undelay: min $mn avg $av max $mx ms, loss $l%"
lab_assert "lab_undelay: fast again (avg $av ms), nothing lost" fcmp "$l == 0 && $av < 50"
lab_assert "lab_undelay: no NFQUEUE rule left" \
	'! lab_isp 1 iptables -w -S FORWARD | grep -q NFQUEUE'
lab_assert "lab_undelay: the delay line is gone" \
	'! ip netns pids "$LAB-isp1" | xargs -r ps -o comm= -p | grep -q "^delayline$"'
lab_undelay 1	# twice is harmless

# --- a crashed delay line fails open (--queue-bypass) -------------------------------------
lab_delay 1 100
{
	kill -KILL "${_LAB_DELAY_PID[1]}"
	_lab_reap 3 "${_LAB_DELAY_PID[1]}"
	wait "${_LAB_DELAY_PID[1]}" || true
} 2>/dev/null
read -r mn av mx l <<<"$(rtt 203.0.113.10 10 0.05)"
lab_assert "a killed delay line lets traffic pass (loss $l%, avg $av ms)" fcmp "$l == 0 && $av < 50"
lab_undelay 1

lab_assert "bad arguments are refused" \
	'! (lab_delay 1 abc) 2>/dev/null && ! (lab_delay 1 10 0 101) 2>/dev/null && ! (lab_delay 3 10) 2>/dev/null'
echo "PASS"
