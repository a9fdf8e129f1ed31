#!/usr/bin/env python3
"""Head-to-head comparison of HAKMEM with glibc, mimalloc, jemalloc and tcmalloc.

Runs every benchmark under every allocator (LD_PRELOAD) in interleaved, shuffled order,
repeats each >= 5 times, and reports median throughput, coefficient of variation, peak RSS
and ratios. A run whose result line names another allocator than the one preloaded, or a
HAKMEM run in which HAKMEM recorded no allocations, is INVALID and never reported as a result.
Writes results.md, raw.csv and chart.svg into bench/results/<date>/.
"""
import argparse
import csv
import datetime
import os
import random
import statistics
import subprocess
import sys
import time

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = {
    "glibc": None,
    "mimalloc": LIBDIR + "/libmimalloc.so.2",
    "jemalloc": LIBDIR + "/libjemalloc.so.2",
    "tcmalloc": LIBDIR + "/libtcmalloc_minimal.so.4",
}

# name -> (binary, args per profile: quick, default, full). The default profile keeps the
# whole run (5 runs x 5 allocators) near 3 minutes: the rows where glibc takes seconds
# (mid_large_mt, pool, large_vm, thread_churn) run fewer operations than the full profile.
BENCHES = {
    "random_mixed": ("bench_random_mixed", ["2000000 256 42 16 1024", "10000000 256 42 16 1024", "10000000 256 42 16 1024"]),
    "fixed_256": ("bench_random_mixed", ["2000000 256 42 256 256", "10000000 256 42 256 256", "10000000 256 42 256 256"]),
    "larson_2t": ("bench_larson", ["1 8 1024 1000 0 12345 2", "1 8 1024 1000 0 12345 2", "3 8 1024 1000 0 12345 2"]),
    "prodcons": ("bench_prodcons", ["500000 16 1024", "2000000 16 1024", "4000000 16 1024"]),
    "mid_large_mt": ("bench_ws_mt", ["mid_large_mt 500000 256 8192 32768 2 0", "mid_large_mt 2000000 256 8192 32768 2 0",
                                      "mid_large_mt 10000000 256 8192 32768 2 0"]),
    "pool": ("bench_ws_mt", ["pool 500000 256 8192 53248 1 0", "pool 1500000 256 8192 53248 1 0", "pool 10000000 256 8192 53248 1 0"]),
    "large_vm": ("bench_ws_mt", ["large_vm 2000 16 65536 4194304 1 1", "large_vm 3000 16 65536 4194304 1 1",
                                  "large_vm 40000 16 65536 4194304 1 1"]),
    "realloc_growth": ("bench_realloc", ["5000", "20000", "50000"]),
    "sweep": ("bench_sweep", ["50000", "200000", "500000"]),
    # Shapes HAKMEM was not tuned on (issue 15): bursts longer than a thread cache, string
    # builders growing by half, short-lived threads handing their blocks to main across forks.
    "burst_256": ("bench_burst", ["4000000 256 256", "40000000 256 256", "80000000 256 256"]),
    "strbuild": ("bench_strbuild", ["40000", "400000", "1000000"]),
    "thread_churn": ("bench_thread_churn", ["40 20000", "80 20000", "600 20000"]),
}
PROFILES = {"quick": 0, "default": 1, "full": 2}


def parse_line(out):
    for line in out.splitlines():
        if line.startswith("bench="):
            return dict(kv.split("=", 1) for kv in line.split())
    return None


def run_one(binary, args, lib, hakmem_lib, env_extra, timeout):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(env_extra)
    if lib:
        env["LD_PRELOAD"] = lib
    try:
        p = subprocess.run([binary] + args.split(), env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[-200:])
    res = parse_line(p.stdout)
    if not res:
        return None, "no result line"
    return res, None


