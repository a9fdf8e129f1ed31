// refill.c — the allocation slow path: an empty thread-cache bin is refilled from the band's bundles
// (mid classes) or from the heap's slabs (remote frees drained first, then free blocks,
// then carving, then a new slab or SuperSlab); a thread past its destructor allocates from
// the shared dead-thread heap.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/tiny/heap_learn.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"

// Takes up to `want` blocks of class c from one slab of heap h (assigning a slab, and
// acquiring a SuperSlab, when no slab of the class has free blocks).
// `most` and a NULL tail as in heap_take_from_slab.
static uint32_t heap_take(tiny_heap_t *h, unsigned c, uint32_t want, uint32_t most, void **out, void **tail) {
  superslab_t *ss = h->avail[c];
  if (!ss && atomic_load_explicit(&h->inbox, memory_order_relaxed)) {
    heap_drain_inbox(h);
    ss = h->avail[c];
  }
  if (!ss) {
    if (!heap_new_slab(h, c)) return 0;
    ss = h->avail[c];
  }
  tiny_slab_t *s = &ss->slabs[__builtin_ctz(ss->nonempty[c])];
  // About to carve never-touched memory: blocks other threads freed back to this heap come
  // first, so a producer/consumer pair recycles instead of growing the footprint.
  if (!s->free_count && atomic_load_explicit(&h->inbox, memory_order_relaxed)) {
    heap_drain_inbox(h);
    ss = h->avail[c];
    if (!ss) return heap_take(h, c, want, most, out, tail);
    s = &ss->slabs[__builtin_ctz(ss->nonempty[c])];
  }
  return heap_take_from_slab(h, ss, s, want, most, out, tail);
}

// Batched page refill: a band class's refill may draw on as many slabs as its band says
// (the mid tier: HAKMEM_MID_REFILL_BATCH) to gather `want` blocks; any other class's takes
// what one slab has.
// Up to `most` blocks (the bin's room) when one slab's whole free list can be taken.
static uint32_t heap_refill(tiny_heap_t *h, unsigned c, uint32_t want, uint32_t most, void **out) {
  void *tail;
  const tiny_band_t *band = tiny_band_of(c);
  unsigned slabs = band ? band->refill_slabs() : 1;
  uint32_t n = heap_take(h, c, want, most, out, slabs > 1 ? &tail : NULL);
  for (unsigned i = 1; i < slabs && n && n < want; i++) {
    void *more, *more_tail;
    uint32_t k = heap_take(h, c, want - n, want - n, &more, &more_tail);
    if (!k) break;
    hak_next_set(tail, more);
    tail = more_tail;
    n += k;
  }
  return n;
}

static void *dead_alloc(unsigned c) {
  void *p = NULL;
  pthread_mutex_lock(&heap_list_lock);  // lock order: heap list before dead_lock
  if (!dead_heap) dead_heap = heap_new_locked();
  tiny_heap_t *h = dead_heap;
  pthread_mutex_unlock(&heap_list_lock);
  if (!h) {
    errno = ENOMEM;
    return NULL;
  }
  pthread_mutex_lock(&dead_lock);
  pthread_mutex_lock(&h->lock);
  heap_drain_inbox(h);
  if (heap_take(h, c, 1, 1, &p, NULL)) dead_refilled++;
  pthread_mutex_unlock(&h->lock);
  pthread_mutex_unlock(&dead_lock);
  if (p) tiny_mark_alloc(p, c);
  else errno = ENOMEM;
  return p;
}


// Fills an empty bin of class c from the band's bundles: up to refill_slabs() of them until
// `want` blocks are in hand; what exceeds the bin's cap is spilled again.
static uint32_t band_refill(const tiny_band_t *band, tiny_tls_t *t, unsigned c, uint32_t want, void **out) {
  uint32_t n = 0, cap = t->bin[c].cap;
  void *head = NULL, *tail = NULL;
  for (uint32_t i = 0, most = band->refill_slabs(); i < most && n < want; i++) {
    void *h;
    uint32_t k = band->get(c, t->heap->seq, &h);
    if (!k) break;
    if (n + k > cap) {  // a bundle from a thread with a larger cap: keep what fits
      void *last = tiny_chain_at(h, cap - n - 1), *rest = hak_next_get(last);
      hak_next_set(last, NULL);
      heap_spill_chain(t, c, rest, n + k - cap);
      k = cap - n;
    }
    if (tail) hak_next_set(tail, h);
    else head = h;
    n += k;
    if (n < want) tail = tiny_chain_at(h, k - 1);  // only needed to append another bundle
  }
  *out = head;
  return n;
}


