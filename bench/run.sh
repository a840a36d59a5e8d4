#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh [BUILD_DIR]: the uplinkd benchmarks ("make bench"), all in one namespace lab
# (tests/lab/lab.sh: a LAN host, the gateway, 8 ISP routers with BCP38, "the Internet").
# Writes bench/RESULTS.md (or $BENCH_OUT). Needs root. Nothing runs in the host's namespace.
#
# Knobs (environment): BENCH_RUNS (10) failover/carrier runs, BENCH_ROUNDS (6) throughput
# rounds, BENCH_PL_RUNS (3) ping-loop runs, BENCH_PL_INTERVAL (30) its check interval,
# BENCH_OUT (bench/RESULTS.md); section 9 (the gateway pair, bench/ha.sh): BENCH_HA_RUNS (5),
# BENCH_HA_ADVERTS ("0.1 1"). BENCH_ONLY=ha runs section 9 alone and replaces it in BENCH_OUT.
# BENCH_LOSS_S (120) seconds per lossy-link cell of section 11 (scaled to 10 minutes; 600
# gives the 10-minute figure itself).
# Section 10 (link quality, bench/quality.sh): BENCH_Q_RUNS, BENCH_Q_JITTER_S; BENCH_ONLY=quality
# runs section 10 alone and replaces it in an existing BENCH_OUT, leaving the others as they were.
# BENCH_ONLY=repair runs section 13 (repair after nft flush ruleset) alone and replaces it in
# BENCH_OUT, the rest of the file left as it is.
# shellcheck disable=SC2015,SC2016
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RUNS=${BENCH_RUNS:-10}
ROUNDS=${BENCH_ROUNDS:-6}
PL_RUNS=${BENCH_PL_RUNS:-3}
PL_INTERVAL=${BENCH_PL_INTERVAL:-30}
OUT=${BENCH_OUT:-$ROOT/bench/RESULTS.md}
CMDLINE="make bench"
[ "$B" = "$ROOT/build" ] || CMDLINE="make B=$B bench"

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
echo "bench: building into $B"
make -s -C "$ROOT" B="$B" all-tests >/dev/null || { echo "bench: build failed" >&2; exit 1; }
"$ROOT/tests/lab/deps.sh" iperf3 jq iproute2 nftables iputils-ping keepalived conntrackd conntrack lsm \
	iptables || exit 1
case ${BENCH_ONLY:-} in
'' | ha | quality | repair) ;;
*) echo "bench: BENCH_ONLY must be empty, 'ha', 'quality' or 'repair'" >&2; exit 1 ;;
esac
if [ "${BENCH_ONLY:-}" = quality ] && ! grep -q '^## Anomalies' "$OUT" 2>/dev/null; then
	echo "bench: BENCH_ONLY=quality needs an existing $OUT of a full run" >&2
	exit 1
fi

# replace_section N FILE: section N ("## N. ...") of $OUT becomes FILE's text; where $OUT has
# none yet, it goes before "## Anomalies", else at the end
replace_section() {
	awk -v secfile="$2" -v head="^## $1\\. " '
		function emit() { while ((getline l < secfile) > 0) print l; print ""; done = 1 }
		$0 ~ head { emit(); skip = 1; next }
		skip && /^## / { skip = 0 }
		skip { next }
		/^## Anomalies/ && !done { emit() }
		{ print }
		END { if (!done) { print ""; emit() } }' "$OUT" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
}

# section 9 alone: run it and put it in place of the one in $OUT (before "## Anomalies" when
# $OUT has none yet)
if [ "${BENCH_ONLY:-}" = ha ]; then
	[ -e "$OUT" ] || { echo "bench: BENCH_ONLY=ha needs an existing $OUT" >&2; exit 1; }
	"$ROOT/bench/ha.sh" "$B" >"$OUT.ha" || { rm -f "$OUT.ha"; exit 1; }
	replace_section 9 "$OUT.ha" && rm -f "$OUT.ha"
	echo "bench: section 9 written to $OUT"
	exit 0
fi

export UL_BUILD=$B LAB=ulb$$
# shellcheck source-path=SCRIPTDIR/.. source=tests/lab/lab.sh
. "$ROOT/tests/lab/lab.sh"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
lab_require_root

T_START=${EPOCHREALTIME/./}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
KERNEL=$(uname -r)
NCPU=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HZ=$(getconf CLK_TCK)
SVC=203.0.113.10
PORT=5001
TARGETS=203.0.113.11,203.0.113.12,203.0.113.13

lab_create 8 --bcp38
HOOKLOG=$LABDIR/hook.log
PLLOG=$LABDIR/pingloop.log
: >"$HOOKLOG"
# the hook timestamps every transition (microseconds, wall clock like $EPOCHREALTIME)
cat >"$LABDIR/hook" <<EOF
#!/bin/sh
echo "\$(date +%s%6N) \$UPLINK_NAME \$UPLINK_PREVIOUS_STATE \$UPLINK_STATE \$UPLINK_ACTIVE" >>"$HOOKLOG"
EOF
chmod 755 "$LABDIR/hook"
# the gateway's link and route events, each line timestamped as it arrives (a bash loop
# that is already running, so no process start-up in the way): the moment wan1 loses its
# carrier, and the moment uplinkd changes its balance table (250), i.e. when failover and
# failback take effect in the datapath
MONLOG=$LABDIR/monitor.log
bench_monitor gw "$MONLOG" ip monitor link route
# and ISP 1's nftables rule changes, the same way: the moment lab_cut/lab_heal commit
CUTMON=$LABDIR/cutmon.log
bench_monitor isp1 "$CUTMON" nft monitor rules
sleep 0.3
# many short connections from one LAN address: a wide port range, TIME_WAIT reuse
lab_lan sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1

# ---------------------------------------------------------------------------------------
# helpers

