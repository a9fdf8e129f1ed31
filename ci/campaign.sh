#!/usr/bin/env bash
# The long runs behind the closing notes (not part of CI): every stress mode for
# STRESS_SECONDS (default 600) under --config=opt and --config=tsan side by side, then every
# fuzzer for FUZZ_SECONDS (default 600) with its dictionary, two at a time, new units in a
# corpus; and the full workload sweep (bench/sweep: every cell, 5 runs, under glibc, HAKMEM
# and the Debian peers). Logs, a summary, crash artifacts ($f-crash-*), the new corpus units
# (corpus-new/<fuzzer>/) and the sweep's table and heat map (sweep/) go to $1 (default
# /tmp/hakmem-campaign).
#   bash ci/campaign.sh [out-dir] [stress|fuzz|sweep|all]
set -u
cd "$(dirname "$0")/.."
out=${1:-/tmp/hakmem-campaign}
what=${2:-all}
ssecs=${STRESS_SECONDS:-600} fsecs=${FUZZ_SECONDS:-600} threads=${STRESS_THREADS:-4}
mkdir -p "$out"
fail=0
if [ "$what" = sweep ] || [ "$what" = all ]; then
  ./bazelw run //bench:sweep -- --runs 5 --out "$out/sweep" >"$out/sweep.log" 2>&1 || { echo "campaign: sweep FAILED"; fail=1; }
  tail -60 "$out/sweep.log"
fi
if [ "$what" = stress ] || [ "$what" = all ]; then
  ./bazelw build --config=opt //stress:stress >/dev/null 2>&1 && ./bazelw build --config=tsan //stress:stress >/dev/null 2>&1 ||
    { echo "campaign: stress build failed"; exit 1; }
  OPT="$(./bazelw info --config=opt bazel-bin 2>/dev/null)/stress/stress"
  TSAN="$(./bazelw info --config=tsan bazel-bin 2>/dev/null)/stress/stress"
  for m in churn prodcons xfree realloc fork larson mix forkexit; do
    "$OPT" --mode=$m --threads="$threads" --seconds="$ssecs" >"$out/stress-opt-$m.log" 2>&1 &
    a=$!
    TSAN_OPTIONS="halt_on_error=1" "$TSAN" --mode=$m --threads="$threads" --seconds="$ssecs" >"$out/stress-tsan-$m.log" 2>&1 &
    b=$!
    wait $a || { echo "campaign: opt $m FAILED"; fail=1; }
    wait $b || { echo "campaign: tsan $m FAILED"; fail=1; }
    echo "opt:  $(grep '^stress ' "$out/stress-opt-$m.log")"
    echo "tsan: $(grep '^stress ' "$out/stress-tsan-$m.log")"
  done | tee "$out/stress-summary.txt"
fi
if [ "$what" = fuzz ] || [ "$what" = all ]; then
  fuzzers=$(sed -n 's/^ *name = "\([a-z_]*_fuzzer\)",/\1/p' fuzz/BUILD.bazel)
  ./bazelw build --config=fuzz $(for f in $fuzzers; do echo "//fuzz:$f"; done) >/dev/null 2>&1 || { echo "campaign: fuzz build failed"; exit 1; }
  BIN=$(./bazelw info --config=fuzz bazel-bin 2>/dev/null)
  run_one() {
    local f=$1 corpus work dict=()
    corpus=$(sed -n "/name = \"$f\"/,/)/s/.*corpus = \"\\([a-z_]*\\)\".*/\\1/p" fuzz/BUILD.bazel)
    work=$out/corpus-new/$f   # new units, kept for the nightly workflow's artifact
    mkdir -p "$work"
    [ -f "fuzz/dict/$corpus.dict" ] && dict=(-dict="fuzz/dict/$corpus.dict")
    if "$BIN/fuzz/$f" -max_total_time="$fsecs" -print_final_stats=1 -artifact_prefix="$out/$f-" "${dict[@]}" "$work" \
      "fuzz/corpus/$corpus" >"$out/fuzz-$f.log" 2>&1; then
      echo "$f: ok $(grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$out/fuzz-$f.log" | tr '\n' ' ')" \
        "$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/a-zA-Z]+' "$out/fuzz-$f.log" | tail -1) new_units=$(ls "$work" | wc -l)"
    else
      echo "$f: CRASH (see $out/fuzz-$f.log)"
    fi
  }
  set -- $fuzzers
  while [ $# -gt 0 ]; do
    run_one "$1" >"$out/r1" &
    a=$!
    if [ $# -gt 1 ]; then run_one "$2" >"$out/r2" & b=$!; wait $b; cat "$out/r2"; fi
    wait $a
    cat "$out/r1"
    shift; [ $# -gt 0 ] && shift
  done | tee "$out/fuzz-summary.txt"
  grep -q CRASH "$out/fuzz-summary.txt" && fail=1
fi
exit $fail
