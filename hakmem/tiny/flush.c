// flush.c — blocks leaving a thread cache: half of a full bin (a mid class's as one bundle
// to the band when it keeps it), a whole cache (thread exit, malloc_trim), or what a
// smaller capacity the learner chose no longer holds; block runs go to their slabs, the
// heap's own directly, other heaps' through their remote queues. Every function works on the
// cache and heap it is given; the calling thread's own state is thread.c's.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/tiny/heap_learn.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"

// Drains the inbox of a heap no thread owns and releases its empty SuperSlabs, so memory
// freed into an abandoned heap goes back without waiting for a thread to adopt the heap.
// Every heap-structure change happens under the heap's lock, so this is safe even if a new
// thread adopts the heap meanwhile; trylock keeps the caller's free path from waiting.
static void reclaim_abandoned(tiny_heap_t *h) {
  if (pthread_mutex_trylock(&h->lock) != 0) return;
  heap_drain_inbox(h);
  if (!__atomic_load_n(&h->tls, __ATOMIC_RELAXED)) heap_release_empty(h);
  pthread_mutex_unlock(&h->lock);
}

// Returns the first n blocks of the chain at p to their slabs: blocks of heap `self`
// directly, others through remote queues, one CAS per run of blocks of the same slab (cut
// at the slab's run_max, so that any thread's refill can take the run whole: superslab.h).
// Returns the block after them. self's lock is held.
void *heap_flush_chain(tiny_tls_t *t, tiny_heap_t *self, void *p, uint32_t n) {
  uint32_t done = 0;
  tiny_heap_t *reclaim = NULL;
  while (done < n) {
    tiny_slab_t *s = ss_slab_of(ss_of(p), p);
    void *head = p, *tail = p;
    uint32_t k = 1;
    p = hak_next_get(p);
    while (done + k < n && k < s->run_max && ss_slab_of(ss_of(p), p) == s) {
      tail = p;
      p = hak_next_get(p);
      k++;
    }
    superslab_t *ss = ss_of(head);
    if (ss->owner == self) {
      heap_put_chain(self, ss, s, head, tail, k);
    } else {
      // Read the owner before pushing: once pushed, the blocks may be drained and the
      // SuperSlab released by its owner at any moment.
      tiny_heap_t *owner = ss->owner;
      if (!__atomic_load_n(&owner->tls, __ATOMIC_RELAXED)) reclaim = owner;
      heap_remote_push(s, head, tail);
      self->remote_pushes += k;
    }
    done += k;
  }
  self->flushed += n;
  self->flushes++;
  if (reclaim) reclaim_abandoned(reclaim);
  return p;
}

// Returns every block of the ring of class c to the slabs.
void *heap_ring_chain(tiny_ring_t *r, uint32_t from) {
  for (uint32_t i = from; i + 1 < r->n; i++) hak_next_set(r->slot[i], r->slot[i + 1]);
  hak_next_set(r->slot[r->n - 1], NULL);
  r->n = from;
  return r->slot[from];
}

static void flush_ring(tiny_tls_t *t, tiny_heap_t *self, unsigned c) {
  tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
  uint32_t n = r->n;
  if (!n) return;
  heap_flush_chain(t, self, heap_ring_chain(r, 0), n);
}

// Detaches n blocks from the head of bin c of cache t and returns them to their slabs.
static void flush_bin(tiny_tls_t *t, tiny_heap_t *self, unsigned c, uint32_t n) {
  tiny_bin_t *b = &t->bin[c];
  if (n > tiny_bin_count(b)) n = tiny_bin_count(b);
  if (!n) return;
  b->head = heap_flush_chain(t, self, b->head, n);
  b->room += n;
}

