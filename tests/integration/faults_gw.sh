#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: the gateway changes under gateway = "auto". The gateway is learned from the main
# table's default route on the link's interface (as a DHCP client puts it there): wan1's
# is the lab's "default via 192.168.1.1", wan2's one added with metric 100. Then:
#  - ISP 1 answers on a second router address, the default route is replaced (ip route
#    replace: the kernel sends no deletion of the old one) -> table 201 follows;
#  - the same by delete + add (a DHCP client's way) and back;
#  - wan2's default route removed -> table 202 empty, its rules gone, isp2 carries nothing
#    (a link without a gateway cannot route); put back -> all as before.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_gw ip route add default via 192.168.2.1 dev wan2 metric 100
lab_conf 2 weights=1,1 interval=200 timeout=200 down=3 up=3 gw=auto > "$conf"
lab_up "$conf"
lab_baseline "$LABDIR/owned.before"
grep -q "^default via 192.168.1.1 dev wan1" <(lab_gw ip route show table 201) ||
	lab_fail "table 201: $(lab_gw ip route show table 201)"
grep -q "^default via 192.168.2.1 dev wan2" <(lab_gw ip route show table 202) ||
	lab_fail "table 202: $(lab_gw ip route show table 202)"
grep -q "link isp2: gateway 192.168.2.1 learned" "$LABDIR/uplinkd.log" || lab_fail "no 'learned' line"
lab_traffic_via 1 40 || lab_fail "isp1 carries nothing at the start"
lab_traffic_via 2 40 || lab_fail "isp2 carries nothing at the start"

# wait_table T PATTERN: until table T's routes match the (extended) regex
wait_table() {
	for _ in $(seq 50); do
		lab_gw ip route show table "$1" | grep -qE "$2" && return 0
		sleep 0.1
	done
	lab_fail "table $1 does not match '$2': $(lab_gw ip route show table "$1")"
}

# 1. a second router address at ISP 1, the default route replaced in place
lab_isp 1 ip addr add 192.168.1.254/24 dev c1
lab_gw ip route replace default via 192.168.1.254 dev wan1
wait_table 201 "^default via 192\.168\.1\.254 dev wan1 "
wait_table 250 "nexthop via 192\.168\.1\.254 dev wan1 "
[ "$(lab_gw ip route show table 201 | wc -l)" = 1 ] || lab_fail "table 201 has more than one route"
sleep 1
[ "$(lab_link_field isp1 state)" = up ] || lab_fail "isp1 not up with the new gateway"
lab_traffic_via 1 40 || lab_fail "no traffic by isp1 through 192.168.1.254"
lab_gw ip neigh show 192.168.1.254 dev wan1 | grep -q . || lab_fail "192.168.1.254 was never used"
lab_no_dups
echo "gateway replaced 192.168.1.1 -> 192.168.1.254: followed"

# 2. back to 192.168.1.1 the DHCP way: delete, then add
lab_gw ip route del default via 192.168.1.254 dev wan1
lab_gw ip route add default via 192.168.1.1 dev wan1
wait_table 201 "^default via 192\.168\.1\.1 dev wan1 "
lab_converge "$LABDIR/owned.before" "$LABDIR/owned.now" || lab_fail "state differs after the gateway came back"
lab_traffic_via 1 40 || lab_fail "no traffic by isp1 through 192.168.1.1"
echo "gateway 192.168.1.254 -> 192.168.1.1 (delete, add): followed"

# 3. wan2 loses its default route: no gateway, nothing routed by isp2
lab_gw ip route del default via 192.168.2.1 dev wan2 metric 100
for _ in $(seq 50); do
	[ -z "$(lab_gw ip route show table 202)" ] && break
	sleep 0.1
done
[ -z "$(lab_gw ip route show table 202)" ] || lab_fail "table 202 keeps: $(lab_gw ip route show table 202)"
lab_gw ip rule | grep -q "lookup 202" && lab_fail "rules to table 202 stay: $(lab_gw ip rule)"
lab_gw ip route show table 250 | grep -q wan2 && lab_fail "wan2 stays in the balance table"
[ "$(lab_link_field isp2 active)" = false ] || lab_fail "isp2 still active without a gateway"
out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 2000)
echo "$out" | grep -q "^fail 0$" || lab_fail "traffic failed with isp2 without gateway: $out"
echo "$out" | grep -q "^192.168.2.2 " && lab_fail "isp2 carries traffic without a gateway: $out"
echo "wan2 default route removed: isp2 carries nothing"
lab_gw ip route add default via 192.168.2.1 dev wan2 metric 100
lab_converge "$LABDIR/owned.before" "$LABDIR/owned.now" || lab_fail "state differs after wan2's gateway came back"
lab_wait_state isp2 up 5 || lab_fail "isp2 not up"
lab_traffic_via 2 40 || lab_fail "isp2 carries nothing after its gateway came back"
lab_no_dups
lab_ctl status >/dev/null || lab_fail "daemon does not answer"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_gw: ok"
