# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
#
# Helpers the benchmark scripts (bench/run.sh, bench/quality.sh, bench/ipv6.sh) share:
# reading the timestamped monitor logs (each line "TS_US ...", written by the lab's
# "ip monitor" and "nft monitor" readers) back.

# bench_first TRIES CMD...: run CMD every 20 ms, at most TRIES times, until it prints
# something, and print that; 1 when it never did
bench_first() {
	local tries=$1 out i
	shift
	for ((i = 0; i < tries; i++)); do
		out=$("$@")
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.02
	done
	return 1
}

# bench_nft_event LOG SINCE_US add|delete|insert TABLE CHAIN: timestamp (us) of the first
# change of that kind to a rule of TABLE's CHAIN after SINCE_US in the nft monitor LOG
bench_nft_event() {
	awk -v t0="$2" -v w="$3" -v tb="$4" -v ch="$5" \
		'$1 > t0 && $2 == w && $3 == "rule" && $5 == tb && $6 == ch { print $1; exit }' "$1"
}

# bench_route_ts LOG SINCE_US FAMILY(4|6, 0 either) down|up: timestamp (us) of the first
# change of the balance table's default route of that family after SINCE_US in the ip
# monitor LOG that leaves wan1 out (down) or takes it in (up). Multipath routes span several
# lines (nexthops indented); IPv6 next hops are link-local (fe80:).
bench_route_ts() {
	awk -v t0="$2" -v fam="$3" -v want="$4" '
		function flush() {
			if (found || cur_ts <= t0 || cur !~ /table 250/ || cur ~ /^Deleted/)
				return
			v6 = (cur ~ /via fe80:/)
			if (fam && (fam == 6) != v6)
				return
			has1 = (cur ~ /dev wan1/)
			if ((want == "down" && !has1) || (want == "up" && has1)) {
				print cur_ts; found = 1
			}
		}
		{ ts = $1; rest = substr($0, length($1) + 2) }
		rest ~ /^[ \t]/ { cur = cur " " rest; next }
		{ flush(); cur_ts = ts; cur = rest }
		END { flush() }' "$1"
}

# bench_outage BURST_OUTPUT CUT_REL_MS [IGNORE_FROM_MS]: from "tcpsrc burst" output, the time from
# the cut to the start of the first attempt after which every attempt succeeded, then the
# number of failed attempts ("OUTAGE FAILS"); OUTAGE is -1 when attempts still failed at the
# end. Attempts started at or after IGNORE_FROM_MS are left out (a burst ended by SIGTERM
# counts its last in-flight attempts as failures).
bench_outage() {
	awk -v cut="$2" -v ign="${3:-999999999}" '
		$1 == "attempt" && $2 < ign { n++; t[n] = $2; ok[n] = ($3 == "ok") }
		END {
			last = 0; fails = 0
			for (i = 1; i <= n; i++) if (!ok[i]) { last = i; fails++ }
			if (fails == 0) { print 0, 0; exit }
			if (last == n) { print -1, fails; exit }
			o = t[last + 1] - cut; if (o < 0) o = 0
			print o, fails
		}' "$1"
}

# bench_monitor NS LOG CMD...: CMD (a monitor: "ip monitor ...", "nft monitor ...") in the
# background in $LAB-NS (lab_bg), each line of its output into LOG prefixed with the time (us)
# it came
bench_monitor() {
	local ns=$1 log=$2
	shift 2
	lab_bg "$ns" bash -c 'stdbuf -oL "$@" | while IFS= read -r l; do echo "${EPOCHREALTIME/./} $l"; done' \
		bench_monitor "$@" >"$log" 2>/dev/null
}
