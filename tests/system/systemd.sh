#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# uplinkd under a real systemd: this machine's own OS booted in a throwaway container
# (systemd-nspawn --volatile=yes: a tmpfs root, /usr from the host, read-only; its own
# network namespace), with the source tree and the build bound in read-only. Inside: the
# sysusers file creates the user, the unit from systemd/ is installed (a drop-in points
# ExecStart at the build and makes uplinkd a member of control_group), two veth links and
# a config are made, and then:
#   Type=notify readiness (systemctl is-active right after start), systemctl reload,
#   journal fields (UPLINK_LINK in journalctl -o json), the daemon's user and capabilities
#   (/proc/PID/status), a user outside admin_group refused "disable", systemctl stop
#   leaving ip rule / routes / nftables / sysctls as found, the unit's exposure figure.
# Exit 77 where nspawn cannot run (not root, no systemd-nspawn, no container support).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${UL_BUILD:-$ROOT/build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -n "${E:-}" ] && $E journalctl -u uplinkd --no-pager 2>/dev/null | tail -30; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn missing (package systemd-container)"
[ -x "$B/uplinkd" ] && [ -x "$B/uplinkctl" ] || fail "no build in $B"
[ -d /run/systemd/system ] || [ -x /lib/systemd/systemd ] || skip "no systemd on this machine"

M=ulsys$$
LOG=$(mktemp "${TMPDIR:-/tmp}/ul-nspawn.XXXXXX")
NP=
cleanup() {
	if [ -n "$NP" ] && kill -0 "$NP" 2>/dev/null; then
		kill -TERM "$NP" 2>/dev/null     # nspawn -b: an orderly shutdown of the container
		for _ in $(seq 50); do kill -0 "$NP" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NP" 2>/dev/null
		wait "$NP" 2>/dev/null
	fi
	rm -f "$LOG"
}
trap cleanup EXIT
t0=$SECONDS
systemd-nspawn -D / --volatile=yes --register=no --keep-unit --private-network \
	--console=pipe -M "$M" --bind-ro="$ROOT":/ulsrc --bind-ro="$B":/ulbuild \
	-b systemd.firstboot=off </dev/null >"$LOG" 2>&1 &
NP=$!
CP=
for _ in $(seq 100); do
	kill -0 "$NP" 2>/dev/null || skip "systemd-nspawn cannot run here: $(tail -n 3 "$LOG" | tr '\n' ' ')"
	for c in $(pgrep -P "$NP"); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && CP=$c
	done
	[ -n "$CP" ] && break
	sleep 0.1
done
[ -n "$CP" ] || skip "no systemd came up in the container"
E="nsenter -t $CP -a"
# basic.target is enough (the rest of the boot, gettys and the like, may take its time)
state=
for _ in $(seq 200); do
	state=$($E systemctl is-active basic.target 2>/dev/null)
	[ "$state" = active ] && break
	sleep 0.1
done
[ "$state" = active ] || skip "container did not boot (basic.target '$state')"
state=$($E systemctl is-system-running 2>/dev/null)
echo "container $M booted in $((SECONDS - t0)) s (systemd pid $CP, state $state)"
ct() { $E sh -c "$1"; }

# ---- exposure of the unit as shipped (before the test's drop-in exists)
exp=$(ct 'systemd-analyze security --offline=true /ulsrc/systemd/uplinkd.service 2>&1' |
	sed -n 's/.*Overall exposure level for uplinkd.service: \([0-9.]*\).*/\1/p')
echo "exposure (systemd-analyze security --offline=true): $exp"
[ -n "$exp" ] && awk "BEGIN { exit !($exp <= 1.8) }" || fail "exposure '$exp' above 1.8"
# ---- install: user, unit, config, links
ct 'mkdir -p /etc/sysusers.d /etc/uplinkd /etc/systemd/system/uplinkd.service.d &&
    cp /ulsrc/systemd/uplinkd.sysusers.conf /etc/sysusers.d/uplinkd.conf &&
    systemd-sysusers /etc/sysusers.d/uplinkd.conf &&
    cp /ulsrc/systemd/uplinkd.service /etc/systemd/system/ &&
    printf "[Service]\nExecStart=\nExecStart=/ulbuild/uplinkd\nSupplementaryGroups=nogroup\n" \
	> /etc/systemd/system/uplinkd.service.d/test.conf' || fail "installing the unit"
ct 'for i in 1 2 3; do
	n=wan$i; [ $i = 3 ] && n=lan0
	ip link add $n type veth peer name peer$i && ip link set $n up && ip link set peer$i up || exit 1
	[ $i = 3 ] && ip addr add 10.0.0.1/24 dev lan0 && continue
	ip addr add 192.168.$i.2/24 dev $n && ip addr add 192.168.$i.1/24 dev peer$i || exit 1
    done' || fail "creating the links"
