#!/usr/bin/env bash
# The whole CI matrix. Ends with one line "N passed, M failed" (test targets across every
# step) and exits non-zero if anything failed.
#   bash ci/run_all.sh [--only=step1,step2] [--list]
# --only runs the named steps alone (the names --list prints; the GitHub workflows call this
# script once per matrix job). Logs go to $CI_LOG_DIR (a temporary directory).
set -u
cd "$(dirname "$0")/.."
for a in "$@"; do
  case $a in
    --only=*) export CI_ONLY=${a#*=} ;;
    --list) sed -n 's/^ *ci_\(bazel_test\|check\) \([a-z0-9_]*\) .*/\2/p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
if [ -n "${CI_ONLY:-}" ]; then
  known=$(bash "$0" --list)
  for n in ${CI_ONLY//,/ }; do
    echo "$known" | grep -qx "$n" || { echo "run_all.sh: unknown step $n (see --list)"; echo "0 passed, 1 failed"; exit 1; }
  done
fi
source ci/lib.sh
t_start=$SECONDS

./bazelw --install-only || { echo "0 passed, 1 failed"; exit 1; }

# 1. The README's test command.
ci_bazel_test default //...
# 2. Sanitizer matrix (GoogleTest targets are tagged no_msan; msan runs the C tests).
ci_bazel_test asan --config=asan //...
ci_bazel_test tsan --config=tsan //...
ci_bazel_test ubsan --config=ubsan //...
ci_bazel_test msan --config=msan //...
# GoogleTest under MSan needs an MSan-built libc++ (built once, cached in ~/.cache/hakmem).
ci_check msan_libcxx_runtime bash ci/build_msan_libcxx.sh
ci_bazel_test msan_libcxx --config=msan-libcxx //...
# 3. Non-default sides of the phase flags.
# (each with its own --platform_suffix: Bazel 4 keeps Starlark flag values out of the output
# path, so builds with other flag values would otherwise overwrite each other)
ci_bazel_test flags_checked_counters --//cfg:checked=true --//cfg:debug_counters=true --platform_suffix=flags1 //...
ci_bazel_test flags_nobatch_noreuse --//cfg:batch_refill=false --//cfg:empty_slab_reuse=false --platform_suffix=flags2 //...
ci_bazel_test flags_learner_timing --//cfg:learner=true --//cfg:timing=true --platform_suffix=flags3 //...
# Failing OS calls: the fault-injection build (os.c refuses chosen calls) runs fault_test and
# the stress suite with madvise, mremap and thread creation refused at fixed rates, and the
# op-sequence fuzzer replays its seeds (whose OP_FAULT records refuse mmap and munmap too).
ci_bazel_test fault_injection --config=fault --test_env=HAKMEM_FAULT=madvise:1/7,mremap:1/3,thread:1/2 //hakmem:fault_test //stress/... //fuzz:ops_fuzzer_regression
# The learner switched on under TSan: stress programs and the slab engine's tests.
ci_bazel_test tsan_learner --config=tsan --//cfg:learner=true --platform_suffix=tsan-learner --test_env=HAKMEM_LEARN=1 //stress/... //hakmem/tiny:all //hakmem/mid:all
# 4. The sanitizers can fail: each probe must be caught. Valgrind client requests too.
ci_check sanitizer_probes ci/sanitizer_probes.sh
ci_check valgrind_memcheck ci/valgrind_check.sh
# 5. Fuzzers: brief libFuzzer runs (ASan+UBSan, one under MSan) and an AFL++ run.
ci_check fuzz_brief ci/fuzz.sh
# 6. The TSan gate over the stress suite (long when lock-free code changed), and proof that
#    it catches an injected race.
ci_check tsan_gate ci/tsan_gate.sh --auto
ci_check tsan_gate_catches_race ci/tsan_gate.sh --seconds-per-mode=3 --expect-race --//cfg:inject_bug=remote_race --platform_suffix=tsan-inject
# 7. Users' ways in: Bazel consumer workspace and LD_PRELOAD into real programs.
ci_check consumer_workspace ci/consumer.sh
ci_check preload_programs ci/preload_smoke.sh
# The workload sweep's smoke: a few cells under glibc and HAKMEM, once; fails on a crashed
# run, a corrupted block or a run HAKMEM did not serve (no timing assertion: it reports).
ci_check sweep_smoke ./bazelw run //bench:sweep -- --smoke --no-debian-peers --out "$CI_LOG_DIR/sweep"
# 8. Offline checks of what runs elsewhere: BUILD/.bzl files pass buildifier, the GitHub
#    workflows pass actionlint (and both linters fail on a planted defect); the OSS-Fuzz /
#    ClusterFuzzLite build script as the base-builder image calls it, address and undefined,
#    every fuzzer run on its seed corpus.
ci_check lint ci/lint.sh
ci_check oss_fuzz_build ci/oss_fuzz_check.sh address undefined
# 9. glibc's own malloc tests (Debian's source package, built outside the repository) under
#    LD_PRELOAD=libhakmem.so.
ci_check glibc_malloc_tests ci/glibc_malloc_tests.sh
# 10. A real client's test suite: CPython's regression tests (allocation-heavy modules,
#     PYTHONMALLOC=malloc) under LD_PRELOAD=libhakmem.so against the same run under glibc.
ci_check cpython_tests ci/cpython_tests.sh
# 11. Where users get it: the Debian packages built in a clean directory, lintian without
#     errors, installed, serving a real program, the launcher and a pkg-config build; removed.
ci_check debian_package ci/debian_package.sh

echo
echo "step timings:"
cat "$CI_LOG_DIR/steps.txt"
echo "total: $((SECONDS - t_start))s"
echo "$CI_PASSED passed, $CI_FAILED failed"
[ "$CI_FAILED" = 0 ]
