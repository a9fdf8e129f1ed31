#!/usr/bin/env bash
# bazel run //bench/sweep -- [sweep.py options]   (./bazelw run //bench/sweep -- --smoke)
# Installs the Debian peers, builds HAKMEM and the workload generator with --config=opt and
# runs the sweep (sweep.py) from the source tree. --peer NAME=/path.so adds a peer (the newest
# mimalloc and snmalloc: ../shared/peer-suite/build_peers.sh).
set -euo pipefail
source "${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench/sweep}/bench/prelude.sh"
bench_prelude sweep "python3 time libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4" //hakmem:libhakmem.so //bench/sweep:workload
# Copies: bazel-bin moves with the next build's config.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$BIN/hakmem/libhakmem.so" "$BIN/bench/sweep/workload" "$tmp/"
/usr/bin/python3 "$WS/bench/sweep/sweep.py" --workload "$tmp/workload" --hakmem "$tmp/libhakmem.so" "$@"
