#!/usr/bin/env python3
"""The workload sweep: search the space of allocation workloads for HAKMEM's worst cases.

Each cell is one workload (workload.c): size distribution x lifetime x thread topology x
realloc pattern x touch pattern x working set, with a seed. Every cell runs under HAKMEM,
glibc and each peer found (Debian's mimalloc, jemalloc and tcmalloc when installed, and every
--peer NAME=/path.so, e.g. the newest mimalloc and snmalloc built by
../shared/peer-suite/build_peers.sh), interleaved and shuffled, --runs times. For each it
records the median wall time, peak RSS and minor page faults, and flags the cell when HAKMEM
is more than 1.5x glibc in any of the three, or more than 2x the best peer in time or peak
RSS (differences below a noise floor -- 10 ms, 2 MiB, 500 faults -- are never flagged).
Faults are not held against the peers: mimalloc 2.4 and 3.4 ask for transparent huge pages,
one fault per 2 MiB (240 faults for 132 MB resident in one cell), so their counts measure
page size, not work.

Output: a table of every cell sorted by HAKMEM's worst ratio (results.md), the raw runs
(raw.csv), and a heat map (heatmap.svg, and in text on stdout), in bench/results/sweep-<date>/.
A HAKMEM run that HAKMEM did not serve, or any crashed run, makes the sweep fail: that is a
bug, never a result. Flagged cells are a report, not a failure, unless --fail-on-flag.

  --smoke          a dozen cells, one run each (CI)
  --grid default   the grid: 500 cells of size x lifetime x topology x realloc, touch
                   variants of size x topology, working sets of 4096 (nightly: --runs 5)
  --cell S/L/T/R/X/WS [--seed N]   replay one cell
  --match REGEX    only the grid's cells whose name matches (a tier or realloc pattern after a fix)
"""
import argparse
import csv
import datetime
import itertools
import math
import os
import random
import re
import statistics
import subprocess
import sys

LIBDIR = "/usr/lib/x86_64-linux-gnu"
DEBIAN_PEERS = {
    "mimalloc": LIBDIR + "/libmimalloc.so.2",
    "jemalloc": LIBDIR + "/libjemalloc.so.2",
    "tcmalloc": LIBDIR + "/libtcmalloc_minimal.so.4",
}
SIZES = ["fixed", "uniform", "log", "bimodal", "large"]
LIFETIMES = ["lifo", "fifo", "random", "long", "burst"]
TOPOLOGIES = ["local", "prodcons", "pipeline", "alltoall", "shortlived"]
REALLOCS = ["none", "append", "random", "same"]
TOUCHES = ["none", "first", "pages", "all"]

FLAG_GLIBC = 1.5
FLAG_PEER = 2.0
FLOOR = {"secs": 0.010, "rss_kb": 2048, "faults": 500}
METRICS = ["secs", "rss_kb", "faults"]
NOT_PEERS = ("hakmem", "glibc", "baseline")  # --baseline: another HAKMEM build, never a peer


def grid(name):
    cells = []
    if name == "smoke":
        cells = [
            ("bimodal", "random", "prodcons", "none", "first", 256),
            ("uniform", "random", "shortlived", "none", "all", 64),
            ("log", "random", "local", "random", "first", 64),
            ("uniform", "fifo", "local", "append", "first", 64),
            ("large", "lifo", "local", "random", "pages", 16),
            ("fixed", "lifo", "alltoall", "none", "first", 256),
            ("bimodal", "long", "pipeline", "same", "first", 256),
            ("log", "fifo", "alltoall", "none", "pages", 64),
            ("uniform", "burst", "local", "none", "first", 4096),
        ]
        return cells
    for s, l, t, r in itertools.product(SIZES, LIFETIMES, TOPOLOGIES, REALLOCS):
        cells.append((s, l, t, r, "first", 64 if s in ("log", "large") else 256))
    for s, t, x in itertools.product(SIZES, TOPOLOGIES, ["none", "pages", "all"]):
        cells.append((s, "random", t, "none", x, 64 if s in ("log", "large") else 256))
    for s, l in itertools.product(SIZES, LIFETIMES):
        if s != "large":
            cells.append((s, l, "local", "none", "first", 4096))
    return cells


def scale_of(cell, base):
    # Byte-heavy and thread-heavy cells get less work so that each runs in about 0.1-0.5 s.
    s, l, t, r, x, ws = cell
    f = base
    if t in ("alltoall", "pipeline"):
        f *= 0.5
    if x == "all" and s in ("log", "large"):
        f *= 0.25
    return f


