// freelink.h — free-list links, stored encoded (safe-linking). Every list HAKMEM threads through
// free blocks (the slab engine's thread caches, slab free lists, remote queues and depot
// bundles; the page heap's thread caches) is read and written only through hak_next_get /
// hak_next_set.
//
// A link is stored XORed with a secret, random per process (hak_link_key, set once at
// initialisation before any list exists, never changed; its low nibble is never 0), and a
// decoded link must be 16-byte aligned like every block start. A write after free or an
// overflow into a free neighbour that puts an address there (aligned: what an attacker
// writes) decodes misaligned and is reported (hak_link_corrupt: one line, abort) before
// anything follows it; garbage fails the test 15 times in 16, and the one that passes is
// not an address the attacker chose. The slab engine's pops also check that the block they
// hand out still carries its class's "free" header byte (tiny/heap.h tiny_mark_alloc),
// which catches an overwritten header, most garbage that decodes aligned and a link forged
// with a leaked key to memory whose preceding byte the attacker does not control. Not
// stopped: a program that can also read a freed block (one link and the address it points
// to give the key away) and control the byte before its target, and writes into the rest
// of a free block.
#ifndef HAKMEM_FREELINK_H
#define HAKMEM_FREELINK_H

#include <stdint.h>

#include "hakmem/internal.h"
#include "hakmem/track.h"

#ifdef __cplusplus
extern "C" {
#endif

extern uintptr_t hak_link_key __attribute__((visibility("hidden")));
// One line naming the block and what its link decoded to, then abort.
HAK_COLD __attribute__((noreturn)) void hak_link_corrupt(const void *block, uintptr_t decoded);
// The same, declared as returning so that a fast path can end in a tail call to it (a
// noreturn call makes the caller set up a stack frame: two instructions per malloc).
HAK_COLD void *hak_link_corrupt_jump(const void *block, uintptr_t decoded);
// A block about to leave a free list whose header byte is not fh, its class's "free": one
// line naming the block, its header and the expected one, then abort. Declared as returning
// so that the slab engine's malloc fast path ends in a tail call to it. The class it names
// is fh's low bits (HAK_HDR_CLASS_MASK, the slab engine's TINY_HDR_CLASS_MASK: heap.h checks).
#define HAK_HDR_CLASS_MASK 0x3fu
HAK_COLD void *hak_hdr_corrupt_jump(const void *block, uint8_t fh);

HAK_INLINE void *hak_link_decode(const void *b, uintptr_t raw) {
  uintptr_t n = raw ^ hak_link_key;
  if (HAK_UNLIKELY(n & 15)) hak_link_corrupt(b, n);
  return (void *)n;
}
HAK_INLINE uintptr_t hak_link_encode(void *n) { return (uintptr_t)n ^ hak_link_key; }

// hak_next_peek: the link decoded but not checked, for the integrity checker, which
// reports a bad link instead of aborting on it.
#if HAKMEM_VALGRIND
// Links inside free blocks are made defined only for the access itself.
static inline void *hak_next_get(void *b) {
  VALGRIND_MAKE_MEM_DEFINED(b, sizeof(void *));
  uintptr_t raw = *(uintptr_t *)b;
  VALGRIND_MAKE_MEM_NOACCESS(b, sizeof(void *));
  return hak_link_decode(b, raw);
}
static inline void *hak_next_peek(void *b) {
  VALGRIND_MAKE_MEM_DEFINED(b, sizeof(void *));
  uintptr_t raw = *(uintptr_t *)b;
  VALGRIND_MAKE_MEM_NOACCESS(b, sizeof(void *));
  return (void *)(raw ^ hak_link_key);
}
static inline void hak_next_set(void *b, void *n) {
  VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof(void *));
  *(uintptr_t *)b = hak_link_encode(n);
  VALGRIND_MAKE_MEM_NOACCESS(b, sizeof(void *));
}
#elif defined(HAK_ASAN)
// Free blocks are poisoned; their links are HAKMEM's to read.
__attribute__((no_sanitize("address"))) static inline void *hak_next_get(void *b) { return hak_link_decode(b, *(uintptr_t *)b); }
__attribute__((no_sanitize("address"))) static inline void *hak_next_peek(void *b) { return (void *)(*(uintptr_t *)b ^ hak_link_key); }
__attribute__((no_sanitize("address"))) static inline void hak_next_set(void *b, void *n) { *(uintptr_t *)b = hak_link_encode(n); }
#else
HAK_INLINE void *hak_next_get(void *b) { return hak_link_decode(b, *(uintptr_t *)b); }
HAK_INLINE void *hak_next_peek(void *b) { return (void *)(*(uintptr_t *)b ^ hak_link_key); }
HAK_INLINE void hak_next_set(void *b, void *n) { *(uintptr_t *)b = hak_link_encode(n); }
#endif

#ifdef __cplusplus
}
#endif

#endif
