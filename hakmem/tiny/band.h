// band.h — the slab engine's per-class policy interface.
//
// The engine is one mechanism: slabs in SuperSlabs, per-thread caches (list and ring),
// remote frees, thread attach/abandon. How a band of its larger classes uses that mechanism
// is a policy that lives outside the engine: the mid tier (hakmem/mid/) registers the only
// band, for classes TINY_MID_FIRST and up, at initialisation. It decides
//   * each class's thread-cache and ring capacity;
//   * where blocks leaving a thread cache go (bundles handed to other threads) and where a
//     refill looks before the slabs, and how large refills are;
//   * where a heap's kind-MID SuperSlabs' memory comes from;
//   * the learner that retunes capacities, W_MAX and the refill batch (learner builds).
// The engine calls a band only on slow paths. Before a band is registered (and for the
// classes below band->first) every class takes the engine's defaults: Tiny's byte budget
// for capacities, no bundles, one slab per refill, a fresh mapping per SuperSlab.
#ifndef HAKMEM_TINY_BAND_H
#define HAKMEM_TINY_BAND_H

#include <stdint.h>

#include "hakmem/flags.h"
#include "hakmem/tiny/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

struct superslab;

// Storage inside each heap that belongs to the band (its arena); opaque to the engine.
typedef struct tiny_band_heap {
  uint64_t word[4];
} tiny_band_heap_t;

// What the learner reads and sets in a thread cache. Misses are counted by the engine,
// capacities applied by it (flushing what no longer fits).
typedef struct tiny_tune {
  uint64_t misses[TINY_NCLASS];    // slow-path refills per class
  uint64_t allocs[TINY_NCLASS];    // in: fast-path allocations (copied from the bins)
  uint32_t cap_want[TINY_NCLASS];  // in: the current capacities; out: the wanted ones
  uint32_t wmax_pct;               // W_MAX in force (x100; 100: no borrowing)
  uint32_t refill_div;             // refill batch = cap / refill_div
  uint32_t borrows;                // misses served from a larger class's cache
} tiny_tune_t;

typedef struct tiny_band {
  unsigned first;  // the band covers classes first .. TINY_NCLASS - 1
  // Capacities of a new thread cache: class c's list (0: the engine's default), and every
  // ring.
  uint32_t (*cap)(unsigned c);
  uint32_t (*ring_cap)(void);
  // A refill of class c asks for at least refill_min(c) blocks and may draw on up to
  // refill_slabs() slabs. refill_min(c) is also the smallest thread-cache capacity of c
  // (adapt.c: a thread starts there and grows by allocating).
  uint32_t (*refill_min)(unsigned c);
  uint32_t (*refill_slabs)(void);
  // A bundle of k blocks of class c leaving a thread cache (free headers, NULL-terminated):
  // 1 when the band keeps it, 0 when the engine must return it to the slabs. `seq` is the
  // number of the heap it comes from (spreads contention).
  int (*put)(unsigned c, void *head, uint32_t k, uint32_t seq);
  // A bundle for a refill of class c: its length (0: none); *head receives the chain.
  uint32_t (*get)(unsigned c, uint32_t seq, void **head);
  // Every bundle the band holds (the checker, callers quiescent), and their totals.
  void (*foreach)(void (*fn)(unsigned c, void *head, uint32_t n, void *arg), void *arg);
  void (*held)(uint64_t *blocks, uint64_t *bytes);
  // Memory for a new kind-MID SuperSlab of a heap (SS_SIZE bytes, SS_SIZE-aligned), NULL:
  // the engine maps one itself. heap_release runs when a heap's thread exits.
  struct superslab *(*carve)(tiny_band_heap_t *heap);
  void (*heap_release)(tiny_band_heap_t *heap);
#if HAKMEM_LEARNER
  // The learner: per-heap state (made once per heap, restarted per thread), consulted from
  // the slow paths. due() is cheap; window() reads t->allocs/misses/cap_want and sets
  // cap_want, wmax_pct and refill_div.
  void *(*learn_new)(void);
  void (*learn_start)(void *state, tiny_tune_t *t);
  int (*learn_due)(void *state);
  void (*learn_window)(void *state, tiny_tune_t *t);
#endif
} tiny_band_t;

// Registered once, by an initialisation step (init.h), before any thread cache exists.
void tiny_band_register(const tiny_band_t *band);
// The band of class c, or NULL (engine defaults).
extern const tiny_band_t *tiny_band;
static inline const tiny_band_t *tiny_band_of(unsigned c) {
  const tiny_band_t *b = tiny_band;
  return b && c >= b->first ? b : (const tiny_band_t *)0;
}

#ifdef __cplusplus
}
#endif

#endif
