#!/usr/bin/env python3
"""Real programs under LD_PRELOAD: wall time and peak RSS per allocator, interleaved runs.

Each workload is a program that is not HAKMEM's (python3, perl, sqlite3, gcc, git, node, xz,
sort) plus one C shape of our own (bench_thread_churn: short-lived threads that hand their
blocks to main, with fork in between). Every workload runs under glibc (no preload) and each
named library, RUNS times in interleaved order; the table gives medians and, at the bottom,
the geomean of each allocator relative to glibc. Peak RSS is the child's ru_maxrss from
wait4 as GNU time reports it; on Linux it also covers the children the workload reaped (cc1
under gcc).

Before timing, every workload runs once under HAKMEM with HAKMEM_STATS=json and the exit
report must show HAKMEM served allocations (tiny refills > 0); the outputs of the glibc and
HAKMEM runs must match where a workload's output is deterministic.

usage: realprog.py --hakmem LIB [--churn BIN] [--runs N] [--only a,b] [--repo DIR] [NAME=LIB ...]
"""
import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TIME = "/usr/bin/time"  # GNU time (Debian package "time")
TMP = None
SYSLIB = "/usr/lib/x86_64-linux-gnu"
PEERS = {
    "mimalloc": SYSLIB + "/libmimalloc.so.2",
    "jemalloc": SYSLIB + "/libjemalloc.so.2",
    "tcmalloc": SYSLIB + "/libtcmalloc_minimal.so.4",
}

PY_OBJECTS = r"""
import json, collections
class Node:
    __slots__ = ("k", "v", "kids")
    def __init__(self, k, v): self.k, self.v, self.kids = k, v, []
roots = []
for r in range(40):
    nodes = [Node(i, str(i) * (i % 7 + 1)) for i in range(20000)]
    for i in range(1, len(nodes)): nodes[(i - 1) // 3].kids.append(nodes[i])
    roots.append(nodes[0])
    if len(roots) > 4: roots.pop(0)
d = collections.Counter(str(i % 9973) for i in range(600000))
s = json.dumps({k: [v, k * 3] for k, v in d.items()})
print(len(s), len(json.loads(s)), sum(len(n.kids) for n in roots))
"""

PY_TEXT = r"""
import re
words = ["alpha", "beta", "gamma", "delta", "eps"]
lines = [" ".join(words[(i * j) % 5] + str(j) for j in range(12)) for i in range(120000)]
idx = {}
for ln in lines:
    for w in re.findall(r"[a-z]+\d", ln):
        idx.setdefault(w, []).append(len(ln))
out = sorted((len(v), k) for k, v in idx.items())
print(len(out), out[-1])
"""

PERL_HASH = r"""
my %h; my @keep;
for my $i (1 .. 600000) { $h{$i % 50000} .= "x$i"; push @keep, [$i, "v$i"] if $i % 3 == 0; }
my $n = 0; for my $k (sort { $a <=> $b } keys %h) { $n += length($h{$k}); }
my @s = sort { $a->[1] cmp $b->[1] } @keep;
print scalar(keys %h), " $n ", scalar(@s), "\n";
"""

NODE_OBJECTS = r"""
let keep = [];
for (let r = 0; r < 30; r++) {
  const m = new Map();
  for (let i = 0; i < 60000; i++) m.set('k' + i, {i, s: 'v'.repeat(i % 32), a: [i, i + 1]});
  keep.push(JSON.stringify([...m.values()].slice(0, 20000)));
  if (keep.length > 3) keep.shift();
}
console.log(keep.length, keep[0].length);
"""

SQLITE = ("create table t(a integer primary key, b text, c integer);"
          "create index tb on t(b);"
          "with recursive c(x) as (select 1 union all select x + 1 from c where x < 150000) "
          "insert into t select x, hex(randomblob(24)), x % 977 from c;"
          "select count(*) from (select c, count(*), max(b) from t group by c);"
          "select count(*) from t a join t b on a.c = b.a where a.a < 60000;")


