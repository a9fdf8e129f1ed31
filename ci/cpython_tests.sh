#!/usr/bin/env bash
# A real client's own test suite under HAKMEM, like glibc's malloc tests: CPython's
# regression tests (Debian's libpython3.11-testsuite) with PYTHONMALLOC=malloc, so every
# object allocation goes through malloc, on allocation-heavy modules chosen to run in about
# a minute. The same run under glibc is the reference: a module that fails under HAKMEM
# but passes under glibc fails this check; one that fails under both is reported, not
# counted. First checks that HAKMEM really serves the interpreter (the served check).
#   ci/cpython_tests.sh [libhakmem.so]    (default: the --config=opt build)
set -u
cd "$(dirname "$0")/.."
HAKMEM_EXTRA_PKGS="libpython3.11-testsuite" ./bazelw --install-only >/dev/null 2>&1 || { echo "install failed"; exit 1; }
LIB=${1:-}
if [ -z "$LIB" ]; then
  ./bazelw build --config=opt //hakmem:libhakmem.so >/dev/null 2>&1 || { echo "build failed"; exit 1; }
  LIB=$(./bazelw info --config=opt bazel-bin 2>/dev/null)/hakmem/libhakmem.so
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp "$(readlink -f "$LIB")" "$TMP/libhakmem.so"
PY=/usr/bin/python3
MODULES=${CPYTHON_TESTS:-"test_list test_dict test_set test_bytes test_str test_json test_re test_itertools test_collections
  test_deque test_array test_gc test_weakref test_ast test_compile test_tuple test_memoryview test_sort test_heapq
  test_struct test_zlib test_pickle test_float test_long test_dictviews test_class test_functools test_copy"}

served=$(PYTHONMALLOC=malloc LD_PRELOAD="$TMP/libhakmem.so" HAKMEM_STATS=json $PY -c 'x=[str(i) for i in range(100000)]' 2>&1 |
  $PY -c 'import json,sys
for l in sys.stdin:
    if l.startswith("{"):
        s=json.loads(l); print(s["tiny"]["refills"]+s["pool"]["allocs"]+s["large"]["allocs"]); break
else: print(0)')
if [ "${served:-0}" -le 0 ]; then echo "FAILED: HAKMEM did not serve python3 (served=$served)"; exit 1; fi
echo "served check: HAKMEM served python3 ($served refills and page-heap/large allocations)"

run() {  # run NAME [env...] -> $TMP/NAME.log; prints the modules that failed
  local name=$1; shift
  (cd "$TMP" && env "$@" PYTHONMALLOC=malloc $PY -m test -q $MODULES >"$TMP/$name.log" 2>&1)
  $PY - "$TMP/$name.log" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
bad = set()
# regrtest: "N tests failed:" (or "N test failed:", "... altered the execution environment:")
# followed by indented module names
for m in re.finditer(r"^\d+ tests? (?:failed|failed again|crashed|skipped \(resource denied\)|altered the execution environment)[^:\n]*:\n((?:    .*\n)+)", text, re.M):
    if "skipped" in m.group(0) or "altered" in m.group(0): continue
    bad.update(m.group(1).split())
if "Tests result:" not in text: bad.add("(regrtest did not finish)")
print(" ".join(sorted(bad)))
PYEOF
}
t0=$SECONDS
g=$(run glibc X=1)
tg=$((SECONDS - t0)); t0=$SECONDS
h=$(run hakmem LD_PRELOAD="$TMP/libhakmem.so")
th=$((SECONDS - t0))
n=$(echo $MODULES | wc -w)
echo "modules: $n; glibc ${tg}s, failed: ${g:-none}; hakmem ${th}s, failed: ${h:-none}"
fail=0
for m in $h; do
  case " $g " in
    *" $m "*) echo "reported, not counted (fails under glibc too): $m" ;;
    *) echo "FAILED under HAKMEM only: $m"; fail=1 ;;
  esac
done
if [ $fail = 1 ]; then tail -60 "$TMP/hakmem.log"; fi
[ $fail = 0 ] && echo "CPython tests: $n modules, none fails under HAKMEM that passes under glibc"
exit $fail
