#!/usr/bin/env python3
"""Writes the committed seed corpus of ops_fuzzer (fuzz/corpus/ops). Each seed is a short,
meaningful program; see the record format at the top of ops_fuzzer.c."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ops")
MALLOC, CALLOC, REALLOC, ALIGNED, FREE, FREE_SIZED, CHECK, RESTART, TRIM, FLUSH = range(10)


def rec(thread, op, slot, *operands):
    return bytes([(op << 2) | thread, slot]) + bytes(operands)


def size(tier, v):  # tier 0 tiny, 1 mid, 2 large, 3 powers of two / huge
    return bytes([tier, v >> 8 & 0xff, v & 0xff])


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
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), OUT))
