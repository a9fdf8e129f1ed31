#!/usr/bin/env bash
# bazel run //bench:compare -- [compare.py options]  (README's main command, via ./bazelw)
# Installs the peer allocators, builds HAKMEM and the benchmarks with --config=opt, then runs
# the head-to-head comparison (compare.py) from the source tree.
set -euo pipefail
WS="${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench:compare}"
cd "$WS"
HAKMEM_EXTRA_PKGS="python3 libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4" ./bazelw --install-only
./bazelw build --config=opt //hakmem:libhakmem.so //bench:all_benches 2>&1 | grep -E "ERROR|error:" && exit 1
BIN="$(./bazelw info --config=opt bazel-bin 2>/dev/null)"
exec /usr/bin/python3 "$WS/bench/compare.py" --bin "$BIN" "$@"
