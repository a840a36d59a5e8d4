# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
#
# Section 10 of the benchmarks: link quality (degraded by delay and loss), with the lab's
# delay line. Sourced by bench/run.sh after its helpers (now_us, stats, route_event,
# wait_hook, random_phase, $HOOKLOG, $CUTMON, $TARGETS); defines quality_measure (runs it,
# fills the Q_* variables) and quality_section (prints the markdown).
# Knobs: BENCH_Q_RUNS (5) runs per delay, BENCH_Q_JITTER_S (60) seconds per jitter case.

# shellcheck source-path=SCRIPTDIR/.. source=tests/lab/conf.sh
. "$ROOT/tests/lab/conf.sh"
Q_RUNS=${BENCH_Q_RUNS:-5}
Q_JITTER_S=${BENCH_Q_JITTER_S:-60}

# qconf TIMEOUT_MS CHECK_EXTRA: 2 links 1:1, icmp to 3 targets every 200 ms, debug log (the
# rounds are read back from it), the bench's hook
qconf() {
	lab_conf 2 weights=1,1 interval=200 timeout="$1" down=3 up=3 quorum=1 level=debug \
		targets="$TARGETS" check_extra="$2" daemon_extra="hook = \"$LABDIR/hook\";"
}

# delay_event SINCE_US insert|delete: timestamp (us) of the first insertion (lab_delay) or
# deletion (lab_undelay) of the delay line's iptables rule in ISP 1, as nft monitor saw it
delay_event() {
	local ts i
	for ((i = 0; i < 100; i++)); do
		ts=$(awk -v t0="$1" -v w="$2" '$1 > t0 && $2 == w && $3 == "rule" && $5 == "filter" && $6 == "FORWARD" { print $1; exit }' "$CUTMON")
		[ -n "$ts" ] && { echo "$ts"; return 0; }
		sleep 0.02
	done
	return 1
}

# q_run MS: one run: +MS on isp1 until it leaves the balance, then without until it is back.
# Appends to Q_DEG_<MS>, Q_BACK_<MS>, Q_RTT_<MS>.
q_run() {
	local ms=$1 t0 td tr t1 tu tb rtt trans
	local -n deg=Q_DEG_$ms back=Q_BACK_$ms rtts=Q_RTT_$ms
	# a fresh daemon per run: a link degraded again less than 300 rounds after it recovered
	# is flapping, and its recovery would need 20, 40... rounds
	ul_start "$LABDIR/q.conf" 2
	sleep 2.2	# a full quality window of fast rounds
	random_phase
	t0=$(now_us)
	lab_delay 1 "$ms"
	td=$(delay_event "$t0" insert) || lab_fail "nft monitor did not see the delay rule"
	wait_hook isp1 degraded "$td" 15 >/dev/null || lab_fail "isp1 not degraded 15 s after +$ms ms"
	tr=$(route_event "$td" down 15) || lab_fail "no balance route change after isp1 degraded"
	deg+=($(( (tr - td) / 1000 )))
	sleep 2.2	# the window full of delayed rounds: status shows the added RTT
	rtt=$(lab_link_field isp1 rtt_ms) || rtt=-1
	rtts+=("$(printf '%.1f' "$rtt")")
	t1=$(now_us)
	lab_undelay 1
	tu=$(delay_event "$t1" delete) || lab_fail "nft monitor did not see the delay rule go"
	wait_hook isp1 up "$tu" 30 >/dev/null || lab_fail "isp1 not up 30 s after the delay went"
	tb=$(route_event "$tu" up 30) || lab_fail "no balance route change after isp1 came back"
	back+=($(( (tb - tu) / 1000 )))
	trans=$(awk -v t0="$t0" '$1 > t0 { printf "%s %s->%s; ", $2, $3, $4 }' "$HOOKLOG")
	[ "$trans" = "isp1 up->degraded; isp1 degraded->up; " ] ||
		ANOMALIES+=("- section 10, +$ms ms: unexpected transitions: $trans")
	lab_log "quality +$ms ms: out of the balance after ${deg[-1]} ms, back ${back[-1]} ms after" \
		"the delay went; rtt_ms with the delay ${rtts[-1]}"
	ul_stop
}

