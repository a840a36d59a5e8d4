#!/bin/bash
# The Debian package on a throwaway copy of this machine.
#
# Builds the .deb (and a rebuild with a newer version) from a clean copy of the tree,
# checks it with lintian, then boots an overlayfs over / (upper and work on a tmpfs) with
# systemd-nspawn --private-network -b, and inside it, with the container's own network
# namespace as the gateway of a small lab (LAN, two ISPs, "the Internet" in namespaces):
#   dpkg -i            inert: not enabled, not started, routing/nftables/sysctls unchanged;
#                      started unconfigured it refuses and still changes nothing;
#                      reinstalled while stopped it stays stopped
#   configure, start   systemctl enable --now, uplinkctl status, bash completion
#   dpkg -i newer      with 20 connections held through both links: restarted (new PID,
#                      new version), 0 connections broken
#   dpkg -r            stopped, the kernel exactly as before the installation
#   dpkg -P            conffiles, runtime state and enablement gone
# The host is not touched: everything happens in the overlay and the container's
# namespaces. Exit 77 where root, systemd-nspawn, overlayfs or the packaging tools are
# missing. The packages are cached in $UL_BUILD/pkgtest/ keyed by the sources' hash.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${UL_BUILD:-$top/build}
tcpsrc=$B/lab/tcpsrc
T0=${EPOCHREALTIME/./}

