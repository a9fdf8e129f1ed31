#!/usr/bin/env bash
# bazel run //bench:compare -- [compare.py options]  (README's main command, via ./bazelw)
# Installs the peer allocators, builds HAKMEM and the benchmarks with --config=opt, then runs
# the head-to-head comparison (compare.py) from the source tree.
set -euo pipefail
source "${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench:compare}/bench/prelude.sh"
bench_prelude compare "python3 libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4" //hakmem:libhakmem.so //bench:all_benches
exec /usr/bin/python3 "$WS/bench/compare.py" --bin "$BIN" "$@"
