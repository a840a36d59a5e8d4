#!/bin/bash
# Kernel-facing modules (rtnetlink, nftables, ctnetlink) against the real kernel, each
# kt_* binary in a fresh network namespace of its own.
. "$(dirname "$0")/../lab/lab.sh"
lab_require_root
rc=0
for kt in "$UL_BUILD"/kernel/kt_*; do
	[ -x "$kt" ] || continue
	ns="ulkt$$-$(basename "$kt")"
	ip netns add "$ns" || exit 1
	ip -n "$ns" link set lo up
	if ! ip netns exec "$ns" "$kt"; then echo "FAILED: $kt"; rc=1; fi
	ip netns del "$ns"
done
exit $rc
