#!/usr/bin/env bash
# Runs every case of hardening.c in its own process under a timeout (a hang is a failure;
# 150 s leaves room for a loaded CI machine, the slowest case takes ~10 s when idle),
# then the address-space check: a C program with a block of each tier live may use at most
# 8 MiB more VmSize preloading libhakmem.so than under glibc alone (`ulimit -v`; 34 MiB
# more while a page-heap arena mapped its whole 32 MiB window).
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
echo "VmSize at start: glibc ${plain} kB, HAKMEM ${pre} kB (+$((pre - plain)) kB, limit +8192)"
[ $((pre - plain)) -le 8192 ] || { echo "FAIL vmsize"; fails=$((fails + 1)); }
echo "$fails failed"
[ "$fails" = 0 ]
