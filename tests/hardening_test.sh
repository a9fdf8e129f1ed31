#!/usr/bin/env bash
# Runs every case of hardening.c in its own process under a timeout (a hang is a failure;
# 150 s leaves room for a loaded CI machine, the slowest case takes ~10 s when idle),
# then the address-space check: under `ulimit -v`, a C program with a block of each tier live
# may use at most 3 MiB more VmSize preloading libhakmem.so than under glibc alone (34 MiB
# more while a page-heap arena mapped its whole 32 MiB window whatever the limit, 3.6 MiB
# while SuperSlabs were mapped whole; 1.9 MiB with slabs mapped as they are taken).
set -u
bin=$1 probe=$2 preload=$3
fails=0
for c in $("$bin"); do
  env=()
  [ "$c" = pass_realloc ] && env=(HAKMEM_INVALID_FREE=pass)
  out=$(env "${env[@]}" timeout 150 "$bin" "$c" 2>&1); rc=$?
  if [ "$rc" = 0 ]; then echo "ok   $c"; else echo "FAIL $c (rc=$rc): $(echo "$out" | tail -3)"; fails=$((fails + 1)); fi
done
# Under a limit (4 GiB here), as `ulimit -v` sets one: without a limit HAKMEM reserves each
# page-heap arena's whole 32 MiB window (PROT_NONE, no memory), which only VmSize shows.
plain=$(ulimit -v 4194304; "$probe") pre=$(ulimit -v 4194304; LD_PRELOAD="$PWD/$preload" "$probe")
echo "VmSize at start: glibc ${plain} kB, HAKMEM ${pre} kB (+$((pre - plain)) kB, limit +3072)"
[ $((pre - plain)) -le 3072 ] || { echo "FAIL vmsize"; fails=$((fails + 1)); }
echo "$fails failed"
[ "$fails" = 0 ]
