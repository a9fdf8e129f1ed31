#!/usr/bin/env bash
# The TSan gate: runs every stress mode under ThreadSanitizer.
#   ci/tsan_gate.sh [--seconds-per-mode=N] [--threads=N] [--auto] [--expect-race] [bazel flags...]
# --auto: 10 s per mode normally, 60 s per mode when the change (HEAD vs $TSAN_GATE_BASE,
#         default HEAD~1, or the working tree) touches the lock-free code listed below.
# --expect-race: succeed only if TSan reports a race (used with --//cfg:inject_bug=remote_race
#         to prove the gate can fail).
set -u
cd "$(dirname "$0")/.."
# Files whose changes need the long gate: everything that implements lock-free paths
# (remote queues, inbox, thread caches, the decay thread) or the memory orders around them.
# .github/workflows/tsan-gate.yml repeats the list in its path filters (ci/lockfree_paths.py
# checks that the two agree).
LOCKFREE_FILES="hakmem/decay.c hakmem/mid/depot.c hakmem/mid/depot.h hakmem/tiny/band.h hakmem/tiny/slab.c hakmem/tiny/remote.c hakmem/tiny/flush.c hakmem/tiny/refill.c hakmem/tiny/thread.c hakmem/tiny/fork.c hakmem/tiny/heap_impl.h hakmem/tiny/heap.h hakmem/tiny/superslab.h hakmem/tiny/tiny.h hakmem/front_fast.h hakmem/registry.h hakmem/pool/pageheap.c hakmem/pool/pageheap.h hakmem/pool/pool.c"
secs=10 threads=4 auto=0 expect_race=0 extra=()
for a in "$@"; do
  case $a in
    --seconds-per-mode=*) secs=${a#*=} ;;
    --threads=*) threads=${a#*=} ;;
    --auto) auto=1 ;;
    --expect-race) expect_race=1 ;;
    *) extra+=("$a") ;;
  esac
done
if [ "$auto" = 1 ]; then
  changed=$( (git diff --name-only "${TSAN_GATE_BASE:-HEAD~1}" HEAD 2>/dev/null; git diff --name-only HEAD 2>/dev/null) | sort -u)
  for f in $LOCKFREE_FILES; do
    if echo "$changed" | grep -qx "$f"; then secs=60; echo "tsan_gate: $f changed: long gate"; fi
  done
fi
log=$(mktemp)
./bazelw build --config=tsan "${extra[@]}" //stress:stress >"$log" 2>&1 || { tail -20 "$log"; exit 1; }
BIN="$(./bazelw info --config=tsan "${extra[@]}" bazel-bin 2>/dev/null)/stress/stress"
echo "tsan_gate: every stress mode, $threads threads, $secs s per mode"
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" "$BIN" --mode=all --threads="$threads" --seconds="$secs" >"$log" 2>&1
rc=$?
grep '^stress ' "$log"
if [ "$expect_race" = 1 ]; then
  if grep -q "WARNING: ThreadSanitizer: data race" "$log"; then echo "tsan_gate: race caught as required"; exit 0; fi
  echo "tsan_gate: the injected race was NOT caught (exit $rc)"; tail -20 "$log"; exit 1
fi
if [ "$rc" != 0 ]; then grep -A30 "WARNING: ThreadSanitizer" "$log" | head -60; tail -5 "$log"; echo "tsan_gate: FAILED"; exit 1; fi
echo "tsan_gate: passed"
