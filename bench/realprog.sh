#!/usr/bin/env bash
# bazel run //bench:realprog -- [realprog.py options]
# Real programs (python3, perl, sqlite3, gcc, git, node, xz, sort and one C thread-churn shape)
# under glibc, mimalloc, jemalloc, tcmalloc and HAKMEM (LD_PRELOAD): median wall time and
# peak RSS, geomeans against glibc. Checks first that HAKMEM served every workload.
set -euo pipefail
source "${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench:realprog}/bench/prelude.sh"
bench_prelude realprog "python3 perl sqlite3 gcc libc6-dev git nodejs xz-utils coreutils time libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4" \
  //hakmem:libhakmem.so //bench:bench_thread_churn
# Copies: bazel-bin moves with the next build's config.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$BIN/hakmem/libhakmem.so" "$BIN/bench/bench_thread_churn" "$tmp/"
/usr/bin/python3 "$WS/bench/realprog.py" --hakmem "$tmp/libhakmem.so" --churn "$tmp/bench_thread_churn" --repo "$WS" "$@"
