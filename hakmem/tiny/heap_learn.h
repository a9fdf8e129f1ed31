// heap_learn.h — the slab engine's hooks for its band's learner (band.h), inline, and
// constant (compiled away) in a build without --//cfg:learner=true. The learner itself
// (hakmem/mid/learn.c) sees only tiny_tune_t; these hooks copy the counters in, and the
// caller applies the capacities out with heap_apply_caps (flush.c).
#ifndef HAKMEM_TINY_HEAP_LEARN_H
#define HAKMEM_TINY_HEAP_LEARN_H

#include "hakmem/tiny/heap.h"

// A slow-path event of this thread. 1 when the learner closed a window: the caller then
// applies t->tune.cap_want (heap_apply_caps).
HAK_INLINE int heap_learn_tick(tiny_tls_t *t) {
#if HAKMEM_LEARNER
  const tiny_band_t *band = tiny_band;
  void *L = t->heap->learn;
  if (!band || !L || !band->learn_due(L)) return 0;
  tiny_tune_t *u = &t->tune;
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    u->allocs[c] = t->bin[c].allocs;
    u->cap_want[c] = t->bin[c].cap;
  }
  band->learn_window(L, u);
  return 1;
#else
  (void)t;
  return 0;
#endif
}

// A miss of class c, counted for the learner; as heap_learn_tick.
HAK_INLINE int heap_learn_miss(tiny_tls_t *t, unsigned c) {
#if HAKMEM_LEARNER
  t->tune.misses[c]++;
#else
  (void)c;
#endif
  return heap_learn_tick(t);
}

// W_MAX: a miss of class c served from a larger class's cache when that block is at most
// W_MAX times this class's size (memory traded for a refill, only as the learner decided).
// NULL when there is none, and always without the learner.
HAK_INLINE void *heap_learn_borrow(tiny_tls_t *t, unsigned c) {
#if HAKMEM_LEARNER
  for (unsigned c2 = c + 1; t->tune.wmax_pct > 100 && c2 < TINY_NFIXED &&
                            (uint64_t)tiny_class_stride[c2] * 100 <= (uint64_t)tiny_class_stride[c] * t->tune.wmax_pct;
       c2++) {
    if (!t->bin[c2].head) continue;
    t->tune.borrows++;
    return tiny_bin_pop(&t->bin[c2], c2);
  }
#else
  (void)t;
  (void)c;
#endif
  return (void *)0;
}

// How many blocks a refill of bin b asks for.
HAK_INLINE uint32_t heap_refill_want(tiny_tls_t *t, const tiny_bin_t *b) {
#if HAKMEM_LEARNER
  uint32_t want = b->cap / t->tune.refill_div;
  return want ? want : 1;
#else
  (void)t;
  return HAKMEM_BATCH_REFILL ? b->cap / 2 : 1;
#endif
}

#endif
