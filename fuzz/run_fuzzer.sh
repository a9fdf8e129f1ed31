#!/usr/bin/env bash
# bazel run --config=fuzz //fuzz:<name>_run -- [libFuzzer flags, e.g. -max_total_time=28800]
# Runs the fuzzer from the source tree: new corpus units go to .fuzz/<name>/corpus (ignored
# by git), crash reproducers to .fuzz/<name>/artifacts; the committed seeds in
# fuzz/corpus/<corpus> are read but never written.
set -euo pipefail
name=$1 corpus=$2
shift 2
FUZZER="$PWD/fuzz/$name"  # cwd is runfiles/<workspace> under bazel run
WS="${BUILD_WORKSPACE_DIRECTORY:?run me with bazel run}"
WORK="$WS/.fuzz/$name"
mkdir -p "$WORK/corpus" "$WORK/artifacts"
cd "$WS"
dict=()
[ -f "fuzz/dict/$corpus.dict" ] && dict=(-dict="fuzz/dict/$corpus.dict")
exec "$FUZZER" -artifact_prefix="$WORK/artifacts/" "${dict[@]}" "$@" "$WORK/corpus" "fuzz/corpus/$corpus"
