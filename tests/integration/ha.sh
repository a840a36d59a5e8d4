#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A gateway pair with the real engines (Debian's keepalived and conntrackd, the configs of
# contrib/ha/) and uplinkd on both nodes with the same config (snat to each link's shared
# address):
#  - the backup's uplinkd has both links up before any takeover (probes from its own address);
#  - 20 connections held through the master; the master dies (every interface down, its
#    daemons killed -9): the backup takes over, 0 of the 20 break, new connections succeed
#    within 2 s (HA_NEW_BOUND_MS) and are balanced over both links; the backup's uplinkd saw
#    no link event and flushed nothing;
#  - the old master returns (a new boot): it becomes the backup and resyncs; then the
#    current master hands over (keepalived stopped): no connection breaks either way.
# Prints "ha: takeover_ms=T vip_ms=V broken=B advert_s=A" for bench/ha.sh. Knobs: HA_ADVERT,
# HA_CONTRIB (tests/lab/ha.sh), HA_NEW_BOUND_MS (2000), HA_HOLD_TIMEOUT_MS (5000).
# shellcheck disable=SC2015,SC2016,SC2034
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/ha.sh"
lab_require_root
for p in keepalived conntrackd conntrack; do
	command -v "$p" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$p" >/dev/null || { echo "SKIP: $p missing (make deps)"; exit 77; }
done
NEW_BOUND_MS=${HA_NEW_BOUND_MS:-2000}	# new connections all succeed this long after the death
HOLD_TIMEOUT_MS=${HA_HOLD_TIMEOUT_MS:-5000}	# a held connection's echo later than this: broken
ha_create 2
HA_OK=0
lab_on_exit '[ "$HA_OK" = 1 ] || ha_dump_logs'
conf=$LABDIR/uplinkd.conf
"$UL_BUILD/uplinkd" -t -c "$_HA_CONTRIB/uplinkd.conf" >/dev/null ||
	lab_fail "contrib/ha/uplinkd.conf does not pass uplinkd -t"
cat >"$conf" <<EOF
daemon = { log_level = "info"; };
lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24" ]; };
links = (
  { name = "isp1"; interface = "wan1"; gateway = "192.168.1.1"; snat = "$(ha_vip 1)";
    check = { targets = [ "203.0.113.11", "203.0.113.12" ]; interval_ms = 200; timeout_ms = 200; }; },
  { name = "isp2"; interface = "wan2"; gateway = "192.168.2.1"; snat = "$(ha_vip 2)";
    check = { targets = [ "203.0.113.11", "203.0.113.12" ]; interval_ms = 200; timeout_ms = 200; }; }
);
EOF
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# connections of the LAN host to the service in a node's kernel table
kernel_conns() { ha_ns "$1" conntrack -L -p tcp --dport "$LAB_PORT" -s 10.0.0.2 2>/dev/null; }
# the established ones synced into the backup's kernel by conntrackd (its external cache
# disabled: contrib/ha/conntrackd.conf); with HA_CONTRIB's external cache on, its cache
cache_conns() {
	if grep -q "DisableExternalCache off" "$LABDIR/$1/conntrackd.conf"; then
		ha_ns "$1" conntrackd -C "$LABDIR/$1/conntrackd.conf" -e 2>/dev/null |
			grep -c "dport=$LAB_PORT " || true
	else
		kernel_conns "$1" | grep -c ESTABLISHED || true
	fi
}
transitions() { ha_ctl "$1" status --json | tr '{' '\n' | grep -o '"transitions": *[0-9]*' | tr -d ' ' | tr '\n' ' '; }
held_ok() {	# held_ok WHEN: none of the held connections broke so far
	kill -0 "$hold" 2>/dev/null && ! grep -q " broken: " "$LABDIR/hold.out" ||
		lab_fail "held connections broke $1: $(cat "$LABDIR/hold.out")"
}
wait_cache() {	# wait_cache NODE N TIMEOUT_S: node holds >= N synced connections
	local end=$(( $(now_ms) + $3 * 1000 ))
	until [ "$(cache_conns "$1")" -ge "$2" ]; do
		[ "$(now_ms)" -ge $end ] && return 1
		sleep 0.1
	done
}

