// hakmem_ext.h — HAKMEM's stats/extension API for programs that may or may not run on
// HAKMEM (linked with //hakmem, preloaded with libhakmem.so, or plain glibc). Every function
// is a weak reference: when HAKMEM is absent the wrappers report "unavailable" instead of
// failing to link or crashing. Header-only; needs no HAKMEM library at link time.
#ifndef HAKMEM_HAKMEM_EXT_H
#define HAKMEM_HAKMEM_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/hakmem.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma weak hak_stats_get
#pragma weak hak_stats_print
#pragma weak hak_check_integrity
#pragma weak hak_owns
#pragma weak hak_trim
#pragma weak hakmem_is_active_allocator
int hakmem_is_active_allocator(void);

// 1 if the HAKMEM library is present in the process (linked or preloaded).
static inline int hak_ext_present(void) { return hak_stats_get != NULL; }
// 1 if HAKMEM also owns malloc/free (the override is linked or preloaded).
static inline int hak_ext_is_malloc(void) { return hakmem_is_active_allocator != NULL && hakmem_is_active_allocator(); }
// Fills *out and returns 0, or returns -1 when HAKMEM is absent.
static inline int hak_ext_stats(hak_stats_t *out) {
  if (!hak_stats_get) return -1;
  out->size = sizeof *out;
  return hak_stats_get(out);
}
// Integrity violations, or (size_t)-1 when HAKMEM is absent.
static inline size_t hak_ext_check(void) { return hak_check_integrity ? hak_check_integrity() : (size_t)-1; }
// 1 if p belongs to HAKMEM, 0 if not or if HAKMEM is absent.
static inline int hak_ext_owns(const void *p) { return hak_owns ? hak_owns(p) : 0; }

#ifdef __cplusplus
}
#endif

#endif
