// stats.c — the slab engine's share of hak_stats_t (tiny_*, mid_*, heaps, superslabs_*),
// from its exact counters: heap totals, the depot and the SuperSlab cache.
#include "hakmem/hakmem.h"
#include "hakmem/tiny/depot.h"
#include "hakmem/tiny/heap.h"

void tiny_stats_fill(hak_stats_t *s) {
  tiny_totals_t t;
  tiny_totals(&t);
  depot_stats_t d;
  depot_stats_get(&d);
  s->tiny_cached_blocks = t.cached_blocks;
  // Out of the slabs but not live: in thread caches or in the mid classes' depot.
  s->tiny_live_blocks = t.refilled - t.flushed - t.cached_blocks - d.blocks;
  s->mid_depot_blocks = d.blocks;
  s->mid_depot_bytes = d.bytes;
  s->mid_depot_puts = d.puts;
  s->mid_depot_gets = d.gets;
  s->mid_depot_refused = d.refused;
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
  s->mid_arenas = ss.arenas;
  s->mid_arena_reserved_bytes = ss.arena_reserved;
  s->bytes_mapped += ss.mapped * SS_SIZE + ss.arena_reserved;
}
