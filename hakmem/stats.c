// stats.c — hak_stats_get() and the HAKMEM_STATS=1 exit report. Reads the tiers' exact
// counters; formats without stdio.
#include <string.h>

#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/log.h"
#include "hakmem/os.h"
#include "hakmem/pool/pool.h"
#include "hakmem/tiny/depot.h"
#include "hakmem/tiny/heap.h"

int hak_stats_get(hak_stats_t *out) {
  hak_stats_t s;
  memset(&s, 0, sizeof s);
  s.version = HAK_STATS_VERSION;
  s.size = sizeof s;
  tiny_totals_t t;
  tiny_totals(&t);
  depot_stats_t d;
  depot_stats_get(&d);
  s.tiny_cached_blocks = t.cached_blocks;
  // Out of the slabs but not live: in thread caches or in the mid classes' depot.
  s.tiny_live_blocks = t.refilled - t.flushed - t.cached_blocks - d.blocks;
  s.mid_depot_blocks = d.blocks;
  s.mid_depot_bytes = d.bytes;
  s.mid_depot_puts = d.puts;
  s.mid_depot_gets = d.gets;
  s.mid_depot_refused = d.refused;
  s.tiny_refills = t.refills;
  s.tiny_flushes = t.flushes;
  s.tiny_remote_frees = t.remote_pushes;
  s.tiny_remote_drained = t.remote_drained;
#if HAKMEM_DEBUG_COUNTERS
  s.tiny_allocs = t.allocs;
  s.tiny_frees = t.frees;
#endif
  s.heaps = t.heaps;
  s.heaps_abandoned = t.heaps_abandoned;
  ss_stats_t ss;
  ss_stats_get(&ss);
  s.superslabs_live = ss.mapped - ss.cached;
  s.superslabs_cached = ss.cached;
  s.superslab_maps = ss.maps;
  s.superslab_unmaps = ss.unmaps;
  large_stats_t l;
  large_stats_get(&l);
  s.large_live = l.live;
  s.large_live_bytes = l.live_bytes;
  s.large_cached = l.cached;
  s.large_cached_bytes = l.cached_bytes;
  s.large_allocs = l.allocs;
  s.large_frees = l.frees;
  s.large_cache_hits = l.cache_hits;
  pool_stats_t ps;
  pool_stats_get(&ps);
  s.pool_live_blocks = ps.live_blocks;
  s.pool_live_bytes = ps.live_bytes;
  s.pool_cached_blocks = ps.cached_blocks;
  s.pool_allocs = ps.allocs;
  s.pool_frees = ps.frees;
  s.pool_cache_hits = ps.tc_hits;
  s.pool_steals = ps.steals;
  s.pool_arenas = ps.arenas;
  s.pool_free_dirty_bytes = ps.free_dirty_bytes;
  s.pool_free_clean_bytes = ps.free_clean_bytes;
  s.pool_madvise_calls = ps.madvise_calls;
  s.pool_released_bytes = ps.released_bytes;
  s.mid_arenas = ss.arenas;
  s.mid_arena_reserved_bytes = ss.arena_reserved;
  s.bytes_mapped = ss.mapped * SS_SIZE + ss.arena_reserved + l.live_bytes + l.cached_bytes + ps.arenas * PH_ARENA_SIZE;
  uint64_t pool_all = ps.tc_hits + ps.tc_misses;
  s.pool_hit_permille = pool_all ? ps.tc_hits * 1000 / pool_all : 0;
  s.large_hit_permille = l.allocs ? l.cache_hits * 1000 / l.allocs : 0;
#if HAKMEM_DEBUG_COUNTERS
  s.tiny_hit_permille = t.allocs ? (t.allocs - (t.refills < t.allocs ? t.refills : t.allocs)) * 1000 / t.allocs : 0;
#endif
  s.lazyfree_bytes = hak_os_lazyfree_bytes();
  s.rss_bytes = hak_os_rss_bytes();
  s.peak_rss_bytes = hak_os_peak_rss_bytes();
  s.invalid_frees = hak_invalid_free_count();
  size_t n = out->size && out->size < sizeof s ? out->size : sizeof s;
  memcpy(out, &s, n);
  return 0;
}

#define FIELDS(X)                                                                                        \
  X(tiny_live_blocks) X(tiny_cached_blocks) X(tiny_refills) X(tiny_flushes) X(tiny_remote_frees)        \
  X(tiny_remote_drained) X(tiny_allocs) X(tiny_frees) X(superslabs_live) X(superslabs_cached)            \
  X(superslab_maps) X(superslab_unmaps) X(large_live) X(large_live_bytes) X(large_cached)                \
  X(large_cached_bytes) X(large_allocs) X(large_frees) X(large_cache_hits) X(heaps) X(heaps_abandoned)    \
  X(bytes_mapped) X(rss_bytes) X(peak_rss_bytes) X(invalid_frees) X(pool_live_blocks) X(pool_live_bytes)   \
  X(pool_cached_blocks) X(pool_allocs) X(pool_frees) X(pool_cache_hits) X(pool_steals) X(pool_arenas)     \
  X(pool_free_dirty_bytes) X(pool_free_clean_bytes) X(pool_madvise_calls) X(pool_released_bytes)        \
  X(tiny_hit_permille) X(pool_hit_permille) X(large_hit_permille) X(lazyfree_bytes) X(mid_depot_blocks)    \
  X(mid_depot_bytes) X(mid_depot_puts) X(mid_depot_gets) X(mid_depot_refused) X(mid_arenas)               \
  X(mid_arena_reserved_bytes)

void hak_stats_print(int json) {
  char buf[4096];
  size_t n = hak_stats_format(buf, sizeof buf, json);
  hak_os_write_stderr(buf, n);
}

size_t hak_stats_format(char *buf, size_t cap, int json) {
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  size_t n = 0;
  if (json) {
    n += hak_format(buf + n, cap - n, "{\"version\":%u", s.version);
#define J(f) n += hak_format(buf + n, cap - n, ",\"%s\":%lu", #f, (unsigned long)s.f);
    FIELDS(J)
#undef J
    n += hak_format(buf + n, cap - n, "}\n");
  } else {
    n += hak_format(buf + n, cap - n, "hakmem stats (v%u)\n", s.version);
#define T(f) n += hak_format(buf + n, cap - n, "  %s %lu\n", #f, (unsigned long)s.f);
    FIELDS(T)
#undef T
  }
  return n;
}
