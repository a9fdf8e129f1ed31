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
  if (HAK_LIKELY(size <= TINY_ENGINE_MAX)) {
    // One table entry gives the header byte and the bin's offset: no class arithmetic.
    size_t i = size >> 4;
    return tiny_alloc_at(tiny_lut.hdr[i], (tiny_bin_t *)((char *)tiny_me + tiny_lut.bin[i]));  // errno set on NULL
  }
  if (size <= TINY_MID_MAX) return tiny_ring_alloc(tiny_mid_class_of(size));  // errno set on NULL
  return front_large_alloc(size, 16);
}

HAK_INLINE void front_free(void *p) {
#if !HAKMEM_CHECKED
  // Fast path: a SuperSlab pointer whose header says "allocated". The registry's top-level
  // index doubles as the canonical-address test (NULL and pointers of no SuperSlab read
  // kind NONE); everything else (aligned blocks, large blocks, foreign pointers, double
  // frees) takes the validating slow path.
  uintptr_t u = (uintptr_t)p;
  if (HAK_LIKELY(hak_reg_kind_top(u, u >> HAK_REG_LEAF_SHIFT) == HAK_KIND_SUPERSLAB)) {
    // Class, expected header byte and block geometry come from the SuperSlab header's
    // entry for p's 64 KiB unit (one hot line); the block's own header byte, often in a
    // cold line, is only compared, so its load is off the critical path. Only the exact
    // start of a block slot passes: strides and slab bases are multiples of 16, so this
    // also rejects a misaligned pointer; an interior pointer whose previous byte happens to
    // equal the header, an unassigned slab and the SuperSlab header fail too. A header
    // mismatch (free block, aligned marker, corruption) takes the slow path.
    const ss_unit_t *e = ss_unit_of(ss_of(p), p);
    uint8_t h = hak_peek8((uint8_t *)p - 1);
    if (HAK_LIKELY(ss_unit_is_slot(e, p) && h == e->hdr)) {
      // The bin's offset, so no class arithmetic on this path (a ring class's is the gate,
      // which sends it to tiny_free_slow and the ring).
      tiny_free_to(p, h, (tiny_bin_t *)((char *)tiny_me + e->bin));
      return;
    }
  }
#endif
  front_free_slow(p, "free");
}

#endif
