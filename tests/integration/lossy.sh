#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Health checks on a lossy link: 20 % random loss in EACH direction on isp1 for 60 s
# (LOSSY_S), two targets, quorum 1, down_after 3, 200 ms probes: isp1 must not change state
# (status JSON transitions and the log's transition lines). Then a total cut must still be
# declared within a generous bound (the design bound is 3 rounds = 600 ms + one round in
# flight; timings belong in bench/).
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
lab_create 2
conf=$LABDIR/uplinkd.conf
SECS=${LOSSY_S:-60}
lab_conf 2 interval=200 timeout=200 down=3 up=3 quorum=1 level=info \
	targets=203.0.113.11,203.0.113.12 >"$conf"
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"
before=$(lab_link_field isp1 transitions) || lab_fail "no transitions field"
lines_before=$(grep -c '^.*link isp1: ' "$LABDIR/uplinkd.log" || true)

lab_loss 1 20 both
# the loss is really there: the ISP's drop counters move in both directions
sleep 2
drops=$(lab_isp 1 nft list chain inet labctl loss | grep -c 'packets [1-9]')
[ "$drops" = 2 ] || lab_fail "loss rules did not drop in both directions: $(lab_isp 1 nft list chain inet labctl loss)"
sleep $((SECS - 2))
loss=$(lab_link_field isp1 loss_pct)
state=$(lab_link_field isp1 state)
lab_loss 1 0
after=$(lab_link_field isp1 transitions)
lines_after=$(grep -c '^.*link isp1: ' "$LABDIR/uplinkd.log" || true)
echo "20% loss each way for ${SECS} s: isp1 $state, transitions $before -> $after," \
	"probe loss over the last 10 rounds $loss %"
[ "$before" = "$after" ] || lab_fail "isp1 changed state under 20% loss ($before -> $after)"
[ "$lines_before" = "$lines_after" ] || lab_fail "transition lines logged under loss: $(grep 'link isp1: ' "$LABDIR/uplinkd.log")"
[ "$state" = up ] || lab_fail "isp1 is $state after the lossy minute"
# the status shows the loss per packet (tries): about 36 % expected; 0 would mean the
# loss was not seen at all
awk -v l="$loss" 'BEGIN { exit !(l > 0) }' || lab_fail "status loss_pct $loss: no loss seen"

# a total outage is still found quickly
t0=$(now_ms)
lab_cut 1
while [ $(( $(now_ms) - t0 )) -lt 10000 ]; do
	[ "$(lab_link_field isp1 state)" = down ] && break
	sleep 0.02
done
dt=$(( $(now_ms) - t0 ))
echo "total cut: isp1 down after $dt ms"
[ "$(lab_link_field isp1 state)" = down ] || lab_fail "isp1 not down 10 s after a total cut"
[ "$dt" -le 3000 ] || lab_fail "outage detection took $dt ms (> 3000, design: <= 800)"
grep -q 'link isp1: up -> down (3 of 3 rounds failed)' "$LABDIR/uplinkd.log" ||
	lab_fail "transition line missing"
lab_heal 1
lab_wait_state isp1 up 10 || lab_fail "isp1 not back after the heal"
lab_traffic_via 1 40 || lab_fail "no traffic by isp1 after the heal"
lab_san_check
lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
echo "lossy: ok"
