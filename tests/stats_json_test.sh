#!/usr/bin/env bash
# stats_json_test: HAKMEM_STATS=json with HAKMEM_STATS_FILE writes one JSON object at exit
# that a real parser (Python's json) reads: a member per tier, every counter of the text
# report under it with the same value, and the fields a program reads by name from
# hak_stats_get() equal to the report's.
#   stats_json_test.sh <stats_probe>
set -euo pipefail
probe=$1
out=$TEST_TMPDIR/probe.out
rm -f "$TEST_TMPDIR"/stats-*.json
HAKMEM_DECAY_MS=0 HAKMEM_STATS=json HAKMEM_STATS_FILE="$TEST_TMPDIR/stats-%p.json" "$probe" >"$out"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" - "$out" "$TEST_TMPDIR" <<'PY'
import glob, json, sys
out, tmp = sys.argv[1], sys.argv[2]
files = glob.glob(tmp + "/stats-*.json")
assert len(files) == 1, files
with open(files[0]) as f:
    js = json.load(f)  # the whole file is one JSON object
assert js["version"] >= 5 and files[0].endswith("stats-%d.json" % js["pid"]), (js["version"], js["pid"])
tiers = {"tiny", "mid", "pool", "large", "process"}
assert tiers <= set(js), sorted(js)
lines = open(out).read().split("--- text\n")
named = dict(l.split("=") for l in lines[0].split())
text = dict(l.split() for l in lines[1].splitlines()[1:])
# Every text field has a JSON home with the same value (RSS and LazyFree are read from
# /proc at the moment of each report, so only their presence is checked).
flat = {(t, k): v for t in tiers for k, v in js[t].items()}
assert len(flat) == len(text), (len(flat), len(text))
values = sorted(flat.values()), sorted(int(v) for v in text.values())
moving = {"rss_bytes", "peak_rss_bytes", "lazyfree_bytes"}
want = sorted(int(v) for k, v in text.items() if k not in moving)
have = sorted(v for (t, k), v in flat.items() if k not in moving)
assert want == have, (want, have)
for k, v in named.items():
    t, f = k.split(".")
    assert js[t][f] == int(v), (k, js[t][f], v)
assert js["tiny"]["refills"] > 0 and js["pool"]["allocs"] > 0 and js["large"]["allocs"] > 0, js
for t in tiers:
    for k in js[t]:
        assert k.endswith(("_bytes", "_blocks", "_permille", "_mappings")) or k in (
            "refills", "flushes", "remote_frees", "allocs", "frees", "superslabs_live", "superslabs_cached",
            "superslab_maps", "superslab_unmaps", "heaps", "heaps_abandoned", "depot_puts", "depot_gets",
            "depot_refused", "arenas", "cache_hits", "steals", "madvise_calls", "invalid_frees", "os_failures",
            "os_faults_injected"), (t, k)
print("stats_json_test: %d counters in %d tiers match the text report and hak_stats_get()" % (len(flat), len(tiers)))
PY
