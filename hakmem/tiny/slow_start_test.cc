// Slow start (refill.c): a thread's first refill of a class carves about a page of new
// blocks, later ones twice as many, up to the full batch. A binary of its own: the check
// needs slabs no earlier test has freed blocks into (a refill takes a slab's whole free
// list, which would hide what carving does).
#include <gtest/gtest.h>

#include <vector>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/test_util.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/tiny/size_class.h"

namespace {

using hak_test::InThread;
using hak_test::KnobScope;
using hak_test::Stats;

// Blocks left in the thread's cache by its first malloc of `size` (what the refill took,
// less the one handed out).
uint64_t CachedAfterFirstMalloc(size_t size) {
  uint64_t cached = 0;
  InThread([&] {
    uint64_t c0 = Stats().tiny_cached_blocks;
    void *p = hak_malloc(size);
    cached = Stats().tiny_cached_blocks - c0;
    hak_free(p);
  });
  return cached;
}

TEST(SlowStart, FirstRefillCarvesAPageThenDoubles) {
  if (hak_cfg.learn) GTEST_SKIP() << "HAKMEM_LEARN=1: the learner chooses refill sizes";
  if (!HAKMEM_BATCH_REFILL) GTEST_SKIP() << "--//cfg:batch_refill=false: one block per refill";
  KnobScope on(&hak_cfg.tiny_slow_start, 1);
  // One 4 KiB block instead of a batch of 8; 36 of the 112 B class instead of 73.
  EXPECT_EQ(CachedAfterFirstMalloc(4000), 0u);
  EXPECT_EQ(CachedAfterFirstMalloc(100), 4096u / tiny_class_stride[tiny_class_of(100)] - 1);
  // A hot class reaches full batches after a few refills: 1, 2, 4 blocks of 20 KiB, then
  // the full batch (HAKMEM_MID_CACHE_BYTES / 20 KiB / 2).
  InThread([] {
    const unsigned c = tiny_mid_class_of(20000);
    std::vector<void *> v;
    for (int i = 0; i < 64; i++) v.push_back(hak_malloc(20000));
    EXPECT_EQ(tiny_me->adapt.starts[c], TINY_SLOW_START_DONE);
    for (void *p : v) hak_free(p);
  });
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(SlowStart, OffTakesAFullBatchAtOnce) {
  if (hak_cfg.learn) GTEST_SKIP() << "HAKMEM_LEARN=1: the learner chooses refill sizes";
  if (!HAKMEM_BATCH_REFILL) GTEST_SKIP() << "--//cfg:batch_refill=false: one block per refill";
  KnobScope off(&hak_cfg.tiny_slow_start, 0);
  // The 112 B class: cap 146 (16 KiB / 112 B), batch 73. A band class (>= 1280 B) starts at
  // the band's smallest refill and grows as the thread allocates it (adapt.c): the 3 KiB
  // class takes HAKMEM_MID_MIN_BUNDLE (4) blocks.
  EXPECT_EQ(CachedAfterFirstMalloc(100), 72u);
  EXPECT_EQ(CachedAfterFirstMalloc(3000), 3u);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

}  // namespace
