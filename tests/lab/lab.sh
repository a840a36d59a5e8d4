# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2015
#
# The namespace lab: a LAN host, the gateway where uplinkd runs, N ISP routers and "the
# Internet", each in a network namespace of its own. Sourced by the integration tests, the
# demo and the benchmarks:
#
#	. "$(dirname "$0")/../lab/lab.sh"
#	lab_require_root
#	lab_create 2 --bcp38
#	lab_gw tcpsrc count 203.0.113.10 5001 10
#
#   $LAB-lan   lan0 10.0.0.2/24 + 10.0.1.2/24, default via 10.0.0.1
#   $LAB-gw    lan0 10.0.0.1/24 + 10.0.1.1/24, wanK 192.168.K.2/24,
#              main table: default via 192.168.1.1 dev wan1 (+ connected), ip_forward 0
#   $LAB-ispK  cK 192.168.K.1/24, nK 100.64.K.1/24, ip_forward 1,
#              203.0.113.0/24 via 100.64.K.2; nft inet labctl (cut/loss), inet lab (--bcp38);
#              with lab_delay, iptables' ip filter FORWARD -> NFQUEUE K -> delayline
#   $LAB-net   iK 100.64.K.2/24, 203.0.113.10-19/32 on lo, 192.168.K.0/24 via 100.64.K.1,
#              no default route; "tcpsrc serve 0.0.0.0 5001" runs there
#   --ipv6     adds IPv6 to all of it (ULA LAN, radvd per ISP): see "IPv6" below
#
# Sourcing this file only defines functions and variables; lab_create builds the lab and
# installs the EXIT/INT/TERM traps that call lab_cleanup. A test that needs exit actions of
# its own registers them with lab_on_exit instead of replacing the trap.
#
# Background commands: "lab_bg gw tcpsrc hold ... >file" sets $LAB_BG_PID to the command's
# own PID (signal it, wait for it). "lab_gw cmd &" works too, but its $! is a subshell's, so
# a SIGTERM sent there does not reach cmd. lab_cleanup ends whatever still runs in the lab.
# $PATH has $UL_BUILD/lab and $UL_BUILD first, so tcpsrc, uplinkd... are found by name.

LAB=${LAB:-ul$$}
_LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UL_BUILD=${UL_BUILD:-$_LAB_ROOT/build}
LAB_TCPSRC=${LAB_TCPSRC:-$UL_BUILD/lab/tcpsrc}
LAB_PORT=5001			# the service port of tcpsrc serve in $LAB-net
LAB_SERVICE=203.0.113.10	# the first service address
LABDIR=${LABDIR:-}
LAB_NLINKS=0
LAB_UPLINKD_PID=
LAB_TRANSLOG=
_LAB_PIDS=()
_LAB_DELAY_PID=()		# by link: the PID of its delay line (lab_delay)
_LAB_ON_EXIT=()
_LAB_LOG_DUMPED=0
_LAB_T0=${EPOCHREALTIME/./}
export UL_BUILD LAB
# tests may call the lab tools (tcpsrc, probe_tool) and the daemon by name
PATH="$UL_BUILD/lab:$UL_BUILD:$PATH"

# ---------------------------------------------------------------------------------------
# logging and assertions

