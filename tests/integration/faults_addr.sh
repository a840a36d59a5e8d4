#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: the address of a WAN interface changes (DHCP gave another lease). wan1 goes from
# 192.168.1.2 to 192.168.1.3, first the way a DHCP client does it (old address deleted, new
# one added), then back with the new one added before the old one is deleted (promoted
# secondary). Without an address the link is down ("no address"). Each time the from-rule
# follows, the probes rebind (the link is up again),
# new connections leave with the new address, and nothing is left of the old one.
. "$(dirname "$0")/../lab/lab.sh"
lab_fault_start

# check_addr OLD NEW: the state follows the new address of wan1
check_addr() {
	local old=$1 new=$2 ok=0
	for _ in $(seq 50); do
		if lab_gw ip rule | grep -q "from $new lookup 201" &&
		   ! lab_gw ip rule | grep -q "from $old "; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ $ok = 1 ] || lab_fail "from-rule did not follow $old -> $new: $(lab_gw ip rule)"
	lab_wait_state isp1 up 10 || lab_fail "isp1 not up with address $new"
	# the probes leave from the new address: the link stays up for several rounds
	sleep 1
	[ "$(lab_link_field isp1 state)" = up ] || lab_fail "isp1 fell after the change to $new"
	lab_owned "$LABDIR/owned.now"
	diff <(sed 's/from 192\.168\.1\.[0-9]* /from ADDR /' "$LABDIR/owned.before") \
	     <(sed 's/from 192\.168\.1\.[0-9]* /from ADDR /' "$LABDIR/owned.now") ||
		lab_fail "rules/routes after $old -> $new differ from before (beyond the address)"
	lab_no_dups
	lab_traffic_via 1 40 "$new" || lab_fail "no new connection leaves by isp1 as $new"
	out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 20 -p 4 -t 2000)
	echo "$out" | grep -q "^$old " && lab_fail "a connection left with the old address $old"
	echo "address $old -> $new: followed"
}

# 1. DHCP style: old address gone, then the new one
lab_gw ip addr del 192.168.1.2/24 dev wan1
sleep 0.3
lab_gw ip rule | grep -q "from 192.168.1.2 " && lab_fail "from-rule of a deleted address stays"
# without an address nothing can be sent: the link is down, and says why
lab_wait_state isp1 down 2 || lab_fail "isp1 not down without an address"
grep -q "link isp1: up -> down (no address)" "$LABDIR/uplinkd.log" || lab_fail "no 'no address' transition"
lab_gw ip addr add 192.168.1.3/24 dev wan1
lab_gw ip route replace default via 192.168.1.1 dev wan1	# went with the old address
check_addr 192.168.1.2 192.168.1.3

# 2. the new address first (secondary), then the old one removed: the new one is promoted
lab_gw sysctl -qw net.ipv4.conf.wan1.promote_secondaries=1
lab_gw ip addr add 192.168.1.2/24 dev wan1
sleep 0.5
lab_gw ip addr del 192.168.1.3/24 dev wan1
lab_gw ip route replace default via 192.168.1.1 dev wan1
check_addr 192.168.1.3 192.168.1.2
# init -> up, up -> down (no address), down -> up; the promoted secondary of step 2 is
# never a moment without an address: no transition
n=$(lab_link_field isp1 transitions) || lab_fail "no transitions count for isp1"
lab_log "transitions of isp1: $n"
[ "$n" = 3 ] || lab_fail "isp1 made $n transitions, not 3 (init -> up, down and up again)"
lab_ctl status >/dev/null || lab_fail "daemon does not answer"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_addr: ok"
