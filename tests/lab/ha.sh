# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2015,SC2034
#
# The gateway-pair lab: two gateways (node a and node b) on one LAN segment and on each
# ISP's segment, with a dedicated sync link between them; every segment is a bridge in a
# switch namespace. keepalived and conntrackd (Debian's) and uplinkd run on both nodes, with
# the configurations shipped in contrib/ha/ (only paths and the node-B lines changed).
# Sourced after lab.sh, whose helpers (lab_log, lab_fail, lab_assert, lab_cut, lab_bg, the
# cleanup traps) keep working; lab.sh's own single-gateway functions (lab_gw, lab_ctl,
# lab_uplinkd_*) are not for this lab.
#
#	. "$(dirname "$0")/../lab/lab.sh"
#	. "$(dirname "$0")/../lab/ha.sh"
#	lab_require_root
#	ha_create 2
#
#   $LAB-sw    bridges brl (LAN), br1..brN (ISP segments), brs (sync link); no addresses
#   $LAB-lan   lan0 10.0.0.2/24 (+ 10.0.1.2/24), default via 10.0.0.1 (the shared address)
#   $LAB-gwa   lan0 10.0.0.251/24, wanK 192.168.K.2/24, sync0 172.31.255.1/30
#   $LAB-gwb   lan0 10.0.0.252/24, wanK 192.168.K.3/24, sync0 172.31.255.2/30
#              shared (keepalived): 10.0.0.1 on lan0, 192.168.K.10 on wanK
#   $LAB-ispK  cK 192.168.K.1/24, nK 100.64.K.1/24 (as in lab.sh, --bcp38 always)
#   $LAB-net   as in lab.sh: 203.0.113.10-19, "tcpsrc serve 0.0.0.0 5001"
#
# Per node, $LABDIR/NODE/ holds its configs, logs, pid files and sockets.
# Knobs: HA_ADVERT (keepalived advert_int, 0.1), HA_CONTRIB (the directory whose
# keepalived.conf, conntrackd.conf and notify are used; default contrib/ha).

HA_ADVERT=${HA_ADVERT:-0.1}	# keepalived advert_int (s)
_HA_CONTRIB=${HA_CONTRIB:-$_LAB_ROOT/contrib/ha}

_ha_node_idx() {
	case $1 in
	a) echo 1 ;;
	b) echo 2 ;;
	*) lab_fail "ha: no node '$1' (a or b)" ;;
	esac
}

# ha_addr NODE IF: the node's own address on lan0, wanK or sync0
ha_addr() {
	local i
	i=$(_ha_node_idx "$1")
	case $2 in
	lan0) echo "10.0.0.$((250 + i))" ;;
	sync0) echo "172.31.255.$i" ;;
	wan*) echo "192.168.${2#wan}.$((1 + i))" ;;
	*) lab_fail "ha_addr: no interface '$2'" ;;
	esac
}

# ha_vip K: the shared address of link K (0: the LAN's)
ha_vip() {
	[ "$1" = 0 ] && echo 10.0.0.1 || echo "192.168.$1.10"
}

ha_ns() {
	local node=${1:?ha_ns NODE CMD...}
	shift
	ip netns exec "$LAB-gw$node" "$@"
}

# _ha_port NS IF PORT BRIDGE: a veth IF in NS whose peer PORT is a port of BRIDGE in sw.
_ha_port() {
	ip -n "$LAB-$1" link add "$2" type veth peer name "$3" netns "$LAB-sw" ||
		lab_fail "ha: veth $1/$2 failed"
	ip -n "$LAB-sw" link set dev "$3" master "$4" up || lab_fail "ha: port $3 of $4 failed"
}

