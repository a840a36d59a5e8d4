#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A set that another program fills: a real dnsmasq on the gateway resolves for the LAN through
# the lab's Internet host (a dnsmasq there is authoritative for video.example) and adds the
# answers to uplinkd's dynamic set (--nftset=/video.example/4#inet#uplinkd#streaming4); then
# connections to the name's address go by the link the rule names (isp2), other traffic is
# balanced, and the element survives a reload.
. "$(dirname "$0")/../lab/lab.sh"
. "$(dirname "$0")/../lab/conf.sh"
lab_require_root
"$(dirname "$0")/../lab/deps.sh" dnsmasq-base >/dev/null 2>&1 || true
command -v dnsmasq >/dev/null || { echo "sets_dnsmasq: dnsmasq missing"; exit 77; }
dnsmasq --version | grep -q nftset || { echo "sets_dnsmasq: dnsmasq without nftset"; exit 77; }
lab_create 2
conf=$LABDIR/uplinkd.conf
lab_conf 2 interval=200 timeout=200 level=debug \
	extra='sets = ( { name = "streaming4"; type = "ipv4"; timeout_s = 3600; },
		{ name = "streaming6"; type = "ipv6"; timeout_s = 3600; } );
rules = ( { name = "video"; dst_set = [ "streaming4", "streaming6" ]; via = [ "isp2" ]; } );' >"$conf"
lab_uplinkd_start "$conf"
lab_all_up 10 || lab_fail "links not up"

# the Internet's name server, and the gateway's resolver that fills the set
dm() { echo dnsmasq -k -C /dev/null --no-resolv --no-hosts --bind-interfaces -u root --pid-file= "$@"; }
lab_bg net $(dm --listen-address=203.0.113.19 --address=/video.example/203.0.113.14 \
	--log-queries --log-facility="$LABDIR/dns-net.log") >/dev/null 2>&1
lab_bg gw $(dm --listen-address=10.0.0.1 --server=203.0.113.19 \
	--nftset=/video.example/4#inet#uplinkd#streaming4 \
	--log-queries --log-facility="$LABDIR/dns-gw.log") >/dev/null 2>&1
sleep 0.5

# a LAN host looks the name up (probe_tool's dns probe: one query, any answer)
lab_lan "$UL_BUILD/lab/probe_tool" run -n video.example dns - 10.0.0.2 0 1 500 2000 10.0.0.1:53 \
	>"$LABDIR/probe.out" 2>&1 || true
for _ in $(seq 30); do
	lab_gw nft list set inet uplinkd streaming4 | grep -q 203.0.113.14 && break
	sleep 0.1
done
lab_gw nft list set inet uplinkd streaming4 | grep -q "203.0.113.14 expires" || {
	cat "$LABDIR/probe.out" "$LABDIR/dns-gw.log" "$LABDIR/dns-net.log" 2>/dev/null
	lab_fail "dnsmasq did not put 203.0.113.14 into streaming4 (with a timeout)"
}
grep -q "video.example.*203.0.113.19" "$LABDIR/dns-gw.log" ||
	lab_fail "the gateway's dnsmasq did not ask the Internet host"
lab_log "dnsmasq filled streaming4: $(lab_gw nft list set inet uplinkd streaming4 | grep -o '203.0.113.14 expires [^ ,}]*')"

# connections to the name's address: all by isp2; to another address: both links
out=$(lab_lan "$LAB_TCPSRC" count 203.0.113.14 "$LAB_PORT" 24 -p 4 -t 2000)
echo "$out" | grep -q "^fail 0$" && echo "$out" | grep -q "^192.168.2.2 24$" ||
	{ echo "$out"; lab_fail "203.0.113.14 not all by isp2"; }
out=$(lab_lan "$LAB_TCPSRC" count 203.0.113.10 "$LAB_PORT" 40 -p 4 -t 2000)
echo "$out" | grep -q "^192.168.1.2 " && echo "$out" | grep -q "^192.168.2.2 " ||
	{ echo "$out"; lab_fail "203.0.113.10 not balanced over both links"; }

# the element survives a reload (and a change of the config that keeps the set)
lab_conf 2 interval=300 timeout=200 level=debug \
	extra='sets = ( { name = "streaming4"; type = "ipv4"; timeout_s = 3600; },
		{ name = "streaming6"; type = "ipv6"; timeout_s = 3600; } );
rules = ( { name = "video"; dst_set = [ "streaming4", "streaming6" ]; via = [ "isp2" ]; } );' >"$conf"
lab_ctl reload >/dev/null || lab_fail "reload failed"
lab_ctl status >/dev/null
sleep 0.5
lab_gw nft list set inet uplinkd streaming4 | grep -q 203.0.113.14 || lab_fail "the reload emptied streaming4"
out=$(lab_lan "$LAB_TCPSRC" count 203.0.113.14 "$LAB_PORT" 12 -p 4 -t 2000)
echo "$out" | grep -q "^192.168.2.2 12$" || { echo "$out"; lab_fail "after reload: not by isp2"; }

lab_uplinkd_stop || lab_fail "uplinkd exit status $?"
lab_log "sets_dnsmasq: ok"
exit 0