def run_one(workload, cell, seed, scale, lib, timeout):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib:
        env["LD_PRELOAD"] = lib
    args = [workload] + [str(v) for v in cell] + [str(seed), "%g" % scale]
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "@@time %e %M %R"] + args, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout after %d s" % timeout
    line = next((l for l in p.stdout.splitlines() if l.startswith("bench=")), None)
    tl = next((l for l in p.stderr.splitlines() if l.startswith("@@time")), None)
    if p.returncode != 0 or not line or not tl:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])
    d = dict(kv.split("=", 1) for kv in line.split())
    _, _, rss, faults = tl.split()
    return {"secs": float(d["secs"]), "rss_kb": int(d["peak_rss_kb"]), "faults": int(faults),
            "allocator": d["allocator"], "served": int(d["hakmem_served"])}, None


def cell_name(cell):
    return "/".join(str(v) for v in cell)


def ratios(med, names, who="hakmem"):
    """HAKMEM's (or the baseline build's) ratio to glibc and to the best peer per metric, and
    the cell's flags."""
    out = {}
    flags = []
    h = med.get(who)
    if not h:
        return out, flags
    peers = [n for n in names if n not in NOT_PEERS and n in med]
    for m in METRICS:
        g = med.get("glibc", {}).get(m)
        best = min((med[p][m] for p in peers), default=None)
        rg = h[m] / g if g else None
        rp = h[m] / best if best else None
        out[m] = (rg, rp)
        if g is not None and rg and rg > FLAG_GLIBC and h[m] - g > FLOOR[m]:
            flags.append("%s %.2fx glibc" % (m, rg))
        if m != "faults" and best is not None and rp and rp > FLAG_PEER and h[m] - best > FLOOR[m]:
            flags.append("%s %.2fx best peer" % (m, rp))
    return out, flags


def worst(rat):
    """The largest of HAKMEM's ratios that can flag a cell: each metric against glibc, time
    and RSS against the best peer."""
    w = 0.0
    for m in METRICS:
        rg, rp = rat.get(m, (None, None))
        for v in (rg, rp if m != "faults" else None):
            if v:
                w = max(w, v)
    return w


def heat_char(w):
    return "." if w <= 1.1 else "o" if w <= FLAG_GLIBC else "O" if w <= 3 else "#"


