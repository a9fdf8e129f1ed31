#!/usr/bin/env bash
# The extension header works whether or not HAKMEM is the active allocator, and the
# dlopen-safe library can be loaded at run time into a threaded process.
set -eu
probe=$1 preload=$2 dlopen_lib=$3
out=$("$probe")
echo "plain glibc:  $out"
[ "$out" = "present=0 is_malloc=0 owns_malloc_block=0" ]
out=$(LD_PRELOAD="$PWD/$preload" "$probe")
echo "LD_PRELOAD:   $out"
# The whole public API is exported: the integrity checker answers (0 violations), not -1.
case $out in "present=1 is_malloc=1 owns_malloc_block=1 tiny_live_blocks="*" check=0") ;; *) exit 1 ;; esac
out=$("$probe" "$PWD/$dlopen_lib")
echo "dlopen:       $out"
case $out in *"integrity violations 0"*) ;; *) exit 1 ;; esac
