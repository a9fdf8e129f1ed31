// Deterministic synthetic traces for the learner: convergence, no oscillation, dwell,
// pooling of small windows, freezing, canary adoption, ELO choice.
#include <gtest/gtest.h>

#include "hakmem/learn/learner.h"

namespace {

hak_capctl_params_t Params() {
  hak_capctl_params_t p;
  p.target_permille = 970;
  p.band_permille = 10;
  p.step = 8;
  p.cap_min = 8;
  p.cap_max = 1024;
  p.dwell_windows = 2;
  p.min_samples = 256;
  p.freeze_windows = 0;
  return p;
}

// A cache whose miss rate falls as its capacity grows: misses = allocs * 8 / cap.
uint64_t Misses(uint32_t cap, uint64_t allocs) { return allocs * 8 / cap; }

TEST(CapController, ConvergesToTheTargetAndStays) {
  hak_capctl_params_t p = Params();
  hak_capctl_t c;
  hak_capctl_init(&c, 16);
  for (int w = 0; w < 400; w++) hak_capctl_step(&c, &p, 10000, Misses(c.cap, 10000));
  uint32_t hit = 1000 - (uint32_t)(Misses(c.cap, 10000) * 1000 / 10000);
  EXPECT_GE(hit + p.band_permille, p.target_permille);
  EXPECT_LE(hit, p.target_permille + p.band_permille);
  uint32_t changes = c.changes, cap = c.cap;
  for (int w = 0; w < 1000; w++) hak_capctl_step(&c, &p, 10000, Misses(c.cap, 10000));
  EXPECT_EQ(c.changes, changes) << "no oscillation once in the band";
  EXPECT_EQ(c.cap, cap);
}

TEST(CapController, ShrinksAnOversizedCacheToItsMinimum) {
  hak_capctl_params_t p = Params();
  hak_capctl_t c;
  hak_capctl_init(&c, 512);
  for (int w = 0; w < 400; w++) hak_capctl_step(&c, &p, 10000, 1);  // 99.99 % hits
  EXPECT_EQ(c.cap, p.cap_min);
}

TEST(CapController, WaitsTheDwellTimeBetweenChanges) {
  hak_capctl_params_t p = Params();
  p.dwell_windows = 5;
  hak_capctl_t c;
  hak_capctl_init(&c, 16);
  int last_change = -100;
  uint32_t cap = c.cap;
  for (int w = 0; w < 1000; w++) {
    hak_capctl_step(&c, &p, 10000, 5000);  // 50 % hits: always below the band
    if (c.cap != cap) {
      EXPECT_GE(w - last_change, 5) << "window " << w;
      last_change = w;
      cap = c.cap;
    }
  }
  EXPECT_EQ(c.cap, p.cap_max);
}

TEST(CapController, PoolsWindowsBelowTheMinimumSampleCount) {
  hak_capctl_params_t p = Params();
  hak_capctl_t c;
  hak_capctl_init(&c, 16);
  hak_capctl_step(&c, &p, 100, 50);
  hak_capctl_step(&c, &p, 100, 50);
  EXPECT_EQ(c.cap, 16u) << "200 samples: no decision yet";
  hak_capctl_step(&c, &p, 100, 50);
  EXPECT_EQ(c.cap, 24u) << "300 pooled samples at 50 % hits: one step up";
}

TEST(CapController, FreezesAfterStayingInTheBand) {
  hak_capctl_params_t p = Params();
  p.freeze_windows = 10;
  hak_capctl_t c;
  hak_capctl_init(&c, 16);
  for (int w = 0; w < 500 && !c.frozen; w++) hak_capctl_step(&c, &p, 10000, Misses(c.cap, 10000));
  ASSERT_TRUE(c.frozen);
  uint32_t cap = c.cap;
  hak_capctl_step(&c, &p, 10000, 9000);  // a frozen controller ignores new evidence
  EXPECT_EQ(c.cap, cap);
}

double CanaryScore(uint32_t wmax) {  // misses per thousand: 125 is 5 % better, 150 only 0.5 %
  return wmax == 125 ? 9.5 : wmax == 150 ? 9.95 : 10.0;
}

TEST(Canary, AdoptsOnlyAClearImprovementThenFreezes) {
  hak_canary_params_t p = {3, {100, 125, 150, 0}, 4, 10};
  hak_canary_t k;
  hak_canary_init(&k, 100);
  uint32_t w = k.current_pct;
  int trials = 0;
  for (int i = 0; i < 100 && !k.frozen; i++) {
    uint32_t next = hak_canary_step(&k, &p, CanaryScore(w));
    if (next != w && next != k.adopted_pct) trials++;
    w = next;
  }
  EXPECT_TRUE(k.frozen);
  EXPECT_EQ(k.adopted_pct, 125u);
  EXPECT_EQ(k.current_pct, 125u);
  EXPECT_EQ(trials, 2) << "each candidate other than the baseline gets one trial";
}

TEST(Canary, KeepsTheBaselineWhenNoCandidateHelps) {
  hak_canary_params_t p = {2, {125, 150, 0, 0}, 3, 10};
  hak_canary_t k;
  hak_canary_init(&k, 100);
  uint32_t w = k.current_pct;
  for (int i = 0; i < 100 && !k.frozen; i++) w = hak_canary_step(&k, &p, w == 100 ? 10.0 : 12.0);
  EXPECT_TRUE(k.frozen);
  EXPECT_EQ(k.current_pct, 100u);
}

TEST(Elo, PicksTheStrategyWithTheLowestScore) {
  const double score[3] = {5.0, 3.0, 8.0};
  hak_elo_t e;
  hak_elo_init(&e, 3, 0, 60);
  uint32_t s = e.current;
  int runs[3] = {0, 0, 0};
  for (int i = 0; i < 200; i++) {
    s = hak_elo_step(&e, score[s]);
    runs[s]++;
  }
  EXPECT_TRUE(e.frozen);
  EXPECT_EQ(e.current, 1u);
  EXPECT_GT(e.rating[1], e.rating[0]);
  EXPECT_GT(e.rating[1], e.rating[2]);
  EXPECT_GT(runs[1], runs[0] + runs[2]);
}

TEST(Elo, EqualStrategiesOnlyDraw) {
  hak_elo_t e;
  hak_elo_init(&e, 3, 2, 30);
  uint32_t s = e.current;
  for (int i = 0; i < 100; i++) s = hak_elo_step(&e, 4.0 + 0.01 * (i % 2));  // within the 2 % draw band
  EXPECT_TRUE(e.frozen);
  for (int i = 0; i < 3; i++) EXPECT_NEAR(e.rating[i], 1500, 16);
}

}  // namespace
