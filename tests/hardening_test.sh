#!/usr/bin/env bash
# Runs every case of hardening.c in its own process under a timeout (a hang is a failure;
# 150 s leaves room for a loaded CI machine, the slowest case takes ~10 s when idle),
# then the address-space check: a C program preloading libhakmem.so may use at most 16 MiB
# more VmSize than under glibc alone.
set -u
bin=$1 probe=$2 preload=$3
fails=0
for c in $("$bin"); do
  env=()
  [ "$c" = pass_realloc ] && env=(HAKMEM_INVALID_FREE=pass)
  out=$(env "${env[@]}" timeout 150 "$bin" "$c" 2>&1); rc=$?
  if [ "$rc" = 0 ]; then echo "ok   $c"; else echo "FAIL $c (rc=$rc): $(echo "$out" | tail -3)"; fails=$((fails + 1)); fi
done
plain=$("$probe") pre=$(LD_PRELOAD="$PWD/$preload" "$probe")
echo "VmSize at start: glibc ${plain} kB, HAKMEM ${pre} kB (+$((pre - plain)) kB, limit +16384)"
[ $((pre - plain)) -le 16384 ] || { echo "FAIL vmsize"; fails=$((fails + 1)); }
echo "$fails failed"
[ "$fails" = 0 ]