# q_replay LOG FIRST_LINE LAST_LINE MAX_RTT MAX_LOSS RULE: replays isp1's rounds of the
# daemon's debug log through the up/degraded rule (window of 10 rounds; margin 80% of the
# RTT limit, half the loss limit). RULE "1.0": one round within the margin recovers; "2.0":
# UL_RECOVER_ROUNDS rounds in a row, doubled on a flap (src/core/linkstate.c). Prints the
# number of up<->degraded transitions among the rounds logged in FIRST_LINE..LAST_LINE.
q_replay() {
	awk -v first="$2" -v last="$3" -v L="$4" -v LP="$5" -v rule="$6" '
		NR > last { exit }
		/^=== .* uplinkd -c / { n = 0; st = ""; seen = 0; split("", A); split("", S); split("", R); next }
		/^<7>link isp1: round / {
			split($4, a, "/"); ans = a[1]; sent = a[2]; rtt = $7 + 0
			n++; i = n % 10; A[i] = ans; S[i] = sent; R[i] = rtt
			w = n < 10 ? n : 10; sa = 0; ss = 0; sr = 0
			for (k = 0; k < 10; k++) if (k in A) { sa += A[k]; ss += S[k]; sr += R[k] * A[k] }
			avg = sa ? sr / sa : -1; loss = ss ? 100 * (ss - sa) / ss : 0
			bad = (L && avg > L) || (LP && loss > LP)
			good = !((L && avg > 0.8 * L) || (LP && loss > LP / 2))
			if (ans == 0) { margin = 0; inst++; next }
			if (st == "") { st = bad ? "degraded" : "up"; need = 10; seen = bad; inst = 0; next }
			inst++
			if (st == "up" && bad) {
				if (rule == "2.0") { if (seen && inst < 300) need = need * 2 > 320 ? 320 : need * 2; else need = 10 }
				seen = 1; st = "degraded"; inst = 0; margin = 0; if (NR >= first) tr++
			} else if (st == "degraded") {
				margin = good ? margin + 1 : 0
				if ((rule == "1.0" && good) || (rule == "2.0" && margin >= need)) {
					st = "up"; inst = 0; margin = 0; if (NR >= first) tr++
				}
			}
		}
		END { print tr + 0 }' "$1"
}

# q_jitter NAME TIMEOUT_MS CHECK_EXTRA MAX_RTT MAX_LOSS DELAY_ARGS...: uplinkd with the
# config, isp1 given DELAY_ARGS (lab_delay) for Q_JITTER_S s; one row of the table in Q_JROWS
q_jitter() {
	local name=$1 timeout=$2 extra=$3 L=$4 LP=$5 t0 t1 l0 l1 n rounds above r10 r20 stats_r
	shift 5
	qconf "$timeout" "$extra" >"$LABDIR/qj.conf"
	ul_start "$LABDIR/qj.conf" 2
	sleep 2.2
	lab_delay 1 "$@"
	l0=$(wc -l <"$LABDIR/uplinkd.log")
	t0=$(now_us)
	sleep "$Q_JITTER_S"
	t1=$(now_us)
	l1=$(wc -l <"$LABDIR/uplinkd.log")
	n=$(awk -v t0="$t0" -v t1="$t1" '$1 > t0 && $1 < t1 && $2 == "isp1"' "$HOOKLOG" | wc -l)
	rounds=$(sed -n "$((l0 + 1)),${l1}p" "$LABDIR/uplinkd.log" |
		sed -n 's/^<7>link isp1: round \([0-9]*\)\/\([0-9]*\) answered, rtt \([0-9.]*\) ms$/\1 \2 \3/p')
	if [ "$L" != 0 ]; then
		above=$(awk -v L="$L" '$1 > 0 && $3 > L' <<<"$rounds" | wc -l)
		stats_r=$(awk '$1 > 0 { print $3 }' <<<"$rounds" | sort -n |
			awk '{ v[NR] = $1 } END { printf "%.0f (%.0f-%.0f) ms", v[int((NR + 1) / 2)], v[1], v[NR] }')
	else
		# loss: rounds whose own loss is above the limit
		above=$(awk -v LP="$LP" '$2 > 0 && 100 * ($2 - $1) / $2 > LP' <<<"$rounds" | wc -l)
		stats_r=$(awk '{ s += $2; a += $1 } END { printf "%.1f %% of %d probes lost", 100 * (s - a) / s, s }' <<<"$rounds")
	fi
	r10=$(q_replay "$LABDIR/uplinkd.log" "$((l0 + 1))" "$l1" "$L" "$LP" 1.0)
	r20=$(q_replay "$LABDIR/uplinkd.log" "$((l0 + 1))" "$l1" "$L" "$LP" 2.0)
	Q_JROWS+=("| $name | $(wc -l <<<"$rounds") | $above | $stats_r | $n | $r20 | $r10 |")
	[ "$n" -le 9 ] || ANOMALIES+=("- section 10, $name: $n transitions in $Q_JITTER_S s (documented: at most 9 in 300 rounds)")
	[ "$n" = "$r20" ] || lab_log "section 10, $name: replay of the current rule gives $r20, measured $n"
	lab_log "quality jitter $name: $(wc -l <<<"$rounds") rounds, $above beyond the limit;" \
		"$n transitions (replayed: current rule $r20, 1.0 rule $r10)"
	lab_undelay 1
	ul_stop
}

