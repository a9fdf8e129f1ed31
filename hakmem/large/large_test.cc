// Large tier: BigCache reuse (direct-indexed buckets, a larger mapping shrunk in place), the
// cache's byte cap, realloc by mremap keeping contents, cross-thread frees, trim, and the
// checker after each.
#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/large/large_testing.h"
#include "hakmem/test_util.h"

namespace {

using hak_test::HugePageHint;
using hak_test::InThread;
using hak_test::KnobScope;
using hak_test::Stats;

const size_t kMiB = 1 << 20;

size_t LargeMin() { return (size_t)hak_cfg.large_min; }

TEST(Large, FreedMappingIsReusedFromItsBucket) {
  hak_trim(0);
  hak_stats_t s0 = Stats();
  void *p = hak_malloc(LargeMin() + 3 * kMiB);
  ASSERT_NE(p, nullptr);
  memset(p, 0xab, LargeMin() + 3 * kMiB);
  hak_free(p);
  hak_stats_t s1 = Stats();
  EXPECT_EQ(s1.large_cached, s0.large_cached + 1);
  void *q = hak_malloc(LargeMin() + 3 * kMiB - 4096);  // same page count bucket or just above
  EXPECT_EQ(q, p);
  hak_stats_t s2 = Stats();
  EXPECT_EQ(s2.large_cache_hits, s1.large_cache_hits + 1);
  EXPECT_EQ(s2.large_cached, s0.large_cached);
  hak_free(q);
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_trim(0);
  EXPECT_EQ(Stats().large_cached, 0u);
}

TEST(Large, MuchLargerCachedMappingIsShrunkNotLeftIdle) {
  hak_trim(0);
  void *big = hak_malloc(3 * LargeMin());
  ASSERT_NE(big, nullptr);
  hak_free(big);
  hak_stats_t s1 = Stats();
  large_stats_t l1, l2;
  large_stats_get(&l1);
  void *small = hak_malloc(LargeMin());  // under half the size: the big one is shrunk
  ASSERT_NE(small, nullptr);
  hak_stats_t s2 = Stats();
  large_stats_get(&l2);
  EXPECT_EQ(s2.large_cache_hits, s1.large_cache_hits + 1);
  EXPECT_EQ(l2.maps, l1.maps);
  EXPECT_LT(s2.large_live_bytes, 2 * LargeMin());
  hak_free(small);
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_trim(0);
}

// Only smaller mappings cached: the largest of at least half the size is grown (mremap), so
// the pages the program touched come along and only the growth is new.
TEST(Large, SmallerCachedMappingIsGrown) {
  hak_trim(0);
  uint8_t *p = (uint8_t *)hak_malloc(LargeMin() + 2 * kMiB);
  ASSERT_NE(p, nullptr);
  memset(p, 0x5a, LargeMin() + 2 * kMiB);
  hak_free(p);
  hak_stats_t s1 = Stats();
  large_stats_t l1, l2;
  large_stats_get(&l1);
  size_t want = LargeMin() + 6 * kMiB;
  uint8_t *q = (uint8_t *)hak_malloc(want);
  ASSERT_NE(q, nullptr);
  hak_stats_t s2 = Stats();
  large_stats_get(&l2);
  EXPECT_EQ(s2.large_cache_hits, s1.large_cache_hits + 1);
  EXPECT_EQ(l2.maps, l1.maps) << "grown, not mapped afresh";
  EXPECT_GE(hak_usable_size(q), want);
  EXPECT_EQ(q[4096], 0x5a) << "the touched pages moved with the mapping";
  memset(q, 1, want);
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_free(q);
  hak_trim(0);
}

TEST(Large, CacheStaysUnderItsByteCap) {
  hak_trim(0);
  KnobScope cap(&hak_cfg.large_cache_mb, 24);  // room for two 10 MiB blocks, not three
  std::vector<void *> v;
  for (int i = 0; i < 6; i++) v.push_back(hak_malloc(10 * kMiB + (size_t)i * 2 * kMiB));
  for (void *p : v) hak_free(p);
  hak_stats_t s = Stats();
  EXPECT_LE(s.large_cached_bytes, 24 * kMiB);
  EXPECT_GT(s.large_cached, 0u);
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_trim(0);
}

TEST(Large, ReallocMovesPagesAndKeepsContents) {
  size_t n = LargeMin() + kMiB;
  uint8_t *p = (uint8_t *)hak_malloc(n);
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < n; i += 4093) p[i] = (uint8_t)(i * 7);
  uint8_t *q = (uint8_t *)hak_realloc(p, 3 * n);
  ASSERT_NE(q, nullptr);
  for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(q[i], (uint8_t)(i * 7)) << i;
  q[3 * n - 1] = 1;
  uint8_t *r = (uint8_t *)hak_realloc(q, n / 2 + LargeMin() / 2);
  ASSERT_NE(r, nullptr);
  for (size_t i = 0; i < n / 2; i += 4093) ASSERT_EQ(r[i], (uint8_t)(i * 7)) << i;
  EXPECT_GE(hak_usable_size(r), n / 2 + LargeMin() / 2);
  hak_free(r);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// Random grow/shrink realloc sequences below the large tier (64 KiB - 1 MiB, each step
// writing its new bytes) reuse pages the program has already touched: once the first
// sequences have warmed the page heap, further ones fault almost nothing. When a page-heap
// block that had to move to grow became a mapping of its own, every growth faulted its
// pages afresh and every shrink gave them back: about 80 faults per sequence here.
TEST(Large, ReallocSequencesInThePageHeapDoNotFaultAgain) {
  if (!hak_test::kPlainBuild) GTEST_SKIP() << "page faults under a sanitizer count its shadow memory";
  hak_trim(0);
  KnobScope decay(&hak_cfg.decay_ms, 600000);  // no release by time during the test
  uint64_t x = 88172645463325252ull;
  auto rnd = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  auto run = [&](int seqs) {
    for (int q = 0; q < seqs; q++) {
      size_t sz = 1 + rnd() % 64;
      uint8_t *p = (uint8_t *)hak_malloc(sz);
      ASSERT_NE(p, nullptr);
      memset(p, 1, sz);
      for (int st = 0; st < 30; st++) {
        unsigned r = (unsigned)(rnd() % 10);
        size_t n = r < 6 ? 2 * sz + rnd() % 100 : r < 9 ? sz / 2 : sz;
        if (n > kMiB) n = kMiB;
        if (n == 0) n = 1;
        p = (uint8_t *)hak_realloc(p, n);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(p[0], 1) << "step " << st;
        if (n > sz) memset(p + sz, 2, n - sz);
        sz = n;
      }
      hak_free(p);
    }
  };
  run(200);
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  run(500);
  getrusage(RUSAGE_SELF, &r1);
  long faults = r1.ru_minflt - r0.ru_minflt;
  EXPECT_LT(faults, 500) << "500 warm sequences faulted " << faults << " pages";
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_trim(0);
}

TEST(Large, CrossThreadFreesReturnEverything) {
  hak_trim(0);
  hak_stats_t s0 = Stats();
  std::vector<void *> v;
  InThread([&] {
    for (int i = 0; i < 8; i++) {
      uint8_t *p = (uint8_t *)hak_malloc(LargeMin() + (size_t)i * kMiB);
      p[0] = (uint8_t)i;
      v.push_back(p);
    }
  });
  EXPECT_EQ(Stats().large_live, s0.large_live + 8);
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; t++)
    ts.emplace_back([&, t] {
      for (size_t i = (size_t)t; i < v.size(); i += 2) {
        EXPECT_EQ(((uint8_t *)v[i])[0], (uint8_t)i);
        hak_free(v[i]);
      }
    });
  for (auto &t : ts) t.join();
  hak_stats_t s1 = Stats();
  EXPECT_EQ(s1.large_live, s0.large_live);
  EXPECT_EQ(s1.large_frees, s0.large_frees + 8);
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_trim(0);
  EXPECT_EQ(Stats().large_cached, 0u);
}

