#!/usr/bin/env bash
# launcher_test: the launcher (tools/hakmem) as //:install puts it in a prefix: it preloads
# HAKMEM into a real program (served check through --stats=json), passes --env and the
# program's arguments and exit status through, writes the report to --stats-file with %p,
# and fails clearly (127) when the library or the program is missing.
#   launcher_test.sh <install>
set -euo pipefail
install=$1
case $install in /*) ;; *) install=./$install ;; esac
prefix=$TEST_TMPDIR/prefix
"$install" --prefix="$prefix" >/dev/null
L=$prefix/bin/hakmem
[ -x "$L" ] || { echo "launcher_test: $L not installed"; exit 1; }
"$L" --version | grep -Eq '^hakmem launcher [0-9]+\.[0-9]+\.[0-9]+$' || { echo "launcher_test: --version"; exit 1; }
fail() { echo "launcher_test: $*"; exit 1; }
# A real program, served: sort's allocations show in the JSON report.
out=$(seq 20000 -1 1 | "$L" --stats=json -- sort -n 2>"$TEST_TMPDIR/err" | tail -1)
[ "$out" = 20000 ] || fail "sort under the launcher printed '$out'"
python3 - "$TEST_TMPDIR/err" <<'PY' || fail "no JSON report showing HAKMEM served sort"
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][-1]
s = json.loads(line)
served = s["tiny"]["refills"] + s["pool"]["allocs"] + s["large"]["allocs"]
assert served > 0, s
print("launcher_test: sort served,", served, "refills and page-heap/large allocations")
PY
# The exit status and the arguments are the program's.
set +e
"$L" -- sh -c 'exit 7'; rc=$?
set -e
[ $rc = 7 ] || fail "exit status $rc, wanted 7"
[ "$("$L" -- printf '%s|' 'a b' c)" = "a b|c|" ] || fail "arguments not passed as given"
# --env, and the library really preloaded.
[ "$("$L" --env HAKMEM_X_TEST=42 -- sh -c 'echo $HAKMEM_X_TEST')" = 42 ] || fail "--env"
"$L" -- sh -c 'case $LD_PRELOAD in *libhakmem.so*) exit 0 ;; *) exit 1 ;; esac' || fail "LD_PRELOAD not set"
# --stats-file with %p: one file per process, named by its pid (a forked child writes its
# own; programs that leave by _exit, as dash does, write none).
rm -f "$TEST_TMPDIR"/st-*.json
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$L" --stats=json --stats-file="$TEST_TMPDIR/st-%p.json" -- "$py" -c 'import os; p = os.fork(); p and os.waitpid(p, 0)'
python3 - "$TEST_TMPDIR" <<'PY' || fail "--stats-file: no st-<pid>.json per process"
import glob, json, sys
files = glob.glob(sys.argv[1] + "/st-*.json")
assert len(files) >= 2, files  # the parent and its forked child (and any helper process)
for f in files:
    s = json.load(open(f))
    assert f.endswith("st-%d.json" % s["pid"]), (f, s["pid"])
print("launcher_test: --stats-file wrote", len(files), "reports, one per pid")
PY
# Missing library, missing program: a clear line, status 127.
mkdir -p "$TEST_TMPDIR/lonely/bin"
cp "$L" "$TEST_TMPDIR/lonely/bin/hakmem"
set +e
msg=$("$TEST_TMPDIR/lonely/bin/hakmem" --lib /nonexistent/libhakmem.so -- true 2>&1); rc=$?
[ $rc = 127 ] && [[ $msg == *"no such library"* ]] || fail "missing --lib: status $rc, '$msg'"
msg=$("$L" -- /nonexistent/program 2>&1); rc=$?
[ $rc = 127 ] && [[ $msg == *"program not found"* ]] || fail "missing program: status $rc, '$msg'"
msg=$("$L" --bogus -- true 2>&1); rc=$?
[ $rc = 2 ] || fail "unknown option: status $rc"
set -e
echo "launcher_test: passed"
