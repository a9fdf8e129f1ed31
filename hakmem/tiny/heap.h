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
#include <stdatomic.h>
#include <stdint.h>

#include "hakmem/internal.h"
#include "hakmem/tiny/superslab.h"
#include "hakmem/tiny/size_class.h"
#include "hakmem/track.h"

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

HAK_INLINE uint32_t tiny_bin_count(const tiny_bin_t *b) { return b->cap - b->room; }

// Ring: a small array of free blocks in front of the list (LIFO) of each class of 8 KiB and
// up. Popping from an array hands out a block without loading
// its link, a cache miss when the block's line went cold since its free, which blocks of
// these sizes usually have. Frees fill the ring first and overflow into the list; allocation
// falls back to the list when the ring is empty. cap 0 (uninitialised thread, or
// HAKMEM_POOL_RING_CAP=0) sends both paths to the list.
#define TINY_RING_FIRST TINY_SMALL_NCLASS
#define TINY_RING_MAX 32
#define TINY_NRING (TINY_NCLASS - TINY_RING_FIRST)
typedef struct tiny_ring {
  uint32_t n, cap;
  void *slot[TINY_RING_MAX];
} tiny_ring_t;

enum { TINY_THREAD_NEW = 0, TINY_THREAD_ACTIVE = 1, TINY_THREAD_DEAD = 2 };  // tiny_state

#if HAKMEM_LEARNER
#include "hakmem/tiny/learn_driver.h"
#endif

typedef struct tiny_tls {
  tiny_bin_t bin[TINY_NCLASS];
  tiny_ring_t ring[TINY_NRING];
  struct tiny_heap *heap;
#if HAKMEM_DEBUG_COUNTERS
  uint64_t allocs[TINY_NCLASS], frees[TINY_NCLASS];
#endif
#if HAKMEM_LEARNER
  tiny_learn_t learn;  // per-thread learner (counters on the fast path, decisions on the slow)
#endif
} tiny_tls_t;

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
  uint32_t n_owned;
  uint8_t shard;                    // this heap's depot shard (depot.h)
  ss_arena_t arena;                 // where its kind-POOL SuperSlabs come from
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

// p, a free block of class c leaving a cache, becomes the user's: header and sanitizer state.
HAK_INLINE void *tiny_mark_alloc(void *p, unsigned c) {
  ((uint8_t *)p)[-1] = TINY_HDR_ALLOC_OF(c);
  HAK_TRACK_ALLOC(p, tiny_usable(c));
  return p;
}

// A thread-cache hit (list or ring) handed out: marked, and counted where counters exist.
HAK_INLINE void *tiny_hand_out(void *p, unsigned c) {
  tiny_mark_alloc(p, c);
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->allocs[c]++;
#endif
#if HAKMEM_LEARNER
  tiny_me->bin[c].allocs++;
#endif
  return p;
}

// Slow paths (heap.c). tiny_alloc_slow sets errno to ENOMEM when it returns NULL.
void *tiny_alloc_slow(unsigned c);
void tiny_free_slow(void *p, unsigned c);
// Any thread, any block of the engine: return it to its slab (locally or remotely).
void tiny_free_block_generic(void *p, unsigned c);

// Thread lifecycle. A thread whose TLS destructor never runs (it first allocated in the
// last destructor round) is an orphan: its heap stays attached, cache included, until a
// thread reusing its TLS block or malloc_trim (thread id gone) flushes and abandons it.
void tiny_thread_exit(void);
void tiny_set_exit_hook(void (*register_fn)(void));

// Global bookkeeping for the checker and stats.
typedef struct {
  uint64_t refilled, flushed;  // including threads that have exited
  uint64_t refills, flushes, remote_pushes, remote_drained;
  uint64_t cached_blocks;      // blocks in all thread caches (quiescent read)
  uint64_t heaps, heaps_abandoned;
#if HAKMEM_DEBUG_COUNTERS
  uint64_t allocs, frees;
#endif
} tiny_totals_t;
void tiny_totals(tiny_totals_t *out);
// The thread cache attached to h, or NULL (call under the heap-list lock, e.g. from
// tiny_heaps_foreach).
tiny_tls_t *tiny_heap_tls(tiny_heap_t *h);
// Bytes of slab-engine blocks in the program's hands (out of their slabs, not parked in a
// thread cache or the depot; blocks queued as remote frees still count). For mallinfo.
uint64_t tiny_live_bytes(void);
// Iterates every heap (under the heap-list lock).
void tiny_heaps_foreach(void (*fn)(tiny_heap_t *, void *), void *arg);
// Flushes this thread's caches back to the slabs (malloc_trim, tests).
void tiny_flush_thread_cache(void);
// Drains this thread's heap inbox (remote frees waiting for it).
void tiny_collect(void);
// Returns every bundle of the mid classes' depot to the slabs (malloc_trim, tests).
void tiny_depot_drain(void);
// Releases what abandoned heaps no longer need (their caches, empty SuperSlabs).
void tiny_trim_abandoned(void);
// malloc_trim for the slab engine: depot, abandoned heaps, SuperSlab cache (in that order);
// the bytes returned to the OS. Call after this thread's caches were flushed.
size_t tiny_trim(void);

// fork support, in the lock order of lifecycle.c: heap list, dead-thread heap, every heap
// (list order), then the SuperSlab cache.
void tiny_fork_prepare(void);
void tiny_fork_parent(void);
void tiny_fork_child(void);
// In the child of any fork (locks taken or not): the forking thread's new thread id.
void tiny_fork_child_rename(void);

#ifdef __cplusplus
}
#endif

#endif
