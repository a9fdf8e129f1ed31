#!/usr/bin/env bash
# glibc's own malloc tests as a conformance suite for the drop-in library.
#
#   ci/glibc_malloc_tests.sh [libhakmem.so]    (default: the --config=opt build)
#
# Builds the applicable malloc/tst-*.c of Debian's glibc source package (the version of the
# installed libc6) with glibc's support/ test library compiled against the system glibc,
# then runs each test under LD_PRELOAD=libhakmem.so and checks that HAKMEM served it. The
# sources are fetched with `apt-get source` (a deb-src entry is added when missing) into
# ~/.cache/hakmem and never enter the repository. Prints one line per test and ends with
# "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LIB=${1:-}
if [ -z "$LIB" ]; then
  ./bazelw build --config=opt //hakmem:libhakmem.so >/dev/null 2>&1 || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
  LIB=$(./bazelw info --config=opt bazel-bin 2>/dev/null)/hakmem/libhakmem.so
fi
LIB=$(readlink -f "$LIB")
# The library is copied: the test binaries may outlive a later bazel build.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp "$LIB" "$TMP/libhakmem.so"
LIB=$TMP/libhakmem.so

# Tests that must pass (issue #13), and tests skipped because they exercise glibc internals.
ALL_TESTS=(mallocbug tst-calloc tst-free-errno tst-mallinfo2 tst-malloc tst-malloc-fork-deadlock tst-malloc-thread-exit
       tst-malloc-thread-fail tst-malloc-too-large tst-mallocalign1 tst-mallocfork tst-mallocfork2 tst-mallocfork3
       tst-memalign tst-obstack tst-posix_memalign tst-pvalloc tst-pvalloc-fortify tst-realloc tst-reallocarray
       tst-tcfree3 tst-trim1 tst-valloc tst-mallopt tst-malloc-stats-cancellation tst-tcfree1 tst-tcfree2)
# GLIBC_TESTS="a b" runs a subset; GLIBC_TEST_TIMEOUT the seconds each may take (600).
read -r -a TESTS <<<"${GLIBC_TESTS:-${ALL_TESTS[*]}}"
limit=${GLIBC_TEST_TIMEOUT:-600}
# Skipped (glibc internals): tst-compathooks-on/off (__malloc_hook), tst-malloc-check and
# tst-malloc-backtrace (MALLOC_CHECK_), tst-malloc-usable and tst-malloc-usable-tunables
# (MALLOC_CHECK_/tunables padding), tst-mtrace (mtrace), tst-malloc_info (malloc_info XML),
# tst-mallocstate (malloc_get_state), tst-mxfast (fastbin tunable), tst-safe-linking and
# tst-malloc-tcache-leak (tcache layout and accounting), tst-interpose-* (they replace
# malloc themselves), tst-alloc_buffer/tst-dynarray*/tst-scratch_buffer (libc-internal
# helpers, not malloc).

