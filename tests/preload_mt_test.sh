#!/usr/bin/env bash
# preload_mt under LD_PRELOAD=libhakmem.so (HAKMEM's exit report must show it served the
# program and saw no invalid free), then the same program linked with malloc = "//hakmem".
set -eu
prog=$1 lib=$2 linked=$3
out=$(HAKMEM_STATS=json LD_PRELOAD="$PWD/$lib" "$prog" 2>"$TEST_TMPDIR/stats")
echo "$out"
[ "$out" = "preload_mt: ok" ]
stats=$(grep '^{"version"' "$TEST_TMPDIR/stats" | tail -1)
echo "$stats"
refills=$(echo "$stats" | sed -n 's/.*"tiny":{[^}]*"refills":\([0-9]*\).*/\1/p')
invalid=$(echo "$stats" | sed -n 's/.*"invalid_frees":\([0-9]*\).*/\1/p')
[ -n "$refills" ] && [ "$refills" -gt 0 ] || { echo "HAKMEM did not serve the program"; exit 1; }
[ "$invalid" = 0 ] || { echo "invalid frees reported"; exit 1; }
# A program that closes fd 2 before exit still gets the report (on the copy taken at start).
HAKMEM_STATS=json LD_PRELOAD="$PWD/$lib" "$prog" --close-stderr >/dev/null 2>"$TEST_TMPDIR/stats2"
grep -q '^{"version"' "$TEST_TMPDIR/stats2" || { echo "exit report lost when the program closed stderr"; exit 1; }
out=$("$linked")
echo "linked: $out"
[ "$out" = "preload_mt: ok" ]
