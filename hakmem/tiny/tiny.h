// tiny.h — the slab engine's inline fast paths: pop/push on the thread cache, nothing else.
// An uninitialised thread's cache is tiny_none (empty bins with cap 0), so both paths fall
// into the slow path with no separate "initialised?" test.
#ifndef HAKMEM_TINY_TINY_H
#define HAKMEM_TINY_TINY_H

#include "hakmem/internal.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/tiny/size_class.h"
#include "hakmem/track.h"

// Pops the first block of bin b, whose class's "free" header byte is fh. The block must
// still say so: a write after free or an overflow into a free neighbour that changed the
// header, or a link that passed the alignment test and led somewhere that is no free block
// of this class (one in 256 holds the right byte), is reported before the block is handed
// out (hak_hdr_corrupt_jump). Two instructions: the compare reads the header's memory and
// the flip to "allocated" is one read-modify-write (tiny_hdr_take).
HAK_INLINE void *tiny_alloc_at(uint8_t fh, tiny_bin_t *b) {
  unsigned c = fh & TINY_HDR_CLASS_MASK;
  void *p = b->head;
  if (HAK_UNLIKELY(!p)) return tiny_alloc_slow(c);
  // hak_next_get, with the bad-link report as a tail call (freelink.h).
  void *next = hak_next_peek(p);
  if (HAK_UNLIKELY((uintptr_t)next & 15)) return hak_link_corrupt_jump(p, (uintptr_t)next);
  if (HAK_UNLIKELY(!tiny_hdr_is(p, fh))) return hak_hdr_corrupt_jump(p, fh);
  b->head = next;
  b->room++;
  // No prefetch of next: the link check's two instructions took its place (it measured
  // within noise on every row of bench/compare, 5 runs each, 2026-12-05).
  tiny_hdr_take(p);
  HAK_TRACK_ALLOC(p, tiny_usable(c));
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->allocs[c]++;
#endif
#if HAKMEM_LEARNER
  b->allocs++;
#endif
  return p;
}

HAK_INLINE void *tiny_alloc(unsigned c) { return tiny_alloc_at(TINY_HDR_FREE_OF(c), &tiny_me->bin[c]); }

// p is a validated allocated block whose header still says "allocated" of class c and b is
// the bin the free goes to in the calling thread's cache. hdr carries c in its class bits
// (the fast path passes the header byte it already holds); the class is read from it only
// where it is needed, off the path of a bin with room. The header becomes "free" in place.
HAK_INLINE void tiny_free_to(void *p, uint8_t hdr, tiny_bin_t *b) {
  unsigned c = hdr & TINY_HDR_CLASS_MASK;
  tiny_hdr_give(p);
  HAK_TRACK_FREE(p, tiny_usable(c));
  // room - 1 with the borrow as the "no room" test: one subtraction instead of a test and a
  // decrement. Only written back on the path with room (tiny_none's bins are shared).
  uint32_t room;
  if (HAK_UNLIKELY(__builtin_sub_overflow(b->room, 1u, &room))) {
    // A ring class comes through the always-full gate bin (cap TINY_GATE_CAP): its ring,
    // inline, while it has room (no call on the 8 – 64 KiB classes' usual free); anything
    // else is the slow path. The cache is found from b, so tiny_me is not read again.
    if (b->cap == TINY_GATE_CAP) {
      tiny_tls_t *t = (tiny_tls_t *)((char *)b - TINY_GATE_OFFSET);
      tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
      if (HAK_LIKELY(r->n < r->cap)) {
        r->slot[r->n++] = p;
#if HAKMEM_DEBUG_COUNTERS
        t->frees[c]++;
#endif
        return;
      }
    }
    tiny_free_slow(p, c);
    return;
  }
  hak_next_set(p, b->head);
  b->head = p;
  b->room = room;
#if HAKMEM_DEBUG_COUNTERS
  tiny_me->frees[c]++;
#endif
}

// Any validated allocated block of class c: a small class to its bin, a ring class through
// the gate to tiny_free_slow and its ring (the route the inline free takes).
HAK_INLINE void tiny_free(void *p, unsigned c) {
  tiny_free_to(p, TINY_HDR_ALLOC_OF(c), c < TINY_RING_FIRST ? &tiny_me->bin[c] : &tiny_me->gate);
}

// Ring classes (c >= TINY_RING_FIRST): the ring first, then the list.
HAK_INLINE void *tiny_ring_alloc(unsigned c) {
  tiny_ring_t *r = &tiny_me->ring[c - TINY_RING_FIRST];
  if (HAK_UNLIKELY(!r->n)) return tiny_alloc(c);
  return tiny_hand_out(r->slot[--r->n], c);
}

// Marks q, an aligned pointer inside block u (u + 16 <= q < u + stride), so that free and
// tiny_resolve find u: header byte TINY_HDR_ALIGNED and the distance back at q - 8.
HAK_INLINE void tiny_aligned_mark(uint8_t *u, uint8_t *q) {
  if (q == u) return;
  q[-1] = TINY_HDR_ALIGNED;
  *(uint32_t *)(q - 8) = (uint32_t)(q - u);
}

#endif
