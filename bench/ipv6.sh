#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/ipv6.sh [BUILD_DIR]: the IPv6 figures next to the IPv4 ones of bench/run.sh, in a
# dual-stack lab of its own (lab_create 2 --bcp38 --ipv6: radvd, NAT66 through BCP38 ISPs),
# with the same check (icmp, interval 200 ms, timeout 200 ms, down_after 3, up_after 3) on
# IPv4 and IPv6 targets. Measured per run, for each family:
#   detection  silent cut of isp1 (that family only) -> the balance table (250) of that family
#              loses wan1, as `ip monitor` sees it in the gateway
#   outage     cut -> first new connection of the family after which all succeed (tcpsrc
#              burst, one every 20 ms, 300 ms each)
#   failback   heal -> wan1 back in that family's balance table
#   broken     of 20 connections opened during the outage (all on isp2), held across failback
# and the balance share of weights 30/70 over 1000 new connections per family. Appends a
# section to $BENCH_OUT (bench/RESULTS.md). Needs root; nothing runs in the host namespace.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RUNS=${BENCH_RUNS:-5}
OUT=${BENCH_OUT:-$ROOT/bench/RESULTS.md}
[ "$(id -u)" = 0 ] || { echo "bench/ipv6.sh: needs root" >&2; exit 1; }
make -s -C "$ROOT" B="$B" all-tests >/dev/null || { echo "bench/ipv6.sh: build failed" >&2; exit 1; }
export UL_BUILD=$B LAB=ulb6$$
. "$ROOT/tests/lab/lab.sh"
. "$ROOT/tests/lab/conf.sh"
lab_require_root
lab_create 2 --bcp38 --ipv6
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
MONLOG=$LABDIR/monitor.log
lab_bg gw bash -c 'stdbuf -oL ip monitor route | while IFS= read -r l; do echo "${EPOCHREALTIME/./} $l"; done' \
	>"$MONLOG" 2>/dev/null
sleep 0.3
lab_lan sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1