def make_inputs(tmp):
    """Deterministic input files: a C source for gcc, lines for sort, bytes for xz."""
    src = os.path.join(tmp, "gen.c")
    with open(src, "w") as f:
        f.write("#include <stdio.h>\n#include <string.h>\n")
        for i in range(600):
            f.write("struct s%d { int a[%d]; char n[16]; };\n" % (i, i % 13 + 1))
            f.write("static int f%d(struct s%d *p, int x) {\n"
                    "  int t = 0; for (int i = 0; i < %d; i++) { t += p->a[i] * (x ^ i);"
                    " if (t > %d) t -= x; }\n"
                    "  snprintf(p->n, sizeof p->n, \"%%d\", t); return t + (int)strlen(p->n); }\n"
                    % (i, i, i % 13 + 1, i * 7 + 1))
        f.write("int main(void) { int t = 0;\n")
        for i in range(600):
            f.write("  { struct s%d v = {0}; t += f%d(&v, %d); }\n" % (i, i, i))
        f.write("  printf(\"%d\\n\", t); return 0; }\n")
    lines = os.path.join(tmp, "lines.txt")
    with open(lines, "w") as f:
        x = 88172645463325252
        for i in range(600000):
            x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
            x ^= x >> 7
            x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
            f.write("%016x %d %s\n" % (x, i, "w" * (x % 40)))
    blob = os.path.join(tmp, "blob.bin")
    with open(blob, "wb") as f, open(lines, "rb") as g:
        f.write(g.read()[:12 << 20])
    return src, lines, blob


def workloads(tmp, repo, churn):
    src, lines, blob = make_inputs(tmp)
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
    w = [
        ("python_objects", [py, "-c", PY_OBJECTS], None, True),
        ("python_text", [py, "-c", PY_TEXT], None, True),
        ("perl_hash", ["perl", "-e", PERL_HASH], None, True),
        ("sqlite_index", ["sqlite3", ":memory:", SQLITE], None, False),  # randomblob
        ("gcc_O2", ["gcc", "-O2", "-c", "-o", os.path.join(tmp, "gen.o"), src], None, True),
        ("gcc_O0", ["gcc", "-O0", "-g", "-c", "-o", os.path.join(tmp, "gen0.o"), src], None, True),
        ("git_log_p", ["git", "-C", repo, "log", "-p", "--stat", "-n", "400"], None, True),
        ("node_objects", ["node", "-e", NODE_OBJECTS], None, True),
        ("xz_T2", ["xz", "-T2", "-6", "--block-size=1MiB", "-c", blob], None, True),
        ("xz_d", ["xz", "-d", "-c", blob + ".xz"], None, True),
        ("sort", ["sort", "-S", "64M", "--parallel=2", lines], None, True),
    ]
    if churn:
        w.append(("c_thread_churn", [churn, "100", "20000"], None, False))  # prints its timing
    subprocess.run(["xz", "-T2", "-6", "-k", "-f", blob], check=True)
    return w


