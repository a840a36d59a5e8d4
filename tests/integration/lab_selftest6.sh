#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The IPv6 lab, without uplinkd: radvd on every ISP and the routers the gateway learns from
# it (proto ra, link-local), IPv6 forwarding and BCP38 at the ISPs, the Internet host's IPv6
# service, the ULA LAN that only NAT66 gets out, the IPv6-only and IPv4-only cuts, and the end
# of an advertised router.
set -euo pipefail
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
LAB_RA_LIFETIME_S=30 lab_create 2 --bcp38 --ipv6

S6=$LAB_SERVICE6
P=$LAB_PORT

has_line() {	# has_line TEXT LINE: LINE is one of the lines of TEXT (trailing blanks ignored)
	sed 's/[[:space:]]*$//' <<<"$1" | grep -qxF -- "$2"
}

# --- topology -------------------------------------------------------------------------------
for k in 1 2; do
	lab_assert "isp$k forwards IPv6" \
		[ "$(lab_isp $k cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ]
	lab_assert "isp$k runs radvd" 'kill -0 "$(cat "$LABDIR/radvd-isp'$k'.pid")"'
	lab_assert "gateway learned isp$k's router from its advertisements" \
		'lab_gw ip -6 route show default dev wan'$k' | grep -c "via fe80::1 proto ra" >/dev/null'
	lab_assert "gateway has its static address on wan$k only (no SLAAC)" \
		[ "$(lab_gw ip -6 -o addr show dev wan$k scope global | wc -l)" = 1 ]
done
lab_assert "gateway IPv6 forwarding is 0" \
	[ "$(lab_gw cat /proc/sys/net/ipv6/conf/all/forwarding)" = 0 ]
lab_assert "the LAN host has its ULA" 'lab_lan ip -6 addr show dev lan0 | grep -c "fd00:10::2/64" >/dev/null'
lab_assert "the Internet host has no IPv6 default route" [ -z "$(lab_net ip -6 route show default)" ]

# --- the gateway reaches the IPv6 service by each ISP, from that ISP's address ------------------
# (a table and a rule per source, the way uplinkd routes its own traffic)
for k in 1 2; do
	lab_gw ip -6 route add default via fe80::1 dev wan$k table 9$k
	lab_gw ip -6 rule add from 2001:db8:$k::2 lookup 9$k pref 10$k
	out=$(lab_gw tcpsrc count "$S6" "$P" 5 -t 2000 -s 2001:db8:$k::2)
	lab_assert "gateway reaches $S6 via isp$k (5 of 5)" has_line "$out" "2001:db8:$k::2 5"
done
out=$(lab_gw tcpsrc count 2001:db8:ffff::19 "$P" 10 -t 2000 -p 5 -s 2001:db8:1::2)
lab_assert "10 parallel IPv6 connections to 2001:db8:ffff::19" has_line "$out" "2001:db8:1::2 10"
out=$(lab_gw tcpsrc count 203.0.113.10 "$P" 3 -t 2000)
lab_assert "the service answers IPv4 as well" has_line "$out" "192.168.1.2 3"

# --- BCP38: isp2 drops isp1's source --------------------------------------------------------
lab_gw ip -6 rule del pref 101
lab_gw ip -6 rule add from 2001:db8:1::2 lookup 92 pref 101
out=$(lab_gw tcpsrc count "$S6" "$P" 3 -t 500 -s 2001:db8:1::2)
lab_assert "isp2 drops the source of isp1 (BCP38)" has_line "$out" "fail 3"
lab_assert "isp2's BCP38 counter saw them" \
	'lab_isp 2 nft list table inet lab6 | grep -Ec "counter packets [1-9]" >/dev/null'
lab_gw ip -6 rule del pref 101
lab_gw ip -6 rule add from 2001:db8:1::2 lookup 91 pref 101

# --- IPv6-only and IPv4-only cuts ----------------------------------------------------------
lab_cut6 1
out=$(lab_gw tcpsrc count "$S6" "$P" 2 -t 500 -s 2001:db8:1::2)
lab_assert "isp1 IPv6 cut: IPv6 fails" has_line "$out" "fail 2"
out=$(lab_gw tcpsrc count 203.0.113.10 "$P" 2 -t 2000)
lab_assert "isp1 IPv6 cut: IPv4 still works" has_line "$out" "192.168.1.2 2"
lab_cut4 1
out=$(lab_gw tcpsrc count 203.0.113.10 "$P" 2 -t 500)
lab_assert "isp1 IPv4 cut: IPv4 fails" has_line "$out" "fail 2"
out=$(lab_gw tcpsrc count "$S6" "$P" 2 -t 2000 -s 2001:db8:1::2)
lab_assert "isp1 IPv4 cut: IPv6 still works" has_line "$out" "2001:db8:1::2 2"
lab_heal 1

# --- forwarding and router advertisements ---------------------------------------------------
# The kernel fact uplinkd's accept_ra=2 rests on: turning forwarding on purges the routers
# learned on interfaces with accept_ra 1 (and ignores their advertisements from then on);
# with accept_ra 2 they stay and keep being refreshed.
lab_gw sysctl -qw net.ipv6.conf.wan2.accept_ra=2
lab_gw sysctl -qw net.ipv6.conf.all.forwarding=1
lab_assert "forwarding on: the router learned on wan1 (accept_ra 1) is purged" \
	[ -z "$(lab_gw ip -6 route show default dev wan1)" ]
lab_assert "forwarding on: the router learned on wan2 (accept_ra 2) stays" \
	'lab_gw ip -6 route show default dev wan2 | grep -c "proto ra" >/dev/null'
lab_gw sysctl -qw net.ipv6.conf.wan1.accept_ra=2
lab_assert "accept_ra 2 on wan1: its router is learned again from the next advertisement" \
	'lab_wait_cmd 10 sh -c "ip -n $LAB-gw -6 route show default dev wan1 | grep -q \"proto ra\""'

# --- the ULA LAN: out only with NAT66 ---------------------------------------------------------
out=$(lab_lan tcpsrc count "$S6" "$P" 2 -t 500)
lab_assert "forwarded without NAT66, the ULA source is dropped upstream (BCP38)" \
	has_line "$out" "fail 2"
lab_gw nft -f - <<-'NFT'
	table ip6 labnat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname { "wan1", "wan2" } masquerade
		}
	}
NFT
out=$(lab_lan tcpsrc count "$S6" "$P" 5 -t 2000)
lab_assert "the ULA LAN gets out masqueraded (5 of 5)" has_line "$out" "fail 0"
lab_assert "... with an ISP's address" 'grep -Eq "^2001:db8:[12]::2 " <<<"$out"'
lab_gw nft delete table ip6 labnat

# --- a router that stops advertising itself ---------------------------------------------------
lab_ra_stop 2
lab_assert "isp2's router is gone from main at once (its last advertisement, lifetime 0)" \
	'lab_wait_cmd 5 sh -c "! ip -n $LAB-gw -6 route show default dev wan2 | grep -q ."'
lab_ra_start 2
lab_assert "isp2's router comes back with its advertisements" \
	'lab_wait_cmd 10 sh -c "ip -n $LAB-gw -6 route show default dev wan2 | grep -q \"proto ra\""'
lab_assert "isp1's router is still there" \
	'lab_gw ip -6 route show default dev wan1 | grep -c "proto ra" >/dev/null'
lab_log "lab_selftest6: all checks passed"
