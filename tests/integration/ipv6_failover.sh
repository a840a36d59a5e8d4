#!/bin/bash
# Each family has its own health (interval 200 ms, down_after 3, up_after 3):
#  - isp1's IPv6 fails silently (its IPv4 works): isp1's IPv6 goes down, new IPv6
#    connections all leave by isp2, IPv4 keeps being balanced over both; the transition line
#    names the family;
#  - the reverse: isp1's IPv4 fails, its IPv6 goes on;
#  - failback of isp1's IPv6 breaks none of 20 IPv6 connections opened during the outage;
#  - carrier loss takes both families of the link down at once.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2 --bcp38 --ipv6
conf=$LABDIR/uplinkd.conf
S6=$LAB_SERVICE6
P=$LAB_PORT

share() { echo "$1" | awk -v a="$2" '$1 == a { print $2 }'; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

lab_conf6 2 weights=1,1 targets=203.0.113.11,203.0.113.12 \
	targets6=2001:db8:ffff::11,2001:db8:ffff::12 > "$conf"
lab_uplinkd_start "$conf"
for k in 1 2; do
	lab_wait_state isp$k up 10 && lab_wait_state6 isp$k up 10 || lab_fail "isp$k not up"
done

# --- isp1's IPv6 fails silently
t0=$(now_ms)
lab_cut6 1
lab_wait_state6 isp1 down 5 || lab_fail "isp1's IPv6 not down after its silent failure"
echo "IPv6-only failure: isp1's IPv6 down $(( $(now_ms) - t0 )) ms after the cut"
lab_assert "isp1's IPv4 stays up" [ "$(lab_link_field isp1 state)" = up ]
lab_assert "the transition line names the family" \
	'grep -q "link isp1: up -> down (ipv6: 3 of 3 rounds failed)" "$LABDIR/uplinkd.log"'
lab_assert "isp1's IPv6 is not active" [ "$(lab_link6_field isp1 active)" = false ]
out=$(lab_lan tcpsrc count "$S6" "$P" 100 -p 4 -t 2000)
lab_log "IPv6 with isp1's IPv6 down: $out"
lab_assert "100 new IPv6 connections all by isp2" '[ "$(share "$out" 2001:db8:2::2)" = 100 ]'
out=$(lab_lan tcpsrc count 203.0.113.10 "$P" 200 -p 4 -t 2000)
lab_log "IPv4 meanwhile: $out"
lab_assert "IPv4 still balanced over both (isp1 carries some)" \
	'[ "$(share "$out" 192.168.1.2)" -ge 60 ] && grep -q "^fail 0$" <<<"$out"'

# --- failback: IPv6 connections opened during the outage (all on isp2) survive it
lab_lan tcpsrc hold "$S6" "$P" 20 6 -f "$LABDIR/hold.ready" > "$LABDIR/hold.out" &
hpid=$!
lab_wait_file "$LABDIR/hold.ready" 5 || lab_fail "hold did not start"
t0=$(now_ms)
lab_heal 1
lab_wait_state6 isp1 up 10 || lab_fail "isp1's IPv6 not back"
echo "IPv6 failback: isp1's IPv6 up $(( $(now_ms) - t0 )) ms after healing"
rc=0; wait $hpid || rc=$?
broken=$(awk '$1 == "broken" { print $2 }' "$LABDIR/hold.out")
echo "IPv6 failback: ${broken:-?} of 20 IPv6 connections broken"
lab_assert "failback broke 0 of 20 IPv6 connections" '[ "$rc" = 0 ] && [ "$broken" = 0 ]'
out=$(lab_lan tcpsrc count "$S6" "$P" 100 -p 4 -t 2000)
lab_assert "isp1 carries IPv6 again after failback" '[ "$(share "$out" 2001:db8:1::2)" -ge 20 ]'

# --- the reverse: isp1's IPv4 fails, its IPv6 goes on
lab_cut4 1
lab_wait_state isp1 down 5 || lab_fail "isp1's IPv4 not down"
lab_assert "isp1's IPv6 stays up" [ "$(lab_link6_field isp1 state)" = up ]
lab_assert "the IPv4 transition names its family" \
	'grep -q "link isp1: up -> down (ipv4: 3 of 3 rounds failed)" "$LABDIR/uplinkd.log"'
out=$(lab_lan tcpsrc count 203.0.113.10 "$P" 50 -p 4 -t 2000)
lab_assert "new IPv4 connections all by isp2" '[ "$(share "$out" 192.168.2.2)" = 50 ]'
out=$(lab_lan tcpsrc count "$S6" "$P" 100 -p 4 -t 2000)
lab_assert "isp1 still carries IPv6" '[ "$(share "$out" 2001:db8:1::2)" -ge 20 ] && grep -q "^fail 0$" <<<"$out"'
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1's IPv4 not back"

# --- carrier loss: both families at once
t0=$(now_ms)
lab_carrier_down 2
lab_wait_state isp2 down 2 && lab_wait_state6 isp2 down 2 || lab_fail "isp2 not down in both families"
echo "carrier loss: isp2 down in both families after $(( $(now_ms) - t0 )) ms"
lab_assert "carrier loss logged for IPv6" \
	'grep -q "link isp2: up -> down (ipv6: carrier lost)" "$LABDIR/uplinkd.log"'
out=$(lab_lan tcpsrc count "$S6" "$P" 20 -t 2000)
lab_assert "IPv6 by isp1 alone" '[ "$(share "$out" 2001:db8:1::2)" = 20 ]'
lab_carrier_up 2
lab_wait_state6 isp2 up 10 || lab_fail "isp2's IPv6 not back after its carrier"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "ipv6_failover: ok"
