#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Named sets, traffic per link and metrics over HTTP, with the real daemon:
# - a file set of 100,000 prefixes (+ 203.0.113.12/32) pins its addresses to isp2; a dynamic set
#   that another program (here: nft) fills pins 203.0.113.13 to isp1;
# - a reload that changes one prefix of the file updates the set in place: the dynamic set's
#   element, held connections and the sticky set stay; a bad line in the file refuses the
#   reload with FILE:LINE and nothing changes;
# - GET /metrics over HTTP (404/405 otherwise) passes promtool, and the isp1 byte counter grows
#   while traffic flows by isp1; status --json has the traffic fields.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
"$(dirname "$0")/../lab/deps.sh" curl prometheus >/dev/null 2>&1 || true
command -v curl >/dev/null || { echo "sets: curl missing"; exit 77; }
lab_create 2
conf=$LABDIR/uplinkd.conf
bank=$LABDIR/bank.txt
port=$((20000 + $$ % 20000))

# 100,000 non-adjacent /24s in 11.0.0.0-14.x, then the lab service address .12
mkbank() {  # LAST: the last of the 100,000 prefixes
	{
		echo "# a bank's ranges"
		awk 'BEGIN { for (i = 0; i < 99999; i++) { a = 11 + int(i / 32768); j = i % 32768
			printf "%d.%d.%d.0/24\n", a, int(j / 128), (j % 128) * 2 } }'
		echo "$1"
		echo
		echo "203.0.113.12/32   # the lab's service .12"
	} >"$bank.tmp" && mv -f "$bank.tmp" "$bank"
}
mkbank 14.13.62.0/24
lab_conf 2 interval=200 timeout=200 level=debug \
	daemon_extra="metrics_listen = \"127.0.0.1:$port\";" \
	extra="sets = ( { name = \"bank\"; type = \"ipv4\"; file = \"$bank\"; },
		{ name = \"dyn\"; type = \"ipv4\"; timeout_s = 3600; } );
rules = ( { name = \"bank\"; src_set = [ ]; dst_set = [ \"bank\" ]; via = [ \"isp2\" ]; fallback = \"drop\"; },
	  { name = \"dyn\"; dst_set = [ \"dyn\" ]; via = [ \"isp1\" ]; } );
sticky = { by = \"source\"; timeout_s = 600; };" >"$conf"
lab_gw "$UL_BUILD/uplinkd" -t -c "$conf" || lab_fail "uplinkd -t refused the config"
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"
sleep 0.5

elems() { lab_gw nft list set inet uplinkd "$1" | tr ',{}' '\n\n\n' | grep -c '[0-9]\.[0-9]'; }
n=$(elems bank)
[ "$n" = 100001 ] || lab_fail "set bank has $n elements, want 100001"
lab_gw nft list set inet uplinkd dyn | grep -q "flags dynamic,timeout" || lab_fail "dyn is not dynamic"

# via: count HOST N: every one of N connections seen from the expected ISP address
via() {  # HOST K
	local out
	out=$(lab_lan "$LAB_TCPSRC" count "$1" "$LAB_PORT" 20 -p 4 -t 2000)
	echo "$out" | grep -q "^fail 0$" && echo "$out" | grep -q "^192.168.$2.2 20$" || {
		echo "$out" >&2; return 1; }
}
via 203.0.113.12 2 || lab_fail "203.0.113.12 (in file set bank) not all via isp2"
lab_gw nft add element inet uplinkd dyn '{ 203.0.113.13 }'
via 203.0.113.13 1 || lab_fail "203.0.113.13 (added to dyn) not all via isp1"
lab_log "file set: 100001 elements, .12 via isp2; dynamic set: .13 via isp1"

# metrics over HTTP while traffic flows by isp1 (to .13)
lab_lan "$LAB_TCPSRC" hold 203.0.113.13 "$LAB_PORT" 4 12 -i 50 -f "$LABDIR/hold.ready" \
	>"$LABDIR/hold.out" 2>&1 &
hold=$!
lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "hold did not start"
scrape() { lab_gw curl -s -m 5 "http://127.0.0.1:$port/metrics"; }
tx() { scrape | awk '$1 == "uplinkd_link_bytes_total{link=\"isp1\",direction=\"tx\"}" { print $2 }'; }
b1=$(tx)
sleep 1.5
b2=$(tx)
[ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -gt "$b1" ] || lab_fail "isp1 tx bytes did not grow: '$b1' -> '$b2'"
lab_log "isp1 tx bytes $b1 -> $b2 while traffic flows"
scrape >"$LABDIR/metrics.txt"
grep -q '^uplinkd_link_connections_total{link="isp1"} [1-9]' "$LABDIR/metrics.txt" ||
	lab_fail "no isp1 connections counted"
grep -q '^uplinkd_link_packets_total{link="isp1",direction="rx"} [1-9]' "$LABDIR/metrics.txt" ||
	lab_fail "no isp1 rx packets counted"
if command -v promtool >/dev/null; then
	promtool check metrics <"$LABDIR/metrics.txt" >"$LABDIR/promtool.out" 2>&1 ||
		{ cat "$LABDIR/promtool.out"; lab_fail "promtool check metrics failed"; }
	lab_log "promtool check metrics: ok"
else
	lab_log "promtool not installed: not checked"
fi
cmp -s <(sed '/uptime\|_total\|_seconds\|loss/d' "$LABDIR/metrics.txt") \
	<(lab_ctl metrics | sed '/uptime\|_total\|_seconds\|loss/d') ||
	lab_fail "HTTP and uplinkctl metrics differ"
code() { lab_gw curl -s -o /dev/null -w '%{http_code}' -m 5 "$@"; }
[ "$(code "http://127.0.0.1:$port/")" = 404 ] || lab_fail "GET / is not 404"
[ "$(code -X POST "http://127.0.0.1:$port/metrics")" = 405 ] || lab_fail "POST is not 405"
[ "$(code -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" "http://127.0.0.1:$port/metrics")" = 431 ] ||
	lab_fail "a 5000-byte request is not refused"
j=$(lab_ctl status --json)
echo "$j" | jq -e '.links[0] | has("tx_bytes") and has("rx_bytes") and has("connections")' >/dev/null ||
	lab_fail "status --json lacks the traffic fields: $j"
[ "$(echo "$j" | jq '.links[] | select(.name == "isp1") | .tx_bytes')" -gt 0 ] ||
	lab_fail "status --json: isp1 tx_bytes is 0"

# a reload that changes one prefix: in place, and nothing else is touched
lab_gw nft add element inet uplinkd sticky_isp1 '{ 10.0.0.99 }' 2>/dev/null
sticky0=$(lab_gw nft list set inet uplinkd sticky_isp1 | grep -c 10.0.0.99)
mkbank 114.13.62.0/24
t0=${EPOCHREALTIME/./}
lab_ctl reload >/dev/null || lab_fail "reload failed"
lab_ctl status >/dev/null
t1=${EPOCHREALTIME/./}
for _ in $(seq 50); do
	lab_gw nft list set inet uplinkd bank | grep -q 114.13.62.0/24 && break
	sleep 0.1
done
s=$(lab_gw nft list set inet uplinkd bank)
grep -q "114.13.62.0/24" <<<"$s" && ! grep -q "[ \t]14.13.62.0/24" <<<"$s" ||
	lab_fail "set bank does not have the changed prefix"
grep -Eq "applied: 0 sets filled, [0-9]+ updated in place \(1 element added, 1 deleted\)" "$LABDIR/uplinkd.log" ||
	lab_fail "the reload did not update the set in place"
lab_gw nft list set inet uplinkd dyn | grep -q 203.0.113.13 || lab_fail "dyn lost its element on reload"
[ "$(lab_gw nft list set inet uplinkd sticky_isp1 | grep -c 10.0.0.99)" = "$sticky0" ] ||
	lab_fail "the sticky set changed on reload"
lab_log "one-prefix reload: $(( (t1 - t0) / 1000 )) ms (reload + status answered)"

# a bad line: refused with FILE:LINE, nothing changes
cp "$bank" "$LABDIR/bank.good"
sed -i '5s/.*/11.0.8.1\/24/' "$bank"
out=$(lab_ctl reload 2>&1) && lab_fail "a reload with a bad set file was accepted"
grep -q "$bank:5: \"11.0.8.1/24\" has host bits set" <<<"$out" || lab_fail "no FILE:LINE message: $out"
lab_gw nft list set inet uplinkd bank | grep -q "11.0.8.0/24" || lab_fail "the refused reload changed the set"
cp "$LABDIR/bank.good" "$bank"

wait "$hold" || { cat "$LABDIR/hold.out"; lab_fail "held connections broke"; }
grep -q "^broken 0$" "$LABDIR/hold.out" || lab_fail "held connections broke"
lab_no_dups
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_gw nft list tables | grep -q uplinkd && lab_fail "table left behind"
lab_log "sets: ok"
exit 0
