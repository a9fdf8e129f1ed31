// learn_driver.h — the per-thread learner of the slab engine (builds with
// --//cfg:learner=true, enabled at run time by HAKMEM_LEARN=1). It tunes the mid classes
// (20..43: 1 KiB – 64 KiB), the mid band:
//   * each class's thread-cache capacity toward HAKMEM_TARGET_HIT_MID (hak_capctl_t);
//   * W_MAX, the round-up a miss may take from a larger class's cache (hak_canary_t);
//   * the refill batch (a quarter, half or all of the capacity), chosen by ELO (hak_elo_t).
// The fast path only counts allocations per class; everything else runs in the slow path,
// at most once per HAKMEM_LEARN_WINDOW_MS, and stops once every mechanism has frozen.
#ifndef HAKMEM_TINY_LEARN_DRIVER_H
#define HAKMEM_TINY_LEARN_DRIVER_H

#include <stdint.h>

#include "hakmem/learn/learner.h"
#include "hakmem/tiny/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TINY_LEARN_FIRST TINY_MID_FIRST  // the learner tunes the mid classes

typedef struct tiny_learn {
  // (fast-path allocations are counted in tiny_bin_t.allocs, the only fast-path cost)
  uint64_t misses[TINY_NCLASS];  // slow-path refills
  uint64_t last_allocs[TINY_NCLASS], last_misses[TINY_NCLASS];
  uint64_t allocs[TINY_NCLASS];    // in: fast-path allocations per class (copied by the heap)
  uint32_t cap_want[TINY_NCLASS];  // out: the capacity each class should have
  uint64_t window_start_ms, due_ms;
  uint32_t ticks;
  uint32_t wmax_pct;   // W_MAX in force (x100)
  uint32_t refill_div; // refill batch = cap / refill_div
  uint32_t windows;    // windows evaluated
  uint32_t borrows;    // misses served from a larger class's cache
  uint8_t on, frozen;
  hak_capctl_t cap[TINY_NCLASS];
  hak_canary_t canary;
  hak_elo_t elo;
} tiny_learn_t;

// The narrow interface between the slab engine and its learner: the heap owns the bins,
// the learner owns tiny_learn_t. Starts learning for a new thread cache whose classes have
// capacities caps[] (the defaults).
void tiny_learn_init(tiny_learn_t *L, const uint32_t *caps);
// Called from the slow paths (refill and flush): 1 when a window is due; the heap then
// copies its per-class allocation counters into L->allocs, calls tiny_learn_window, and
// applies L->cap_want[c] to every learned class (flushing what no longer fits).
int tiny_learn_due(tiny_learn_t *L);
void tiny_learn_window(tiny_learn_t *L);
// Tests inject a clock (milliseconds); NULL restores the monotonic clock.
void tiny_learn_set_clock(uint64_t (*now_ms)(void));

#ifdef __cplusplus
}
#endif

#endif
