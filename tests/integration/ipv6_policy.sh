#!/bin/bash
# IPv6 translation and policy end to end, through ISPs that drop foreign sources (BCP38):
#  - nat6 "prefix": the ULA LAN leaves isp2 translated into isp2's routed prefix, host bits
#    kept (fd00:10::2 -> 2001:db8:2:100::2); a rule pins the ULA (an IPv6 prefix) to isp2;
#  - nat6 "none": hosts numbered from isp1's routed prefix leave isp1 untranslated;
#  - a port forward to a LAN IPv6 host answers on both links, each by the link it came in on;
#  - sticky by IPv6 source: every new connection of a source by one link.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2 --bcp38 --ipv6
conf=$LABDIR/uplinkd.conf
S6=$LAB_SERVICE6
P=$LAB_PORT

# the LAN: isp1's routed prefix beside the ULA, a second ULA host address
lab_lan ip -6 addr add 2001:db8:1:100::2/64 dev lan0 nodad
lab_lan ip -6 addr add fd00:10::3/64 dev lan0 nodad
lab_gw ip -6 addr add 2001:db8:1:100::1/64 dev lan0 nodad

lab_conf6 2 lan6=fd00:10::/64,2001:db8:1:100::/64 extra='
rules = ( { name = "ula"; src = [ "fd00:10::/64" ]; via = [ "isp2" ]; } );
port_forwards = ( { name = "web6"; proto = "tcp"; port = 8080; to = "[fd00:10::2]:5002"; } );' |
	awk '/interface = "wan1"/ { sub(/gateway6 = "auto";/, "gateway6 = \"auto\"; nat6 = \"none\"; prefix6 = \"2001:db8:1:100::/64\";") }
	     /interface = "wan2"/ { sub(/gateway6 = "auto";/, "gateway6 = \"auto\"; nat6 = \"prefix\"; prefix6 = \"2001:db8:2:100::/64\";") }
	     { print }' > "$conf"
lab_gw uplinkd -t -c "$conf" || lab_fail "config: $(cat "$conf")"
lab_bg lan tcpsrc serve :: 5002
lab_uplinkd_start "$conf"
for k in 1 2; do lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up"; done
lab_assert "isp1's routed prefix is pinned to it" \
	'lab_gw ip -6 rule | grep -q "^1030:.*from 2001:db8:1:100::/64 lookup 201"'

out=$(lab_lan tcpsrc count "$S6" "$P" 20 -t 2000 -s fd00:10::2)
lab_log "ULA source: $out"
lab_assert "nat6 prefix: fd00:10::2 leaves isp2 as 2001:db8:2:100::2 (20 of 20)" \
	'grep -q "^2001:db8:2:100::2 20$" <<<"$out"'
out=$(lab_lan tcpsrc count "$S6" "$P" 20 -t 2000 -s fd00:10::3)
lab_assert "nat6 prefix keeps the host bits: fd00:10::3 -> 2001:db8:2:100::3" \
	'grep -q "^2001:db8:2:100::3 20$" <<<"$out"'
out=$(lab_lan tcpsrc count "$S6" "$P" 20 -t 2000 -s 2001:db8:1:100::2)
lab_log "routed source: $out"
lab_assert "nat6 none: 2001:db8:1:100::2 leaves isp1 untranslated (20 of 20)" \
	'grep -q "^2001:db8:1:100::2 20$" <<<"$out"'

# the port forward, from the Internet, on each link's address
lab_wait_cmd 5 sh -c "ip netns exec $LAB-lan ss -Hltn 'sport = 5002' | grep -q ." ||
	lab_fail "the LAN server did not start"
for k in 1 2; do
	out=$(lab_net tcpsrc count "2001:db8:$k::2" 8080 20 -t 2000 -s 2001:db8:ffff::10)
	lab_log "port forward via isp$k: $out"
	lab_assert "IPv6 port forward on isp$k: 20 of 20 answered (replies by isp$k)" \
		'grep -q "^2001:db8:ffff::10 20$" <<<"$out"'
done

# sticky by IPv6 source (both links masquerade, no rule)
lab_conf6 2 extra='sticky = { by = "source"; timeout_s = 60; };' > "$conf"
lab_ctl reload || lab_fail "reload to the sticky config failed"
sleep 0.5
for src in fd00:10::2 fd00:10::3; do
	out=$(lab_lan tcpsrc count "$S6" "$P" 40 -p 4 -t 2000 -s $src)
	lab_log "sticky $src: $out"
	lab_assert "sticky: 40 connections of $src by one link" \
		'[ "$(grep -c "^2001:db8:[12]::2 " <<<"$out")" = 1 ] && grep -q "^fail 0$" <<<"$out"'
done
lab_assert "the sticky6 sets hold the sources" \
	'[ "$(lab_gw nft list set inet uplinkd sticky6_isp1; lab_gw nft list set inet uplinkd sticky6_isp2)" != "" ] &&
	 lab_gw nft list ruleset | grep -Eq "fd00:10::[23]"'
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "ipv6_policy: ok"
