// size_class.h — the slab engine's 55 size classes and the 1-byte block header.
//
// Block layout: the user pointer u is 16-byte aligned and the header byte sits at u[-1],
// which is the last byte of the previous block's stride (the first block of a slab has 16
// spare bytes in front of it). So a class with stride S serves requests up to S-1 bytes.
//   header = 0x40 | class  while the block is allocated          (01cccccc)
//   header = 0xc0 | class  while it is free (in a thread cache, slab list or remote queue)
//   header = 0x80          marks an aligned interior pointer (tiny_aligned_mark in tiny.h)
// Two state bits and six class bits: every class (0..54) keeps its whole number, allocated
// and free differ in bit 7 only, and a zero byte (fresh memory) is none of the three.
//
// Classes 0..21 are the Tiny tier (requests up to 1023 B; class 22, stride 1088, takes
// 1024..1087). Classes 22..37 reach 8191 B and classes 38..53 (strides 8256 B–64 KiB, in 512 KiB
// slabs) reach 65535 B: the mid classes that serve 1–64 KiB with the same engine (the
// pool tier's page heap takes over from 64 KiB). Strides go four to a doubling, plus one at
// 17/16 of each power of two from 256 B and one 64 B above 4 and 8 KiB (size_class.c says why). free() takes the class
// from the slab and uses the header as a state check.
//
// Waste bound: for every request n > 128, stride(class(n)) <= 1.25 * n. Above 128 B the
// strides grow by at most a quarter of the previous stride, so the next class is never more
// than 25% above a request that just missed the previous one. size_class_test checks every n.
#ifndef HAKMEM_TINY_SIZE_CLASS_H
#define HAKMEM_TINY_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TINY_NCLASS 55               // every class of the slab engine
#define TINY_NFIXED 54               // the classes with fixed, ascending strides
#define TINY_DYN_CLASS 54            // the dynamic class (HAKMEM_MID_DYN1); unused when 0
#define TINY_DYN1_MIN 1024
#define TINY_DYN1_MAX 65024
#define TINY_SMALL_NCLASS 38         // classes in 64 KiB slabs (0..37); the rest use 512 KiB slabs
#define TINY_TIER_MAX 1024           // the Tiny tier proper: requests up to 1 KiB
#define TINY_MID_FIRST 22            // first class above it (stride 1088): the mid classes
#define TINY_ENGINE_MAX 8191         // largest request of the small-slab classes
#define TINY_MID_MAX 65535          // largest request the slab engine serves
#define TINY_HDR_ALLOC 0x40u
#define TINY_HDR_FREE 0xc0u
#define TINY_HDR_ALIGNED 0x80u
#define TINY_HDR_STATE_MASK 0xc0u
#define TINY_HDR_CLASS_MASK 0x3fu

// A caller that knows c < 64 needs no mask (the compiler drops it).
#define TINY_HDR_ALLOC_OF(c) ((uint8_t)(TINY_HDR_ALLOC | ((c)&0x3f)))
#define TINY_HDR_FREE_OF(c) ((uint8_t)(TINY_HDR_FREE | ((c)&0x3f)))
_Static_assert(TINY_NCLASS <= 64, "class numbers fit the header's 6 bits");

// Written only by tiny_size_class_set_dyn1, at initialisation.
extern uint32_t tiny_class_stride[TINY_NCLASS];
// Request n <= TINY_ENGINE_MAX -> entry n >> 4 (it serves 16 * i .. 16 * i + 15, so it needs
// a stride >= 16 * (i + 1), the header byte included): the class's "free" header byte
// (which holds the class; the pop checks the block still carries it) and the byte offset of its bin in the thread cache, so the malloc
// fast path does no class arithmetic. A bin is 1 << TINY_BIN_SHIFT bytes (heap.h checks).
#if HAKMEM_LEARNER
#define TINY_BIN_SHIFT 5
#else
#define TINY_BIN_SHIFT 4
#endif
// Byte offset of class c's bin in the thread cache, and of the gate bin after the last
// (heap.h checks both against tiny_tls_t).
#define TINY_BIN_OFFSET(c) ((unsigned)(c) << TINY_BIN_SHIFT)
#define TINY_GATE_OFFSET TINY_BIN_OFFSET(TINY_NCLASS)
#define TINY_LUT_N ((TINY_ENGINE_MAX >> 4) + 1)
typedef struct {
  uint8_t hdr[TINY_LUT_N];
  uint16_t bin[TINY_LUT_N];
} tiny_lut_t;
extern tiny_lut_t tiny_lut;
#define TINY_MID_LUT_N ((TINY_MID_MAX + 64) / 64 + 1)
// First entry of tiny_mid_lut that a request past TINY_ENGINE_MAX reaches (129); the ones
// below only pad the table so tiny_mid_class_of indexes it without a subtraction.
#define TINY_MID_LUT_FIRST ((TINY_ENGINE_MAX + 1 + 64) / 64)
extern uint8_t tiny_mid_lut[TINY_MID_LUT_N];

// DYN1 (a dynamic mid class): one extra class with a stride chosen at start-up,
// for a program whose hot request size falls badly between two fixed classes (e.g. larson
// with 13–15 KB objects). It serves requests up to max_request wherever the tables' grain
// (16 B below 8 KiB, 64 B above) lets it be tighter than the fixed class; 0 turns it off.
// Call before any block of the class exists (tiny_size_class_init does, from the first
// malloc). Returns -1 for a size outside TINY_DYN1_MIN..TINY_DYN1_MAX.
int tiny_size_class_set_dyn1(size_t max_request);
// Applies HAKMEM_MID_DYN1 (one warning line for a value out of range).
void tiny_size_class_init(void);

// Class for a request of n bytes, n <= TINY_ENGINE_MAX. One table load.
HAK_INLINE unsigned tiny_class_of(size_t n) { return tiny_lut.hdr[n >> 4] & TINY_HDR_CLASS_MASK; }
// Class for TINY_ENGINE_MAX < n <= TINY_MID_MAX.
HAK_INLINE unsigned tiny_mid_class_of(size_t n) { return tiny_mid_lut[(n + 64) >> 6]; }
// Class for any n <= TINY_MID_MAX served by the engine (the Tiny tier or the mid band).
HAK_INLINE unsigned tiny_engine_class_of(size_t n) {
  return n <= TINY_ENGINE_MAX ? tiny_class_of(n) : tiny_mid_class_of(n);
}
HAK_INLINE size_t tiny_usable(unsigned c) { return (size_t)tiny_class_stride[c] - 1; }

#ifdef __cplusplus
}
#endif

#endif
