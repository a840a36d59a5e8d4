#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The prober against real sockets, in two namespaces of its own:
#   a: va 10.99.0.1/24 (the link); vd 10.55.0.1/24 (a veth whose peer stays idle) carries the
#      main table's default route via 10.55.0.254, which does not exist: a decoy, whatever
#      leaves by it is lost; table 77: 10.77.0.0/24 via 10.99.0.2 dev va; rule "from 10.99.0.1
#      lookup 77"
#   b: vb 10.99.0.2/24; lo 10.77.0.1 (tcp/http server on 80, dns server on 53) and
#      10.77.0.2 (dropped by nftables), 10.77.0.3 (rejected: ICMP host unreachable);
#      arp_ignore=1 so b answers ARP only for 10.99.0.2
# so a probe reaches 10.77.0.1 only when it leaves by va through table 77.
. "$(dirname "$0")/../lab/lab.sh"
set -u
T="$UL_BUILD/lab/probe_tool"

lab_require_root
[ -x "$T" ] || lab_fail "$T is not built"
lab_begin
NA=$LAB-a
NB=$LAB-b
ip netns add "$NA" && ip netns add "$NB" || lab_fail "ip netns add failed"

must() { "$@" || lab_fail "setup: $*"; }
must ip -n "$NA" link set lo up
must ip -n "$NB" link set lo up
must ip -n "$NA" link add va type veth peer name vb netns "$NB"
must ip -n "$NA" addr add 10.99.0.1/24 dev va
must ip -n "$NA" link set va up
must ip -n "$NB" addr add 10.99.0.2/24 dev vb
must ip -n "$NB" link set vb up
must ip -n "$NB" addr add 10.77.0.1/32 dev lo
must ip -n "$NB" addr add 10.77.0.2/32 dev lo
must ip -n "$NB" addr add 10.77.0.3/32 dev lo
must ip netns exec "$NB" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.vb.arp_ignore=1
# no ICMP error rate limit: every rejected probe gets its host unreachable
must ip netns exec "$NB" sysctl -qw net.ipv4.icmp_ratelimit=0
must ip -n "$NA" link add vd type veth peer name vdp
must ip -n "$NA" addr add 10.55.0.1/24 dev vd
must ip -n "$NA" link set vd up
must ip -n "$NA" link set vdp up
must ip -n "$NA" route add default via 10.55.0.254 dev vd
must ip -n "$NA" route add 10.77.0.0/24 via 10.99.0.2 dev va table 77
must ip -n "$NA" rule add from 10.99.0.1 lookup 77 pref 1000
must ip netns exec "$NA" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.va.rp_filter=2
must ip netns exec "$NB" nft -f - <<'EOF'
table inet ulp {
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 10.77.0.2 drop
		ip daddr 10.77.0.3 reject with icmp type host-unreachable
	}
}
EOF

ip netns exec "$NB" "$T" serve-tcp 10.77.0.1 80 &
ip netns exec "$NB" "$T" serve-dns 10.77.0.1 53 &
servers_up() {
	ip netns exec "$NB" ss -Hltn 'sport = :80' | grep -q . &&
		ip netns exec "$NB" ss -Hlun 'sport = :53' | grep -q .
}
lab_wait_cmd 5 servers_up || lab_fail "the probe servers did not start"

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# probe NAME EXPECT_ROUNDS EXPECT_SENT EXPECT_ANSWERED MIN_LAST_END MAX_LAST_END ARGS...
# Runs probe_tool in a with -t and checks each round line and the last round's end (ms).
# Also checks that consecutive round ends are at least GAP ms apart (GAP env, default 0).
probe() {
	local name=$1 rounds=$2 sent=$3 answered=$4 min_end=$5 max_end=$6 out rc
	shift 6
	out=$(ip netns exec "$NA" "$T" run -t "$@" 2>"$tmp/err"); rc=$?
	while IFS= read -r l; do echo "     $name: $l"; done <<<"$out"
	if [ $rc != 0 ]; then bad "$name: exit $rc: $(tr '\n' ' ' <"$tmp/err")"; return; fi
	if ! echo "$out" | awk -v n="$rounds" -v s="$sent" -v a="$answered" \
		-v lo="$min_end" -v hi="$max_end" -v gap="${GAP:-0}" '
		$1 != "round" || $3 != "sent" || $5 != "answered" || $7 != "rtt_us" { exit 1 }
		{ k++; if ($2 != k || $4 != s || $6 != a) exit 1
		  if (a > 0 && $8 <= 0) exit 1
		  if (a == 0 && $8 != 0) exit 1
		  if (k > 1 && $10 - last < gap) exit 1
		  last = $10 }
		END { if (k != n || last < lo || last > hi) exit 1 }'; then
		bad "$name: want $rounds rounds of sent $sent answered $answered," \
			"last end in [$min_end, $max_end] ms, gap >= ${GAP:-0} ms"
		return
	fi
	ok "$name ($(grep -o 'errors [0-9]*' "$tmp/err"))"
	last_out=$out
}
tmp=$LABDIR

