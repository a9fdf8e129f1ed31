// arena.h — the mid tier's per-heap arenas: a heap's reservation of address space that its
// kind-MID SuperSlabs (the 8–64 KiB classes) are carved from. Each new arena is twice the
// previous one, from HAKMEM_MID_ARENA_MB_INIT up to _MB_MAX over _GROWTH_LEVELS doublings
// (sizes rounded up to whole SuperSlabs), so a thread that keeps growing maps ever larger
// pieces with one aligned mmap each instead of one per SuperSlab. Untouched reservation
// costs no RSS. An arena lives in its heap's tiny_band_heap_t and is protected by the
// heap's lock; the counters are atomic.
#ifndef HAKMEM_MID_ARENA_H
#define HAKMEM_MID_ARENA_H

#include <stdint.h>

#include "hakmem/tiny/superslab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mid_arena {
  uint8_t *next, *end;  // the part not carved yet
  uint8_t level;        // doublings done
} mid_arena_t;

// The next SuperSlab's memory from the heap's arena, mapping a new (larger) arena when it
// is used up; NULL when arenas are off (HAKMEM_MID_ARENA_GROWTH_LEVELS=0), the address space
// is limited (ulimit -v) or the OS refuses.
superslab_t *mid_arena_carve(tiny_band_heap_t *heap);
// Unmaps what the heap's arena has not carved yet and restarts its growth (thread exit).
void mid_arena_release(tiny_band_heap_t *heap);

typedef struct {
  uint64_t arenas;    // arena mappings made
  uint64_t reserved;  // bytes reserved by arenas and not carved yet
} mid_arena_stats_t;
void mid_arena_stats_get(mid_arena_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif
