#!/bin/bash
# IPv6 balanced like IPv4, by the same weights: a ULA LAN through two ISPs that advertise
# themselves with radvd and drop foreign sources (BCP38), so every IPv6 connection must leave
# masqueraded (nat6 "masquerade") by the link it was balanced to. Weights 30/70: 30 % +- 6 of
# 400 IPv6 connections by isp1, none failed; IPv4 beside it the same; `uplinkctl status`
# shows both families, the metrics carry a family label, -n prints the IPv6 objects.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2 --bcp38 --ipv6
conf=$LABDIR/uplinkd.conf
S6=$LAB_SERVICE6

share() { echo "$1" | awk -v a="$2" '$1 == a { print $2 }'; }

lab_conf6 2 weights=30,70 > "$conf"
dry=$(lab_gw uplinkd -n -c "$conf")
lab_assert "-n prints the IPv6 multipath default" \
	'grep -q "^default nexthop via fe80::1 dev wan1 weight 30 nexthop via fe80::1 dev wan2 weight 70 table 250$" <<<"$dry"'
lab_assert "-n prints the ip -6 rules" 'grep -q "^# IPv6 rules$" <<<"$dry"'
lab_assert "-n prints the IPv6 masquerade" \
	'grep -q "meta nfproto ipv6 oifname \"wan2\" masquerade" <<<"$dry"'

lab_uplinkd_start "$conf"
for k in 1 2; do
	lab_wait_state isp$k up 10 || lab_fail "isp$k not up"
	lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up"
done
lab_assert "isp1's IPv6 router is the advertised one" [ "$(lab_link6_field isp1 gateway)" = fe80::1 ]
lab_assert "IPv6 forwarding on while uplinkd runs" \
	[ "$(lab_gw cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ]
lab_assert "accept_ra 2 on wan1 (routers still learned)" \
	[ "$(lab_gw cat /proc/sys/net/ipv6/conf/wan1/accept_ra)" = 2 ]

out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 400 -p 8 -t 2000)
lab_log "IPv6 30/70: $out"
n1=$(share "$out" 2001:db8:1::2); n2=$(share "$out" 2001:db8:2::2)
lab_assert "400 IPv6 connections, none failed" 'grep -q "^fail 0$" <<<"$out"'
lab_assert "every IPv6 connection masqueraded to an ISP's address" [ $(( ${n1:-0} + ${n2:-0} )) = 400 ]
pct=$(( ${n1:-0} * 100 / 400 ))
echo "balance 30/70 over 400 IPv6 connections: isp1 $pct%"
lab_assert "isp1's IPv6 share $pct% is 30 +- 6" '[ "$pct" -ge 24 ] && [ "$pct" -le 36 ]'

out=$(lab_lan tcpsrc count 203.0.113.10 "$LAB_PORT" 400 -p 8 -t 2000)
n1=$(share "$out" 192.168.1.2)
pct4=$(( ${n1:-0} * 100 / 400 ))
echo "balance 30/70 over 400 IPv4 connections beside it: isp1 $pct4%"
lab_assert "IPv4 share $pct4% is 30 +- 6 too" '[ "$pct4" -ge 24 ] && [ "$pct4" -le 36 ]'

st=$(lab_ctl status)
lab_assert "uplinkctl status has an ipv6 row per link" [ "$(grep -c '^  ipv6 ' <<<"$st")" = 2 ]
m=$(lab_ctl metrics)
lab_assert "metrics carry the family" \
	'grep -q "^uplinkd_link_up{link=\"isp1\",family=\"ipv6\"} 1$" <<<"$m"'
lab_assert "IPv6 probes counted" \
	'grep -Eq "^uplinkd_probes_answered_total\{link=\"isp2\",family=\"ipv6\"\} [1-9]" <<<"$m"'
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "ipv6_balance: ok"