VER=$(dpkg-query -W -f='${Version}' libc6)
CACHE=${HAKMEM_CACHE:-$HOME/.cache/hakmem}/glibc-tests-$VER
if [ ! -f "$CACHE/.built" ]; then
  rm -rf "$CACHE"
  mkdir -p "$CACHE/src" "$CACHE/shim" "$CACHE/obj" "$CACHE/bin"
  # Source entries: added once, as a file of their own, only when no deb-src entry exists
  # in any form (a second run, or a machine that has them, adds nothing: apt warned
  # "configured multiple times" when this ran twice).
  src=/etc/apt/sources.list.d/hakmem-deb-src.sources
  if [ ! -f "$src" ] && ! grep -qsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
      /etc/apt/sources.list.d/*.list; then
    # The binary entries, as source entries (same mirror and suites).
    for f in /etc/apt/sources.list.d/*.sources; do
      [ "$f" = "$src" ] || sed -n 's/^Types: deb$/Types: deb-src/;p' "$f"
    done > "$src.tmp" && mv "$src.tmp" "$src"
    apt-get update -qq >/dev/null 2>&1
  fi
  (cd "$CACHE/src" && apt-get source --download-only "glibc=$VER" >/dev/null 2>&1) ||
    (cd "$CACHE/src" && apt-get update -qq >/dev/null 2>&1 && apt-get source --download-only "glibc=$VER" >/dev/null 2>&1) || {
    echo "glibc source package $VER not available"; echo "0 passed, 1 failed"; exit 1; }
  orig=$(ls "$CACHE"/src/glibc_*.orig.tar.xz | head -1)
  top=$(tar tf "$orig" | head -1 | cut -d/ -f1)
  tar xf "$orig" -C "$CACHE/src" "$top/malloc" "$top/support" "$top/test-skeleton.c" "$top/include/array_length.h" \
    "$top/include/libc-diag.h" "$top/include/intprops.h" "$top/sysdeps/generic/malloc-size.h" \
    "$top/sysdeps/generic/malloc-alignment.h"
  G=$CACHE/src/$top
  cp "$G"/include/{array_length.h,libc-diag.h,intprops.h} "$G"/sysdeps/generic/malloc-{size,alignment}.h "$CACHE/shim/"
  touch "$CACHE/shim/config.h"
  CFLAGS=(-O1 -w -D_GNU_SOURCE -DTIMEOUTFACTOR=1 -include limits.h "-Dlibc_hidden_proto(x)=" "-I$G" "-I$G/support"
          "-I$CACHE/shim" '-DSRCDIR_PATH="/tmp"' '-DOBJDIR_PATH="/tmp"' '-DOBJDIR_ELF_LDSO_PATH="/lib64/ld-linux-x86-64.so.2"'
          '-DINSTDIR_PATH="/usr"' '-DLIBDIR_PATH="/usr/lib"' '-DBINDIR_PATH="/usr/bin"' '-DSBINDIR_PATH="/usr/sbin"'
          '-DSLIBDIR_PATH="/lib"' '-DROOTSBINDIR_PATH="/sbin"' '-DCOMPLOCALEDIR_PATH="/usr/lib/locale"')
  # glibc's support library, built against the system glibc: the files that need glibc's
  # internal headers are not needed by these tests and are left out.
  for f in "$G"/support/*.c; do
    b=$(basename "$f" .c)
    case $b in test-driver | tst-* | *container* | test-run-command | links-dso-program*) continue ;; esac
    cc -c "${CFLAGS[@]}" "$f" -o "$CACHE/obj/$b.o" 2>/dev/null || true
  done
  ar rcs "$CACHE/libsupport.a" "$CACHE"/obj/*.o
  for t in "${ALL_TESTS[@]}"; do
    cc "${CFLAGS[@]}" "$G/malloc/$t.c" -o "$CACHE/bin/$t" "$CACHE/libsupport.a" -lpthread 2>"$CACHE/bin/$t.log" ||
      echo "build of $t failed: $(grep -m1 error "$CACHE/bin/$t.log")"
  done
  touch "$CACHE/.built"
fi

passed=0 failed=0
for t in "${TESTS[@]}"; do
  start=$SECONDS
  if [ ! -x "$CACHE/bin/$t" ]; then
    echo "FAIL $t (not built)"; failed=$((failed + 1)); continue
  fi
  # HAKMEM_STATS=1: the exit report proves HAKMEM served the process (mallinfo2 etc. would
  # pass under glibc too). Tests run in a scratch directory (some write temp files).
  # TIMEOUTFACTOR: glibc's own per-test timeout, scaled for a loaded 2-core machine.
  # Own session and a log file (not a pipe): a hung test and every process it forked are
  # killed together after $limit s, and nothing keeps the step waiting for an EOF.
  log="$TMP/$t.log"
  (cd "$TMP" && TIMEOUTFACTOR=10 HAKMEM_STATS=1 LD_PRELOAD=$LIB exec setsid "$CACHE/bin/$t" >"$log" 2>&1) &
  pid=$!
  deadline=$((SECONDS + limit))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    pkill -9 -s "$(ps -o sid= -p "$pid" | tr -d ' ')" 2>/dev/null
    kill -9 "$pid" 2>/dev/null
    echo "(timed out after $limit s)" >>"$log"
  fi
  wait "$pid"; rc=$?
  out=$(cat "$log")
  served=0
  grep -q "^hakmem" <<<"$out" && served=1
  if [ "$rc" = 0 ] && [ "$served" = 1 ]; then
    echo "ok   $t ($((SECONDS - start)) s)"; passed=$((passed + 1))
  else
    echo "FAIL $t rc=$rc served=$served ($((SECONDS - start)) s): $(grep -v '^hakmem\|^  ' <<<"$out" | tail -3 | tr '\n' ' ')"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