# --- both nodes boot: conntrackd, uplinkd, keepalived (a first: it becomes the master)
for n in a b; do ha_conntrackd_start $n; done
for n in a b; do ha_uplinkd_start $n "$conf"; done
ha_keepalived_start a
lab_wait_cmd 10 ha_is_master a || lab_fail "node a did not become master"
ha_keepalived_start b
sleep 1
ha_is_master a && ha_has_no_vip b || lab_fail "node b took shared addresses: $(ip -n "$LAB-gwb" -4 -o addr)"
ha_all_up a 10 || lab_fail "node a: links not up"
ha_all_up b 10 || lab_fail "node b (backup, no shared address): links not up"
lab_log "ok: the backup's uplinkd has both links up, probing from its own addresses"
ha_ns b ip rule show | grep -q "from $(ha_addr b wan1) lookup 201" ||
	lab_fail "node b: no rule for its own address: $(ha_ns b ip rule show)"
ha_ns a ip rule show | grep -q "from $(ha_vip 1) lookup 201" ||
	lab_fail "node a: no rule for the shared address: $(ha_ns a ip rule show)"
out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 2000)
echo "$out" | grep -q "^fail 0$" && echo "$out" | grep -q "^$(ha_vip 1) " &&
	echo "$out" | grep -q "^$(ha_vip 2) " || lab_fail "through the master, not balanced over both shared addresses: $out"
lab_log "ok: through the master, new connections leave from both shared addresses"

# --- 20 connections held through the master, synced to the backup
lab_bg lan "$LAB_TCPSRC" hold "$LAB_SERVICE" "$LAB_PORT" 20 300 -i 200 -t "$HOLD_TIMEOUT_MS" \
	-f "$LABDIR/hold.ready" >"$LABDIR/hold.out" 2>&1
hold=$LAB_BG_PID
lab_wait_file "$LABDIR/hold.ready" 10 || lab_fail "hold did not start: $(cat "$LABDIR/hold.out")"
wait_cache b 20 10 || lab_fail "node b's conntrackd has $(cache_conns b) of the 20 connections"
lab_log "ok: node b holds the 20 connections, synced by conntrackd"
kernel_conns a | grep -q "mark=256" && kernel_conns a | grep -q "mark=512" ||
	lab_fail "the held connections are not on both links: $(kernel_conns a)"
tr_b=$(transitions b)
sleep 0.5

# --- the master dies; new connections every 20 ms measure the takeover, and node b's
# address events (timestamped as they arrive) the moment keepalived gives it the addresses
lab_bg lan bash -c "stdbuf -oL ip -n '$LAB-gwb' monitor address | while IFS= read -r l; do echo \"\${EPOCHREALTIME/./} \$l\"; done" \
	>"$LABDIR/b-addr.mon" 2>/dev/null
sleep 0.2
lab_bg lan "$LAB_TCPSRC" burst "$LAB_SERVICE" "$LAB_PORT" 5 -i 20 -t 500 >"$LABDIR/burst.out" 2>&1
burst=$LAB_BG_PID
sleep 1
ha_node_kill a
t_kill_us=$HA_KILL_US
lab_log "node a killed"
lab_wait_cmd 5 ha_is_master b || lab_fail "node b did not take the shared addresses over"
wait "$burst" || true
# the kill on the burst's own time axis (its start on the wall clock)
b0_us=$(awk '$1 == "t0_realtime_us" { print $2 }' "$LABDIR/burst.out")
[ -n "$b0_us" ] || lab_fail "burst: no start time: $(tail -n 3 "$LABDIR/burst.out")"
t_kill=$(( (t_kill_us - b0_us) / 1000 ))
# the first success after the first failure: attempts started in the moment the interfaces
# took to go down may still have been answered by node a
first_ok=$(awk -v k="$t_kill" '$1 == "attempt" && $2 > k && $3 == "fail" { f = 1 }
	f && $1 == "attempt" && $3 == "ok" { print $2; exit }' "$LABDIR/burst.out")
[ -n "$first_ok" ] || lab_fail "no new connection succeeded after the master died: $(tail -n 6 "$LABDIR/burst.out")"
takeover_ms=$(( first_ok - t_kill ))
vip_us=$(awk -v k="$t_kill_us" -v a=" $(ha_vip 0)/" '$1 > k && index($0, a) && !/Deleted/ { print $1; exit }' "$LABDIR/b-addr.mon")
vip_ms=$([ -n "$vip_us" ] && echo $(( (vip_us - t_kill_us) / 1000 )) || echo "?")
echo "takeover: node b holds the shared addresses ${vip_ms} ms after node a died"
late=$(awk -v k="$t_kill" -v b="$NEW_BOUND_MS" '$1 == "attempt" && $2 > k + b && $3 == "fail"' "$LABDIR/burst.out" | wc -l)
echo "takeover: first new connection through node b ${takeover_ms} ms after node a died (advert_int $HA_ADVERT s)"
[ "$late" = 0 ] || lab_fail "$late new connections failed more than $NEW_BOUND_MS ms after the master died"
out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 2000)
echo "$out" | grep -q "^fail 0$" && echo "$out" | grep -q "^$(ha_vip 1) " &&
	echo "$out" | grep -q "^$(ha_vip 2) " || lab_fail "through node b, not balanced over both links: $out"
