// Pool tier (L2.5 page heap + thread cache): classes, carving, coalescing, thread cache,
// spill, cross-thread frees, in-place realloc, invalid pointers, trim.
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "hakmem/config.h"
#include "hakmem/freelink.h"
#include "hakmem/hakmem.h"
#include "hakmem/test_util.h"
#include "hakmem/os.h"
#include "hakmem/pool/pageheap.h"
#include "hakmem/pool/pool.h"

namespace {

using hak_test::HugePageHint;
using hak_test::InThread;
using hak_test::KnobScope;
using hak_test::Stats;
using hak_test::VmSizeBytes;
using hak_test::kPlainBuild;

std::vector<std::string> g_msgs;
void Hook(const char *msg) { g_msgs.push_back(msg); }

TEST(PoolClasses, EveryPageCountFitsWithBoundedWaste) {
  uint32_t prev = 0;
  for (uint32_t pages = 1; pages <= POOL_CLASS_MAX_PAGES; pages++) {
    unsigned c = pool_class_of_pages(pages);
    ASSERT_LT(c, (unsigned)POOL_NCLASS);
    uint32_t got = pool_class_pages(c);
    ASSERT_GE(got, pages);
    ASSERT_GE(got, prev);
    if (pages >= POOL_MIN_PAGES) ASSERT_LE(got * 8, pages * 9 + 8) << pages;  // <= 12.5% above
    ASSERT_EQ(pool_class_of_pages(got), c);  // a class size maps to itself
    prev = got;
  }
  EXPECT_EQ(pool_class_pages(POOL_NCLASS - 1), (uint32_t)POOL_CLASS_MAX_PAGES);
}

TEST(PoolClasses, WasteAtMostAQuarterForEveryPoolSize) {
  for (size_t n = 65536; n <= pool_max_request(); n += (n < (2u << 20) ? 509 : 4093)) {
    size_t got = (size_t)pool_pages_for(n) << PH_PAGE_SHIFT;
    ASSERT_GE(got, n);
    ASSERT_LE(got * 4, n * 5) << n;
  }
}

TEST(Pool, BlocksArePageAlignedWritableAndServedByThePool) {
  InThread([] {
    hak_stats_t before = Stats();
    std::vector<uint8_t *> v;
    for (size_t n = 65536; n <= (6u << 20); n = n * 5 / 4 + 4099) {
      uint8_t *p = (uint8_t *)hak_malloc(n);
      ASSERT_NE(p, nullptr);
      ASSERT_EQ((uintptr_t)p % 4096, 0u);
      ASSERT_GE(hak_usable_size(p), n);
      ASSERT_LE(hak_usable_size(p) * 4, n * 5 + 4 * 4096);
      memset(p, (int)(n & 0xff), n);
      v.push_back(p);
    }
    hak_stats_t mid = Stats();
    EXPECT_EQ(mid.pool_allocs - before.pool_allocs + mid.pool_cache_hits - before.pool_cache_hits >= v.size(), true);
    EXPECT_GE(mid.pool_live_blocks, v.size());
    for (uint8_t *p : v) {
      size_t n = hak_usable_size(p);
      EXPECT_EQ(p[0], p[n / 2 - (n / 2) % 1]);
      hak_free(p);
    }
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

TEST(Pool, ThreadCacheReusesTheLastFreedBlock) {
  InThread([] {
    void *p = hak_malloc(100000);
    hak_free(p);
    uint64_t hits = Stats().pool_cache_hits;
    void *q = hak_malloc(100000);
    EXPECT_EQ(p, q);
    EXPECT_EQ(Stats().pool_cache_hits, hits + 1);
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(q);
  });
}

// A thread's first miss of a class takes one block; from its second miss on, a run (the
// spare goes to its cache). A thread that takes one block each of many classes, hands them
// to another thread and exits, parked a spare of every class before: space the page heap
// grew around (page-heap part of the exiting-threads shape: peak RSS 13.6 -> 12.0 MB).
TEST(Pool, AClassRunsFromAThreadsSecondMiss) {
  if (hak_cfg.l25_run_factor < 2) GTEST_SKIP() << "runs are off";
  InThread([] {
    uint64_t c0 = Stats().pool_cached_blocks;
    void *a = hak_malloc(200000);
    EXPECT_EQ(Stats().pool_cached_blocks, c0) << "the first miss parked a spare";
    void *b = hak_malloc(200000);  // the second miss of the class: a run
    EXPECT_EQ(Stats().pool_cached_blocks, c0 + (uint64_t)hak_cfg.l25_run_factor - 1);
    void *c = hak_malloc(200000);  // the spare
    EXPECT_EQ(Stats().pool_cached_blocks, c0);
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(a);
    hak_free(b);
    hak_free(c);
  });
}

TEST(Pool, ThreadCacheSpillsBeyondItsBudget) {
  InThread([] {
    std::vector<void *> v;
    for (int i = 0; i < 64; i++) v.push_back(hak_malloc(1 << 20));  // 64 MiB of 1 MiB blocks
    for (void *p : v) hak_free(p);
    hak_stats_t s = Stats();
    EXPECT_LE(s.pool_cached_blocks * (1u << 20), (uint64_t)hak_cfg.l25_tc_bytes);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

TEST(Pool, CrossThreadFreesAndThreadExitReturnEverything) {
  std::vector<void *> v(256);
  InThread([&] {
    for (size_t i = 0; i < v.size(); i++) {
      v[i] = hak_malloc(65536 + i * 4000);
      memset(v[i], 1, 65536);
    }
  });
  std::thread a([&] {
    for (size_t i = 0; i < v.size(); i += 2) hak_free(v[i]);
  });
  std::thread b([&] {
    for (size_t i = 1; i < v.size(); i += 2) hak_free(v[i]);
  });
  a.join();
  b.join();
  EXPECT_EQ(hak_check_integrity(), 0u);
  EXPECT_EQ(Stats().pool_cached_blocks, 0u);  // exited threads returned their caches
}

TEST(Pool, FreedNeighboursCoalesceAndReallocGrowsInPlace) {
  InThread([] {
    const size_t sz = 2u << 20;  // above the cached classes: straight back to the page heap
    std::vector<uint8_t *> keep;
    uint8_t *a = nullptr, *b = nullptr;
    for (int i = 0; i < 16 && !a; i++) {
      uint8_t *x = (uint8_t *)hak_malloc(sz), *y = (uint8_t *)hak_malloc(sz);
      if (y == x + sz) a = x, b = y;
      else keep.push_back(x), keep.push_back(y);
    }
    ASSERT_NE(a, nullptr) << "two consecutive carves were never adjacent";
    memset(a, 0x77, sz);
    hak_free(b);
    uint8_t *c = (uint8_t *)hak_realloc(a, sz + sz / 2);
    EXPECT_EQ(c, a);  // grew into b's pages without moving
    EXPECT_EQ(c[sz - 1], 0x77);
    EXPECT_GE(hak_usable_size(c), sz + sz / 2);
    uint8_t *d = (uint8_t *)hak_realloc(c, sz / 4);  // shrinks in place, tail freed
    EXPECT_EQ(d, c);
    EXPECT_EQ(d[sz / 4 - 1], 0x77);
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(d);
    for (uint8_t *p : keep) hak_free(p);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

TEST(Pool, ReallocAcrossEveryTierBoundaryKeepsContents) {
  InThread([] {
    const size_t sizes[] = {100, 1024, 1025, 8191, 8192, 65535, 65536, 1u << 20, (1u << 20) + 1,
                            (size_t)hak_cfg.large_min - 1, (size_t)hak_cfg.large_min, (size_t)hak_cfg.large_min * 2};
    uint8_t *p = (uint8_t *)hak_malloc(16);
    for (int k = 0; k < 16; k++) p[k] = (uint8_t)k;
    size_t have = 16;
    for (size_t n : sizes) {
      p = (uint8_t *)hak_realloc(p, n);
      ASSERT_NE(p, nullptr);
      for (size_t k = 0; k < 16; k++) ASSERT_EQ(p[k], (uint8_t)k) << n;
      if (n > have) memset(p + have, 0x3c, n - have);
      if (n > 16 && have > 16) ASSERT_EQ(p[(n < have ? n : have) - 1], 0x3c) << n;
      have = n;
    }
    for (size_t i = sizeof sizes / sizeof sizes[0]; i-- > 0;) {
      p = (uint8_t *)hak_realloc(p, sizes[i]);
      for (size_t k = 0; k < 16; k++) ASSERT_EQ(p[k], (uint8_t)k) << sizes[i];
    }
    hak_free(p);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

TEST(Pool, CallocIsZeroAfterDirtyReuse) {
  InThread([] {
    for (int i = 0; i < 8; i++) {
      uint8_t *p = (uint8_t *)hak_malloc(3u << 20);
      memset(p, 0xff, 3u << 20);
      hak_free(p);
      uint8_t *q = (uint8_t *)hak_calloc(1, (3u << 20) - 100);
      for (size_t k = 0; k < (3u << 20) - 100; k += 997) ASSERT_EQ(q[k], 0) << k;
      hak_free(q);
      uint8_t *r = (uint8_t *)hak_calloc(100, 1000);
      for (size_t k = 0; k < 100000; k++) ASSERT_EQ(r[k], 0);
      memset(r, 0xee, 100000);
      hak_free(r);
    }
  });
}

TEST(Pool, AlignedAllocationFromThePageHeap) {
  InThread([] {
    void *p = hak_aligned_alloc(4096, 300000);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ((uintptr_t)p % 4096, 0u);
    EXPECT_GE(hak_usable_size(p), 300000u);
    void *q = nullptr;
    ASSERT_EQ(hak_posix_memalign(&q, 1 << 16, 300000), 0);
    EXPECT_EQ((uintptr_t)q % (1 << 16), 0u);
    hak_free(p);
    hak_free(q);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

TEST(Pool, DoubleAndInteriorFreesAreReported) {
  hak_abort_hook_t old = hak_set_abort_hook(Hook);
  InThread([] {
    g_msgs.clear();
    uint8_t *p = (uint8_t *)hak_malloc(200000);
    uint8_t *big = (uint8_t *)hak_malloc(3u << 20);
    hak_free(p + 4096);  // interior page
    hak_free(p + 16);    // not page-aligned
    hak_free(p);
    hak_free(p);    // double free (parked in the thread cache)
    hak_free(big);
    hak_free(big);  // double free (back in the page heap)
    ASSERT_EQ(g_msgs.size(), 4u);
    EXPECT_NE(g_msgs[0].find("interior"), std::string::npos) << g_msgs[0];
    EXPECT_NE(g_msgs[1].find("interior"), std::string::npos) << g_msgs[1];
    EXPECT_NE(g_msgs[2].find("double free"), std::string::npos) << g_msgs[2];
    EXPECT_NE(g_msgs[3].find("double free"), std::string::npos) << g_msgs[3];
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
  hak_set_abort_hook(old);
}

// The page heap's thread cache links its blocks through their first 8 bytes (encoded,
// freelink.h). An attacker who learned the key forges a link to memory of their own, with a
// well-formed link of its own: the pop must see that it is no cached page-heap block.
alignas(4096) unsigned char g_forged_page[4096];

void ForgedPoolLink(size_t n) {
  void *keep = hak_malloc(n);  // the class is in use
  uint8_t *p = (uint8_t *)hak_malloc(n);
  hak_free(p);  // parked in the thread cache
  uintptr_t end = hak_link_encode(nullptr), raw = hak_link_encode(g_forged_page);
  memcpy(g_forged_page, &end, sizeof end);
  memcpy(p, &raw, sizeof raw);  // the write after free
  void *a = hak_malloc(n), *b = hak_malloc(n);
  if (a == (void *)g_forged_page || b == (void *)g_forged_page) fprintf(stderr, "malloc returned the forged page\n");
  _exit(0);
  (void)keep;
}

TEST(PoolDeathTest, AForgedCacheLinkIsReported) {
  if (!kPlainBuild) GTEST_SKIP() << "a sanitizer reports the write after free itself";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (size_t n : {100000u, 300000u, 1u << 20})
    EXPECT_DEATH(ForgedPoolLink(n), "hakmem: free list corrupted: the free block at 0x[0-9a-f]+ about to be handed out is no cached "
                                   "page-heap block \\(not in a page-heap arena\\)")
        << n;
}

TEST(Pool, TrimReleasesFreePagesAndEmptyArenas) {
  InThread([] {
    std::vector<void *> v;
    for (int i = 0; i < 40; i++) {
      v.push_back(hak_malloc(300000 + i * 50000));
      memset(v.back(), 1, 300000);
    }
    for (void *p : v) hak_free(p);
    hak_trim(0);
    hak_stats_t s = Stats();
    EXPECT_EQ(s.pool_free_dirty_bytes, 0u);
    EXPECT_EQ(s.pool_cached_blocks, 0u);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
  // No pool block is live in this process any more, so every arena went back to the OS.
  hak_trim(0);
  hak_stats_t s = Stats();
  EXPECT_EQ(s.pool_live_blocks, 0u);
  EXPECT_EQ(s.pool_arenas, 0u);
}

// Under a sanitizer the process's RSS also holds shadow memory for every page written, which
// no allocator gives back, and writing 1 GiB is slow: there the burst is 256 MiB and the page
// heap's own counter must reach zero.
// Release by time: a 1 GiB burst of 1 – 7 MiB blocks (256 MiB under a sanitizer), every page
// written, then freed. No malloc_trim and no further allocator call: the decay thread alone
// must bring the resident set below 64 MiB within a few seconds (HAKMEM_DECAY_MS = 1 s by
// default).
TEST(Pool, FreedBurstGoesBackToTheOsWhileTheProgramIsIdle) {
  ASSERT_EQ(__atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED), 1000);
  const size_t kMiB = 1 << 20;
  std::vector<void *> v;
  size_t total = 0;
  const size_t burst = (kPlainBuild ? 1024 : 256) * kMiB;
  for (unsigned i = 0; total < burst; i++) {
    size_t n = (1 + i % 7) * kMiB - 4096;  // page heap: below HAKMEM_LARGE_MIN
    uint8_t *p = (uint8_t *)hak_malloc(n);
    ASSERT_NE(p, nullptr);
    for (size_t off = 0; off < n; off += 4096) p[off] = 1;
    v.push_back(p);
    total += n;
  }
  hak_stats_t full = Stats();
  EXPECT_GT(full.rss_bytes, burst - burst / 32);
  EXPECT_GT(full.pool_live_bytes, burst - burst / 32);
  for (void *p : v) hak_free(p);
  v.clear();
  v.shrink_to_fit();
  const bool rss_meaningful = kPlainBuild;
  auto done = [&](const hak_stats_t &st) {
    return st.pool_free_dirty_bytes == 0 && (!rss_meaningful || st.rss_bytes < 64 * kMiB);
  };
  hak_stats_t s = Stats();
  int waited_ms = 0;
  for (; waited_ms < 5000 && !done(s); waited_ms += 100) {
    usleep(100 * 1000);
    s = Stats();
  }
  EXPECT_EQ(s.pool_free_dirty_bytes, 0u) << "every freed page released after " << waited_ms << " ms idle";
  if (rss_meaningful)
    EXPECT_LT(s.rss_bytes, 64 * kMiB) << "resident after " << waited_ms << " ms idle: " << (s.rss_bytes >> 20) << " MiB";
  EXPECT_GT(s.pool_released_bytes, full.pool_released_bytes);
  printf("%lu MiB burst freed: RSS %lu MiB -> %lu MiB after %d ms idle\n", (unsigned long)(burst >> 20), (unsigned long)(full.rss_bytes >> 20),
         (unsigned long)(s.rss_bytes >> 20), waited_ms);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// Blocks a program keeps cycling through are not released (and faulted back in) on every
// turn: churn of 64 KiB – 4 MiB blocks, every page written, well inside the decay time.
TEST(Pool, ChurnWithinTheDecayTimeReleasesNothing) {
  // A decay time longer than the loop takes even under a sanitizer.
  KnobScope decay(&hak_cfg.decay_ms, 60000);
  hak_trim(0);
  hak_stats_t s0 = Stats();
  std::vector<void *> ws(16, nullptr);
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 4000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    void *&slot = ws[x % ws.size()];
    hak_free(slot);
    size_t n = 65536 + (size_t)(x >> 20) % (4u << 20);
    slot = hak_malloc(n);
    ASSERT_NE(slot, nullptr);
    memset(slot, 1, n);
  }
  hak_stats_t s1 = Stats();
  EXPECT_EQ(s1.pool_madvise_calls, s0.pool_madvise_calls) << "no span idle for the decay time, none released";
  for (void *p : ws) hak_free(p);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// Address space: an arena maps a 2 MiB prefix of its 32 MiB window and grows in place, so one
// page-heap block costs 2 MiB of address space (VmSize, ulimit -v), not 32 as before. When
// the pages behind an arena are taken, the block comes from a new arena instead.
TEST(PoolArena, MapsAPrefixThenGrowsInPlaceOrMapsANewArena) {
  hak_trim(0);
  pool_stats_t s;
  pool_stats_get(&s);
  ASSERT_EQ(s.arenas, 0u) << "an earlier test left a page-heap block live";
  InThread([] {
    const uint64_t prefix = (uint64_t)PH_FIRST_PAGES << PH_PAGE_SHIFT;
    void *a = hak_malloc(100000);
    ASSERT_NE(a, nullptr);
    pool_stats_t s;
    pool_stats_get(&s);
    EXPECT_EQ(s.arenas, 1u);
    EXPECT_EQ(s.mapped_bytes, prefix);
    // Someone else's mapping right behind the prefix: the arena cannot grow.
    uint8_t *arena = (uint8_t *)ph_arena_of(a);
    void *blocker = hak_os_map_at(arena + prefix, prefix);
    void *b = hak_malloc(3u << 20);
    ASSERT_NE(b, nullptr);
    memset(b, 7, 3u << 20);
    pool_stats_get(&s);
    if (blocker) {
      EXPECT_NE((uint8_t *)ph_arena_of(b), arena);
      EXPECT_EQ(s.arenas, 2u);
    }
    EXPECT_EQ(s.mapped_bytes % prefix, 0u);
    EXPECT_LT(s.mapped_bytes, 2 * (uint64_t)PH_ARENA_SIZE);
    EXPECT_EQ(hak_check_integrity(), 0u);
    // More than any arena has free: one grows in place (or, if the pages behind every
    // arena were taken meanwhile, a new one is mapped); either way the map stays exact.
    uint64_t mapped = s.mapped_bytes, arenas = s.arenas;
    void *c = hak_malloc(5u << 20);
    ASSERT_NE(c, nullptr);
    memset(c, 9, 5u << 20);
    pool_stats_get(&s);
    EXPECT_TRUE(s.arenas == arenas + 1 || (s.arenas == arenas && s.mapped_bytes > mapped)) << s.arenas;
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(a);
    hak_free(b);
    hak_free(c);
    if (blocker) hak_os_unmap(blocker, prefix);
  });
  hak_trim(0);
  pool_stats_get(&s);
  EXPECT_EQ(s.arenas, 0u);
  EXPECT_EQ(s.mapped_bytes, 0u);
}

// A block at the end of an arena grows with the arena on realloc instead of moving (and
// copying): with the whole window reserved, nothing can stop it. (22ead51's 2 MiB arenas
// moved it: the sweep's large x append cells copied every step.)
TEST(PoolArena, ABlockAtTheArenaEndGrowsInPlaceOnRealloc) {
  if (hak_os_address_space_limited()) GTEST_SKIP() << "under ulimit -v a neighbour may take the pages behind an arena";
  hak_trim(0);
  pool_stats_t s;
  pool_stats_get(&s);
  ASSERT_EQ(s.arenas, 0u) << "an earlier test left a page-heap block live";
  InThread([] {
    uint8_t *p = (uint8_t *)hak_malloc((1u << 20) + (700u << 10));  // fills most of a 2 MiB prefix
    ASSERT_NE(p, nullptr);
    memset(p, 3, 4096);
    for (size_t n = 3u << 20; n <= (7u << 20); n += 1u << 20) {
      uint8_t *q = (uint8_t *)hak_realloc(p, n);
      ASSERT_EQ(q, p) << "moved growing to " << n;
      p = q;
    }
    EXPECT_EQ(p[4095], 3);
    pool_stats_t s;
    pool_stats_get(&s);
    EXPECT_EQ(s.arenas, 1u);
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(p);
  });
}

// Under `ulimit -v` a few MiB above what the process already maps, every tier still serves:
// the over-map that aligns a new arena or SuperSlab (size + alignment: 34 MiB for an arena
// before, 64) no longer fits there, so HAKMEM maps the exact size at an aligned address.
// A block that realloc grows past 32 KiB leaves the slab engine for the page heap once, in a
// block with free pages behind it (no cached block carved there), and from then on grows in
// place; shrinking back to 20 KiB (above 16 KiB) keeps the page heap's smallest block. Before, it moved at
// every step across 64 KiB (48 and 64 KiB classes, a cached neighbour, back to a class).
TEST(PoolRealloc, AGrowingBlockMovesToThePageHeapOnceThenGrowsInPlace) {
  hak_trim(0);
  InThread([] {
    uint8_t *p = (uint8_t *)hak_malloc(20000);
    ASSERT_NE(p, nullptr);
    memset(p, 7, 20000);
    uint8_t *q = (uint8_t *)hak_realloc(p, 40000);
    ASSERT_NE(q, nullptr);
    const char *why = nullptr;
    EXPECT_NE(pool_lookup(q, &why), nullptr) << "past 32 KiB a growing block goes to the page heap";
    p = q;
    static const size_t steps[] = {50000, 65536, 100000, 200000, 400000, 20000, 60000, 150000};
    for (size_t n : steps) {
      q = (uint8_t *)hak_realloc(p, n);
      EXPECT_EQ(q, p) << "moved resizing to " << n;
      p = q;
    }
    EXPECT_EQ(p[19999], 7);
    q = (uint8_t *)hak_realloc(p, 1000);  // small again: back to a slab class, no 64 KiB kept
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(pool_lookup(q, &why), nullptr) << "a block shrunk to 1000 B stayed in the page heap";
    EXPECT_EQ(q[999], 7);
    p = q;
    EXPECT_EQ(hak_check_integrity(), 0u);
    hak_free(p);
  });
}

TEST(PoolArena, ATightAddressSpaceLimitStillServesEveryTier) {
  if (!kPlainBuild) GTEST_SKIP() << "a sanitizer's shadow memory needs terabytes of address space";
  hak_trim(0);
  const size_t kMiB = 1 << 20;
  int status = hak_test::UnderAddressSpaceLimit(16 * kMiB, [](size_t) {
    static const size_t sizes[] = {16, 3000, 40000, 100000, 1u << 20, 3u << 20};
    int bad = 0;
    for (size_t n : sizes) {
      void *p = hak_malloc(n);
      if (!p) {
        fprintf(stderr, "hak_malloc(%zu) failed under RLIMIT_AS = VmSize + 16 MiB\n", n);
        bad = 1;
        continue;
      }
      memset(p, 1, n);
    }
    return bad || hak_check_integrity() != 0;
  });
  EXPECT_EQ(status, 0);
}

// Under `ulimit -v` an arena's mapping is a multiple of 256 KiB, not 2 MiB: a 100 KB block
// costs its arena's metadata (256 KiB of page descriptors) and itself rounded up, 512 KiB of
// the limit, not 2 MiB. Growth keeps to the same grain.
TEST(PoolArena, UnderAnAddressSpaceLimitAnArenaMapsWhatItsBlocksNeed) {
  if (!kPlainBuild) GTEST_SKIP() << "a sanitizer's shadow memory needs terabytes of address space";
  hak_trim(0);
  pool_stats_t s0;
  pool_stats_get(&s0);
  ASSERT_EQ(s0.arenas, 0u) << "an earlier test left a page-heap block live";
  const size_t kKiB = 1024, kMiB = kKiB * kKiB;
  int status = hak_test::UnderAddressSpaceLimit(64 * kMiB, [&](size_t) {
    const size_t grain = (size_t)PH_TIGHT_PAGES << PH_PAGE_SHIFT;
    int bad = 0;
    void *a = hak_malloc(100000);
    pool_stats_t s;
    pool_stats_get(&s);
    if (!a || s.arenas != 1 || s.mapped_bytes != 512 * kKiB) {
      fprintf(stderr, "one 100 KB block: %lu arenas mapping %lu KiB (want 1 and 512)\n", (unsigned long)s.arenas,
              (unsigned long)(s.mapped_bytes / kKiB));
      bad = 1;
    }
    void *b = hak_malloc(300000);  // grows the arena in place (or maps another), by the grain
    pool_stats_get(&s);
    if (!b || s.mapped_bytes % grain != 0 || s.mapped_bytes > 2 * kMiB) {
      fprintf(stderr, "after a 300 KB block: %lu KiB mapped (want a multiple of 256, at most 2048)\n",
              (unsigned long)(s.mapped_bytes / kKiB));
      bad = 1;
    }
    if (a) memset(a, 1, 100000);
    if (b) memset(b, 2, 300000);
    if (hak_check_integrity() != 0) bad = 1;
    hak_free(a);
    hak_free(b);
    return bad;
  });
  EXPECT_EQ(status, 0);
}

// Frees n page-heap blocks of `size`, each written whole or once per 256 KiB; false when
// out of memory.
bool FreeWritten(size_t size, bool whole, int n) {
  for (int i = 0; i < n; i++) {
    uint8_t *p = (uint8_t *)hak_malloc(size);
    if (!p) return false;
    if (whole) memset(p, 1, size);
    else
      for (size_t o = 0; o < size; o += 256 << 10) p[o] = 1;
    hak_free(p);
  }
  return true;
}

// HAKMEM_POOL_HUGEPAGES=2 (the default) learns huge pages for the page heap as the large tier
// does: a program that writes its 64 KiB - 8 MiB blocks whole (the sweep's large/*/pages
// cells: 45k faults and 0.3 s against mimalloc 3.4's 324 and 0.015 s) gets them; one that
// writes them sparsely keeps 4 KiB pages, and its samples thin out. Blocks under 256 KiB are
// not counted. The switch is one-way and per process: the test runs in a child.
TEST(PoolHugePages, AreLearnedFromBlocksWrittenWhole) {
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.pool_hugepages, 2);
    ph_hugepages_relearn();
    const size_t size = 1 << 20;
    void *early = hak_malloc(size);  // its arena is mapped before the switch
    if (!early) return 2;
    if (ph_hugepages_on() || HugePageHint(early)) return 3;
    if (!FreeWritten(128 << 10, true, 64)) return 2;  // small blocks: not counted
    if (!FreeWritten(size, false, 1000)) return 2;  // sparse: never
    if (ph_hugepages_on() || HugePageHint(early)) return 4;
    // After 1000 sparse frees the samples are 255 frees apart: a program that turns to
    // writing its blocks whole is seen within 255 + 4 frees.
    int n = 0;
    while (!ph_hugepages_on() && n < 400) {
      if (!FreeWritten(size, true, 1)) return 2;
      n++;
    }
    if (!ph_hugepages_on()) return 5;
    if (n < 4 + 1) return 6;  // the gap was honoured: more than the 4 dense samples it takes
    void *late = hak_malloc(size);
    if (!late) return 2;
    if (!HugePageHint(early) || !HugePageHint(late)) return 7;  // old arenas and new alike
    hak_free(late);
    hak_free(early);
    return hak_check_integrity() == 0 ? 0 : 8;
  });
  EXPECT_EQ(status, 0) << "2: no memory, 3: on at start, 4: sparse or small blocks switched it on, 5: not learned, "
                          "6: no gap after sparse samples, 7: an arena without the hint, 8: integrity";
}

// HAKMEM_POOL_HUGEPAGES=0 never switches, whatever the program writes.
TEST(PoolHugePages, OffStaysOff) {
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.pool_hugepages, 0);
    ph_hugepages_relearn();
    if (!FreeWritten(1 << 20, true, 16)) return 2;
    void *p = hak_malloc(1 << 20);
    int bad = ph_hugepages_on() || !p || HugePageHint(p);
    hak_free(p);
    return bad;
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