SRC=(va 10.99.0.1 0)
# Reachable target: every round answered; 5 rounds, one every 200 ms: the 5th ends near 800 ms.
for m in icmp tcp http dns; do
	probe "$m reachable" 5 1 1 750 2500 "$m" "${SRC[@]}" 5 200 1000 10.77.0.1
	rtt=$(echo "$last_out" | awk '{ s += $8 } END { if (NR) printf "%d", s / NR }')
	echo "     $m average rtt_us $rtt"
done
# Dropped target: nothing answered, each round lasts its timeout (300 ms > interval 100 ms),
# so the rounds never overlap: ends at about 300, 600, 900 ms. icmp and dns try 3 times
# within the round (sent counts tries), tcp and http connect once.
for m in icmp tcp http dns; do
	tries=1; case $m in icmp|dns) tries=3 ;; esac
	GAP=280 probe "$m dropped" 3 $tries 0 850 2500 "$m" "${SRC[@]}" 3 100 300 10.77.0.2
done
# Two icmp probers at once on the same link: each raw socket also sees the other's echo
# replies, and counts only its own (id, seq and source address).
ip netns exec "$NA" "$T" run icmp "${SRC[@]}" 8 50 300 10.77.0.1 >"$tmp/other" 2>&1 &
other=$!
GAP=280 probe "icmp dropped beside a busy prober" 3 3 0 850 2500 icmp "${SRC[@]}" 3 100 300 10.77.0.2
if wait "$other" && [ "$(grep -c 'sent 1 answered 1 ' "$tmp/other")" = 8 ]; then
	ok "icmp busy prober beside it: 8 of 8 rounds answered"
else
	bad "icmp busy prober: $(tr '\n' ' ' <"$tmp/other")"
fi
# Two targets, one dropped: half answered (icmp: 1 try to the one, 3 to the other).
probe "icmp half" 3 4 1 650 2500 icmp "${SRC[@]}" 3 100 300 10.77.0.1 10.77.0.2
probe "tcp half" 3 2 1 650 2500 tcp "${SRC[@]}" 3 100 300 10.77.0.1 10.77.0.2
# A closed port answers with RST: alive for tcp, fast failure for http (rounds end before
# their 1000 ms timeout: 3 rounds every 200 ms end near 400 ms).
probe "tcp closed port" 3 1 1 350 900 tcp "${SRC[@]}" 3 200 1000 10.77.0.1:81
probe "http closed port" 3 1 0 350 900 http "${SRC[@]}" 3 200 1000 10.77.0.1:81
# DNS on a port without a server: ICMP port unreachable, fast failure.
probe "dns closed port" 3 1 0 350 900 dns "${SRC[@]}" 3 200 1000 10.77.0.1:54
# Rejected with ICMP host unreachable: a fast failure (the icmp prober reads it from its
# error queue), rounds end long before their 1000 ms timeout.
for m in icmp tcp dns; do
	probe "$m rejected" 3 1 0 350 900 "$m" "${SRC[@]}" 3 200 1000 10.77.0.3
done
# No TIME_WAIT left in a by all the tcp/http probes (they close with SO_LINGER 0).
tw=$(ip netns exec "$NA" ss -Htan state time-wait | wc -l)
if [ "$tw" = 0 ]; then ok "no TIME_WAIT sockets"; else bad "$tw TIME_WAIT sockets in a"; fi
# Unbind after round 1 and rebind 200 ms later: no round while unbound (rounds end near 0,
# 200 and 300 ms instead of 0, 100, 200), no fd left behind.
probe "icmp rebind" 3 1 1 280 2500 -r icmp "${SRC[@]}" 3 100 1000 10.77.0.1
probe "http rebind" 3 1 1 280 2500 -r http "${SRC[@]}" 3 100 1000 10.77.0.1
# A device that does not exist: every probe is an error, rounds still come at their interval
# (no busy loop, no crash).
for m in icmp tcp dns; do
	probe "$m no device" 3 1 0 350 900 $m nosuchdev0 10.99.0.1 0 3 200 1000 10.77.0.1
done

# The mark alone steers the probe: rule by fwmark instead of by source.
ip -n "$NA" rule del from 10.99.0.1 lookup 77 pref 1000
ip -n "$NA" rule add fwmark 0x100/0xff00 lookup 77 pref 1000
probe "icmp mark 0x100" 3 1 1 350 2500 icmp va 10.99.0.1 0x100 3 200 500 10.77.0.1
probe "tcp mark 0x100" 3 1 1 350 2500 tcp va 10.99.0.1 0x100 3 200 500 10.77.0.1
# Without the mark the main table (default via vd) does not reach the target.
probe "icmp no mark" 2 3 0 900 2500 icmp va 10.99.0.1 0 2 200 500 10.77.0.1