def run_once(cmd, env, out_path):
    # GNU time, a small process, forks and execs the workload: ru_maxrss counts the address
    # space a process had before exec too, so a fork of this (large) Python process would
    # report Python's own RSS as the floor.
    rss_file = out_path + ".rss" if out_path != os.devnull else os.path.join(TMP, "rss")
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        p = subprocess.run([TIME, "-q", "-f", "%M", "-o", rss_file] + cmd, env=env, stdout=out,
                           stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss, p.returncode, p.stderr


def env_for(lib, extra=None):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib:
        env["LD_PRELOAD"] = lib
    if extra:
        env.update(extra)
    return env


def served(err):
    refills = [int(m) for m in re.findall(rb'"tiny":\{[^}]*"refills":(\d+)', err)]
    return refills and max(refills) > 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hakmem", required=True)
    ap.add_argument("--churn", default="")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--repo", default=os.getcwd())
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="comma-separated peers to run (default: all installed); empty for none")
    ap.add_argument("extra", nargs="*", help="NAME=LIB to add another allocator")
    a = ap.parse_args()

    allocs = [("glibc", None)]
    wanted = [p for p in a.peers.split(",") if p]
    for p in wanted:
        if p not in PEERS:
            print("realprog: unknown peer %s (known: %s)" % (p, ",".join(PEERS)), file=sys.stderr)
            return 2
    for name, path in PEERS.items():
        if name not in wanted:
            continue
        if os.path.exists(path):
            allocs.append((name, path))
        else:
            print("note: %s not installed (%s), left out" % (name, path), file=sys.stderr)
    allocs.append(("hakmem", os.path.abspath(a.hakmem)))
    for e in a.extra:
        n, _, p = e.partition("=")
        allocs.append((n, os.path.abspath(p)))

    global TMP
    tmp = TMP = tempfile.mkdtemp(prefix="realprog.")
    ws = workloads(tmp, a.repo, a.churn)
    if a.only:
        keep = set(a.only.split(","))
        ws = [w for w in ws if w[0] in keep]

    # Correctness and "HAKMEM served it" first: a preload that silently fails to load would
    # otherwise be measured as glibc.
    bad = 0
    for name, cmd, _, deterministic in ws:
        ref = os.path.join(tmp, name + ".ref")
        got = os.path.join(tmp, name + ".hak")
        _, _, rc0, _ = run_once(cmd, env_for(None), ref)
        _, _, rc1, err = run_once(cmd, env_for(allocs[-1 - len(a.extra)][1], {"HAKMEM_STATS": "json"}), got)
        msg = []
        if rc0 != 0 or rc1 != 0:
            msg.append("exit codes glibc=%d hakmem=%d" % (rc0, rc1))
        if deterministic and open(ref, "rb").read() != open(got, "rb").read():
            msg.append("output differs from glibc's")
        if not served(err):
            msg.append("HAKMEM did not serve it (no tiny refills in HAKMEM_STATS=json)")
        if msg:
            bad += 1
            print("%s: %s" % (name, "; ".join(msg)), file=sys.stderr)
    if bad:
        print("realprog: %d workload(s) failed the check above" % bad, file=sys.stderr)
        return 1

    res = {}  # (workload, alloc) -> [(wall, rss_kb)]
    for r in range(a.runs):
        for name, cmd, _, _ in ws:
            order = allocs if r % 2 == 0 else list(reversed(allocs))
            for an, lib in order:
                wall, rss, rc, err = run_once(cmd, env_for(lib), os.devnull)
                if rc != 0:
                    print("%s under %s exited %d: %s" % (name, an, rc, err[-300:]), file=sys.stderr)
                    return 1
                res.setdefault((name, an), []).append((wall, rss))
        print("run %d/%d done" % (r + 1, a.runs), file=sys.stderr)

    names = [x[0] for x in allocs]
    print("\nmedian wall time (s) and peak RSS (MB), %d runs, interleaved" % a.runs)
    print("%-16s" % "workload" + "".join("%20s" % n for n in names))
    tgeo = {n: [] for n in names}
    rgeo = {n: [] for n in names}
    for w in ws:
        row = "%-16s" % w[0]
        g = res[(w[0], "glibc")]
        gt = statistics.median(x[0] for x in g)
        gr = statistics.median(x[1] for x in g)
        for n in names:
            v = res[(w[0], n)]
            t = statistics.median(x[0] for x in v)
            m = statistics.median(x[1] for x in v)
            tgeo[n].append(math.log(t / gt))
            rgeo[n].append(math.log(m / gr))
            row += "%12.3f %7.1f" % (t, m / 1024.0)
        print(row)
    print("%-16s" % "geomean vs glibc" + "".join(
        "%12.3f %7.3f" % (math.exp(sum(tgeo[n]) / len(ws)), math.exp(sum(rgeo[n]) / len(ws)))
        for n in names))
    print("\nratio to glibc per workload (time / RSS)")
    for w in ws:
        g = res[(w[0], "glibc")]
        gt = statistics.median(x[0] for x in g)
        gr = statistics.median(x[1] for x in g)
        print("%-16s" % w[0] + "".join(
            "%12.2f %7.2f" % (statistics.median(x[0] for x in res[(w[0], n)]) / gt,
                              statistics.median(x[1] for x in res[(w[0], n)]) / gr)
            for n in names))
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
