#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Stable link identity: 20 held connections spread over three links survive
#  1. the links reordered in the config + SIGHUP, and
#  2. kill -9 + a restart with the links in yet another order,
# with 0 broken; each link keeps its mark and table (the identity store in the runtime
# directory remembers them), and a new link inserted in front gets free numbers.
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
lab_create 4	# isp4 is inserted in front at the end
conf=$LABDIR/uplinkd.conf
store=$LABDIR/links.ids

# mkconf K... : the links in that order
mkconf() {
	local k first=1
	{
		echo 'daemon = { log_level = "info"; };'
		echo 'lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24", "10.0.1.0/24" ]; };'
		echo 'links = ('
		for k in "$@"; do
			[ $first = 1 ] || echo '  ,'
			first=0
			cat <<-EOC
			  { name = "isp$k"; interface = "wan$k"; gateway = "192.168.$k.1";
			    check = { targets = [ "203.0.113.11" ]; interval_ms = 200; timeout_ms = 200; }; }
			EOC
		done
		echo ');'
	} >"$conf.tmp" && mv -f "$conf.tmp" "$conf"
}
# table_of K: the table whose default route leaves by wanK
table_of() {
	lab_gw ip route show table all | awk -v d="wan$1" '$1 == "default" && $0 ~ "dev " d " " {
		for (i = 1; i <= NF; i++) if ($i == "table") print $(i + 1) }' | head -n 1
}
# mark_rule_of K: the fwmark of the rule that looks up link K's table
mark_rule_of() {
	local t
	t=$(table_of "$1")
	lab_gw ip rule show | awk -v t="$t" '/fwmark/ && $7 == t { print $5 }' | head -n 1
}
# links_up TIMEOUT_S: isp1..isp3 up (isp4 joins only at the end)
links_up() {
	local k
	for k in 1 2 3; do lab_wait_state "isp$k" up "$1" || return 1; done
}
identities() {
	local k
	for k in 1 2 3; do printf 'isp%s=%s/%s ' "$k" "$(mark_rule_of $k)" "$(table_of $k)"; done
}

mkconf 1 2 3
lab_uplinkd_start "$conf"
links_up 10 || lab_fail "links not up"
sleep 0.5
ids0=$(identities)
echo "identities at start: $ids0"
[ -s "$store" ] || lab_fail "no identity store at $store"
grep -qx 'isp1 1 201' "$store" && grep -qx 'isp3 3 203' "$store" ||
	lab_fail "identity store: $(cat "$store")"

lab_lan "$LAB_TCPSRC" hold "$LAB_SERVICE" "$LAB_PORT" 20 12 -t 3000 -f "$LABDIR/hold.ready" \
	>"$LABDIR/hold.out" 2>&1 &
holdpid=$!
lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "hold did not start: $(cat "$LABDIR/hold.out")"
sleep 1

# 1. reorder + SIGHUP
mkconf 3 1 2
kill -HUP "$LAB_UPLINKD_PID"
lab_wait_cmd 5 grep -q 'reloading' "$LABDIR/uplinkd.log" || lab_fail "no reload logged"
sleep 2
ids1=$(identities)
echo "after reorder + reload: $ids1"
[ "$ids1" = "$ids0" ] || lab_fail "marks or tables changed on reorder: $ids0 -> $ids1"
links_up 5 || lab_fail "links not up after the reload"

# 2. kill -9, restart with another order
lab_uplinkd_kill KILL
mkconf 2 3 1
lab_uplinkd_start "$conf"
links_up 10 || lab_fail "links not up after the restart"
sleep 1
ids2=$(identities)
echo "after kill -9 + restart reordered: $ids2"
[ "$ids2" = "$ids0" ] || lab_fail "marks or tables changed across kill -9 + restart: $ids0 -> $ids2"

rc=0
wait "$holdpid" || rc=$?
cat "$LABDIR/hold.out"
grep -q '^broken 0$' "$LABDIR/hold.out" || lab_fail "held connections broken (status $rc)"
[ "$(grep -c '^seen ' "$LABDIR/hold.out")" -ge 2 ] ||
	lab_fail "the held connections did not spread over several links"
[ $rc = 0 ] || lab_fail "tcpsrc hold exit $rc"

# 3. a new link in front takes free numbers; the others keep theirs
mkconf 4 2 3 1
kill -HUP "$LAB_UPLINKD_PID"
lab_wait_cmd 5 grep -q 'link isp4: identity id 4 table 204' "$LABDIR/uplinkd.log" ||
	lab_fail "new link not given free numbers: $(grep identity "$LABDIR/uplinkd.log")"
sleep 1
ids3=$(identities)
[ "$ids3" = "$ids0" ] || lab_fail "marks or tables changed on insertion: $ids0 -> $ids3"
grep -qx 'isp4 4 204' "$store" || lab_fail "identity store after insertion: $(cat "$store")"

lab_no_dups
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "identity: ok"
