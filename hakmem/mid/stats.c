// stats.c — the mid tier's share of hak_stats_t, from the depot's and the arenas' counters.
#include "hakmem/hakmem.h"
#include "hakmem/mid/arena.h"
#include "hakmem/mid/depot.h"
#include "hakmem/mid/mid.h"

void mid_stats_fill(hak_stats_t *s) {
  mid_depot_stats_t d;
  mid_depot_stats_get(&d);
  s->mid_depot_blocks = d.blocks;
  s->mid_depot_bytes = d.bytes;
  s->mid_depot_puts = d.puts;
  s->mid_depot_gets = d.gets;
  s->mid_depot_refused = d.refused;
  mid_arena_stats_t a;
  mid_arena_stats_get(&a);
  s->mid_arenas = a.arenas;
  s->mid_arena_reserved_bytes = a.reserved;
  s->bytes_mapped += a.reserved;
}
