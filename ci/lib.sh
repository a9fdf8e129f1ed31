# ci/lib.sh — helpers shared by the CI steps: run a step, count test targets, time it.
# Each step adds to CI_PASSED / CI_FAILED (test targets across the whole matrix) and
# prints one timing line, collected in $CI_LOG_DIR/steps.txt for the closing summary.
CI_PASSED=${CI_PASSED:-0}
CI_FAILED=${CI_FAILED:-0}
CI_LOG_DIR=${CI_LOG_DIR:-$(mktemp -d /tmp/hakmem-ci.XXXXXX)}
mkdir -p "$CI_LOG_DIR"
# CI_ONLY=name1,name2 (or run_all.sh --only=...): run only the named steps; the GitHub
# workflows use it to spread the matrix over jobs that each call the same script.
CI_ONLY=${CI_ONLY:-}

# ci_want NAME: true when step NAME is to run.
ci_want() {
  [ -z "$CI_ONLY" ] && return 0
  case ",$CI_ONLY," in *",$1,"*) return 0 ;; esac
  return 1
}

# Counts per-target result lines of a `bazel test` log (adds to the totals).
ci_count_bazel() {
  local log=$1
  CI_P=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
  CI_F=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$log" || true)
  CI_PASSED=$((CI_PASSED + CI_P))
  CI_FAILED=$((CI_FAILED + CI_F))
}

# ci_bazel_test NAME ARGS... : runs ./bazelw test ARGS, counts targets; a build failure with
# no per-target lines counts as one failure.
ci_bazel_test() {
  local name=$1; shift
  ci_want "$name" || return 0
  local log="$CI_LOG_DIR/$name.log" t0=$SECONDS rc
  echo "::: $name: ./bazelw test $*"
  ./bazelw test "$@" >"$log" 2>&1; rc=$?
  ci_count_bazel "$log"
  local p=$CI_P f=$CI_F
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then CI_FAILED=$((CI_FAILED + 1)); f=1; tail -30 "$log"; fi
  [ "$f" != 0 ] && grep -E '^//.*(FAILED|TIMEOUT|NO STATUS)' "$log" | head -20
  echo "$name: $p passed, $f failed, $((SECONDS - t0))s" | tee -a "$CI_LOG_DIR/steps.txt"
}

# ci_check NAME COMMAND... : a non-Bazel check that counts as one test target.
ci_check() {
  local name=$1; shift
  ci_want "$name" || return 0
  local log="$CI_LOG_DIR/$name.log" t0=$SECONDS
  echo "::: $name: $*"
  if "$@" >"$log" 2>&1; then
    CI_PASSED=$((CI_PASSED + 1)); echo "$name: passed, $((SECONDS - t0))s" | tee -a "$CI_LOG_DIR/steps.txt"
  else
    CI_FAILED=$((CI_FAILED + 1)); tail -40 "$log"; echo "$name: FAILED, $((SECONDS - t0))s" | tee -a "$CI_LOG_DIR/steps.txt"
  fi
}
