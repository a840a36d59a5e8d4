#!/bin/bash
# Config generator for lab tests: lab_conf N [key=value ...] prints an uplinkd config for
# the lab's N links (wanK, gateway 192.168.K.1), LAN lan0.
#   weights=30,70  tiers=1,1,2  interval=200  timeout=200  down=3  up=3  quorum=1
#   targets=203.0.113.11[,203.0.113.12]  method=icmp  level=debug
#   extra='...'   appended verbatim (rules, sticky, port_forwards, ...)
#   daemon_extra='...'  inside daemon = { }
#   check_extra='...'   inside every link's check = { } (e.g. 'max_rtt_ms = 100;')
#   gw=auto       use gateway = "auto" on every link
lab_conf() {
	local n=$1; shift
	local weights="" tiers="" interval=200 timeout=200 down=3 up=3 quorum=1
	local targets="203.0.113.11" method=icmp level=debug extra="" daemon_extra="" gw=""
	local check_extra=""
	local kv
	for kv in "$@"; do
		case $kv in
		weights=*) weights=${kv#*=} ;; tiers=*) tiers=${kv#*=} ;;
		interval=*) interval=${kv#*=} ;; timeout=*) timeout=${kv#*=} ;;
		down=*) down=${kv#*=} ;; up=*) up=${kv#*=} ;; quorum=*) quorum=${kv#*=} ;;
		targets=*) targets=${kv#*=} ;; method=*) method=${kv#*=} ;; level=*) level=${kv#*=} ;;
		extra=*) extra=${kv#*=} ;; daemon_extra=*) daemon_extra=${kv#*=} ;; gw=*) gw=${kv#*=} ;;
		check_extra=*) check_extra=${kv#*=} ;;
		*) echo "lab_conf: unknown option $kv" >&2; return 2 ;;
		esac
	done
	local tl
	tl=$(echo "$targets" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
	echo "daemon = { log_level = \"$level\"; $daemon_extra };"
	echo 'lan = { interfaces = [ "lan0" ]; networks = [ "10.0.0.0/24", "10.0.1.0/24" ]; };'
	echo "links = ("
	local k w t g
	for ((k = 1; k <= n; k++)); do
		w=$(echo "$weights" | cut -d, -f$k); w=${w:-1}
		t=$(echo "$tiers" | cut -d, -f$k); t=${t:-1}
		g=${gw:-192.168.$k.1}
		[ $k -gt 1 ] && echo "  ,"
		cat <<EOC
  { name = "isp$k"; interface = "wan$k"; gateway = "$g"; weight = $w; tier = $t;
    check = { method = "$method"; targets = [ $tl ]; interval_ms = $interval;
              timeout_ms = $timeout; quorum = $quorum; down_after = $down; up_after = $up;
              $check_extra }; }
EOC
	done
	echo ");"
	[ -n "$extra" ] && echo "$extra"
	return 0
}

# lab_conf6 N [key=value ...]: the same for a dual-stack lab (lab_create N --ipv6): every link
# with gateway6 "auto" (the ISP's advertised router) and IPv6 targets beside the IPv4 ones,
# the LAN's ULA in lan.networks.
#   targets6=2001:db8:ffff::11[,...]  link6='...' (appended inside every link: nat6, prefix6)
#   lan6=fd00:10::/64[,...]  plus the lab_conf keys
lab_conf6() {
	local n=$1; shift
	local targets6="2001:db8:ffff::11" link6="" lan6="fd00:10::/64" kv rest=()
	for kv in "$@"; do
		case $kv in
		targets6=*) targets6=${kv#*=} ;; link6=*) link6=${kv#*=} ;; lan6=*) lan6=${kv#*=} ;;
		*) rest+=("$kv") ;;
		esac
	done
	local t6 l6
	t6=$(echo "$targets6" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
	l6=$(echo "$lan6" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
	lab_conf "$n" "${rest[@]}" |
		sed -e "s|networks = \[ \"10.0.0.0/24\", \"10.0.1.0/24\" \]|networks = [ \"10.0.0.0/24\", \"10.0.1.0/24\", $l6 ]|" \
		    -e "s|gateway = \"\([^\"]*\)\";|gateway = \"\1\"; gateway6 = \"auto\"; $link6|" \
		    -e "s|targets = \[ \([^]]*\) \];|targets = [ \1, $t6 ];|"
}
