#!/usr/bin/env bash
# ci/oss_fuzz_check.sh — builds the fuzzers through fuzz/oss_fuzz_build.sh exactly as the
# OSS-Fuzz / ClusterFuzzLite base-builder image calls it (CC, CXX, CFLAGS, CXXFLAGS,
# LIB_FUZZING_ENGINE, SRC, WORK, OUT, SANITIZER; the flags are base-builder's for each
# sanitizer), with clang-16 standing in for the image's clang, then runs every built fuzzer
# on its seed corpus (unzipped from $OUT/<fuzzer>_seed_corpus.zip, as the runner does) for
# OSS_FUZZ_SECONDS (default 8) with its dictionary and the runner's sanitizer options.
#   bash ci/oss_fuzz_check.sh [address] [undefined] [memory]
set -u
cd "$(dirname "$0")/.."
secs=${OSS_FUZZ_SECONDS:-8}
sans=("$@"); [ ${#sans[@]} = 0 ] && sans=(address undefined)
command -v clang-16 >/dev/null || { echo "oss_fuzz_check: clang-16 missing (./bazelw --install-only)"; exit 1; }
common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound
fail=0
root=$(mktemp -d /tmp/hakmem-ossfuzz.XXXXXX)
# Crashing inputs outlive the run here (the CI log keeps only a step's tail).
keep=${OSS_FUZZ_ARTIFACTS:-${CI_LOG_DIR:-/tmp}/oss-fuzz-artifacts}

# A failed run: the fuzzer's own error lines (its corpus makes HAKMEM print expected
# "hakmem: free(...)" reports by the hundred, so those are left out), the end of its log,
# and the input that crashed it, copied to $keep and, when small, printed as base64.
report_failure() {
  local san=$1 name=$2 log=$3 a size
  echo "$san $name: FAILED on its corpus (log: $(wc -l <"$log") lines)"
  grep -E "==[0-9]+==ERROR|ERROR: libFuzzer|runtime error|WARNING: MemorySanitizer|deadly signal|SUMMARY:|Test unit written|^    #[0-9]+ " "$log" |
    grep -v "^hakmem: " | head -40
  echo "--- last lines of the log, without HAKMEM's expected reports:"
  grep -v "^hakmem: " "$log" | tail -15
  mkdir -p "$keep"
  for a in "$root/$san-$name-"*; do
    [ -f "$a" ] || continue
    size=$(stat -c %s "$a")
    cp "$a" "$keep/" && echo "crashing input kept: $keep/$(basename "$a") ($size bytes)"
    [ "$size" -le 4096 ] && { echo "base64:"; base64 -w 100 "$a"; }
  done
}
trap 'rm -rf "$root"' EXIT
for san in "${sans[@]}"; do
  case $san in
    address) flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
    undefined) flags="-fsanitize=$ubsan_checks,unsigned-integer-overflow -fno-sanitize-recover=$ubsan_checks" ;;
    memory) flags="-fsanitize=memory -fsanitize-memory-track-origins" ;;
    *) echo "oss_fuzz_check: unknown sanitizer $san"; exit 2 ;;
  esac
  out=$root/out-$san work=$root/work-$san
  mkdir -p "$out" "$work"
  if ! env CC=clang-16 CXX=clang++-16 SANITIZER="$san" SRC="$PWD/.." WORK="$work" OUT="$out" \
      CFLAGS="$common $flags -fsanitize=fuzzer-no-link" CXXFLAGS="$common $flags -fsanitize=fuzzer-no-link" \
      LIB_FUZZING_ENGINE=-fsanitize=fuzzer bash fuzz/oss_fuzz_build.sh >"$root/build-$san.log" 2>&1; then
    echo "$san: build FAILED"; tail -20 "$root/build-$san.log"; fail=1; continue
  fi
  built=0
  for bin in "$out"/*_fuzzer; do
    [ -x "$bin" ] || continue
    built=$((built + 1))
    name=$(basename "$bin")
    corpus=$root/corpus-$san-$name
    mkdir -p "$corpus"
    if [ ! -f "$out/${name}_seed_corpus.zip" ]; then echo "$san $name: no seed corpus in \$OUT"; fail=1; continue; fi
    unzip -q -o "$out/${name}_seed_corpus.zip" -d "$corpus"
    seeds=$(find "$corpus" -type f | wc -l)
    dict=(); [ -f "$out/$name.dict" ] && dict=(-dict="$out/$name.dict")
    log=$root/run-$san-$name.log
    if ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:symbolize=1" \
       UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:silence_unsigned_overflow=1" \
       MSAN_OPTIONS="halt_on_error=1:print_stats=0" \
       "$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -artifact_prefix="$root/$san-$name-" \
         "${dict[@]}" "$corpus" >"$log" 2>&1 && grep -q '^Done' "$log" && grep -q 'INITED' "$log"; then
      echo "$san $name: $seeds seeds, $(grep -oE 'INITED cov: [0-9]+' "$log" | head -1), $(grep -E '^Done' "$log")"
    else
      report_failure "$san" "$name" "$log"; fail=1
    fi
  done
  [ "$built" -ge 6 ] || { echo "$san: only $built fuzzers built (want every fuzz/*_fuzzer.c)"; fail=1; }
done
exit $fail
