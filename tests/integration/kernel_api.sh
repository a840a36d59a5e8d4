#!/bin/bash
# Kernel-facing modules (rtnetlink, nftables, ctnetlink) against the real kernel, each
# kt_* binary in a fresh network namespace of its own.
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
lab_begin
# A kt_* binary that exits 77 (what it needs is missing here) is a skip, not a failure; the
# whole test is a skip only when nothing ran.
rc=0 ran=0 skipped=0
for kt in "$UL_BUILD"/kernel/kt_*; do
	[ -x "$kt" ] || continue
	ns="$LAB-$(basename "$kt")"
	ip netns add "$ns" || exit 1
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$kt"; st=$?
	ip netns del "$ns"
	case $st in
	0) ran=$((ran + 1)) ;;
	77) skipped=$((skipped + 1)); echo "SKIPPED: $kt" ;;
	*) echo "FAILED: $kt (exit status $st)"; rc=1 ;;
	esac
done
echo "kernel_api: $ran passed, $skipped skipped"
[ $rc = 0 ] && [ $ran = 0 ] && [ $skipped -gt 0 ] && exit 77
exit $rc
