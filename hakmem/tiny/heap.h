// heap.h — per-thread heaps and thread caches of the slab engine.
//
// A thread owns one heap (a set of SuperSlabs) while it lives; heaps are never freed, only
// abandoned at thread exit and adopted by a later thread, so a remote pusher may always
// dereference a SuperSlab's owner. The thread cache (tiny_tls_t) is a singly-linked list
// plus count per class; the fast paths in tiny.h touch nothing else. The cache lives inside
// the heap, not in TLS: the thread's TLS holds only a pointer to it (tiny_me). So a cache
// stays valid memory after its thread is gone, and a thread that exits without running its
// key destructor (its first allocation came in the last destructor round) leaves an
// orphan whose cached blocks are recovered later instead of leaking.
#ifndef HAKMEM_TINY_HEAP_H
#define HAKMEM_TINY_HEAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hakmem/internal.h"
#include "hakmem/tiny/band.h"
#include "hakmem/tiny/superslab.h"
#include "hakmem/tiny/size_class.h"
#include "hakmem/freelink.h"
#include "hakmem/track.h"
#include "hakmem/tiny/engine.h"

#ifdef __cplusplus
extern "C" {
#endif


typedef struct tiny_bin {
  void *head;
  // Free slots left (cap - number of cached blocks). Keeping the room rather than the count
  // makes the free fast path a single compare with zero. 0 until the thread is initialised,
  // so the first free falls into the slow path.
  uint32_t room;
  uint32_t cap;
#if HAKMEM_LEARNER
  // The learner's fast-path allocation count, beside the fields the pop already addresses so
  // that counting costs one instruction; padded to keep the bin a power of two.
  uint64_t allocs;
  uint64_t pad_;
#endif
} tiny_bin_t;

_Static_assert(sizeof(tiny_bin_t) == 1u << TINY_BIN_SHIFT, "tiny_lut.bin holds class << TINY_BIN_SHIFT");

HAK_INLINE uint32_t tiny_bin_count(const tiny_bin_t *b) { return b->cap - b->room; }

// Ring: a small array of free blocks in front of the list (LIFO) of each class of 8 KiB and
// up. Popping from an array hands out a block without loading
// its link, a cache miss when the block's line went cold since its free, which blocks of
// these sizes usually have. Frees fill the ring first and overflow into the list; allocation
// falls back to the list when the ring is empty. cap 0 (uninitialised thread, or
// HAKMEM_MID_RING_CAP=0) sends both paths to the list.
#define TINY_RING_FIRST TINY_SMALL_NCLASS
#define TINY_RING_MAX 32
#define TINY_NRING (TINY_NCLASS - TINY_RING_FIRST)
typedef struct tiny_ring {
  uint32_t n, cap;
  void *slot[TINY_RING_MAX];
} tiny_ring_t;

enum { TINY_THREAD_NEW = 0, TINY_THREAD_ACTIVE = 1, TINY_THREAD_DEAD = 2 };  // tiny_state


// Adaptive capacities (adapt.c): of the classes the engine sizes itself (below the band),
// and the demand-driven ones of the band's classes. Slow-path state only.
typedef struct tiny_adapt {
  uint16_t base[TINY_NCLASS];    // the target capacity (below the band: the starting one)
  uint8_t ring_base[TINY_NRING];  // the band's ring capacity, reached with the list's target
  uint8_t refilled[TINY_NCLASS];  // refilled since the capacity last shrank
  uint8_t dry[TINY_NCLASS];       // overflows in a row without a refill
  uint8_t starts[TINY_NCLASS];    // slow start: refills so far, TINY_SLOW_START_DONE once full size
  uint8_t borrowed[TINY_NCLASS];  // misses in a row a larger class's bundle served (refill.c)
  uint64_t grown_bytes;           // capacity above the targets, in bytes, all classes
  uint64_t band_bytes;            // the band's classes: list and ring capacity above their start, in bytes
  uint32_t grows, shrinks;        // events (tests, stats)
} tiny_adapt_t;

#define TINY_SLOW_START_DONE 255

#define TINY_GATE_CAP UINT32_MAX

typedef struct tiny_tls {
  tiny_bin_t bin[TINY_NCLASS];
  // Always empty with room 0 and cap TINY_GATE_CAP: the free fast path sends ring classes
  // here (ss_unit_t.bin), so they reach the ring (tiny_free_to's full-bin branch) without a
  // class test.
  tiny_bin_t gate;
  tiny_ring_t ring[TINY_NRING];
  tiny_adapt_t adapt;
  struct tiny_heap *heap;
#if HAKMEM_DEBUG_COUNTERS
  uint64_t allocs[TINY_NCLASS], frees[TINY_NCLASS];
#endif
#if HAKMEM_LEARNER
  tiny_tune_t tune;  // what the band's learner reads and sets (band.h)
#endif
} tiny_tls_t;
_Static_assert(offsetof(tiny_tls_t, bin) == 0 && offsetof(tiny_tls_t, gate) == TINY_GATE_OFFSET,
               "tiny_lut.bin and ss_unit_t.bin are TINY_BIN_OFFSET/TINY_GATE_OFFSET from the cache");

typedef struct tiny_heap {
  // Held by the owner during every slow-path operation on this heap (refill, flush, drain,
  // abandon), never on the fast path. Its only purpose is fork: the prepare handler takes
  // every heap's lock so no heap is caught half-updated when the child is created.
  pthread_mutex_t lock;
  superslab_t *avail[TINY_NCLASS];  // SuperSlabs with nonempty[c] != 0
  superslab_t *with_free[SS_NKINDS];  // SuperSlabs with unassigned slabs, per kind
  superslab_t *owned;               // every owned SuperSlab
  _Atomic(tiny_slab_t *) inbox;     // slabs with remote frees to drain
  // &cache while a thread is attached, NULL when abandoned. Written under the heap-list
  // lock; read racily (relaxed) by other threads only as a hint that the heap is worth
  // reclaiming.
  tiny_tls_t *tls;
  tiny_tls_t cache;                 // the attached thread's cache (empty while abandoned)
  tiny_tls_t **tls_slot;            // &tiny_me of the attached thread (orphan detection)
  struct tiny_heap *all_next;       // list of every heap ever created
  struct tiny_heap *abandoned_next;
  uint64_t abandoned_ms;  // when its thread left it (hak_os_now_ms; heap_list_lock)
  uint32_t n_owned;
  uint32_t seq;                     // this heap's number (bands spread contention by it)
  tiny_band_heap_t band;            // the band's storage in this heap (the mid arena)
#if HAKMEM_LEARNER
  void *learn;                      // the band's learner state for this heap (band.h)
#endif
  uint32_t n_empty;                 // owned SuperSlabs with active == 0
  uint64_t remote_drained;          // blocks received through the inbox
  int tid;                          // kernel id of the attached thread (orphan detection)
  // Counters of every thread that owned this heap, kept here rather than in the thread's
  // TLS so that they outlive a thread that exits without its key destructor. Global
  // identity used by the checker: sum over heaps of (refilled - flushed) equals sum over
  // slabs of (used - remote blocks). Written by the owner under `lock`.
  uint64_t refilled, flushed;
  uint64_t refills, flushes, remote_pushes;  // slow-path event counters for stats
} tiny_heap_t;

// The calling thread's cache: &tiny_none (every capacity 0, so both fast paths fall into
// the slow path) until the thread's first slow-path call attaches it to a heap.
extern HAK_TLS tiny_tls_t *tiny_me;
extern HAK_TLS uint8_t tiny_state;
extern tiny_tls_t tiny_none;

// A block's header byte goes from "free" to "allocated" of the same class and back by one
// bit (TINY_HDR_FREE ^ TINY_HDR_ALLOC), flipped in memory. In the plain build the flip is one
// read-modify-write instruction: the fast paths have just compared the byte, and in C the
// compiler would rebuild it from that register (two instructions). Sanitizer and valgrind
// builds keep the C store, which their instrumentation sees.
#define TINY_HDR_STATE_BIT (TINY_HDR_FREE ^ TINY_HDR_ALLOC)
_Static_assert((TINY_HDR_FREE & ~TINY_HDR_STATE_BIT) == TINY_HDR_ALLOC, "free = allocated + one bit");
#if defined(__x86_64__) && !defined(HAK_ASAN) && !defined(HAK_TSAN) && !defined(HAK_MSAN) && !HAKMEM_VALGRIND
HAK_INLINE void tiny_hdr_take(void *p) { __asm__("andb %1, %0" : "+m"(((uint8_t *)p)[-1]) : "i"(~TINY_HDR_STATE_BIT & 0xff)); }
HAK_INLINE void tiny_hdr_give(void *p) { __asm__("orb %1, %0" : "+m"(((uint8_t *)p)[-1]) : "i"(TINY_HDR_STATE_BIT)); }
#else
HAK_INLINE void tiny_hdr_take(void *p) { ((uint8_t *)p)[-1] &= (uint8_t)~TINY_HDR_STATE_BIT; }
HAK_INLINE void tiny_hdr_give(void *p) { ((uint8_t *)p)[-1] |= (uint8_t)TINY_HDR_STATE_BIT; }
#endif

// Whether p's header byte is h. Every block in a cache, a slab's free list, a remote queue
// or a depot bundle carries TINY_HDR_FREE_OF(its class) (the integrity checker walks them);
// a block leaving one is checked against it and, if not, reported by hak_hdr_corrupt_jump
// (freelink.h), a tail call.
_Static_assert(TINY_HDR_CLASS_MASK == HAK_HDR_CLASS_MASK, "hak_hdr_corrupt_jump names the class as the slab engine masks it");
HAK_INLINE int tiny_hdr_is(const void *p, uint8_t h) { return hak_peek8((const uint8_t *)p - 1) == h; }

// p, a free block of class c leaving a cache, becomes the user's: header (checked: it must
// still say "free" of class c) and sanitizer state.
HAK_INLINE void *tiny_mark_alloc(void *p, unsigned c) {
  if (HAK_UNLIKELY(!tiny_hdr_is(p, TINY_HDR_FREE_OF(c)))) return hak_hdr_corrupt_jump(p, TINY_HDR_FREE_OF(c));
  tiny_hdr_take(p);
  HAK_TRACK_ALLOC(p, tiny_usable(c));
  return p;
}

// A thread-cache hit (list or ring) handed out: counted where counters exist, then checked
// and marked (the mark last, so the report stays a tail call and the ring's inline pop
// keeps no register across it).
HAK_INLINE void *tiny_hand_out(void *p, unsigned c) {
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->allocs[c]++;
#endif
#if HAKMEM_LEARNER
  tiny_me->bin[c].allocs++;
#endif
  return tiny_mark_alloc(p, c);
}

// Hands out the first block of a non-empty bin of class c (the slow path's twin of the pop
// in tiny_alloc).
HAK_INLINE void *tiny_bin_pop(tiny_bin_t *b, unsigned c) {
  void *p = b->head;
  b->head = hak_next_get(p);
  b->room++;
  return tiny_mark_alloc(p, c);
}

// The block i links after p.
HAK_INLINE void *tiny_chain_at(void *p, uint32_t i) {
  while (i--) p = hak_next_get(p);
  return p;
}

#ifdef __cplusplus
}
#endif

#endif
