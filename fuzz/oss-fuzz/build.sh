#!/bin/bash -eu
# OSS-Fuzz (like ClusterFuzzLite) calls $SRC/build.sh inside the base-builder image with CC, CXX, CFLAGS,
# CXXFLAGS, LIB_FUZZING_ENGINE and OUT set for the job's sanitizer. The one build script is
# shared with ClusterFuzzLite (.clusterfuzzlite/) and checked offline by
# ci/oss_fuzz_check.sh.
exec "$SRC/hakmem/fuzz/oss_fuzz_build.sh"
