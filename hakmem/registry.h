// registry.h — "which HAKMEM structure owns this address?" in O(1), no syscalls.
// A two-level byte map with one entry per 2 MiB granule of the 47-bit user address space:
// a 512-entry top table (one per 256 GiB) of pointers to 128 KiB leaves. Leaves are mapped
// on first use and only the pages of them that are written become resident (one 4 KiB page
// covers 8 GiB); every top entry starts at a shared all-zero leaf, so a lookup is always
// two loads and never a NULL test. The top table is initialised data: each entry is a
// relocation the dynamic linker applies at load, and a 4096-entry table (32 GiB leaves)
// cost 100 KiB of relocation records and 32 KiB of written data in every process, a sixth
// of a small program's footprint. A flat map would reserve 64 MiB (counted in VmSize and
// against `ulimit -v`). Only the boxes that map memory write it.
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
#define HAK_REG_LEAF_SHIFT 38  // one leaf per 256 GiB
#define HAK_REG_LEAF_ENTRIES ((size_t)1 << (HAK_REG_LEAF_SHIFT - HAK_GRANULE_SHIFT))
#define HAK_REG_TOP_ENTRIES ((size_t)1 << (HAK_ADDR_BITS - HAK_REG_LEAF_SHIFT))

enum {
  HAK_KIND_NONE = 0,        // not HAKMEM's
  HAK_KIND_SUPERSLAB = 1,   // a 2 MiB SuperSlab (Tiny tier and the mid classes up to 64 KiB)
  HAK_KIND_LARGE = 2,       // granule holding the user pointer of a large block
  HAK_KIND_LARGE_TAIL = 3,  // any other granule of a large block's mapping
  HAK_KIND_POOL = 4,        // a mapped granule of a page-heap arena (pool/pageheap.h)
};

extern uint8_t *hak_reg_top[HAK_REG_TOP_ENTRIES];

// Kind of the granule of u; u must be below 2^47 (callers test that first).
HAK_INLINE unsigned hak_reg_kind_canonical(uintptr_t u) {
  // Relaxed: a pointer reaches free() only after its mapping (and leaf) was published.
  const uint8_t *leaf = HAK_LOAD_RELAXED(&hak_reg_top[u >> HAK_REG_LEAF_SHIFT]);
  return HAK_LOAD_RELAXED(&leaf[(u >> HAK_GRANULE_SHIFT) & (HAK_REG_LEAF_ENTRIES - 1)]);
}

// Kind of the granule of u when u is below 2^47 (top = u >> HAK_REG_LEAF_SHIFT, which the
// caller has computed: one shift serves as both the bound test and the index), else NONE.
HAK_INLINE unsigned hak_reg_kind_top(uintptr_t u, uintptr_t top) {
  // Without the empty asm the compiler turns the bound test back into a second shift of u.
  __asm__("" : "+r"(top));
  if (HAK_UNLIKELY(top >= HAK_REG_TOP_ENTRIES)) return HAK_KIND_NONE;
  const uint8_t *leaf = HAK_LOAD_RELAXED(&hak_reg_top[top]);
  return HAK_LOAD_RELAXED(&leaf[(u >> HAK_GRANULE_SHIFT) & (HAK_REG_LEAF_ENTRIES - 1)]);
}

HAK_INLINE unsigned hak_reg_kind(const void *p) {
  uintptr_t u = (uintptr_t)p;
  if (HAK_UNLIKELY(u >> HAK_ADDR_BITS)) return HAK_KIND_NONE;
  return hak_reg_kind_canonical(u);
}

// Marks [base, base+size) granule by granule: the granule of `head` gets head_kind, every
// other granule of the range gets rest_kind. base must be granule-aligned. Returns -1 when a
// leaf could not be mapped (nothing is marked then).
int hak_reg_set(const void *base, size_t size, const void *head, unsigned head_kind, unsigned rest_kind);
void hak_reg_clear(const void *base, size_t size);
// Maps every leaf [base, base+size) needs without marking anything, so that a later
// hak_reg_set of that range cannot fail. Returns -1 when a leaf could not be mapped.
int hak_reg_reserve(const void *base, size_t size);

#ifdef __cplusplus
}
#endif

#endif
