// superslab.h — 2 MiB-aligned SuperSlabs split into 32 slabs of 64 KiB (small classes) or
// 4 slabs of 512 KiB (classes 32..43).
//
// Owns: the SuperSlab header (slab metadata, masks, counters) and the global cache of empty
// SuperSlabs. Metadata is found by masking a block pointer with ~(2 MiB - 1). A slab is
// assigned to a size class on demand, so classes share SuperSlabs; an empty slab goes back
// to the free mask and may later serve another class.
//
// Under an address-space limit (ulimit -v) a new SuperSlab maps only its first slab; each
// time its last free slab is assigned it maps one more (MAP_FIXED_NOREPLACE), so it holds
// the slabs in use plus one ahead instead of 2 MiB. nslabs counts the slabs mapped; when
// the next one cannot be mapped (another mapping took the place) the SuperSlab stays
// smaller. No block of another tier can land in the unmapped rest (the registry has one
// owner per granule): their mappings are all granule-aligned, and this granule's first
// page is the header's.
//
// Ownership: a SuperSlab belongs to one heap (heap.h) while it is in use; only that heap's
// thread touches the non-atomic fields. Other threads only push to a slab's `remote` word.
//
// Counter invariants (checked by hak_check_integrity, check.c):
//   per slab:       used + free_count == carved <= capacity
//   per SuperSlab:  active == sum(used); nonempty[c] bit i <=> slab i has class c and
//                   (free_count > 0 or carved < capacity); free_mask bit i <=> slab i unassigned
//                   (i < nslabs); nslabs slabs lie within the mapped bytes
#ifndef HAKMEM_TINY_SUPERSLAB_H
#define HAKMEM_TINY_SUPERSLAB_H

#include <stdatomic.h>
#include <stdint.h>

#include "hakmem/internal.h"
#include "hakmem/tiny/band.h"
#include "hakmem/tiny/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SS_SHIFT 21
#define SS_SIZE ((size_t)1 << SS_SHIFT)
#define SS_UNIT_SHIFT 16            // granularity of the unit[] table: 64 KiB
#define SS_NUNITS 32
#define SS_SMALL_SLAB_SHIFT 16      // kind SMALL: 32 slabs of 64 KiB
#define SS_MID_SLAB_SHIFT 19       // kind MID: 4 slabs of 512 KiB
#define SS_MID_TIGHT_SLAB_SHIFT 17  // kind MID under `ulimit -v`: 16 slabs of 128 KiB (one 64 KiB block)
#define SS_NSLABS 32                // room for the larger count
enum { SS_KIND_SMALL = 0, SS_KIND_MID = 1, SS_NKINDS = 2 };
#define SS_MAGIC 0x48414b4d53534c42ull  // "HAKMSSLB"
#define SS_CLASS_NONE 0xff
// Bytes before a slab's first block: the first block's header byte lives at offset 15.
#define SS_BLOCK_LEAD 16

struct tiny_heap;

// The owner's free list is a stack of runs: every chain returned to the slab (a flush, a
// drained remote queue) goes on top as a run whose length and last block are known, so a
// refill takes whole runs without walking the list block by block (each step of such a
// walk is a cache miss the CPU cannot overlap: the next address is in the block). The top
// run is described in the slab (top_n, top_tail); every run below it in its first block
// (hak_aux32: the offset of its last block and its length, slab.c). A chain joins the top
// run while the run stays within run_max blocks.
typedef struct tiny_slab {
  void *free;                 // owner-only free list (blocks returned by the owner)
  uint16_t free_count;        // length of `free`
  uint16_t carved;            // blocks carved so far (prefix of the slab)
  uint16_t used;              // blocks out of the slab: in thread caches, live, or remote
  uint16_t capacity;          // blocks that fit
  uint32_t stride;
  uint8_t cls;                // size class or SS_CLASS_NONE
  uint8_t idx;                // index in the SuperSlab
  // Remote frees: a Treiber stack of blocks; bit 0 set means "the slab is already queued
  // in its heap's inbox". Pushers never touch the slab after a push that found bit 0 set,
  // so the owner may release the slab as soon as it has drained it.
  _Atomic(uintptr_t) remote;
  struct tiny_slab *inbox_next;  // link in the owner heap's inbox (written by the pusher)
  uint8_t *begin;             // first byte of the slab's block area
  void *top_tail;             // last block of the free list's top run (when `free` is not empty)
  uint16_t top_n;             // length of the top run; 0 exactly when `free` is empty
  uint16_t run_max;           // a chain joins the top run while it stays this short (about a refill)
  // Bytes from `begin` that earlier classes of this slab carved since its pages were last
  // clean (UINT32_MAX: unknown, all of it): a new class scrubs stale headers only there.
  uint32_t written;
} tiny_slab_t;

