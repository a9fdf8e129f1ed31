// hakmem.h — HAKMEM's public, non-overriding API. Linking //hakmem:core gives these
// functions without replacing malloc (tests, fuzzers and sanitizer builds use that);
// linking //hakmem additionally makes malloc/free/new/delete call them.
#ifndef HAKMEM_HAKMEM_H
#define HAKMEM_HAKMEM_H

#include <stddef.h>
#include <stdint.h>

// The release this header belongs to; //:install writes it into hakmem.pc.
#define HAKMEM_VERSION_MAJOR 0
#define HAKMEM_VERSION_MINOR 3
#define HAKMEM_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

// HAKMEM builds with -fvisibility=hidden; only this API (and the malloc override) is exported.
#pragma GCC visibility push(default)

void *hak_malloc(size_t size);
void hak_free(void *p);
void *hak_calloc(size_t n, size_t size);
void *hak_realloc(void *p, size_t size);
void *hak_reallocarray(void *p, size_t n, size_t size);
int hak_posix_memalign(void **out, size_t align, size_t size);
void *hak_aligned_alloc(size_t align, size_t size);
void *hak_memalign(size_t align, size_t size);
void *hak_valloc(size_t size);
void *hak_pvalloc(size_t size);
size_t hak_usable_size(const void *p);
void hak_free_sized(void *p, size_t size);
void hak_free_aligned_sized(void *p, size_t align, size_t size);

// 1 if p is a live or cached block pointer handed out by HAKMEM, else 0. O(1), no syscalls.
int hak_owns(const void *p);
// Returns cached memory to the OS (malloc_trim); 1 if anything was released.
int hak_trim(size_t pad);
// Returns this thread's cached blocks to their slabs and drains its remote frees.
void hak_thread_flush(void);
// Walks every structure and verifies HAKMEM's invariants. Call it when no other thread is
// allocating. Returns the number of violations; each is logged as one "integrity:" line
// naming the structure, the expected and the actual value.
size_t hak_check_integrity(void);

// Invalid free/realloc handling: the hook is called with the one-line message instead of
// abort() when HAKMEM_INVALID_FREE=abort (tests use it to check detection without dying).
typedef void (*hak_abort_hook_t)(const char *msg);
hak_abort_hook_t hak_set_abort_hook(hak_abort_hook_t hook);
// Number of invalid frees detected so far.
uint64_t hak_invalid_free_count(void);
// The next allocator's free for HAKMEM_INVALID_FREE=pass (set by the malloc override).
void hak_set_next_free(void (*next_free)(void *));
// The next allocator's free, realloc and malloc_usable_size: under pass, realloc and
// malloc_usable_size of a foreign pointer go to it too, so the caller's block stays valid.
void hak_set_next_allocator(void (*next_free)(void *), void *(*next_realloc)(void *, size_t),
                            size_t (*next_usable_size)(void *));

#define HAK_STATS_VERSION 5  // 2: pool (L2.5 page heap) fields appended; 3: hit rates, LazyFree; 4: mid depot, arenas; 5: OS failures
typedef struct hak_stats {
  uint32_t version;             // HAK_STATS_VERSION
  uint32_t size;                // sizeof(hak_stats_t) of the library
  uint64_t tiny_live_blocks;    // slab-engine blocks in user hands
  uint64_t tiny_cached_blocks;  // blocks in thread caches
  uint64_t tiny_refills, tiny_flushes, tiny_remote_frees, tiny_remote_drained;
  uint64_t tiny_allocs, tiny_frees;  // only with --//cfg:debug_counters, else 0
  uint64_t superslabs_live, superslabs_cached, superslab_maps, superslab_unmaps;
  uint64_t large_live, large_live_bytes, large_cached, large_cached_bytes;
  uint64_t large_allocs, large_frees, large_cache_hits;
  uint64_t heaps, heaps_abandoned;
  uint64_t bytes_mapped;
  uint64_t rss_bytes, peak_rss_bytes;
  uint64_t invalid_frees;
  // Version 2: the pool tier (64 KiB up to HAKMEM_LARGE_MIN, page heap + thread caches).
  uint64_t pool_live_blocks, pool_live_bytes, pool_cached_blocks;
  uint64_t pool_allocs, pool_frees, pool_cache_hits, pool_steals;
  uint64_t pool_arenas, pool_free_dirty_bytes, pool_free_clean_bytes, pool_madvise_calls, pool_released_bytes;
  // Version 3. Hit rates in per mille: the share of allocations served by a thread cache.
  // tiny_hit_permille needs allocation counts (--//cfg:debug_counters); otherwise 0.
  uint64_t tiny_hit_permille, pool_hit_permille, large_hit_permille;
  uint64_t lazyfree_bytes;
  // Version 4. The mid classes' global depot (bundles of free 1–64 KiB blocks shared by
  // threads) and the per-thread arenas their SuperSlabs are carved from.
  uint64_t mid_depot_blocks, mid_depot_bytes, mid_depot_puts, mid_depot_gets, mid_depot_refused;
  uint64_t mid_arenas, mid_arena_reserved_bytes;
  // Version 5. OS calls the kernel refused (each reported on stderr, the first few in a
  // line each; the memory concerned stays as it was), and of those, how many the test-only
  // fault injection (HAKMEM_FAULT, --//cfg:fault_injection) made fail.
  uint64_t os_failures, os_faults_injected;
} hak_stats_t;

// Fills *out (out->size bytes at most are written); returns 0.
int hak_stats_get(hak_stats_t *out);
// Prints the stats (the HAKMEM_STATS=1 report) to stderr; json != 0 prints one JSON line.
void hak_stats_print(int json);
// The same report into buf (at most cap - 1 bytes and a NUL); returns its length.
size_t hak_stats_format(char *buf, size_t cap, int json);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
