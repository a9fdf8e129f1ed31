#!/usr/bin/env python3
"""ci/circles.py — fails when the modules of hakmem/ include each other in a circle.

A module is a file name without its extension (x.h and x.c are one module: the header's
inline code and the source's definitions are one mechanism), and an arrow runs from a
module to every hakmem module one of its files includes, and to the module that defines a
function one of its files declares by hand: a prototype in a source file, or in a header
that also holds inline code (an inline fast path calling a slow path declared beside it
depends on the file that defines it). A header of prototypes only is an interface, which
its implementations include without depending on each other. An inline header that calls back
into the source including it, or two tiers that need each other, show up as a circle.
Prints each circle found; exit 1 if there is one.
  python3 ci/circles.py [root]        (default: the repository's hakmem/)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"(hakmem/[^"]+)"', re.M)
# Top-level function definitions and prototypes (column 0, C style of this repository).
DEF = re.compile(r'^(?!static\b|typedef\b|#)[A-Za-z_][\w \t\*]*?\b(\w+)\([^;{]*\)\s*(?:__attribute__\(\(.*\)\)\s*)?\{', re.M)
INLINE = re.compile(r'^(?:HAK_INLINE|static inline)\b[^;]*\{', re.M)
PROTO = re.compile(r'^(?!static\b|typedef\b|#|return\b)[A-Za-z_][\w \t\*]*?\b(\w+)\([^;{}]*\)\s*(?:__attribute__\(\([^;]*\)\)\s*)?;', re.M)


def modules(root):
    top = os.path.dirname(os.path.abspath(root))
    graph, texts, defined_in = {}, {}, {}
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith((".c", ".h")) or f.endswith("_test.c"):
                continue
            path = os.path.join(d, f)
            mod = os.path.relpath(os.path.splitext(path)[0], top)
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            texts[path] = (mod, text)
            if f.endswith(".c"):
                for name in DEF.findall(text):
                    defined_in.setdefault(name, mod)
    for path, (mod, text) in texts.items():
        deps = {os.path.splitext(m)[0] for m in INCLUDE.findall(text)}
        if path.endswith(".c") or INLINE.search(text):
            deps |= {defined_in[n] for n in PROTO.findall(text) if n in defined_in}
        graph.setdefault(mod, set()).update(x for x in deps if x != mod)
    return graph


def circles(graph):
    # Tarjan's strongly connected components, iteratively.
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "hakmem")
    graph = modules(root)
    found = circles(graph)
    for comp in found:
        members = set(comp)
        ties = ["%s -> %s" % (a, b) for a in comp for b in sorted(graph[a]) if b in members]
        print("circle of %d modules: %s" % (len(comp), ", ".join(ties)))
    print("circles: %d modules, %d include arrows, %d circles" %
          (len(graph), sum(len(v) for v in graph.values()), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
