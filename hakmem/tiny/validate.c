// validate.c — which pointers the slab engine accepts: the exact start of a carved block of
// an assigned slab whose header byte says "allocated" (every build, every free that leaves
// the inline fast path), and the aligned-block marker written by tiny_aligned_mark. Each
// rejection names what the pointer is, for the one-line report.
#include "hakmem/tiny/validate.h"

#include "hakmem/tiny/heap.h"

int tiny_resolve(void *p, void **block, unsigned *cls, const char **why) {
#if !HAKMEM_CHECKED
  // What the free fast path accepts (front_fast.h) is accepted here at the same cost, with
  // no division: the exact start of a block slot whose header says "allocated" (realloc,
  // malloc_usable_size). Everything else gets the full diagnosis below.
  {
    const ss_unit_t *e = ss_unit_of(ss_of(p), p);
    if (ss_unit_is_slot(e, p) && hak_peek8((uint8_t *)p - 1) == e->hdr) {
      *block = p;
      *cls = e->cls;
      return 1;
    }
  }
#endif
  if ((uintptr_t)p & 15) {
    *why = "misaligned pointer inside a SuperSlab (interior pointer)";
    return 0;
  }
  superslab_t *ss = ss_of(p);
  uint8_t h = hak_peek8((uint8_t *)p - 1);
  if (h == TINY_HDR_ALIGNED && (uintptr_t)p - (uintptr_t)ss >= SS_HEADER_BYTES + 16) {
    uint32_t dist = hak_peek32((uint8_t *)p - 8);
    uint8_t *u = (uint8_t *)p - dist;
    // An aligned pointer lies strictly inside its block (16 <= dist < stride), so it is
    // never a block start itself: a block start carrying 0x80 is a corrupted header,
    // whatever the bytes before it say.
    tiny_slab_t *ps = ss_slab_of(ss, p);
    if (ps->cls == SS_CLASS_NONE || dist < 16 || dist >= ps->stride || ss_of(u) != ss || ((uintptr_t)u & 15) ||
        slab_is_block_start(ps, p) || ss_slab_of(ss, u) != ps) {
      *why = "corrupted aligned-block header";
      return 0;
    }
    p = u;
    h = hak_peek8(u - 1);
  }
  // The class comes from the slab; the pointer must be a carved block of it, and the
  // header must agree.
  tiny_slab_t *s = ss_slab_of(ss, p);
  unsigned c = ss_unit_of(ss, p)->cls;
  *block = p;
  *cls = c;
  if ((uintptr_t)p - (uintptr_t)ss < SS_HEADER_BYTES) {
    *why = "pointer into a SuperSlab's metadata (not a block)";
    return 0;
  }
  if (c == SS_CLASS_NONE) {
    *why = "pointer into an unused slab (not a block)";
    return 0;
  }
  if (ss->magic != SS_MAGIC || s->cls != c) {
    *why = "SuperSlab metadata does not match (corrupted)";
    return 0;
  }
  if (!slab_is_block_start(s, p)) {
    *why = "interior pointer (not the start of a block)";
    return 0;
  }
  if (h == TINY_HDR_FREE_OF(c)) {
    *why = "double free (block is already free)";
    return 0;
  }
  if (h != TINY_HDR_ALLOC_OF(c)) {
    *why = "corrupted block header";
    return 0;
  }
  return 1;
}
