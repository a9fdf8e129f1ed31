#!/usr/bin/env bash
# --//cfg:valgrind=true: memcheck sees HAKMEM's blocks. A threaded program runs clean
# (no false positives from HAKMEM's own free-list accesses) and a use-after-free inside a
# HAKMEM block is reported.
set -u
cd "$(dirname "$0")/.."
HAKMEM_EXTRA_PKGS="valgrind" ./bazelw --install-only >/dev/null || exit 1
# Valgrind 3.19 cannot read clang-16's default DWARF 5.
flags=(--//cfg:valgrind=true --platform_suffix=valgrind --strip=never --copt=-gdwarf-4)
./bazelw build "${flags[@]}" //hakmem:c_api_test //tests:valgrind_probe >/dev/null 2>&1 || { echo "build failed"; exit 1; }
B=$(./bazelw info "${flags[@]}" bazel-bin 2>/dev/null)
log=$(mktemp)
if valgrind -q --error-exitcode=9 "$B/hakmem/c_api_test" >"$log" 2>&1; then
  echo "c_api_test under memcheck: clean"
else
  echo "c_api_test under memcheck: errors"; head -40 "$log"; exit 1
fi
valgrind -q --error-exitcode=9 "$B/tests/valgrind_probe" >"$log" 2>&1
rc=$?
if [ "$rc" = 9 ] && grep -q "Invalid write" "$log"; then
  echo "valgrind_probe: use-after-free reported by memcheck as required"
else
  echo "valgrind_probe: NOT reported (exit $rc)"; head -30 "$log"; exit 1
fi
