// Free-list runs (superslab.h, slab.c): a chain returned to a slab stays a counted run,
// described in the slab (the top run) or in its first block (every run below), so a refill
// takes whole runs instead of walking the list block by block. These tests call the slab
// functions directly under the heap's lock, so they include the engine's private header.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "hakmem/hakmem.h"
#include "hakmem/test_util.h"
extern "C" {
#include "hakmem/tiny/heap_impl.h"  // C declarations without a C++ guard
}
#include "hakmem/tiny/size_class.h"
#include "hakmem/tiny/superslab.h"
#include "hakmem/track.h"

namespace {

using hak_test::InThread;

// The lengths of slab s's runs, top first, decoded the way the integrity checker does.
std::vector<unsigned> Runs(tiny_slab_t *s) {
  std::vector<unsigned> runs;
  unsigned left = s->top_n;
  if (s->free) runs.push_back(left);
  for (void *b = s->free; b; b = hak_next_get(b)) {
    if (!left) {
      left = slab_run_len(hak_aux32_get(b));
      runs.push_back(left);
    }
    left--;
  }
  return runs;
}

// `want` blocks of class c in one slab: of 3 slabs' worth allocated, those of the slab that
// gave the most (a fresh one); the others are freed again.
std::vector<void *> BlocksOfOneSlab(unsigned c, size_t want, tiny_slab_t **slab) {
  std::vector<void *> all;
  std::map<tiny_slab_t *, size_t> per;
  size_t per_slab = ((size_t)1 << SS_SMALL_SLAB_SHIFT) / tiny_class_stride[c];
  for (size_t i = 0; i < 3 * per_slab; i++) {
    void *p = hak_malloc(tiny_class_stride[c] - 1);
    all.push_back(p);
    per[ss_slab_of(ss_of(p), p)]++;
  }
  tiny_slab_t *s = nullptr;
  for (auto &e : per)
    if (!s || e.second > per[s]) s = e.first;
  std::vector<void *> mine;
  for (void *p : all) {
    if (ss_slab_of(ss_of(p), p) == s && mine.size() < want) mine.push_back(p);
    else hak_free(p);
  }
  *slab = s;
  return mine;
}

// Blocks v[from, to) as one chain, each marked free as a thread cache's free marks it.
void *Chain(const std::vector<void *> &v, size_t from, size_t to, unsigned c) {
  for (size_t i = from; i < to; i++) {
    ((uint8_t *)v[i])[-1] = TINY_HDR_FREE_OF(c);
    HAK_TRACK_FREE(v[i], tiny_usable(c));
    hak_next_set(v[i], i + 1 < to ? v[i + 1] : nullptr);
  }
  return v[from];
}

// Returns v[from, to) to slab s as a flush does (the heap's counters kept exact).
void Put(tiny_heap_t *h, tiny_slab_t *s, const std::vector<void *> &v, size_t from, size_t to, unsigned c) {
  Chain(v, from, to, c);
  heap_put_chain(h, ss_of(s), s, v[from], v[to - 1], (uint32_t)(to - from));
  h->flushed += to - from;
}

unsigned ChainLength(void *p) {
  unsigned n = 0;
  for (; p; p = hak_next_get(p)) n++;
  return n;
}

TEST(Runs, ShortChainsJoinTheTopRunAndARefillTakesWholeRuns) {
  InThread([] {
    const unsigned c = tiny_class_of(40);
    tiny_slab_t *s;
    std::vector<void *> v = BlocksOfOneSlab(c, 400, &s);
    ASSERT_EQ(v.size(), 400u);
    const unsigned max = s->run_max;
    ASSERT_GE(max, 16u);
    ASSERT_LE(max + 12, v.size());
    tiny_heap_t *h = tiny_me->heap;
    pthread_mutex_lock(&h->lock);
    // A chain of run_max blocks cannot join any run: it starts one. A chain of 5 then
    // starts another (the top is full); a chain of 7 joins it.
    Put(h, s, v, 0, max, c);
    EXPECT_EQ(s->top_n, max);
    Put(h, s, v, max, max + 5, c);
    Put(h, s, v, max + 5, max + 12, c);
    std::vector<unsigned> runs = Runs(s);
    ASSERT_GE(runs.size(), 2u);
    EXPECT_EQ(runs[0], 12u);
    EXPECT_EQ(runs[1], max);

    // A refill that wants 3 and has room for 20 takes the whole top run: 12 blocks, the last
    // chain put first, ending in NULL. The next run, which does not fit, stays.
    void *got, *tail;
    uint32_t n = heap_take_from_slab(h, ss_of(s), s, 3, 20, &got, &tail);
    h->refilled += n;
    EXPECT_EQ(n, 12u);
    EXPECT_EQ(got, v[max + 5]);
    EXPECT_EQ(tail, v[max + 4]);
    EXPECT_EQ(ChainLength(got), 12u);
    EXPECT_EQ(s->top_n, max);
    EXPECT_EQ(s->free, v[0]);

    // A run longer than the room is walked for exactly what is wanted; the rest of it stays
    // the top run, with the same last block.
    void *got2;
    uint32_t n2 = heap_take_from_slab(h, ss_of(s), s, 10, 10, &got2, nullptr);
    h->refilled += n2;
    EXPECT_EQ(n2, 10u);
    EXPECT_EQ(got2, v[0]);
    EXPECT_EQ(ChainLength(got2), 10u);
    EXPECT_EQ(s->top_n, max - 10);
    EXPECT_EQ(s->top_tail, v[max - 1]);

    // Both go back: 12 blocks start a run (max - 10 + 12 > max), 10 more join it.
    heap_put_chain(h, ss_of(s), s, got, tail, 12);
    h->flushed += 12;
    heap_put_chain(h, ss_of(s), s, got2, v[9], 10);
    h->flushed += 10;
    runs = Runs(s);
    EXPECT_EQ(runs[0], 22u);
    EXPECT_EQ(runs[1], max - 10);
    pthread_mutex_unlock(&h->lock);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

// A use after free that overwrites a run's description (the word after a free block's link)
// is reported, and the rest of the list becomes one run: the refill follows no wild tail.
TEST(Runs, AnOverwrittenRunDescriptionIsReportedAndTheListStaysWhole) {
  InThread([] {
    const unsigned c = tiny_class_of(40);
    tiny_slab_t *s;
    std::vector<void *> v = BlocksOfOneSlab(c, 400, &s);
    ASSERT_EQ(v.size(), 400u);
    const unsigned max = s->run_max;
    tiny_heap_t *h = tiny_me->heap;
    pthread_mutex_lock(&h->lock);
    Put(h, s, v, 0, max, c);
    Put(h, s, v, max, max + 5, c);  // the run of max is now described in v[0]
    hak_aux32_set(v[0], 0xdeadbeef);
    testing::internal::CaptureStderr();
    void *got;
    uint32_t n = heap_take_from_slab(h, ss_of(s), s, 3, 20, &got, nullptr);
    std::string err = testing::internal::GetCapturedStderr();
    h->refilled += n;
    EXPECT_EQ(n, 5u);
    EXPECT_NE(err.find("overwritten"), std::string::npos) << err;
    EXPECT_EQ(s->top_n, s->free_count);  // the rest of the list, as one run
    EXPECT_EQ(s->free, v[0]);
    heap_put_chain(h, ss_of(s), s, got, v[max + 4], 5);
    h->flushed += 5;
    pthread_mutex_unlock(&h->lock);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

// Blocks freed by another thread reach their slab as one remote chain of any length; the
// owner's drain cuts it into runs of at most run_max, as flushes cut theirs (the blocks of
// the slab this thread freed itself), so a refill never walks them.
TEST(Runs, DrainedRemoteFreesBecomeRunsOfAtMostRunMax) {
  InThread([] {
    const unsigned c = tiny_class_of(40);
    tiny_slab_t *s;
    std::vector<void *> v = BlocksOfOneSlab(c, 900, &s);
    ASSERT_EQ(v.size(), 900u);
    std::thread([&] {
      for (void *p : v) hak_free(p);
    }).join();  // its exit flushes its cache: every block is on s's remote queue
    tiny_heap_t *h = tiny_me->heap;
    pthread_mutex_lock(&h->lock);
    heap_drain_inbox(h);
    std::vector<unsigned> runs = Runs(s);
    unsigned total = 0;
    for (unsigned r : runs) {
      EXPECT_GE(r, 1u);
      EXPECT_LE(r, s->run_max);
      total += r;
    }
    EXPECT_EQ(total, s->free_count);
    EXPECT_GE(runs.size(), 900u / s->run_max);
    pthread_mutex_unlock(&h->lock);
    EXPECT_EQ(hak_check_integrity(), 0u);
  });
}

}  // namespace
