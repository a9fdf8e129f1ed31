// tiny.h — the slab engine's inline fast paths: pop/push on the thread cache, nothing else.
// An uninitialised thread's cache is tiny_none (empty bins with cap 0), so both paths fall
// into the slow path with no separate "initialised?" test.
#ifndef HAKMEM_TINY_TINY_H
#define HAKMEM_TINY_TINY_H

#include "hakmem/internal.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/tiny/size_class.h"
#include "hakmem/track.h"

HAK_INLINE void *tiny_alloc(unsigned c) {
  tiny_bin_t *b = &tiny_me->bin[c];
  void *p = b->head;
  if (HAK_UNLIKELY(!p)) return tiny_alloc_slow(c);
  void *next = hak_next_get(p);
  b->head = next;
  b->room++;
  __builtin_prefetch(next);  // the next pop of this class reads *next
  return tiny_hand_out(p, c);
}

// p is a validated allocated block of class c whose header still says "allocated"; freed is
// TINY_HDR_FREE_OF(c) (the fast path derives it from the header byte it already holds).
HAK_INLINE void tiny_free_marked(void *p, unsigned c, uint8_t freed) {
  ((uint8_t *)p)[-1] = freed;
  HAK_TRACK_FREE(p, tiny_usable(c));
  tiny_bin_t *b = &tiny_me->bin[c];
  if (HAK_UNLIKELY(b->room == 0)) {
    tiny_free_slow(p, c);
    return;
  }
  hak_next_set(p, b->head);
  b->head = p;
  b->room--;
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->frees[c]++;
#endif
}

HAK_INLINE void tiny_free(void *p, unsigned c) { tiny_free_marked(p, c, TINY_HDR_FREE_OF(c)); }

// Ring classes (c >= TINY_RING_FIRST): the ring first, then the list.
HAK_INLINE void *tiny_ring_alloc(unsigned c) {
  tiny_ring_t *r = &tiny_me->ring[c - TINY_RING_FIRST];
  if (HAK_UNLIKELY(!r->n)) return tiny_alloc(c);
  return tiny_hand_out(r->slot[--r->n], c);
}

// p as in tiny_free.
HAK_INLINE void tiny_ring_free(void *p, unsigned c) {
  tiny_ring_t *r = &tiny_me->ring[c - TINY_RING_FIRST];
  if (HAK_UNLIKELY(r->n >= r->cap)) {
    tiny_free(p, c);
    return;
  }
  ((uint8_t *)p)[-1] = TINY_HDR_FREE_OF(c);
  HAK_TRACK_FREE(p, tiny_usable(c));
  r->slot[r->n++] = p;
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->frees[c]++;
#endif
}

// Marks q, an aligned pointer inside block u (u + 16 <= q < u + stride), so that free and
// tiny_resolve find u: header byte TINY_HDR_ALIGNED and the distance back at q - 8.
HAK_INLINE void tiny_aligned_mark(uint8_t *u, uint8_t *q) {
  if (q == u) return;
  q[-1] = TINY_HDR_ALIGNED;
  *(uint32_t *)(q - 8) = (uint32_t)(q - u);
}

#endif
