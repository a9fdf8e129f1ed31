// adapt.c — thread-cache capacities that follow the traffic, for the classes the engine
// sizes itself (below the band, < 1088 B; the band sizes its own, see band.h).
//
// A bin starts at its target (HAKMEM_TINY_CACHE_BYTES / stride). When it overflows and the
// thread has also had to refill it (since the last shrink), the thread's working set of
// that class crosses the capacity in both directions (bursts of mallocs then frees longer
// than the cache): every crossing would cost a flush and a refill, so the capacity doubles
// instead and the free goes in, up to 8x the target or 4096 blocks, and within the
// thread's budget HAKMEM_TINY_ADAPT_BYTES of capacity above the targets. When it overflows
// 64 times in a row with no refill in between, the thread only frees that class (a
// consumer): the capacity halves back toward the target, flushing what no longer fits.
//
// The band's classes (>= 1088 B) grow the other way: from small, on demand. A thread cache
// starts each of them at the band's smallest refill (band.h: refill_min) with no
// ring; each refill doubles the list's capacity toward the band's target, the ring growing
// in proportion, so a thread that allocates a class reaches the full cache within a few
// refills. A thread that only frees a class keeps its few blocks and passes the rest on:
// 2 producers and 2 consumers of 4 - 64 KiB messages peaked at 55 MB (glibc 5 MB) when every
// consumer held the full capacity of every class it freed, up to 1.5 MiB each. When a grown
// bin overflows ADAPT_BAND_DRY times in a row with no refill, it halves back toward the start.
// Everything here runs on the slow paths; the fast paths only see a larger `room`.
#include "hakmem/config.h"
#include "hakmem/tiny/heap_impl.h"

#define ADAPT_MAX_FACTOR 8
#define ADAPT_MAX_BLOCKS 4096
#define ADAPT_DRY_OVERFLOWS 64
#define ADAPT_BAND_DRY 16

// The smallest capacity of band class c: the band's smallest refill, within its target.
static uint32_t band_floor(const tiny_band_t *band, const tiny_adapt_t *a, unsigned c) {
  uint32_t f = band->refill_min(c);
  return f < a->base[c] ? f : a->base[c];
}

// The ring capacity that goes with list capacity cap of ring class c: none at the start,
// the band's full ring at the target, in proportion between.
static uint32_t band_ring_for(const tiny_tls_t *t, const tiny_band_t *band, unsigned c, uint32_t cap) {
  if (c < TINY_RING_FIRST) return 0;
  uint32_t full = t->adapt.ring_base[c - TINY_RING_FIRST], base = t->adapt.base[c];
  uint32_t floor = band_floor(band, &t->adapt, c);
  if (cap >= base) return full;
  if (cap <= floor) return 0;
  return (uint32_t)((uint64_t)full * (cap - floor) / (base - floor));
}

// Bytes of capacity class c holds above its start at list capacity cap.
static uint64_t band_cost(const tiny_tls_t *t, const tiny_band_t *band, unsigned c, uint32_t cap) {
  uint32_t floor = band_floor(band, &t->adapt, c);
  uint64_t blocks = (cap > floor ? cap - floor : 0) + band_ring_for(t, band, c, cap);
  return blocks * tiny_class_stride[c];
}

// Sets ring class c's ring capacity to go with its list's; what no longer fits leaves as
// one chain (the band's, or the slabs).
static void band_set_ring(tiny_tls_t *t, const tiny_band_t *band, unsigned c) {
  if (c < TINY_RING_FIRST) return;
  tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
  uint32_t cap = band_ring_for(t, band, c, t->bin[c].cap);
  if (r->n > cap) {
    uint32_t k = r->n - cap;
    heap_spill_chain(t, c, heap_ring_chain(r, cap), k);
  }
  r->cap = cap;
}

void heap_adapt_start(tiny_tls_t *t) {
  tiny_adapt_t *a = &t->adapt;
  for (unsigned c = 0; c < TINY_NCLASS; c++) a->base[c] = (uint16_t)t->bin[c].cap;
  for (unsigned i = 0; i < TINY_NRING; i++) a->ring_base[i] = (uint8_t)t->ring[i].cap;
  a->band_bytes = 0;
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    const tiny_band_t *band = tiny_band_of(c);
    if (!band) continue;
    tiny_bin_t *b = &t->bin[c];
    b->cap = b->room = band_floor(band, a, c);
    band_set_ring(t, band, c);
  }
}

// Band class c missed: its capacity doubles toward the target while the thread's budget
// (HAKMEM_MID_GROW_BYTES over all band classes) lasts.
void heap_adapt_miss(tiny_tls_t *t, unsigned c) {
  tiny_bin_t *b = &t->bin[c];
  tiny_adapt_t *a = &t->adapt;
  const tiny_band_t *band = tiny_band_of(c);
  if (!band || b->cap >= a->base[c]) return;
  uint32_t cap = b->cap * 2 < a->base[c] ? b->cap * 2 : a->base[c];
  uint64_t more = band_cost(t, band, c, cap) - band_cost(t, band, c, b->cap);
  if (a->band_bytes + more > (uint64_t)__atomic_load_n(&hak_cfg.mid_grow_bytes, __ATOMIC_RELAXED)) return;
  a->band_bytes += more;
  b->room += cap - b->cap;
  b->cap = cap;
  band_set_ring(t, band, c);
  a->grows++;
}

int heap_adapt_full(tiny_tls_t *t, unsigned c) {
  tiny_adapt_t *a = &t->adapt;
  tiny_bin_t *b = &t->bin[c];
  const tiny_band_t *band = tiny_band_of(c);
  if (band) {  // only frees for a while: back toward the start (the caller flushes)
    uint32_t floor = band_floor(band, a, c);
    if (++a->dry[c] >= ADAPT_BAND_DRY && b->cap > floor) {
      a->dry[c] = 0;
      uint32_t cap = b->cap / 2 > floor ? b->cap / 2 : floor;
      a->band_bytes -= band_cost(t, band, c, b->cap) - band_cost(t, band, c, cap);
      heap_set_cap(t, c, cap);
      band_set_ring(t, band, c);
      a->shrinks++;
    }
    return 0;
  }
  if (!hak_cfg.tiny_adapt_bytes) return 0;
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
