// learn.h — the mid tier's per-thread learner (builds with --//cfg:learner=true, enabled at
// run time by HAKMEM_LEARN=1). It tunes the mid classes (TINY_MID_FIRST..: 1 KiB – 64 KiB)
// through the slab engine's tiny_tune_t (tiny/band.h):
//   * each class's thread-cache capacity toward HAKMEM_TARGET_HIT_MID (hak_capctl_t);
//   * W_MAX, the round-up a miss may take from a larger class's cache (hak_canary_t);
//   * the refill batch (a quarter, half or all of the capacity), chosen by ELO (hak_elo_t).
// The fast path only counts allocations per class; everything else runs in the slow path,
// at most once per HAKMEM_LEARN_WINDOW_MS, and stops once every mechanism has frozen.
#ifndef HAKMEM_MID_LEARN_H
#define HAKMEM_MID_LEARN_H

#include <stdint.h>

#include "hakmem/learn/learner.h"
#include "hakmem/tiny/band.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MID_LEARN_FIRST TINY_MID_FIRST  // the learner tunes the mid classes

// One heap's learner state; the counters it reads and the decisions it makes are in the
// thread cache's tiny_tune_t.
typedef struct mid_learn {
  uint64_t last_allocs[TINY_NCLASS], last_misses[TINY_NCLASS];
  uint64_t window_start_ms, due_ms;
  uint32_t ticks;
  uint32_t windows;  // windows evaluated
  uint8_t on, frozen;
  hak_capctl_t cap[TINY_NCLASS];
  hak_canary_t canary;
  hak_elo_t elo;
} mid_learn_t;

#if HAKMEM_LEARNER
// A thread attaches to the heap L belongs to: learning restarts from t's capacities
// (t->cap_want) and sets t's W_MAX and refill divisor to their starting values.
void mid_learn_start(mid_learn_t *L, tiny_tune_t *t);
// Called from the slow paths: 1 when a window is due; the engine then copies its counters
// into t and calls mid_learn_window, and applies t->cap_want.
int mid_learn_due(mid_learn_t *L);
void mid_learn_window(mid_learn_t *L, tiny_tune_t *t);
// Tests inject a clock (milliseconds); NULL restores the monotonic clock.
void mid_learn_set_clock(uint64_t (*now_ms)(void));
#endif

#ifdef __cplusplus
}
#endif

#endif
