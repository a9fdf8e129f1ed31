// stats.c — the slab engine's share of hak_stats_t (tiny_*, heaps, superslabs_*), from its
// exact counters: heap totals and the SuperSlab cache. The mid band fills its own (mid/).
#include "hakmem/hakmem.h"
#include "hakmem/tiny/heap.h"

void tiny_stats_fill(hak_stats_t *s) {
  tiny_totals_t t;
  tiny_totals(&t);
  uint64_t band_blocks = 0, band_bytes = 0;
  if (tiny_band) tiny_band->held(&band_blocks, &band_bytes);
  s->tiny_cached_blocks = t.cached_blocks;
  // Out of the slabs but not live: in thread caches or held by the band (the mid depot).
  s->tiny_live_blocks = t.refilled - t.flushed - t.cached_blocks - band_blocks;
  s->tiny_refills = t.refills;
  s->tiny_flushes = t.flushes;
  s->tiny_remote_frees = t.remote_pushes;
  s->tiny_remote_drained = t.remote_drained;
#if HAKMEM_DEBUG_COUNTERS
  s->tiny_allocs = t.allocs;
  s->tiny_frees = t.frees;
  s->tiny_hit_permille = t.allocs ? (t.allocs - (t.refills < t.allocs ? t.refills : t.allocs)) * 1000 / t.allocs : 0;
#endif
  s->heaps = t.heaps;
  s->heaps_abandoned = t.heaps_abandoned;
  ss_stats_t ss;
  ss_stats_get(&ss);
  s->superslabs_live = ss.mapped - ss.cached;
  s->superslabs_cached = ss.cached;
  s->superslab_maps = ss.maps;
  s->superslab_unmaps = ss.unmaps;
  s->bytes_mapped += ss.bytes;
}
