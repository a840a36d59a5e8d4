#!/bin/sh
# Build the Debian package in a clean copy of the source tree (the tracked files and new
# ones git does not ignore, as they are now), so that the working tree, its build/ and
# its parent directory are left alone.
#   contrib/deb-build.sh OUTDIR [VERSION]
# leaves uplinkd_<version>_<arch>.deb (and the dbgsym, .buildinfo, .changes) in OUTDIR.
# VERSION, e.g. 1.0.0+local1, adds a changelog entry in the copy first (a local rebuild).
# DEB_BUILD_OPTIONS passes through (e.g. nocheck).
set -eu
out=${1:?usage: contrib/deb-build.sh OUTDIR [VERSION]}
version=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
case $out in /*) ;; *) out=$PWD/$out ;; esac

rm -rf "$out"
mkdir -p "$out/uplinkd"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# --ignore-failed-read: a tracked file deleted in the working tree is just absent
	git ls-files -z -c -o --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$out/uplinkd" -xf -
else
	tar --exclude='./build*' --exclude=./.git -cf - . | tar -C "$out/uplinkd" -xf -
fi
cd "$out/uplinkd"
rm -rf build build-*
if [ -n "$version" ]; then
	{
		printf 'uplinkd (%s) unstable; urgency=medium\n\n  * Local rebuild.\n\n' "$version"
		printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' debian/changelog | head -n1)" \
			"$(date -R)"
		cat debian/changelog
	} > debian/changelog.new
	mv debian/changelog.new debian/changelog
fi
dpkg-buildpackage -us -uc -b -j"${DEB_JOBS:-2}"
