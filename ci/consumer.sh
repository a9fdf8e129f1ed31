#!/usr/bin/env bash
# Builds and tests examples/consumer, a separate workspace that links HAKMEM with
# malloc = "@hakmem//hakmem"; its test fails unless HAKMEM served the allocations.
set -eu
cd "$(dirname "$0")/../examples/consumer"
../../bazelw test //:app_test
out=$(../../bazelw run //:app 2>/dev/null)
echo "$out"
case $out in
  *"allocator: HAKMEM"*) echo "consumer: HAKMEM served the allocations" ;;
  *) echo "consumer: HAKMEM did NOT serve the allocations"; exit 1 ;;
esac