ct 'cat > /etc/uplinkd/uplinkd.conf <<EOC
daemon = { log_level = "info"; control_group = "nogroup"; };
lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24" ]; };
links = (
  { name = "isp1"; interface = "wan1"; gateway = "192.168.1.1"; },
  { name = "isp2"; interface = "wan2"; gateway = "192.168.2.1"; }
);
EOC
chgrp uplinkd /etc/uplinkd/uplinkd.conf && chmod 0640 /etc/uplinkd/uplinkd.conf &&
systemctl daemon-reload' || fail "writing the config"
snap='ip rule; ip route show table all; nft list ruleset;
      sysctl -n net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy \
	net.ipv4.conf.wan1.rp_filter net.ipv4.conf.wan2.rp_filter'
before=$(ct "$snap")

# ---- start: Type=notify, so "active" means READY=1 was sent
ct 'systemctl start uplinkd' || fail "systemctl start failed"
[ "$(ct 'systemctl is-active uplinkd')" = active ] || fail "not active after start"
ct 'journalctl -u uplinkd --no-pager | grep -q "ready: 2 links"' || fail "no ready message"
pid=$(ct 'systemctl show -p MainPID --value uplinkd')
st=$(ct "cat /proc/$pid/status")
uid=$(echo "$st" | awk '/^Uid:/ {print $2}')
capeff=$(echo "$st" | awk '/^CapEff:/ {print $2}')
echo "daemon pid $pid: user $(ct "getent passwd $uid | cut -d: -f1") (uid $uid), CapEff $capeff," \
	"CapBnd $(echo "$st" | awk '/^CapBnd:/ {print $2}'), NoNewPrivs $(echo "$st" | awk '/^NoNewPrivs:/ {print $2}')"
[ "$uid" = "$(ct 'id -u uplinkd')" ] || fail "daemon runs as uid $uid, not uplinkd"
[ "$capeff" = 0000000000003000 ] || fail "CapEff $capeff, want 0000000000003000"
ct 'sysctl -n net.ipv4.ip_forward' | grep -qx 1 || fail "ip_forward not set (sysctls not writable?)"
ct 'ip rule' | grep -q "lookup 250" || fail "no balance rule"
ct 'nft list table inet uplinkd >/dev/null' || fail "no table inet uplinkd"

# ---- the control socket: nogroup may read, not change
ct 'setpriv --reuid=65534 --regid=65534 --clear-groups /ulbuild/uplinkctl status >/dev/null' ||
	fail "control_group member could not read status"
out=$(ct 'setpriv --reuid=65534 --regid=65534 --clear-groups /ulbuild/uplinkctl disable isp1 2>&1') &&
	fail "a user outside admin_group could disable a link"
echo "$out" | grep -q "permission denied" || fail "refusal was not 'permission denied': $out"
ct '/ulbuild/uplinkctl status' | grep -q "isp1 .* up" || fail "isp1 not up after the refused disable"

# ---- reload, with a link whose interface appeared after the start: its rp_filter is
# written too (ReadWritePaths covers interfaces that come later); journal fields
ct 'ip link add wan3 type veth peer name peer4 && ip link set wan3 up && ip link set peer4 up &&
    ip addr add 192.168.3.2/24 dev wan3 && ip addr add 192.168.3.1/24 dev peer4 &&
    sed -i "s|^);|  ,{ name = \"isp3\"; interface = \"wan3\"; gateway = \"192.168.3.1\"; }\n);|" \
	/etc/uplinkd/uplinkd.conf' || fail "adding wan3"
before3=$(ct 'sysctl -n net.ipv4.conf.wan3.rp_filter')
ct 'systemctl reload uplinkd' || fail "systemctl reload failed"
[ "$(ct 'systemctl is-active uplinkd')" = active ] || fail "not active after reload"
ct 'journalctl -u uplinkd --no-pager | grep -q "reloading /etc/uplinkd/uplinkd.conf"' || fail "reload not logged"
for _ in $(seq 50); do [ "$(ct 'sysctl -n net.ipv4.conf.wan3.rp_filter')" = 2 ] && break; sleep 0.1; done
[ "$(ct 'sysctl -n net.ipv4.conf.wan3.rp_filter')" = 2 ] ||
	fail "rp_filter of wan3 (appeared after the start) not set: $(ct 'journalctl -u uplinkd --no-pager | grep wan3')"
ct 'journalctl -o json -u uplinkd --no-pager' | grep -q '"UPLINK_LINK":"isp1"' ||
	fail "no UPLINK_LINK field in the journal"

# ---- stop: the kernel as found
ct 'systemctl stop uplinkd' || fail "systemctl stop failed"
[ "$(ct 'sysctl -n net.ipv4.conf.wan3.rp_filter')" = "$before3" ] || fail "rp_filter of wan3 not restored"
ct 'ip link del wan3' || fail "removing wan3"
after=$(ct "$snap")
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "stop left the kernel changed"; }

echo "systemd: ok ($((SECONDS - t0)) s)"
