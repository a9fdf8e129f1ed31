// registry.c — writers of the granule map (see registry.h).
#include "hakmem/registry.h"

#include "hakmem/os.h"

// Read by every lookup whose 256 GiB region holds nothing of HAKMEM's; never written.
static uint8_t reg_zero_leaf[HAK_REG_LEAF_ENTRIES];
uint8_t *hak_reg_top[HAK_REG_TOP_ENTRIES] = {[0 ... HAK_REG_TOP_ENTRIES - 1] = reg_zero_leaf};

// The leaf of top entry i, mapped on first use (racing writers: one CAS wins, the loser
// unmaps its copy). Leaves are never freed.
static uint8_t *reg_leaf(uintptr_t i) {
  uint8_t *leaf = __atomic_load_n(&hak_reg_top[i], __ATOMIC_ACQUIRE);
  if (leaf != reg_zero_leaf) return leaf;
  uint8_t *fresh = hak_os_map(HAK_REG_LEAF_ENTRIES);
  if (!fresh) return NULL;
  uint8_t *expected = reg_zero_leaf;
  if (__atomic_compare_exchange_n(&hak_reg_top[i], &expected, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return fresh;
  hak_os_unmap(fresh, HAK_REG_LEAF_ENTRIES);
  return expected;
}

#define PER_LEAF_SHIFT (HAK_REG_LEAF_SHIFT - HAK_GRANULE_SHIFT)

// The granules [g0, g1) that [base, base+size) touches.
static uintptr_t granule_first(const void *base) { return (uintptr_t)base >> HAK_GRANULE_SHIFT; }
static uintptr_t granule_end(const void *base, size_t size) {
  return ((uintptr_t)base + size + HAK_GRANULE - 1) >> HAK_GRANULE_SHIFT;
}

int hak_reg_reserve(const void *base, size_t size) {
  uintptr_t g0 = granule_first(base), g1 = granule_end(base, size);
  for (uintptr_t i = g0 >> PER_LEAF_SHIFT; i <= (g1 - 1) >> PER_LEAF_SHIFT; i++)
    if (!reg_leaf(i)) return -1;
  return 0;
}

int hak_reg_set(const void *base, size_t size, const void *head, unsigned head_kind, unsigned rest_kind) {
  uintptr_t g0 = granule_first(base), g1 = granule_end(base, size);
  uintptr_t gh = granule_first(head);
  int clearing = head_kind == HAK_KIND_NONE && rest_kind == HAK_KIND_NONE;
  // Map every leaf the range needs before marking anything.
  if (!clearing && hak_reg_reserve(base, size) != 0) return -1;
  for (uintptr_t g = g0; g < g1; g++) {
    uint8_t *leaf = __atomic_load_n(&hak_reg_top[g >> PER_LEAF_SHIFT], __ATOMIC_ACQUIRE);
    if (leaf == reg_zero_leaf) continue;  // clearing a region that was never marked
    HAK_STORE_RELAXED(&leaf[g & (HAK_REG_LEAF_ENTRIES - 1)], (uint8_t)(g == gh ? head_kind : rest_kind));
  }
  return 0;
}

void hak_reg_clear(const void *base, size_t size) { hak_reg_set(base, size, NULL, HAK_KIND_NONE, HAK_KIND_NONE); }
