#!/bin/bash
# The daemon in the lab: starts, installs its state, answers SIGHUP (good and bad config),
# and on SIGTERM leaves ip rules, routes, nftables and sysctls exactly as it found them.
# kill -9 leaves traffic flowing (fail-static); a restart adopts what is there, no duplicates.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_conf 2 weights=1,1 > "$conf"

lab_snapshot "$LABDIR/before"
fwd_before=$(lab_gw sysctl -n net.ipv4.ip_forward)
rpf_before=$(lab_gw sysctl -n net.ipv4.conf.wan2.rp_filter)

lab_uplinkd_start "$conf"
lab_wait_state isp1 up 10 || lab_fail "isp1 not up"
lab_wait_state isp2 up 10 || lab_fail "isp2 not up"
lab_gw ip rule | grep -q "lookup 250" || lab_fail "no balance rule"
lab_gw ip route show table 250 | grep -q nexthop || lab_fail "no multipath route in table 250"
lab_gw nft list table inet uplinkd >/dev/null || lab_fail "no table inet uplinkd"
[ "$(lab_gw sysctl -n net.ipv4.ip_forward)" = 1 ] || lab_fail "ip_forward not enabled"
out=$(lab_lan "$UL_BUILD/lab/tcpsrc" count 203.0.113.10 5001 20)
echo "$out" | grep -q "^fail 0$" || lab_fail "LAN traffic through uplinkd failed: $out"

# SIGHUP with a broken config: refused, logged, the running one stays
cp "$conf" "$conf.good"
echo 'links = ( { name = "BAD NAME"; } );' >> "$conf"
kill -HUP "$LAB_UPLINKD_PID"
sleep 0.5
grep -q "reload refused" "$LABDIR/uplinkd.log" || lab_fail "bad reload not reported"
lab_ctl status >/dev/null || lab_fail "daemon died after a bad reload"
lab_gw ip route show table 250 | grep -q nexthop || lab_fail "bad reload changed routes"
# good reload: weights change, the multipath route follows
lab_conf 2 weights=1,3 > "$conf"
kill -HUP "$LAB_UPLINKD_PID"
for _ in $(seq 50); do lab_gw ip route show table 250 | grep -q "weight 3" && break; sleep 0.1; done
lab_gw ip route show table 250 | grep -q "weight 3" || lab_fail "reload did not apply weights"

# kill -9: traffic keeps flowing; restart adopts, no duplicates
lab_uplinkd_kill KILL
sleep 0.3
out=$(lab_lan "$UL_BUILD/lab/tcpsrc" count 203.0.113.10 5001 20)
echo "$out" | grep -q "^fail 0$" || lab_fail "traffic stopped after kill -9: $out"
lab_snapshot "$LABDIR/crashed"
lab_uplinkd_start "$conf"
lab_wait_state isp1 up 10 || lab_fail "isp1 not up after restart"
lab_wait_state isp2 up 10 || lab_fail "isp2 not up after restart"
sleep 0.5
lab_snapshot "$LABDIR/restarted"
dups=$(lab_gw ip rule | sort | uniq -d)
[ -z "$dups" ] || lab_fail "duplicate rules after restart: $dups"
[ "$(lab_gw nft list tables | grep -c uplinkd)" = 1 ] || lab_fail "nft table duplicated"
diff <(grep -v '^#' "$LABDIR/crashed" | sed 's/expires [0-9]*s//') \
     <(grep -v '^#' "$LABDIR/restarted" | sed 's/expires [0-9]*s//') \
	|| lab_fail "restart changed the adopted state"

lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_snapshot "$LABDIR/after"
diff "$LABDIR/before" "$LABDIR/after" || lab_fail "kernel state differs after SIGTERM"
[ "$(lab_gw sysctl -n net.ipv4.ip_forward)" = "$fwd_before" ] || lab_fail "ip_forward not restored"
[ "$(lab_gw sysctl -n net.ipv4.conf.wan2.rp_filter)" = "$rpf_before" ] || lab_fail "rp_filter not restored"
# links without a check are judged by their carrier alone
cat > "$conf" <<'EOC'
lan = { interfaces = [ "lan0" ]; };
links = ( { name = "isp1"; interface = "wan1"; gateway = "192.168.1.1"; },
          { name = "isp2"; interface = "wan2"; gateway = "192.168.2.1"; } );
EOC
lab_uplinkd_start "$conf"
lab_all_up 3 || lab_fail "links without check not up"
lab_carrier_down 2
lab_wait_state isp2 down 2 || lab_fail "carrier-only link not down on carrier loss"
lab_carrier_up 2
lab_wait_state isp2 up 2 || lab_fail "carrier-only link not up on carrier return"
grep -q "link isp2: down -> up (carrier up)" "$LABDIR/uplinkd.log" || lab_fail "carrier return reason"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "lifecycle: ok"
