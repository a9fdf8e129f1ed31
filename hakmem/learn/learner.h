// learner.h — the learning layer's decision logic, free of clocks, threads and allocator
// state so that tests can drive it with synthetic traces. Three mechanisms, each fed one
// observation per window by a driver (tiny/learn_driver.c) and each freezing once it has
// converged (the "frozen mode": no more changes, no more sampling cost):
//
//   CAP controller (one per size class): moves a thread-cache capacity by `step` toward a
//     target hit rate. A dead band around the target and a dwell time after every change
//     keep it from oscillating; windows with fewer than min_samples allocations are pooled.
//   W_MAX canary: tries candidate round-up limits (serve a miss from a larger class's
//     cache when the larger block is at most W_MAX times the request) one trial at a time
//     against the current baseline, adopting a candidate only when it beats the baseline's
//     score by at least adopt_permille.
//   ELO strategy choice: refill-batch strategies play matches on their window scores; the
//     ratings decide which strategy runs, exploring each in turn first, frozen after
//     max_games.
// Scores are "lower is better" (misses per thousand allocations).
#ifndef HAKMEM_LEARN_LEARNER_H
#define HAKMEM_LEARN_LEARNER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------- CAP controller

typedef struct {
  uint32_t target_permille;  // target hit rate, e.g. 970 = 97.0 %
  uint32_t band_permille;    // dead band either side of the target
  uint32_t step, cap_min, cap_max;
  uint32_t dwell_windows;    // windows to wait after a change before the next one
  uint32_t min_samples;      // allocations needed before a decision
  uint32_t freeze_windows;   // consecutive in-band decisions after which it freezes (0: never)
} hak_capctl_params_t;

typedef struct {
  uint32_t cap;
  uint32_t since_change;     // windows since the last change
  uint32_t stable;           // consecutive decisions inside the band
  uint32_t changes;          // total changes (tests check there is no oscillation)
  uint64_t pend_allocs, pend_misses;  // pooled small windows
  uint8_t frozen;
} hak_capctl_t;

void hak_capctl_init(hak_capctl_t *c, uint32_t cap);
// Feeds one window (allocations and misses in it); returns the capacity to use now.
uint32_t hak_capctl_step(hak_capctl_t *c, const hak_capctl_params_t *p, uint64_t allocs, uint64_t misses);

// ---------------------------------------------------------------- W_MAX canary

#define HAK_CANARY_MAX 4
typedef struct {
  uint32_t ncand;
  uint32_t cand_pct[HAK_CANARY_MAX];  // candidate W_MAX values x100 (e.g. 150 = 1.5)
  uint32_t trial_windows;             // windows per baseline measurement and per trial
  uint32_t adopt_permille;            // required improvement, e.g. 10 = 1 %
} hak_canary_params_t;

typedef struct {
  uint32_t current_pct;  // W_MAX in force (x100; 100 = no round-up)
  uint32_t adopted_pct;  // the baseline's W_MAX
  uint32_t next;         // next candidate index
  uint32_t windows;      // windows into the current phase
  uint8_t trial;         // 0: measuring the baseline, 1: measuring candidate `next`
  uint8_t frozen;
  double base_score, acc;
} hak_canary_t;

void hak_canary_init(hak_canary_t *k, uint32_t base_pct);
// Feeds one window's score (lower is better); returns the W_MAX (x100) to use now.
uint32_t hak_canary_step(hak_canary_t *k, const hak_canary_params_t *p, double score);

// ---------------------------------------------------------------- ELO strategy choice

#define HAK_ELO_MAX 4
typedef struct {
  uint32_t n;          // strategies
  uint32_t current;    // strategy in force
  uint32_t games, max_games;
  int32_t rating[HAK_ELO_MAX];     // integer ELO ratings (start 1500)
  double last_score[HAK_ELO_MAX];  // most recent window score of each strategy
  uint8_t scored[HAK_ELO_MAX];
  uint8_t frozen;
} hak_elo_t;

void hak_elo_init(hak_elo_t *e, uint32_t n, uint32_t first, uint32_t max_games);
// Records the current strategy's window score, plays it against the best-rated other
// strategy already scored, and returns the strategy to run next.
uint32_t hak_elo_step(hak_elo_t *e, double score);

#ifdef __cplusplus
}
#endif

#endif
