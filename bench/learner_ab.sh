#!/usr/bin/env bash
# bazel run //bench:learner_ab -- [runs (5)] [bench_shift args]
# The learner's value and cost, measured in one run:
#   * bench_shift (shifting size bands) with the learner build, HAKMEM_LEARN=1 vs =0 (the
#     frozen defaults), interleaved, medians of throughput and peak RSS;
#   * the cost when off: callgrind instructions of bench_random_mixed (2M ops) for the
#     default build (learner compiled out) and the learner build with HAKMEM_LEARN=0.
set -euo pipefail
WS="${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench:learner_ab}"
cd "$WS"
runs=${1:-5}
shift || true
# Bursts of 1024 blocks: more than the default thread-cache capacity of the 1–32 KiB classes,
# so a fixed CAP refills and flushes constantly and the learner has something to win. (At
# bursts of 192 the depot and batched refill already absorb the traffic: 0.99x there.)
args=${*:-60000000 1024 5000000}
HAKMEM_EXTRA_PKGS="valgrind" ./bazelw --install-only
./bazelw build --config=opt //hakmem:libhakmem.so //bench:all_benches >/dev/null 2>&1
./bazelw build --config=opt --//cfg:learner=true --platform_suffix=optlearner //hakmem:libhakmem.so >/dev/null 2>&1
DEF="$(./bazelw info --config=opt bazel-bin 2>/dev/null)"
LRN="$(./bazelw info --config=opt --//cfg:learner=true --platform_suffix=optlearner bazel-bin 2>/dev/null)"
tmp=$(mktemp -d)
for i in $(seq "$runs"); do
  for mode in 0 1; do
    line=$(HAKMEM_LEARN=$mode LD_PRELOAD="$LRN/hakmem/libhakmem.so" "$DEF/bench/bench_shift" $args)
    echo "$line" | grep -q "allocator=hakmem" || { echo "INVALID: HAKMEM did not serve the run: $line"; exit 1; }
    echo "$line" | sed -n 's/.*mops=\([0-9.]*\) peak_rss_kb=\([0-9]*\).*/\1 \2/p' >>"$tmp/learn$mode"
    echo "run $i HAKMEM_LEARN=$mode: $line"
  done
done
med() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
m0=$(cut -d' ' -f1 "$tmp/learn0" | med) m1=$(cut -d' ' -f1 "$tmp/learn1" | med)
r0=$(cut -d' ' -f2 "$tmp/learn0" | med) r1=$(cut -d' ' -f2 "$tmp/learn1" | med)
echo
echo "| bench_shift $args | Mops (median of $runs) | peak RSS KiB (median) |"
echo "|---|---|---|"
echo "| frozen defaults (HAKMEM_LEARN=0) | $m0 | $r0 |"
echo "| learner (HAKMEM_LEARN=1) | $m1 | $r1 |"
echo "| ratio learner / frozen | $(awk "BEGIN{printf \"%.2f\", $m1/$m0}") | $(awk "BEGIN{printf \"%.2f\", $r1/$r0}") |"
cg() {
  rm -f "$tmp"/cg.*
  env "$@" valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.%p" \
    "$DEF/bench/bench_random_mixed" 2000000 256 42 16 1024 >/dev/null 2>&1
  callgrind_annotate "$(ls -S "$tmp"/cg.* | head -1)" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}
i0=$(cg LD_PRELOAD="$DEF/hakmem/libhakmem.so")
i1=$(cg HAKMEM_LEARN=0 LD_PRELOAD="$LRN/hakmem/libhakmem.so")
echo
echo "cost when off (callgrind, bench_random_mixed 2M ops): default build $i0 instructions;"
echo "learner build with HAKMEM_LEARN=0 $i1 instructions ($(awk "BEGIN{printf \"%+.2f\", ($i1-$i0)*100/$i0}") %)"
rm -rf "$tmp"