// A run's description in its first block: its last block's offset from the slab's start
// (< 2^19, a 512 KiB slab) above its length (< 2^13: a slab holds at most 4096 blocks).
#define SLAB_RUN_LEN_BITS 13
_Static_assert((1u << SS_MID_SLAB_SHIFT) <= (1u << (32 - SLAB_RUN_LEN_BITS)), "a slab offset fits the run word");
_Static_assert((1u << SS_SMALL_SLAB_SHIFT) / 16 < (1u << SLAB_RUN_LEN_BITS), "a slab's block count fits the run word");
HAK_INLINE uint32_t slab_run_word(const tiny_slab_t *s, const void *tail, uint32_t n) {
  return (uint32_t)((const uint8_t *)tail - s->begin) << SLAB_RUN_LEN_BITS | n;
}
HAK_INLINE uint32_t slab_run_len(uint32_t w) { return w & ((1u << SLAB_RUN_LEN_BITS) - 1); }
HAK_INLINE void *slab_run_tail(const tiny_slab_t *s, uint32_t w) { return s->begin + (w >> SLAB_RUN_LEN_BITS); }

// What free() needs of the slab covering one 64 KiB unit, in one 32-byte entry (free reads
// one cache line of the header): the class (SS_CLASS_NONE when unassigned), its "allocated"
// header byte, read instead of waiting for the block's own (often cold) header byte, its
// thread-cache bin's byte offset, and the exact block-start test. For p in the unit,
// off = p - start is the offset from the slab's first block (wrapping to a huge value
// below it). With stride = odd * 2^rot and inv = odd^-1 mod 2^64,
// ror(off * inv, rot) is off / stride when stride divides off and exceeds 2^64 / stride
// when it does not, so "< capacity" alone tests both that p is a block slot and that the
// slot lies inside the slab. An unassigned unit has capacity 0.
typedef struct {
  uint64_t inv;
  uintptr_t start;  // address of the slab's first block
  uint64_t cap;     // capacity of the slab (0: unassigned); 64 bits so the free fast path compares it in memory
  uint16_t bin;     // byte offset in tiny_tls_t of the bin a free of class cls goes to
  uint8_t rot;
  uint8_t cls;
  uint8_t hdr;      // TINY_HDR_ALLOC_OF(cls)
  uint8_t slab;     // slab index
  uint8_t pad_[2];
} ss_unit_t;
_Static_assert(sizeof(ss_unit_t) == 32, "two units per cache line");

typedef struct superslab {
  uint64_t magic;
  struct tiny_heap *owner;    // stable while any block of the SuperSlab is out
  uint8_t pad_[48];
  ss_unit_t unit[SS_NUNITS];  // cache-line aligned
  uint8_t kind, slab_shift, nslabs;  // nslabs: slabs mapped (all of them without a limit)
  uint32_t mapped;            // bytes mapped from the SuperSlab's start (SS_SIZE without a limit)
  uint32_t free_mask;         // unassigned slabs
  // 64 KiB units that blocks have ever used since the mapping (kept across the cache):
  // their bytes may hold stale data where a new class's headers will go.
  uint32_t dirty_units;
  uint32_t active;            // sum of slabs' used
  uint32_t nonempty[TINY_NCLASS];
  struct superslab *cnext[TINY_NCLASS], *cprev[TINY_NCLASS];  // heap's avail[c] list
  struct superslab *fnext, *fprev;   // heap's list of SuperSlabs with free slabs
  struct superslab *onext, *oprev;   // heap's list of owned SuperSlabs / global cache LRU
  uint8_t in_avail[TINY_NCLASS];
  uint8_t in_free_list;
  tiny_slab_t slabs[SS_NSLABS];
} superslab_t;

#define SS_HEADER_BYTES (HAK_ALIGN_UP(sizeof(superslab_t), 64))
HAK_INLINE uint32_t ss_all_slabs(const struct superslab *ss) {
  return ss->nslabs == 32 ? 0xffffffffu : (1u << ss->nslabs) - 1;
}
HAK_INLINE unsigned ss_kind_of_class(unsigned c) { return c >= TINY_SMALL_NCLASS ? SS_KIND_MID : SS_KIND_SMALL; }