# ha_node_create NODE: the gateway's namespace, its interfaces and addresses (a node that
# boots: no daemon runs yet, its conntrack table is empty).
ha_node_create() {
	local node=$1 k ns=gw$1
	_ha_node_idx "$node" >/dev/null
	ip netns add "$LAB-$ns" || lab_fail "ha: ip netns add $LAB-$ns failed"
	_lab_run "$ns" sysctl -e -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	mkdir -p "$LABDIR/$node"
	_ha_port "$ns" lan0 "${node}l" brl
	_ha_port "$ns" sync0 "${node}s" brs
	for ((k = 1; k <= LAB_NLINKS; k++)); do
		_ha_port "$ns" "wan$k" "${node}$k" "br$k"
	done
	{
		echo "link set lo up"
		echo "addr add $(ha_addr "$node" lan0)/24 dev lan0"
		echo "link set lan0 up"
		echo "addr add $(ha_addr "$node" sync0)/30 dev sync0"
		echo "link set sync0 up"
		for ((k = 1; k <= LAB_NLINKS; k++)); do
			echo "addr add $(ha_addr "$node" "wan$k")/24 dev wan$k"
			echo "link set wan$k up"
		done
		echo "route add default via 192.168.1.1 dev wan1"
	} | _lab_ip "$ns"
}

# ha_create NLINKS: the whole lab, both nodes booted (no daemons yet).
ha_create() {
	local n=${1:-2} k i a ok
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 8 ] || lab_fail "ha_create: NLINKS 1..8"
	[ -x "$LAB_TCPSRC" ] || lab_fail "ha_create: $LAB_TCPSRC missing (run make all-tests)"
	lab_cleanup
	trap _lab_on_exit_trap EXIT
	trap '_lab_on_signal INT' INT
	trap '_lab_on_signal TERM' TERM
	LABDIR=$(mktemp -d "${TMPDIR:-/tmp}/ul-ha.XXXXXX") || lab_fail "ha_create: mktemp failed"
	LAB_NLINKS=$n
	for a in sw lan net $(seq -f 'isp%g' 1 "$n"); do
		ip netns add "$LAB-$a" || lab_fail "ha_create: ip netns add $LAB-$a failed"
	done
	for a in sw lan net; do
		_lab_run "$a" sysctl -e -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	for ((k = 1; k <= n; k++)); do
		_lab_run "isp$k" sysctl -e -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	{
		echo "link set lo up"
		for b in brl brs $(seq -f 'br%g' 1 "$n"); do
			echo "link add $b type bridge stp_state 0 forward_delay 0 mcast_snooping 0"
			echo "link set $b up"
		done
	} | _lab_ip sw
	_ha_port lan lan0 hl brl
	_lab_ip lan <<-EOF
		link set lo up
		addr add 10.0.0.2/24 dev lan0
		addr add 10.0.1.2/24 dev lan0
		link set lan0 up
		route add default via $(ha_vip 0) dev lan0
	EOF
	for ((k = 1; k <= n; k++)); do
		_ha_port "isp$k" "c$k" "r$k" "br$k"
		ip -n "$LAB-net" link add "i$k" type veth peer name "n$k" netns "$LAB-isp$k" ||
			lab_fail "ha_create: veth i$k failed"
		_lab_isp_up "$k" 1      # BCP 38 always
	done
	_lab_net_up "$n"
	ha_node_create a
	ha_node_create b
	_lab_service_up
	lab_log "ha lab $LAB: 2 nodes, $n link(s), logs in $LABDIR"
}

# ---------------------------------------------------------------------------------------
# the shipped configurations, made per node: paths under $LABDIR/NODE, the node-B lines

# ha_keepalived_conf NODE: contrib/ha/keepalived.conf for this node, on stdout.
ha_keepalived_conf() {
	local node=$1 dir=$LABDIR/$1
	sed -e "s|/etc/uplinkd/ha/notify|$_HA_CONTRIB/notify|" \
		-e "s|/etc/conntrackd/conntrackd.conf|$dir/conntrackd.conf|" \
		-e "s|advert_int 0\.1|advert_int $HA_ADVERT|" "$_HA_CONTRIB/keepalived.conf" |
		if [ "$node" = b ]; then
			sed -e '/# node B/s/router_id uplinkd-a/router_id uplinkd-b/' \
				-e '/# node B/s/priority 150/priority 100/'
		else
			cat
		fi
}

