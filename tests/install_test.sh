#!/usr/bin/env bash
# install_test: runs //:install into a fresh prefix, then builds two programs outside Bazel
# against the installed tree the way a non-Bazel user would (system cc + pkg-config) and
# checks that HAKMEM served them: one linked with `pkg-config --libs hakmem`, one that
# dlopen()s the installed libhakmem_dlopen.so.
#   install_test.sh <install> <install_probe.c> <install_dlopen_probe.c>
set -euo pipefail
install=$1 probe=$2 dprobe=$3
case $install in /*) ;; *) install=./$install ;; esac  # rootpath "install" is not /usr/bin/install
prefix=$TEST_TMPDIR/prefix
cc=$(command -v cc || command -v gcc || command -v clang-16)
command -v pkg-config >/dev/null || { echo "install_test: pkg-config missing (./bazelw --install-only installs it)"; exit 1; }
"$install" --prefix="$prefix"
for f in lib/libhakmem.so lib/libhakmem_dlopen.so include/hakmem/hakmem.h include/hakmem/hakmem_ext.h lib/pkgconfig/hakmem.pc; do
  [ -f "$prefix/$f" ] || { echo "install_test: $prefix/$f was not installed"; exit 1; }
done
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg-config --exists --print-errors hakmem
ver=$(pkg-config --modversion hakmem)
[[ $ver =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "install_test: hakmem.pc version '$ver'"; exit 1; }
echo "pkg-config: hakmem $ver: $(pkg-config --cflags --libs hakmem)"
# shellcheck disable=SC2046
"$cc" -O2 -o "$TEST_TMPDIR/probe" "$probe" $(pkg-config --cflags --libs hakmem)
readelf -d "$TEST_TMPDIR/probe" | grep -q 'NEEDED.*libhakmem.so' || { echo "install_test: probe does not need libhakmem.so"; exit 1; }
LD_LIBRARY_PATH=$prefix/lib "$TEST_TMPDIR/probe"
# The same program without HAKMEM on the library path must not run: the check is real.
if "$TEST_TMPDIR/probe" 2>/dev/null; then echo "install_test: probe ran without libhakmem.so"; exit 1; fi
"$cc" -O2 -o "$TEST_TMPDIR/dprobe" "$dprobe" $(pkg-config --cflags hakmem) -ldl
"$TEST_TMPDIR/dprobe" "$prefix/lib/libhakmem_dlopen.so"
echo "install_test: passed"