# IPv6 on a's loopback: tcp to a closed port is alive (RST), ICMPv6 echo answered.
probe "tcp ipv6 loopback" 2 1 1 150 900 tcp lo ::1 0 2 200 1000 '[::1]:81'
probe "icmp ipv6 loopback" 2 1 1 150 900 icmp lo ::1 0 2 200 1000 ::1

# IPv6 over the link, built like IPv4: va 2001:db8:99::1/64, vb 2001:db8:99::2/64; b's lo
# 2001:db8:77::1 (served), ::2 (dropped), ::3 (rejected: ICMPv6 administratively prohibited); a's
# main table has a decoy default via vd, table 77 reaches 2001:db8:77::/64 by va.
must ip netns exec "$NA" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
must ip netns exec "$NB" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.icmp.ratelimit=0
must ip -n "$NA" -6 addr add 2001:db8:99::1/64 dev va nodad
must ip -n "$NB" -6 addr add 2001:db8:99::2/64 dev vb nodad
must ip -n "$NA" -6 addr add fd55::1/64 dev vd nodad
for i in 1 2 3; do must ip -n "$NB" -6 addr add 2001:db8:77::$i/128 dev lo; done
must ip -n "$NA" -6 route add default via fd55::254 dev vd
must ip -n "$NA" -6 route add 2001:db8:77::/64 via 2001:db8:99::2 dev va table 77
must ip -n "$NA" -6 rule add from 2001:db8:99::1 lookup 77 pref 1000
must ip netns exec "$NB" nft -f - <<'EOF'
table inet ulp6 {
	chain in {
		type filter hook input priority 0; policy accept;
		ip6 daddr 2001:db8:77::2 drop
		ip6 daddr 2001:db8:77::3 reject with icmpv6 type admin-prohibited
	}
}
EOF
ip netns exec "$NB" "$T" serve-tcp 2001:db8:77::1 80 & pids+=($!)
for _ in $(seq 50); do
	ip netns exec "$NB" ss -Hltn 'sport = :80' | grep -q '2001:db8:77::1' && break
	sleep 0.1
done
SRC6=(va 2001:db8:99::1 0)
for m in icmp tcp http; do
	probe "$m ipv6 reachable" 5 1 1 750 2500 "$m" "${SRC6[@]}" 5 200 1000 2001:db8:77::1
done
for m in icmp tcp; do
	tries=1; [ $m = icmp ] && tries=3       # icmp tries 3 times within a round, as in IPv4
	GAP=280 probe "$m ipv6 dropped" 3 $tries 0 850 2500 "$m" "${SRC6[@]}" 3 100 300 \
		2001:db8:77::2
done
# Rejected: the icmp prober reads the ICMPv6 error from its error queue at once. (A TCP
# connect sees it only with its SYN retransmission, after 1 s here, also without uplinkd:
# a plain python connect() takes as long; so a tcp check fails such a target by timeout.)
probe "icmp ipv6 rejected" 3 1 0 350 900 icmp "${SRC6[@]}" 3 200 1000 2001:db8:77::3
probe "icmp ipv6 half" 3 4 1 650 2500 icmp "${SRC6[@]}" 3 100 300 2001:db8:77::1 \
	2001:db8:77::2
# an IPv4 target on an IPv6 prober is an error of its own, the IPv6 one still answered
probe "icmp ipv6 with an ipv4 target" 2 2 1 150 900 icmp "${SRC6[@]}" 2 200 1000 \
	2001:db8:77::1 10.77.0.1
if grep -q "target and source address differ in family" "$tmp/err"; then
	ok "icmp ipv6: the IPv4 target's error says why"
else bad "icmp ipv6: no clear error for the IPv4 target: $(cat "$tmp/err")"; fi
# the mark alone steers IPv6 too
ip -n "$NA" -6 rule del from 2001:db8:99::1 lookup 77 pref 1000
ip -n "$NA" -6 rule add fwmark 0x100/0xff00 lookup 77 pref 1000
probe "icmp ipv6 mark 0x100" 3 1 1 350 2500 icmp va 2001:db8:99::1 0x100 3 200 500 \
	2001:db8:77::1
# without the mark, IPv6 finds no route out of va at all (the main table's default is on vd
# and the socket is bound to va): each probe fails at once, with its reason
probe "icmp ipv6 no mark" 2 1 0 150 2500 icmp va 2001:db8:99::1 0 2 200 500 2001:db8:77::1
if grep -q "unreachable" "$tmp/err"; then ok "icmp ipv6 no mark: unreachable, said so"
else bad "icmp ipv6 no mark: no reason given: $(cat "$tmp/err")"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