# ha_conntrackd_conf NODE: contrib/ha/conntrackd.conf for this node, on stdout.
ha_conntrackd_conf() {
	local node=$1 dir=$LABDIR/$1
	sed -e "s|^\(\s*LockFile\).*|\1 $dir/conntrackd.lock|" \
		-e "s|^\(\s*Path\).*|\1 $dir/conntrackd.ctl|" \
		-e "s|^\(\s*Syslog\).*|\1 off|" \
		-e "s|^\(\s*LogFile\).*|\1 $dir/conntrackd.log|" "$_HA_CONTRIB/conntrackd.conf" |
		if [ "$node" = b ]; then
			sed -e '/# node B/s/172\.31\.255\.1\b/172.31.255.X/' \
				-e '/# node B/s/172\.31\.255\.2\b/172.31.255.1/' \
				-e '/# node B/s/172\.31\.255\.X/172.31.255.2/'
		else
			cat
		fi
}

# ---------------------------------------------------------------------------------------
# the daemons of a node

_ha_bg() {	# _ha_bg NODE LOG CMD...: in the node's namespace, PID in $LAB_BG_PID
	local node=$1 log=$2
	shift 2
	ip netns exec "$LAB-gw$node" "$@" >>"$log" 2>&1 &
	LAB_BG_PID=$!
	_LAB_PIDS+=("$LAB_BG_PID")
}

ha_conntrackd_start() {
	local node=$1 dir=$LABDIR/$1 i
	ha_conntrackd_conf "$node" >"$dir/conntrackd.conf"
	rm -f "$dir/conntrackd.lock" "$dir/conntrackd.ctl"
	_ha_bg "$node" "$dir/conntrackd.out" conntrackd -C "$dir/conntrackd.conf"
	for ((i = 0; i < 50; i++)); do
		[ -S "$dir/conntrackd.ctl" ] && ha_ns "$node" conntrackd -C "$dir/conntrackd.conf" -s \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	lab_fail "conntrackd on node $node did not start: $(tail -n 5 "$dir/conntrackd.out" "$dir/conntrackd.log" 2>&1)"
}

ha_keepalived_start() {
	local node=$1 dir=$LABDIR/$1
	ha_keepalived_conf "$node" >"$dir/keepalived.conf"
	ha_ns "$node" keepalived -t -f "$dir/keepalived.conf" >"$dir/keepalived-check.out" 2>&1 ||
		lab_fail "keepalived -t refused node $node's config: $(cat "$dir/keepalived-check.out")"
	_ha_bg "$node" "$dir/keepalived.log" keepalived -n -l -D -f "$dir/keepalived.conf" \
		-p "$dir/keepalived.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid"
}

# ha_uplinkd_start NODE CONF: uplinkd on the node, waits until it answers
ha_uplinkd_start() {
	local node=$1 cfg=$2 dir=$LABDIR/$1 i pid
	rm -f "$dir/ctl.sock"
	echo "=== $(date '+%T') uplinkd -c $cfg" >>"$dir/uplinkd.log"
	_ha_bg "$node" "$dir/uplinkd.log" "$UL_BUILD/uplinkd" -c "$cfg" -s "$dir/ctl.sock"
	pid=$LAB_BG_PID
	eval "HA_UPLINKD_$node=$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || lab_fail "uplinkd on node $node exited during start-up"
		[ -S "$dir/ctl.sock" ] && ha_ctl "$node" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	lab_fail "uplinkd on node $node did not answer within 10 s"
}