HAK_INLINE superslab_t *ss_of(const void *p) { return (superslab_t *)((uintptr_t)p & ~(SS_SIZE - 1)); }
HAK_INLINE ss_unit_t *ss_unit_of(superslab_t *ss, const void *p) {
  // &ss->unit[(p >> 16) % 32], with the scaling folded into the shift (one shift, one and).
  _Static_assert(sizeof(ss_unit_t) == 32, "entry size is the shift below");
  return (ss_unit_t *)((uint8_t *)ss->unit + (((uintptr_t)p >> (SS_UNIT_SHIFT - 5)) & ((SS_NUNITS - 1) << 5)));
}
HAK_INLINE tiny_slab_t *ss_slab_of(superslab_t *ss, const void *p) { return &ss->slabs[ss_unit_of(ss, p)->slab]; }
// Whether p starts a block slot of the slab e describes (e = ss_unit_of(ss_of(p), p);
// carved or not: the slow path also checks the carved count). The header byte is not
// looked at.
HAK_INLINE int ss_unit_is_slot(const ss_unit_t *e, const void *p) {
  uint64_t x = (uint64_t)((uintptr_t)p - e->start) * e->inv;
  unsigned r = e->rot;
  x = (x >> r) | (x << ((64 - r) & 63));  // one ror
  return x < e->cap;
}
// Whether p is the start of a carved block of slab s (with a division: slow paths only).
HAK_INLINE int slab_is_block_start(const tiny_slab_t *s, const void *p) {
  if ((uintptr_t)p < (uintptr_t)s->begin + SS_BLOCK_LEAD) return 0;
  uintptr_t off = (uintptr_t)p - (uintptr_t)s->begin - SS_BLOCK_LEAD;
  return off % s->stride == 0 && off / s->stride < s->carved;
}
HAK_INLINE int slab_has_free(const tiny_slab_t *s) { return s->free_count > 0 || s->carved < s->capacity; }

// A thread cache's target capacity for class c, in blocks: HAKMEM_TINY_CACHE_BYTES of them,
// 16..512 (superslab.c; a band may size its classes' caches otherwise). A free-list run grows
// to half of it (run_max).
uint32_t tiny_cache_target(unsigned c);

// Returns a SuperSlab of the given kind from the global cache or, when the cache is empty,
// from source(arg) (SS_SIZE bytes, SS_SIZE-aligned; a band's arena) or a fresh mapping
// (source NULL, or source returned NULL), with every slab unassigned and owner set; NULL
// when the OS refuses memory.
superslab_t *ss_acquire(struct tiny_heap *owner, unsigned kind, superslab_t *(*source)(tiny_band_heap_t *), tiny_band_heap_t *arg);
// Hands an empty SuperSlab (active == 0) to the global cache; beyond its capacity (at least
// HAKMEM_SS_CACHE_MAX; as many as the program acquired over the last decay pass, see
// superslab.c) the least recently released ones are unmapped.
void ss_release(superslab_t *ss);
// Assigns a free slab (free_mask must be non-zero) to class c; returns it. A partly mapped
// SuperSlab maps its next slab when this takes the last free one.
tiny_slab_t *ss_slab_assign(superslab_t *ss, unsigned c);
// Returns an empty slab (used == 0) to the free mask.
void ss_slab_unassign(superslab_t *ss, tiny_slab_t *s);
// Gives the pages of ss's unassigned slabs back to the OS (those written since they were
// last given back); the owner heap's lock held. Returns the bytes released.
size_t ss_decommit_free_slabs(superslab_t *ss);
// Decay pass: unmaps the cached SuperSlabs if none was taken since the previous pass;
// returns the bytes still cached.
size_t ss_cache_decay(void);
// Unmaps cached SuperSlabs (malloc_trim); returns bytes released.
size_t ss_cache_trim(void);

// Global SuperSlab counters (exact; protected by the cache lock).
typedef struct {
  uint64_t mapped;    // SuperSlabs currently mapped
  uint64_t cached;    // of which in the empty cache
  uint64_t maps, unmaps;      // SuperSlabs made (mapped or from a source) and unmapped
  uint64_t bytes;             // bytes mapped by them (less than mapped * SS_SIZE under a limit)
} ss_stats_t;
void ss_stats_get(ss_stats_t *out);
// Calls fn on every cached SuperSlab (integrity checker); the cache lock is held.
void ss_cache_foreach(void (*fn)(superslab_t *, void *), void *arg);
void ss_lock_all(void);
int ss_lock_held_by(int tid);
void ss_unlock_all(void);

#ifdef __cplusplus
}
#endif

#endif
