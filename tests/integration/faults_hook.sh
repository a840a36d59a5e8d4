#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: a hook that hangs (hook_timeout_s = 1). The hook hangs on "isp1 up -> down"
# (it and a child it started, both ignoring SIGTERM). While it hangs the daemon answers
# status at once and still acts (uplinkctl disable isp2 -> routes change); after 1 s
# the hook and its child are killed and that is logged; the hooks queued behind it then
# run, in the order of the transitions.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
hook=$LABDIR/hook.sh
hlog=$LABDIR/hook.log
cat > "$hook" <<EOH
#!/bin/sh
echo "\$UPLINK_NAME \$UPLINK_PREVIOUS_STATE->\$UPLINK_STATE" >> $hlog
if [ "\$UPLINK_NAME \$UPLINK_STATE" = "isp1 down" ]; then
	trap '' TERM
	: > $LABDIR/hang.started
	sleep 7771 &
	sleep 7772
	echo "isp1 hook not killed" >> $hlog
fi
EOH
chmod +x "$hook"
lab_conf 2 weights=1,1 interval=200 timeout=200 down=3 up=3 \
	daemon_extra="hook = \"$hook\"; hook_timeout_s = 1;" > "$conf"
lab_up "$conf"
for _ in $(seq 30); do [ "$(grep -c . "$hlog" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c . "$hlog")" = 2 ] || lab_fail "start-up hooks: $(cat "$hlog")"

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
lab_cut 1
lab_wait_file "$LABDIR/hang.started" 10 || lab_fail "isp1 not down, or its hook did not start"
t0=$(now_ms)
# while it hangs: commands act at once and routes change, status answers at once
lab_ctl disable isp2 >/dev/null || lab_fail "disable"
# no usable link left: the last resort is isp1 (carrier), in place of the disabled isp2
for _ in 1 2 3 4 5 6 7 8 9 10; do
	r=$(lab_gw ip route show table 250)
	echo "$r" | grep -q wan2 || break
	sleep 0.02
done
a=$(now_ms)
lab_ctl status >/dev/null || lab_fail "status failed while the hook hangs"
worst=$(( $(now_ms) - a ))
grep -q "killed after" "$LABDIR/uplinkd.log" && lab_fail "test too slow: the hook was killed already"
echo "disable applied, status answered in ${worst} ms, $(( $(now_ms) - t0 )) ms into the hang"
echo "$r" | grep -q "dev wan1" && ! echo "$r" | grep -q wan2 ||
	lab_fail "routes not changed while the hook hangs: $r"
[ $worst -lt 500 ] || lab_fail "status took $worst ms while the hook hangs"
pgrep -f "sleep 7772" >/dev/null || lab_fail "the hanging hook is not there"
lab_ctl enable isp2 >/dev/null || lab_fail "enable"
lab_wait_cmd 4 grep -q "hook .* killed after 1s" "$LABDIR/uplinkd.log"
grep -q "hook $hook (isp1 down) killed after 1s" "$LABDIR/uplinkd.log" ||
	lab_fail "the killed hook was not logged"
echo "hook killed and logged $(( $(now_ms) - t0 )) ms after it was seen hanging (timeout 1 s)"
sleep 0.3
pgrep -f "sleep 777[12]" >/dev/null && lab_fail "the hook or its child survived: $(pgrep -af 'sleep 777')"
grep -q "not killed" "$hlog" && lab_fail "the hook ran on after its timeout"

# the queued hooks ran after it, in the order of the transitions
lab_wait_state isp2 up 5 || lab_fail "isp2 not up again"
for _ in $(seq 30); do [ "$(grep -c . "$hlog")" -ge 6 ] && break; sleep 0.1; done
lab_log "hook log: $(tr '\n' ';' < "$hlog")"
expect="isp1 up->down
isp2 up->disabled
isp2 disabled->init
isp2 init->up"
[ "$(sed -n 3,6p "$hlog")" = "$expect" ] || lab_fail "hook order: $(cat "$hlog")"
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1 not back"
for _ in $(seq 30); do grep -q "^isp1 down->up" "$hlog" && break; sleep 0.1; done
grep -q "^isp1 down->up" "$hlog" || lab_fail "hooks stopped running after the kill"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_san_check
echo "faults_hook: ok"
