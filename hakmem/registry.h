// registry.h — "which HAKMEM structure owns this address?" in O(1), no syscalls.
// A flat byte map with one entry per 2 MiB granule of the 47-bit user address space
// (64 MiB of lazily-touched BSS). Only the boxes that map memory write it.
#ifndef HAKMEM_REGISTRY_H
#define HAKMEM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAK_GRANULE_SHIFT 21
#define HAK_GRANULE ((size_t)1 << HAK_GRANULE_SHIFT)
#define HAK_ADDR_BITS 47

enum {
  HAK_KIND_NONE = 0,        // not HAKMEM's
  HAK_KIND_SUPERSLAB = 1,   // a 2 MiB SuperSlab (Tiny tier and the mid classes up to 64 KiB)
  HAK_KIND_LARGE = 2,       // granule holding the user pointer of a large block
  HAK_KIND_LARGE_TAIL = 3,  // any other granule of a large block's mapping
  HAK_KIND_POOL = 4,        // a granule of a 32 MiB page-heap arena (pool/pageheap.h)
};

extern uint8_t hak_reg_map[(size_t)1 << (HAK_ADDR_BITS - HAK_GRANULE_SHIFT)];

HAK_INLINE unsigned hak_reg_kind(const void *p) {
  uintptr_t u = (uintptr_t)p;
  if (HAK_UNLIKELY(u >> HAK_ADDR_BITS)) return HAK_KIND_NONE;
  // Relaxed: a pointer reaches free() only after its mapping was published.
  return HAK_LOAD_RELAXED(&hak_reg_map[u >> HAK_GRANULE_SHIFT]);
}

// Marks [base, base+size) granule by granule: the granule of `head` gets head_kind, every
// other granule of the range gets rest_kind. base must be granule-aligned.
void hak_reg_set(const void *base, size_t size, const void *head, unsigned head_kind, unsigned rest_kind);
void hak_reg_clear(const void *base, size_t size);

#ifdef __cplusplus
}
#endif

#endif
