#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# It holds its ground: what others change of uplinkd's kernel objects is put back, with a
# "repair: ... (changed outside uplinkd)" line, and new connections work again after each:
#  - nft flush ruleset, nft delete table inet uplinkd, nft flush chain, nft flush set of a
#    static set (the table is back, with its elements);
#  - ip rule del of one of its rules, ip rule add in its range, ip route flush of a link table;
#  - sysctl -w net.ipv4.conf.wan1.rp_filter=1 (back to what uplinkd set);
#  - a loop flushing the ruleset 20 times in about 2 s: a back-off line, the daemon healthy,
#    the state repaired at the end;
#  - its own changes (start, a transition, a reload) are no repairs; a reload re-sends the
#    ruleset even when it is unchanged; SIGTERM still removes everything (no repair fights).
# Repair times are printed (the contract's 1 s is measured in bench/; asserted here: 3 s).
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2 --bcp38
conf=$LABDIR/uplinkd.conf
log=$LABDIR/uplinkd.log
lab_conf 2 weights=1,1 interval=200 timeout=200 level=debug > "$conf"
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"
sleep 0.5
lab_owned "$LABDIR/ref.owned" --nft
grep -q "^table inet uplinkd" "$LABDIR/ref.owned" || lab_fail "no table inet uplinkd at start"
grep -q "repair:" "$log" && lab_fail "uplinkd took its own changes for foreign ones: $(grep repair: "$log")"

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# repaired_within MS: until what uplinkd owns is as at the start again; prints the time taken
repaired_within() {
	local t0 limit=$1 ms
	t0=$(now_ms)
	while :; do
		lab_owned "$LABDIR/now.owned" --nft
		cmp -s "$LABDIR/ref.owned" "$LABDIR/now.owned" && { echo $(( $(now_ms) - T_CHANGE )); return 0; }
		[ $(( $(now_ms) - t0 )) -gt "$limit" ] && break
		sleep 0.02
	done
	diff "$LABDIR/ref.owned" "$LABDIR/now.owned" >&2
	return 1
}
# traffic: 20 new connections from the LAN, all must succeed
traffic() {
	local out
	out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 20 -p 4 -t 2000)
	echo "$out" | grep -q "^fail 0$" || lab_fail "$1: new connections failed after the repair: $out"
}
# change WHAT CMD...: make the change in the gateway, wait for the repair and its log line
change() {
	local what=$1 n ms
	shift
	n=$(grep -c "repair:" "$log")
	T_CHANGE=$(now_ms)
	lab_gw "$@" || lab_fail "$what: the change itself failed"
	ms=$(repaired_within 3000) || lab_fail "$what: not repaired within 3 s"
	for _ in $(seq 50); do
		[ "$(grep -c "repair:" "$log")" -gt "$n" ] && break
		sleep 0.02
	done
	[ "$(grep -c "repair:" "$log")" -gt "$n" ] || lab_fail "$what: no repair line logged"
	echo "$what: repaired in $ms ms; $(grep "repair:" "$log" | tail -n 1 | sed 's/.*repair:/repair:/')"
	traffic "$what"
}

traffic "start"
change "nft flush ruleset" nft flush ruleset
grep -q "repair: table inet uplinkd removed (changed outside uplinkd)" "$log" ||
	lab_fail "the flush is not named as the table removed"
change "nft delete table" nft delete table inet uplinkd
chain=$(lab_gw nft list table inet uplinkd | awk '$1 == "chain" { print $2; exit }')
[ -n "$chain" ] || lab_fail "no chain in table inet uplinkd"
change "nft flush chain $chain" nft flush chain inet uplinkd "$chain"
grep -q "repair: rules of chain inet uplinkd $chain removed (changed outside uplinkd)" "$log" ||
	lab_fail "the chain flush is not named"
change "nft flush set lan_nets4" nft flush set inet uplinkd lan_nets4
lab_gw nft list set inet uplinkd lan_nets4 | grep -q "elements = " ||
	lab_fail "the elements of set lan_nets4 are not back"
grep -q "repair: set inet uplinkd lan_nets4 elements changed (changed outside uplinkd)" "$log" ||
	lab_fail "the emptied set is not named"
