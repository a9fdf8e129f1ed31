#!/usr/bin/env bash
# Runs every fuzzer briefly: libFuzzer under ASan+UBSan (FUZZ_SECONDS each, default 45),
# one under MSan, one on the fault-injection build, and an AFL++ build plus a short afl-fuzz
# run of the same harness.
# New corpus units go to a temporary directory, never into the source tree.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-45}
fuzzers=$(sed -n 's/^ *name = "\([a-z_]*_fuzzer\)",/\1/p' fuzz/BUILD.bazel)
fail=0
./bazelw build --config=fuzz $(for f in $fuzzers; do echo "//fuzz:$f"; done) >/dev/null 2>&1 || { echo "fuzz build failed"; exit 1; }
BIN=$(./bazelw info --config=fuzz bazel-bin 2>/dev/null)
for f in $fuzzers; do
  corpus=$(sed -n "/name = \"$f\"/,/)/s/.*corpus = \"\\([a-z_]*\\)\".*/\\1/p" fuzz/BUILD.bazel)
  work=$(mktemp -d)
  dict=()
  [ -f "fuzz/dict/$corpus.dict" ] && dict=(-dict="fuzz/dict/$corpus.dict")
  if "$BIN/fuzz/$f" -max_total_time="$secs" -artifact_prefix="$work/" "${dict[@]}" "$work" "fuzz/corpus/$corpus" >"$work/log" 2>&1; then
    echo "$f (asan+ubsan): $(grep -E '^Done' "$work/log")  $(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/a-z]+' "$work/log" | tail -1)"
  else
    echo "$f (asan+ubsan): CRASH"; grep -A20 -E "ERROR|_fuzzer:|hakmem:" "$work/log" | head -40; ls "$work"/crash-* 2>/dev/null; fail=1
  fi
  rm -rf "$work"
done
# MSan: the op-sequence fuzzer under MemorySanitizer.
if ./bazelw build --config=fuzz-msan //fuzz:ops_fuzzer >/dev/null 2>&1; then
  MB=$(./bazelw info --config=fuzz-msan bazel-bin 2>/dev/null)
  work=$(mktemp -d)
  if "$MB/fuzz/ops_fuzzer" -max_total_time="$((secs / 2))" "$work" fuzz/corpus/ops >"$work/log" 2>&1; then
    echo "ops_fuzzer (msan): $(grep -E '^Done' "$work/log")"
  else
    echo "ops_fuzzer (msan): CRASH"; grep -A20 -E "WARNING|ERROR" "$work/log" | head -30; fail=1
  fi
  rm -rf "$work"
else
  echo "ops_fuzzer (msan): build failed"; fail=1
fi
# AFL++: the same harness through libAFLDriver (persistent mode).
if ./bazelw build --config=afl //fuzz:ops_fuzzer >/dev/null 2>&1; then
  AB=$(./bazelw info --config=afl bazel-bin 2>/dev/null)
  out=$(mktemp -d)
  AFL_NO_UI=1 timeout $((secs / 3 + 30)) afl-fuzz -V $((secs / 3)) -i fuzz/corpus/ops -o "$out" -- "$AB/fuzz/ops_fuzzer" >"$out/log" 2>&1
  crashes=$(sed -n 's/^saved_crashes *: //p' "$out/default/fuzzer_stats" 2>/dev/null)
  execs=$(sed -n 's/^execs_done *: //p' "$out/default/fuzzer_stats" 2>/dev/null)
  if [ -n "$execs" ] && [ "${crashes:-1}" = 0 ]; then echo "ops_fuzzer (afl++): $execs execs, 0 crashes"
  else echo "ops_fuzzer (afl++): failed (execs ${execs:-none}, crashes ${crashes:-?})"; tail -20 "$out/log"; fail=1; fi
  rm -rf "$out"
else
  echo "ops_fuzzer (afl++): build failed"; fail=1
fi
# One libFuzzer run of FUZZER from a build with extra FLAGS (own --platform_suffix: Bazel 4
# does not put Starlark flag values into the output path) for half the time on CORPUS.
run_variant() {  # LABEL FUZZER CORPUS FLAGS...
  local label=$1 f=$2 corpus=$3; shift 3
  if ! ./bazelw build "$@" "//fuzz:$f" >/dev/null 2>&1; then echo "$f ($label): build failed"; fail=1; return; fi
  local bin work
  bin=$(./bazelw info "$@" bazel-bin 2>/dev/null)
  work=$(mktemp -d)
  if "$bin/fuzz/$f" -max_total_time="$((secs / 2))" -artifact_prefix="$work/" "$work" "fuzz/corpus/$corpus" >"$work/log" 2>&1; then
    echo "$f ($label, asan+ubsan): $(grep -E '^Done' "$work/log")"
  else
    echo "$f ($label): CRASH"; grep -A20 -E "ERROR|_fuzzer:|hakmem:" "$work/log" | head -40; fail=1
  fi
  rm -rf "$work"
}
# The invalid-pointer fuzzer on the checked build, where every free is fully validated.
run_variant "checked build" invalid_fuzzer invalid --config=fuzz --//cfg:checked=true --platform_suffix=fuzz-checked
# Failing OS calls: the op-sequence fuzzer on the fault-injection build, where its OP_FAULT
# makes mmap/munmap/madvise/mremap fail at rates the input picks (ops_fuzzer.c).
run_variant "fault injection" ops_fuzzer ops --config=fuzz --//cfg:fault_injection=true --platform_suffix=fuzz-fault
# Proof that the op-sequence fuzzer finds the seeds' counter bug: a build that forgets one
# block in a batch refill must crash with an integrity/COUNTER_MISMATCH report.
# Own --platform_suffix, as in run_variant: else the broken build would overwrite the real one.
inj=(--config=fuzz --//cfg:inject_bug=refill_counter --platform_suffix=fuzz-inject)
if ./bazelw build "${inj[@]}" //fuzz:ops_fuzzer >/dev/null 2>&1; then
  IB=$(./bazelw info "${inj[@]}" bazel-bin 2>/dev/null)
  work=$(mktemp -d)
  t0=$SECONDS
  "$IB/fuzz/ops_fuzzer" -max_total_time=120 -artifact_prefix="$work/" "$work" fuzz/corpus/ops >"$work/log" 2>&1
  if ls "$work"/crash-* >/dev/null 2>&1 && grep -q "COUNTER_MISMATCH" "$work/log"; then
    echo "injected refill_counter bug: found in $((SECONDS - t0)) s ($(grep -m1 COUNTER_MISMATCH "$work/log"))"
  else
    echo "injected refill_counter bug: NOT found in 120 s"; fail=1
  fi
  rm -rf "$work"
else
  echo "injected-bug build failed"; fail=1
fi
exit $fail
