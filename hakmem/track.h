// track.h — sanitizer visibility of HAKMEM-managed blocks. Under ASan a free block is
// poisoned and a live one unpoisoned, so a use-after-free inside HAKMEM memory is
// reported; under MSan a new block is marked uninitialised. Free-list links are read and
// written only through hak_next_get/set (a bundle's length through hak_aux_get/set, a free-list
// run's through hak_aux32_get/set: 4 bytes, as the smallest block has 15),
// which ASan does not check. Compiles to plain
// loads/stores otherwise.
#ifndef HAKMEM_TRACK_H
#define HAKMEM_TRACK_H

#include <stdint.h>

#include "hakmem/internal.h"


#if HAKMEM_VALGRIND
// Valgrind (--//cfg:valgrind=true): a live block is a MALLOCLIKE block, a free one is
// inaccessible; links inside free blocks are made defined only for the access itself.
#include <valgrind/memcheck.h>
static inline uintptr_t hak_aux_get(void *b) {
  uintptr_t *w = (uintptr_t *)b + 1;
  VALGRIND_MAKE_MEM_DEFINED(w, sizeof *w);
  uintptr_t v = *w;
  VALGRIND_MAKE_MEM_NOACCESS(w, sizeof *w);
  return v;
}
static inline void hak_aux_set(void *b, uintptr_t v) {
  uintptr_t *w = (uintptr_t *)b + 1;
  VALGRIND_MAKE_MEM_UNDEFINED(w, sizeof *w);
  *w = v;
  VALGRIND_MAKE_MEM_NOACCESS(w, sizeof *w);
}
static inline uint32_t hak_aux32_get(void *b) {
  uint32_t *w = (uint32_t *)b + 2;
  VALGRIND_MAKE_MEM_DEFINED(w, sizeof *w);
  uint32_t v = *w;
  VALGRIND_MAKE_MEM_NOACCESS(w, sizeof *w);
  return v;
}
static inline void hak_aux32_set(void *b, uint32_t v) {
  uint32_t *w = (uint32_t *)b + 2;
  VALGRIND_MAKE_MEM_UNDEFINED(w, sizeof *w);
  *w = v;
  VALGRIND_MAKE_MEM_NOACCESS(w, sizeof *w);
}
#define HAK_TRACK_ALLOC(p, n) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, 0)
#define HAK_TRACK_FREE(p, n) VALGRIND_FREELIKE_BLOCK((p), 0)
#define HAK_TRACK_CARVE(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define HAK_TRACK_RESET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define HAK_TRACK_MAPPED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#define HAK_TRACK_ZEROED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#elif defined(HAK_ASAN)
#include <sanitizer/asan_interface.h>
__attribute__((no_sanitize("address"))) static inline uintptr_t hak_aux_get(void *b) { return ((uintptr_t *)b)[1]; }
__attribute__((no_sanitize("address"))) static inline void hak_aux_set(void *b, uintptr_t v) { ((uintptr_t *)b)[1] = v; }
__attribute__((no_sanitize("address"))) static inline uint32_t hak_aux32_get(void *b) { return ((uint32_t *)b)[2]; }
__attribute__((no_sanitize("address"))) static inline void hak_aux32_set(void *b, uint32_t v) { ((uint32_t *)b)[2] = v; }
#define HAK_TRACK_ALLOC(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
// Poison whole 8-byte granules only: the byte after a block is the next block's header,
// which must stay addressable, and ASan cannot poison a granule prefix.
#define HAK_TRACK_FREE(p, n) ASAN_POISON_MEMORY_REGION((p), (n) & ~(size_t)15)
#define HAK_TRACK_CARVE(p, n) HAK_TRACK_FREE(p, n)
// A slab changing class: forget the old class's poisoning before carving new blocks.
#define HAK_TRACK_RESET(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
// ASan keeps our poisoning of an address range after munmap: a new mapping starts clean.
#define HAK_TRACK_MAPPED(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define HAK_TRACK_ZEROED(p, n) ((void)0)
#else
HAK_INLINE uintptr_t hak_aux_get(void *b) { return ((uintptr_t *)b)[1]; }
HAK_INLINE void hak_aux_set(void *b, uintptr_t v) { ((uintptr_t *)b)[1] = v; }
HAK_INLINE uint32_t hak_aux32_get(void *b) { return ((uint32_t *)b)[2]; }
HAK_INLINE void hak_aux32_set(void *b, uint32_t v) { ((uint32_t *)b)[2] = v; }
#if defined(HAK_MSAN)
#include <sanitizer/msan_interface.h>
#define HAK_TRACK_ALLOC(p, n) __msan_allocated_memory((p), (n))
// calloc skipping its memset on memory known to be zero: initialised as far as MSan knows.
#define HAK_TRACK_ZEROED(p, n) __msan_unpoison((p), (n))
#else
#define HAK_TRACK_ZEROED(p, n) ((void)0)
#define HAK_TRACK_ALLOC(p, n) ((void)0)
#endif
#define HAK_TRACK_FREE(p, n) ((void)0)
#define HAK_TRACK_CARVE(p, n) ((void)0)
#define HAK_TRACK_RESET(p, n) ((void)0)
#define HAK_TRACK_MAPPED(p, n) ((void)0)
#endif

// realloc's copy skips the pages a block never wrote (pagecopy.c). Under MSan the skipped
// bytes of the new block take the old block's shadow (a calloc block's zeros stay
// initialised, a malloc block's unwritten bytes stay uninitialised). Valgrind's memcheck
// keeps its own record of every byte, so its build copies every byte.
#if HAKMEM_VALGRIND
#define HAK_TRACK_PAGECOPY_SKIPS 0
#else
#define HAK_TRACK_PAGECOPY_SKIPS 1
#endif
#if defined(HAK_MSAN)
#define HAK_TRACK_COPY_SKIPPED(dst, src, n) __msan_copy_shadow((dst), (src), (n))
#else
#define HAK_TRACK_COPY_SKIPPED(dst, src, n) ((void)0)
#endif

// Validation reads of bytes that may belong to a user's block (an interior or foreign
// pointer's "header"): under MSan they must not count as uses of uninitialised memory, and
// under ASan a wild pointer into a free (poisoned) block must get HAKMEM's own report, not
// a use-after-poison on HAKMEM's check.
#if defined(HAK_ASAN)
__attribute__((no_sanitize("address"))) static inline uint8_t hak_peek8(const void *p) { return *(const volatile uint8_t *)p; }
__attribute__((no_sanitize("address"))) static inline uint32_t hak_peek32(const void *p) { return *(const volatile uint32_t *)p; }
__attribute__((no_sanitize("address"))) static inline uint64_t hak_peek64(const void *p) { return *(const volatile uint64_t *)p; }
#elif defined(HAK_MSAN)
__attribute__((no_sanitize("memory"))) static inline uint8_t hak_peek8(const void *p) { return *(const uint8_t *)p; }
__attribute__((no_sanitize("memory"))) static inline uint32_t hak_peek32(const void *p) { return *(const uint32_t *)p; }
__attribute__((no_sanitize("memory"))) static inline uint64_t hak_peek64(const void *p) { return *(const uint64_t *)p; }
#else
HAK_INLINE uint8_t hak_peek8(const void *p) { return *(const uint8_t *)p; }
HAK_INLINE uint32_t hak_peek32(const void *p) { return *(const uint32_t *)p; }
HAK_INLINE uint64_t hak_peek64(const void *p) { return *(const uint64_t *)p; }
#endif

#endif
