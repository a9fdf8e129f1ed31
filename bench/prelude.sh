# bench/prelude.sh — the start every benchmark entry script shares (sourced from the source
# tree): go to the workspace, install what the benchmark needs (through ./bazelw, so a fresh
# machine gets it from the project's bootstrap), build the targets with --config=opt and set
# WS and BIN (bazel-bin of that config).
#   source "$BUILD_WORKSPACE_DIRECTORY/bench/prelude.sh"
#   bench_prelude <bench name> "<Debian packages>" <bazel targets...>
bench_prelude() {
  local name=$1 pkgs=$2
  shift 2
  WS="${BUILD_WORKSPACE_DIRECTORY:?run me with ./bazelw run //bench:$name}"
  cd "$WS"
  HAKMEM_EXTRA_PKGS="$pkgs" ./bazelw --install-only
  if ./bazelw build --config=opt "$@" 2>&1 | grep -E "ERROR|error:"; then exit 1; fi
  BIN="$(./bazelw info --config=opt bazel-bin 2>/dev/null)"
}
