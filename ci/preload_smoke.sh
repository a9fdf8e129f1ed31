#!/usr/bin/env bash
# Runs real programs under LD_PRELOAD=libhakmem.so, compares their output with a glibc run,
# and checks from HAKMEM's own exit report (HAKMEM_STATS=json) that HAKMEM served them.
set -u
cd "$(dirname "$0")/.."
# The programs exercised below (a fresh machine may lack some of them).
HAKMEM_EXTRA_PKGS="python3 gcc libc6-dev git sqlite3 perl xz-utils" ./bazelw --install-only >/dev/null || exit 1
./bazelw build --config=opt //hakmem:libhakmem.so >/dev/null 2>&1 || { echo "build failed"; exit 1; }
LIB="$(./bazelw info --config=opt bazel-bin 2>/dev/null)/hakmem/libhakmem.so"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/hello.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) { char *s = malloc(100); snprintf(s, 100, "hello %d", 42); puts(s); free(s); return 0; }
C
fail=0
run() {  # run NAME CMD... : output under HAKMEM must equal glibc's, and HAKMEM must serve
  local name=$1; shift
  local ref got stats
  ref=$("$@" 2>&1) || true
  got=$(cd "$work" && HAKMEM_STATS=json LD_PRELOAD="$LIB" "$@" 2>"$work/stats.$name") || true
  stats=$(grep -h '^{"version"' "$work/stats.$name" | tail -1)
  refills=$(echo "$stats" | sed -n 's/.*"tiny":{[^}]*"refills":\([0-9]*\).*/\1/p')
  if [ "$ref" != "$got" ]; then echo "$name: output differs under HAKMEM"; diff <(echo "$ref") <(echo "$got") | head; fail=1
  elif [ -z "$refills" ] || [ "$refills" = 0 ]; then echo "$name: HAKMEM did not serve allocations ($stats)"; fail=1
  else echo "$name: ok (HAKMEM served it: tiny_refills=$refills)"; fi
}
run python3 /usr/bin/python3 -c 'import json,re,collections; d=collections.Counter(str(i%97) for i in range(200000)); print(len(json.dumps(d)), sum(d.values()))'
run gcc gcc -O2 -o "$work/hello" "$work/hello.c"
run hello "$work/hello"
run git git -C "$PWD" log --oneline -3
run sqlite3 sqlite3 :memory: 'create table t(a, b); with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000) insert into t select x, hex(randomblob(20)) from c; select count(*), sum(a) from t;'
run xz_mt bash -c 'head -c 3000000 /usr/bin/bazel | xz -T2 -6 --block-size=256KiB | xz -d -T2 | md5sum'
run perl perl -e 'my %h; $h{$_ % 1000} .= "x" for 1..200000; print scalar(keys %h), "\n"'
exit $fail
