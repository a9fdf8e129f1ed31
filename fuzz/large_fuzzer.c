// large_fuzzer — the large tier (hakmem/large) through its seam: mappings per block with
// alignment, the freed-mapping cache (BigCache: page-count buckets, bitmap, global LRU,
// eviction under the cap, reuse of a close fit, shrinking a larger one in place), realloc by
// mremap, and trim. large_check() runs after every operation; every live block keeps its
// contents, fresh blocks read zero, and live blocks never overlap.
//
// Record format: op byte, slot byte, size bytes (2: pages, scaled), alignment byte.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/large/large.h"

#define NSLOTS 12
#define PAGE 4096u

typedef struct {
  uint8_t *p;
  large_hdr_t *h;
  size_t size;
  uint8_t fill;
} slot_t;

static slot_t slots[NSLOTS];

static void die(const char *what, const void *p) {
  fprintf(stderr, "large_fuzzer: %s (%p)\n", what, p);
  abort();
}

// Samples: first and last byte plus one per page.
static void verify(const slot_t *s) {
  for (size_t off = 0; off < s->size; off += PAGE)
    if (s->p[off] != s->fill) die("block contents changed", s->p);
  if (s->p[s->size - 1] != s->fill) die("last byte changed", s->p);
}

static void fill(slot_t *s) {
  for (size_t off = 0; off < s->size; off += PAGE) s->p[off] = s->fill;
  s->p[s->size - 1] = s->fill;
}

static void release(slot_t *s) {
  if (!s->p) return;
  verify(s);
  large_free(s->h);
  s->p = NULL;
}

static void check(void) {
  if (large_check() != 0) die("large_check reported violations", NULL);
  for (unsigned i = 0; i < NSLOTS; i++) {
    if (!slots[i].p) continue;
    if (large_lookup(slots[i].p) != slots[i].h) die("live block not found by its pointer", slots[i].p);
    for (unsigned j = i + 1; j < NSLOTS; j++)
      if (slots[j].p && slots[i].p < slots[j].p + slots[j].size && slots[j].p < slots[i].p + slots[i].size)
        die("two live blocks overlap", slots[i].p);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (size_t pos = 0; pos + 5 <= size; pos += 5) {
    unsigned op = data[pos] % 6;
    slot_t *s = &slots[data[pos + 1] % NSLOTS];
    // 1 B .. ~8 MiB, biased to a few pages so the cache sees repeated sizes.
    unsigned raw = (unsigned)data[pos + 2] | (unsigned)data[pos + 3] << 8;
    size_t n = raw < 0x8000 ? 1 + (size_t)(raw % 64) * PAGE + raw % 97 : (size_t)(raw - 0x8000) * 256 + 1;
    size_t align = (size_t)1 << (4 + data[pos + 4] % 19);  // 16 B .. 2 MiB
    switch (op) {
      case 0:
      case 1: {
        release(s);
        int fresh = 0;
        uint8_t *p = large_alloc(n, op == 1 ? align : 16, &fresh);
        if (!p) die("large_alloc returned NULL", NULL);
        if (op == 1 && ((uintptr_t)p % align)) die("misaligned block", p);
        large_hdr_t *h = large_lookup(p);
        if (!h || h->state != 1) die("new block not found or not live", p);
        if (large_usable(h) < n) die("usable size below the request", p);
        if (fresh)
          for (size_t off = 0; off < n; off += PAGE)
            if (p[off]) die("fresh block not zero", p);
        *s = (slot_t){p, h, n, (uint8_t)(data[pos + 4] | 1)};
        fill(s);
        break;
      }
      case 2:
        release(s);
        break;
      case 3:  // realloc in place or by moving pages (only unaligned blocks)
        if (s->p && (uint8_t *)s->h + LARGE_HDR == s->p) {
          verify(s);
          uint8_t *q = large_realloc(s->h, n);
          if (q) {
            s->p = q;
            s->h = large_lookup(q);
            if (!s->h) die("realloc'd block not found", q);
            size_t keep = n < s->size ? n : s->size;
            for (size_t off = 0; off < keep - 1; off += PAGE)
              if (q[off] != s->fill) die("realloc lost contents", q);
            s->size = n;
            fill(s);
          }
        }
        break;
      case 4:
        large_trim();
        break;
      default:
        for (unsigned i = 0; i < NSLOTS; i++)
          if (slots[i].p) verify(&slots[i]);
        break;
    }
    check();
  }
  for (unsigned i = 0; i < NSLOTS; i++) release(&slots[i]);
  large_trim();
  check();
  return 0;
}
