#!/bin/bash
# gateway6 = "auto" follows the router that advertises itself: when it stops advertising (its
# last advertisement has lifetime 0) the link's IPv6 leaves the balance table, and comes back
# with the next advertisement; a router that changes its address (fe80::1 -> fe80::2) becomes
# the link table's next hop. gateway6 as a configured link-local address works without any
# advertisement. A link that loses its IPv4 address goes on as an IPv6-only link.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2 --bcp38 --ipv6
conf=$LABDIR/uplinkd.conf
S6=$LAB_SERVICE6
share() { echo "$1" | awk -v a="$2" '$1 == a { print $2 }'; }

# isp2: a configured link-local next hop instead of "auto"
lab_conf6 2 weights=1,1 | sed '/interface = "wan2"/s/gateway6 = "auto"/gateway6 = "fe80::1"/' > "$conf"
lab_uplinkd_start "$conf"
for k in 1 2; do lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up"; done
lab_assert "IPv6 balanced over both" \
	'[ "$(lab_gw ip -6 route show table 250 | grep -c "nexthop via fe80::1")" = 2 ]'

# isp1's router stops advertising itself
lab_ra_stop 1
lab_assert "isp1's IPv6 leaves the balance table when its router is gone" \
	'lab_wait_cmd 5 sh -c "! ip -n $LAB-gw -6 route show table 250 | grep -q wan1"'
lab_assert "isp1's IPv6 link table is emptied" '[ -z "$(lab_gw ip -6 route show table 201)" ]'
lab_assert "status: no IPv6 gateway for isp1" [ "$(lab_link6_field isp1 gateway)" = null ]
lab_assert "\"IPv6 router gone\" logged" 'grep -q "link isp1: IPv6 router gone" "$LABDIR/uplinkd.log"'
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 40 -p 4 -t 2000)
lab_assert "IPv6 all by isp2 meanwhile" '[ "$(share "$out" 2001:db8:2::2)" = 40 ]'
# IPv4 of isp1 is not concerned
lab_assert "isp1's IPv4 still balanced" 'lab_gw ip -4 route show table 250 | grep -q wan1'

# it comes back with another address
lab_isp 1 ip -6 addr del fe80::1/64 dev c1
lab_isp 1 ip -6 addr add fe80::2/64 dev c1 nodad
lab_ra_start 1
lab_assert "the new router fe80::2 is isp1's IPv6 next hop" \
	'lab_wait_cmd 10 sh -c "ip -n $LAB-gw -6 route show table 201 | grep -q \"via fe80::2 dev wan1\""'
lab_assert "and in the balance table" \
	'lab_wait_cmd 5 sh -c "ip -n $LAB-gw -6 route show table 250 | grep -q \"via fe80::2 dev wan1\""'
lab_assert "status shows it" [ "$(lab_link6_field isp1 gateway)" = fe80::2 ]
lab_wait_state6 isp1 up 10 || lab_fail "isp1's IPv6 not up with its new router"
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 100 -p 4 -t 2000)
lab_assert "isp1 carries IPv6 again through fe80::2" \
	'[ "$(share "$out" 2001:db8:1::2)" -ge 20 ] && grep -q "^fail 0$" <<<"$out"'
# isp2 loses its IPv4 address: an IPv6-only link now, shown by its only family
lab_gw ip -4 addr flush dev wan2
lab_assert "isp2's IPv4 goes down (no address)" \
	'lab_wait_cmd 5 grep -q "link isp2: up -> down (ipv4: no address)" "$LABDIR/uplinkd.log"'
lab_assert "the status shows isp2 by its IPv6 (up, active)" \
	'[ "$(lab_link_field isp2 state)" = up ] && [ "$(lab_link_field isp2 active)" = true ]'
out=$(lab_lan tcpsrc count 203.0.113.10 "$LAB_PORT" 40 -p 4 -t 2000)
lab_assert "IPv4 all by isp1" '[ "$(share "$out" 192.168.1.2)" = 40 ]'
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 100 -p 4 -t 2000)
lab_assert "IPv6 still over both" \
	'[ "$(share "$out" 2001:db8:2::2)" -ge 20 ] && [ "$(share "$out" 2001:db8:1::2)" -ge 20 ]'
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "ipv6_router: ok"
