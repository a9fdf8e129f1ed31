#!/usr/bin/env python3
"""ci/lockfree_paths.py — the TSan gate's list of lock-free files is written twice: in
ci/tsan_gate.sh (LOCKFREE_FILES, which picks the long gate) and in the `paths:` filters of
.github/workflows/tsan-gate.yml (a workflow's path filter cannot read a script). Fails when
they disagree: a listed file that a trigger's filters miss, or a filter (other than the
gate's own files) that matches no listed file.
  python3 ci/lockfree_paths.py [tsan_gate.sh] [tsan-gate.yml]
"""
import fnmatch
import re
import sys

OWN = {"stress/**", "ci/tsan_gate.sh"}  # the gate's own inputs, not lock-free code


def main():
    script = sys.argv[1] if len(sys.argv) > 1 else "ci/tsan_gate.sh"
    workflow = sys.argv[2] if len(sys.argv) > 2 else ".github/workflows/tsan-gate.yml"
    m = re.search(r'^LOCKFREE_FILES="([^"]*)"', open(script).read(), re.M)
    if not m:
        print(f"lockfree paths: no LOCKFREE_FILES in {script}")
        return 1
    files = m.group(1).split()
    # Each trigger's `paths:` block: the list items indented under it.
    triggers, cur = {}, None
    for line in open(workflow):
        t = re.match(r"^  (\w+):\s*$", line)
        if t:
            cur = t.group(1)
            continue
        if re.match(r"^\S", line):
            cur = None
        item = re.match(r'^\s+- "([^"]+)"\s*$', line)
        if cur and item:
            triggers.setdefault(cur, []).append(item.group(1))
    bad = 0
    for trig, pats in sorted(triggers.items()):
        for f in files:
            if not any(fnmatch.fnmatch(f, p) for p in pats):
                print(f"lockfree paths: {f} is in LOCKFREE_FILES but no paths filter of `{trig}` in {workflow} matches it")
                bad += 1
        for p in pats:
            if p not in OWN and not any(fnmatch.fnmatch(f, p) for f in files):
                print(f"lockfree paths: filter {p!r} of `{trig}` matches no file of LOCKFREE_FILES in {script}")
                bad += 1
    if not triggers:
        print(f"lockfree paths: no paths filters found in {workflow}")
        bad += 1
    print(f"lockfree paths: {len(files)} files, {len(triggers)} triggers, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