// A band class's miss that its own bundles could not serve: before a slab carves new blocks,
// a bundle of a larger class (stride at most BORROW_MAX_FACTOR times) that another thread
// parked serves it. The block keeps its own class (header and stride): it is handed out as
// one of those and comes back to that class when freed; the rest of the bundle joins this
// thread's cache of that class. Why: with classes kept apart, every class carves for its own
// peak, and a class whose bundles ran out carved while the others' sat parked. Two
// producers and two consumers of 0 - 511 B messages and one in 16 of 4 - 64 KiB carved 14 -
// 28 blocks per class for about 3 in flight: peak RSS 12.6 MB, 10.5 with borrowing (glibc
// 5.9; medians of 7). A parked block is resident already; serving a smaller request with it
// costs no page, carving costs new ones.
// A class that borrows BORROW_MAX_STREAK misses in a row refills from its slabs at the next:
// each borrow is a slow-path allocation, and a class that is hot in this thread would take
// one at every malloc while the larger classes' bundles last.
#define BORROW_MAX_FACTOR 2
#define BORROW_MAX_STREAK 64
static void *band_borrow(const tiny_band_t *band, tiny_tls_t *t, unsigned c) {
  if (t->adapt.borrowed[c] >= BORROW_MAX_STREAK) return NULL;
  for (unsigned c2 = c + 1; c2 < TINY_NFIXED && tiny_class_stride[c2] <= BORROW_MAX_FACTOR * tiny_class_stride[c]; c2++) {
    void *h;
    uint32_t k = band->get(c2, t->heap->seq, &h);
    if (!k) continue;
    void *rest = hak_next_get(h);
    if (--k) {  // the rest of the bundle: this thread's cache of c2, what does not fit leaves again
      tiny_bin_t *b2 = &t->bin[c2];
      uint32_t keep = k < b2->room ? k : b2->room;
      if (keep < k) {
        void *cut = keep ? tiny_chain_at(rest, keep - 1) : NULL, *over = cut ? hak_next_get(cut) : rest;
        if (cut) hak_next_set(cut, NULL);
        heap_spill_chain(t, c2, over, k - keep);
        if (!keep) rest = NULL;
      }
      if (keep) {
        hak_next_set(tiny_chain_at(rest, keep - 1), b2->head);
        b2->head = rest;
        b2->room -= keep;
      }
    }
    t->adapt.borrowed[c]++;
    return tiny_hand_out(h, c2);
  }
  return NULL;
}

// Slow start (HAKMEM_TINY_SLOW_START): the first refill of a class in a thread carves
// about a page of blocks (one block of a class a page or wider), the next twice that, and
// so on up to `want`. Carving writes each block's header and link, so a batch is resident
// at once, and a program or thread that uses a class for a few blocks would pay for the
// whole batch: 8 blocks of a 5 KiB class, 32 of a 10 KiB one. A hot class reaches full
// batches after a few refills. Blocks a slab already holds free (resident) are still
// taken whole.
static uint32_t slow_start(tiny_tls_t *t, unsigned c, uint32_t want) {
  uint8_t k = t->adapt.starts[c];
  if (k == TINY_SLOW_START_DONE) return want;
  uint64_t lim = ((uint64_t)HAK_OS_PAGE << k) / tiny_class_stride[c];
  if (lim < (1u << k)) lim = 1u << k;
  if (lim >= want || !hak_cfg.tiny_slow_start) {
    t->adapt.starts[c] = TINY_SLOW_START_DONE;
    return want;
  }
  t->adapt.starts[c] = (uint8_t)(k + 1);
  return (uint32_t)lim;
}

void *tiny_alloc_slow(unsigned c) {
  if (HAK_UNLIKELY(tiny_state != TINY_THREAD_ACTIVE)) {
    if (tiny_state == TINY_THREAD_DEAD || heap_thread_init() != 0) return dead_alloc(c);
  }
  tiny_tls_t *t = tiny_me;
  tiny_bin_t *b = &t->bin[c];
  // A ring class allocated through the list (the dynamic class below 8 KiB): the ring may
  // hold blocks the list does not.
  if (c >= TINY_RING_FIRST && !b->head && t->ring[c - TINY_RING_FIRST].n) {
    tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
    return tiny_hand_out(r->slot[--r->n], c);
  }
  if (!b->head) {
    if (heap_learn_miss(t, c)) heap_apply_caps(t);
    void *p = heap_learn_borrow(t, c);
    if (p) return p;
  }
  if (!b->head) {
    heap_adapt_miss(t, c);  // a band class this thread allocates earns a larger cache
    uint32_t want = heap_refill_want(t, b);
    void *chain = NULL;
    uint32_t n = 0;
    HAK_TIME_START(t0);
    const tiny_band_t *band = tiny_band_of(c);
    if (band) {
      // Band classes: at least the band's minimum per refill, and its bundles before the slabs.
      uint32_t least = band->refill_min(c);
      if (want < least) want = least;
      if (want > b->cap) want = b->cap;
      n = band_refill(band, t, c, want, &chain);
      if (!n) {
        void *p = band_borrow(band, t, c);
        if (p) {
          HAK_TIME_END(HT_TINY_REFILL, t0);
          return p;
        }
      }
    }
    if (!n) {
      uint32_t carve = slow_start(t, c, want);
      pthread_mutex_lock(&t->heap->lock);
      // Up to the bin's room when a slab's whole list fits it, unless batching is off
      // (--//cfg:batch_refill=false: one block per refill, as that build promises).
      n = heap_refill(t->heap, c, carve, HAKMEM_BATCH_REFILL ? b->cap : carve, &chain);
      if (n) {
        t->heap->refilled += n;
        t->heap->refills++;
      }
      pthread_mutex_unlock(&t->heap->lock);
    }
    HAK_TIME_END(HT_TINY_REFILL, t0);
    if (!n) {
      errno = ENOMEM;
      return NULL;
    }
    b->head = chain;
    b->room = b->cap - n;
    t->adapt.refilled[c] = 1;
    t->adapt.dry[c] = 0;
    t->adapt.borrowed[c] = 0;
  }
  void *p = tiny_bin_pop(b, c);
#if HAKMEM_DEBUG_COUNTERS
  t->allocs[c]++;
#endif
  return p;
}
