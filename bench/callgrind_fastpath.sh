#!/usr/bin/env bash
# Instructions per malloc+free pair of a cached 64 B block, per allocator, from callgrind
# (deterministic). Two runs of bench_fastpath that differ by 1M pairs; the difference of
# their instruction totals divided by 1M is the per-pair cost, start-up excluded.
#   bench/callgrind_fastpath.sh [bazel-bin of an opt build]
set -eu
cd "${BUILD_WORKSPACE_DIRECTORY:-$(dirname "$0")/..}"
HAKMEM_EXTRA_PKGS="valgrind libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4" ./bazelw --install-only
./bazelw build --config=opt //hakmem:libhakmem.so //bench:bench_fastpath >/dev/null 2>&1
B=${1:-$(./bazelw info --config=opt bazel-bin 2>/dev/null)}
LIBDIR=/usr/lib/x86_64-linux-gnu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {  # count LIB PAIRS -> total instructions of the run
  local lib=$1 pairs=$2
  valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.%p" \
    env ${lib:+LD_PRELOAD=$lib} "$B/bench/bench_fastpath" "$pairs" >"$tmp/out" 2>/dev/null
  grep -q "allocator=" "$tmp/out" || { echo "bench failed" >&2; exit 1; }
  local total=0 f t
  for f in "$tmp"/cg.*; do
    t=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
    total=$((total + ${t:-0}))
    rm -f "$f"
  done
  echo "$total $(sed -n 's/.*allocator=\([a-z]*\).*/\1/p' "$tmp/out")"
}
printf "%-10s %s\n" allocator "instructions/pair"
for spec in "hakmem:$B/hakmem/libhakmem.so" "mimalloc:$LIBDIR/libmimalloc.so.2" "jemalloc:$LIBDIR/libjemalloc.so.2" \
            "tcmalloc:$LIBDIR/libtcmalloc_minimal.so.4" "glibc:"; do
  name=${spec%%:*} lib=${spec#*:}
  read -r a served_a < <(count "$lib" 100000)
  read -r b served_b < <(count "$lib" 1100000)
  [ "$served_a" = "$name" ] && [ "$served_b" = "$name" ] || { echo "$name: INVALID (served by $served_b)"; continue; }
  printf "%-10s %s\n" "$name" "$(( (b - a) / 1000000 ))"
done
