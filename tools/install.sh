#!/usr/bin/env bash
# //:install — puts HAKMEM where non-Bazel builds find it:
#   DIR/lib/libhakmem.so.0        malloc/free/new/delete replacement + hak_* API
#                                 (link with it, or LD_PRELOAD it); libhakmem.so -> it
#   DIR/lib/libhakmem_dlopen.so.0 the hak_* API only, safe to dlopen() at any time;
#                                 libhakmem_dlopen.so -> it
#   DIR/include/hakmem/hakmem.h, hakmem_ext.h
#   DIR/lib/pkgconfig/hakmem.pc   pkg-config --cflags --libs hakmem
#   DIR/bin/hakmem                the launcher: hakmem [--stats[=json]] -- PROGRAM ARGS...
# Usage: ./bazelw run --config=opt //:install -- --prefix=DIR [--libdir=DIR/lib] [--destdir=STAGE]
# A relative DIR is taken from the directory bazel was run in. --destdir stages the files
# under STAGE (a package build): the paths written into hakmem.pc and the launcher stay DIR.
set -euo pipefail
prefix="" libdir="" destdir=""
for a in "$@"; do
  case $a in
    --prefix=*) prefix=${a#*=} ;;
    --libdir=*) libdir=${a#*=} ;;
    --destdir=*) destdir=${a#*=} ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install: unknown argument '$a' (want --prefix=DIR [--libdir=DIR] [--destdir=DIR])" >&2; exit 2 ;;
  esac
done
[ -n "$prefix" ] || { echo "install: --prefix=DIR is required" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "${BUILD_WORKING_DIRECTORY:-$PWD}/$1" ;; esac; }
prefix=$(abs "$prefix")
libdir=$(abs "${libdir:-$prefix/lib}")
[ -z "$destdir" ] || destdir=$(abs "$destdir")
P=$destdir$prefix L=$destdir$libdir  # where the files go; $prefix and $libdir: where they will be
# The installed files are this binary's runfiles (under `bazel run` the working directory;
# under a test, $RUNFILES_DIR/hakmem).
src=""
for d in "${RUNFILES_DIR:-}/hakmem" "$0.runfiles/hakmem" "$PWD"; do
  [ -f "$d/hakmem/libhakmem.so" ] && { src=$d; break; }
done
[ -n "$src" ] || { echo "install: cannot find libhakmem.so in the runfiles of $0" >&2; exit 1; }
ver=$(awk '/#define HAKMEM_VERSION_(MAJOR|MINOR|PATCH)/ {v = v (v == "" ? "" : ".") $3} END {print v}' "$src/hakmem/hakmem.h")
mkdir -p "$L/pkgconfig" "$P/include/hakmem" "$P/bin"
# cp, not install(1): this script is itself named "install" in its runfiles. The library
# carries its SONAME (libhakmem.so.0); the unversioned name is the link for -lhakmem.
for f in libhakmem libhakmem_dlopen; do
  rm -f "$L/$f.so" "$L/$f.so.0" && cp "$src/hakmem/$f.so" "$L/$f.so.0" && chmod 0644 "$L/$f.so.0"
  ln -s "$f.so.0" "$L/$f.so"
done
for f in hakmem.h hakmem_ext.h; do
  rm -f "$P/include/hakmem/$f" && cp "$src/hakmem/$f" "$P/include/hakmem/$f" && chmod 0644 "$P/include/hakmem/$f"
done
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@VERSION@|$ver|" \
  "$src/tools/hakmem.pc.in" >"$L/pkgconfig/hakmem.pc"
chmod 0644 "$L/pkgconfig/hakmem.pc"
ma=$({ dpkg-architecture -qDEB_HOST_MULTIARCH || cc -print-multiarch || gcc -print-multiarch; } 2>/dev/null | head -1)
rm -f "$P/bin/hakmem"
sed -e "s|@VERSION@|$ver|" -e "s|@MULTIARCH@|${ma:-x86_64-linux-gnu}|g" "$src/tools/hakmem" >"$P/bin/hakmem"
chmod 0755 "$P/bin/hakmem"
echo "installed HAKMEM $ver under $prefix:"
echo "  $libdir/libhakmem.so.0 (and libhakmem.so)"
echo "  $libdir/libhakmem_dlopen.so.0 (and libhakmem_dlopen.so)"
echo "  $prefix/include/hakmem/hakmem.h, hakmem_ext.h"
echo "  $prefix/bin/hakmem   (hakmem -- PROGRAM ARGS: runs PROGRAM with HAKMEM preloaded)"
echo "  $libdir/pkgconfig/hakmem.pc   (PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs hakmem)"