std::vector<std::string> g_msgs;
void Hook(const char *msg) { g_msgs.push_back(msg); }

TEST(Large, DoubleAndInteriorFreesAreNamed) {
  hak_abort_hook_t old = hak_set_abort_hook(Hook);
  g_msgs.clear();
  uint8_t *p = (uint8_t *)hak_malloc(LargeMin());
  hak_free(p + 4096);  // interior pointer
  hak_free(p);
  hak_free(p);  // double free (the mapping sits in the cache)
  ASSERT_EQ(g_msgs.size(), 2u);
  EXPECT_NE(g_msgs[0].find("interior"), std::string::npos) << g_msgs[0];
  EXPECT_NE(g_msgs[1].find("double free"), std::string::npos) << g_msgs[1];
  EXPECT_EQ(hak_check_integrity(), 0u);
  hak_set_abort_hook(old);
}

// Decay: a cached mapping idle for HAKMEM_DECAY_MS is unmapped by the decay pass (here run
// directly; the background thread runs the same steps), one reused sooner stays.
TEST(Large, IdleCachedMappingsDecay) {
  hak_trim(0);
  KnobScope decay(&hak_cfg.decay_ms, 200);
  void *p = hak_malloc(LargeMin() + kMiB);
  ASSERT_NE(p, nullptr);
  hak_free(p);
  EXPECT_EQ(Stats().large_cached, 1u);
  hak_decay_run();
  EXPECT_EQ(Stats().large_cached, 1u) << "freed just now: kept for reuse";
  usleep(300 * 1000);
  hak_decay_run();
  hak_stats_t s = Stats();
  EXPECT_EQ(s.large_cached, 0u) << "idle for longer than HAKMEM_DECAY_MS: unmapped";
  EXPECT_EQ(s.large_cached_bytes, 0u);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// Frees two blocks of `size` written as `touch` says (every page, or one page per MiB).
void FreeTwo(size_t size, bool whole) {
  for (int i = 0; i < 2; i++) {
    uint8_t *p = (uint8_t *)hak_malloc(size);
    if (!p) return;
    if (whole) memset(p, 1, size);
    else
      for (size_t o = 0; o < size; o += kMiB) p[o] = 1;
    hak_free(p);
  }
}

// HAKMEM_LARGE_HUGEPAGES=2 (the default) learns huge pages for the large tier: blocks freed
// sparsely written leave them off; two freed written whole turn them on, for new mappings
// and for the ones reused from the cache. malloc-large (blocks of 5 - 25 MiB, each written whole)
// took 260k page faults and 4.9 s with 4 KiB pages; a sparse user (xz's match finder)
// would pay RSS for them. The switch is one-way and per process: the test runs in a child.
TEST(Large, HugePagesAreLearnedFromBlocksWrittenWhole) {
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.large_hugepages, 2);
    const size_t size = LargeMin() + 8 * kMiB;
    hak_trim(0);  // no cached mapping carries the hint from the tests before
    large_hugepages_relearn();
    if (large_hugepages_on()) return 2;
    FreeTwo(size, false);
    if (large_hugepages_on()) return 3;  // sparse blocks: still off
    void *cached = hak_malloc(size);      // one mapping stays cached across the switch
    if (!cached) return 4;
    FreeTwo(size, true);
    memset(cached, 1, 4096);
    hak_free(cached);  // a third sparse block after the switch changes nothing
    if (!large_hugepages_on()) return 5;
    void *a = hak_malloc(size), *b = hak_malloc(size), *c = hak_malloc(size);
    if (!a || !b || !c) return 6;
    if (!HugePageHint(a) || !HugePageHint(b) || !HugePageHint(c)) return 7;  // reused and new alike
    void *d = hak_malloc(size + 4096);  // a new mapping: whole huge pages (its last 2 MiB too)
    if (!d || (hak_usable_size(d) + 64) % (2 * kMiB) != 0) return 9;
    hak_free(d);
    hak_free(a);
    hak_free(b);
    hak_free(c);
    return hak_check_integrity() == 0 ? 0 : 8;
  });
  EXPECT_EQ(status, 0) << "2: on at start, 3: sparse blocks switched, 4/6: no memory, 5: not learned, 7: a mapping without the hint, 8: integrity, 9: not whole huge pages";
}

// HAKMEM_LARGE_HUGEPAGES=0 never switches, whatever the program writes.
TEST(Large, HugePagesOffStayOff) {
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.large_hugepages, 0);
    hak_trim(0);
    large_hugepages_relearn();
    FreeTwo(LargeMin() + 8 * kMiB, true);
    FreeTwo(LargeMin() + 8 * kMiB, true);
    void *p = hak_malloc(LargeMin() + 8 * kMiB);
    int bad = large_hugepages_on() || !p || HugePageHint(p);
    hak_free(p);
    return bad;
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