now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $(( ($(now_us) - $1) / 1000 )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# stats VALUES...: "median max min" (n/a when empty)
stats() {
	[ $# -gt 0 ] || { echo "n/a n/a n/a"; return; }
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%g %g %g\n", m, v[NR], v[1] }'
}
median() { stats "$@" | cut -d' ' -f1; }
worst() { stats "$@" | cut -d' ' -f2; }
best() { stats "$@" | cut -d' ' -f3; }
sum() { local s=0 v; for v in "$@"; do s=$((s + v)); done; echo $s; }

# bconf N [weights=a,b] [tiers=a,b] [check=0|1] [interval=MS] [timeout=MS] [down=] [up=]
#       [level=] [extra=TEXT]: an uplinkd config for links 1..N of the lab, with the hook
bconf() {
	local n=$1 weights='' tiers='' check=1 interval=200 timeout=200 down=3 up=3 level=info
	local extra='' kv k w t tl
	shift
	for kv in "$@"; do
		case $kv in
		weights=*) weights=${kv#*=} ;; tiers=*) tiers=${kv#*=} ;;
		check=*) check=${kv#*=} ;; interval=*) interval=${kv#*=} ;;
		timeout=*) timeout=${kv#*=} ;; down=*) down=${kv#*=} ;; up=*) up=${kv#*=} ;;
		level=*) level=${kv#*=} ;; extra=*) extra=${kv#*=} ;;
		*) lab_fail "bconf: unknown option $kv" ;;
		esac
	done
	tl=$(echo "$TARGETS" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
	echo "daemon = { log_level = \"$level\"; hook = \"$LABDIR/hook\"; };"
	echo 'lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24", "10.0.1.0/24" ]; };'
	echo "links = ("
	for ((k = 1; k <= n; k++)); do
		w=$(echo "$weights" | cut -d, -f$k); w=${w:-1}
		t=$(echo "$tiers" | cut -d, -f$k); t=${t:-1}
		[ "$k" -gt 1 ] && echo "  ,"
		printf '  { name = "isp%d"; interface = "wan%d"; gateway = "192.168.%d.1";' "$k" "$k" "$k"
		printf ' weight = %d; tier = %d;\n' "$w" "$t"
		if [ "$check" = 1 ]; then
			printf '    check = { method = "icmp"; targets = [ %s ]; interval_ms = %d;' \
				"$tl" "$interval"
			printf ' timeout_ms = %d; quorum = 1; down_after = %d; up_after = %d; };' \
				"$timeout" "$down" "$up"
		fi
		echo " }"
	done
	echo ");"
	[ -z "$extra" ] || echo "$extra"
}

# ul_start CONF NLINKS: start uplinkd, wait until links 1..NLINKS are up
ul_start() {
	local conf=$1 n=$2 k
	lab_uplinkd_start "$conf"
	for ((k = 1; k <= n; k++)); do
		lab_wait_state "isp$k" up 15 || lab_fail "isp$k not up after start"
	done
}
ul_stop() {
	lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
}

# wait_hook LINK STATE SINCE_US TIMEOUT_S: print the hook's timestamp (us) of the first
# transition of LINK to STATE after SINCE_US; 1 on timeout
wait_hook() {
	local link=$1 state=$2 since=$3 t=$4 end ts
	end=$(( $(now_us) + t * 1000000 ))
	while :; do
		ts=$(awk -v l="$link" -v s="$state" -v t0="$since" \
			'$1 > t0 && $2 == l && $4 == s { print $1; exit }' "$HOOKLOG")
		[ -n "$ts" ] && { echo "$ts"; return 0; }
		[ "$(now_us)" -ge "$end" ] && return 1
		sleep 0.005
	done
}

# cut_event SINCE_US add|delete: timestamp (us) of the first "add rule" (lab_cut) or
# "delete rule" (lab_heal) in ISP 1's cut chain after SINCE_US, as nft monitor saw it
cut_event() {
	bench_first 100 bench_nft_event "$CUTMON" "$1" "$2" labctl cut
}
# carrier_event SINCE_US down|up: timestamp (us) of the first wan1 NO-CARRIER (down) or
# LOWER_UP (up) event in the gateway after SINCE_US
carrier_event() {
	bench_first 100 awk -v t0="$1" -v w="$2" '$1 > t0 && / wan1@/ &&
		((w == "down" && /NO-CARRIER/) || (w == "up" && /LOWER_UP/)) { print $1; exit }' "$MONLOG"
}

# route_event SINCE_US down|up [TIMEOUT_S]: timestamp (us) of the first change of the balance
# table's default route after SINCE_US that leaves wan1 out (down) or takes it in (up); 1 when
# none within TIMEOUT_S (5) s. Multipath routes span several lines (nexthops indented).
route_event() {
	bench_first $(( ${3:-5} * 50 )) bench_route_ts "$MONLOG" "$1" 0 "$2"
}

# burst_bg SECS OUTFILE: "tcpsrc burst" from the LAN host, a new connection every 20 ms, each
# with 300 ms to deliver its first line. BURST_PID: its PID; burst_t0 prints the wall clock
# (us) written just before tcpsrc was exec'd (the zero of its attempt times, give or take
# the exec; "ip netns exec" start-up is not included).
burst_bg() {
	rm -f "$LABDIR/burst.t0"
	lab_bg lan bash -c 'echo "${EPOCHREALTIME/./}" >"$1"; shift; exec "$@"' _ "$LABDIR/burst.t0" \
		"$UL_BUILD/lab/tcpsrc" burst "$SVC" "$PORT" "$1" -i 20 -t 300 >"$2"
	BURST_PID=$LAB_BG_PID
}
burst_t0() {
	lab_wait_file "$LABDIR/burst.t0" 5 || lab_fail "tcpsrc burst did not start"
	cat "$LABDIR/burst.t0"
}

# a random phase (0..199 ms) so that cuts do not line up with the probe rounds
random_phase() { sleep_ms $((RANDOM % 200)); }

# section 10, link quality
# shellcheck source-path=SCRIPTDIR source=bench/quality.sh
. "$ROOT/bench/quality.sh"
if [ "${BENCH_ONLY:-}" = quality ]; then
	HOOK_LAG=() ANOMALIES=()
	row_mw() { local s; s=$(stats "$@"); echo "$(echo "$s" | cut -d' ' -f1) | $(echo "$s" | cut -d' ' -f2)"; }
	quality_measure
	quality_section >"$LABDIR/q.md"
	# the new section 10 replaces the old one (or goes before "## Anomalies")
	replace_section 10 "$LABDIR/q.md"
	if [ ${#ANOMALIES[@]} -gt 0 ]; then
		printf '%s\n' "${ANOMALIES[@]}" >&2
		lab_log "section 10: anomalies above (not written to $OUT: its Anomalies are the full run's)"
	fi
	lab_log "section 10 done in $Q_SECS s; $OUT updated"
	exit 0
fi

# ---------------------------------------------------------------------------------------
# 1 + 3 (+ 8b): silent failure of isp1, outage for new connections, failback, held flows

# silent_run: one run; sets R_DETECT R_OUTAGE R_FAILS R_CUTCMD R_BACK R_BROKEN R_HELD
silent_run() {
	local b="$LABDIR/burst.out" h="$LABDIR/hold.out" t_b0 t_cut0 t_cut1 t_cut t_down t_heal0
	local t_heal t_up t_hook log_off trans extra why=""
	local hpid cut_rel
	log_off=$(stat -c %s "$LABDIR/uplinkd.log")
	lab_wait_state isp1 up 10 && lab_wait_state isp2 up 10 || lab_fail "links not up before a run"
	random_phase
	burst_bg "${BURST_SECS:-3}" "$b"
	sleep 1
	t_b0=$(burst_t0)
	t_cut0=$(now_us)
	lab_cut 1
	t_cut1=$(now_us)
	t_cut=$(cut_event "$t_cut0" add) || lab_fail "nft monitor did not see the cut"
	t_hook=$(wait_hook isp1 down "$t_cut0" 15) || lab_fail "isp1 not down 15 s after the cut"
	t_down=$(route_event "$t_cut0" down) || lab_fail "no balance route change after isp1 went down"
	wait "$BURST_PID"
	cut_rel=$(( (t_cut - t_b0) / 1000 ))
	read -r R_OUTAGE R_FAILS <<<"$(bench_outage "$b" "$cut_rel")"
	R_DETECT=$(( (t_down - t_cut) / 1000 ))
	HOOK_LAG+=($(( (t_hook - t_down) / 1000 )))
	R_CUTCMD=$(( (t_cut1 - t_cut0) / 1000 ))
	R_CUTRET=$(( (t_cut1 - t_cut) / 1000 ))
	# connections opened during the outage (all on isp2), held across the failback
	rm -f "$LABDIR/hold.ready"
	lab_bg lan tcpsrc hold "$SVC" "$PORT" 20 "${HOLD_SECS:-4}" -i 200 -t 1000 -f "$LABDIR/hold.ready" \
		>"$h" 2>/dev/null
	hpid=$LAB_BG_PID
	lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "tcpsrc hold did not start"
	t_heal0=$(now_us)
	lab_heal 1
	t_heal=$(cut_event "$t_heal0" delete) || lab_fail "nft monitor did not see the heal"
	wait_hook isp1 up "$t_heal" 15 >/dev/null || lab_fail "isp1 not up 15 s after healing"
	t_up=$(route_event "$t_heal" up) || lab_fail "no balance route change after isp1 came back"
	R_BACK=$(( (t_up - t_heal) / 1000 ))
	wait "$hpid"
	R_BROKEN=$(awk '$1 == "broken" { print $2 }' "$h")
	R_HELD=$(awk '$1 == "ok" { o = $2 } $1 == "broken" { b = $2 } END { print o + b }' "$h")
	# anything unexpected during the run is kept, with the daemon's log lines, for RESULTS.md
	trans=$(awk -v t0="$t_cut0" '$1 > t0 { printf "%s %s->%s; ", $2, $3, $4 }' "$HOOKLOG")
	extra=${trans/isp1 up->down; /}
	extra=${extra/isp1 down->up; /}
	[ -z "$extra" ] || why+="unexpected transitions: $extra"
	grep -q '^seen 192.168.2.2 20$' "$h" || why+="held connections: $(tr '\n' ' ' <"$h"); "
	[ "$R_OUTAGE" -le $((R_DETECT + 300)) ] ||
		why+="outage $R_OUTAGE ms is more than 300 ms longer than the detection ($R_DETECT ms); "
	if [ -n "$why" ]; then
		ANOMALIES+=("- $RUN_LABEL: $why

\`\`\`
transitions seen by the hook: $trans
uplinkd's log during the run (info and above):
$(tail -c +"$((log_off + 1))" "$LABDIR/uplinkd.log" | grep -v '^<7>' | head -n 20)
\`\`\`")
		lab_log "ANOMALY in $RUN_LABEL: $why"
	fi
}

# ---------------------------------------------------------------------------------------
# 13. repair after nft flush ruleset

# the gateway's nftables table events, timestamped as they arrive (started with the section)
REPMON=$LABDIR/repmon.log
repair_bench() {
	local r t0 t_del t_add n out i monpid
	REP_MS=() REP_CMD=() REP_OK=() REP_LINES=0 REP_BACKOFF=0
	lab_log "=== 13: repair after nft flush ruleset, $RUNS runs"
	lab_bg gw bash -c 'stdbuf -oL nft monitor tables | while IFS= read -r l; do echo "${EPOCHREALTIME/./} $l"; done' \
		>"$REPMON" 2>/dev/null
	monpid=$LAB_BG_PID
	bconf 2 weights=1,1 >"$LABDIR/rep.conf"
	ul_start "$LABDIR/rep.conf" 2
	sleep 0.5
	n=$(grep -c "repair: table inet uplinkd removed (changed outside uplinkd)" "$LABDIR/uplinkd.log")
	for ((r = 1; r <= RUNS; r++)); do
		t0=$(now_us)
		lab_gw nft flush ruleset
		REP_CMD+=($(( ($(now_us) - t0) / 1000 )))
		t_del=
		t_add=
		for ((i = 0; i < 300; i++)); do
			t_del=$(awk -v t0="$t0" '$1 > t0 && $2 == "delete" && $3 == "table" && $4 == "inet" && $5 == "uplinkd" { print $1; exit }' "$REPMON")
			[ -n "$t_del" ] && t_add=$(awk -v t0="$t_del" '$1 > t0 && $2 == "add" && $3 == "table" && $4 == "inet" && $5 == "uplinkd" { print $1; exit }' "$REPMON")
			[ -n "$t_add" ] && break
			sleep 0.01
		done
		[ -n "$t_del" ] || lab_fail "repair run $r: nft monitor did not see the table deleted"
		[ -n "$t_add" ] || lab_fail "repair run $r: table inet uplinkd not back within 3 s"
		REP_MS+=("$(awk -v a="$t_add" -v b="$t_del" 'BEGIN { printf "%.1f", (a - b) / 1000 }')")
		sleep 0.2
		out=$(lab_lan tcpsrc count "$SVC" "$PORT" 20 -p 4 -t 2000)
		REP_OK+=("$(echo "$out" | awk '$1 == "fail" { print 20 - $2 }')")
		lab_log "repair run $r: table back ${REP_MS[-1]} ms after the flush; ${REP_OK[-1]}/20 new connections"
		# 3 s apart: at most 4 repairs in 10 s, below the back-off threshold (5)
		sleep 2.8
	done
	REP_LINES=$(( $(grep -c "repair: table inet uplinkd removed (changed outside uplinkd)" "$LABDIR/uplinkd.log") - n ))
	REP_BACKOFF=$(grep -c "backing off" "$LABDIR/uplinkd.log")
	ul_stop
	kill -TERM "$monpid" 2>/dev/null
	wait "$monpid" 2>/dev/null
}

repair_md() {
	cat <<EOF
## 13. Repair after \`nft flush ruleset\` ($RUNS runs)

| | median | worst |
|---|---|---|
| table inet uplinkd removed -> back (ms) | $(median "${REP_MS[@]}") | $(worst "${REP_MS[@]}") |

- Per run (ms): ${REP_MS[*]}; new connections after each repair: ${REP_OK[*]} (of 20);
  \`repair: table inet uplinkd removed (changed outside uplinkd)\` logged $REP_LINES times
  for the $RUNS flushes; back-off lines: $REP_BACKOFF
- How: two links up, \`nft flush ruleset\` in the gateway namespace every 3 s (slower than the
  back-off threshold of 5 repairs in 10 s); an \`nft monitor tables\` running there
  timestamps the deletion of the table (the flush's commit) and uplinkd's re-creation of it.
  uplinkd follows nftables events, waits 30 ms for the rest of a burst (a firewall reload
  flushes, then loads its own ruleset) and sends its table in one transaction. (The \`nft\`
  command itself takes $(median "${REP_CMD[@]}") ms, median, mostly process start-up.) Then 20 new
  connections from the LAN (\`tcpsrc count\`), which fail while the table (masquerade) is
  missing. The contract asks for 1 s.
- Measured $DATE, load average at the start of the benchmark $LOAD_START (with
  \`BENCH_ONLY=repair\` this section alone is run and replaced in this file).
EOF
}

if [ "${BENCH_ONLY:-}" = repair ]; then
	repair_bench
	[ -f "$OUT" ] || lab_fail "BENCH_ONLY=repair: $OUT missing (run the whole bench once)"
	repair_md >"$LABDIR/repair.md"
	# section 13 replaced (or put before the anomalies), the rest of the file as it was
	awk -v f="$LABDIR/repair.md" '
		function put() { while ((getline l < f) > 0) print l; print ""; done = 1 }
		/^## 13\. / { if (!done) put(); skip = 1; next }
		/^## / && skip { skip = 0 }
		/^## Anomalies/ && !done { put() }
		!skip { print }' "$OUT" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
	lab_log "section 13 written into $OUT"
	exit 0
fi

lab_log "=== 1/3: silent failure and failback, $RUNS runs"
bconf 2 weights=1,1 >"$LABDIR/fo.conf"
ul_start "$LABDIR/fo.conf" 2
HOOK_LAG=() ANOMALIES=()
S_CUTRET=() S_DET=() S_OUT=() S_FAILS=() S_CUT=() S_BACK=() S_BROKEN=() S_HELD=()
for ((r = 1; r <= RUNS; r++)); do
	RUN_LABEL="section 1, run $r"
	silent_run
	[ "$R_OUTAGE" -ge 0 ] || lab_fail "run $r: new connections still failed at the end of the burst"
	S_DET+=("$R_DETECT") S_OUT+=("$R_OUTAGE") S_FAILS+=("$R_FAILS") S_CUT+=("$R_CUTCMD")
	S_CUTRET+=("$R_CUTRET")
	S_BACK+=("$R_BACK") S_BROKEN+=("$R_BROKEN") S_HELD+=("$R_HELD")
	lab_log "run $r: detection ${R_DETECT} ms, outage ${R_OUTAGE} ms ($R_FAILS failed attempts)," \
		"failback ${R_BACK} ms, held flows broken $R_BROKEN of $R_HELD"
done

# ---------------------------------------------------------------------------------------
# 2: carrier loss

lab_log "=== 2: carrier loss, $RUNS runs"
C_DET=() C_DET_MS=() C_DET_US=() C_DET_CMD=() C_OUT=() C_FAILS=() C_BACK=() C_CMD=()
for ((r = 1; r <= RUNS; r++)); do
	lab_wait_state isp1 up 10 && lab_wait_state isp2 up 10 || lab_fail "links not up before a run"
	random_phase
	burst_bg 2 "$LABDIR/burst.out"
	sleep 1
	t_b0=$(burst_t0)
	t_cut0=$(now_us)
	lab_carrier_down 1
	t_cut=$(now_us)
	t_hook=$(wait_hook isp1 down "$t_cut0" 5) || lab_fail "isp1 not down 5 s after carrier loss"
	t_down=$(route_event "$t_cut0" down) || lab_fail "no balance route change after carrier loss"
	HOOK_LAG+=($(( (t_hook - t_down) / 1000 )))
	t_ev=$(carrier_event "$t_cut0" down) || lab_fail "no carrier event for wan1 seen in the gateway"
	wait "$BURST_PID"
	read -r o f <<<"$(bench_outage "$LABDIR/burst.out" $(( (t_ev - t_b0) / 1000 )))"
	[ "$o" -ge 0 ] || lab_fail "carrier run $r: new connections still failed at the end of the burst"
	t_heal0=$(now_us)
	lab_carrier_up 1
	t_heal=$(carrier_event "$t_heal0" up) || lab_fail "no carrier-up event for wan1 seen in the gateway"
	wait_hook isp1 up "$t_heal" 10 >/dev/null || lab_fail "isp1 not up 10 s after carrier return"
	t_up=$(route_event "$t_heal" up) || lab_fail "no balance route change after carrier return"
	C_DET+=($(( (t_down - t_ev) / 1000 ))) C_OUT+=("$o") C_FAILS+=("$f")
	C_DET_US+=($((t_down - t_ev))) C_DET_CMD+=($(( (t_hook - t_cut) / 1000 )))
	C_DET_MS+=("$(awk -v u=$((t_down - t_ev)) 'BEGIN { printf "%.1f", u / 1000 }')")
	C_BACK+=($(( (t_up - t_heal) / 1000 ))) C_CMD+=($(( (t_cut - t_cut0) / 1000 )))
	lab_log "run $r: detection ${C_DET_US[-1]} us after the kernel event (${C_DET_CMD[-1]} ms after the ip command returned), outage $o ms ($f failed)," \
		"carrier back -> up ${C_BACK[-1]} ms"
done
ul_stop

# ---------------------------------------------------------------------------------------
# 4: balance accuracy

# shares COUNT_OUTPUT ADDR
share() { echo "$1" | awk -v a="$2" '$1 == a { print $2 }'; }
lab_log "=== 4: balance accuracy"
bconf 2 weights=30,70 >"$LABDIR/bal.conf"
ul_start "$LABDIR/bal.conf" 2
BAL2=$(lab_lan tcpsrc count "$SVC" "$PORT" 1000 -p 8)
lab_log "30/70: $(echo "$BAL2" | tr '\n' ' ')"
ul_stop
bconf 3 weights=1,1,1 >"$LABDIR/bal3.conf"
ul_start "$LABDIR/bal3.conf" 3
BAL3=$(lab_lan tcpsrc count "$SVC" "$PORT" 1000 -p 8)
lab_log "1:1:1: $(echo "$BAL3" | tr '\n' ' ')"
ul_stop

# ---------------------------------------------------------------------------------------
# 5: forwarding throughput and connection rate, uplinkd vs the bare kernel

base_up() {
	lab_gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
	lab_gw ip route replace default nexthop via 192.168.1.1 dev wan1 weight 1 \
		nexthop via 192.168.2.1 dev wan2 weight 1 || lab_fail "baseline route"
	lab_gw nft -f - <<-EOF || lab_fail "baseline nft"
		table ip benchbase {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname { "wan1", "wan2" } masquerade
			}
		}
	EOF
}
base_down() {
	lab_gw nft delete table ip benchbase
	lab_gw ip route replace default via 192.168.1.1 dev wan1
	lab_gw sysctl -qw net.ipv4.ip_forward=0 net.ipv4.fib_multipath_hash_policy=0
	lab_gw conntrack -F >/dev/null 2>&1	# no unmarked entries left for uplinkd
}

# iperf STREAMS: receiver throughput LAN -> Internet in Mbit/s (3 s)
iperf() {
	local j v
	j=$(timeout -k 2 20 ip netns exec "$LAB-lan" iperf3 -c "$SVC" -p 5201 -t 3 -P "$1" -J \
		--connect-timeout 3000 2>/dev/null)
	v=$(echo "$j" | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null)
	[ -n "$v" ] || lab_fail "iperf3 -P $1 failed: $(echo "$j" | jq -r '.error // empty' 2>/dev/null)"
	awk -v b="$v" 'BEGIN { printf "%d\n", b / 1e6 }'
}

# connrate: connections/s of "tcpsrc count 5000 -p 8"
connrate() {
	local t0 out dt
	t0=$(now_us)
	out=$(lab_lan tcpsrc count "$SVC" "$PORT" 5000 -p 8 -t 2000)
	dt=$(( $(now_us) - t0 ))
	echo "$out" | grep -q '^fail 0$' || lab_fail "connection rate: failures: $(echo "$out" | tr '\n' ' ')"
	echo $(( 5000 * 1000000 / dt ))
}

measure_fwd() {  # MODE (base|ul): appends to the arrays of that mode
	local m=$1 a b c
	# every measurement starts with an empty connection table in the gateway
	lab_gw conntrack -F >/dev/null 2>&1
	a=$(iperf 1) && b=$(iperf 4) && c=$(connrate) || lab_fail "forwarding measurement ($m) failed"
	eval "F_${m}_1+=($a); F_${m}_4+=($b); F_${m}_cr+=($c)"
	lab_log "$m: 1 stream $a Mbit/s, 4 streams $b Mbit/s, $c connections/s"
}

lab_log "=== 5: forwarding, $ROUNDS rounds (bare kernel and uplinkd alternating)"
lab_bg net iperf3 -s -B "$SVC" -p 5201 >/dev/null 2>&1
lab_wait_cmd 5 lab_net sh -c 'ss -ltn | grep -q ":5201 "' || lab_fail "iperf3 server not listening"
F_base_1=() F_base_4=() F_base_cr=() F_ul_1=() F_ul_4=() F_ul_cr=()
# uplinkd as it would run: two balanced links with default-interval (1 s) checks
bconf 2 weights=1,1 interval=1000 timeout=1000 >"$LABDIR/fwd.conf"
for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then order="base ul"; else order="ul base"; fi
	for m in $order; do
		if [ "$m" = base ]; then
			base_up
			measure_fwd base
			base_down
		else
			ul_start "$LABDIR/fwd.conf" 2
			measure_fwd ul
			ul_stop
		fi
	done
done

# ---------------------------------------------------------------------------------------
# 6: 10,000 pinned prefixes

# prefixes OFFSET: 10,000 non-adjacent /24s (adjacent ones could be merged by nft), the
# last 1,000 shifted by OFFSET (0 or 1) so that two files differ in 1,000 prefixes
prefixes() {
	awk -v off="$1" 'BEGIN {
		for (i = 0; i < 10000; i++) {
			a = (i >= 9000) ? 90 + off : 11
			j = (i >= 9000) ? i - 9000 : i
			printf "%s\"%d.%d.%d.0/24\"", (i ? ", " : ""), a, int(j / 128), (j % 128) * 2
			if (i % 8 == 7) printf "\n"
		}
	}'
}
pinconf() {  # OFFSET
	bconf 2 weights=1,1 interval=1000 timeout=1000 \
		extra="rules = ( { name = \"pinned\"; dst = [ $(prefixes "$1") ]; via = [ \"isp1\" ]; } );"
}
setcount() {
	lab_gw nft list set inet uplinkd r_pinned_dst4 2>/dev/null | grep -o '[0-9.]*/24' | wc -l
}
# start_ready CONF: READY_MS = ms from starting uplinkd to its "ready" log line (polled
# every 5 ms). Not in a subshell: lab_uplinkd_start records the daemon's PID.
start_ready() {
	local conf=$1 log=$LABDIR/uplinkd.log n0 t0 tr
	n0=$(grep -c ' ready: ' "$log" 2>/dev/null)
	rm -f "$LABDIR/ready.ts"
	(
		for ((i = 0; i < 6000; i++)); do
			[ "$(grep -c ' ready: ' "$log" 2>/dev/null)" -gt "$n0" ] && break
			sleep 0.005
		done
		now_us >"$LABDIR/ready.ts"
	) &
	local poller=$!
	t0=$(now_us)
	lab_uplinkd_start "$conf"
	wait "$poller"
	tr=$(cat "$LABDIR/ready.ts")
	READY_MS=$(( (tr - t0) / 1000 ))
}
# reload_ms: RELOAD_MS = ms for "uplinkctl reload" plus a following "uplinkctl status"
# (RL_ONLY: the reload alone). The daemon is
# single-threaded and applies the new state on a zero timer right after answering the
# reload, so the status answer comes after the apply
reload_ms() {
	local t0 t1 t2
	t0=$(now_us)
	lab_ctl reload >/dev/null || lab_fail "reload failed"
	t1=$(now_us)
	lab_ctl status >/dev/null || lab_fail "status after reload failed"
	t2=$(now_us)
	RL_ONLY=$(( (t1 - t0) / 1000 ))
	RELOAD_MS=$(( (t2 - t0) / 1000 ))
}

lab_log "=== 6: 10,000 pinned prefixes"
bconf 2 weights=1,1 interval=1000 timeout=1000 >"$LABDIR/pin0.conf"
P_START0=() P_START=() P_SAME=() P_SAME_RL=() P_CHG=() P_CHG_RL=() P_COUNT=() P_RSS=()
pinconf 0 >"$LABDIR/pinA.conf"
pinconf 1 >"$LABDIR/pinB.conf"
P_CONF_BYTES=$(stat -c %s "$LABDIR/pinA.conf")
P_CHECK=()
for ((r = 1; r <= 3; r++)); do
	t0=$(now_us)
	lab_gw "$UL_BUILD/uplinkd" -t -c "$LABDIR/pinA.conf" >/dev/null || lab_fail "uplinkd -t refused the 10,000 prefixes"
	P_CHECK+=($(( ($(now_us) - t0) / 1000 )))
done
lab_log "uplinkd -t with 10,000 prefixes: ${P_CHECK[*]} ms"
for ((r = 1; r <= 3; r++)); do
	start_ready "$LABDIR/pin0.conf"
	P_START0+=("$READY_MS")
	ul_stop
	cp "$LABDIR/pinA.conf" "$LABDIR/pin.conf"
	start_ready "$LABDIR/pin.conf"
	P_START+=("$READY_MS")
	P_COUNT+=("$(setcount)")
	reload_ms
	P_SAME+=("$RELOAD_MS") P_SAME_RL+=("$RL_ONLY")
	if [ $((r % 2)) = 1 ]; then cp "$LABDIR/pinB.conf" "$LABDIR/pin.conf"; else cp "$LABDIR/pinA.conf" "$LABDIR/pin.conf"; fi
	reload_ms
	P_CHG+=("$RELOAD_MS") P_CHG_RL+=("$RL_ONLY")
	n=$(setcount)
	P_COUNT+=("$n")
	if [ $((r % 2)) = 1 ]; then want=91.0.0.0/24 gone=90.0.0.0/24; else want=90.0.0.0/24 gone=91.0.0.0/24; fi
	set_txt=$(lab_gw nft list set inet uplinkd r_pinned_dst4)
	grep -q "$want" <<<"$set_txt" && ! grep -q "$gone" <<<"$set_txt" ||
		lab_fail "the set does not reflect the changed file ($want in, $gone out)"
	P_RSS+=("$(awk '/^VmRSS/ { print $2 }' "/proc/$LAB_UPLINKD_PID/status")")
	lab_log "run $r: start->ready ${P_START0[-1]} ms without, ${P_START[-1]} ms with 10,000 prefixes;" \
		"reload same ${P_SAME[-1]} ms, changed ${P_CHG[-1]} ms; set has $n; RSS ${P_RSS[-1]} kB"
	ul_stop
done

# ---------------------------------------------------------------------------------------
# 7: RSS and CPU of the daemon

# pidstat: "ticks" (utime+stime) of a PID
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
lab_log "=== 7: RSS and CPU"
M_ROWS=() M_INIT=0
for n in 2 8; do
	for chk in 0 1; do
		bconf "$n" check="$chk" interval=200 timeout=200 >"$LABDIR/m.conf"
		if [ "$chk" = 1 ]; then
			ul_start "$LABDIR/m.conf" "$n"
		else
			# links without check are up while they have carrier, per the man page;
			# do not insist (the link states go into the table)
			lab_uplinkd_start "$LABDIR/m.conf"
		fi
		sleep 2
		states=$(lab_ctl status --json | jq -r '[.links[] | .state + (if .active then "/active" else "" end)] | group_by(.) | map("\(length)x \(.[0])") | join(", ")')
		pid=$LAB_UPLINKD_PID
		k0=$(ticks "$pid"); s0=$(cut -d' ' -f1 "/proc/$pid/schedstat"); t0=$(now_us)
		sleep 10
		k1=$(ticks "$pid"); s1=$(cut -d' ' -f1 "/proc/$pid/schedstat"); t1=$(now_us)
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
		cpu=$(awk -v k=$((k1 - k0)) -v hz="$HZ" -v dt=$((t1 - t0)) \
			'BEGIN { printf "%.2f", k / hz / (dt / 1e6) * 100 }')
		cpu_ns=$(awk -v ns=$((s1 - s0)) -v dt=$((t1 - t0)) \
			'BEGIN { printf "%.3f", ns / 1e3 / dt * 100 }')
		case $states in *init*) M_INIT=1 ;; esac
		probes=$([ "$chk" = 1 ] && echo "3 targets every 200 ms per link ($((n * 15)) probes/s)" || echo "none (links without check)")
		M_ROWS+=("| $n | $probes | $states | $rss | $hwm | $cpu_ns | $cpu ($((k1 - k0)) ticks) |")
		lab_log "$n links, check=$chk ($states): RSS $rss kB (peak $hwm), CPU $cpu_ns % (schedstat), $cpu % ($((k1 - k0)) ticks in 10 s)"
		ul_stop
	done
done

# ---------------------------------------------------------------------------------------
# 8: the tutorial ping loop vs uplinkd, primary/backup, silent failure of the primary

lab_log "=== 8: ping-loop failover ($PL_RUNS runs, check every $PL_INTERVAL s) vs uplinkd"
PL_OUT=() PL_FAILS=() PL_DETECT=() PL_BACK=() PL_BROKEN=() PL_HELD=() PL_PHASE=() PL_HPHASE=()
# wait_pl WHAT SINCE_US TIMEOUT_S: timestamp of the first pingloop log line WHAT after SINCE
wait_pl() {
	local what=$1 since=$2 t=$3 end ts
	end=$(( $(now_us) + t * 1000000 ))
	while :; do
		ts=$(awk -v w="$what" -v t0="$since" '$1 > t0 && ($2 " " $3) == w { print $1; exit }' "$PLLOG")
		[ -n "$ts" ] && { echo "$ts"; return 0; }
		[ "$(now_us)" -ge "$end" ] && return 1
		sleep 0.02
	done
}
for ((r = 1; r <= PL_RUNS; r++)); do
	: >"$PLLOG"
	t_start=$(now_us)
	lab_bg gw "$ROOT/bench/pingloop.sh" "$PL_INTERVAL" 203.0.113.11 192.168.1.1 wan1 \
		192.168.2.1 wan2 "$PLLOG" 20
	plpid=$LAB_BG_PID
	t_chk=$(wait_pl "check ok" "$t_start" 10) || lab_fail "ping loop: first check did not pass"
	# stratified cut phases: run r of N cuts (r - 0.5) / N of the interval after a check
	phase=$(( (2 * r - 1) * PL_INTERVAL * 1000 / (2 * PL_RUNS) ))
	wait_ms=$(( phase - 1000 - ($(now_us) - t_chk) / 1000 ))
	[ "$wait_ms" -gt 0 ] && sleep_ms "$wait_ms"
	burst_bg $((PL_INTERVAL + 15)) "$LABDIR/burst.out"
	sleep 1
	t_b0=$(burst_t0)
	t_cut0=$(now_us)
	lab_cut 1
	t_cut=$(cut_event "$t_cut0" add) || lab_fail "nft monitor did not see the cut"
	t_sw=$(wait_pl "switch backup" "$t_cut" $((PL_INTERVAL + 10))) ||
		lab_fail "ping loop did not switch to the backup"
	# 3 s of new connections after its switch (a full bench on 2026-12-02 stopped here once
	# with 1.5 s: the last attempts before the end still failed; the next run passed)
	sleep 3
	t_kill=$(now_us)
	kill -TERM "$BURST_PID"
	wait "$BURST_PID"
	read -r o f <<<"$(bench_outage "$LABDIR/burst.out" $(( (t_cut - t_b0) / 1000 )) \
		$(( (t_kill - t_b0) / 1000 - 400 )))"
	[ "$o" -ge 0 ] || lab_fail "ping loop run $r: new connections still failed after the switch"
	PL_OUT+=("$o") PL_FAILS+=("$f") PL_DETECT+=($(( (t_sw - t_cut) / 1000 )))
	PL_PHASE+=($(( (t_cut - t_chk) / 1000 )))
	rm -f "$LABDIR/hold.ready"
	lab_bg lan tcpsrc hold "$SVC" "$PORT" 20 $((PL_INTERVAL * 3)) -i 200 -t 1000 \
		-f "$LABDIR/hold.ready" >"$LABDIR/hold.out" 2>/dev/null
	hpid=$LAB_BG_PID
	lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "tcpsrc hold did not start"
	# the heal is stratified too, in the opposite order: (N - r + 0.5) / N of the interval
	# after the check that switched to the backup (at least 2.5 s, for the hold's set-up)
	hphase=$(( (2 * (PL_RUNS - r) + 1) * PL_INTERVAL * 1000 / (2 * PL_RUNS) ))
	[ "$hphase" -ge 2500 ] || hphase=2500
	wait_ms=$(( hphase - ($(now_us) - t_sw) / 1000 ))
	[ "$wait_ms" -gt 0 ] && sleep_ms "$wait_ms"
	t_heal0=$(now_us)
	lab_heal 1
	t_heal=$(cut_event "$t_heal0" delete) || lab_fail "nft monitor did not see the heal"
	PL_HPHASE+=($(( (t_heal - t_sw) / 1000 )))
	t_back=$(wait_pl "switch primary" "$t_heal" $((PL_INTERVAL + 10))) ||
		lab_fail "ping loop did not switch back"
	sleep 3
	kill -TERM "$hpid"
	wait "$hpid"
	PL_BACK+=($(( (t_back - t_heal) / 1000 )))
	PL_BROKEN+=("$(awk '$1 == "broken" { print $2 }' "$LABDIR/hold.out")")
	PL_HELD+=("$(awk '$1 == "ok" { o = $2 } $1 == "broken" { b = $2 } END { print o + b }' "$LABDIR/hold.out")")
	kill -TERM "$plpid"
	wait "$plpid"
	lab_log "ping loop run $r: cut ${PL_PHASE[-1]} ms after a check; switch after ${PL_DETECT[-1]} ms;" \
		"outage $o ms ($f failed); back ${PL_BACK[-1]} ms after healing;" \
		"held flows broken ${PL_BROKEN[-1]} of ${PL_HELD[-1]}"
done
lab_gw ip route show default | grep -q 'via 192.168.1.1 dev wan1' || lab_fail "ping loop left the route changed"
# The ping loop's masquerade leaves unmarked conntrack entries behind (failed SYNs of its
# outage, NATed to isp1's address, live for 2 min). uplinkd does not flush unmarked entries
# when a link goes down, and a new connection that happens to reuse such a tuple loses its
# first SYN (1 s late; see the report). They are not uplinkd's, so they go here.
lab_gw conntrack -F >/dev/null 2>&1

# uplinkd, the same scenario: isp1 primary (tier 1), isp2 backup (tier 2)
U8_RUNS=5
U8_DET=() U8_OUT=() U8_FAILS=() U8_BACK=() U8_BROKEN=() U8_HELD=()
bconf 2 tiers=1,2 >"$LABDIR/pb.conf"
ul_start "$LABDIR/pb.conf" 2
for ((r = 1; r <= U8_RUNS; r++)); do
	RUN_LABEL="section 8, uplinkd 200 ms, run $r"
	silent_run
	[ "$R_OUTAGE" -ge 0 ] || lab_fail "run $r: new connections still failed at the end of the burst"
	U8_DET+=("$R_DETECT") U8_OUT+=("$R_OUTAGE") U8_FAILS+=("$R_FAILS") U8_BACK+=("$R_BACK")
	U8_BROKEN+=("$R_BROKEN") U8_HELD+=("$R_HELD")
	lab_log "uplinkd primary/backup run $r: detection ${R_DETECT} ms, outage ${R_OUTAGE} ms" \
		"($R_FAILS failed), back ${R_BACK} ms, held flows broken $R_BROKEN of $R_HELD"
done
ul_stop
# and with the default check timing (interval 1 s, timeout 1 s, down_after 3, up_after 3)
U8D_DET=() U8D_OUT=() U8D_BACK=() U8D_BROKEN=() U8D_HELD=()
bconf 2 tiers=1,2 interval=1000 timeout=1000 >"$LABDIR/pbd.conf"
ul_start "$LABDIR/pbd.conf" 2
for ((r = 1; r <= 3; r++)); do
	# 1 s rounds: a longer burst and hold
	RUN_LABEL="section 8, uplinkd defaults, run $r"
	BURST_SECS=6 HOLD_SECS=7 silent_run
	[ "$R_OUTAGE" -ge 0 ] || lab_fail "default timing run $r: still failing at the end of the burst"
	U8D_DET+=("$R_DETECT") U8D_OUT+=("$R_OUTAGE") U8D_BACK+=("$R_BACK") U8D_BROKEN+=("$R_BROKEN")
	U8D_HELD+=("$R_HELD")
	lab_log "uplinkd default timing run $r: detection $R_DETECT ms, outage $R_OUTAGE ms ($R_FAILS failed)," \
		"back ${U8D_BACK[-1]} ms, held flows broken ${U8D_BROKEN[-1]} of ${U8D_HELD[-1]}"
done
ul_stop

# 9. the gateway pair (a lab of its own, tests/integration/ha.sh)
lab_log "section 9: gateway pair takeover (bench/ha.sh)"
HA_SECTION=$("$ROOT/bench/ha.sh" "$B") || HA_SECTION="## 9. Gateway pair: takeover when the master dies

bench/ha.sh failed."

# 10. link quality (this lab)
quality_measure

# ---------------------------------------------------------------------------------------
# 11: lossy links and total outages: uplinkd vs lsm vs the ping loop

LOSS_S=${BENCH_LOSS_S:-120}
LOSS_SCALE=$(awk -v s="$LOSS_S" 'BEGIN { printf "%g", 600 / s }')
LOSS_CELLS=(10:2 10:3 20:2 20:3 30:2 30:3)	# loss % each way : targets, one ISP per cell
# loss_on / loss_off: ISP k = cell k
loss_on() { local k; for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do lab_loss "$k" "${LOSS_CELLS[k-1]%%:*}" both; done; }
loss_off() { local k; for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do lab_loss "$k" 0; done; }
# targets_of N: the first N of 203.0.113.11..
targets_of() { seq -f '203.0.113.%g' 11 $((10 + $1)) | paste -sd, -; }
transitions_of() { lab_link_field "$1" transitions; }

lab_log "=== 11a: uplinkd, ${#LOSS_CELLS[@]} lossy links for $LOSS_S s (200 ms probes)"
{
	echo "daemon = { log_level = \"info\"; hook = \"$LABDIR/hook\"; };"
	echo 'lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24", "10.0.1.0/24" ]; };'
	echo "links = ("
	for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do
		tl=$(targets_of "${LOSS_CELLS[k-1]##*:}" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
		[ "$k" -gt 1 ] && echo "  ,"
		printf '  { name = "isp%d"; interface = "wan%d"; gateway = "192.168.%d.1";\n' "$k" "$k" "$k"
		printf '    check = { targets = [ %s ]; interval_ms = 200; timeout_ms = 200; }; }\n' "$tl"
	done
	echo ");"
} >"$LABDIR/loss.conf"
ul_start "$LABDIR/loss.conf" ${#LOSS_CELLS[@]}
UL_LT0=() UL_LT=() UL_LLOSS=() UL_LST=()
for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do UL_LT0+=("$(transitions_of "isp$k")"); done
loss_on
sleep "$LOSS_S"
for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do
	UL_LT+=($(( $(transitions_of "isp$k") - UL_LT0[k-1] )))
	UL_LLOSS+=("$(lab_link_field "isp$k" loss_pct)")
	UL_LST+=("$(lab_link_field "isp$k" state)")
done
loss_off
ul_stop
lab_log "uplinkd transitions per cell in $LOSS_S s: ${UL_LT[*]}"

# detection of a total outage at 200 and 50 ms probes (3 targets, down_after 3)
lab_log "=== 11b: uplinkd outage detection at 200 ms and 50 ms probes"
U9_200=() U9_50=()
bconf 2 interval=200 timeout=200 >"$LABDIR/o200.conf"
bconf 2 interval=50 timeout=50 >"$LABDIR/o50.conf"
for iv in 200 50; do
	ul_start "$LABDIR/o$iv.conf" 2
	for ((r = 1; r <= 5; r++)); do
		RUN_LABEL="section 11, uplinkd $iv ms, run $r"
		silent_run
		if [ "$iv" = 200 ]; then U9_200+=("$R_DETECT"); else U9_50+=("$R_DETECT"); fi
		lab_log "uplinkd $iv ms run $r: detection $R_DETECT ms"
	done
	ul_stop
done

# lsm: one connection per (link, target), a group (logic or) per link, so a link with N
# targets is down only when all N are; an event script that logs and swaps the route
lab_log "=== 11c: lsm (Debian $(dpkg-query -W -f '${Version}' lsm 2>/dev/null)), shipped defaults and tuned to 200 ms"
LSMLOG=$LABDIR/lsm-events.log
cat >"$LABDIR/lsm-event" <<EOF
#!/bin/sh
# lsm event script: STATE NAME ... PREVSTATE(15); log it, and for the primary swap the route
echo "\$(date +%s%6N) \$2 \${15} \$1" >>"$LSMLOG"
case "\$2" in
d-wan1|t-wan1)
	if [ "\$1" = down ]; then ip route replace default via 192.168.2.1 dev wan2
	elif [ "\$1" = up ]; then ip route replace default via 192.168.1.1 dev wan1; fi ;;
esac
exit 0
EOF
chmod 755 "$LABDIR/lsm-event"
# per-device routing for the gateway's own probes (lsm binds them to the device)
lsm_routes() {	# add|del NLINKS
	local k
	for ((k = 1; k <= $2; k++)); do
		lab_gw ip route "$1" default via "192.168.$k.1" dev "wan$k" table $((100 + k)) 2>/dev/null
		lab_gw ip rule "$1" oif "wan$k" lookup $((100 + k)) pref $((500 + k)) 2>/dev/null
	done
	true
}
# lsm_conf FILE PREFIX:INTERVAL_MS[,...] CELLSPEC...: CELLSPEC = DEV:NTARGETS
lsm_conf() {
	local f=$1 modes=$2 m p iv c dev n t i
	shift 2
	{
		echo "debug=0"
		# the values of Debian's example defaults block (lsm.conf.sample), with our script
		echo "defaults {"
		echo "  name=defaults"
		echo "  checkip=127.0.0.1"
		echo "  eventscript="
		echo "  max_packet_loss=15"
		echo "  max_successive_pkts_lost=7"
		echo "  min_packet_loss=5"
		echo "  min_successive_pkts_rcvd=10"
		echo "  interval_ms=1000"
		echo "  timeout_ms=1000"
		echo "  warn_email="
		echo "  check_arp=0"
		echo "  sourceip="
		echo "  ttl=0"
		echo "}"
		for m in ${modes//,/ }; do
			p=${m%%:*} iv=${m##*:}
			for c in "$@"; do
				dev=${c%%:*} n=${c##*:}
				for ((i = 1; i <= n; i++)); do
					t=203.0.113.$((10 + i))
					printf 'connection {\n  name=%s-%s-%d\n  checkip=%s\n  device=%s\n' "$p" "$dev" "$i" "$t" "$dev"
					printf '  interval_ms=%d\n  timeout_ms=%d\n}\n' "$iv" "$iv"
				done
				printf 'group {\n  name=%s-%s\n  eventscript=%s\n  logic=0\n' "$p" "$dev" "$LABDIR/lsm-event"
				for ((i = 1; i <= n; i++)); do printf '  member-connection=%s-%s-%d\n' "$p" "$dev" "$i"; done
				echo "}"
			done
		done
	} >"$f"
}
# lsm_start CONF...: one lsm per config (an lsm process credits an echo reply to every one
# of its connections to that address, whatever the device: several links probing the same
# targets need one lsm each)
lsm_start() {
	local c
	: >"$LSMLOG"
	LSM_PIDS=()
	for c in "$@"; do
		lab_bg gw lsm -f -c "$c" -p "$c.pid"
		LSM_PIDS+=("$LAB_BG_PID")
	done
}
lsm_stop() { kill -TERM "${LSM_PIDS[@]}" 2>/dev/null; wait "${LSM_PIDS[@]}" 2>/dev/null; true; }
# lsm_count LOG NAME: state changes of group NAME between up and down (not the first one,
# from the initial "unknown")
lsm_count() { awk -v n="$2" '$2 == n && ($3 == "up" || $3 == "down") && $3 != $4 { c++ } END { print c + 0 }' "$1"; }
# lsm_state LOG NAME: the state of group NAME after its last event
lsm_state() { awk -v n="$2" '$2 == n { s = $4 } END { print s ? s : "?" }' "$1"; }

lab_gw ip route replace default via 192.168.1.1 dev wan1
lab_gw sysctl -qw net.ipv4.ip_forward=0
lsm_routes add ${#LOSS_CELLS[@]}
confs=()
for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do
	for m in d:1000 t:200; do
		lsm_conf "$LABDIR/lsm-loss-${m%%:*}$k.conf" "$m" "wan$k:${LOSS_CELLS[k-1]##*:}"
		confs+=("$LABDIR/lsm-loss-${m%%:*}$k.conf")
	done
done
lsm_start "${confs[@]}"
sleep 15	# defaults: the first up needs 10 answers in a row (10 s)
loss_on
mark=$(wc -l <"$LSMLOG")
sleep "$LOSS_S"
lsm_stop
loss_off
tail -n +"$((mark + 1))" "$LSMLOG" >"$LSMLOG.loss"
LSM_D=() LSM_T=() LSM_DST=() LSM_TST=()
for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do
	LSM_D+=("$(lsm_count "$LSMLOG.loss" "d-wan$k")")
	LSM_T+=("$(lsm_count "$LSMLOG.loss" "t-wan$k")")
	LSM_DST+=("$(lsm_state "$LSMLOG" "d-wan$k")")
	LSM_TST+=("$(lsm_state "$LSMLOG" "t-wan$k")")
done
lab_log "lsm transitions per cell in $LOSS_S s: defaults ${LSM_D[*]}, tuned ${LSM_T[*]}"

# lsm outage detection: the primary (3 targets on wan1), cut, until its script ran "down"
LSM_OD=() LSM_OT=()
for mode in d:1000 t:200; do
	p=${mode%%:*}
	lsm_conf "$LABDIR/lsm-o.conf" "$mode" wan1:3
	for ((r = 1; r <= 3; r++)); do
		# a fresh lsm each run: after an outage lsm stays down until the lost pings have
		# left its window of 100 (100 s at the defaults); a new one is up after 10 answers
		lsm_start "$LABDIR/lsm-o.conf"
		for _ in $(seq 300); do
			[ "$(awk -v n="$p-wan1" '$2 == n { s = $4 } END { print s }' "$LSMLOG")" = up ] && break
			sleep 0.1
		done
		[ "$(awk -v n="$p-wan1" '$2 == n { s = $4 } END { print s }' "$LSMLOG")" = up ] ||
			lab_fail "lsm ($p) did not report wan1 up within 30 s"
		sleep_ms $((RANDOM % 1000))
		t_cut0=$(now_us)
		lab_cut 1
		t_cut=$(cut_event "$t_cut0" add) || lab_fail "nft monitor did not see the cut"
		t_dn=
		for _ in $(seq 600); do
			t_dn=$(awk -v n="$p-wan1" -v t0="$t_cut" '$1 > t0 && $2 == n && $4 == "down" { print $1; exit }' "$LSMLOG")
			[ -n "$t_dn" ] && break
			sleep 0.05
		done
		[ -n "$t_dn" ] || lab_fail "lsm ($p) did not declare wan1 down within 30 s"
		if [ "$p" = d ]; then LSM_OD+=($(( (t_dn - t_cut) / 1000 ))); else LSM_OT+=($(( (t_dn - t_cut) / 1000 ))); fi
		lab_heal 1
		lsm_stop
	done
done
lsm_routes del ${#LOSS_CELLS[@]}
lab_gw ip route replace default via 192.168.1.1 dev wan1
lab_log "lsm outage detection: defaults ${LSM_OD[*]} ms, tuned ${LSM_OT[*]} ms"

# the ping loop at the same probe rate (one ping, 1 s timeout, every 0.2 s), one target:
# loss on isp1 only, one loss rate after the other; then its outage detection
lab_log "=== 11d: ping loop at 0.2 s under loss, and its outage detection"
PLL=() PLL_OD=() PLL_ST=()
for pct in 10 20 30; do
	: >"$PLLOG"
	lab_bg gw "$ROOT/bench/pingloop.sh" 0.2 203.0.113.11 192.168.1.1 wan1 192.168.2.1 wan2 "$PLLOG" 1000000
	plpid=$LAB_BG_PID
	wait_pl "check ok" 0 10 >/dev/null || lab_fail "ping loop: first check did not pass"
	lab_loss 1 "$pct" both
	mark=$(wc -l <"$PLLOG")
	sleep "$LOSS_S"
	lab_loss 1 0
	PLL+=("$(tail -n +"$((mark + 1))" "$PLLOG" | grep -c ' switch ')")
	PLL_ST+=("$(awk '$2 == "switch" { s = $3 } END { print s ? s : "primary" }' "$PLLOG")")
	kill -TERM "$plpid"; wait "$plpid"
done
: >"$PLLOG"
lab_bg gw "$ROOT/bench/pingloop.sh" 0.2 203.0.113.11 192.168.1.1 wan1 192.168.2.1 wan2 "$PLLOG" 1000000
plpid=$LAB_BG_PID
for ((r = 1; r <= 3; r++)); do
	sleep_ms $((1000 + RANDOM % 1000))
	t_cut0=$(now_us)
	lab_cut 1
	t_cut=$(cut_event "$t_cut0" add) || lab_fail "nft monitor did not see the cut"
	t_sw=$(wait_pl "switch backup" "$t_cut" 10) || lab_fail "ping loop did not switch"
	PLL_OD+=($(( (t_sw - t_cut) / 1000 )))
	lab_heal 1
	wait_pl "switch primary" "$t_sw" 10 >/dev/null || lab_fail "ping loop did not switch back"
done
kill -TERM "$plpid"; wait "$plpid"
lab_gw conntrack -F >/dev/null 2>&1
lab_log "ping loop transitions per loss rate in $LOSS_S s: ${PLL[*]}; outage detection ${PLL_OD[*]} ms"

# one table row per cell: loss, targets, then per monitor "transitions in the window
# (scaled to 10 min), state at its end"
scaled() { awk -v n="$1" -v s="$LOSS_SCALE" 'BEGIN { printf "%g", n * s }'; }
cell() { echo "$1 ($(scaled "$1")), $2"; }
LOSS_ROWS=()
for ((k = 1; k <= ${#LOSS_CELLS[@]}; k++)); do
	pct=${LOSS_CELLS[k-1]%%:*} nt=${LOSS_CELLS[k-1]##*:}
	pl='-'
	if [ "$nt" = 2 ]; then
		case $pct in 10) i=0 ;; 20) i=1 ;; 30) i=2 ;; esac
		pl="$(cell "${PLL[i]}" "on ${PLL_ST[i]}") (1 target)"
	fi
	LOSS_ROWS+=("| $pct % | $nt | $(cell "${UL_LT[k-1]}" "${UL_LST[k-1]}") (loss shown ${UL_LLOSS[k-1]} %) | $(cell "${LSM_D[k-1]}" "${LSM_DST[k-1]}") | $(cell "${LSM_T[k-1]}" "${LSM_TST[k-1]}") | $pl |")
done
# 13. repair after nft flush ruleset (defined above)
repair_bench

# ---------------------------------------------------------------------------------------
# 12: 100,000 prefixes (a lab of its own: bench/sets.sh)

lab_log "=== 12: 100,000 prefixes (bench/sets.sh)"
SETS_MD=$("$ROOT/bench/sets.sh" "$B" 2>>"$LABDIR/sets.err") || SETS_MD="bench/sets.sh failed: $(tail -3 "$LABDIR/sets.err")"

# ---------------------------------------------------------------------------------------
# RESULTS.md

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
TOTAL_S=$(( ($(now_us) - T_START) / 1000000 ))
lab_log "writing $OUT"

# pairs UL_ARRAY BASE_ARRAY: "median (min-max)" of the per-round ratios
pairs() {
	local -n pu=$1 pb=$2
	local i v=()
	for ((i = 0; i < ${#pu[@]} && i < ${#pb[@]}; i++)); do
		v+=("$(awk -v a="${pu[i]}" -v b="${pb[i]}" 'BEGIN { printf "%.3f", a / b }')")
	done
	printf '%s (%s-%s)' "$(median "${v[@]}")" "$(best "${v[@]}")" "$(worst "${v[@]}")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
pct() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.1f", a * 100 / n }'; }
row_mw() { local s; s=$(stats "$@"); echo "$(echo "$s" | cut -d' ' -f1) | $(echo "$s" | cut -d' ' -f2)"; }

b2_1=$(share "$BAL2" 192.168.1.2); b2_2=$(share "$BAL2" 192.168.2.2); b2_f=$(share "$BAL2" fail)
b3_1=$(share "$BAL3" 192.168.1.2); b3_2=$(share "$BAL3" 192.168.2.2); b3_3=$(share "$BAL3" 192.168.3.2)
b3_f=$(share "$BAL3" fail)
fb1=$(median "${F_base_1[@]}"); fu1=$(median "${F_ul_1[@]}")
fb4=$(median "${F_base_4[@]}"); fu4=$(median "${F_ul_4[@]}")
fbc=$(median "${F_base_cr[@]}"); fuc=$(median "${F_ul_cr[@]}")

if [ ${#ANOMALIES[@]} = 0 ]; then
	AN_TEXT="None."
else
	AN_TEXT=$(printf '%s\n\n' "${ANOMALIES[@]}")
fi
M_NOTE=
if [ "$M_INIT" = 1 ]; then
	M_NOTE='
- Note: links without a check stayed in state `init` instead of `up` (uplinkd.conf(5): "A link
  without a check is up while its interface has carrier"): a daemon bug, reported. It does
  not change this measurement (while no link is up, all links with carrier carry traffic),
  but such a link carries no new connections once another link is up.'
fi

{
cat <<EOF
# uplinkd benchmarks

Generated by \`bench/run.sh\`; do not edit by hand.

- Date: $DATE
- Command: \`$CMDLINE\` (as root; runs \`bench/run.sh $B\`)
- Kernel: $KERNEL
- CPUs: $NCPU ($CPU_MODEL)
- Load average (1/5/15 min) at start: $LOAD_START; at the end: $LOAD_END. Other builds and test
  suites shared the machine, so timings are noisy.
- Total run time: $((TOTAL_S / 60)) min $((TOTAL_S % 60)) s
- Lab: tests/lab/lab.sh with 8 ISPs (BCP38 on), all in network namespaces; LAN host 10.0.0.2 ->
  gateway (uplinkd) -> ISP k (192.168.k.1) -> "Internet" host (203.0.113.10-19). Failures are
  made in the ISP namespaces: \`lab_cut\` (nft drop of everything forwarded, carrier stays up),
  \`lab_carrier_down\` (the ISP's end of the veth goes down). Times are wall-clock
  microseconds (\`\$EPOCHREALTIME\`). "Down"/"up" take effect when uplinkd changes its
  balance table (250): an \`ip monitor link route\` runs in the gateway namespace for the
  whole benchmark and every event line is timestamped as it arrives. A hook that uplinkd runs
  on every transition (\`date +%s%6N\` into a file) confirms each transition; its own
  timestamp comes $(median "${HOOK_LAG[@]}") ms (median; worst $(worst "${HOOK_LAG[@]}") ms) after the route change,
  mostly the start-up of /bin/sh and date(1) on this loaded machine, so it is not used for
  the times.
- Checks, unless said otherwise: icmp to 3 targets (203.0.113.11-13), quorum 1, interval 200 ms,
  timeout 200 ms, down_after 3, up_after 3.

## 1. Failover time, silent upstream failure ($RUNS runs)

Two links, weights 1:1, isp1 cut while new connections keep coming.

| | median | worst |
|---|---|---|
| (a) detection: cut -> isp1 out of the balance route (ms) | $(row_mw "${S_DET[@]}") |
| (b) outage for new connections (ms) | $(row_mw "${S_OUT[@]}") |

- Per run, detection (ms): ${S_DET[*]}
- Per run, outage (ms): ${S_OUT[*]}; failed attempts per run: ${S_FAILS[*]}
- How (a): from the cut to uplinkd's change of the balance route (isp1 taken out) after its
  \`up -> down\` transition. The cut is \`lab_cut 1\`, an \`nft\` command in ISP 1's namespace
  that adds a drop rule; its commit is timestamped by an \`nft monitor\` running there, like
  the gateway's monitor. (The command itself takes $(median "${S_CUT[@]}") ms, median, and returns
  $(median "${S_CUTRET[@]}") ms after the commit: its return would be a poor reference here.) Expected with these settings: the first round sent after the
  cut fails 200 ms later (timeout), rounds follow back to back, so the third failed round
  ends 600-800 ms after the cut; then the routes are applied.
- How (b): \`tcpsrc burst\` from the LAN, a new connection every 20 ms, each must deliver its
  first line within 300 ms; outage = time from the cut to the start of the first attempt after
  which every attempt succeeded (20 ms resolution). With 1:1 weights only the attempts hashed
  to isp1 fail during the outage; the outage ends when the routes change (a) (20 ms
  resolution; attempts whose SYN left just before the change fail too).

## 2. Carrier loss detection ($RUNS runs)

| | median | worst |
|---|---|---|
| detection: carrier event -> isp1 out of the balance route (ms) | $(row_mw "${C_DET_MS[@]}") |
| outage for new connections (ms) | $(row_mw "${C_OUT[@]}") |
| carrier back -> isp1 back in the balance route (ms) | $(row_mw "${C_BACK[@]}") |

- Per run, detection (ms): ${C_DET_MS[*]}; outage (ms): ${C_OUT[*]}; failed attempts: ${C_FAILS[*]}
- How: \`ip -n ISP1 link set c1 down\`; from the moment the gateway's monitor reports wan1
  NO-CARRIER to the monitor's balance route change (isp1 taken out); back: from wan1
  LOWER_UP to the change that takes isp1 back in (the ip command itself takes
  $(median "${C_CMD[@]}") ms, median, mostly process start-up, and is no usable reference at this
  scale). The way back needs up_after = 3 good rounds.
- Outage measured as in 1(b), from the carrier event. An outage of 0 means that no attempt
  failed: uplinkd reacts to the carrier event within a few ms, less than the 20 ms between
  attempts, so at most one attempt can fall into the window (and only if it is hashed to
  isp1).

## 3. Failback ($RUNS runs, the runs of section 1)

| | median | worst | total over the runs |
|---|---|---|---|
| heal -> isp1 back in the balance route (ms) | $(row_mw "${S_BACK[@]}") | |
| flows opened during the outage broken by the failback | $(median "${S_BROKEN[@]}") | $(worst "${S_BROKEN[@]}") | $(sum "${S_BROKEN[@]}") of $(sum "${S_HELD[@]}") |

- Per run, heal -> up (ms): ${S_BACK[*]}; broken: ${S_BROKEN[*]}
- How: after isp1 went down, \`tcpsrc hold\` opens 20 connections (all on isp2, the only link
  up), then isp1 is healed (\`lab_heal 1\`); time from its commit (nft monitor) to the
  balance route change that takes isp1 back in (after \`down -> up\`: up_after = 3 good
  rounds, so 400-600 ms expected). The 20 connections echo one byte every 200 ms for 4 s
  (timeout 1 s each) across the failback; a reset, EOF or missing echo counts as broken.

## 4. Balance accuracy

| config | connections | link | share | target | deviation |
|---|---|---|---|---|---|
| weights 30/70 | 1000 (fail ${b2_f:-?}) | isp1 | ${b2_1:-0} ($(pct "${b2_1:-0}" 1000) %) | 30 % | $(awk -v a="${b2_1:-0}" 'BEGIN { printf "%+.1f", a / 10 - 30 }') pp |
| | | isp2 | ${b2_2:-0} ($(pct "${b2_2:-0}" 1000) %) | 70 % | $(awk -v a="${b2_2:-0}" 'BEGIN { printf "%+.1f", a / 10 - 70 }') pp |
| weights 1:1:1 | 1000 (fail ${b3_f:-?}) | isp1 | ${b3_1:-0} ($(pct "${b3_1:-0}" 1000) %) | 33.3 % | $(awk -v a="${b3_1:-0}" 'BEGIN { printf "%+.1f", a / 10 - 100 / 3 }') pp |
| | | isp2 | ${b3_2:-0} ($(pct "${b3_2:-0}" 1000) %) | 33.3 % | $(awk -v a="${b3_2:-0}" 'BEGIN { printf "%+.1f", a / 10 - 100 / 3 }') pp |
| | | isp3 | ${b3_3:-0} ($(pct "${b3_3:-0}" 1000) %) | 33.3 % | $(awk -v a="${b3_3:-0}" 'BEGIN { printf "%+.1f", a / 10 - 100 / 3 }') pp |

- How: \`tcpsrc count 203.0.113.10 5001 1000 -p 8\` from one LAN address (10.0.0.2); the server
  reports the address each connection arrived from, i.e. the link's masquerade address. The
  kernel picks the nexthop of the weighted multipath route by an L4 hash
  (fib_multipath_hash_policy=1), so the share is binomial: one standard deviation is 1.4 pp
  for 30/70 and 1.5 pp for 1:1:1 over 1000 connections.

## 5. Forwarding: uplinkd vs the bare kernel ($ROUNDS rounds, medians)

| | bare kernel, median | uplinkd, median | ratio | bare kernel, best | uplinkd, best | ratio |
|---|---|---|---|---|---|---|
| iperf3, 1 stream (Mbit/s) | $fb1 | $fu1 | $(ratio "$fu1" "$fb1") | $(worst "${F_base_1[@]}") | $(worst "${F_ul_1[@]}") | $(ratio "$(worst "${F_ul_1[@]}")" "$(worst "${F_base_1[@]}")") |
| iperf3, 4 streams (Mbit/s) | $fb4 | $fu4 | $(ratio "$fu4" "$fb4") | $(worst "${F_base_4[@]}") | $(worst "${F_ul_4[@]}") | $(ratio "$(worst "${F_ul_4[@]}")" "$(worst "${F_base_4[@]}")") |
| new connections per second | $fbc | $fuc | $(ratio "$fuc" "$fbc") | $(worst "${F_base_cr[@]}") | $(worst "${F_ul_cr[@]}") | $(ratio "$(worst "${F_ul_cr[@]}")" "$(worst "${F_base_cr[@]}")") |

Paired ratios (uplinkd / bare kernel of the same round), median and range: 1 stream
$(pairs F_ul_1 F_base_1); 4 streams $(pairs F_ul_4 F_base_4); connections/s
$(pairs F_ul_cr F_base_cr).

- Per round, bare kernel: 1 stream ${F_base_1[*]}; 4 streams ${F_base_4[*]}; conn/s ${F_base_cr[*]}
- Per round, uplinkd: 1 stream ${F_ul_1[*]}; 4 streams ${F_ul_4[*]}; conn/s ${F_ul_cr[*]}
- How: iperf3 -t 3 (receiver's rate) from the LAN host to 203.0.113.10, and
  \`tcpsrc count ... 5000 -p 8\` timed (connect, read one line, close; 8 in parallel).
  Bare kernel: uplinkd stopped, in the gateway a plain multipath default route over wan1/wan2
  (weights 1:1, L4 hash), ip_forward=1 and one nft masquerade rule; uplinkd: two links 1:1 with
  its default 1 s icmp checks (so the datapath has its prerouting/postrouting/route chains, ip
  rules and conntrack marks). The two alternate (bare first in odd rounds, uplinkd first in
  even ones), the gateway's conntrack table is flushed before each, and the medians are
  compared, and so are the best rounds ("best" = highest: other jobs on the machine only
  ever slow a round down, so the best round is the closest to the uncontended rate).
  Goal: ratio >= 0.95. The spread between rounds of the same mode (see the per-round
  numbers) is often larger than the difference between the modes, above all for 4 streams
  and for connections/s: read a ratio within about +-0.1 of 1 as "no measurable
  difference", and compare with the paired ratios.
- Caveat: all of it is veth pairs between namespaces on a $NCPU-CPU machine: the sender, the
  gateway, the ISP router and the receiver share the same CPUs, so the numbers measure CPU
  cost per packet, not a NIC, and are noisy while other jobs run.

## 6. 10,000 pinned prefixes (3 runs)

A rule \`{ name = "pinned"; dst = [ 10,000 /24s ]; via = [ "isp1" ]; }\` (config file of
$((P_CONF_BYTES / 1024)) KiB, non-adjacent /24s so that nft cannot merge them).

| | median | worst |
|---|---|---|
| config check alone, \`uplinkd -t\` (ms) | $(row_mw "${P_CHECK[@]}") |
| start -> ready, no rules (ms, reference) | $(row_mw "${P_START0[@]}") |
| start -> ready, 10,000 prefixes (ms) | $(row_mw "${P_START[@]}") |
| reload, same file: reload + status answered (ms) | $(row_mw "${P_SAME[@]}") |
| reload, 1,000 of 10,000 prefixes changed (ms) | $(row_mw "${P_CHG[@]}") |

- Per run: start ${P_START[*]} ms; reload same ${P_SAME[*]} ms (\`uplinkctl reload\` alone
  ${P_SAME_RL[*]}); changed ${P_CHG[*]} ms (\`uplinkctl reload\` alone ${P_CHG_RL[*]})
- Elements in \`nft list set inet uplinkd r_pinned_dst4\` after start and after each changed
  reload: ${P_COUNT[*]} (expected 10000); after each changed reload the set holds the new
  prefixes and not the replaced ones (checked). Daemon RSS with the 10,000 prefixes:
  ${P_RSS[*]} kB.
- How: start -> ready is from launching uplinkd to its "ready" log line (polled every 5 ms;
  uplinkd logs it after the first apply). \`uplinkctl reload\` answers once the new config is
  loaded; uplinkd applies it on a zero timer right after, in its single thread, so the time
  until a following \`uplinkctl status\` is answered includes the apply.

## 7. RSS and CPU of the daemon

| links | probes | link states | VmRSS (kB) | VmHWM (kB) | CPU % | CPU % from utime+stime |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${M_ROWS[@]}")

- How: uplinkd started with the configuration, links up, 2 s to settle, then 10 s measured:
  CPU % = time on CPU from /proc/PID/schedstat (ns) over the wall time; the last column is
  the same from utime+stime in /proc/PID/stat (clock ticks of 1/$HZ s, so 0.1 % resolution).
  RSS and its peak (HWM) from /proc/PID/status at the end. Log level info.$M_NOTE
- 8 links is the maximum the contract allows (the issue text mentions 16; uplinkd refuses
  more than 8 links in the configuration), so 8 is what is measured.

## 8. Side by side: tutorial ping-loop failover vs uplinkd (primary/backup)

Primary isp1, backup isp2; isp1 is cut silently while new connections keep coming, later it
is healed while 20 connections opened during the outage are open.

| | ping loop (every ${PL_INTERVAL} s) | uplinkd (200 ms, 3/3) | uplinkd (defaults: 1 s, 3/3) |
|---|---|---|---|
| runs | $PL_RUNS | $U8_RUNS | 3 |
| outage for new connections, median / worst (ms) | $(median "${PL_OUT[@]}") / $(worst "${PL_OUT[@]}") | $(median "${U8_OUT[@]}") / $(worst "${U8_OUT[@]}") | $(median "${U8D_OUT[@]}") / $(worst "${U8D_OUT[@]}") |
| heal -> traffic back on the primary, median (ms) | $(median "${PL_BACK[@]}") | $(median "${U8_BACK[@]}") | $(median "${U8D_BACK[@]}") |
| connections broken by the swap back (total) | $(sum "${PL_BROKEN[@]}") of $(sum "${PL_HELD[@]}") | $(sum "${U8_BROKEN[@]}") of $(sum "${U8_HELD[@]}") | $(sum "${U8D_BROKEN[@]}") of $(sum "${U8D_HELD[@]}") |

- Ping loop per run: cut ${PL_PHASE[*]} ms after its last check; outage ${PL_OUT[*]} ms
  (failed attempts ${PL_FAILS[*]}); healed ${PL_HPHASE[*]} ms after the check that switched to
  the backup; swap back ${PL_BACK[*]} ms after healing; broken
  ${PL_BROKEN[*]} (of 20 each)
- uplinkd (200 ms) per run: detection ${U8_DET[*]} ms; outage ${U8_OUT[*]} ms; back
  ${U8_BACK[*]} ms; broken ${U8_BROKEN[*]}
- uplinkd (defaults) per run: detection ${U8D_DET[*]} ms; outage ${U8D_OUT[*]} ms; back
  ${U8D_BACK[*]} ms; broken ${U8D_BROKEN[*]}
- How: bench/pingloop.sh runs in the gateway namespace, as the common tutorials do it: a host
  route for the check target via the primary, plain nft masquerade on wan1 and wan2, and every
  ${PL_INTERVAL} s one \`ping -c 1 -W 1\`; on failure \`ip route replace default via\` the
  backup, back when the ping answers again; no connection marking. Its cuts are placed
  (r - 0.5) / $PL_RUNS of the interval after a check and the heals ($PL_RUNS - r + 0.5) / $PL_RUNS after one
  (stratified, r = 1..$PL_RUNS), so the expected outage and the expected time back are about
  half the interval (plus up to the 1 s ping timeout for the outage). Outage measured as in 1(b); the broken count
  as in 3 (held 20 connections echoing every 200 ms, timeout 1 s), observed for 3 s after the
  swap back. The ping loop breaks them because their masqueraded source address (of isp2)
  leaves by isp1 after the swap and the ISP's anti-spoofing filter drops it; uplinkd keeps
  every connection on the link it started on (conntrack mark).

$HA_SECTION

$(quality_section)

## 11. Lossy links and total outages: uplinkd vs lsm vs the ping loop

State changes with random loss in each direction (nft numgen in the ISP, drawn
independently for each packet and direction). Each cell ran for $LOSS_S s
(\`BENCH_LOSS_S\`); a cell shows "transitions in $LOSS_S s (scaled by $LOSS_SCALE to 10
minutes), the state at the end". A cell with no transition says "none in $LOSS_S s", not
"none in 10 min" (the 10-minute figure itself needs \`BENCH_LOSS_S=600\`); a monitor that
declared the lossy link down and kept it down shows 1 transition and "down": it did not
flap, but the link carried nothing. The cells of one monitor run at the same time, one ISP
each.

| loss each way | targets | uplinkd (200 ms, down_after 3) | lsm, shipped defaults (1 s) | lsm tuned to 200 ms | ping loop (0.2 s) |
|---|---|---|---|---|---|
$(printf '%s\n' "${LOSS_ROWS[@]}")

| detection of a total outage (cut -> declared down), ms | runs | median | worst |
|---|---|---|---|
| uplinkd, 200 ms probes, 3 targets, down_after 3 | ${#U9_200[@]} | $(row_mw "${U9_200[@]}") |
| uplinkd, 50 ms probes, 3 targets, down_after 3 | ${#U9_50[@]} | $(row_mw "${U9_50[@]}") |
| lsm, shipped defaults (1 s), 3 targets | ${#LSM_OD[@]} | $(row_mw "${LSM_OD[@]}") |
| lsm tuned to 200 ms, 3 targets | ${#LSM_OT[@]} | $(row_mw "${LSM_OT[@]}") |
| ping loop every 0.2 s (ping -W 1), 1 target | ${#PLL_OD[@]} | $(row_mw "${PLL_OD[@]}") |

- Per run: uplinkd 200 ms ${U9_200[*]}; 50 ms ${U9_50[*]}; lsm defaults ${LSM_OD[*]}; lsm
  tuned ${LSM_OT[*]}; ping loop ${PLL_OD[*]}
- uplinkd: icmp checks, quorum 1, interval = timeout, down_after 3, up_after 3; a probe not
  answered is sent again at 1/3 and 2/3 of the timeout (uplinkd.conf(5), "Lossy links").
  "Loss shown" is the link's \`loss_pct\` in the status at the end of the cell (last 10
  rounds, per probe sent). Its detection is measured as in section 1 (cut -> balance route
  change), with the 3 targets 203.0.113.11-13.
- lsm $(dpkg-query -W -f '${Version}' lsm 2>/dev/null): one lsm process per cell and setting
  (with one process for all cells, the lossy links' connections were credited with the
  echo replies other links got from the same addresses and hardly went down: links
  probing the same targets need an lsm each), one
  \`connection\` per target (bound to the link's device; a per-device ip rule in the gateway
  routes its pings), one \`group\` per link with \`logic=0\` (down only when every member
  is), so N targets count as for uplinkd. "Shipped defaults": the defaults block of Debian's
  lsm.conf.sample (max_packet_loss 15, max_successive_pkts_lost 7, min_packet_loss 5,
  min_successive_pkts_rcvd 10, interval_ms 1000, timeout_ms 1000); "tuned": the same with
  interval_ms = timeout_ms = 200. The event script logs the event (\`date +%s%6N\`, so
  its times include the start of /bin/sh) and swaps the main table's default route for the
  primary, as a minimal lsm setup does. lsm starts each group in "unknown": its first event
  is not counted.
- ping loop: bench/pingloop.sh (section 8) with a 0.2 s interval, its one target, loss on the
  primary only (each loss rate after the other, $LOSS_S s each); a transition is a route
  switch. Its detection: cut -> its log line "switch backup".

## 12. 100,000 prefixes: a file set, side by side with nft -f

$SETS_MD

$(repair_md)

## Anomalies

Runs of sections 1 and 8 (uplinkd) are checked for transitions other than isp1 down and back
up, held connections not all established on isp2, and outages more than 300 ms longer than
the detection; those of section 10 for transitions other than isp1 up -> degraded -> up, and
more than 9 transitions in a jitter case.

$AN_TEXT
EOF
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
lab_log "done in $((TOTAL_S / 60)) min $((TOTAL_S % 60)) s; results in $OUT"
