#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2015
#
# demo.sh [BUILD_DIR]: the live uplinkd demo in the namespace lab ("make demo").
#
# Builds a lab of network namespaces (a LAN host, the gateway where uplinkd runs, two ISP
# routers and "the Internet"), starts uplinkd with two links weighted 40:60, and narrates:
#   1. new connections are balanced over both links
#   2. isp1's upstream dies silently (carrier stays up): detection time, failed attempts
#   3. new connections all leave by isp2
#   4. isp1 heals: failback time; connections opened during the outage survive it
#   5. balance restored
#   6. isp1 gets slow (the lab's delay line, +100 ms): degraded, out of the balance; back
#      after the recovery margin once the delay goes
#   7. carrier loss on isp2: detection time, traffic by isp1; carrier back
#   8. the transition log, uplinkd stops, the kernel is left as it was found
# Needs root. Everything is removed at the end, also on failure or Ctrl-C (lab.sh's traps).
# Environment: DEMO_FAST=1 shortens the pauses; UL_KEEP_LOGS=1 keeps the lab's logs.
# Exit status: 0 when every step behaved as expected, 1 otherwise.

DEMO_T0=${EPOCHREALTIME/./}
NSTEPS=9

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: must run as root (it creates network namespaces): sudo make demo" >&2
	exit 1
fi

# ---------------------------------------------------------------------------------------
# build directory, lab library

