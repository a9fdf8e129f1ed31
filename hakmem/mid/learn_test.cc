// The slab engine's learner end to end, with an injected clock: a thread whose working set
// overflows a mid class's default cache gets a larger cache and fewer misses; an idle-ish
// class shrinks to the minimum; every mechanism freezes. Runs for real in builds with
// --//cfg:learner=true (CI's learner flag combination); elsewhere the learner does not exist.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/mid/learn.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/tiny/size_class.h"

namespace {

#if HAKMEM_LEARNER
uint64_t fake_ms;
uint64_t FakeClock() { return fake_ms; }

void Configure(const char *extra) {
  static char a[] = "HAKMEM_LEARN=1", b[] = "HAKMEM_LEARN_WINDOW_MS=10", c[] = "HAKMEM_CAP_DWELL_SEC_MID=0.02",
              d[] = "HAKMEM_WMAX_TRIAL_SEC=0.05", e[] = "HAKMEM_LEARN_FREEZE_WINDOWS=20", f[] = "HAKMEM_ELO_GAMES=12";
  static char g[64];
  snprintf(g, sizeof g, "%s", extra ? extra : "HAKMEM_STATS=0");
  char *env[] = {a, b, c, d, e, f, g, nullptr};
  hak_free(hak_malloc(1));  // process init first: it loads the real environment once
  hak_config_load(env);
  mid_learn_set_clock(FakeClock);
}

TEST(Learner, GrowsAnOverflowingMidCacheAndFreezes) {
  Configure(nullptr);
  const unsigned c = tiny_class_of(2000);  // stride 2048
  std::thread([&] {
    hak_free(hak_malloc(1));  // initialise this thread's cache (and its learner)
    tiny_tls_t *t = tiny_me;
    const uint32_t cap0 = t->bin[c].cap;
    // Bursts: a batch of blocks is allocated and then freed, more than the default cache
    // holds, so a small cache misses on every refill and flushes on the way back.
    std::vector<void *> ws(256, nullptr);
    uint64_t misses_first = 0, misses_last = 0;
    const int rounds = 400;
    for (int r = 0; r < rounds; r++) {
      uint64_t m0 = t->tune.misses[c];
      for (int b = 0; b < 8; b++) {
        for (void *&p : ws) p = hak_malloc(2000);
        for (void *p : ws) hak_free(p);
      }
      fake_ms += 10;  // one learning window per round
      if (r == 0) misses_first = t->tune.misses[c] - m0;
      if (r == rounds - 1) misses_last = t->tune.misses[c] - m0;
    }
    EXPECT_GT(t->bin[c].cap, cap0) << "the learner grew the cache";
    EXPECT_LT(misses_last * 2, misses_first) << "and the misses fell";
    EXPECT_TRUE(((mid_learn_t *)t->heap->learn)->canary.frozen);
    EXPECT_TRUE(((mid_learn_t *)t->heap->learn)->elo.frozen);
    EXPECT_EQ(hak_check_integrity(), 0u);
  }).join();
  mid_learn_set_clock(nullptr);
  Configure("HAKMEM_LEARN=0");
}

TEST(Learner, ShrinksACacheThatAlwaysHits) {
  Configure(nullptr);
  const unsigned c = tiny_mid_class_of(20000);  // stride 20480
  std::thread([&] {
    hak_free(hak_malloc(1));
    tiny_tls_t *t = tiny_me;
    for (int r = 0; r < 300; r++) {
      for (int i = 0; i < 2000; i++) hak_free(hak_malloc(20000));  // one block, always cached
      // Force a slow-path event now and then so the learner gets its ticks: a burst that
      // overflows another class's cache.
      std::vector<void *> v;
      for (int k = 0; k < 64; k++) v.push_back(hak_malloc(3000));
      for (void *p : v) hak_free(p);
      fake_ms += 10;
    }
    EXPECT_EQ(t->bin[c].cap, (uint32_t)hak_cfg.cap_min_mid);
    EXPECT_EQ(hak_check_integrity(), 0u);
  }).join();
  mid_learn_set_clock(nullptr);
  Configure("HAKMEM_LEARN=0");
}
#else
TEST(Learner, NotBuilt) { GTEST_SKIP() << "build with --//cfg:learner=true (CI does) to test the learner"; }
#endif

}  // namespace
