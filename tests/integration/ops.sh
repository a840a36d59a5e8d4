#!/bin/bash
# Operations: status (table and JSON schema), metrics, disable/enable across reloads,
# reload with bad and good configs without breaking connections, hook environment and
# order, garbage on the control socket.
. "$(dirname "$0")/../lab/lab.sh"
lab_test 2 --bcp38
hook=$LABDIR/hook.sh
cat > "$hook" <<EOH
#!/bin/sh
echo "\$UPLINK_NAME \$UPLINK_INTERFACE \$UPLINK_PREVIOUS_STATE->\$UPLINK_STATE active=\$UPLINK_ACTIVE" >> $LABDIR/hook.log
EOH
chmod +x "$hook"
mkconf() { lab_conf 2 weights=1,1 daemon_extra="hook = \"$hook\"; hook_timeout_s = 5;" "$@" > "$conf"; }
mkconf
lab_up "$conf"

# status --json: exactly the contract's schema
json=$(lab_ctl status --json) || lab_fail "status --json failed"
echo "$json" | jq -e '
  (keys_unsorted == ["version","uptime_s","links"]) and (.version | type == "string") and
  (.uptime_s | type == "number") and (.links | length == 2) and
  all(.links[]; keys_unsorted == ["name","interface","state","carrier","active","tier",
      "weight","rtt_ms","loss_pct","since_s","transitions","tx_bytes","rx_bytes",
      "tx_packets","rx_packets","connections"] and
      all(.tx_bytes, .rx_bytes, .tx_packets, .rx_packets, .connections; type == "number") and
      (.state | IN("init","up","degraded","down","disabled")) and (.carrier | type == "boolean")
      and (.active | type == "boolean") and (.rtt_ms | type == "number" or . == null))' \
	>/dev/null || lab_fail "status JSON does not match the schema: $json"
[ "$(echo "$json" | jq -r '.links[0].name + " " + .links[0].interface + " " + .links[0].state')" = "isp1 wan1 up" ] ||
	lab_fail "status JSON content: $json"
table=$(lab_ctl status) || lab_fail "status failed"
echo "$table" | head -1 | grep -q "LINK" || lab_fail "status table header: $table"
echo "$table" | grep -q "^isp2 .*wan2 .*up" || lab_fail "status table row: $table"

# metrics: Prometheus text format
metrics=$(lab_ctl metrics) || lab_fail "metrics failed"
echo "$metrics" | grep -vE '^(# (HELP|TYPE) [a-z_]+ .*|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+|)$' \
	| head -3 | grep . && lab_fail "metrics lines not in exposition format"
for m in uplinkd_link_state uplinkd_link_rtt_seconds uplinkd_link_transitions_total \
	 uplinkd_probes_sent_total uplinkd_link_active; do
	echo "$metrics" | grep -q "^$m" || lab_fail "metric $m missing"
done
echo "$metrics" | grep -q '^uplinkd_link_state{link="isp1",state="up"} 1' || lab_fail "state metric"

# a connection held across everything below
lab_hold 5 203.0.113.10 5001 6 10
holdpid=$LAB_BG_PID

# disable survives a reload; enable brings the link back
lab_ctl disable isp1 | grep -q "disabled" || lab_fail "disable"
lab_wait_state isp1 disabled 2 || lab_fail "isp1 not disabled"
sleep 0.3
out=$(lab_lan "$TCPSRC" count 203.0.113.10 5001 30 -p 4)
echo "$out" | grep -q "^192.168.1.2 " && lab_fail "disabled link carries new connections: $out"
lab_ctl disable nosuchlink 2>/dev/null && lab_fail "disable of an unknown link succeeded"
mkconf
lab_ctl reload >/dev/null || lab_fail "good reload failed"
lab_wait_state isp1 disabled 1 || lab_fail "disable did not survive the reload"
lab_wait_state isp2 up 1 || lab_fail "isp2 lost its state on reload"

# a bad config is refused with its errors, and nothing changes
sed -i '0,/weight = 1;/s//weight = 999;/' "$conf"
err=$(lab_ctl reload 2>&1) && lab_fail "bad reload accepted"
echo "$err" | grep -q "weight" || lab_fail "bad reload error does not name the key: $err"
lab_wait_state isp2 up 1 || lab_fail "bad reload disturbed isp2"
mkconf
lab_ctl enable isp1 >/dev/null || lab_fail "enable"
lab_wait_state isp1 up 10 || lab_fail "isp1 not up after enable"
wait $holdpid || lab_fail "held connections broke during reloads: $(cat "$LABDIR/hold.out")"

# hook: every transition, in order, with the contract's environment
for _ in $(seq 50); do [ "$(grep -c . "$LABDIR/hook.log" 2>/dev/null)" -ge 6 ] && break; sleep 0.1; done
lab_log "hook log: $(cat "$LABDIR/hook.log")"
grep -q "^isp1 wan1 init->up active=" "$LABDIR/hook.log" || lab_fail "hook: init->up missing"
grep -q "^isp1 wan1 up->disabled active=isp2$" "$LABDIR/hook.log" || lab_fail "hook: disable missing"
grep -q "^isp1 wan1 disabled->init active=" "$LABDIR/hook.log" || lab_fail "hook: enable missing"
grep -q "^isp1 wan1 init->up active=isp1,isp2$" "$LABDIR/hook.log" || lab_fail "hook: final up missing"
[ "$(grep -n "isp1 wan1 up->disabled" "$LABDIR/hook.log" | cut -d: -f1)" -lt \
  "$(grep -n "isp1 wan1 disabled->init" "$LABDIR/hook.log" | cut -d: -f1)" ] || lab_fail "hook order"

# garbage on the control socket: error replies, the daemon carries on
sock=$LABDIR/ctl.sock
r=$(printf 'bogus request\n' | lab_gw socat -t 2 - UNIX-CONNECT:"$sock")
[ "${r%% *}" = ERR ] || lab_fail "unknown request answer: $r"
r=$(head -c 5000 /dev/zero | tr '\0' 'a' | lab_gw socat -t 2 - UNIX-CONNECT:"$sock")
[ "${r%% *}" = ERR ] || lab_fail "oversized request answer: $r"
r=$(printf 'sta\0tus\n' | lab_gw socat -t 2 - UNIX-CONNECT:"$sock")
[ "${r%% *}" = ERR ] || lab_fail "NUL request answer: $r"
head -c 3000 /dev/urandom | lab_gw socat -t 1 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
pids=()
for _ in $(seq 30); do lab_gw socat -T 5 /dev/null UNIX-CONNECT:"$sock" & pids+=($!); done
# with more than its 16 client places taken a daemon says "ERR busy" (faults_control.sh) and
# drops idle clients within its 2 s client timeout: status is answered within 3 s
ok=0
for _ in $(seq 30); do
	out=$(lab_ctl status 2>&1) && { ok=1; break; }
	case $out in *busy*|*"Broken pipe"*|*"reset"*) sleep 0.1 ;; *) break ;; esac
done
[ $ok = 1 ] || lab_fail "status not answered while 30 idle clients hang on: $out"
wait "${pids[@]}"
lab_ctl status >/dev/null || lab_fail "daemon does not answer after garbage"
[ "$(stat -c %a "$sock")" = 660 ] || lab_fail "control socket mode $(stat -c %a "$sock")"
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "ops: ok"
