#!/usr/bin/env bash
# The Debian packages (debian/): built from the committed tree in a clean directory with
# `dpkg-buildpackage -us -uc -b` (Bazel offline, as always), checked with lintian (no
# errors), installed with dpkg -i, then used the way a user would: a real program with
# LD_PRELOAD=libhakmem.so.0 (served check through HAKMEM's JSON report), the hakmem
# launcher, and a program built with pkg-config against libhakmem-dev. Removed at the end.
#   ci/debian_package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HAKMEM_EXTRA_PKGS="debhelper dpkg-dev lintian pkg-config gcc libc6-dev" ./bazelw --install-only
ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
work=$(mktemp -d /tmp/hakmem-deb.XXXXXX)
pkgs="hakmem libhakmem-dev libhakmem0"
cleanup() {
  dpkg -r $pkgs >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
src=$work/hakmem-$ver
mkdir -p "$src"
git archive --format=tar HEAD | tar -x -C "$src"
echo "::: dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
ls "$work"/*.deb
echo "::: lintian"
lintian --fail-on error --suppress-tags-from-file /dev/null "$work"/hakmem_"$ver"_*.changes | tee "$work/lintian.log"
for p in $pkgs; do dpkg-deb -c "$work/${p}_${ver}_"*.deb; done
echo "::: dpkg -i"
dpkg -i "$work"/libhakmem0_"$ver"_*.deb "$work"/libhakmem-dev_"$ver"_*.deb "$work"/hakmem_"$ver"_all.deb
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=/usr/lib/$ma/libhakmem.so.0
[ -f "$lib" ] && readelf -d "$lib" | grep -q 'SONAME.*\[libhakmem.so.0\]' || { echo "no $lib with SONAME libhakmem.so.0"; exit 1; }
served() {  # served FILE: HAKMEM's JSON exit report in FILE shows it served the program
  python3 - "$1" <<'PY'
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
n = s["tiny"]["refills"] + s["pool"]["allocs"] + s["large"]["allocs"]
assert n > 0, s
print("served:", n, "refills and page-heap/large allocations")
PY
}
echo "::: LD_PRELOAD=libhakmem.so.0 sort"
out=$(seq 50000 -1 1 | HAKMEM_STATS=json LD_PRELOAD=libhakmem.so.0 sort -n 2>"$work/st1" | tail -1)
[ "$out" = 50000 ] || { echo "sort printed '$out'"; exit 1; }
served "$work/st1"
echo "::: hakmem --stats=json -- python3"
hakmem --stats=json -- /usr/bin/python3 -c 'print(sum(len(str(i)) for i in range(100000)))' 2>"$work/st2"
served "$work/st2"
man -w hakmem >/dev/null 2>&1 || [ -f /usr/share/man/man1/hakmem.1.gz ] || { echo "no manual page"; exit 1; }
echo "::: pkg-config build against libhakmem-dev"
pkg-config --exists --print-errors hakmem
cat >"$work/app.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "hakmem/hakmem.h"
int main(void) {
  void *p = malloc(1000);
  int ok = p && hak_owns(p);
  free(p);
  printf("linked app: %s\n", ok ? "HAKMEM serves malloc" : "malloc is not HAKMEM");
  return !ok;
}
C
# shellcheck disable=SC2046
cc -O2 -o "$work/app" "$work/app.c" $(pkg-config --cflags --libs hakmem)
readelf -d "$work/app" | grep -q 'NEEDED.*\[libhakmem.so.0\]' || { echo "app does not need libhakmem.so.0"; exit 1; }
"$work/app"
echo "::: dpkg -r"
dpkg -r $pkgs >/dev/null
[ ! -e "$lib" ] && [ ! -e /usr/bin/hakmem ] && [ ! -e /usr/include/hakmem/hakmem.h ] || { echo "the packages left files behind"; exit 1; }
echo "debian packages: built, lintian-clean of errors, installed, served a real program, removed"