def svg_chart(table, allocs, path):
    """Two grouped bar charts as one SVG, each on a log2 axis centred on the best peer (1 = as
    fast / as lean as the best of glibc, mimalloc, jemalloc, tcmalloc on that row), so a 30x row
    does not flatten the others and above/below the line reads at a glance: throughput / the
    fastest peer, and peak RSS / the leanest peer (bars above the line = more memory)."""
    import math
    colors = {"hakmem": "#d62728", "glibc": "#7f7f7f", "mimalloc": "#1f77b4", "jemalloc": "#2ca02c", "tcmalloc": "#ff7f0e"}
    benches = list(table)
    peers = [a for a in allocs if not a.startswith("hakmem")]
    bw, gap, left, top, h = 12, 18, 60, 40, 220
    span = 4.0  # log2 range shown each side of 1 (1/16x .. 16x); larger values are clipped and labelled
    width = left + len(benches) * (len(allocs) * bw + gap) + 140
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, 2 * (h + 120))]
    panels = [("mops", max, "throughput / fastest peer (log scale; above the line = faster)"),
              ("rss", min, "peak RSS / leanest peer (log scale; above the line = more memory)")]
    for panel, (key, pick, title) in enumerate(panels):
        y0 = top + panel * (h + 120)
        mid = y0 + h / 2.0
        parts.append('<text x="%d" y="%d" font-size="13">%s</text>' % (left, y0 - 15, title))
        for g in (-3, -2, -1, 0, 1, 2, 3):
            y = mid - g / span * (h / 2.0)
            parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>' % (left, y, width - 140, y, "black" if g == 0 else "#dddddd"))
            parts.append('<text x="%d" y="%.1f">%s</text>' % (5, y + 4, ("%gx" % (2.0 ** g))))
        for i, b in enumerate(benches):
            x = left + i * (len(allocs) * bw + gap)
            ref = [table[b][p][key] for p in peers if table[b].get(p) and table[b][p].get(key)]
            if not ref:
                continue
            base = pick(ref)
            for j, a in enumerate(allocs):
                v = table[b].get(a, {}).get(key)
                if not v or not base:
                    continue
                r = v / base
                lg = max(-span, min(span, math.log2(r)))
                bh = abs(lg) / span * (h / 2.0)
                y = mid - bh if lg > 0 else mid
                parts.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %.3g (%.3gx the best peer)</title></rect>'
                             % (x + j * bw, y, bw - 1, max(bh, 0.5), colors.get(a, "#000000"), b, a, v, r))
                if a.startswith("hakmem"):
                    parts.append('<text x="%d" y="%.1f" font-size="9">%.2f</text>' % (x + j * bw, (y - 2) if lg > 0 else (y + bh + 9), r))
            parts.append('<text x="%d" y="%d" transform="rotate(30 %d %d)">%s</text>' % (x, y0 + h + 14, x, y0 + h + 14, b))
    for j, a in enumerate(allocs):
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>'
                     % (width - 120, top + j * 16, colors.get(a, "#000000"), width - 105, top + j * 16 + 9, a))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="bazel-bin of the --config=opt build")
    ap.add_argument("--profile", choices=PROFILES, default="default")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--benches", default=",".join(BENCHES), help="comma-separated subset")
    ap.add_argument("--allocators", default="hakmem," + ",".join(PEERS))
    ap.add_argument("--peer", action="append", default=[],
                    help="NAME=/path/lib.so: one more column preloading that library (repeatable), e.g. the newest "
                         "mimalloc and snmalloc from ../shared/peer-suite/build_peers.sh; a run counts only when its "
                         "malloc came from that file")
    ap.add_argument("--threads", type=int, default=0, help="override the thread count of multi-threaded benches")
    ap.add_argument("--env", action="append", default=[], help="HAKMEM_X=v for HAKMEM runs (repeatable)")
    ap.add_argument("--ab", default="", help="A/B sweep: HAKMEM_VAR=v1,v2,... (HAKMEM runs only, one column per value)")
    ap.add_argument("--out", default="", help="results folder (default bench/results/<date>)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.runs < 5:
        print("note: fewer than 5 runs; medians are indicative only", file=sys.stderr)
    hakmem_lib = os.path.join(a.bin, "hakmem", "libhakmem.so")
    benches = [b for b in a.benches.split(",") if b]
    for b in benches:
        if b not in BENCHES:
            sys.exit("unknown bench %s (have: %s)" % (b, ", ".join(BENCHES)))
    # Columns: (label, lib, env)
    cols = []
    hak_env = dict(kv.split("=", 1) for kv in a.env)
    for name in a.allocators.split(","):
        if name == "hakmem":
            if a.ab:
                var, vals = a.ab.split("=", 1)
                for v in vals.split(","):
                    cols.append(("hakmem[%s=%s]" % (var, v), hakmem_lib, dict(hak_env, **{var: v}), "hakmem"))
            else:
                cols.append(("hakmem", hakmem_lib, hak_env, "hakmem"))
        elif name in PEERS:
            if PEERS[name] and not os.path.exists(PEERS[name]):
                sys.exit("%s not installed (%s)" % (name, PEERS[name]))
            cols.append((name, PEERS[name], {}, name))
        else:
            sys.exit("unknown allocator " + name)
    for spec in a.peer:
        name, _, path = spec.partition("=")
        if not name or not path or not os.path.isfile(path):
            sys.exit("--peer %s: want NAME=/path/to/lib.so of an existing file" % spec)
        if name in [c[0] for c in cols]:
            sys.exit("--peer %s: column name already taken" % name)
        cols.append((name, os.path.abspath(path), {}, "file:" + os.path.basename(os.path.realpath(path))))
    rng = random.Random(a.seed)
    jobs = [(r, b, c) for r in range(a.runs) for b in benches for c in range(len(cols))]
    raw = []
    invalid = []
    t_start = time.time()
    total = len(jobs)
    done = 0
    for r in range(a.runs):
        batch = [(b, c) for b in benches for c in range(len(cols))]
        rng.shuffle(batch)  # interleaved: every allocator sees the same machine noise
        for b, c in batch:
            label, lib, env, expect = cols[c]
            binary = os.path.join(a.bin, "bench", BENCHES[b][0])
            args = BENCHES[b][1][PROFILES[a.profile]]
            if a.threads and BENCHES[b][0] in ("bench_ws_mt", "bench_larson"):
                parts = args.split()
                parts[-1 if BENCHES[b][0] == "bench_larson" else 5] = str(a.threads)
                args = " ".join(parts)
            res, err = run_one(binary, args, lib, hakmem_lib, env, 300)
            done += 1
            if res and expect.startswith("file:"):
                # A peer given by path: its malloc must be that file's (whatever symbols it exports).
                owner = res.get("malloc_from", "")
                if owner != expect[5:] and os.path.basename(os.path.realpath(lib)) != owner and os.path.basename(lib) != owner:
                    err = "malloc came from %s, not %s" % (owner or "?", os.path.basename(lib))
            elif res and res.get("allocator") != expect:
                err = "served by %s, not %s" % (res.get("allocator"), expect)
            elif res and expect == "hakmem" and int(res.get("hakmem_served", "0")) <= 0:
                err = "HAKMEM recorded no allocations"
            if err:
                invalid.append((r, b, label, err))
                print("[%d/%d] %-14s %-22s INVALID: %s" % (done, total, b, label, err), file=sys.stderr)
                continue
            raw.append({"run": r, "bench": b, "allocator": label, "mops": float(res["mops"]), "secs": float(res["secs"]),
                        "peak_rss_kb": int(res["peak_rss_kb"])})
            eta = (time.time() - t_start) / done * (total - done)
            print("[%d/%d] %-14s %-22s %8.3f Mops/s  %7d KiB  (eta %.0fs)" % (done, total, b, label, float(res["mops"]),
                  int(res["peak_rss_kb"]), eta), file=sys.stderr)
    # Aggregate.
    labels = [c[0] for c in cols]
    table = {}
    for b in benches:
        table[b] = {}
        for l in labels:
            xs = [x["mops"] for x in raw if x["bench"] == b and x["allocator"] == l]
            rs = [x["peak_rss_kb"] for x in raw if x["bench"] == b and x["allocator"] == l]
            if not xs:
                continue
            med = statistics.median(xs)
            cv = statistics.pstdev(xs) / statistics.mean(xs) * 100 if len(xs) > 1 else 0.0
            table[b][l] = {"mops": med, "cv": cv, "rss": statistics.median(rs) / 1024.0, "n": len(xs)}
        base = table[b].get("glibc", {}).get("mops")
        for l in table[b]:
            table[b][l]["ratio"] = table[b][l]["mops"] / base if base else None
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", stamp)
    os.makedirs(out, exist_ok=True)
    hk = [l for l in labels if l.startswith("hakmem")]
    peers = [l for l in labels if not l.startswith("hakmem")]
    lines = ["# HAKMEM head-to-head (%s, profile %s, %d runs, medians)" % (stamp, a.profile, a.runs), "",
             "Throughput in M ops/s (median, CV %); peak RSS in MiB (median); ratio = HAKMEM / peer.", ""]
    head = "| bench | " + " | ".join("%s Mops (CV)" % l for l in labels) + " | " + " | ".join(
        "%s/%s" % (h, p) for h in hk for p in peers) + " | " + " | ".join("%s RSS" % l for l in labels) + " |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for b in benches:
        row = table[b]
        cells = ["%.2f (%.1f%%)" % (row[l]["mops"], row[l]["cv"]) if l in row else "n/a" for l in labels]
        ratios = ["%.2f" % (row[h]["mops"] / row[p]["mops"]) if h in row and p in row else "n/a" for h in hk for p in peers]
        rss = ["%.1f" % row[l]["rss"] if l in row else "n/a" for l in labels]
        lines.append("| %s | %s | %s | %s |" % (b, " | ".join(cells), " | ".join(ratios), " | ".join(rss)))
    if invalid:
        lines += ["", "INVALID runs (excluded):"] + ["- run %d %s %s: %s" % x for x in invalid]
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out, "raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["run", "bench", "allocator", "mops", "secs", "peak_rss_kb"])
        w.writeheader()
        w.writerows(raw)
    svg_chart(table, labels if not a.ab else labels, os.path.join(out, "chart.svg")) if not a.ab else None
    print(md)
    print("results: %s (results.md, raw.csv%s)" % (out, "" if a.ab else ", chart.svg"))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