rule=$(lab_gw ip rule show | awk -F: '$1 >= 1010 && $1 <= 1019 { print $1; exit }')
[ -n "$rule" ] || lab_fail "no fwmark rule of uplinkd"
change "ip rule del priority $rule" ip rule del priority "$rule"
change "ip rule add in the range" ip rule add priority 1050 from 10.9.9.9 lookup main
change "ip route flush table 201" ip route flush table 201
grep -q "repair: route default via 192.168.1.1 dev wan1 table 201 missing (changed outside uplinkd)" "$log" ||
	lab_fail "the flushed route is not named"

# sysctls: checked every second (and on netconf events)
rp=$(lab_gw sysctl -n net.ipv4.conf.wan1.rp_filter)
n=$(grep -c "repair:" "$log")
T_CHANGE=$(now_ms)
lab_gw sysctl -qw net.ipv4.conf.wan1.rp_filter=1
for _ in $(seq 150); do
	[ "$(lab_gw sysctl -n net.ipv4.conf.wan1.rp_filter)" = "$rp" ] && break
	sleep 0.02
done
[ "$(lab_gw sysctl -n net.ipv4.conf.wan1.rp_filter)" = "$rp" ] || lab_fail "rp_filter of wan1 not set back to $rp"
echo "rp_filter: back to $rp in $(( $(now_ms) - T_CHANGE )) ms"
sleep 0.1
[ "$(grep -c "repair:" "$log")" -gt "$n" ] || lab_fail "rp_filter: no repair line"
grep -q "repair: sysctl net.ipv4.conf.wan1.rp_filter is 1, uplinkd set 2 (changed outside uplinkd)" "$log" ||
	lab_fail "rp_filter: the repair line does not say what"
traffic "rp_filter"

# a fight: the ruleset flushed 20 times in about 2 s
T_CHANGE=$(now_ms)
for _ in $(seq 20); do
	lab_gw nft flush ruleset
	sleep 0.08
done
echo "flush loop: 20 flushes in $(( $(now_ms) - T_CHANGE )) ms"
grep -E "repair: table inet uplinkd removed [0-9]+ times in 10 s \(changed outside uplinkd\); backing off [0-9]+ s" "$log" >/dev/null ||
	lab_fail "no back-off line in the flush loop"
grep -E "backing off" "$log" | sed 's/.*repair:/repair:/'
repairs=$(grep -c "repair: table inet uplinkd removed (changed outside uplinkd)" "$log")
echo "repairs of the table so far: $repairs (20 flushes in the loop)"
lab_ctl status >/dev/null || lab_fail "no status after the flush loop"
T_CHANGE=$(now_ms)
ms=$(repaired_within 20000) || lab_fail "not repaired after the flush loop"
echo "flush loop: repaired $ms ms after the loop ended"
lab_no_dups
traffic "flush loop"
[ "$(lab_link_field isp1 state)" = up ] && [ "$(lab_link_field isp2 state)" = up ] ||
	lab_fail "links not up after the flush loop"

# a reload with the same config re-sends the ruleset, and is not a repair
sleep 1
n=$(grep -c "repair:" "$log")
r=$(grep -c "nftables: table inet uplinkd replaced" "$log")
lab_ctl reload >/dev/null || lab_fail "reload failed"
for _ in $(seq 100); do
	[ "$(grep -c "nftables: table inet uplinkd replaced" "$log")" -gt "$r" ] && break
	sleep 0.05
done
[ "$(grep -c "nftables: table inet uplinkd replaced" "$log")" -gt "$r" ] ||
	lab_fail "a reload with an unchanged ruleset did not re-send it"
[ "$(grep -c "repair:" "$log")" = "$n" ] || lab_fail "a reload was taken for a repair"

# a transition of uplinkd's own is no repair either
lab_cut 2
lab_wait_state isp2 down 5 || lab_fail "isp2 not down"
lab_heal 2
lab_wait_state isp2 up 10 || lab_fail "isp2 not back up"
sleep 0.3
[ "$(grep -c "repair:" "$log")" = "$n" ] || lab_fail "uplinkd's own changes taken for foreign ones"

lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_owned "$LABDIR/end.owned"
sed -n '/# rules/,/# nft tables/p' "$LABDIR/end.owned" | grep -v "^#" | grep -q . &&
	lab_fail "rules or routes left after SIGTERM: $(cat "$LABDIR/end.owned")"
grep -q "table inet uplinkd" "$LABDIR/end.owned" && lab_fail "table inet uplinkd left after SIGTERM"
sed -n '/signal TERM: stopping/,$p' "$log" | grep -q "repair:" && lab_fail "a repair during the teardown"
lab_san_check
echo "repair: ok"
