#!/bin/bash
# Policy rules, sticky sessions and port forwards, with ISP routers that drop foreign source
# addresses (BCP38): port pinning, destination pinning with fallback, source-subnet pinning
# with fallback "drop" that never leaks, sticky by source, port forwards on every link.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
lab_bg net "$TCPSRC" serve 0.0.0.0 5002
lab_bg lan "$TCPSRC" serve 0.0.0.0 5003

seen() {  # tcpsrc count output, address -> count (0 if absent)
	local n; n=$(echo "$1" | awk -v a="$2" '$1 == a { print $2 }'); echo "${n:-0}"
}
failed() { echo "$1" | awk '$1 == "fail" { print $2 }'; }

lab_conf 2 weights=1,1 extra='
rules = (
  { name = "mail"; proto = "tcp"; dst_port = ( 5002, "6000-6010" ); via = [ "isp2", "isp1" ]; },
  { name = "pinned"; dst = [ "203.0.113.14" ]; via = [ "isp1" ]; },
  { name = "office"; src = [ "10.0.1.0/24" ]; via = [ "isp2" ]; fallback = "drop"; }
);
port_forwards = (
  { name = "web"; proto = "tcp"; port = 8080; to = "10.0.0.2:5003"; }
);' > "$conf"
lab_up "$conf"

# port pinning
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5002 50 -p 4)
[ "$(seen "$out" 192.168.2.2)" = 50 ] || lab_fail "port 5002 not pinned to isp2: $out"
# destination pinning, and its fallback to balancing when isp1 is down
out=$(lab_lan "$TCPSRC" count 203.0.113.14 5001 50 -p 4)
[ "$(seen "$out" 192.168.1.2)" = 50 ] || lab_fail "203.0.113.14 not pinned to isp1: $out"
# source-subnet pinning
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 50 -p 4 -s 10.0.1.2)
[ "$(seen "$out" 192.168.2.2)" = 50 ] || lab_fail "10.0.1.0/24 not pinned to isp2: $out"
# port forward reachable on both links, replies by the arrival link
for k in 1 2; do
	out=$(lab_net "$TCPSRC" count 192.168.$k.2 8080 40 -p 4 -t 2000)
	[ "$(failed "$out")" = 0 ] || lab_fail "port forward via isp$k: $out"
done
echo "pinning and port forwards: ok"

lab_cut 1
lab_wait_state isp1 down 5 || lab_fail "isp1 not down"
sleep 0.3
out=$(lab_lan "$TCPSRC" count 203.0.113.14 5001 30 -p 4 -t 2000)
[ "$(seen "$out" 192.168.2.2)" = 30 ] || lab_fail "pinned destination did not fall back to isp2: $out"
out=$(lab_net "$TCPSRC" count 192.168.2.2 8080 20 -p 4 -t 2000)
[ "$(failed "$out")" = 0 ] || lab_fail "port forward via the survivor isp2: $out"
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1 not back"

lab_cut 2
lab_wait_state isp2 down 5 || lab_fail "isp2 not down"
sleep 0.3
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5002 20 -p 4 -t 2000)
[ "$(seen "$out" 192.168.1.2)" = 20 ] || lab_fail "port pin did not move to the next via link: $out"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 20 -p 4 -t 1000 -s 10.0.1.2)
[ "$(failed "$out")" = 20 ] || lab_fail "fallback drop leaked traffic: $out"
# the router itself still talks to the office subnet (drop applies to forwarded traffic only)
out=$(lab_gw "$TCPSRC" count 10.0.1.2 5003 3 -s 10.0.1.1 -t 2000)
[ "$(failed "$out")" = 0 ] || lab_fail "router cannot reach 10.0.1.2: $out"
lab_heal 2
lab_wait_state isp2 up 10 || lab_fail "isp2 not back"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 20 -p 4 -s 10.0.1.2)
[ "$(seen "$out" 192.168.2.2)" = 20 ] || lab_fail "office subnet not back on isp2: $out"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "fallbacks: ok"

# sticky by source
lab_conf 2 weights=1,1 extra='sticky = { by = "source"; timeout_s = 600; };' > "$conf"
lab_up "$conf"
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 100 -p 4)
a=$(seen "$out" 192.168.1.2); b=$(seen "$out" 192.168.2.2)
[ "$a" = 100 ] || [ "$b" = 100 ] || lab_fail "100 connections from one host used both links: $out"
[ "$a" = 100 ] && k=1 || k=2
other=$((3 - k))
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 100 -p 4 -s 10.0.1.2)
[ "$(seen "$out" 192.168.1.2)" = 100 ] || [ "$(seen "$out" 192.168.2.2)" = 100 ] ||
	lab_fail "second host not sticky: $out"
echo "sticky: 10.0.0.2 on isp$k"
lab_cut $k
lab_wait_state isp$k down 5 || lab_fail "isp$k not down"
sleep 0.3
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 30 -p 4 -t 2000)
[ "$(seen "$out" 192.168.$other.2)" = 30 ] || lab_fail "sticky source did not move to the live link: $out"
lab_heal $k
lab_wait_state isp$k up 10 || lab_fail "isp$k not back"
sleep 0.3
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 30 -p 4)
[ "$(seen "$out" 192.168.$other.2)" = 30 ] || lab_fail "sticky source snapped back: $out"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "policy: ok"
