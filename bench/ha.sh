#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/ha.sh [BUILD_DIR]: the gateway pair's takeover (section 9 of bench/RESULTS.md).
# Runs tests/integration/ha.sh (keepalived + conntrackd + uplinkd on two nodes, the master
# killed while 20 connections are held) BENCH_HA_RUNS times (5) for each keepalived advert
# interval in BENCH_HA_ADVERTS ("0.1 1"), and prints the section in Markdown on stdout.
# bench/run.sh includes it; `BENCH_ONLY=ha bench/run.sh` runs it alone and replaces section 9
# of an existing RESULTS.md.
# shellcheck disable=SC2015
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RUNS=${BENCH_HA_RUNS:-5}
ADVERTS=${BENCH_HA_ADVERTS:-0.1 1}
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/ul-bench-ha.XXXXXX") || exit 1
trap 'rm -rf "$LOGDIR"' EXIT

stats() {	# "median max min" (n/a when empty)
	[ $# -gt 0 ] || { echo "n/a n/a n/a"; return; }
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%g %g %g\n", m, v[NR], v[1] }'
}
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | tail -n 1; }

ROWS=() NOTES=() FAILS=()
for adv in $ADVERTS; do
	T=() V=() BR=() held=0 ok=0
	for ((r = 1; r <= RUNS; r++)); do
		log=$LOGDIR/ha-$adv-$r.log
		echo "bench: ha run $r/$RUNS, advert_int $adv s" >&2
		# a lab name of its own: never the prefix of another lab's namespaces
		# slower adverts: a longer outage, so TCP's retransmissions come later too
		bound=$(awk -v a="$adv" 'BEGIN { b = a * 3000 + 2000; print (b < 2000 ? 2000 : int(b)) }')
		if LAB=ulh$$r${adv/./} HA_ADVERT=$adv UL_BUILD=$B HA_NEW_BOUND_MS=$bound \
			HA_HOLD_TIMEOUT_MS=$((bound * 3)) \
			timeout -k 10 300 bash "$ROOT/tests/integration/ha.sh" >"$log" 2>&1; then
			ok=$((ok + 1))
		else
			FAILS+=("advert_int $adv s, run $r: $(grep -m 1 '^FAIL' "$log" || tail -n 1 "$log")")
		fi
		t=$(field "$log" takeover_ms) v=$(field "$log" vip_ms) b=$(field "$log" broken)
		[[ $t =~ ^[0-9]+$ ]] && T+=("$t")
		[[ $v =~ ^[0-9]+$ ]] && V+=("$v")
		if [[ $b =~ ^[0-9]+$ ]]; then
			BR+=("$b")
			held=$((held + 20))
		fi
	done
	st=$(stats "${T[@]}") sv=$(stats "${V[@]}")
	broken=0
	for b in "${BR[@]}"; do broken=$((broken + b)); done
	ROWS+=("| $adv | $RUNS ($ok passed) | $(cut -d' ' -f1 <<<"$sv") / $(cut -d' ' -f2 <<<"$sv") | $(cut -d' ' -f1 <<<"$st") / $(cut -d' ' -f2 <<<"$st") | $broken of $held |")
	NOTES+=("- advert_int $adv s per run: addresses on the backup ${V[*]:-n/a} ms; first new connection ${T[*]:-n/a} ms; broken ${BR[*]:-n/a}")
done

cat <<EOF
## 9. Gateway pair: takeover when the master dies

Two gateways with keepalived 2 (VRRPv3, one sync group for the LAN and both WANs), conntrackd
(FTFW over UDP on a dedicated link, external cache disabled) and uplinkd with the same config (snat to
each link's shared address), configured by the files of \`contrib/ha/\`; 20 connections held
through the master, then the master dies: all its interfaces down at once, its daemons
killed with SIGKILL.

| advert_int (s) | runs | master death -> shared addresses on the backup, median / worst (ms) | master death -> first new connection through the backup, median / worst (ms) | held connections broken (total) |
|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

$(printf '%s\n' "${NOTES[@]}")
- How: \`tests/integration/ha.sh\` with \`HA_ADVERT\` set (bench/ha.sh). The first new
  connection: \`tcpsrc burst\` from the LAN host opens one every 20 ms (each must deliver its
  first line within 500 ms); the time is that of the first successful attempt started after
  the master's death, on the burst's own clock (so the resolution is 20 ms). The addresses:
  an \`ip monitor address\` on the backup, every line timestamped as it arrives. "Broken"
  counts the 20 connections held (an echo every 200 ms; broken: reset, closed, or an echo
  later than 3 x (3 x advert_int + 2 s), 6.9 s at 0.1 s, which TCP's retransmission backoff
  after the outage needs) through the death, the
  old master's return as the backup (a new boot: fresh namespace and daemons, resync from the
  new master) and the hand-back to it (keepalived stopped on the new master).
- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
EOF
if [ ${#FAILS[@]} -gt 0 ]; then
	echo "- Failed runs: "
	printf '  - %s\n' "${FAILS[@]}"
fi
