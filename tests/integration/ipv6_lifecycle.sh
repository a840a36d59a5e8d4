#!/bin/bash
# IPv6 leaves the kernel as uplinkd found it: after SIGTERM `ip -6 rule`, `ip -6 route show
# table all` (the advertised routers' expiry times aside), the nft ruleset and the IPv6
# sysctls (forwarding, multipath hash, accept_ra of every WAN interface) are as before the
# start, and the routers the gateway learned are still there. A reload that turns a link's
# IPv6 off ("none") removes its IPv6 objects and keeps its IPv4; kill -9 and a restart adopt
# what is there without duplicates.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38 --ipv6
S6=$LAB_SERVICE6

snap6() {
	{
		echo "# ip -6 rule"
		lab_gw ip -6 rule show
		echo "# ip -6 route show table all (expiry left out)"
		lab_gw ip -6 route show table all | sed -E 's/ expires [0-9]+sec//'
		echo "# nft list ruleset"
		lab_gw nft list ruleset
		echo "# sysctls"
		lab_gw sysctl net.ipv6.conf.all.forwarding net.ipv6.fib_multipath_hash_policy \
			net.ipv6.conf.wan1.accept_ra net.ipv6.conf.wan2.accept_ra
	} >"$1" 2>&1
}

lab_conf6 2 weights=1,1 > "$conf"
snap6 "$LABDIR/before"
lab_uplinkd_start "$conf"
for k in 1 2; do lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up"; done
lab_assert "ip -6 rules in place" 'lab_gw ip -6 rule | grep -q "1099:.*lookup 250"'
lab_assert "IPv6 multipath default in table 250" 'lab_gw ip -6 route show table 250 | grep -q nexthop'
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 20 -t 2000)
lab_assert "IPv6 traffic through uplinkd" 'grep -q "^fail 0$" <<<"$out"'

# it holds its ground in IPv6 too: a deleted ip -6 rule and a flushed IPv6 link table are put
# back (and said so), and IPv6 traffic flows again
n=$(grep -c "repair:" "$LABDIR/uplinkd.log")
lab_gw ip -6 rule del pref 1010
lab_assert "a deleted ip -6 rule is put back" \
	'lab_wait_cmd 3 sh -c "ip -n $LAB-gw -6 rule show pref 1010 | grep -q lookup"'
lab_gw ip -6 route flush table 201
lab_assert "a flushed IPv6 link table is put back" \
	'lab_wait_cmd 3 sh -c "ip -n $LAB-gw -6 route show table 201 | grep -q default"'
lab_assert "both repairs logged" \
	'lab_wait_cmd 2 sh -c "[ \$(grep -c repair: $LABDIR/uplinkd.log) -ge $((n + 2)) ]"'
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 20 -t 2000)
lab_assert "IPv6 traffic after the repairs" 'grep -q "^fail 0$" <<<"$out"'

# reload: isp2's IPv6 off (gateway6 "none", its IPv6 target gone: it would need IPv6)
lab_conf6 2 weights=1,1 | awk '
	/interface = "wan2"/ { two = 1; sub(/gateway6 = "auto"/, "gateway6 = \"none\"") }
	two && /targets/ { sub(/, "2001:db8:ffff::11"/, ""); two = 0 }
	{ print }' > "$conf"
lab_gw uplinkd -t -c "$conf" >/dev/null || lab_fail "the IPv6-off config does not check: $(lab_gw uplinkd -t -c "$conf" 2>&1)"
lab_ctl reload || lab_fail "reload failed"
lab_assert "isp2's IPv6 link table emptied" \
	'lab_wait_cmd 5 sh -c "[ -z \"\$(ip -n $LAB-gw -6 route show table 202)\" ]"'
lab_assert "IPv6 balanced over isp1 only" \
	'! lab_gw ip -6 route show table 250 | grep -q wan2'
lab_assert "isp2's IPv4 still balanced" 'lab_gw ip -4 route show table 250 | grep -q wan2'
lab_assert "isp2 has no ipv6 object in the status" '! lab_link6_field isp2 state'
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 20 -t 2000)
lab_assert "IPv6 all by isp1" 'grep -q "^2001:db8:1::2 20$" <<<"$out"'
lab_conf6 2 weights=1,1 > "$conf"
lab_ctl reload || lab_fail "reload back failed"
lab_wait_state6 isp2 up 10 || lab_fail "isp2's IPv6 not back after the reload"

# kill -9: IPv6 keeps flowing; a restart adopts, no duplicate rule or route
lab_uplinkd_kill KILL
out=$(lab_lan tcpsrc count "$S6" "$LAB_PORT" 20 -t 2000)
lab_assert "IPv6 traffic flows after kill -9 (fail-static)" 'grep -q "^fail 0$" <<<"$out"'
lab_uplinkd_start "$conf"
for k in 1 2; do lab_wait_state6 isp$k up 10 || lab_fail "isp$k IPv6 not up after restart"; done
sleep 0.5
lab_assert "no duplicate ip -6 rule after the restart" \
	'[ "$(lab_gw ip -6 rule | sort | uniq -d | wc -l)" = 0 ]'
lab_assert "one IPv6 default in table 250" \
	'[ "$(lab_gw ip -6 route show table 250 | grep -c ^default)" = 1 ]'

lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
snap6 "$LABDIR/after"
if ! diff -u "$LABDIR/before" "$LABDIR/after" >"$LABDIR/diff"; then
	cat "$LABDIR/diff" >&2
	lab_fail "IPv6 state after SIGTERM differs from before the start"
fi
echo "after SIGTERM: ip -6 rule, ip -6 route show table all, nft ruleset, IPv6 sysctls as before"
lab_assert "the advertised routers are still learned" \
	'[ "$(lab_gw ip -6 route show default | grep -c "proto ra")" = 2 ]'
echo "ipv6_lifecycle: ok"