quality_measure() {
	local r
	lab_log "=== 10: link quality, $Q_RUNS runs per delay, jitter cases of $Q_JITTER_S s"
	Q_DEG_150=() Q_BACK_150=() Q_RTT_150=() Q_DEG_400=() Q_BACK_400=() Q_RTT_400=() Q_JROWS=()
	Q_T0=$(now_us)
	Q_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
	qconf 1000 'max_rtt_ms = 100;' >"$LABDIR/q.conf"
	for ((r = 1; r <= Q_RUNS; r++)); do
		q_run 150
		q_run 400
	done
	q_jitter 'RTT 83 +- 60 ms per packet (rounds ~100 ms), max_rtt_ms = 100' 1000 'max_rtt_ms = 100;' \
		100 0 83 60
	q_jitter 'RTT 83 +- 80 ms per packet, max_rtt_ms = 100' 1000 'max_rtt_ms = 100;' 100 0 83 80
	q_jitter '20 % loss, max_loss_pct = 20' 300 'max_loss_pct = 20;' 0 20 0 0 20
	Q_LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
	Q_SECS=$(( ($(now_us) - Q_T0) / 1000000 ))
	Q_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
}

quality_section() {
	cat <<EOF
## 10. Link quality: degraded by delay, jitter and loss

Two links 1:1; isp1 gets latency, jitter or loss from the lab's delay line (\`lab_delay\`,
tests/lab/delayline.c: NFQUEUE in ISP 1's namespace holds the verdict of every packet it
forwards upstream, so the requested delay is added RTT). Checks: icmp to 3 targets every
200 ms, timeout 1000 ms, \`max_rtt_ms = 100\` (the loss case: \`max_loss_pct = 20\`, timeout
300 ms). Measured $Q_DATE in $((Q_SECS / 60)) min $((Q_SECS % 60)) s, load $Q_LOAD0 at start and $Q_LOAD1 at the end.

| | median | worst | expected |
|---|---|---|---|
| +150 ms -> isp1 out of the balance route (ms) | $(row_mw "${Q_DEG_150[@]}") | 7th slow round: 1350-1550 |
| +150 ms removed -> isp1 back in (ms) | $(row_mw "${Q_BACK_150[@]}") | 14th fast round: 2600-2800 |
| +400 ms -> isp1 out of the balance route (ms) | $(row_mw "${Q_DEG_400[@]}") | 3rd slow round: 1200-1400 |
| +400 ms removed -> isp1 back in (ms) | $(row_mw "${Q_BACK_400[@]}") | 17th fast round: 3200-3400 |

- Per run, +150 ms: out ${Q_DEG_150[*]} ms; back ${Q_BACK_150[*]} ms; isp1's \`rtt_ms\` in
  \`uplinkctl status --json\` 2.2 s after it went out: ${Q_RTT_150[*]} ms (requested: +150)
- Per run, +400 ms: out ${Q_DEG_400[*]} ms; back ${Q_BACK_400[*]} ms; \`rtt_ms\`: ${Q_RTT_400[*]} ms
  (a round lasts until its answers, 400 ms here, so the window holds fewer slow rounds)
- How: from the commit of the delay line's iptables rule in ISP 1 (seen by the \`nft monitor\`
  there) to the gateway's balance route change that takes isp1 out after \`up -> degraded\`;
  back: from the rule's deletion to the change that takes it in again after
  \`degraded -> up\`. Each run has a daemon of its own (a link degraded again within 300
  rounds of recovering is flapping: its next recovery needs 20, 40... rounds) and starts
  with 10 fast rounds in the window, at a random phase.
  The limit is on the average of the last 10 rounds, so +D ms on a fast link takes the
  smallest k with k x D > 10 x 100 ms rounds (7 for 150 ms, 3 for 400 ms); leaving degraded
  needs the average at most 80 ms (5 resp. 8 fast rounds) and then 10 rounds in a row so
  (uplinkd.conf(5), "Link states"). Expected: the first round after the change starts
  within 0-200 ms; rounds start every 200 ms, or when the one before ends if it lasts longer.

Transitions under jitter and loss ($Q_JITTER_S s each, i.e. up to $((Q_JITTER_S * 5)) rounds):

| isp1 given | rounds | rounds beyond the limit | rounds' RTT, median (min-max) / loss | up/degraded transitions | the same rounds replayed, current rule | replayed, 1.0 rule (one round in the margin recovers) |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${Q_JROWS[@]}")

- How: uplinkd's debug log has every round of isp1 (answered probes, their average RTT);
  "rounds beyond the limit" are those whose own RTT (or loss) is above it, so the link's
  quality really crosses the limit all the time. Transitions are counted by the hook. The
  same rounds are replayed through the up/degraded rule (window of 10, margin 80 % / half)
  twice: as uplinkd has it now (10 rounds in a row in the margin, doubled on each flap; it
  should give the measured count) and as uplinkd 1.0 had it (the first round within the
  margin recovers), to show what the damping saves (the log has the RTTs to 0.1 ms: an
  average right at the limit can replay one transition off). Documented bound: at most 9
  transitions in any 300 rounds. With 3 probes per round leaving the delay line in order (each waits for
  the one before), a round's RTT averages above the per-packet mean: 83 +- 60 ms per packet
  gives rounds of about 100 ms.
EOF
}
