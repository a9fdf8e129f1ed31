#!/usr/bin/env bash
# Proves each sanitizer config can fail: every probe in //sanitize must FAIL under its config
# and its log must name the expected class of bug.
set -u
cd "$(dirname "$0")/.."
fail=0
probe() {
  local name=$1 config=$2 pattern=$3 log rc
  log=$(mktemp)
  ./bazelw test --config="$config" "//sanitize:$name" --test_output=all >"$log" 2>&1; rc=$?
  if [ "$rc" = 3 ] && grep -q "$pattern" "$log"; then
    echo "probe $name under $config: FAILED as required ($pattern)"
  else
    echo "probe $name under $config: NOT CAUGHT (exit $rc)"; tail -20 "$log"; fail=1
  fi
  rm -f "$log"
}
probe race_probe tsan "ThreadSanitizer: data race"
probe overflow_probe asan "heap-buffer-overflow"
probe leak_probe asan "detected memory leaks"
probe uninit_probe msan "use-of-uninitialized-value"
probe signed_overflow_probe ubsan "signed integer overflow"
probe hakmem_uaf_probe asan "use-after-poison"
probe hakmem_uninit_probe msan "use-of-uninitialized-value"
exit $fail
