#!/bin/bash
# Weighted balancing over the multipath route, masquerade per link, conntrack-mark pinning:
# weights 30/70 give a 30 % +- 6 share of new connections; three links 1:1:1 all carry;
# an established connection survives a weight change.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 3 --bcp38

share() {  # output of tcpsrc count, address -> count
	echo "$1" | awk -v a="$2" '$1 == a { print $2 }'
}

lab_conf 2 weights=30,70 > "$conf"
lab_uplinkd_start "$conf"
lab_wait_state isp1 up 10 && lab_wait_state isp2 up 10 || lab_fail "links not up"

# a long-lived connection opened now must survive the reload below
lab_lan "$TCPSRC" hold 203.0.113.10 5001 4 8 -f "$LABDIR/hold.ready" > "$LABDIR/hold.out" &
holdpid=$!
lab_wait_file "$LABDIR/hold.ready" 5 || lab_fail "hold did not start"

out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 400 -p 8)
lab_log "30/70: $out"
n1=$(share "$out" 192.168.1.2); n2=$(share "$out" 192.168.2.2)
echo "$out" | grep -q "^fail 0$" || lab_fail "connections failed: $out"
pct=$(( ${n1:-0} * 100 / 400 ))
[ "$pct" -ge 24 ] && [ "$pct" -le 36 ] || lab_fail "isp1 share $pct% not within 30 +- 6"
echo "balance 30/70 over 400 connections: isp1 $pct%"

# weight change by reload: established connections stay where they are
lab_conf 2 weights=70,30 > "$conf"
lab_ctl reload || lab_fail "reload failed"
wait $holdpid || lab_fail "established connection broken by a weight change: $(cat "$LABDIR/hold.out")"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 400 -p 8)
n1=$(share "$out" 192.168.1.2)
pct=$(( ${n1:-0} * 100 / 400 ))
[ "$pct" -ge 64 ] && [ "$pct" -le 76 ] || lab_fail "after reload isp1 share $pct% not within 70 +- 6"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"

# three links 1:1:1
lab_conf 3 weights=1,1,1 > "$conf"
lab_uplinkd_start "$conf"
for k in 1 2 3; do lab_wait_state isp$k up 10 || lab_fail "isp$k not up"; done
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 300 -p 8)
lab_log "1:1:1: $out"
echo "$out" | grep -q "^fail 0$" || lab_fail "connections failed: $out"
for k in 1 2 3; do
	n=$(share "$out" 192.168.$k.2)
	[ "${n:-0}" -ge 70 ] && [ "${n:-0}" -le 130 ] || lab_fail "isp$k carried ${n:-0} of 300"
done
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "balance: ok"
