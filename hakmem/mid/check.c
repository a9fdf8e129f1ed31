// check.c — the mid tier's integrity checker (mid_check). The blocks in depot bundles are
// checked by the slab engine's checker (each must be a free block of its class); this one
// checks what only the tier knows: each bundle's length against the length it records, the
// depot's block and byte counters against the bundles, and the reserved-bytes counter
// against the heaps' arenas.
#include <stdint.h>

#include "hakmem/log.h"
#include "hakmem/mid/arena.h"
#include "hakmem/mid/depot.h"
#include "hakmem/mid/mid.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/freelink.h"

typedef struct {
  unsigned bad;
  uint64_t blocks, bytes, reserved;
} mid_check_t;

static void check_bundle(unsigned c, void *head, uint32_t n, void *arg) {
  mid_check_t *x = arg;
  uint32_t k = 0;
  for (void *b = head; b && k <= n; b = hak_next_peek(b)) k++;
  if (k != n) {
    hak_log("integrity: depot bundle %p class %u: chain length %u, bundle says %u", head, c, k, n);
    x->bad++;
  }
  x->blocks += n;
  x->bytes += (uint64_t)n * tiny_class_stride[c];
}

static void check_heap_arena(tiny_heap_t *h, void *arg) {
  mid_check_t *x = arg;
  pthread_mutex_lock(&h->lock);
  const mid_arena_t *a = (const mid_arena_t *)&h->band;
  if (a->next > a->end || ((uintptr_t)a->next & (SS_SIZE - 1)) || ((uintptr_t)a->end & (SS_SIZE - 1))) {
    hak_log("integrity: mid arena of heap %p: next %p, end %p (not SuperSlab-aligned or inverted)", (void *)h,
            (void *)a->next, (void *)a->end);
    x->bad++;
  } else {
    x->reserved += (uint64_t)(a->end - a->next);
  }
  pthread_mutex_unlock(&h->lock);
}

unsigned mid_check(void) {
  mid_check_t x = {0};
  mid_depot_foreach(check_bundle, &x);
  mid_depot_stats_t d;
  mid_depot_stats_get(&d);
  if (d.blocks != x.blocks || d.bytes != x.bytes) {
    hak_log("integrity: depot holds %lu blocks / %lu bytes, its counters say %lu / %lu", (unsigned long)x.blocks,
            (unsigned long)x.bytes, (unsigned long)d.blocks, (unsigned long)d.bytes);
    x.bad++;
  }
  tiny_heaps_foreach(check_heap_arena, &x);
  mid_arena_stats_t a;
  mid_arena_stats_get(&a);
  if (a.reserved != x.reserved) {
    hak_log("integrity: mid arenas hold %lu reserved bytes, the counter says %lu", (unsigned long)x.reserved,
            (unsigned long)a.reserved);
    x.bad++;
  }
  return x.bad;
}