// An exiting thread's cache of a band class goes to the band whole (the mid depot: one
// bundle per class; what the band refuses goes to the slabs, heap_spill_chain). Flushed to
// the heap's slabs, the blocks would wait for the one thread that adopts the heap, while
// the next threads, finding the depot empty, carved new ones: threads that come and go
// (the exiting-threads shape: 8 at a time, 256 in all, handing mid blocks to main)
// grew their footprint at each exit.
// A ring class's ring goes with its list, as one bundle.
void heap_spill_bands(tiny_tls_t *t) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    tiny_bin_t *b = &t->bin[c];
    uint32_t n = tiny_bin_count(b);
    if (!tiny_band_of(c)) continue;
    void *head = b->head;
    b->head = NULL;
    b->room += n;
    tiny_ring_t *r = c >= TINY_RING_FIRST ? &t->ring[c - TINY_RING_FIRST] : NULL;
    if (r && r->n) {
      uint32_t k = r->n;
      void *ring = heap_ring_chain(r, 0);
      if (n) hak_next_set(tiny_chain_at(ring, k - 1), head);
      head = ring;
      n += k;
    }
    if (n) heap_spill_chain(t, c, head, n);
  }
}

void heap_flush_all(tiny_tls_t *t, tiny_heap_t *h) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) flush_bin(t, h, c, tiny_bin_count(&t->bin[c]));
  for (unsigned c = TINY_RING_FIRST; c < TINY_NCLASS; c++) flush_ring(t, h, c);
  heap_drain_inbox(h);
}

// A bundle of k blocks of class c leaving thread cache t: to the band when it keeps it (the
// mid depot), else back to the slabs.
void heap_spill_chain(tiny_tls_t *t, unsigned c, void *head, uint32_t k) {
  const tiny_band_t *band = tiny_band_of(c);
  if (band && band->put(c, head, k, t->heap->seq)) return;
  pthread_mutex_lock(&t->heap->lock);
  heap_flush_chain(t, t->heap, head, k);
  pthread_mutex_unlock(&t->heap->lock);
}


// Sets bin c's capacity, flushing blocks the new capacity has no room for.
void heap_set_cap(tiny_tls_t *t, unsigned c, uint32_t cap) {
  tiny_bin_t *b = &t->bin[c];
  uint32_t count = tiny_bin_count(b);
  if (count > cap) {
    pthread_mutex_lock(&t->heap->lock);
    flush_bin(t, t->heap, c, count - cap);
    pthread_mutex_unlock(&t->heap->lock);
    count = tiny_bin_count(b);
  }
  b->cap = cap;
  b->room = cap - count;
}

void heap_apply_caps(tiny_tls_t *t) {
#if HAKMEM_LEARNER
  for (unsigned c = 0; c < TINY_NCLASS; c++)
    if (t->tune.cap_want[c] != t->bin[c].cap) heap_set_cap(t, c, t->tune.cap_want[c]);
#else
  (void)t;
#endif
}

// Half of a full bin goes back: a band class's as one bundle (the band or the slabs), else
// to the slabs under the heap's lock.
void heap_flush_half(tiny_tls_t *t, tiny_bin_t *b, unsigned c) {
  HAK_TIME_START(t0);
  uint32_t k = b->cap / 2 ? b->cap / 2 : 1;
  const tiny_band_t *band = tiny_band_of(c);
  if (band) {  // one bundle, which the band may keep (heap_spill_chain)
    // A cache at its smallest (a thread that only frees the class) sends the whole bin:
    // half of it would be less than the band's smallest bundle.
    if (k < band->refill_min(c)) k = tiny_bin_count(b);
    void *head = b->head, *last = tiny_chain_at(head, k - 1);
    b->head = hak_next_get(last);
    hak_next_set(last, NULL);
    b->room += k;
    heap_spill_chain(t, c, head, k);
    // The band may keep the bundle (the mid depot): what nobody takes decays. Here the bin
    // is consistent, so starting the decay thread may allocate.
    hak_decay_kick();
  } else {
    pthread_mutex_lock(&t->heap->lock);
    flush_bin(t, t->heap, c, k);
    pthread_mutex_unlock(&t->heap->lock);
  }
  HAK_TIME_END(HT_TINY_FLUSH, t0);
}
