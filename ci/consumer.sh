#!/usr/bin/env bash
# Builds and tests examples/consumer, a separate workspace that links HAKMEM with
# malloc = "@hakmem//hakmem"; its test fails unless HAKMEM served the allocations.
set -eu
cd "$(dirname "$0")/../examples/consumer"
../../bazelw test //:app_test
../../bazelw run //:app | tee /dev/stderr | grep -q "allocator: HAKMEM"