lab_log "ok: new connections through node b, over both links: $(echo "$out" | tr '\n' ' ')"
kernel_conns b | grep -q "mark=256" && kernel_conns b | grep -q "mark=512" ||
	lab_fail "node b's kernel lacks the synced connections with their marks: $(kernel_conns b)"
sleep 1
held_ok "at the takeover"
[ "$(transitions b)" = "$tr_b" ] || lab_fail "node b's links changed state at the takeover: $tr_b -> $(transitions b)"
grep -q "connections flushed" "$LABDIR/b/uplinkd.log" && lab_fail "node b's uplinkd flushed connections"
ha_ns b ip rule show | grep -q "from $(ha_vip 1) lookup 201" ||
	lab_fail "node b: no rule for the shared address it took over"
lab_log "ok: takeover without a link event or a flush on node b"

# --- the old master returns (boots again): backup, resynced from node b
ha_node_destroy a
ha_node_create a
ha_conntrackd_start a
ha_uplinkd_start a "$conf"
ha_keepalived_start a
ha_all_up a 10 || lab_fail "node a: links not up after its return"
sleep 1
ha_is_master b && ha_has_no_vip a || lab_fail "the returning node a took the shared addresses"
wait_cache a 20 10 || lab_fail "node a's conntrackd resynced $(cache_conns a) of the 20 connections"
lab_log "ok: node a is back as the backup, with node b's connections in its cache"
held_ok "when node a returned"

# --- and the pair hands back: node b's keepalived stops (maintenance)
ha_ns b sh -c "kill -TERM \$(cat '$LABDIR/b/keepalived.pid')"
lab_wait_cmd 5 ha_is_master a || lab_fail "node a did not take over from node b"
out=$(lab_lan "$LAB_TCPSRC" count "$LAB_SERVICE" "$LAB_PORT" 40 -p 4 -t 2000)
echo "$out" | grep -q "^fail 0$" || lab_fail "new connections through node a failed: $out"
sleep 2
held_ok "at the hand-back to node a"
kill -TERM "$hold"
wait "$hold"
rc=$?
cat "$LABDIR/hold.out"
broken=$(awk '$1 == "broken" { print $2 }' "$LABDIR/hold.out")
echo "ha: takeover_ms=$takeover_ms vip_ms=$vip_ms broken=${broken:-?} advert_s=$HA_ADVERT"
[ $rc = 0 ] && [ "$broken" = 0 ] || lab_fail "held connections broke: $(cat "$LABDIR/hold.out")"
grep -q "^ok 20$" "$LABDIR/hold.out" || lab_fail "not all 20 connections were held"
grep -q "^seen $(ha_vip 1) " "$LABDIR/hold.out" && grep -q "^seen $(ha_vip 2) " "$LABDIR/hold.out" ||
	lab_fail "the held connections did not use both links"
for n in a b; do
	grep -qE 'ERROR: AddressSanitizer|runtime error:' "$LABDIR/$n/uplinkd.log" &&
		lab_fail "sanitizer report in node $n's uplinkd log"
done
HA_OK=1
echo "ha: ok"
