// pool.h — the L2.5 tier as the front gate sees it: requests above the slab engine
// (> 65535 B) up to HAKMEM_LARGE_MIN, served from the page heap (pageheap.h) through a
// per-thread cache of recently freed blocks.
//
// Thread cache: 33 classes from 64 KiB to 1 MiB, 8 per doubling (a block is at most 12.5%
// plus one page larger than the request). A free of a class-sized block parks it in the
// freeing thread's cache (state PH_CACHED; no lock, no atomics but one counter); when the
// thread's cached bytes exceed HAKMEM_L25_TC_BYTES, HAKMEM_L25_TC_SPILL blocks go back to
// the page heap under one lock per shard. A miss carves HAKMEM_L25_RUN_FACTOR blocks at once.
// Blocks are not owned by threads, so a cross-thread free is an ordinary free.
// Blocks above 1 MiB (and blocks resized in place to a non-class length) bypass the cache.
#ifndef HAKMEM_POOL_POOL_H
#define HAKMEM_POOL_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/pool/pageheap.h"
#include "hakmem/config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define POOL_NCLASS 33
#define POOL_MIN_PAGES 16          // 64 KiB
#define POOL_CLASS_MAX_PAGES 256   // 1 MiB: the largest thread-cached block

// Class of a block of `pages` pages (POOL_MIN_PAGES <= pages <= POOL_CLASS_MAX_PAGES).
HAK_INLINE unsigned pool_class_of_pages(uint32_t pages) {
  if (pages <= POOL_MIN_PAGES) return 0;
  unsigned b = 31u - (unsigned)__builtin_clz(pages - 1);
  return 1 + (b - 4) * 8 + ((pages - 1 - (1u << b)) >> (b - 3));
}
HAK_INLINE uint32_t pool_class_pages(unsigned c) {
  if (c == 0) return POOL_MIN_PAGES;
  unsigned k = c - 1, b = 4 + k / 8;
  return (1u << b) + (k % 8 + 1) * (1u << (b - 3));
}
// Pages of the block that serves a request of `size` bytes.
HAK_INLINE uint32_t pool_pages_for(size_t size) {
  uint32_t pages = (uint32_t)((size + PH_PAGE - 1) >> PH_PAGE_SHIFT);
  if (pages <= POOL_CLASS_MAX_PAGES) return pool_class_pages(pool_class_of_pages(pages));
  return pages;
}

// Largest request the pool serves (HAKMEM_LARGE_MIN - 1); above it, the large tier.
HAK_INLINE size_t pool_max_request(void) { return (size_t)hak_cfg.large_min - 1; }
// A block of at least `size` bytes, page-aligned; *fresh (unless NULL) is set when it is
// known zero. NULL with errno ENOMEM when out of memory.
void *pool_alloc(size_t size, int *fresh);
// Like pool_alloc, for a block realloc is moving and may grow again: taken straight from
// the page heap (no cached block, no run of more blocks carved behind it), so the pages after
// it stay free when there are any and pool_resize can grow it in place.
void *pool_alloc_growable(size_t size, int *fresh);
// Alignments above a page that the pool serves (beyond them, the large tier).
#define POOL_ALIGN_MAX ((size_t)1 << 20)
// A block of at least `size` bytes aligned to `align` (PH_PAGE < align <= POOL_ALIGN_MAX,
// size <= pool_max_request()), cut out of a larger free span; never thread-cached.
void *pool_alloc_aligned(size_t size, size_t align, int *fresh);
// The descriptor of live block p, or NULL with *why set (double free, interior pointer).
ph_desc_t *pool_lookup(void *p, const char **why);
void pool_free(ph_desc_t *d);
HAK_INLINE size_t pool_usable(const ph_desc_t *d) { return (size_t)d->len << PH_PAGE_SHIFT; }
// free() of a pool pointer: 0, or -1 with *why set when p is not a live block.
int pool_free_ptr(void *p, const char **why);
// Resizes block d in place to hold `size` bytes; returns 0 on success.
int pool_resize(ph_desc_t *d, size_t size);
// Returns this thread's cached blocks to the page heap.
void pool_flush_thread(void);
size_t pool_trim(void);

typedef struct {
  uint64_t arenas, mapped_bytes, live_blocks, live_bytes, cached_blocks, free_dirty_bytes, free_clean_bytes;
  uint64_t allocs, frees, tc_hits, tc_misses, steals, arena_maps, arena_unmaps, madvise_calls, released_bytes;
} pool_stats_t;
void pool_stats_get(pool_stats_t *out);
// The pool tier's fields of hak_stats_t (pool_*); adds its arenas to bytes_mapped.
struct hak_stats;
void pool_stats_fill(struct hak_stats *s);
unsigned pool_check(void);
void pool_fork_prepare(void);
int pool_fork_held_by(int tid);
void pool_fork_parent(void);
void pool_fork_child(void);
// In the child of any fork: the forking thread's record takes its new thread id.
void pool_fork_child_rename(void);

#ifdef __cplusplus
}
#endif

#endif
