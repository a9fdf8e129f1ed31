#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script: builds every HAKMEM fuzzer with the engine's
# $CC/$CFLAGS/$LIB_FUZZING_ENGINE (no Bazel needed on that infrastructure) and writes
# $OUT/<fuzzer>, $OUT/<fuzzer>_seed_corpus.zip and $OUT/<fuzzer>.dict.
# Local try:  CC=clang-16 CFLAGS="-fsanitize=fuzzer-no-link,address" \
#             LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/oss fuzz/oss_fuzz_build.sh
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:?set OUT}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK/obj"
cd "$SRC_DIR"
# Every library source of every tier except the malloc override and the tests.
LIB_SRCS=$(ls hakmem/*.c hakmem/*/*.c | grep -v -e '/override' -e '_test')
objs=()
for f in $LIB_SRCS; do
  o="$WORK/obj/$(echo "$f" | tr / _).o"
  $CC $CFLAGS -std=c11 -fvisibility=hidden -I. -c "$f" -o "$o"
  objs+=("$o")
done
for harness in fuzz/*_fuzzer.c; do
  name=$(basename "$harness" .c)
  $CC $CFLAGS -std=c11 -I. -c "$harness" -o "$WORK/obj/$name.o"
  ${CXX:-clang++} ${CXXFLAGS:-$CFLAGS} "$WORK/obj/$name.o" "${objs[@]}" $LIB_FUZZING_ENGINE -lpthread -o "$OUT/$name"
  corpus=$(sed -n "/name = \"$name\"/,/)/s/.*corpus = \"\\([a-z_]*\\)\".*/\\1/p" fuzz/BUILD.bazel)
  if [ -n "$corpus" ] && [ -d "fuzz/corpus/$corpus" ]; then
    (cd "fuzz/corpus/$corpus" && zip -q -r "$OUT/${name}_seed_corpus.zip" .) 2>/dev/null ||
      python3 -c "import shutil,sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2])" "$OUT/${name}_seed_corpus" "fuzz/corpus/$corpus"
    [ -f "fuzz/dict/$corpus.dict" ] && cp "fuzz/dict/$corpus.dict" "$OUT/$name.dict"
  fi
  echo "built $OUT/$name"
done