log() { echo "[$(( (${EPOCHREALTIME/./} - T0) / 1000000 ))s] $*"; }
skip() { echo "package: SKIP: $*"; exit 77; }
CT="" NSPAWN_PID="" T="" HOLD_PID=""
dump() {
	[ -n "$CT" ] || return 0
	echo "---- journal of uplinkd in the container"
	in_ct journalctl -u uplinkd --no-pager -n 60 2>&1 | tail -n 60
}
fail() { echo "package: FAIL: $*"; dump; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn missing (make deps: systemd-container)"
command -v nsenter >/dev/null || skip "nsenter missing"
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && command -v lintian >/dev/null ||
	skip "dpkg-buildpackage, debhelper or lintian missing (make deps)"
[ -x "$tcpsrc" ] || fail "$tcpsrc missing (make all-tests)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip "overlayfs missing"

# ---- the packages: this tree's version, and a rebuild one changelog entry newer
version=$(cd "$top" && dpkg-parsechangelog -S Version) || fail "dpkg-parsechangelog failed"
newer=$version+pkgtest1
cache=$B/pkgtest
# the key: every file the package is built from (the tests are not)
sources() {
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -z -c -o --exclude-standard -- . ':!tests' ':!bench'
	else
		(cd "$top" && find . -path './build*' -prune -o -path ./tests -prune -o -path ./bench -prune \
			-o -type f -print0)
	fi
}
key=$(sources | (cd "$top" && xargs -0 sha256sum 2>/dev/null) | sort | sha256sum | cut -c1-16)
arch=$(dpkg --print-architecture)
deb1=$cache/v1/uplinkd_${version}_$arch.deb
deb2=$cache/v2/uplinkd_${newer}_$arch.deb
if [ "$(cat "$cache/key" 2>/dev/null)" = "$key" ] && [ -e "$deb1" ] && [ -e "$deb2" ]; then
	log "packages cached in $cache ($key)"
else
	rm -rf "$cache"
	mkdir -p "$cache"
	log "building $version and $newer"
	# the unit tests run in the test suite itself: nocheck
	DEB_BUILD_OPTIONS=nocheck "$top/contrib/deb-build.sh" "$cache/v1" >"$cache/build-v1.log" 2>&1 ||
		{ tail -n 30 "$cache/build-v1.log"; fail "dpkg-buildpackage failed"; }
	DEB_BUILD_OPTIONS=nocheck "$top/contrib/deb-build.sh" "$cache/v2" "$newer" \
		>"$cache/build-v2.log" 2>&1 ||
		{ tail -n 30 "$cache/build-v2.log"; fail "dpkg-buildpackage of $newer failed"; }
	[ -e "$deb1" ] && [ -e "$deb2" ] || fail "no $deb1 or $deb2"
	log "lintian"
	lintian --fail-on error,warning "$cache"/v1/uplinkd_*.changes >"$cache/lintian.log" 2>&1 ||
		{ cat "$cache/lintian.log"; fail "lintian reports errors or warnings"; }
	echo "$key" > "$cache/key"
fi
grep -v "running with root privileges" "$cache/lintian.log" | sed 's/^/lintian: /'

# ---- the throwaway machine
cleanup() {
	set +e
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
	if [ -n "$CT" ]; then
		timeout 10 nsenter -t "$CT" -a systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 25); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$NSPAWN_PID" 2>/dev/null && kill -9 "$CT" 2>/dev/null
	fi
	[ -n "$NSPAWN_PID" ] && wait "$NSPAWN_PID" 2>/dev/null
	if [ -n "$T" ]; then
		umount "$T/merged" 2>/dev/null || umount -l "$T/merged" 2>/dev/null
		umount "$T" 2>/dev/null || umount -l "$T" 2>/dev/null
		rmdir "$T" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T=$(mktemp -d /tmp/ul-pkgtest.XXXXXX) || fail "mktemp"
mount -t tmpfs -o size=2g,mode=0700 ul-pkgtest "$T" || fail "tmpfs on $T"
mkdir "$T/upper" "$T/work" "$T/merged"
mount -t overlay ul-pkgtest -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/merged" ||
	skip "overlayfs over / cannot be mounted"
M=$T/merged
# A router as shipped, not a container image or this build machine: no policy-rc.d
# forbidding service starts, no uplinkd from "make install". It boots to basic.target, so
# the services other tests installed (keepalived, conntrackd, ...) stay stopped, and its
# timers (apt-daily would take the dpkg lock) are masked.
rm -f "$M/usr/sbin/policy-rc.d"
if [ ! -e "$M/var/lib/dpkg/info/uplinkd.list" ]; then  # (a packaged one is purged below)
	rm -rf "$M/usr/sbin/uplinkd" "$M/usr/sbin/uplinkctl" "$M/etc/uplinkd" \
		"$M/lib/systemd/system/uplinkd.service" "$M/etc/systemd/system/uplinkd.service"* \
		"$M/usr/lib/sysusers.d/uplinkd.conf" "$M/etc/iproute2/rt_protos.d/uplinkd.conf"
fi
for u in "$M"/lib/systemd/system/*.timer "$M"/etc/systemd/system/timers.target.wants/*.timer; do
	[ -e "$u" ] && ln -sf /dev/null "$M/etc/systemd/system/$(basename "$u")"
done
mkdir -p "$M/root/pkgtest"
cp "$deb1" "$deb2" "$tcpsrc" "$M/root/pkgtest/"
P=/root/pkgtest

log "booting the copy"
systemd-nspawn -q -D "$M" -M "ulpkg$$" --register=no --keep-unit --private-network \
	--console=read-only -b systemd.unit=basic.target >"$T/boot.log" 2>&1 </dev/null &
NSPAWN_PID=$!
for _ in $(seq 100); do
	CT=$(pgrep -P "$NSPAWN_PID" -x systemd | head -n1)
	[ -n "$CT" ] && break
	kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$T/boot.log"; fail "systemd-nspawn exited"; }
	sleep 0.1
done
[ -n "$CT" ] || { tail "$T/boot.log"; fail "no systemd in the container"; }
in_ct() { timeout 60 nsenter -t "$CT" -a "$@"; }
for _ in $(seq 100); do
	in_ct test -S /run/systemd/private 2>/dev/null && break
	sleep 0.1
done
st=$(in_ct systemctl is-system-running --wait 2>&1)
case $st in running|degraded) ;; *) tail -n 20 "$T/boot.log"; fail "container: system $st" ;; esac
log "container up (systemd pid $CT, $st)"
# a copy of a machine with the package installed: purged first (in the copy only)
if in_ct dpkg-query -W -f='${Status}' uplinkd 2>/dev/null | grep -q "ok installed"; then
	log "uplinkd is installed on this machine: purged in the copy"
	in_ct env DEBIAN_FRONTEND=noninteractive dpkg -P uplinkd </dev/null >/dev/null 2>&1 ||
		fail "dpkg -P of the copy's uplinkd failed"
fi

# ---- the lab: the container's own network namespace is the gateway
in_ct bash -s <<'EOF' || fail "lab setup failed"
set -e
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for n in lan isp1 isp2 net; do
	ip netns add $n
	ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n $n link set lo up
done
ip link add lan0 type veth peer name lan0 netns lan
ip addr add 10.0.0.1/24 dev lan0; ip link set lan0 up
ip -n lan addr add 10.0.0.2/24 dev lan0; ip -n lan link set lan0 up
ip -n lan route add default via 10.0.0.1
ip -n net addr add 203.0.113.10/32 dev lo
for k in 1 2; do
	ip link add wan$k type veth peer name c$k netns isp$k
	ip addr add 192.168.$k.2/24 dev wan$k; ip link set wan$k up
	ip -n isp$k addr add 192.168.$k.1/24 dev c$k; ip -n isp$k link set c$k up
	ip -n isp$k link add n$k type veth peer name i$k netns net
	ip -n isp$k addr add 100.64.$k.1/24 dev n$k; ip -n isp$k link set n$k up
	ip -n net addr add 100.64.$k.2/24 dev i$k; ip -n net link set i$k up
	ip -n isp$k route add 203.0.113.0/24 via 100.64.$k.2
	ip -n net route add 192.168.$k.0/24 via 100.64.$k.1
	ip netns exec isp$k sysctl -qw net.ipv4.ip_forward=1
	# BCP38 at each ISP: a packet sent by the wrong link is dropped, not forwarded
	ip netns exec isp$k nft -f - <<EON
table inet bcp38 { chain forward { type filter hook forward priority 0; policy accept;
	iifname "c$k" ip saddr != 192.168.$k.0/24 drop; }; }
EON
done
ip route add default via 192.168.1.1 dev wan1
# the administrator's own firewall, which uplinkd must leave alone
nft -f - <<EON
table inet filter { chain input { type filter hook input priority 0; policy accept;
	ct state invalid drop; }; }
EON
ip netns exec net /root/pkgtest/tcpsrc serve 0.0.0.0 5001 >/dev/null 2>&1 &
for i in $(seq 50); do
	ip netns exec net /root/pkgtest/tcpsrc count 203.0.113.10 5001 1 -t 200 2>/dev/null |
		grep -qx 'fail 0' && exit 0
	sleep 0.1
done
echo "tcpsrc serve did not come up" >&2
exit 1
EOF

snapshot() {  # the gateway's routing, firewall and the sysctls uplinkd may change
	in_ct bash -c 'ip rule; ip route show table all; nft list ruleset;
		sysctl -a 2>/dev/null | grep -E "^net\.ipv4\.(ip_forward|fib_multipath_hash_policy|conf\.)"' 2>&1 |
		sed 's/expires [0-9]*sec//'
}
same_as_before() {  # what
	snapshot > "$T/now"
	diff -u "$T/before" "$T/now" >"$T/diff" || { cat "$T/diff"; fail "$1 changed the kernel state"; }
}
snapshot > "$T/before"
grep -q "default via 192.168.1.1" "$T/before" || fail "lab snapshot: $(cat "$T/before")"
dpkg_ct() { in_ct env DEBIAN_FRONTEND=noninteractive dpkg "$@" </dev/null; }
unit_state() { in_ct systemctl is-active uplinkd 2>/dev/null; }

# ---- install: inert
log "dpkg -i $(basename "$deb1")"
dpkg_ct -i "$P/$(basename "$deb1")" >"$T/dpkg-i.log" 2>&1 || { cat "$T/dpkg-i.log"; fail "dpkg -i"; }
[ "$(in_ct systemctl is-enabled uplinkd 2>&1)" = disabled ] || fail "uplinkd enabled on installation"
[ "$(unit_state)" = inactive ] || fail "uplinkd started on installation: $(unit_state)"
same_as_before "installation"
in_ct id uplinkd >/dev/null || fail "no uplinkd system user"
in_ct dpkg-query -W -f='${Conffiles}\n' uplinkd | grep -q "/etc/uplinkd/uplinkd.conf" ||
	fail "/etc/uplinkd/uplinkd.conf is not a conffile"
for f in /usr/sbin/uplinkd /usr/sbin/uplinkctl /lib/systemd/system/uplinkd.service \
	/usr/lib/sysusers.d/uplinkd.conf /etc/iproute2/rt_protos.d/uplinkd.conf \
	/usr/share/bash-completion/completions/uplinkctl /usr/share/doc/uplinkd/examples/uplinkd.conf \
	/usr/share/man/man8/uplinkd.8.gz /usr/share/man/man8/uplinkctl.8.gz \
	/usr/share/man/man5/uplinkd.conf.5.gz; do
	in_ct test -e "$f" || fail "$f not installed"
done
for m in "$top"/man/*.[1-8]; do
	n=$(basename "$m"); s=${n##*.}
	in_ct test -e "/usr/share/man/man$s/$n.gz" || fail "man page $n not installed"
done
if [ -e "$top/contrib/ha/notify" ]; then  # the gateway pair's files, uplinkd-ha(7)
	in_ct test -x /etc/uplinkd/ha/notify || fail "/etc/uplinkd/ha/notify not installed executable"
	in_ct dpkg-query -W -f='${Conffiles}\n' uplinkd | grep -q "/etc/uplinkd/ha/notify" ||
		fail "/etc/uplinkd/ha/notify is not a conffile"
	for f in "$top"/contrib/ha/*; do
		n=$(basename "$f"); [ "$n" = notify ] && continue
		in_ct test -e "/usr/share/doc/uplinkd/examples/ha/$n" || fail "examples/ha/$n not installed"
	done
fi
in_ct uplinkd -t -c /usr/share/doc/uplinkd/examples/uplinkd.conf >/dev/null ||
	fail "the installed example does not pass uplinkd -t"
# the shipped template, its commented links uncommented, is a valid configuration
in_ct bash -c 'f=/etc/uplinkd/uplinkd.conf; { sed -n "/^daemon/,/^};/p" $f;
	sed -n "/^# lan = {/,\$p" $f | sed "s/^# \{0,1\}//"; } > /tmp/tpl.conf &&
	uplinkd -t -c /tmp/tpl.conf' >/dev/null || fail "the conffile's commented example is invalid"

# started unconfigured, it refuses and touches nothing
in_ct systemctl start uplinkd >/dev/null 2>&1 && fail "uplinkd started with the unconfigured conffile"
in_ct journalctl -u uplinkd --no-pager | grep -q "at least one link is required" ||
	fail "no clear message for the unconfigured start"
same_as_before "an unconfigured start"
in_ct systemctl stop uplinkd >/dev/null 2>&1
in_ct systemctl reset-failed uplinkd >/dev/null 2>&1
# an upgrade (here a reinstall) of a stopped service does not start it
dpkg_ct -i "$P/$(basename "$deb1")" >"$T/dpkg-ri.log" 2>&1 || { cat "$T/dpkg-ri.log"; fail "reinstall"; }
[ "$(unit_state)" = inactive ] || fail "reinstall started the stopped service: $(unit_state)"
same_as_before "a reinstallation"
log "installed inert: disabled, inactive, kernel unchanged"

# ---- configured and started
in_ct tee /etc/uplinkd/uplinkd.conf >/dev/null <<'EOF'
daemon = { log_level = "info"; };
lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24" ]; };
links = (
  { name = "isp1"; interface = "wan1"; gateway = "192.168.1.1"; weight = 1;
    check = { method = "icmp"; targets = [ "203.0.113.10" ]; interval_ms = 200; timeout_ms = 200;
              down_after = 3; up_after = 2; }; },
  { name = "isp2"; interface = "wan2"; gateway = "192.168.2.1"; weight = 1;
    check = { method = "icmp"; targets = [ "203.0.113.10" ]; interval_ms = 200; timeout_ms = 200;
              down_after = 3; up_after = 2; }; }
);
EOF
in_ct uplinkd -t >/dev/null || fail "uplinkd -t on the lab configuration"
in_ct systemctl enable --now uplinkd >/dev/null 2>&1 || fail "systemctl enable --now uplinkd"
links_up() {
	local j
	j=$(in_ct uplinkctl status --json 2>/dev/null) || return 1
	[ "$(jq -r '[.links[] | select(.state == "up")] | length' <<<"$j" 2>/dev/null)" = 2 ]
}
wait_up() {
	for _ in $(seq 100); do links_up && return 0; sleep 0.1; done
	return 1
}
wait_up || fail "links not up after start: $(in_ct uplinkctl status 2>&1)"
in_ct uplinkctl status | sed 's/^/status: /'
log "uplinkd runs as user $(in_ct ps -o user= -p "$(in_ct systemctl show -P MainPID uplinkd)")"
# bash completion: commands from --help, link names from the running daemon
comp() {  # words... (the last one is completed)
	in_ct bash -c '. /usr/share/bash-completion/bash_completion
		. /usr/share/bash-completion/completions/uplinkctl
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_uplinkctl uplinkctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' comp "$@"
}
[ "$(comp uplinkctl disable '')" = "isp1 isp2 " ] || fail "completion of link names: '$(comp uplinkctl disable '')'"
[ "$(comp uplinkctl -s /run/uplinkd/control.sock enable i)" = "isp1 isp2 " ] ||
	fail "completion with -s: '$(comp uplinkctl -s /run/uplinkd/control.sock enable i)'"
c=$(comp uplinkctl '')
for v in status reload disable enable metrics; do
	[[ " $c" == *" $v "* ]] || fail "completion of commands lacks $v: '$c'"
done
log "configured: both links up, completion works"

# ---- upgrade with 20 connections held through it
pid1=$(in_ct systemctl show -P MainPID uplinkd)
in_ct rm -f /root/pkgtest/ready
in_ct ip netns exec lan /root/pkgtest/tcpsrc hold 203.0.113.10 5001 20 8 -f /root/pkgtest/ready \
	>"$T/hold.out" 2>&1 &
HOLD_PID=$!
for _ in $(seq 100); do in_ct test -e /root/pkgtest/ready && break; sleep 0.1; done
in_ct test -e /root/pkgtest/ready || { cat "$T/hold.out"; fail "held connections not set up"; }
log "20 connections held; dpkg -i $(basename "$deb2")"
t_up=${EPOCHREALTIME/./}
dpkg_ct -i "$P/$(basename "$deb2")" >"$T/dpkg-u.log" 2>&1 || { cat "$T/dpkg-u.log"; fail "upgrade"; }
log "upgrade done in $(( (${EPOCHREALTIME/./} - t_up) / 1000 )) ms"
pid2=$(in_ct systemctl show -P MainPID uplinkd)
[ "$(unit_state)" = active ] || fail "not running after the upgrade: $(unit_state)"
[ "$pid2" != "$pid1" ] && [ "$pid2" != 0 ] || fail "not restarted by the upgrade (pid $pid1 -> $pid2)"
v=$(in_ct uplinkctl status --json | jq -r .version)
[ "$v" = "$newer" ] || fail "running version after the upgrade: $v, not $newer"
wait_up || fail "links not up after the upgrade"
wait "$HOLD_PID"; rc=$?
HOLD_PID=""
sed 's/^/hold: /' "$T/hold.out"
grep -q "^seen 192.168.1.2 " "$T/hold.out" && grep -q "^seen 192.168.2.2 " "$T/hold.out" ||
	fail "the held connections did not use both links"
[ $rc = 0 ] && grep -qx "broken 0" "$T/hold.out" || fail "connections broken by the upgrade"
[ -z "$(in_ct ip rule | sort | uniq -d)" ] || fail "duplicate ip rules after the upgrade"
# the restart's window without uplinkd's rules: from "stopping" to the new one "ready"
in_ct journalctl -u uplinkd --no-pager -o short-precise |
	grep -E "stopping|stopped;|ready:" | tail -n 3 | sed 's/^/journal: /'
log "upgraded $version -> $v (pid $pid1 -> $pid2), 20 connections, 0 broken"

# ---- remove: stopped, the kernel as found
dpkg_ct -r uplinkd >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log"; fail "dpkg -r"; }
in_ct pgrep -x uplinkd >/dev/null && fail "uplinkd still running after dpkg -r"
same_as_before "installation, use and removal"
in_ct test -e /etc/uplinkd/uplinkd.conf || fail "dpkg -r removed the conffile"
log "removed: stopped, kernel as before the installation"

# ---- purge: conffiles, runtime state, enablement gone
dpkg_ct -P uplinkd >"$T/dpkg-p.log" 2>&1 || { cat "$T/dpkg-p.log"; fail "dpkg -P"; }
for f in /etc/uplinkd /run/uplinkd /var/lib/uplinkd /etc/iproute2/rt_protos.d/uplinkd.conf \
	/etc/systemd/system/multi-user.target.wants/uplinkd.service; do
	in_ct test -e "$f" && fail "$f left after dpkg -P"
done
in_ct dpkg-query -W -f='${Status}' uplinkd 2>/dev/null | grep -q installed &&
	fail "still known to dpkg after purge"
log "purged"
echo "package: ok"
