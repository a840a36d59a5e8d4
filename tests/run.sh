#!/bin/bash
# Run the suite: cmocka unit binaries, then integration scripts (each in its own
# namespaces), then system tests (tests/system: the daemon under a real systemd in a
# container). Prints one line per test and a closing "N passed, N failed, N skipped".
# usage: tests/run.sh BUILD_DIR [unit|integration|system] [NAME-FILTER]
set -u
B=${1:?build dir}; what=${2:-all}; filter=${3:-}
cd "$(dirname "$0")/.." || exit 2
case $B in /*) export UL_BUILD="$B" ;; *) export UL_BUILD="$PWD/$B" ;; esac
pass=0; fail=0; skip=0; failed=""
log_dir="$B/test-logs"; mkdir -p "$log_dir"

run_one() {  # name, command...
	local name=$1; shift
	local log="$log_dir/$name.log" t0 t1 rc
	mkdir -p "$(dirname "$log")"
	t0=${EPOCHREALTIME/./}
	"$@" >"$log" 2>&1; rc=$?
	t1=${EPOCHREALTIME/./}
	local ms=$(( (t1 - t0) / 1000 )) dt
	dt="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
	if [ $rc = 0 ]; then pass=$((pass+1)); echo "PASS $name (${dt}s)"
	elif [ $rc = 77 ]; then skip=$((skip+1)); echo "SKIP $name: $(tail -n1 "$log")"
	else fail=$((fail+1)); failed="$failed $name"; echo "FAIL $name (rc $rc, ${dt}s), last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$B"/tests/*/test_*; do
		[ -x "$t" ] || continue
		n=${t#"$B"/tests/}; [ -n "$filter" ] && [[ $n != *$filter* ]] && continue
		run_one "unit/$n" "$t"
	done
fi
# run_scripts KIND TIMEOUT_S: every tests/KIND/*.sh (matching the filter), bounded
run_scripts() {
	local kind=$1 limit=$2 t n
	for t in tests/"$kind"/*.sh; do
		[ -e "$t" ] || continue
		n=$(basename "$t" .sh); [ -n "$filter" ] && [[ $n != *$filter* ]] && continue
		run_one "$kind/$n" timeout -k 10 "$limit" bash "$t"
	done
}
if [ "$what" = all ] || [ "$what" = integration ]; then
	run_scripts integration 300
fi
if [ "$what" = all ] || [ "$what" = system ]; then
	run_scripts system 180
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
