// arena.c — see arena.h.
#include "hakmem/mid/arena.h"

#include "hakmem/config.h"
#include "hakmem/os.h"

_Static_assert(sizeof(mid_arena_t) <= sizeof(tiny_band_heap_t), "the arena lives in the heap's band storage");

static _Atomic uint64_t arena_maps, arena_reserved;

static mid_arena_t *arena_of(tiny_band_heap_t *heap) { return (mid_arena_t *)heap; }

superslab_t *mid_arena_carve(tiny_band_heap_t *heap) {
  if (hak_cfg.arena_growth_levels <= 0) return NULL;
  mid_arena_t *a = arena_of(heap);
  if (a->next == a->end) {
    // Under an address-space limit (ulimit -v) no reservation ahead: the SuperSlab maps
    // its slabs one at a time instead (superslab.h).
    if (hak_os_address_space_limited()) return NULL;
    long mb = hak_cfg.arena_mb_init << a->level;
    if (mb > hak_cfg.arena_mb_max) mb = hak_cfg.arena_mb_max;
    size_t mapped = HAK_ALIGN_UP((size_t)mb << 20, SS_SIZE);
    uint8_t *base = hak_os_map_aligned(mapped, SS_SIZE);
    if (!base) return NULL;
    a->next = base;
    a->end = base + mapped;
    if (a->level < hak_cfg.arena_growth_levels) a->level++;
    atomic_fetch_add_explicit(&arena_maps, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&arena_reserved, mapped, memory_order_relaxed);
  }
  superslab_t *ss = (superslab_t *)a->next;
  a->next += SS_SIZE;
  atomic_fetch_sub_explicit(&arena_reserved, SS_SIZE, memory_order_relaxed);
  return ss;
}

void mid_arena_release(tiny_band_heap_t *heap) {
  mid_arena_t *a = arena_of(heap);
  if (a->next != a->end) {
    size_t bytes = (size_t)(a->end - a->next);
    hak_os_unmap(a->next, bytes);
    atomic_fetch_sub_explicit(&arena_reserved, bytes, memory_order_relaxed);
  }
  a->next = a->end = NULL;
  a->level = 0;
}

void mid_arena_stats_get(mid_arena_stats_t *out) {
  out->arenas = atomic_load_explicit(&arena_maps, memory_order_relaxed);
  out->reserved = atomic_load_explicit(&arena_reserved, memory_order_relaxed);
}