lab_log() {
	local now=${EPOCHREALTIME/./} ms
	ms=$(( (now - _LAB_T0) / 1000 ))
	printf '[%d.%03d] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}

lab_dump_log() {
	_LAB_LOG_DUMPED=1
	local f=${LABDIR:+$LABDIR/uplinkd.log}
	if [ -n "$f" ] && [ -s "$f" ]; then
		echo "----- $f (last 200 lines) -----" >&2
		tail -n 200 "$f" >&2
		echo "----- end of uplinkd log -----" >&2
	fi
}

# lab_fail MSG: print, dump the daemon's log, exit 1 (the EXIT trap cleans up).
lab_fail() {
	echo "FAIL: $*" >&2
	lab_dump_log
	exit 1
}

# lab_assert MSG COMMAND [ARGS...]   e.g. lab_assert "10 via isp1" [ "$n" = 10 ]
# lab_assert MSG 'EXPRESSION'        one string: evaluated, e.g. lab_assert "x" '[ $n = 10 ]'
lab_assert() {
	local msg=$1 rc=0
	shift
	[ $# -gt 0 ] || lab_fail "lab_assert: no condition for: $msg"
	if [ $# -eq 1 ]; then
		eval "$1" || rc=$?
	else
		"$@" || rc=$?
	fi
	[ $rc = 0 ] || lab_fail "assertion failed: $msg"
	lab_log "ok: $msg"
}

# ---------------------------------------------------------------------------------------
# setup and cleanup

lab_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root and network namespaces"
		exit 77
	fi
	if ! ip netns add "$LAB-chk" >/dev/null 2>&1; then
		echo "SKIP: needs root and network namespaces"
		exit 77
	fi
	ip netns del "$LAB-chk" >/dev/null 2>&1
	return 0
}

# The namespaces of this lab that exist now.
_lab_namespaces() {
	ip netns list 2>/dev/null | awk -v p="$LAB-" 'index($1, p) == 1 { print $1 }'
}

# _lab_reap TIMEOUT_S PID...: wait (bounded) until the processes are gone, then SIGKILL.
_lab_reap() {
	local t=$1 pid left i
	shift
	for ((i = 0; i < t * 10; i++)); do
		left=0
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && left=1
		done
		[ $left = 0 ] && return 0
		sleep 0.1
	done
	for pid in "$@"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	return 0
}

# lab_on_exit COMMAND...: run (as one eval'd string) by lab_cleanup before the teardown.
lab_on_exit() {
	_LAB_ON_EXIT+=("$*")
}

lab_cleanup() {
	local pid ns cmd pids=()

	for cmd in "${_LAB_ON_EXIT[@]}"; do
		eval "$cmd" || true
	done
	_LAB_ON_EXIT=()
	if [ -n "$LAB_UPLINKD_PID" ]; then
		lab_uplinkd_stop >/dev/null 2>&1 || true
	fi
	for pid in "${_LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	# anything else still running inside the lab (tests' background tcpsrc, probes...)
	for ns in $(_lab_namespaces); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
		done
	done
	# (stderr off: no "Killed" notices from the shell's job control)
	[ ${#pids[@]} -gt 0 ] && { _lab_reap 3 "${pids[@]}"; } 2>/dev/null
	_LAB_PIDS=()
	_LAB_DELAY_PID=()
	for ns in $(_lab_namespaces); do
		ip netns del "$ns" 2>/dev/null || lab_log "lab_cleanup: cannot delete netns $ns"
	done
	if [ -n "$LABDIR" ] && [ -d "$LABDIR" ]; then
		if [ "${UL_KEEP_LOGS:-0}" = 1 ]; then
			lab_log "logs kept in $LABDIR"
		else
			rm -rf "$LABDIR"
		fi
	fi
	LABDIR=
	LAB_NLINKS=0
	return 0
}

_lab_on_exit_trap() {
	local rc=$?
	trap - EXIT
	if [ $rc != 0 ] && [ $rc != 77 ] && [ $_LAB_LOG_DUMPED = 0 ]; then
		lab_dump_log
	fi
	lab_cleanup
	exit $rc
}

_lab_on_signal() {
	lab_log "interrupted by SIG$1, cleaning up"
	trap - EXIT INT TERM
	lab_cleanup
	[ "$1" = INT ] && exit 130
	exit 143
}

# _lab_run NS CMD...: run a command in a namespace; on failure end the test (lab_fail).
_lab_run() {
	local ns=$1 out
	shift
	out=$(ip netns exec "$LAB-$ns" "$@" 2>&1) || lab_fail "lab: in $LAB-$ns: $* failed: $out"
}

# _lab_ip NS: run "ip -batch -" in a namespace with the commands on stdin.
_lab_ip() {
	local ns=$1 out
	out=$(ip -n "$LAB-$ns" -batch - 2>&1) || lab_fail "lab: ip batch in $LAB-$ns failed: $out"
}

# lab_begin: what every lab starts with, also one of a test's own making (namespaces
# named "$LAB-*", taken away by lab_cleanup with whatever runs in them): a stale lab of
# the same name (PID reuse after a killed run) goes, the EXIT/INT/TERM traps, $LABDIR.
lab_begin() {
	lab_cleanup
	trap _lab_on_exit_trap EXIT
	trap '_lab_on_signal INT' INT
	trap '_lab_on_signal TERM' TERM
	LABDIR=$(mktemp -d "${TMPDIR:-/tmp}/ul-lab.XXXXXX") || lab_fail "lab_begin: mktemp failed"
}

# lab_test NLINKS [--bcp38]: how an integration test starts: root and namespaces (else a
# skip, 77), the lab; $conf is where its uplinkd config goes, $TCPSRC the traffic tool.
lab_test() {
	lab_require_root
	lab_create "$@"
	conf=$LABDIR/uplinkd.conf
	TCPSRC=$LAB_TCPSRC
}

# _lab_isp_up K BCP38: ISP K's router ($LAB-ispK, its veths cK and nK made): addresses, the
# route to the Internet, the cut/loss chains of lab_cut and lab_loss, and with BCP38=1 a
# filter that forwards only its own customers' addresses (lab_create and ha.sh)
_lab_isp_up() {
	local k=$1 bcp38=$2
	_lab_ip "isp$k" <<-EOF
		link set lo up
		addr add 192.168.$k.1/24 dev c$k
		addr add 100.64.$k.1/24 dev n$k
		link set c$k up
		link set n$k up
		route add 203.0.113.0/24 via 100.64.$k.2 dev n$k
	EOF
	{
		cat <<-EOF
			table inet labctl {
				chain cut {
				}
				chain loss {
				}
				chain forward {
					type filter hook forward priority -10; policy accept;
					jump cut
					jump loss
				}
			}
		EOF
		if [ "$bcp38" = 1 ]; then
			cat <<-EOF
				table inet lab {
					chain forward {
						type filter hook forward priority 0; policy accept;
						iifname "c$k" ip saddr != 192.168.$k.0/24 counter drop
					}
				}
			EOF
		fi
	} | _lab_nft "isp$k"
}

# _lab_service_up: "the Internet"'s TCP service (tcpsrc serve) on every 203.0.113.x
# address, and wait until it answers
_lab_service_up() {	# [BIND_ADDR (0.0.0.0; :: for both families)]
	local ok=0 i
	ip netns exec "$LAB-net" "$LAB_TCPSRC" serve "${1:-0.0.0.0}" "$LAB_PORT" \
		>>"$LABDIR/tcpsrc-serve.log" 2>&1 &
	_LAB_PIDS+=($!)
	for ((i = 0; i < 50; i++)); do
		if ip netns exec "$LAB-net" "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 1 \
			-t 200 2>/dev/null | grep -qx 'fail 0'; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ $ok = 1 ] || lab_fail "tcpsrc serve did not come up: $(cat "$LABDIR/tcpsrc-serve.log")"
}

# _lab_net_up N: "the Internet" ($LAB-net): the service addresses on lo, the routes back
# to the N ISPs' customer networks (lab_create and the gateway pair's lab, ha.sh)
_lab_net_up() {
	local n=$1 i k
	{
		echo "link set lo up"
		for ((i = 10; i <= 19; i++)); do
			echo "addr add 203.0.113.$i/32 dev lo"
		done
		for ((k = 1; k <= n; k++)); do
			echo "addr add 100.64.$k.2/24 dev i$k"
			echo "link set i$k up"
			echo "route add 192.168.$k.0/24 via 100.64.$k.1 dev i$k"
		done
	} | _lab_ip net
}

# lab_create NLINKS [--bcp38] [--ipv6]
lab_create() {
	local n=${1:-} bcp38=0 ipv6=0 k a t0 i ok v6 v6d
	shift || true
	while [ $# -gt 0 ]; do
		case $1 in
		--bcp38) bcp38=1 ;;
		--ipv6) ipv6=1 ;;
		*) lab_fail "lab_create: unknown option '$1'" ;;
		esac
		shift
	done
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 32 ] ||
		lab_fail "lab_create: NLINKS must be 1..32, not '$n'"
	[ -x "$LAB_TCPSRC" ] || lab_fail "lab_create: $LAB_TCPSRC missing (run make all-tests)"
	command -v nft >/dev/null || lab_fail "lab_create: nft missing (make deps)"
	t0=${EPOCHREALTIME/./}
	lab_begin
	LAB_NLINKS=$n

	for a in lan gw net $(seq -f 'isp%g' 1 "$n"); do
		ip netns add "$LAB-$a" || lab_fail "lab_create: ip netns add $LAB-$a failed"
	done
	# sysctls before the interfaces exist, so that new interfaces inherit "all"/"default".
	# IPv6 is off unless LAB_IPV6=1: link-local addresses appear a second or two after the
	# lab is up and would make routing snapshots differ; uplinkd is IPv4 only.
	v6=net.ipv6.conf.all.disable_ipv6=1
	v6d=net.ipv6.conf.default.disable_ipv6=1
	if [ "${LAB_IPV6:-0}" = 1 ] || [ $ipv6 = 1 ]; then
		v6=${v6%1}0
		v6d=${v6d%1}0
	fi
	# --ipv6: no duplicate address detection, every address (link-local too) usable at once
	local dad=()
	[ $ipv6 = 1 ] && dad=(net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0)
	for a in gw net lan; do
		_lab_run "$a" sysctl -e -qw net.ipv4.ip_forward=0 "$v6" "$v6d" "${dad[@]}"
	done
	for ((k = 1; k <= n; k++)); do
		_lab_run "isp$k" sysctl -e -qw net.ipv4.ip_forward=1 "$v6" "$v6d" "${dad[@]}"
	done

	# veths, created in one namespace with the peer put straight into the other
	ip -n "$LAB-gw" link add lan0 type veth peer name lan0 netns "$LAB-lan" ||
		lab_fail "lab_create: veth lan0 failed"
	for ((k = 1; k <= n; k++)); do
		ip -n "$LAB-gw" link add "wan$k" type veth peer name "c$k" netns "$LAB-isp$k" ||
			lab_fail "lab_create: veth wan$k failed"
		ip -n "$LAB-net" link add "i$k" type veth peer name "n$k" netns "$LAB-isp$k" ||
			lab_fail "lab_create: veth i$k failed"
	done

	[ $ipv6 = 1 ] && _lab_create_ipv6 "$n" "$bcp38"
	_lab_ip lan <<-EOF
		link set lo up
		addr add 10.0.0.2/24 dev lan0
		addr add 10.0.1.2/24 dev lan0
		link set lan0 up
		route add default via 10.0.0.1 dev lan0
	EOF
	{
		echo "link set lo up"
		echo "addr add 10.0.0.1/24 dev lan0"
		echo "addr add 10.0.1.1/24 dev lan0"
		echo "link set lan0 up"
		for ((k = 1; k <= n; k++)); do
			echo "addr add 192.168.$k.2/24 dev wan$k"
			echo "link set wan$k up"
		done
		echo "route add default via 192.168.1.1 dev wan1"
	} | _lab_ip gw
	for ((k = 1; k <= n; k++)); do
		_lab_isp_up "$k" "$bcp38"
	done
	_lab_net_up "$n"
	[ $ipv6 = 1 ] && _lab_up_ipv6 "$n" "$bcp38"
	# "the Internet": the TCP service on every 203.0.113.x (and 2001:db8:ffff::x) address
	_lab_service_up "$([ $ipv6 = 1 ] && echo :: || echo 0.0.0.0)"
	lab_log "lab $LAB: $n link(s)$([ $bcp38 = 1 ] && echo ', bcp38')$([ $ipv6 = 1 ] &&
		echo ', ipv6') ready in" \
		"$(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms, logs in $LABDIR"
	return 0
}

# ---------------------------------------------------------------------------------------
# IPv6 (lab_create N --ipv6)
#
#   $LAB-lan   lan0 fd00:10::2/64 (a ULA: only NAT66 gets it out), default via fd00:10::1
#   $LAB-gw    lan0 fd00:10::1/64, wanK 2001:db8:K::2/64 (static; the ISP's advertisement
#              gives the router, no address), forwarding 0, accept_ra 1: the kernel puts
#              "default via fe80::1 dev wanK proto ra" in main
#   $LAB-ispK  cK fe80::1 (its only link-local) + 2001:db8:K::1/64, radvd on cK (router
#              lifetime $LAB_RA_LIFETIME_S, every 3-4 s), nK 2001:db8:64:K::1/64, IPv6
#              forwarding 1, 2001:db8:ffff::/64 via 2001:db8:64:K::2, the routed prefix
#              2001:db8:K:100::/56 via 2001:db8:K::2; --bcp38: drops from cK what is not
#              from 2001:db8:K::/48
#   $LAB-net   iK 2001:db8:64:K::2/64, 2001:db8:ffff::10-19/128 on lo (service and probe
#              addresses), 2001:db8:K::/48 via 2001:db8:64:K::1; tcpsrc serves on :: (both
#              families)
LAB_SERVICE6=2001:db8:ffff::10
LAB_RA_LIFETIME_S=${LAB_RA_LIFETIME_S:-30}

# _lab_create_ipv6 N BCP38: called by lab_create before the interfaces are up.
_lab_create_ipv6() {
	local n=$1 bcp38=$2 k i
	command -v radvd >/dev/null || lab_fail "lab_create --ipv6: radvd missing (make deps)"
	for ((k = 1; k <= n; k++)); do
		# no automatic link-local on cK: fe80::1 is the router, whatever its MAC
		# keep_addr_on_down: lab_carrier_down sets cK down, which would take its
		# global IPv6 addresses with it, unlike IPv4's (fe80::1: lab_carrier_up)
		_lab_run "isp$k" sysctl -qw "net.ipv6.conf.c$k.addr_gen_mode=1" \
			"net.ipv6.conf.c$k.keep_addr_on_down=1" net.ipv6.conf.all.forwarding=1
		_lab_ip "isp$k" <<-EOF
			addr add fe80::1/64 dev c$k nodad
			addr add 2001:db8:$k::1/64 dev c$k nodad
			addr add 2001:db8:64:$k::1/64 dev n$k nodad
		EOF
	done
	{
		echo "addr add fd00:10::2/64 dev lan0 nodad"
	} | _lab_ip lan
	{
		echo "addr add fd00:10::1/64 dev lan0 nodad"
		for ((k = 1; k <= n; k++)); do
			echo "addr add 2001:db8:$k::2/64 dev wan$k nodad"
		done
	} | _lab_ip gw
	{
		for ((i = 10; i <= 19; i++)); do
			echo "addr add 2001:db8:ffff::$i/128 dev lo"
		done
		for ((k = 1; k <= n; k++)); do
			echo "addr add 2001:db8:64:$k::2/64 dev i$k nodad"
		done
	} | _lab_ip net
}

# _lab_up_ipv6 N BCP38: routes, BCP38 and radvd, once the interfaces are up.
_lab_up_ipv6() {
	local n=$1 bcp38=$2 k ok i
	_lab_ip lan <<<"route add default via fd00:10::1 dev lan0"
	for ((k = 1; k <= n; k++)); do
		_lab_ip "isp$k" <<-EOF
			route add 2001:db8:ffff::/64 via 2001:db8:64:$k::2 dev n$k
			route add 2001:db8:$k:100::/56 via 2001:db8:$k::2 dev c$k
		EOF
		echo "route add 2001:db8:$k::/48 via 2001:db8:64:$k::1 dev i$k" | _lab_ip net
		if [ "$bcp38" = 1 ]; then
			_lab_nft "isp$k" <<-EOF
				table inet lab6 {
					chain forward {
						type filter hook forward priority 0; policy accept;
						iifname "c$k" ip6 saddr != 2001:db8:$k::/48 counter drop
					}
				}
			EOF
		fi
		cat >"$LABDIR/radvd-isp$k.conf" <<-EOF
			interface c$k {
				AdvSendAdvert on;
				MinRtrAdvInterval 3;
				MaxRtrAdvInterval 4;
				AdvDefaultLifetime $LAB_RA_LIFETIME_S;
				prefix 2001:db8:$k::/64 { AdvOnLink on; AdvAutonomous off; };
			};
		EOF
		ip netns exec "$LAB-isp$k" radvd -n -m stderr -C "$LABDIR/radvd-isp$k.conf" \
			-p "$LABDIR/radvd-isp$k.pid" >>"$LABDIR/radvd-isp$k.log" 2>&1 &
		_LAB_PIDS+=($!)
	done
	# the gateway's link-local addresses come with carrier: wait for them, so that what a
	# test snapshots stays as it is
	for i in lan0 $(seq -f 'wan%g' 1 "$n"); do
		lab_wait_cmd 5 sh -c "ip -n $LAB-gw -6 addr show dev $i scope link | grep -q inet6" ||
			lab_fail "lab_create --ipv6: no link-local address on $i"
	done
	# the gateway learns every ISP's router from its advertisements
	for ((k = 1; k <= n; k++)); do
		ok=0
		for ((i = 0; i < 100; i++)); do
			if lab_gw ip -6 route show default dev "wan$k" | grep -q 'via fe80::1 .*proto ra'
			then
				ok=1
				break
			fi
			sleep 0.1
		done
		[ $ok = 1 ] || lab_fail "lab_create --ipv6: no advertised router on wan$k:" \
			"$(cat "$LABDIR/radvd-isp$k.log")"
	done
}

# lab_ra_stop K / lab_ra_start K: ISP K stops (or resumes) advertising itself; a stopped
# radvd sends a final advertisement of lifetime 0, so the gateway drops the router at once.
lab_ra_stop() {
	local pid
	_lab_check_link "${1:-}"
	pid=$(cat "$LABDIR/radvd-isp$1.pid" 2>/dev/null) || lab_fail "lab_ra_stop: no radvd on isp$1"
	kill -TERM "$pid"
	lab_wait_cmd 5 sh -c "! kill -0 $pid 2>/dev/null" || lab_fail "lab_ra_stop: radvd $pid lives"
}

lab_ra_start() {
	_lab_check_link "${1:-}"
	ip netns exec "$LAB-isp$1" radvd -n -m stderr -C "$LABDIR/radvd-isp$1.conf" \
		-p "$LABDIR/radvd-isp$1.pid" >>"$LABDIR/radvd-isp$1.log" 2>&1 &
	_LAB_PIDS+=($!)
}

# lab_cut6 K / lab_heal6 K: ISP K silently drops the IPv6 it forwards (IPv4 goes on).
lab_cut6() {
	_lab_check_link "${1:-}"
	printf 'flush chain inet labctl cut\nadd rule inet labctl cut meta nfproto ipv6 counter drop\n' |
		_lab_nft "isp$1"
}
lab_heal6() { lab_heal "$@"; }

# lab_cut4 K: ISP K silently drops the IPv4 it forwards (IPv6 goes on); lab_heal K ends it.
lab_cut4() {
	_lab_check_link "${1:-}"
	printf 'flush chain inet labctl cut\nadd rule inet labctl cut meta nfproto ipv4 counter drop\n' |
		_lab_nft "isp$1"
}

# _lab_nft NS: load the nft script on stdin in a namespace (one transaction).
_lab_nft() {
	local ns=$1 out
	out=$(ip netns exec "$LAB-$ns" nft -f - 2>&1) || lab_fail "lab: nft in $LAB-$ns failed: $out"
}

# ---------------------------------------------------------------------------------------
# running things in the lab

lab_ns() {
	local ns=${1:?lab_ns NAME CMD...}
	shift
	ip netns exec "$LAB-$ns" "$@"
}
lab_gw() { lab_ns gw "$@"; }
lab_lan() { lab_ns lan "$@"; }
lab_net() { lab_ns net "$@"; }
lab_isp() {
	local k=${1:?lab_isp K CMD...}
	shift
	lab_ns "isp$k" "$@"
}

# lab_bg NAME CMD...: start CMD in $LAB-NAME in the background, killed by lab_cleanup.
# The PID is in $LAB_BG_PID.
lab_bg() {
	local ns=${1:?lab_bg NAME CMD...}
	shift
	ip netns exec "$LAB-$ns" "$@" &
	LAB_BG_PID=$!
	_LAB_PIDS+=("$LAB_BG_PID")
}

_lab_check_link() {
	[[ ${1:-} =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$LAB_NLINKS" ] ||
		lab_fail "lab: no link '${1:-}' (lab has $LAB_NLINKS)"
}

# lab_cut K: ISP K silently drops everything it forwards (both directions); carrier stays up.
lab_cut() {
	_lab_check_link "${1:-}"
	printf 'flush chain inet labctl cut\nadd rule inet labctl cut counter drop\n' |
		_lab_nft "isp$1"
}

lab_heal() {
	_lab_check_link "${1:-}"
	echo 'flush chain inet labctl cut' | _lab_nft "isp$1"
}

# lab_loss K PCT [both]: drop PCT % of what ISP K forwards from cK towards the Internet
# (with "both" also PCT % of what comes back, drawn independently); 0 removes it.
lab_loss() {
	local k=${1:-} pct=${2:-} dir=${3:-} ifs i
	_lab_check_link "$k"
	[[ $pct =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] || lab_fail "lab_loss: PCT 0..100, not '$pct'"
	case $dir in
	'') ifs="c$k" ;;
	both) ifs="c$k n$k" ;;
	*) lab_fail "lab_loss: direction '$dir' is not 'both'" ;;
	esac
	{
		echo 'flush chain inet labctl loss'
		for i in $ifs; do
			if [ "$pct" -ge 100 ]; then
				echo "add rule inet labctl loss iifname \"$i\" counter drop"
			elif [ "$pct" -gt 0 ]; then
				echo "add rule inet labctl loss iifname \"$i\" numgen random mod 100 < $pct counter drop"
			fi
		done
	} | _lab_nft "isp$k"
}

# lab_delay K MS [JITTER_MS] [LOSS_PCT]: ISP K holds what it forwards from the gateway (in
# at cK) for MS ms, plus a uniform jitter in [-JITTER_MS, +JITTER_MS], and drops LOSS_PCT %
# of it (decimals allowed), in a delay line: tests/lab/delayline.c on NFQUEUE queue K of
# $LAB-ispK, fed by "iptables -I FORWARD -i cK -j NFQUEUE --queue-bypass". Only the way out
# is delayed, so MS is the round-trip time added to everything that crosses ISP K (a ping
# through it takes MS ms longer, not 2 x MS), JITTER_MS the spread of that RTT, and LOSS_PCT
# the share of round trips lost - the quantities uplinkd's probes measure. Packets keep
# their order (a link is a queue). Called again, it replaces the settings: the old delay
# line lets its held packets go and, for a few milliseconds until the new one is bound,
# traffic passes undelayed (--queue-bypass). lab_undelay K ends it; lab_cleanup does too.
lab_delay() {
	local k=${1:-} ms=${2:-} j=${3:-0} l=${4:-0} out i num='^[0-9]+([.][0-9]+)?$'
	_lab_check_link "$k"
	[[ $ms =~ $num ]] || lab_fail "lab_delay: MS must be a number of ms, not '$ms'"
	[[ $j =~ $num ]] || lab_fail "lab_delay: JITTER_MS must be a number of ms, not '$j'"
	[[ $l =~ $num ]] && awk -v l="$l" 'BEGIN { exit !(l <= 100) }' ||
		lab_fail "lab_delay: LOSS_PCT must be 0..100, not '$l'"
	command -v iptables >/dev/null || lab_fail "lab_delay: iptables missing (make deps)"
	[ -x "$UL_BUILD/lab/delayline" ] || lab_fail "lab_delay: $UL_BUILD/lab/delayline missing"
	_lab_delay_stop "$k"
	out=$LABDIR/delayline-$k.log
	echo "=== $(date '+%T') delay ${ms} ms jitter ${j} ms loss ${l}%" >>"$out"
	ip netns exec "$LAB-isp$k" "$UL_BUILD/lab/delayline" -q "$k" -d "$ms" -j "$j" -l "$l" \
		>>"$out" 2>&1 &
	_LAB_DELAY_PID[k]=$!
	_LAB_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		tail -n 1 "$out" | grep -q '^ready ' && break
		kill -0 "${_LAB_DELAY_PID[k]}" 2>/dev/null ||
			lab_fail "lab_delay $k: delayline exited: $(tail -n 3 "$out")"
		sleep 0.05
	done
	tail -n 1 "$out" | grep -q '^ready ' || lab_fail "lab_delay $k: delayline not ready: $(tail -n 3 "$out")"
	if ! lab_isp "$k" iptables -w -C FORWARD -i "c$k" -j NFQUEUE --queue-num "$k" \
		--queue-bypass 2>/dev/null; then
		_lab_run "isp$k" iptables -w -I FORWARD -i "c$k" -j NFQUEUE --queue-num "$k" --queue-bypass
	fi
	lab_log "isp$k: delay ${ms} ms, jitter ${j} ms, loss ${l}% (delay line pid ${_LAB_DELAY_PID[k]})"
}

# _lab_delay_stop K: end ISP K's delay line program, if any (held packets are let go); its
# counters go to the lab log.
_lab_delay_stop() {
	local k=$1 pid=${_LAB_DELAY_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	{ _lab_reap 3 "$pid"; wait "$pid" || true; } 2>/dev/null
	_LAB_DELAY_PID[k]=
	[ -z "$LABDIR" ] || lab_log "isp$k delay line: $(tail -n 1 "$LABDIR/delayline-$k.log")"
}

# lab_undelay K: ISP K forwards without delay line again.
lab_undelay() {
	local k=${1:-}
	_lab_check_link "$k"
	# the rule first: nothing new enters the queue, then the program lets the held ones go
	while lab_isp "$k" iptables -w -C FORWARD -i "c$k" -j NFQUEUE --queue-num "$k" \
		--queue-bypass 2>/dev/null; do
		_lab_run "isp$k" iptables -w -D FORWARD -i "c$k" -j NFQUEUE --queue-num "$k" \
			--queue-bypass
	done
	_lab_delay_stop "$k"
}

lab_carrier_down() {
	_lab_check_link "${1:-}"
	ip -n "$LAB-isp$1" link set "c$1" down || lab_fail "lab_carrier_down $1 failed"
}

lab_carrier_up() {
	_lab_check_link "${1:-}"
	ip -n "$LAB-isp$1" link set "c$1" up || lab_fail "lab_carrier_up $1 failed"
	# --ipv6: a link-local address does not survive its interface's down (not even with
	# keep_addr_on_down): the router gets its fe80::1 back
	if [ -e "$LABDIR/radvd-isp$1.conf" ]; then
		ip -n "$LAB-isp$1" -6 addr replace fe80::1/64 dev "c$1" nodad ||
			lab_fail "lab_carrier_up $1: fe80::1 failed"
	fi
}

# ---------------------------------------------------------------------------------------
# waiting

# lab_wait_file FILE TIMEOUT_S: until FILE exists; 1 on timeout.
lab_wait_file() {
	local f=${1:?lab_wait_file FILE TIMEOUT_S} t=${2:-10} end
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while [ ! -e "$f" ]; do
		[ "${EPOCHREALTIME/./}" -ge $end ] && return 1
		sleep 0.05
	done
	return 0
}

# lab_wait_cmd TIMEOUT_S CMD...: until CMD succeeds; 1 on timeout.
lab_wait_cmd() {
	local t=${1:?lab_wait_cmd TIMEOUT_S CMD...} end
	shift
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -ge $end ] && return 1
		sleep 0.1
	done
	return 0
}

# ---------------------------------------------------------------------------------------
# the daemon

# lab_ctl ARGS...: uplinkctl against the lab's daemon (bounded: $LAB_CTL_TIMEOUT, 10 s).
lab_ctl() {
	timeout -k 2 "${LAB_CTL_TIMEOUT:-10}" ip netns exec "$LAB-gw" "$UL_BUILD/uplinkctl" -s "$LABDIR/ctl.sock" "$@"
}

# lab_uplinkd_start CONFIG_FILE [ARGS...]: start uplinkd in the gateway, wait until it answers.
lab_uplinkd_start() {
	local cfg=${1:-} i rc=0
	shift || true
	[ -n "$LABDIR" ] || lab_fail "lab_uplinkd_start: no lab (call lab_create first)"
	[ -n "$cfg" ] && [ -r "$cfg" ] || lab_fail "lab_uplinkd_start: cannot read config '$cfg'"
	[ -x "$UL_BUILD/uplinkd" ] || lab_fail "lab_uplinkd_start: $UL_BUILD/uplinkd missing"
	[ -x "$UL_BUILD/uplinkctl" ] || lab_fail "lab_uplinkd_start: $UL_BUILD/uplinkctl missing"
	[ -z "$LAB_UPLINKD_PID" ] || lab_fail "lab_uplinkd_start: uplinkd already running"
	rm -f "$LABDIR/ctl.sock"	# a killed daemon's socket must not answer for the new one
	echo "=== $(date '+%T') uplinkd -c $cfg -s $LABDIR/ctl.sock $*" >>"$LABDIR/uplinkd.log"
	ip netns exec "$LAB-gw" "$UL_BUILD/uplinkd" -c "$cfg" -s "$LABDIR/ctl.sock" "$@" \
		>>"$LABDIR/uplinkd.log" 2>&1 &
	LAB_UPLINKD_PID=$!
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$LAB_UPLINKD_PID" 2>/dev/null; then
			wait "$LAB_UPLINKD_PID" 2>/dev/null || rc=$?
			LAB_UPLINKD_PID=
			lab_fail "uplinkd exited during start-up (status $rc)"
		fi
		if [ -S "$LABDIR/ctl.sock" ] && lab_ctl status >/dev/null 2>&1; then
			lab_log "uplinkd started (pid $LAB_UPLINKD_PID)"
			return 0
		fi
		sleep 0.1
	done
	lab_fail "uplinkd did not answer 'uplinkctl status' within 10 s"
}

# lab_uplinkd_stop: SIGTERM, wait up to 10 s; returns the daemon's exit status (124 when it
# had to be killed, 0 when none was running).
lab_uplinkd_stop() {
	local pid=$LAB_UPLINKD_PID i rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		lab_log "uplinkd (pid $pid) ignored SIGTERM for 10 s: killing it"
		{
			kill -KILL "$pid" || true
			wait "$pid" || true
		} 2>/dev/null
		rc=124
	else
		wait "$pid" 2>/dev/null || rc=$?
	fi
	LAB_UPLINKD_PID=
	[ -z "$LABDIR" ] || echo "=== $(date '+%T') uplinkd exited with status $rc" >>"$LABDIR/uplinkd.log"
	return $rc
}

# lab_uplinkd_kill [SIGNAL]: crash the daemon (default SIGKILL) and reap it; returns the
# status the shell saw (128 + signal).
lab_uplinkd_kill() {
	local pid=$LAB_UPLINKD_PID sig=${1:-KILL} rc=0
	[ -n "$pid" ] || return 0
	{
		kill -"$sig" "$pid" || true
		_lab_reap 5 "$pid"
		wait "$pid" || rc=$?
	} 2>/dev/null
	LAB_UPLINKD_PID=
	[ -z "$LABDIR" ] || echo "=== $(date '+%T') uplinkd killed by SIG$sig (status $rc)" >>"$LABDIR/uplinkd.log"
	return $rc
}

# lab_json_link_field JSON LINK FIELD: a field of one link object of "status --json"
# (strings without quotes, numbers and booleans as jq prints them). 1 when the JSON does
# not parse, or the link or field is absent.
lab_json_link_field() {
	local v
	v=$(printf '%s' "$1" | jq -er --arg l "$2" --arg f "$3" \
		'first(.links[]? | select(.name == $l) | .[$f] | select(. != null)) | tostring' \
		2>/dev/null) && [ -n "$v" ] || return 1       # (jq 1.6 takes no input as success)
	printf '%s\n' "$v"
}

# lab_link_field LINK FIELD: the same, asking the running daemon.
lab_link_field() {
	local json
	json=$(lab_ctl status --json 2>/dev/null) || return 1
	lab_json_link_field "$json" "$1" "$2"
}

# lab_wait_state LINK STATE TIMEOUT_S: poll the daemon until LINK is in STATE; 1 on timeout.
lab_wait_state() {
	local link=${1:?} state=${2:?} t=${3:-10} end cur='' LAB_CTL_TIMEOUT=3
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while :; do
		cur=$(lab_link_field "$link" state) || cur=
		[ "$cur" = "$state" ] && return 0
		[ "${EPOCHREALTIME/./}" -ge $end ] && break
		sleep 0.1
	done
	lab_log "lab_wait_state: $link is '${cur:-?}', not '$state', after ${t}s"
	return 1
}

# lab_link6_field LINK FIELD: a field of the link's "ipv6" object in the daemon's status.
lab_link6_field() {
	local json v
	json=$(lab_ctl status --json 2>/dev/null) || return 1
	v=$(jq -r --arg l "$1" --arg f "$2" \
		'.links[] | select(.name == $l) | .ipv6 | if . == null then empty else .[$f] end' \
		<<<"$json" 2>/dev/null) || return 1
	[ -n "$v" ] || return 1
	printf '%s\n' "$v"
}

# lab_wait_state6 LINK STATE TIMEOUT_S: until the link's IPv6 is in STATE; 1 on timeout.
lab_wait_state6() {
	local link=${1:?} state=${2:?} t=${3:-10} end cur='' LAB_CTL_TIMEOUT=3
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while :; do
		cur=$(lab_link6_field "$link" state) || cur=
		[ "$cur" = "$state" ] && return 0
		[ "${EPOCHREALTIME/./}" -ge $end ] && break
		sleep 0.1
	done
	lab_log "lab_wait_state6: $link's IPv6 is '${cur:-?}', not '$state', after ${t}s"
	return 1
}


# lab_translog_hook: write a hook, $LAB_TRANSLOG_HOOK (for daemon.hook), that appends
# "EPOCH_US LINK FROM TO ACTIVE" to $LAB_TRANSLOG for every transition (stamped like
# $EPOCHREALTIME, in microseconds, when the hook runs); an IPv6 transition's LINK is
# "NAME/ipv6".
lab_translog_hook() {
	[ -n "$LABDIR" ] || lab_fail "lab_translog_hook: no lab"
	LAB_TRANSLOG=$LABDIR/transitions.log
	: >"$LAB_TRANSLOG"
	cat >"$LABDIR/translog.sh" <<-EOF
		#!/bin/sh
		echo "\$(date +%s%6N) \$UPLINK_NAME\${UPLINK_FAMILY:+/\$UPLINK_FAMILY} \$UPLINK_PREVIOUS_STATE \$UPLINK_STATE \${UPLINK_ACTIVE:--}" >>"$LAB_TRANSLOG"
	EOF
	chmod 755 "$LABDIR/translog.sh"
	LAB_TRANSLOG_HOOK=$LABDIR/translog.sh
}

# lab_transitions LINK [AFTER_US [BEFORE_US]]: the lines of $LAB_TRANSLOG for LINK, stamped
# after AFTER_US (and before BEFORE_US).
lab_transitions() {
	awk -v l="${1:?}" -v a="${2:-0}" -v b="${3:-0}" \
		'$2 == l && $1 > a && (b == 0 || $1 < b)' "${LAB_TRANSLOG:?no lab_translog_hook}"
}

# lab_wait_transition LINK FROM TO TIMEOUT_S [AFTER_US]: until LINK went FROM -> TO (either
# may be "*") after AFTER_US; prints the stamp (us) of the first such line; 1 on timeout.
lab_wait_transition() {
	local link=${1:?} from=${2:?} to=${3:?} t=${4:-10} after=${5:-0} end line
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while :; do
		line=$(lab_transitions "$link" "$after" | awk -v f="$from" -v t="$to" \
			'(f == "*" || $3 == f) && (t == "*" || $4 == t) { print $1; exit }')
		[ -n "$line" ] && { echo "$line"; return 0; }
		[ "${EPOCHREALTIME/./}" -ge $end ] && break
		sleep 0.05
	done
	lab_log "lab_wait_transition: no $link $from -> $to within ${t}s: $(lab_transitions "$link" "$after" | tr '\n' ';')"
	return 1
}

# lab_snapshot FILE: the gateway's rules, routes (IPv6 ones too when the lab has IPv6) and
# nftables ruleset (stateless: without the counters' values, which traffic changes).
lab_snapshot() {
	local f=${1:?lab_snapshot FILE}
	{
		echo "# ip rule"
		lab_gw ip rule show
		echo "# ip -6 rule"
		lab_gw ip -6 rule show
		echo "# ip route show table all (expiry times of advertised routes left out)"
		lab_gw ip route show table all | sed -E 's/ expires [0-9]+sec//'
		echo "# nft -s list ruleset"
		lab_gw nft -s list ruleset
	} >"$f" 2>&1
}

# ---------------------------------------------------------------------------------------
# faults (tests/integration/faults_*.sh)

# lab_wan_del K: delete the veth pair wanK <-> cK (the gateway's interface disappears).
lab_wan_del() {
	_lab_check_link "${1:-}"
	ip -n "$LAB-gw" link del "wan$1" || lab_fail "lab_wan_del $1 failed"
}

# lab_wan_add K: re-create wanK <-> cK as lab_create made it: same names and addresses, up,
# and for K = 1 the main table's default route via 192.168.1.1 (it went with the interface).
lab_wan_add() {
	local k=${1:-}
	_lab_check_link "$k"
	ip -n "$LAB-gw" link add "wan$k" type veth peer name "c$k" netns "$LAB-isp$k" ||
		lab_fail "lab_wan_add $k: veth failed"
	_lab_ip "isp$k" <<-EOF
		addr add 192.168.$k.1/24 dev c$k
		link set c$k up
	EOF
	{
		echo "addr add 192.168.$k.2/24 dev wan$k"
		echo "link set wan$k up"
		[ "$k" = 1 ] && echo "route add default via 192.168.1.1 dev wan1"
	} | _lab_ip gw
}

# lab_owned FILE [--nft]: what uplinkd owns in the gateway (rules in 1000..1099, the routes
# of the link tables 201.. and the balance table 250, the list of nftables tables; with
# --nft also table inet uplinkd, without the elements of its sets and the counters' values), fit for comparing two
# moments.
lab_owned() {
	local f=${1:?lab_owned FILE} nft=${2:-}
	# one entry into the namespace: this runs often, on loaded machines too
	lab_gw sh -c '
		echo "# rules"
		ip rule show | awk -F: "\$1 >= 1000 && \$1 <= 1099"
		k=1
		while [ $k -le $1 ]; do
			echo "# table $((200 + k))"
			ip route show table $((200 + k))
			k=$((k + 1))
		done
		echo "# table 250"
		ip route show table 250
		echo "# nft tables"
		nft list tables
		if [ "$2" = --nft ]; then
			echo "# table inet uplinkd"
			nft -s list table inet uplinkd | awk "/elements = /{ s = 1 } s { if (/}/) s = 0; next } 1"
		fi' sh "$LAB_NLINKS" "$nft" >"$f" 2>&1
}

# lab_baseline FILE: what uplinkd owns once it has settled after lab_up (a moment for the
# apply after the last transition), into FILE: the reference a fault test compares with.
lab_baseline() {
	sleep 0.3
	lab_owned "$@"
}

# lab_fault_start: where the fault tests start: two links probed every 200 ms (down and
# up after 3 rounds), uplinkd up on them, its settled state in $LABDIR/owned.before,
# isp1 carrying new connections.
lab_fault_start() {
	lab_test 2 --bcp38
	lab_conf 2 weights=1,1 interval=200 timeout=200 down=3 up=3 > "$conf"
	lab_up "$conf"
	lab_baseline "$LABDIR/owned.before"
	lab_traffic_via 1 40 || lab_fail "isp1 carries nothing at the start"
}

# lab_converge REF NOW [--nft]: poll (5 s) until what uplinkd owns (lab_owned NOW ...) is
# REF again; 1, with the difference on stdout, when it is not.
lab_converge() {
	local ref=${1:?lab_converge REF NOW [--nft]} now=${2:?} i
	shift 2
	for ((i = 0; i < 50; i++)); do
		lab_owned "$now" "$@"
		cmp -s "$ref" "$now" && return 0
		sleep 0.1
	done
	diff "$ref" "$now"
	return 1
}

# lab_no_dups: fail when the gateway has duplicate ip rules or routes, or more than one
# table inet uplinkd.
lab_no_dups() {
	local d
	d=$(lab_gw sh -c 'ip rule show | sort | uniq -d
		ip rule show | awk -F: "\$1 >= 1000 && \$1 <= 1099 { print \$1 }" | sort | uniq -d |
			sed "s/^/same priority: /"
		ip route show table all | sort | uniq -d
		[ "$(nft list tables | grep -c "^table inet uplinkd$")" -le 1 ] ||
			echo "table inet uplinkd more than once"')
	[ -z "$d" ] || lab_fail "duplicates in the gateway: $d"
}

# lab_san_check: fail when the daemon's log has a sanitizer report.
lab_san_check() {
	local f=${LABDIR:+$LABDIR/uplinkd.log}
	[ -n "$f" ] && [ -e "$f" ] || return 0
	if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f"; then
		grep -m 5 -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f" >&2
		lab_fail "sanitizer report in the uplinkd log"
	fi
	return 0
}

# lab_fd_count PID: number of open file descriptors of a process.
lab_fd_count() {
	ls "/proc/${1:?lab_fd_count PID}/fd" 2>/dev/null | wc -l
}

# lab_up CONF [TIMEOUT_S]: start uplinkd on CONF and wait until every link is up (10 s).
lab_up() {
	lab_uplinkd_start "$1"
	lab_all_up "${2:-10}" || lab_fail "links not up"
}

# lab_json_all_up JSON: true when links isp1..isp$LAB_NLINKS of "status --json" are all up.
lab_json_all_up() {
	[ -n "$1" ] && printf '%s' "$1" | jq -e --argjson n "$LAB_NLINKS" \
		'[range(1; $n + 1) as $k | any(.links[]?; .name == "isp\($k)" and .state == "up")]
		 | all' >/dev/null 2>&1
}

# lab_all_up TIMEOUT_S: until every link of the lab is up (one status request per poll).
lab_all_up() {
	local t=${1:-10} end json LAB_CTL_TIMEOUT=3
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while :; do
		json=$(lab_ctl status --json 2>/dev/null) || json=
		lab_json_all_up "$json" && return 0
		[ "${EPOCHREALTIME/./}" -ge $end ] && break
		sleep 0.05
	done
	lab_log "lab_all_up: not all links up after ${t}s: $json"
	return 1
}

# lab_traffic_via K N: N new LAN connections; fail unless all succeed and some leave by
# link K (seen as 192.168.K.2 by the server, or as the address given as a 3rd argument).
lab_traffic_via() {
	local k=${1:?} n=${2:-40} a=${3:-192.168.$1.2} out
	out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" "$n" -p 4 -t 2000)
	echo "$out" | grep -q "^fail 0$" || { echo "$out" >&2; return 1; }
	echo "$out" | grep -q "^$a " || { echo "$out" >&2; return 1; }
	return 0
}

# the config generator (lab_conf)
. "$_LAB_ROOT/tests/lab/conf.sh"
