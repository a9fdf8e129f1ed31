// adapt.c — thread-cache capacities that follow the traffic, for the classes the engine
// sizes itself (below the band, < 1280 B; the band sizes its own, see band.h).
//
// A bin starts at its target (HAKMEM_TINY_CACHE_BYTES / stride). When it overflows and the
// thread has also had to refill it (since the last shrink), the thread's working set of
// that class crosses the capacity in both directions (bursts of mallocs then frees longer
// than the cache): every crossing would cost a flush and a refill, so the capacity doubles
// instead and the free goes in, up to 8x the target or 4096 blocks, and within the
// thread's budget HAKMEM_TINY_ADAPT_BYTES of capacity above the targets. When it overflows
// 64 times in a row with no refill in between, the thread only frees that class (a
// consumer): the capacity halves back toward the target, flushing what no longer fits.
// Everything here runs on the slow paths; the fast paths only see a larger `room`.
#include "hakmem/config.h"
#include "hakmem/tiny/heap_impl.h"

#define ADAPT_MAX_FACTOR 8
#define ADAPT_MAX_BLOCKS 4096
#define ADAPT_DRY_OVERFLOWS 64

void heap_adapt_start(tiny_tls_t *t) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) t->adapt.base[c] = (uint16_t)t->bin[c].cap;
}

int heap_adapt_full(tiny_tls_t *t, unsigned c) {
  if (tiny_band_of(c) || !hak_cfg.tiny_adapt_bytes) return 0;
  tiny_adapt_t *a = &t->adapt;
  tiny_bin_t *b = &t->bin[c];
  uint64_t stride = tiny_class_stride[c];
  if (++a->dry[c] >= ADAPT_DRY_OVERFLOWS) {  // only frees for a long while: give back
    a->dry[c] = 0;
    a->refilled[c] = 0;
    if (b->cap > a->base[c]) {
      uint32_t cap = b->cap / 2 > a->base[c] ? b->cap / 2 : a->base[c];
      a->grown_bytes -= (uint64_t)(b->cap - cap) * stride;
      heap_set_cap(t, c, cap);
      a->shrinks++;
    }
    return 0;
  }
  if (!a->refilled[c]) return 0;
  uint32_t limit = (uint32_t)a->base[c] * ADAPT_MAX_FACTOR;
  if (limit > ADAPT_MAX_BLOCKS) limit = ADAPT_MAX_BLOCKS;
  uint32_t grow = b->cap < limit ? b->cap : 0;
  if (b->cap + grow > limit) grow = limit - b->cap;
  uint64_t budget = (uint64_t)hak_cfg.tiny_adapt_bytes;
  uint64_t left = budget > a->grown_bytes ? budget - a->grown_bytes : 0;
  if ((uint64_t)grow * stride > left) grow = (uint32_t)(left / stride);
  if (!grow) return 0;
  b->cap += grow;
  b->room += grow;
  a->grown_bytes += grow * stride;
  a->grows++;
  return 1;
}