# ha_ctl NODE ARGS...: uplinkctl against the node's uplinkd
ha_ctl() {
	local node=$1
	shift
	timeout -k 2 10 ip netns exec "$LAB-gw$node" "$UL_BUILD/uplinkctl" \
		-s "$LABDIR/$node/ctl.sock" "$@"
}

# ha_all_up NODE TIMEOUT_S: until every link of the node's uplinkd is up
ha_all_up() {
	local node=$1 t=${2:-10} end json
	end=$(( ${EPOCHREALTIME/./} + t * 1000000 ))
	while :; do
		json=$(ha_ctl "$node" status --json 2>/dev/null) || json=
		lab_json_all_up "$json" && return 0
		[ "${EPOCHREALTIME/./}" -ge $end ] && break
		sleep 0.1
	done
	lab_log "ha_all_up: node $node: not all links up after ${t}s: $json"
	return 1
}

# ha_is_master NODE: the node holds every shared address
ha_is_master() {
	local node=$1 k addrs
	addrs=$(ip -n "$LAB-gw$node" -4 -o addr show 2>/dev/null) || return 1
	grep -q " $(ha_vip 0)/" <<<"$addrs" || return 1
	for ((k = 1; k <= LAB_NLINKS; k++)); do
		grep -q " $(ha_vip "$k")/" <<<"$addrs" || return 1
	done
	return 0
}

# ha_has_no_vip NODE: the node holds none of the shared addresses
ha_has_no_vip() {
	local node=$1 k addrs
	addrs=$(ip -n "$LAB-gw$node" -4 -o addr show 2>/dev/null) || return 0
	grep -q " $(ha_vip 0)/" <<<"$addrs" && return 1
	for ((k = 1; k <= LAB_NLINKS; k++)); do
		grep -q " $(ha_vip "$k")/" <<<"$addrs" && return 1
	done
	return 0
}

# ha_node_kill NODE: the node dies: every interface down at once, then every process in
# its namespace (keepalived, conntrackd, uplinkd) killed with SIGKILL. $HA_KILL_US: the
# moment (wall clock, microseconds) just before the interfaces went down.
ha_node_kill() {
	local node=$1 ns=$LAB-gw$1 ifs pid pids=() batch=
	ifs=$(ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 != "lo") print $2 }')
	for i in $ifs; do
		batch+="link set $i down"$'\n'
	done
	HA_KILL_US=${EPOCHREALTIME/./}
	ip -n "$ns" -batch - <<<"$batch" || lab_fail "ha_node_kill $node: interfaces"
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null && pids+=("$pid")
	done
	# (reaped by wait where they are the shell's children: no "Killed" notices later)
	[ ${#pids[@]} -gt 0 ] && {
		_lab_reap 5 "${pids[@]}"
		for pid in "${pids[@]}"; do
			wait "$pid" 2>/dev/null
		done
	} 2>/dev/null
	return 0
}

# ha_node_destroy NODE: killed, and its namespace gone (a later ha_node_create boots it)
ha_node_destroy() {
	local node=$1 k
	ha_node_kill "$node"
	# the switch ports first: a namespace's interfaces go away asynchronously after
	# "ip netns del", and the next boot re-creates ports of the same names
	{
		echo "link del dev ${node}l"
		echo "link del dev ${node}s"
		for ((k = 1; k <= LAB_NLINKS; k++)); do
			echo "link del dev ${node}$k"
		done
	} | _lab_ip sw
	ip netns del "$LAB-gw$node" || lab_fail "ha_node_destroy $node: netns del failed"
}

# ha_dump_logs: the tails of every node's logs (on failure)
ha_dump_logs() {
	local f
	for f in "$LABDIR"/*/uplinkd.log "$LABDIR"/*/keepalived.log "$LABDIR"/*/conntrackd.log \
		"$LABDIR"/*/conntrackd.out; do
		[ -s "$f" ] || continue
		echo "----- $f (last 40 lines) -----" >&2
		tail -n 40 "$f" >&2
	done
}
