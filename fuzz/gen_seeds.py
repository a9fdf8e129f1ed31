#!/usr/bin/env python3
"""Writes the committed seed corpus of ops_fuzzer (fuzz/corpus/ops). Each seed is a short,
meaningful program; see the record format at the top of ops_fuzzer.c."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ops")
MALLOC, CALLOC, REALLOC, ALIGNED, FREE, FREE_SIZED, CHECK, RESTART, TRIM, FLUSH, FAULT = range(11)
# FAULT's slot byte picks ops_fuzzer.c's fault_specs[slot % 9] (a fault-injection build only).
F_NONE, F_MADVISE_HALF, F_MADVISE_ALL, F_MREMAP_HALF, F_MREMAP_ALL, F_MMAP_THIRD, F_MMAP_16, F_MUNMAP_HALF, F_MIX = range(9)


def rec(thread, op, slot, *operands):
    return bytes([(op << 2) | thread, slot]) + bytes(operands)


def size(tier, v):  # tier 0 tiny, 1 mid, 2 large, 3 powers of two / huge
    return bytes([tier, v >> 8 & 0xff, v & 0xff])


def size_large(v):  # 8 MiB + 64 v: the large tier (its realloc uses mremap)
    return bytes([3 | 1 << 2, v >> 8 & 0xff, v & 0xff])


seeds = {
    "tiny_roundtrip": rec(0, MALLOC, 1, *size(0, 100)) + rec(0, FREE, 1) + rec(0, CHECK, 0),
    "cross_thread_free": b"".join(rec(0, MALLOC, k, *size(0, 16 * k)) for k in range(16))
    + b"".join(rec(1, FREE, k) for k in range(16)) + rec(2, CHECK, 0),
    "every_tier": b"".join(rec(k % 3, MALLOC, k, *size(k % 4, 300 * k)) for k in range(12)) + rec(0, CHECK, 0),
    "realloc_chain": rec(0, MALLOC, 5, *size(0, 8)) + b"".join(rec(k % 3, REALLOC, 5, *size(k % 4, 500 * k + 7)) for k in range(10)),
    "aligned": b"".join(rec(k % 3, ALIGNED, k, k, *size(k % 3, 64 * k)) for k in range(19)) + rec(1, CHECK, 0),
    "calloc_sized_free": rec(1, CALLOC, 2, 7, *size(1, 3000)) + rec(2, FREE_SIZED, 2) + rec(0, CHECK, 0),
    "thread_exit": b"".join(rec(1, MALLOC, k, *size(0, 40 * k)) for k in range(20)) + rec(1, RESTART, 0)
    + b"".join(rec(2, FREE, k) for k in range(0, 20, 2)) + rec(0, CHECK, 0),
    "trim_flush": rec(0, MALLOC, 1, *size(2, 2000)) + rec(0, FREE, 1) + rec(0, TRIM, 0) + rec(1, FLUSH, 0) + rec(0, CHECK, 0),
    # Failing OS calls: calloc after a refused release, realloc without mremap, mmap refusals.
    "fault_calloc_after_refused_madvise": b"".join(rec(0, MALLOC, k, *size(2, 60000 + 999 * k)) for k in range(8))
    + b"".join(rec(0, FREE, k) for k in range(8)) + rec(0, FAULT, F_MADVISE_ALL) + rec(0, TRIM, 0)
    + b"".join(rec(0, CALLOC, k, 1, *size(2, 60000 + 999 * k)) for k in range(8)) + rec(0, CHECK, 0),
    "fault_realloc_without_mremap": rec(0, FAULT, F_MREMAP_ALL) + rec(0, MALLOC, 3, *size_large(24))
    + b"".join(rec(0, REALLOC, 3, *size_large(24 + 20000 * k)) for k in range(4)) + rec(0, CHECK, 0),
    "fault_mmap_refusals": rec(0, FAULT, F_MMAP_THIRD) + b"".join(rec(k % 3, MALLOC, k, *size(k % 4, 4000 * k + 9)) for k in range(24))
    + rec(1, CHECK, 0) + rec(0, FAULT, F_MIX) + b"".join(rec(k % 3, REALLOC, k, *size((k + 1) % 4, 3000 * k)) for k in range(24))
    + rec(0, CHECK, 0),
    # realloc's copy skips the pages never written (pagecopy.c): a calloc block of 1 MiB written
    # on every 16th page (slot 4's pattern makes it sparse) moves past a live neighbour into
    # pages freed blocks wrote; its unwritten pages must still read zero there.
    # (TRIM first: the replay runs every seed in one process, and a calloc into pages an earlier
    # seed left dirty is written whole.)
    "realloc_sparse_calloc_into_used_pages": rec(0, TRIM, 0) + rec(0, CALLOC, 4, 0, *size(3, 1))
    + b"".join(rec(0, MALLOC, k, *size(3, 65535)) for k in range(10, 14))
    + b"".join(rec(1, FREE, k) for k in range(11, 14))
    + rec(2, REALLOC, 4, *size(3, 65535)) + rec(2, REALLOC, 4, *size(3, 30000)) + rec(0, CHECK, 0),
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), OUT))
