// learn.c — turns the slab engine's per-thread counters into the learner's decisions (see
// learn.h). It sees only mid_learn_t and tiny_tune_t: the engine copies the counters in and
// applies the capacities out, so this file knows nothing of heaps or thread caches.
// Compiled only with --//cfg:learner=true.
#include "hakmem/mid/learn.h"

#if HAKMEM_LEARNER

#include <string.h>

#include "hakmem/config.h"
#include "hakmem/os.h"

static uint64_t (*learn_clock)(void) = hak_os_now_ms;

void mid_learn_set_clock(uint64_t (*now_ms)(void)) { learn_clock = now_ms ? now_ms : hak_os_now_ms; }

static const uint32_t refill_divs[3] = {4, 2, 1};

void mid_learn_start(mid_learn_t *L, tiny_tune_t *t) {
  memset(L, 0, sizeof *L);
  L->on = hak_cfg.learn != 0;
  t->wmax_pct = 100;
  t->refill_div = 2;
  if (!L->on) return;
  for (unsigned c = MID_LEARN_FIRST; c < TINY_NCLASS; c++) hak_capctl_init(&L->cap[c], t->cap_want[c]);
  hak_canary_init(&L->canary, 100);
  if (!hak_cfg.wmax_learn) L->canary.frozen = 1;
  else if (!hak_cfg.wmax_canary) {  // no trials: the first candidate is simply used
    L->canary.frozen = 1;
    L->canary.current_pct = L->canary.adopted_pct = (uint32_t)hak_cfg.wmax_cand_pct[0];
    t->wmax_pct = L->canary.current_pct;
  }
  hak_elo_init(&L->elo, 3, 1, (uint32_t)hak_cfg.elo_games);
  if (!hak_cfg.learn_elo) L->elo.frozen = 1;
  L->window_start_ms = learn_clock();
}

void mid_learn_window(mid_learn_t *L, tiny_tune_t *t) {
  uint64_t now = L->due_ms;
  uint32_t win = (uint32_t)hak_cfg.learn_window_ms;
  hak_capctl_params_t p = {
      .target_permille = (uint32_t)hak_cfg.target_hit_mid,
      .band_permille = 10,
      .step = (uint32_t)hak_cfg.cap_step_mid,
      .cap_min = (uint32_t)hak_cfg.cap_min_mid,
      .cap_max = (uint32_t)hak_cfg.cap_max_mid,
      .dwell_windows = (uint32_t)(hak_cfg.cap_dwell_ms_mid / win),
      .min_samples = (uint32_t)hak_cfg.learn_min_samples,
      .freeze_windows = (uint32_t)hak_cfg.learn_freeze_windows,
  };
  uint64_t all_allocs = 0, all_misses = 0;
  int all_frozen = 1;
  for (unsigned c = MID_LEARN_FIRST; c < TINY_NCLASS; c++) {
    uint64_t a = t->allocs[c] - L->last_allocs[c], m = t->misses[c] - L->last_misses[c];
    L->last_allocs[c] = t->allocs[c];
    L->last_misses[c] = t->misses[c];
    all_allocs += a;
    all_misses += m;
    if (!a && !L->cap[c].pend_allocs) continue;  // an idle class neither learns nor blocks freezing
    t->cap_want[c] = hak_capctl_step(&L->cap[c], &p, a, m);
    all_frozen &= L->cap[c].frozen;
  }
  if (all_allocs >= p.min_samples) {
    double score = (double)all_misses * 1000.0 / (double)all_allocs;  // misses per thousand
    hak_canary_params_t kp = {.ncand = (uint32_t)hak_cfg.wmax_ncand,
                              .trial_windows = (uint32_t)(hak_cfg.wmax_trial_ms / win ? hak_cfg.wmax_trial_ms / win : 1),
                              .adopt_permille = (uint32_t)hak_cfg.wmax_adopt_permille};
    for (unsigned i = 0; i < kp.ncand && i < HAK_CANARY_MAX; i++) kp.cand_pct[i] = (uint32_t)hak_cfg.wmax_cand_pct[i];
    t->wmax_pct = hak_canary_step(&L->canary, &kp, score);
    t->refill_div = refill_divs[hak_elo_step(&L->elo, score)];
  }
  L->windows++;
  if (all_frozen && L->canary.frozen && L->elo.frozen && L->windows > 1) L->frozen = 1;
  L->window_start_ms = now;
}

int mid_learn_due(mid_learn_t *L) {
  if (!L->on || L->frozen) return 0;
  if (++L->ticks < 16) return 0;  // the clock is read every 16th slow-path event at most
  L->ticks = 0;
  uint64_t now = learn_clock();
  if (now - L->window_start_ms < (uint64_t)hak_cfg.learn_window_ms) return 0;
  L->due_ms = now;
  return 1;
}

#endif  // HAKMEM_LEARNER
