// learner.c — decision logic of the learning layer (see learner.h). Pure functions of their
// inputs: no clock, no allocation, no libm.
#include "hakmem/learn/learner.h"

// ---------------------------------------------------------------- CAP controller

void hak_capctl_init(hak_capctl_t *c, uint32_t cap) {
  *c = (hak_capctl_t){0};
  c->cap = cap;
  c->since_change = UINT32_MAX / 2;  // the first decision need not wait
}

uint32_t hak_capctl_step(hak_capctl_t *c, const hak_capctl_params_t *p, uint64_t allocs, uint64_t misses) {
  if (c->frozen) return c->cap;
  if (c->since_change < UINT32_MAX / 2) c->since_change++;
  c->pend_allocs += allocs;
  c->pend_misses += misses;
  if (c->pend_allocs < p->min_samples || c->since_change < p->dwell_windows) return c->cap;
  uint64_t hits = c->pend_allocs > c->pend_misses ? c->pend_allocs - c->pend_misses : 0;
  uint32_t hit = (uint32_t)(hits * 1000 / c->pend_allocs);
  c->pend_allocs = c->pend_misses = 0;
  uint32_t cap = c->cap;
  if (hit + p->band_permille < p->target_permille) {
    cap = cap + p->step > p->cap_max ? p->cap_max : cap + p->step;
  } else if (hit > p->target_permille + p->band_permille) {
    cap = cap < p->cap_min + p->step ? p->cap_min : cap - p->step;
  }
  if (cap != c->cap) {
    c->cap = cap;
    c->since_change = 0;
    c->stable = 0;
    c->changes++;
  } else if (++c->stable >= p->freeze_windows && p->freeze_windows) {
    c->frozen = 1;
  }
  return c->cap;
}

// ---------------------------------------------------------------- W_MAX canary

void hak_canary_init(hak_canary_t *k, uint32_t base_pct) {
  *k = (hak_canary_t){0};
  k->current_pct = k->adopted_pct = base_pct;
}

uint32_t hak_canary_step(hak_canary_t *k, const hak_canary_params_t *p, double score) {
  if (k->frozen) return k->current_pct;
  if (k->next >= p->ncand) {
    k->frozen = 1;
    k->current_pct = k->adopted_pct;
    return k->current_pct;
  }
  k->acc += score;
  if (++k->windows < p->trial_windows) return k->current_pct;
  double mean = k->acc / k->windows;
  k->acc = 0;
  k->windows = 0;
  if (!k->trial) {
    // Baseline measured: start the next candidate's trial (skipping the one in force).
    k->base_score = mean;
    while (k->next < p->ncand && p->cand_pct[k->next] == k->adopted_pct) k->next++;
    if (k->next >= p->ncand) {
      k->frozen = 1;
      return k->current_pct = k->adopted_pct;
    }
    k->trial = 1;
    return k->current_pct = p->cand_pct[k->next];
  }
  // Trial measured: adopt only a clear improvement over the baseline.
  if (mean * 1000.0 <= k->base_score * (1000.0 - p->adopt_permille)) k->adopted_pct = p->cand_pct[k->next];
  k->next++;
  k->trial = 0;
  return k->current_pct = k->adopted_pct;
}

// ---------------------------------------------------------------- ELO

// e^x for |x| <= ~10 without libm: e^x = (e^(x/32))^32, Taylor series for the small part.
static double exp_small(double x) {
  double y = x / 32, t = 1 + y * (1 + y / 2 * (1 + y / 3 * (1 + y / 4 * (1 + y / 5))));
  for (int i = 0; i < 5; i++) t *= t;
  return t;
}

// Expected score of a player rated ra against rb: 1 / (1 + 10^((rb - ra) / 400)).
static double elo_expected(int32_t ra, int32_t rb) {
  double d = (double)(rb - ra);
  if (d > 1600) d = 1600;
  if (d < -1600) d = -1600;
  return 1.0 / (1.0 + exp_small(d * 0.0057564627324851142));  // ln(10) / 400
}

void hak_elo_init(hak_elo_t *e, uint32_t n, uint32_t first, uint32_t max_games) {
  *e = (hak_elo_t){0};
  e->n = n > HAK_ELO_MAX ? HAK_ELO_MAX : n;
  e->current = first < e->n ? first : 0;
  e->max_games = max_games;
  for (uint32_t i = 0; i < HAK_ELO_MAX; i++) e->rating[i] = 1500;
}

static uint32_t elo_best(const hak_elo_t *e, int exclude) {
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < e->n; i++) {
    if ((int)i == exclude || !e->scored[i]) continue;
    if (best == UINT32_MAX || e->rating[i] > e->rating[best]) best = i;
  }
  return best;
}

uint32_t hak_elo_step(hak_elo_t *e, double score) {
  if (e->frozen || e->n < 2) return e->current;
  uint32_t a = e->current;
  e->last_score[a] = score;
  e->scored[a] = 1;
  uint32_t b = elo_best(e, (int)a);
  if (b != UINT32_MAX) {
    // Lower score wins; within 2 % is a draw, so noise does not move the ratings far.
    double sa = score, sb = e->last_score[b], result = 0.5;
    if (sa < sb * 0.98) result = 1.0;
    else if (sb < sa * 0.98) result = 0.0;
    double ea = elo_expected(e->rating[a], e->rating[b]);
    int32_t delta = (int32_t)(32.0 * (result - ea) + (result >= ea ? 0.5 : -0.5));
    e->rating[a] += delta;
    e->rating[b] -= delta;
    e->games++;
  }
  if (e->max_games && e->games >= e->max_games) {
    e->frozen = 1;
    return e->current = elo_best(e, -1);
  }
  // Explore every strategy once, then alternate: the best-rated one, and every fourth
  // window a challenger in turn, so a strategy that improves later can still win.
  for (uint32_t i = 0; i < e->n; i++)
    if (!e->scored[i]) return e->current = i;
  uint32_t best = elo_best(e, -1);
  if (e->games % 4 == 3) return e->current = (best + 1 + (e->games / 4) % (e->n - 1)) % e->n;
  return e->current = best;
}
