// pageheap.h — the L2.5 page heap: blocks of whole 4 KiB pages (64 KiB up to
// HAKMEM_LARGE_MIN) carved from arenas of up to 32 MiB, with no header in front of the block.
//
// Owns: arenas (32 MiB windows aligned to 32 MiB, registered as HAK_KIND_POOL as far as
// they are mapped), the page descriptors at the start of each arena, and the free spans.
// An arena makes only a prefix of its window usable (2 MiB, or what the first request
// needs; in steps of 256 KiB instead under `ulimit -v`) and grows in place, doubling, when its shard runs out of free spans or a block at
// its end is resized. Without an address-space limit the whole window is reserved
// (PROT_NONE: VmSize, no memory) and growth is an mprotect that no neighbour can block.
// Under `ulimit -v` only the prefix is mapped, so a program that uses little of the page
// heap costs little of the limit; growth then maps the pages behind it only if nothing else
// took them (MAP_FIXED_NOREPLACE), and an arena that cannot grow stays as it is (the next
// request maps a new one; a block at its end moves to grow). Every page of an arena
// belongs to exactly one span: the arena's metadata, a block (live, or parked in a thread
// cache), or a free span. Descriptors say which: a block's first page descriptor holds its
// length, so free() finds the size from the pointer alone and a block needs no header.
//
// Why a page heap and not a mapping per block: a freed span stays resident and is split or
// merged for the next request of any size, so a program cycling through 64 KiB–8 MiB blocks
// does not page-fault on every reuse (the interim mapping-per-block path measured 0.21x
// the best peer on the "vm" benchmark for exactly that reason).
//
// Free spans: coalesced with both neighbours on free (boundary descriptors: the first and
// last page of a free span both carry its length), kept in size bins with a non-empty
// bitmap (exact bins up to 256 pages, 8 bins per doubling above). Each free span is "clean"
// (released to the OS: reads as zero, not in RSS) or "dirty". When dirty free pages exceed
// HAKMEM_LARGE_CACHE_MB (or the live pages, if more), the spans that have stayed free for
// HAKMEM_DECAY_MS are released with madvise in one pass (batched, largest first); recently
// freed spans are kept, since the next requests would fault them straight back in. The
// decay thread (decay.h) releases every span idle that long, so an idle program's
// freed pages also go back.
//
// Shards: PH_NSHARDS independent heaps, each with its own lock and arenas. A thread uses its
// home shard (all start on shard 0 and move on when they meet contention) and steals from
// the others before mapping a new arena.
//
// Counter invariants (pool_check): per shard, free_dirty + free_clean == sum of free span
// lengths, live == sum of block lengths, meta + free + live == mapped == sum of arena ends; no two
// free spans adjacent; every free span in the bin of its length.
#ifndef HAKMEM_POOL_PAGEHEAP_H
#define HAKMEM_POOL_PAGEHEAP_H

#include <pthread.h>
#include <stdint.h>

#include "hakmem/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_PAGE_SHIFT 12
#define PH_PAGE ((size_t)1 << PH_PAGE_SHIFT)
#define PH_ARENA_SHIFT 25
#define PH_ARENA_SIZE ((size_t)1 << PH_ARENA_SHIFT)
#define PH_NPAGES (PH_ARENA_SIZE >> PH_PAGE_SHIFT)
#define PH_FIRST_PAGES 512  // an arena's first mapping, and the unit it grows by: 2 MiB
#define PH_TIGHT_PAGES 64   // the same under `ulimit -v`: 256 KiB (divides PH_FIRST_PAGES)
#define PH_NSHARDS 4
#define PH_EXACT_BINS 256
#define PH_NBINS (PH_EXACT_BINS + 6 * 8)
#define PH_MAGIC 0x48414b4d50414745ull  // "HAKMPAGE"

// Page descriptor states. Only the states of a span's first and last page are kept exact;
// other pages of a free span may hold stale values, which is why free() accepts only LIVE.
enum {
  PH_META = 1,    // arena metadata (descriptors)
  PH_FREE = 2,    // first or last page of a free span
  PH_LIVE = 3,    // first page of a block in user hands
  PH_CACHED = 4,  // first page of a block parked in a thread cache
  PH_INNER = 5,   // any other page of a block
  PH_GONE = 6,    // first page of a block that was freed and merged into a neighbour
};

struct ph_shard;

typedef struct ph_desc {
  uint32_t len;    // span length in pages (first and last page of a span)
  uint8_t state;   // PH_* (written with relaxed atomics: neighbours read it under their lock)
  uint8_t clean;   // free span: every page released to the OS
  uint16_t bin;    // free span: its bin
  uint32_t epoch;  // free span: when it last became dirty (the shard's clock, ms)
  struct ph_desc *prev, *next;  // free span: bin links (first page only)
} ph_desc_t;

