#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pingloop.sh: the "ping-loop failover" of the common tutorials, for comparison with uplinkd
# in the namespace lab (bench/run.sh runs it in the lab's gateway namespace; it refuses to
# run in an unnamed namespace, e.g. the host's).
#
#   pingloop.sh INTERVAL_S TARGET GW1 DEV1 GW2 DEV2 LOG MAX_ROUNDS
#
# Set-up, as the tutorials do it: ip_forward on, plain masquerade on both WAN interfaces
# (nft, no connection marking), a host route for TARGET via the primary (so the check always
# uses the primary link), default route via the primary. Then every INTERVAL_S: ping TARGET
# once (1 s timeout); on failure replace the main table's default route by the backup, when
# it answers again put the primary back. At most MAX_ROUNDS rounds; SIGTERM ends it. On exit
# the set-up is undone (default route back to the primary).
# LOG gets "EPOCH_US check ok|fail" and "EPOCH_US switch primary|backup" lines.
# shellcheck disable=SC2317
set -u
if [ $# != 8 ]; then
	echo "usage: pingloop.sh INTERVAL_S TARGET GW1 DEV1 GW2 DEV2 LOG MAX_ROUNDS" >&2
	exit 2
fi
interval=$1 target=$2 gw1=$3 dev1=$4 gw2=$5 dev2=$6 log=$7 max=$8
ns=$(ip netns identify $$ 2>/dev/null)
if [ -z "$ns" ]; then
	echo "pingloop.sh: not in a named network namespace; refusing to touch this one" >&2
	exit 2
fi

stop=0
trap 'stop=1' TERM INT
cleanup() {
	ip route replace default via "$gw1" dev "$dev1" 2>/dev/null
	ip route del "$target/32" via "$gw1" dev "$dev1" 2>/dev/null
	nft delete table ip pingloop 2>/dev/null
	sysctl -qw net.ipv4.ip_forward=0
}
trap cleanup EXIT

sysctl -qw net.ipv4.ip_forward=1 || exit 1
nft -f - <<-EOF || exit 1
	table ip pingloop {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname { "$dev1", "$dev2" } masquerade
		}
	}
EOF
ip route replace "$target/32" via "$gw1" dev "$dev1" || exit 1
ip route replace default via "$gw1" dev "$dev1" || exit 1
cur=primary

for ((round = 0; round < max && !stop; round++)); do
	if ping -n -q -c 1 -W 1 "$target" >/dev/null 2>&1; then
		want=primary
		echo "${EPOCHREALTIME/./} check ok" >>"$log"
	else
		want=backup
		echo "${EPOCHREALTIME/./} check fail" >>"$log"
	fi
	if [ "$want" != "$cur" ]; then
		if [ "$want" = backup ]; then
			ip route replace default via "$gw2" dev "$dev2"
		else
			ip route replace default via "$gw1" dev "$dev1"
		fi
		cur=$want
		echo "${EPOCHREALTIME/./} switch $cur" >>"$log"
	fi
	# sleep in the background and wait for it, so that SIGTERM ends the wait at once
	sleep "$interval" &
	wait $! 2>/dev/null
	kill $! 2>/dev/null
done
exit 0
