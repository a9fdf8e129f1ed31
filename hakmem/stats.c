// stats.c — hak_stats_get() and the HAKMEM_STATS=1 exit report. Each tier fills its own
// fields from its exact counters (tiny/stats.c, mid_stats_fill, pool_stats_fill, large_stats_fill); this file
// adds the process-wide ones and formats without stdio.
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/log.h"
#include "hakmem/mid/mid.h"
#include "hakmem/os.h"
#include "hakmem/pool/pool.h"
#include "hakmem/tiny/engine.h"

// Fills *s whole. hak_stats_format calls this rather than hak_stats_get: inlined there, the
// copy below would have a destination of known size and a variable length, which
// _FORTIFY_SOURCE turns into a call of __memcpy_chk; importing that symbol makes the
// dynamic linker fault in one more 64 KiB window of libc's text in every process
// (tests/imports_test.sh keeps the imports to a listed set).
static void stats_collect(hak_stats_t *s) {
  memset(s, 0, sizeof *s);
  s->version = HAK_STATS_VERSION;
  s->size = sizeof *s;
  // Each tier fills its own fields and adds what it maps to bytes_mapped.
  tiny_stats_fill(s);
  mid_stats_fill(s);
  pool_stats_fill(s);
  large_stats_fill(s);
  s->lazyfree_bytes = hak_os_lazyfree_bytes();
  s->rss_bytes = hak_os_rss_bytes();
  s->peak_rss_bytes = hak_os_peak_rss_bytes();
  s->invalid_frees = hak_invalid_free_count();
  s->os_failures = hak_os_failures();
  s->os_faults_injected = hak_os_faults_injected();
}

int hak_stats_get(hak_stats_t *out) {
  hak_stats_t s;
  stats_collect(&s);
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
  X(mid_arena_reserved_bytes) X(os_failures) X(os_faults_injected)

// The JSON report: one object, a member per tier, every counter of the text report with
// its unit in its name (_bytes, _blocks, _permille; counts of events or objects are plain
// nouns). Tier, JSON name, field.
#define JSON_FIELDS(X)                                                                                    \
  X(tiny, live_blocks, tiny_live_blocks) X(tiny, cached_blocks, tiny_cached_blocks)                          \
  X(tiny, refills, tiny_refills) X(tiny, flushes, tiny_flushes) X(tiny, remote_frees, tiny_remote_frees)     \
  X(tiny, remote_drained_blocks, tiny_remote_drained) X(tiny, allocs, tiny_allocs) X(tiny, frees, tiny_frees) \
  X(tiny, superslabs_live, superslabs_live) X(tiny, superslabs_cached, superslabs_cached)                    \
  X(tiny, superslab_maps, superslab_maps) X(tiny, superslab_unmaps, superslab_unmaps) X(tiny, heaps, heaps)   \
  X(tiny, heaps_abandoned, heaps_abandoned) X(tiny, hit_permille, tiny_hit_permille)                         \
  X(mid, depot_blocks, mid_depot_blocks) X(mid, depot_bytes, mid_depot_bytes) X(mid, depot_puts, mid_depot_puts) \
  X(mid, depot_gets, mid_depot_gets) X(mid, depot_refused, mid_depot_refused) X(mid, arenas, mid_arenas)     \
  X(mid, arena_reserved_bytes, mid_arena_reserved_bytes)                                                     \
  X(pool, live_blocks, pool_live_blocks) X(pool, live_bytes, pool_live_bytes)                                \
  X(pool, cached_blocks, pool_cached_blocks) X(pool, allocs, pool_allocs) X(pool, frees, pool_frees)         \
  X(pool, cache_hits, pool_cache_hits) X(pool, steals, pool_steals) X(pool, arenas, pool_arenas)             \
  X(pool, free_dirty_bytes, pool_free_dirty_bytes) X(pool, free_clean_bytes, pool_free_clean_bytes)          \
  X(pool, madvise_calls, pool_madvise_calls) X(pool, released_bytes, pool_released_bytes)                    \
  X(pool, hit_permille, pool_hit_permille)                                                                   \
  X(large, live_mappings, large_live) X(large, live_bytes, large_live_bytes)                                 \
  X(large, cached_mappings, large_cached) X(large, cached_bytes, large_cached_bytes)                         \
  X(large, allocs, large_allocs) X(large, frees, large_frees) X(large, cache_hits, large_cache_hits)          \
  X(large, hit_permille, large_hit_permille)                                                                 \
  X(process, mapped_bytes, bytes_mapped) X(process, rss_bytes, rss_bytes) X(process, peak_rss_bytes, peak_rss_bytes) \
  X(process, lazyfree_bytes, lazyfree_bytes) X(process, invalid_frees, invalid_frees)                        \
  X(process, os_failures, os_failures) X(process, os_faults_injected, os_faults_injected)

// Every field of FIELDS appears once in JSON_FIELDS (the compiler counts them).
#define ONE(...) +1
_Static_assert(0 FIELDS(ONE) == 0 JSON_FIELDS(ONE), "the JSON report lists every counter of the text report");
#undef ONE

void hak_stats_print(int json) {
  char buf[6144];
  size_t n = hak_stats_format(buf, sizeof buf, json);
  const char *path = hak_cfg.stats_file;
  if (path && *path && hak_os_report_file(path, buf, n) == 0) return;
  hak_os_report_write(buf, n);  // fd 2, or its start-up copy (os.h)
}

// strcmp, written out: the library imports no libc string functions (tests/imports_test.sh).
static int same(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

size_t hak_stats_format(char *buf, size_t cap, int json) {
  hak_stats_t s;
  stats_collect(&s);
  size_t n = 0;
  if (json) {
    const char *tier = "";
    n += hak_format(buf + n, cap - n, "{\"version\":%u,\"pid\":%d", s.version, hak_os_getpid());
#define J(t, name, f)                                                                                     \
  if (!same(tier, #t)) {                                                                            \
    n += hak_format(buf + n, cap - n, "%s,\"%s\":{", *tier ? "}" : "", #t);                                 \
    tier = #t;                                                                                            \
  } else {                                                                                                \
    n += hak_format(buf + n, cap - n, ",");                                                               \
  }                                                                                                       \
  n += hak_format(buf + n, cap - n, "\"%s\":%lu", #name, (unsigned long)s.f);
    JSON_FIELDS(J)
#undef J
    n += hak_format(buf + n, cap - n, "}}\n");
  } else {
    n += hak_format(buf + n, cap - n, "hakmem stats (v%u)\n", s.version);
#define T(f) n += hak_format(buf + n, cap - n, "  %s %lu\n", #f, (unsigned long)s.f);
    FIELDS(T)
#undef T
  }
  return n;
}