now_us() { echo "${EPOCHREALTIME/./}"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
worst() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# route_event SINCE_US FAMILY(4|6) down|up: when that family's table 250 default route first
# leaves wan1 out (down) or takes it in (up) after SINCE_US
route_event() {
	local ts i
	for ((i = 0; i < 250; i++)); do
		ts=$(awk -v t0="$1" -v fam="$2" -v want="$3" '
			function flush() {
				if (found || cur_ts <= t0 || cur !~ /table 250/ || cur ~ /^Deleted/)
					return
				v6 = (cur ~ /via fe80:/)
				if ((fam == 6) != v6)
					return
				has1 = (cur ~ /dev wan1/)
				if ((want == "down" && !has1) || (want == "up" && has1)) {
					print cur_ts; found = 1
				}
			}
			{ ts = $1; rest = substr($0, length($1) + 2) }
			rest ~ /^[ \t]/ { cur = cur " " rest; next }
			{ flush(); cur_ts = ts; cur = rest }
			END { flush() }' "$MONLOG")
		[ -n "$ts" ] && { echo "$ts"; return 0; }
		sleep 0.02
	done
	return 1
}

# outage BURST_OUTPUT CUT_REL_MS (as bench/run.sh)
outage() {
	awk -v cut="$2" '
		$1 == "attempt" { n++; t[n] = $2; ok[n] = ($3 == "ok") }
		END {
			last = 0; fails = 0
			for (i = 1; i <= n; i++) if (!ok[i]) { last = i; fails++ }
			if (fails == 0) { print 0, 0; exit }
			if (last == n) { print -1, fails; exit }
			o = t[last + 1] - cut; if (o < 0) o = 0
			print o, fails
		}' "$1"
}

conf=$LABDIR/uplinkd.conf
lab_conf6 2 weights=1,1 level=info targets=203.0.113.11,203.0.113.12,203.0.113.13 \
	targets6=2001:db8:ffff::11,2001:db8:ffff::12,2001:db8:ffff::13 > "$conf"
lab_uplinkd_start "$conf"

# run FAMILY: one silent failure and failback of isp1 in that family
run() {
	local fam=$1 svc sfx b=$LABDIR/burst.out h=$LABDIR/hold.out t0 tb tc tdown theal tup o f
	if [ "$fam" = 6 ]; then svc=$LAB_SERVICE6; sfx=6; else svc=203.0.113.10; sfx=4; fi
	for k in 1 2; do
		lab_wait_state isp$k up 10 && lab_wait_state6 isp$k up 10 || lab_fail "links not up"
	done
	sleep_ms=$((RANDOM % 200)); sleep "0.$(printf '%03d' $sleep_ms)"
	rm -f "$LABDIR/burst.t0"
	lab_bg lan bash -c 'echo "${EPOCHREALTIME/./}" >"$1"; shift; exec "$@"' _ "$LABDIR/burst.t0" \
		"$UL_BUILD/lab/tcpsrc" burst "$svc" "$LAB_PORT" 3 -i 20 -t 300 >"$b"
	bpid=$LAB_BG_PID
	sleep 1
	lab_wait_file "$LABDIR/burst.t0" 5 || lab_fail "burst did not start"
	tb=$(cat "$LABDIR/burst.t0")
	tc=$(now_us)
	lab_cut$sfx 1
	tdown=$(route_event "$tc" "$fam" down) || lab_fail "IPv$fam: table 250 kept wan1 after the cut"
	wait "$bpid"
	read -r o f <<<"$(outage "$b" $(( (tc - tb) / 1000 )))"
	rm -f "$LABDIR/hold.ready"
	lab_bg lan tcpsrc hold "$svc" "$LAB_PORT" 20 3 -i 200 -t 1000 -f "$LABDIR/hold.ready" >"$h" 2>/dev/null
	hpid=$LAB_BG_PID
	lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "hold did not start"
	theal=$(now_us)
	lab_heal 1
	tup=$(route_event "$theal" "$fam" up) || lab_fail "IPv$fam: wan1 not back in table 250"
	wait "$hpid"
	DET+=($(( (tdown - tc) / 1000 ))) OUTG+=("$o") BACK+=($(( (tup - theal) / 1000 )))
	BRK+=("$(awk '$1 == "broken" { print $2 }' "$h")")
	lab_log "IPv$fam run: detection ${DET[-1]} ms, outage $o ms ($f failed), failback ${BACK[-1]} ms, broken ${BRK[-1]} of 20"
}

declare -A R
for fam in 4 6; do
	DET=() OUTG=() BACK=() BRK=()
	for ((r = 1; r <= RUNS; r++)); do run $fam; done
	R[det$fam]="$(median "${DET[@]}") / $(worst "${DET[@]}")"
	R[out$fam]="$(median "${OUTG[@]}") / $(worst "${OUTG[@]}")"
	R[back$fam]="$(median "${BACK[@]}") / $(worst "${BACK[@]}")"
	b=0; for x in "${BRK[@]}"; do b=$((b + x)); done
	R[brk$fam]="$b of $((20 * RUNS))"
	R[raw$fam]="detection ${DET[*]} ms; outage ${OUTG[*]} ms; failback ${BACK[*]} ms; broken ${BRK[*]}"
done
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"

lab_conf6 2 weights=30,70 level=info > "$conf"
lab_uplinkd_start "$conf"
for k in 1 2; do lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up"; done
share() { echo "$1" | awk -v a="$2" '$1 == a { print $2 }'; }
out4=$(lab_lan tcpsrc count 203.0.113.10 "$LAB_PORT" 1000 -p 8 -t 2000)
out6=$(lab_lan tcpsrc count "$LAB_SERVICE6" "$LAB_PORT" 1000 -p 8 -t 2000)
s4=$(share "$out4" 192.168.1.2) s6=$(share "$out6" 2001:db8:1::2)
f4=$(awk '$1 == "fail" { print $2 }' <<<"$out4") f6=$(awk '$1 == "fail" { print $2 }' <<<"$out6")
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"

{
	cat <<MD

## IPv6 next to IPv4 (bench/ipv6.sh)

$DATE, \`bench/ipv6.sh\` ($RUNS runs per family, load average at the start $LOAD0), a
dual-stack lab of its own: 2 ISPs advertising themselves with radvd, dropping foreign
sources (BCP38), a ULA LAN masqueraded (nat6 "masquerade"); check icmp / ICMPv6 echo to 3
targets per family, interval 200 ms, timeout 200 ms, down_after 3, up_after 3. A cut drops
only that family at isp1 (the other keeps working). Median / worst, in ms.

| measure | IPv4 | IPv6 |
|---|---|---|
| silent failure -> balance table without wan1 | ${R[det4]} | ${R[det6]} |
| outage for new connections | ${R[out4]} | ${R[out6]} |
| heal -> wan1 back in the balance table | ${R[back4]} | ${R[back6]} |
| held connections broken by the failback | ${R[brk4]} | ${R[brk6]} |
| share of isp1 at weights 30/70, 1000 connections | $(( ${s4:-0} / 10 )).$(( ${s4:-0} % 10 )) % (${f4:-?} failed) | $(( ${s6:-0} / 10 )).$(( ${s6:-0} % 10 )) % (${f6:-?} failed) |

- IPv4 per run: ${R[raw4]}
- IPv6 per run: ${R[raw6]}
MD
} | tee -a "$OUT"
