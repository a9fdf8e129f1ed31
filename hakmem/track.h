// track.h — sanitizer visibility of HAKMEM-managed blocks. Under ASan a free block is
// poisoned and a live one unpoisoned, so a use-after-free inside HAKMEM memory is
// reported; under MSan a new block is marked uninitialised. Free-list links are read and
// written only through hak_next_get/set, which ASan does not check. Compiles to plain
// loads/stores otherwise.
#ifndef HAKMEM_TRACK_H
#define HAKMEM_TRACK_H

#include "hakmem/internal.h"

#if defined(HAK_ASAN)
#include <sanitizer/asan_interface.h>
__attribute__((no_sanitize("address"))) static inline void *hak_next_get(void *b) { return *(void **)b; }
__attribute__((no_sanitize("address"))) static inline void hak_next_set(void *b, void *n) { *(void **)b = n; }
#define HAK_TRACK_ALLOC(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
// Poison whole 8-byte granules only: the byte after a block is the next block's header,
// which must stay addressable, and ASan cannot poison a granule prefix.
#define HAK_TRACK_FREE(p, n) ASAN_POISON_MEMORY_REGION((p), (n) & ~(size_t)15)
// A slab changing class: forget the old class's poisoning before carving new blocks.
#define HAK_TRACK_RESET(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
HAK_INLINE void *hak_next_get(void *b) { return *(void **)b; }
HAK_INLINE void hak_next_set(void *b, void *n) { *(void **)b = n; }
#if defined(HAK_MSAN)
#include <sanitizer/msan_interface.h>
#define HAK_TRACK_ALLOC(p, n) __msan_allocated_memory((p), (n))
#else
#define HAK_TRACK_ALLOC(p, n) ((void)0)
#endif
#define HAK_TRACK_FREE(p, n) ((void)0)
#define HAK_TRACK_RESET(p, n) ((void)0)
#endif

#endif