typedef struct ph_arena {
  uint64_t magic;
  struct ph_shard *shard;
  struct ph_arena *next;
  uint32_t first;  // first page after the metadata
  uint32_t end;    // pages mapped: [0, end) of the window (shard lock; grows, never shrinks)
  uint32_t stuck;  // growth found the pages behind `end` taken: the arena stays this size
  uint32_t reserved;  // the whole window is reserved (PROT_NONE beyond `end`): growth cannot fail on a neighbour
  ph_desc_t desc[PH_NPAGES];
} ph_arena_t;

typedef struct ph_shard {
  pthread_mutex_t lock;
  ph_desc_t *bins[PH_NBINS];
  uint64_t bitmap[(PH_NBINS + 63) / 64];
  ph_arena_t *arenas;
  // Exact page counters (lock held).
  uint64_t narenas, mapped, free_dirty, free_clean, live, live_blocks;
  uint32_t clock;  // ms (wrapping) of the latest free or decay pass: ages dirty spans
  uint64_t allocs, frees, steals, maps, grows, unmaps, madvise_calls, released_pages;
} ph_shard_t;

// Exact totals over every shard (each shard's lock taken in turn).
typedef struct {
  uint64_t arenas, mapped_bytes, live_blocks, live_bytes, free_dirty_bytes, free_clean_bytes;
  uint64_t allocs, frees, steals, maps, grows, unmaps, madvise_calls, released_bytes;
} ph_stats_t;
void ph_stats_get(ph_stats_t *out);

HAK_INLINE ph_arena_t *ph_arena_of(const void *p) { return (ph_arena_t *)((uintptr_t)p & ~(PH_ARENA_SIZE - 1)); }
HAK_INLINE ph_desc_t *ph_desc_of(const void *p) {
  return &ph_arena_of(p)->desc[((uintptr_t)p & (PH_ARENA_SIZE - 1)) >> PH_PAGE_SHIFT];
}
HAK_INLINE void *ph_page_of(ph_desc_t *d) {
  ph_arena_t *a = ph_arena_of(d);
  return (uint8_t *)a + ((size_t)(d - a->desc) << PH_PAGE_SHIFT);
}
HAK_INLINE unsigned ph_state(const ph_desc_t *d) { return HAK_LOAD_RELAXED(&d->state); }
HAK_INLINE void ph_set_state(ph_desc_t *d, unsigned s) { HAK_STORE_RELAXED(&d->state, (uint8_t)s); }

// Allocates a block of `pages` pages (1 <= pages <= PH_NPAGES - metadata), trying the
// caller's home shard first (moving *home on to the next shard when it is contended), then
// stealing from the other shards, then growing one of the home shard's arenas or mapping a
// new one. Returns its
// first descriptor (state PH_LIVE) or NULL; *clean is set when the pages are all zero.
ph_desc_t *ph_alloc(unsigned *home, uint32_t pages, int *clean);
// Like ph_alloc, for a block aligned to align_pages pages (a power of two, <= PH_NPAGES/2).
ph_desc_t *ph_alloc_aligned(unsigned *home, uint32_t pages, uint32_t align_pages, int *clean);
// Returns `n` blocks (linked through ph_desc_t.next, any shards) to their free spans.
void ph_free_list(ph_desc_t *list);
// Resizes a live block in place to `pages` (shrinking frees the tail; growing takes pages
// from the free span right after it). Returns 0 on success.
int ph_resize(ph_desc_t *d, uint32_t pages);
// Releases every dirty free span and unmaps arenas that are entirely free; returns bytes.
size_t ph_trim(void);
// Verifies every arena of every shard; returns the number of violations (logged).
unsigned ph_check(uint64_t *cached_blocks_seen);
// Number of shards threads spread over (1 .. PH_NSHARDS; mallopt M_ARENA_MAX).
void ph_set_shard_limit(unsigned n);
void ph_lock_all(void);
int ph_lock_held_by(int tid);
void ph_unlock_all(void);
// Huge pages for the arenas (HAKMEM_POOL_HUGEPAGES: 0 never, 1 always, 2 learned, pageheap.c):
// whether arenas get them now; a freed block of PH_THP_MIN_PAGES or more (the caller checks:
// smaller blocks say little about 2 MiB regions) counted towards learning it (any thread,
// before the block's pages change hands); tests only: forget what was learned, hints included.
#define PH_THP_MIN_PAGES ((256u << 10) >> PH_PAGE_SHIFT)
int ph_hugepages_on(void);
void ph_hugepages_note_free(ph_desc_t *d);
void ph_hugepages_relearn(void);
// Fork child (the only thread left): turns every block in state PH_CACHED (a thread cache
// held it) into PH_LIVE and returns them linked through ph_desc_t.next.
ph_desc_t *ph_claim_cached(void);

#ifdef __cplusplus
}
#endif

#endif
