// timing.h — HAKMEM_TIMING=1: time spent in each slow-path category, per tier, reported at
// exit. Exists only in builds with --//cfg:timing=true; otherwise every macro is empty and
// nothing is compiled in. Fast paths are never timed (a clock read would cost more than
// the path), only the slow paths behind them.
#ifndef HAKMEM_TIMING_H
#define HAKMEM_TIMING_H

#include <stdint.h>

#include "hakmem/flags.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  HT_TINY_REFILL,   // slab engine: refill a thread cache (carve, slab lists)
  HT_TINY_FLUSH,    // slab engine: flush a thread cache (local puts, remote pushes)
  HT_TINY_DRAIN,    // slab engine: drain the heap inbox (remote frees)
  HT_SS_ACQUIRE,    // SuperSlab from the cache or a new mapping
  HT_SS_RELEASE,    // SuperSlab back to the cache or unmapped
  HT_POOL_ALLOC,    // pool: page-heap carve (thread-cache miss)
  HT_POOL_FREE,     // pool: blocks back to the page heap (spill, big blocks)
  HT_POOL_RELEASE,  // pool: madvise of dirty free spans
  HT_LARGE_ALLOC,   // large: mapping or BigCache hit
  HT_LARGE_FREE,    // large: BigCache or unmap
  HT_NCAT
};

#if HAKMEM_TIMING_BUILD
void hak_timing_add(unsigned cat, uint64_t ns);
uint64_t hak_timing_start(void);  // 0 when HAKMEM_TIMING is off
void hak_timing_print(void);
#define HAK_TIME_START(v) uint64_t v = hak_timing_start()
#define HAK_TIME_END(cat, v)                \
  do {                                      \
    if (v) hak_timing_add((cat), (v));      \
  } while (0)
#else
#define HAK_TIME_START(v) ((void)0)
#define HAK_TIME_END(cat, v) ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif
