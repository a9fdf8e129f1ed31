// registry.c — writers of the granule map (see registry.h).
#include "hakmem/registry.h"

uint8_t hak_reg_map[(size_t)1 << (HAK_ADDR_BITS - HAK_GRANULE_SHIFT)];

void hak_reg_set(const void *base, size_t size, const void *head, unsigned head_kind, unsigned rest_kind) {
  uintptr_t g0 = (uintptr_t)base >> HAK_GRANULE_SHIFT;
  uintptr_t g1 = ((uintptr_t)base + size + HAK_GRANULE - 1) >> HAK_GRANULE_SHIFT;
  uintptr_t gh = (uintptr_t)head >> HAK_GRANULE_SHIFT;
  for (uintptr_t g = g0; g < g1; g++) HAK_STORE_RELAXED(&hak_reg_map[g], (uint8_t)(g == gh ? head_kind : rest_kind));
}

void hak_reg_clear(const void *base, size_t size) { hak_reg_set(base, size, NULL, HAK_KIND_NONE, HAK_KIND_NONE); }
