// front_fast.h — the inline fast paths of malloc and free, shared by the hak_* API
// (api.c) and the malloc override (override.c) so neither adds a call or jump.
// Everything that is not a thread-cache hit leaves through a tail call to front.c.
#ifndef HAKMEM_FRONT_FAST_H
#define HAKMEM_FRONT_FAST_H

#include "hakmem/front.h"
#include "hakmem/internal.h"
#include "hakmem/registry.h"
#include "hakmem/tiny/tiny.h"

HAK_INLINE void *front_malloc(size_t size) {
  unsigned c;
  if (HAK_LIKELY(size <= TINY_ENGINE_MAX)) {
    c = tiny_class_of(size);
#if defined(__has_builtin)
#if __has_builtin(__builtin_assume)
    __builtin_assume(c < 64);  // every class is: the header byte is then 0x40 | c, no mask
#endif
#endif
  }
  else if (size <= TINY_MID_MAX) return tiny_ring_alloc(tiny_mid_class_of(size));  // errno set on NULL
  else return front_large_alloc(size, 16);
  return tiny_alloc(c);  // errno set on NULL
}

HAK_INLINE void front_free(void *p) {
#if !HAKMEM_CHECKED
  // Fast path: a SuperSlab pointer whose header says "allocated". One test rejects NULL,
  // non-canonical and misaligned pointers before the registry lookup; everything else
  // (NULL, aligned blocks, large blocks, foreign pointers, double frees) takes the
  // validating slow path.
  uintptr_t u = (uintptr_t)p;
  if (HAK_LIKELY((u & ((~(uintptr_t)0 << HAK_ADDR_BITS) | 15)) == 0 &&
                 hak_reg_kind_canonical(u) == HAK_KIND_SUPERSLAB)) {
    // Class, expected header byte and block geometry come from the SuperSlab header's
    // entry for p's 64 KiB unit (one hot line); the block's own header byte, often in a
    // cold line, is only compared, so its load is off the critical path. Only the exact
    // start of a block slot passes (an interior pointer whose previous byte happens to
    // equal the header, an unassigned slab, the SuperSlab header all fail); a header
    // mismatch (free block, aligned marker, corruption) takes the slow path too.
    const ss_unit_t *e = ss_block_slot(ss_of(p), p);
    uint8_t h = hak_peek8((uint8_t *)p - 1);
    if (HAK_LIKELY(e != NULL && h == e->hdr)) {
      unsigned c = e->cls;
      uint8_t freed = (uint8_t)(h | (TINY_HDR_FREE ^ TINY_HDR_ALLOC));  // TINY_HDR_FREE_OF(c)
      if (HAK_LIKELY(c < TINY_RING_FIRST)) tiny_free_marked(p, c, freed);
      else tiny_ring_free(p, c);
      return;
    }
  }
#endif
  front_free_slow(p, "free");
}

#endif