def svg_heatmap(rows, path):
    """Rows: size/lifetime; columns: topology/realloc (touch first, the main grid); colour:
    HAKMEM's worst ratio against glibc or the best peer."""
    main = {(r["cell"][0], r["cell"][1], r["cell"][2], r["cell"][3]): r for r in rows if r["cell"][4] == "first"}
    ys = [(s, l) for s in SIZES for l in LIFETIMES]
    xs = [(t, r) for t in TOPOLOGIES for r in REALLOCS]
    cw, ch, left, top = 26, 16, 110, 90
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="10">'
           % (left + cw * len(xs) + 20, top + ch * len(ys) + 40)]
    out.append('<text x="4" y="14" font-size="12">HAKMEM worst ratio (time, peak RSS, faults) vs glibc or best peer; '
               'touch=first</text>')
    for i, (t, r) in enumerate(xs):
        x = left + i * cw + cw // 2
        out.append('<text transform="translate(%d,%d) rotate(-60)">%s/%s</text>' % (x, top - 4, t, r))
    for j, (s, l) in enumerate(ys):
        y = top + j * ch
        out.append('<text x="4" y="%d">%s/%s</text>' % (y + 12, s, l))
        for i, (t, r) in enumerate(xs):
            row = next((v for k, v in main.items() if k == (s, l, t, r)), None)
            if not row:
                continue
            w = row["worst"]
            col = "#2e7d32" if w <= 1.1 else "#c0ca33" if w <= FLAG_GLIBC else "#fb8c00" if w <= 3 else "#c62828"
            out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s worst %.2f %s</title></rect>'
                       % (left + i * cw, y, cw - 1, ch - 1, col, cell_name(row["cell"]), w, "; ".join(row["flags"])))
    out.append('<text x="4" y="%d">green &lt;= 1.1, yellow &lt;= 1.5, orange &lt;= 3, red &gt; 3</text>'
               % (top + ch * len(ys) + 24))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, help="the workload binary (bazel-bin, --config=opt)")
    ap.add_argument("--hakmem", required=True, help="libhakmem.so")
    ap.add_argument("--peer", action="append", default=[], help="NAME=/path/lib.so (repeatable)")
    ap.add_argument("--no-debian-peers", action="store_true", help="only glibc, HAKMEM and --peer")
    ap.add_argument("--baseline", default="", help="another HAKMEM build (libhakmem.so) run in the same "
                    "interleaving: the report adds HAKMEM's ratio to it per size and realloc pattern, and the "
                    "cells each would have flagged (A/B of a change)")
    ap.add_argument("--grid", default="default", choices=["default", "smoke"])
    ap.add_argument("--smoke", action="store_true", help="--grid smoke --runs 1 --scale 0.05")
    ap.add_argument("--cell", default="", help="replay one cell: SIZE/LIFETIME/TOPOLOGY/REALLOC/TOUCH/WS")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=float, default=0.1, help="work per cell (1.0: about 1 GiB per thread)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="first N cells only")
    ap.add_argument("--match", default="", help="only the cells whose SIZE/LIFETIME/TOPOLOGY/REALLOC/TOUCH/WS "
                    "name matches this regular expression (e.g. '/(append|random)/')")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--out", default="", help="results folder (default bench/results/sweep-<date>)")
    ap.add_argument("--fail-on-flag", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.grid, a.runs, a.scale = "smoke", 1, 0.05

    libs = {"glibc": None, "hakmem": os.path.abspath(a.hakmem)}
    if not a.no_debian_peers:
        for n, p in DEBIAN_PEERS.items():
            if os.path.exists(p):
                libs[n] = p
    for spec in a.peer:
        n, _, p = spec.partition("=")
        if not p or not os.path.exists(p):
            sys.exit("sweep: --peer %s: no such library" % spec)
        libs[n] = os.path.abspath(p)
    if a.baseline:
        if not os.path.exists(a.baseline):
            sys.exit("sweep: --baseline %s: no such library" % a.baseline)
        libs["baseline"] = os.path.abspath(a.baseline)
    if a.cell:
        parts = a.cell.split("/")
        if len(parts) != 6:
            sys.exit("sweep: --cell wants SIZE/LIFETIME/TOPOLOGY/REALLOC/TOUCH/WS")
        cells = [tuple(parts[:5]) + (int(parts[5]),)]
    else:
        cells = grid(a.grid)
    if a.match:
        rx = re.compile(a.match)
        cells = [c for c in cells if rx.search("/".join(str(x) for x in c))]
        if not cells:
            sys.exit("sweep: --match %s: no cell" % a.match)
    if a.limit:
        cells = cells[:a.limit]
    names = list(libs)
    print("sweep: %d cells x %d allocators (%s) x %d runs, seed %d" % (len(cells), len(names), ", ".join(names), a.runs,
                                                                     a.seed), flush=True)

    raw = []
    bad = []
    rnd = random.Random(a.seed)
    results = {c: {n: [] for n in names} for c in cells}
    for run in range(a.runs):
        order = [(c, n) for c in cells for n in names]
        rnd.shuffle(order)
        for c, n in order:
            r, err = run_one(a.workload, c, a.seed, scale_of(c, a.scale), libs[n], a.timeout)
            if err:
                bad.append("%s under %s: %s" % (cell_name(c), n, err))
                continue
            if n in ("hakmem", "baseline") and (r["allocator"] != "hakmem" or r["served"] <= 0):
                bad.append("%s: INVALID, HAKMEM did not serve it (%s: allocator=%s served=%d)" % (
                    cell_name(c), n, r["allocator"], r["served"]))
                continue
            if n not in ("hakmem", "baseline") and r["allocator"] == "hakmem":
                bad.append("%s: INVALID, %s run was served by HAKMEM" % (cell_name(c), n))
                continue
            results[c][n].append(r)
            raw.append([cell_name(c), a.seed, n, run, r["secs"], r["rss_kb"], r["faults"]])
        print("sweep: run %d/%d done" % (run + 1, a.runs), flush=True)

    rows = []
    for c in cells:
        med = {n: {m: statistics.median(x[m] for x in results[c][n]) for m in METRICS} for n in names if results[c][n]}
        rat, flags = ratios(med, names)
        rows.append({"cell": c, "med": med, "rat": rat, "flags": flags, "worst": worst(rat)})
    rows.sort(key=lambda r: -r["worst"])

    out = a.out or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results",
                                "sweep-" + datetime.datetime.now().strftime("%Y-%m-%d-%H%M"))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "raw.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell", "seed", "allocator", "run", "secs", "peak_rss_kb", "minor_faults"])
        w.writerows(raw)
    lines = ["# Workload sweep, %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "",
             "%d cells, %d runs each, seed %d, scale %g; allocators: %s. Medians. A cell is flagged when HAKMEM is "
             "over %.1fx glibc or %.1fx the best peer in time, peak RSS or minor faults (beyond %s)." %
             (len(cells), a.runs, a.seed, a.scale, ", ".join("%s (%s)" % (n, libs[n] or "libc") for n in names),
              FLAG_GLIBC, FLAG_PEER, ", ".join("%s %s" % (k, v) for k, v in FLOOR.items())), "",
             "| cell | worst | HAKMEM s / RSS KB / faults | glibc | best peer (s, RSS, faults) | t/glibc | rss/glibc | "
             "flt/glibc | flags |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h, g = r["med"].get("hakmem"), r["med"].get("glibc")
        peers = {n: v for n, v in r["med"].items() if n not in NOT_PEERS}
        bp = ", ".join("%s %s" % (min(peers, key=lambda n, m=m: peers[n][m]), fmt(min(v[m] for v in peers.values())))
                       for m in METRICS) if peers else "-"

        def tri(v):
            return "%.3f / %d / %d" % (v["secs"], v["rss_kb"], v["faults"]) if v else "-"

        rg = [r["rat"].get(m, (None, None))[0] for m in METRICS]
        lines.append("| %s | %.2f | %s | %s | %s | %s | %s | %s | %s |" % (
            cell_name(r["cell"]), r["worst"], tri(h), tri(g), bp, *["%.2f" % x if x else "-" for x in rg],
            "; ".join(r["flags"]) or ""))
    flagged = [r for r in rows if r["flags"]]
    lines += ["", "Flagged: %d of %d cells." % (len(flagged), len(rows))]
    if a.baseline:
        ab = baseline_report(rows, names)
        lines += ["", "## HAKMEM against the baseline (%s)" % libs["baseline"], ""] + ab
        print("\n".join(ab))
    if bad:
        lines += ["", "Failed or invalid runs:"] + ["- " + b for b in bad]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    svg_heatmap(rows, os.path.join(out, "heatmap.svg"))

    print()
    print("worst cells (HAKMEM / best of glibc and peers; ratios: time, RSS, faults vs glibc):")
    for r in rows[:25]:
        rg = [r["rat"].get(m, (None, None))[0] for m in METRICS]
        print("  %-42s worst %5.2f  t %s rss %s flt %s  %s" % (cell_name(r["cell"]), r["worst"],
                                                              *["%5.2f" % x if x else "  -  " for x in rg],
                                                              "; ".join(r["flags"])))
    if a.grid == "default" and not a.cell:
        print("\nheat map (rows size/lifetime, columns topology x realloc; . <=1.1  o <=1.5  O <=3  # >3):")
        print("%-16s %s" % ("", " ".join("%-4s" % t[:4] for t in TOPOLOGIES)))
        for s in SIZES:
            for l in LIFETIMES:
                cols = []
                for t in TOPOLOGIES:
                    cs = ""
                    for rr in REALLOCS:
                        row = next((x for x in rows if x["cell"][:5] == (s, l, t, rr, "first")), None)
                        cs += heat_char(row["worst"]) if row else " "
                    cols.append(cs)
                print("%-16s %s" % (s + "/" + l, " ".join(cols)))
    print("\nflagged: %d of %d cells; results in %s" % (len(flagged), len(rows), out))
    for b in bad:
        print("FAILED: " + b)
    if bad:
        sys.exit(1)
    if a.fail_on_flag and flagged:
        sys.exit(3)


def baseline_report(rows, names):
    """HAKMEM over the baseline build, geomean per size x realloc group and overall (each
    metric plus its noise floor, so near-empty cells do not swing it), and how many cells
    each of the two would have flagged."""
    groups = {}
    flagged_base = 0
    for r in rows:
        h, b = r["med"].get("hakmem"), r["med"].get("baseline")
        if not h or not b:
            continue
        flagged_base += bool(ratios(r["med"], names, "baseline")[1])
        for key in ("%s/%s" % (r["cell"][0], r["cell"][3]), "all"):
            g = groups.setdefault(key, {m: [] for m in METRICS})
            for m in METRICS:
                g[m].append(math.log((h[m] + FLOOR[m]) / (b[m] + FLOOR[m])))
    out = ["| group | cells | time | peak RSS | faults |", "|---|---|---|---|---|"]
    for key in sorted(groups, key=lambda k: (k == "all", k)):
        g = groups[key]
        out.append("| %s | %d | %s |" % (key, len(g["secs"]), " | ".join(
            "%.3fx" % math.exp(sum(g[m]) / len(g[m])) for m in METRICS)))
    out += ["", "Flagged: HAKMEM %d, baseline %d (of %d cells)." % (sum(1 for r in rows if r["flags"]), flagged_base,
                                                                   len(rows))]
    return out


def fmt(v):
    return "%.3f" % v if isinstance(v, float) and v < 100 else "%d" % v


if __name__ == "__main__":
    main()
