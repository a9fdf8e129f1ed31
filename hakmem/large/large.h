// large.h — the large tier: one 2 MiB-aligned mapping per block for requests of at least
// HAKMEM_LARGE_MIN (below it the pool's page heap serves) and for alignments above a page
// that the slab engine cannot give. A cache of recently freed mappings (BigCache), direct-
// indexed by page count, avoids mmap/munmap churn; realloc moves pages with mremap.
#ifndef HAKMEM_LARGE_LARGE_H
#define HAKMEM_LARGE_LARGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LARGE_HDR 64
#define LARGE_MAGIC 0x48414b4d4c524745ull  // "HAKMLRGE"

typedef struct large_hdr {
  uint64_t magic;
  void *base;        // start of the mapping
  size_t map_size;   // bytes mapped
  uint32_t state;    // 1 = allocated, 0 = free (double-free detection)
  uint32_t bucket;   // cache bucket, or UINT32_MAX when not cacheable
  uint64_t seal;     // (uintptr_t)header ^ LARGE_MAGIC: a second check against stray pointers
  struct large_hdr *bnext;               // cached: next in its bucket
  struct large_hdr *lru_prev, *lru_next;  // cached: global LRU (most recently freed first)
} large_hdr_t;
_Static_assert(sizeof(large_hdr_t) == LARGE_HDR, "header is 64 bytes");

// Allocates `size` bytes aligned to `align` (power of two); *fresh is set when the memory
// is known to be zero. NULL when out of memory.
void *large_alloc(size_t size, size_t align, int *fresh);
// Whether new large mappings get transparent huge pages now (HAKMEM_LARGE_HUGEPAGES: 1
// always, 2 once learned that the program writes its large blocks whole, 0 never).
int large_hugepages_on(void);
// Returns the header of user pointer p, or NULL if p is not a live large block's pointer.
large_hdr_t *large_lookup(void *p);
// As large_lookup, for a pointer being freed or resized: NULL for anything but a live large
// block, with *why naming what p is (interior/corrupted, double free).
large_hdr_t *large_resolve(void *p, const char **why);
// Bytes from the user pointer to the end of the mapping.
size_t large_usable(const large_hdr_t *h);
void large_free(large_hdr_t *h);
// Grows or shrinks in place or by moving the pages (mremap); NULL when that is impossible.
void *large_realloc(large_hdr_t *h, size_t size);
size_t large_trim(void);

typedef struct {
  uint64_t live, live_bytes;    // blocks in user hands and their mapped bytes
  uint64_t cached, cached_bytes;
  uint64_t allocs, frees, cache_hits, maps, unmaps;
} large_stats_t;
void large_stats_get(large_stats_t *out);
// The large tier's fields of hak_stats_t (large_*); adds its mappings to bytes_mapped.
struct hak_stats;
void large_stats_fill(struct hak_stats *s);
// Verifies the cache and counters; returns the number of violations (logged).
unsigned large_check(void);
void large_fork_prepare(void);
int large_fork_held_by(int tid);
void large_fork_parent(void);
void large_fork_child(void);

#ifdef __cplusplus
}
#endif

#endif