_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_b=${1:-build}
case $_b in
/*) ;;
*) _b=$PWD/$_b ;;
esac
if [ ! -x "$_b/uplinkd" ] || [ ! -x "$_b/uplinkctl" ] || [ ! -x "$_b/lab/tcpsrc" ] ||
	[ ! -x "$_b/lab/delayline" ]; then
	echo "demo.sh: $_b/uplinkd, uplinkctl, lab/tcpsrc or lab/delayline missing (run: make demo)" >&2
	exit 1
fi
for _t in ip nft jq timeout iptables; do
	if ! command -v "$_t" >/dev/null; then
		echo "demo.sh: '$_t' not found (run: make deps)" >&2
		exit 1
	fi
done
UL_BUILD=$(cd "$_b" && pwd)
LAB=${LAB:-uldemo$$}
# shellcheck source=tests/lab/lab.sh
. "$_root/tests/lab/lab.sh"
# shellcheck source=tests/lab/conf.sh
. "$_root/tests/lab/conf.sh"

if ! ip netns add "$LAB-chk" >/dev/null 2>&1; then
	echo "demo.sh: cannot create network namespaces here" >&2
	exit 1
fi
ip netns del "$LAB-chk" >/dev/null 2>&1

# The lab library's progress messages go to a file, not to the audience; only an
# interruption and cleanup trouble are shown (lab_fail still prints its FAIL line).
lab_log() {
	local now=${EPOCHREALTIME/./}
	case $* in
	interrupted* | lab_cleanup:* | *ignored\ SIGTERM*) printf '\ndemo.sh: %s\n' "$*" >&2 ;;
	esac
	if [ -n "$LABDIR" ] && [ -d "$LABDIR" ]; then
		printf '[%d ms] %s\n' $(((now - _LAB_T0) / 1000)) "$*" >>"$LABDIR/lab.log"
	elif [ "${DEMO_VERBOSE:-0}" = 1 ]; then
		printf '%s\n' "$*" >&2
	fi
}

# ---------------------------------------------------------------------------------------
# presentation

if [ -t 1 ]; then
	TTY=1
	B=$'\e[1m' D=$'\e[2m' R=$'\e[31m' G=$'\e[32m' Y=$'\e[33m' C=$'\e[36m' N=$'\e[0m'
else
	TTY=0
	B='' D='' R='' G='' Y='' C='' N=''
fi
case ${LC_ALL:-${LC_CTYPE:-${LANG:-}}} in
*UTF-8* | *utf8* | *UTF8* | *utf-8*) OK='✔' ;;
*) OK='ok' ;;
esac
if [ "${DEMO_FAST:-0}" = 1 ]; then
	PAUSE=0.3
else
	PAUSE=${DEMO_PAUSE:-7}
fi
STEP=0
TCPSRC=$UL_BUILD/lab/tcpsrc
SERVICE=$LAB_SERVICE
PORT=$LAB_PORT

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# elapsed since the demo started, "12.3s"
elapsed() {
	local ms=$(($(now_ms) - DEMO_T0 / 1000))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

# fmt_ms MS: "640 ms" or "1.24 s"
fmt_ms() {
	local ms=$1
	if [ "$ms" -lt 1000 ]; then
		printf '%d ms' "$ms"
	else
		printf '%d.%02d s' $((ms / 1000)) $((ms % 1000 / 10))
	fi
}

say() { printf '  %s\n' "$*"; }
ok() { printf '  %s%s%s %s\n' "$G" "$OK" "$N" "$*"; }
note() { printf '  %s%s%s\n' "$D" "$*" "$N"; }

step() {
	STEP=$((STEP + 1))
	local head pad
	head=$(printf '[step %d/%d] %s' "$STEP" "$NSTEPS" "$1")
	pad=$((72 - ${#head}))
	[ $pad -ge 6 ] || pad=6
	printf '\n%s%s%s %s%*s%s\n' "$B$C" "$head" "$N" "$D" $pad "$(elapsed)" "$N"
}

# die MSG: what went wrong, the end of uplinkd's log, exit 1 (the trap removes the lab).
die() {
	live_end
	printf '\n%sDEMO FAILED in step %d:%s %s\n' "$R$B" "$STEP" "$N" "$*" >&2
	if [ -n "$LABDIR" ] && [ -s "$LABDIR/uplinkd.log" ]; then
		echo "--- last lines of uplinkd's log ---" >&2
		tail -n 15 "$LABDIR/uplinkd.log" >&2
		echo "---" >&2
	fi
	_LAB_LOG_DUMPED=1	# lab.sh's exit trap need not dump the whole log again
	exit 1
}

# pause [SECONDS]: let the audience read (the live table keeps refreshing meanwhile).
pause() {
	live_for "${1:-$PAUSE}" ""
}

# ---------------------------------------------------------------------------------------
# the live status table
#
# On a terminal the table (uplinkctl status) is redrawn in place below the narration, with
# a progress line under it; elsewhere only the final frame of each wait is printed.

_LIVE_LINES=0

colorize_table() {
	if [ $TTY = 1 ]; then
		sed -E "2,\$ s/^([^ ]+ +[^ ]+ +)(up)( |$)/\1$G\2$N\3/;
			2,\$ s/^([^ ]+ +[^ ]+ +)(down)( |$)/\1$R\2$N\3/;
			2,\$ s/^([^ ]+ +[^ ]+ +)(init|degraded|disabled)( |$)/\1$Y\2$N\3/;
			1 s/^.*$/$D&$N/"
	else
		cat
	fi
}

# status_table: the daemon's table, indented; fails when the daemon does not answer
status_table() {
	local t
	t=$(LAB_CTL_TIMEOUT=3 lab_ctl status 2>&1) || return 1
	printf '%s\n' "$t" | colorize_table | sed 's/^/    /'
}

# live_draw TEXT: replace the previous frame on a terminal
live_draw() {
	local text=$1 n
	[ $TTY = 1 ] || return 0
	[ "$_LIVE_LINES" -gt 0 ] && printf '\e[%dA\e[J' "$_LIVE_LINES"
	printf '%s\n' "$text"
	n=$(printf '%s\n' "$text" | wc -l)
	_LIVE_LINES=$n
}

# live_end: keep the last frame on screen, the next output goes below it
live_end() {
	_LIVE_LINES=0
}

# live_erase: remove the last frame
live_erase() {
	[ $TTY = 1 ] && [ "$_LIVE_LINES" -gt 0 ] && printf '\e[%dA\e[J' "$_LIVE_LINES"
	_LIVE_LINES=0
}

check_daemon() {
	if [ -z "$LAB_UPLINKD_PID" ] || ! kill -0 "$LAB_UPLINKD_PID" 2>/dev/null; then
		die "uplinkd is not running any more"
	fi
}

# live_for SECONDS MSG: refresh the table for a while (no output at all when not a tty)
live_for() {
	local secs=$1 msg=$2 end tbl
	end=$(($(now_ms) + $(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')))
	[ $TTY = 1 ] || { sleep "$secs"; return 0; }
	while [ "$(now_ms)" -lt $end ]; do
		check_daemon
		tbl=$(status_table) || die "uplinkctl status failed: $tbl"
		live_draw "$tbl
  ${D}[step $STEP/$NSTEPS $(elapsed)]$N $msg"
		sleep 0.2
	done
	live_erase
}

# watch_state LINK STATE TIMEOUT_S T0_MS WHAT: refresh the table until LINK is in STATE.
# Sets WATCH_MS to the time from T0_MS to the transition (the daemon's since_s makes it
# exact to a few ms, whatever the polling interval). Dies on timeout.
WATCH_MS=0
WATCH_FAMILY=                   # 6: watch the link's IPv6 (its "ipv6" object) instead
watch_state() {
	local link=$1 want=$2 t=$3 t0=$4 what=$5 end json cur since now tbl
	end=$((t0 + t * 1000))
	while :; do
		check_daemon
		json=$(LAB_CTL_TIMEOUT=3 lab_ctl status --json 2>&1) ||
			die "uplinkctl status --json failed: $json"
		now=$(now_ms)
		cur=$(jq -r --arg l "$link" --arg f "$WATCH_FAMILY" \
			'.links[] | select(.name == $l) | (if $f == "6" then .ipv6 else . end) |
			 "\(.state) \(.since_s * 1000 | floor)"' \
			<<<"$json") || die "cannot parse uplinkctl status --json: $json"
		since=${cur#* } cur=${cur%% *}
		if [ "$cur" = "$want" ]; then
			WATCH_MS=$((now - t0 - since))
			[ $WATCH_MS -lt 0 ] && WATCH_MS=0
			break
		fi
		[ "$now" -ge $end ] && {
			status_table
			die "$link is still '$cur' after ${t} s (expected '$want')"
		}
		if [ $TTY = 1 ]; then
			tbl=$(status_table) || die "uplinkctl status failed"
			live_draw "$tbl
  ${D}[step $STEP/$NSTEPS $(elapsed)]$N $what: $link is $cur ($(fmt_ms $((now - t0))))"
		fi
		sleep 0.03
	done
	tbl=$(status_table) || die "uplinkctl status failed"
	live_draw "$tbl"
	[ $TTY = 1 ] || printf '%s\n' "$tbl"
	live_end
}

# ---------------------------------------------------------------------------------------
# traffic

# wait_pid PID TIMEOUT_S WHAT: bounded wait for a background command; its status in WAIT_RC
WAIT_RC=0
wait_pid() {
	local pid=$1 t=$2 what=$3 end
	end=$(($(now_ms) + t * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(now_ms)" -ge $end ]; then
			kill -TERM "$pid" 2>/dev/null
			die "$what did not finish within $t s"
		fi
		sleep 0.05
	done
	WAIT_RC=0
	wait "$pid" 2>/dev/null || WAIT_RC=$?
}

# count_conns N [6]: N new connections from the LAN host (IPv6 with 6); sets C1 C2 CF (via
# isp1, isp2, failed)
count_conns() {
	local n=$1 out svc=$SERVICE a1=192.168.1.2 a2=192.168.2.2
	[ "${2:-}" = 6 ] && svc=$LAB_SERVICE6 a1=2001:db8:1::2 a2=2001:db8:2::2
	out=$(timeout -k 2 30 ip netns exec "$LAB-lan" "$TCPSRC" count "$svc" "$PORT" "$n" \
		-p 8 -t 2000 2>&1) || die "tcpsrc count failed: $out"
	C1=$(awk -v a=$a1 '$1 == a { print $2 }' <<<"$out")
	C2=$(awk -v a=$a2 '$1 == a { print $2 }' <<<"$out")
	CF=$(awk '$1 == "fail" { print $2 }' <<<"$out")
	C1=${C1:-0} C2=${C2:-0}
	[ -n "$CF" ] || die "unexpected tcpsrc output: $out"
}

bar() {
	local n=$1 total=$2 w=36 len i s=''
	[ "$total" -gt 0 ] || total=1
	len=$(((n * w + total / 2) / total))
	for ((i = 0; i < len; i++)); do s+='#'; done
	printf '%-*s' $w "$s"
}

# show_counts N [6]: the table of where N connections left
show_counts() {
	local n=$1 svc=$SERVICE:$PORT a1=192.168.1.2 a2=192.168.2.2
	[ "${2:-}" = 6 ] && svc="[$LAB_SERVICE6]:$PORT" a1=2001:db8:1::2 a2=2001:db8:2::2
	say "$n new connections from the LAN host to $svc, as the Internet"
	say "host saw them:"
	printf '    isp1  from %-13s  %4d  %s%s%s %3d%%\n' $a1 "$C1" "$G" "$(bar "$C1" "$n")" \
		"$N" $((C1 * 100 / n))
	printf '    isp2  from %-13s  %4d  %s%s%s %3d%%\n' $a2 "$C2" "$G" "$(bar "$C2" "$n")" \
		"$N" $((C2 * 100 / n))
	if [ "$CF" = 0 ]; then
		printf '    failed                     0\n'
	else
		printf '    %sfailed                  %4d%s\n' "$R" "$CF" "$N"
	fi
}

# ---------------------------------------------------------------------------------------
# the demo

printf '%suplinkd live demo%s: multi-WAN balancing, failover and failback\n' "$B" "$N"
cat <<'EOF'

    LAN host ----- gateway ---+-- wan1 -- isp1 router --+
    10.0.0.2       uplinkd    |                         +-- "Internet"
                   10.0.0.1   +-- wan2 -- isp2 router --+   203.0.113.10-19

  Every box is a network namespace on this machine. The gateway balances new
  connections 40:60 over its two links and probes 203.0.113.11 and .12 through
  each of them every 200 ms (ICMP); 3 failed rounds make a link down, 3 good
  ones bring it back; a link whose RTT averages above 60 ms over 10 rounds is
  degraded. The Internet host tells each client the address it saw:
  192.168.1.2 means the connection left by isp1, 192.168.2.2 by isp2.
  IPv6 too: each ISP advertises its router (radvd), the LAN has a ULA
  (fd00:10::/64) masqueraded per link, 2001:db8:ffff::11 and ::12 are probed
  over IPv6, and each family has its own health.
EOF

lab_create 2 --bcp38 --ipv6
conf=$LABDIR/uplinkd.conf
lab_conf6 2 weights=40,60 interval=200 timeout=200 down=3 up=3 quorum=1 level=info \
	targets=203.0.113.11,203.0.113.12 targets6=2001:db8:ffff::11,2001:db8:ffff::12 \
	check_extra='max_rtt_ms = 60;' >"$conf" ||
	die "cannot write the configuration"
"$UL_BUILD/uplinkd" -t -c "$conf" >/dev/null 2>"$LABDIR/conf-check.err" ||
	die "the demo configuration is refused: $(cat "$LABDIR/conf-check.err")"
lab_snapshot "$LABDIR/before.snap"
gw_sysctls() {
	lab_gw sysctl net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy \
		net.ipv4.conf.wan1.rp_filter net.ipv4.conf.wan2.rp_filter 2>&1
}
gw_sysctls >>"$LABDIR/before.snap"
t0=$(now_ms)
lab_uplinkd_start "$conf"
note "lab up; uplinkd started, logging to $LABDIR/uplinkd.log"
watch_state isp1 up 10 "$t0" "starting"
lab_wait_state isp2 up 5 || die "isp2 did not come up"

# --- 1
step "Traffic is balanced over both links (weights 40:60)"
pause
count_conns 200
show_counts 200
[ "$CF" = 0 ] || die "$CF connections failed with both links up"
[ "$C1" -gt 0 ] && [ "$C2" -gt 0 ] || die "one link carried nothing"
[ "$C1" -ge 50 ] && [ "$C1" -le 110 ] || die "isp1 carried $C1 of 200, expected about 80"
ok "both links carry new connections, roughly 40:60"
pause

# --- 2
step "isp1's upstream dies silently (its cable stays up)"
say "Two clients on the LAN host each open a new connection every 50 ms: an"
say "impatient one (gives up after 1 s) and a patient one (3 s). In a second,"
say "isp1's router starts dropping everything it forwards. uplinkd sees no"
say "carrier change: only its probes through isp1 stop being answered."
rm -f "$LABDIR/burst1.out" "$LABDIR/burst3.out"
t_burst=$(now_ms)
lab_bg lan "$TCPSRC" burst "$SERVICE" "$PORT" 5 -s 10.0.0.2 -i 50 -t 1000 \
	>"$LABDIR/burst1.out" 2>&1
burst1_pid=$LAB_BG_PID
lab_bg lan "$TCPSRC" burst "$SERVICE" "$PORT" 5 -s 10.0.1.2 -i 50 -t 3000 \
	>"$LABDIR/burst3.out" 2>&1
burst3_pid=$LAB_BG_PID
live_for 1 "connections flowing"
t_cut=$(now_ms)
lab_cut 1
say "${R}isp1 cut${N} at $(elapsed)"
watch_state isp1 down 10 "$t_cut" "isp1 cut"
detect_ms=$WATCH_MS
ok "isp1 declared down $(fmt_ms $detect_ms) after the cut"
live_for 5 "new connections keep coming until the 5 s bursts end"
wait_pid "$burst1_pid" 10 "tcpsrc burst"
wait_pid "$burst3_pid" 10 "tcpsrc burst"
cut_off=$((t_cut - t_burst))

# burst_summary FILE: sets B_OK B_FAIL B_FIRST B_LAST (ms after the cut) B_LATE_FAIL
burst_summary() {
	local f=$1 first last
	B_OK=$(awk '$1 == "ok" { print $2 }' "$f")
	B_FAIL=$(awk '$1 == "fail" { print $2 }' "$f")
	[ -n "$B_OK" ] && [ -n "$B_FAIL" ] || die "unexpected tcpsrc burst output: $(tail -n 5 "$f")"
	first=$(awk '$1 == "first_fail" { print $2 }' "$f")
	last=$(awk '$1 == "last_fail" { print $2 }' "$f")
	B_FIRST=$((first - cut_off)) B_LAST=$((last - cut_off))
	B_LATE_FAIL=$(awk -v c=$cut_off '$1 == "attempt" && $2 >= c + 2000 && $3 == "fail"' "$f" |
		wc -l)
}
burst_line() {
	local who=$1
	if [ "$B_FAIL" = 0 ]; then
		printf '    %-13s %3d attempts, %s 0 failed%s\n' "$who" $((B_OK + B_FAIL)) "$G" "$N"
	else
		printf '    %-13s %3d attempts, %s%2d failed%s (sent %d..%d ms after the cut)\n' \
			"$who" $((B_OK + B_FAIL)) "$R" "$B_FAIL" "$N" "$B_FIRST" "$B_LAST"
	fi
}
burst_summary "$LABDIR/burst1.out"
burst_line "timeout 1 s:"
late=$B_LATE_FAIL fail1=$B_FAIL
burst_summary "$LABDIR/burst3.out"
burst_line "timeout 3 s:"
late=$((late + B_LATE_FAIL)) fail3=$B_FAIL
[ "$late" = 0 ] || die "$late new connections failed more than 2 s after the cut"
if [ "$fail1" -gt 0 ]; then
	say "The failures are the attempts that went to isp1 before it was declared"
	say "down. A client that waits longer retries its SYN after 1 s, and by then"
	say "isp1 is out of the balance: the retry leaves by isp2."
fi
[ "$fail3" -le "$fail1" ] || note "(the patient client lost more than the impatient one)"
ok "every new connection started 2 s or more after the cut succeeded"
pause

# --- 3
step "During the outage, new connections all leave by isp2"
rm -f "$LABDIR/hold.ready"
lab_bg lan "$TCPSRC" hold "$SERVICE" "$PORT" 20 60 -f "$LABDIR/hold.ready" \
	>"$LABDIR/hold.out" 2>"$LABDIR/hold.err"
hold_pid=$LAB_BG_PID
lab_wait_file "$LABDIR/hold.ready" 5 || die "tcpsrc hold did not open its connections"
count_conns 100
show_counts 100
[ "$CF" = 0 ] || die "$CF connections failed with isp1 down"
[ "$C1" = 0 ] && [ "$C2" = 100 ] || die "isp1 still got $C1 new connections while down"
say "The LAN host also opened 20 long-lived connections now (echoing a byte"
say "every 200 ms); they must survive isp1's return."
ok "no new connection is sent into the dead link"
pause

# --- 4
step "isp1 heals: failback"
t_heal=$(now_ms)
lab_heal 1
say "${G}isp1 healed${N} at $(elapsed)"
watch_state isp1 up 10 "$t_heal" "isp1 healed"
fb_ms=$WATCH_MS
ok "isp1 back up $(fmt_ms $fb_ms) after healing (3 good rounds of 200 ms)"
live_for 2 "the 20 long-lived connections keep echoing"
kill -TERM "$hold_pid" 2>/dev/null
wait_pid "$hold_pid" 5 "tcpsrc hold"
h_ok=$(awk '$1 == "ok" { print $2 }' "$LABDIR/hold.out")
h_broken=$(awk '$1 == "broken" { print $2 }' "$LABDIR/hold.out")
h_seen=$(awk '$1 == "seen" && $2 == "192.168.2.2" { print $3 }' "$LABDIR/hold.out")
[ -n "$h_ok" ] && [ -n "$h_broken" ] ||
	die "unexpected tcpsrc hold output: $(cat "$LABDIR/hold.out" "$LABDIR/hold.err")"
say "The 20 long-lived connections opened during the outage (${h_seen:-0} via isp2),"
say "2 s after the failback: $h_ok alive, $h_broken broken."
[ "${h_seen:-0}" = 20 ] || die "only ${h_seen:-0} of the 20 outage connections left by isp2"
[ "$h_broken" = 0 ] && [ "$WAIT_RC" = 0 ] ||
	die "connections opened during the outage broke: $(cat "$LABDIR/hold.err")"
ok "established connections stay on their link: none moved, none broke"
pause

# --- 5
step "Balance restored"
count_conns 200
show_counts 200
[ "$CF" = 0 ] || die "$CF connections failed after the failback"
[ "$C1" -gt 0 ] && [ "$C2" -gt 0 ] || die "one link carried nothing after the failback"
ok "isp1 carries its share again"
pause

# --- 6
step "isp1's IPv6 alone dies silently (its IPv4 goes on)"
say "isp1's router now drops only the IPv6 it forwards. uplinkd judges each family"
say "by its own probes: isp1's IPv6 goes down, its IPv4 stays up."
t_c6=$(now_ms)
lab_cut6 1
say "${R}isp1 IPv6 cut${N} at $(elapsed)"
WATCH_FAMILY=6 watch_state isp1 down 5 "$t_c6" "IPv6 silent failure"
d6_ms=$WATCH_MS
ok "isp1's IPv6 declared down $(fmt_ms $d6_ms) after the cut (3 failed rounds)"
[ "$(lab_link_field isp1 state)" = up ] || die "isp1's IPv4 went down with its IPv6"
count_conns 100 6
show_counts 100 6
[ "$CF" = 0 ] && [ "$C2" = 100 ] || die "new IPv6 connections did not all leave by isp2"
count_conns 100
show_counts 100
[ "$CF" = 0 ] && [ "$C1" -gt 0 ] || die "isp1 stopped carrying IPv4 with only its IPv6 down"
ok "IPv6 moved to isp2, IPv4 still uses both links"
t_h6=$(now_ms)
lab_heal 1
WATCH_FAMILY=6 watch_state isp1 up 10 "$t_h6" "IPv6 back"
ok "isp1's IPv6 back $(fmt_ms $WATCH_MS) after healing"
pause

# --- 7
step "isp1 gets slow: degraded, out of the balance, and back"
say "isp1's router now holds every packet it forwards upstream for 100 ms (the"
say "lab's delay line, as on a congested line). Its probes are still answered,"
say "so isp1 is not down; but once its RTT averages above 60 ms over 10 rounds"
say "it is degraded, and a degraded link gets no new connections while another"
say "link is up. Connections already on it stay there."
t_sl=$(now_ms)
lab_delay 1 100 >>"$LABDIR/lab.log" 2>&1 || die "lab_delay failed (see $LABDIR/lab.log)"
say "${R}isp1 +100 ms${N} at $(elapsed)"
watch_state isp1 degraded 15 "$t_sl" "slow link"
deg_ms=$WATCH_MS
rtt=$(lab_link_field isp1 rtt_ms) || rtt=
ok "isp1 degraded $(fmt_ms $deg_ms) after the delay (7 rounds of 200 ms lift"
say "  the 10-round average above 60 ms: it was ${rtt%.*} ms at that moment)"
count_conns 100
show_counts 100
[ "$CF" = 0 ] && [ "$C2" = 100 ] || die "a degraded isp1 still got new connections"
ok "every new connection left by isp2"
pause 2
t_sf=$(now_ms)
lab_undelay 1 >>"$LABDIR/lab.log" 2>&1 || die "lab_undelay failed (see $LABDIR/lab.log)"
say "${G}isp1 fast again${N} at $(elapsed)"
watch_state isp1 up 30 "$t_sf" "delay gone"
rec_ms=$WATCH_MS
ok "isp1 up again $(fmt_ms $rec_ms) after the delay went: its average had to fall"
say "  below 80% of the limit and stay there for 10 rounds (no flapping)"
count_conns 100
show_counts 100
[ "$CF" = 0 ] && [ "$C1" -gt 0 ] && [ "$C2" -gt 0 ] || die "isp1 did not rejoin the balance"
pause

# --- 8
step "isp2 loses its carrier (cable pulled)"
t_cd=$(now_ms)
lab_carrier_down 2
say "${R}isp2 carrier down${N} at $(elapsed)"
watch_state isp2 down 5 "$t_cd" "carrier lost"
cd_ms=$WATCH_MS
ok "isp2 declared down $(fmt_ms $cd_ms) after the carrier loss (no probes needed)"
[ "$cd_ms" -lt 1000 ] || die "carrier loss took $(fmt_ms $cd_ms) to detect"
count_conns 100
show_counts 100
[ "$CF" = 0 ] && [ "$C1" = 100 ] || die "traffic did not all go via isp1 with isp2's carrier down"
pause 2
t_cu=$(now_ms)
lab_carrier_up 2
say "${G}isp2 carrier back${N} at $(elapsed)"
watch_state isp2 up 10 "$t_cu" "carrier back"
ok "isp2 up again $(fmt_ms $WATCH_MS) after the carrier returned"
pause

# --- 9
step "Transition log; uplinkd stops, the kernel is left as found"
say "Transitions in uplinkd's log (one line each, fixed form):"
grep -E 'link [a-z0-9_-]+: [a-z]+ -> [a-z]+ \(' "$LABDIR/uplinkd.log" |
	sed -E 's/^<[0-9]>//; s/^/    /' || die "no transition lines in uplinkd's log"
lab_snapshot "$LABDIR/running.snap"
n_rules=$(lab_gw ip rule show | awk -F: '$1 >= 1000 && $1 <= 1099' | wc -l)
n_nft=$(grep -c . <(lab_gw nft list table inet uplinkd 2>/dev/null))
say "While running: $n_rules ip rules on the gateway, 'inet uplinkd' has $n_nft lines."
lab_uplinkd_stop
rc=$?
[ $rc = 0 ] || die "uplinkd exited with status $rc on SIGTERM"
say "uplinkd stopped (SIGTERM, exit status 0)."
lab_snapshot "$LABDIR/after.snap"
gw_sysctls >>"$LABDIR/after.snap"
if ! diff -u "$LABDIR/before.snap" "$LABDIR/after.snap" >"$LABDIR/snap.diff"; then
	sed 's/^/    /' "$LABDIR/snap.diff"
	die "the kernel differs from before uplinkd started (diff above)"
fi
say "diff of the gateway's rules, routes, nftables ruleset and sysctls before"
say "start and after stop: empty."
ok "the kernel is left as uplinkd found it"

lab_cleanup
left=$(ip netns list 2>/dev/null | awk -v p="$LAB-" 'index($1, p) == 1' | wc -l)
[ "$left" = 0 ] || die "$left lab namespaces are left behind"
trap - EXIT INT TERM
printf '\n%sDemo complete%s in %s: detection %s (silent failure), %s (IPv6 alone), %s (carrier),\n' \
	"$G$B" "$N" "$(elapsed)" "$(fmt_ms $detect_ms)" "$(fmt_ms $d6_ms)" "$(fmt_ms $cd_ms)"
printf 'failback %s, degraded %s after +100 ms and back %s after it went,\n' "$(fmt_ms $fb_ms)" \
	"$(fmt_ms $deg_ms)" "$(fmt_ms $rec_ms)"
printf '0 established connections broken. Lab removed.\n'
exit 0
