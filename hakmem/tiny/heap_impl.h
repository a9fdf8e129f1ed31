// heap_impl.h — what the slab engine's own files share and nothing else includes: the heap
// lists and their lock, the dead-thread heap, and the functions one mechanism offers the
// others. Mechanisms, lowest first: slab.c (lists and counters), remote.c (cross-thread
// frees), flush.c (blocks leaving a cache), thread.c (heaps and threads, the calling
// thread's cache, the free slow path's entry, trim, totals), refill.c (the allocation slow
// path), fork.c (fork handlers). Prototypes and shared variables only: the inline helpers
// are in heap.h and heap_learn.h.
#ifndef HAKMEM_TINY_HEAP_IMPL_H
#define HAKMEM_TINY_HEAP_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "hakmem/tiny/heap.h"

// ---------------------------------------------------------------- shared state (thread.c)

// Lock order (the whole allocator's is in lifecycle.c): heap_list_lock, dead_lock, a
// heap's lock (never two at once but by trylock), then the SuperSlab cache lock.
extern pthread_mutex_t heap_list_lock;
extern tiny_heap_t *heaps_all, *heaps_abandoned;   // heap_list_lock
extern uint64_t heap_count, heap_abandoned_count;   // heap_list_lock
extern tiny_totals_t heap_exited;                   // counters of exited threads (heap_list_lock)
// Threads whose caches are gone (after their TLS destructor ran) share this heap.
extern pthread_mutex_t dead_lock;
extern tiny_heap_t *dead_heap;
extern uint64_t dead_refilled, dead_flushed;  // dead_lock
// Blocks pushed onto remote queues by threads without a heap (dead threads, the decay
// thread): counted with the heaps' remote_pushes (dead_lock).
extern uint64_t dead_remote_pushes;

// ---------------------------------------------------------------- slab.c (heap's lock held)

// Moves up to `want` blocks out of slab s into a NULL-terminated chain (*tail_out, when
// asked, its last block): the free list's runs whole while they fit `most` (no walk), a
// walk only when the top run alone is longer, carved blocks once the list is empty. used
// and active grow by exactly the number returned.
uint32_t heap_take_from_slab(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, uint32_t want, uint32_t most,
                             void **out, void **tail_out);
// Returns a chain of k blocks (head..tail, all of slab s) to the slab's free list: it joins
// the top run or, too long for that, becomes the new top run (superslab.h).
void heap_put_chain(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, void *head, void *tail, uint32_t k);
// Assigns a new slab of class c (acquiring a SuperSlab when none has a free slab); NULL
// when out of memory. The slab is on the class's avail list afterwards.
tiny_slab_t *heap_new_slab(tiny_heap_t *h, unsigned c);
// Unlinks SuperSlab ss (active == 0) from every list of h and releases it.
void heap_release_ss(tiny_heap_t *h, superslab_t *ss);
// Releases every SuperSlab of h with no block out.
void heap_release_empty(tiny_heap_t *h);

// ---------------------------------------------------------------- remote.c

// Pushes a chain of blocks of slab s (owned by another heap) with one CAS.
void heap_remote_push(tiny_slab_t *s, void *head, void *tail);
// Returns every block other threads freed to h to its slab (h's lock held).
void heap_drain_inbox(tiny_heap_t *h);

// ---------------------------------------------------------------- flush.c

// Returns the first n blocks of the chain at p to their slabs (self's lock held); returns
// the block after them.
void *heap_flush_chain(tiny_tls_t *t, tiny_heap_t *self, void *p, uint32_t n);
// Every bin and ring of t back to the slabs, then h's inbox drained (h's lock held).
void heap_flush_all(tiny_tls_t *t, tiny_heap_t *h);
// An exiting thread's band-class bins to the band, as far as it keeps them, else to the
// slabs (no lock held).
void heap_spill_bands(tiny_tls_t *t);
// A bundle of k blocks of class c leaving cache t: to the band when it keeps it, else to
// the slabs.
void heap_spill_chain(tiny_tls_t *t, unsigned c, void *head, uint32_t k);
// Half of full bin b of class c leaves cache t (a mid class's as one bundle).
void heap_flush_half(tiny_tls_t *t, tiny_bin_t *b, unsigned c);

// ---------------------------------------------------------------- thread.c

// Attaches the calling thread to a heap (adopting an abandoned one); 0, or -1 when the
// thread must use the dead-thread path.
int heap_thread_init(void);
// A new heap on heap_list (heap_list_lock held); NULL when out of memory.
tiny_heap_t *heap_new_locked(void);
// Detaches heap h from its thread and queues it for adoption (heap_list_lock held).
void heap_abandon_locked(tiny_heap_t *h);
// Flushes cache t and abandons its heap, which keeps its empty SuperSlabs and arena for
// the next thread until a decay pass (heap_list_lock held).
void heap_abandon_thread_locked(tiny_tls_t *t);
// Releases an unused heap's empty SuperSlabs and the rest of its band's arena (h->lock held).
void heap_release_idle(tiny_heap_t *h);
// Folds t's debug counters into heap_exited (heap_list_lock held).
void heap_fold_counters_locked(tiny_tls_t *t);

// ---------------------------------------------------------------- learner (flush.c)

// Links ring slots from .. n-1 into a NULL-terminated chain, leaves `from` slots in the
// ring, and returns the chain (from < r->n) (flush.c).
void *heap_ring_chain(tiny_ring_t *r, uint32_t from);
// Sets bin c's capacity, flushing blocks the new capacity has no room for (flush.c).
void heap_set_cap(tiny_tls_t *t, unsigned c, uint32_t cap);
// Adaptive capacities (adapt.c): heap_adapt_start records a new cache's targets; when bin c
// is full on a free, heap_adapt_full returns 1 if it grew the bin (the free then goes in),
// else 0 (the caller flushes), having shrunk a bin that only receives frees.
// A band class's bin and ring start at the band's smallest refill and no ring, and grow
// toward the band's capacities only as the thread allocates the class (heap_adapt_miss, on
// each refill): a thread that only frees a class (a consumer) keeps a few blocks of it,
// where the full capacities held up to 1.5 MiB per class and thread.
void heap_adapt_start(tiny_tls_t *t);
void heap_adapt_miss(tiny_tls_t *t, unsigned c);
int heap_adapt_full(tiny_tls_t *t, unsigned c);
// Applies the capacities the learner chose (t->tune.cap_want), flushing what no longer fits.
// Does nothing in a build without the learner.
void heap_apply_caps(tiny_tls_t *t);

#endif
