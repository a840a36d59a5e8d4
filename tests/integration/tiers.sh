#!/bin/bash
# Three links in two tiers: the backup tier carries new connections only when every link
# of tier 1 is down, and gives them back when one returns.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 3 --bcp38
lab_conf 3 weights=1,1,1 tiers=1,1,2 interval=200 timeout=200 > "$conf"
lab_uplinkd_start "$conf"
for k in 1 2 3; do lab_wait_state isp$k up 10 || lab_fail "isp$k not up"; done

count() { lab_lan "$TCPSRC" count 203.0.113.10 5001 60 -p 4 -t 2000; }
out=$(count)
echo "$out" | grep -q "^192.168.3.2 " && lab_fail "backup tier used while tier 1 is up: $out"
lab_cut 1
lab_wait_state isp1 down 5 || lab_fail "isp1 not down"
sleep 0.3
out=$(count)
echo "$out" | grep -q "^192.168.3.2 " && lab_fail "backup tier used while isp2 is up: $out"
echo "$out" | grep -q "^fail 0$" || lab_fail "failures with isp2 alone: $out"
lab_cut 2
lab_wait_state isp2 down 5 || lab_fail "isp2 not down"
sleep 0.3
out=$(count)
[ "$(echo "$out" | awk '$1 == "192.168.3.2" { print $2 }')" = 60 ] || lab_fail "backup tier not carrying all: $out"
lab_ctl status | grep -q isp3 || lab_fail "status lacks isp3"
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1 not back"
sleep 0.3
out=$(count)
[ "$(echo "$out" | awk '$1 == "192.168.1.2" { print $2 }')" = 60 ] || lab_fail "tier 1 not carrying all after return: $out"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "tiers: ok"
