// Failing OS calls (issue "Hardening, round 2"): with the OS layer's fault injection
// (--config=fault, i.e. --//cfg:fault_injection) each call HAKMEM makes can be refused, and
// every caller must keep its promises: calloc zeroes, realloc keeps contents or fails
// cleanly, malloc reports ENOMEM, nothing is counted released that was not. In builds
// without fault injection the tests skip (CI runs them under --config=fault).
#include <errno.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/large/large_testing.h"
#include "hakmem/os.h"
#include "hakmem/pool/pageheap.h"
#include "hakmem/test_util.h"

namespace {

using hak_test::KnobScope;
using hak_test::Stats;

// Sets a fault spec for one scope; skips the test where the build cannot inject.
class Faults {
 public:
  explicit Faults(const char *spec) : ok_(hak_os_fault_set(spec) == 0) {}
  ~Faults() { hak_os_fault_set(""); }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};
#define FAULTS(var, spec)                                                       \
  Faults var(spec);                                                             \
  if (!var.ok()) GTEST_SKIP() << "no fault injection in this build (--config=fault)"

const size_t kKiB = 1024, kMiB = 1 << 20;

TEST(Fault, MalformedSpecsAreRefused) {
  if (hak_os_fault_set("") != 0) GTEST_SKIP() << "no fault injection in this build";
  EXPECT_NE(hak_os_fault_set("madvise"), 0);
  EXPECT_NE(hak_os_fault_set("madvise:3/2"), 0);
  EXPECT_NE(hak_os_fault_set("madvise:1/0"), 0);
  EXPECT_NE(hak_os_fault_set("fork:1/2"), 0);
  EXPECT_NE(hak_os_fault_set("mmap:1/2;"), 0);
  EXPECT_EQ(hak_os_fault_set("madvise:1/7,mmap:1/50"), 0);
  EXPECT_EQ(hak_os_fault_set(""), 0);
}

// A refused madvise leaves the pages as they were: the page heap must keep the spans dirty,
// so calloc zeroes them (it skipped the memset on spans marked clean, and 85 of an outside
// audit's calloc results came back holding old data).
TEST(Fault, CallocIsZeroWhenMadviseIsRefused) {
  FAULTS(f, "madvise:1/1");
  unsigned long failures0 = hak_os_failures();
  const size_t sizes[] = {64 * kKiB, 96 * kKiB, 200 * kKiB, 640 * kKiB, 2 * kMiB, 5 * kMiB};
  for (int round = 0; round < 3; round++) {
    std::vector<void *> v;
    void *pin = hak_malloc(64 * kKiB);  // keeps the arena mapped: trim then only releases spans
    ASSERT_NE(pin, nullptr);
    for (size_t s : sizes) {
      void *p = hak_malloc(s);
      ASSERT_NE(p, nullptr);
      memset(p, 0xa5, s);
      v.push_back(p);
    }
    for (void *p : v) hak_free(p);
    hak_trim(0);  // releases every dirty span: each madvise is refused
    for (size_t s : sizes) {
      uint8_t *p = (uint8_t *)hak_calloc(1, s);
      ASSERT_NE(p, nullptr);
      for (size_t i = 0; i < s; i += 509) ASSERT_EQ(p[i], 0) << "calloc(" << s << ") byte " << i;
      ASSERT_EQ(p[s - 1], 0);
      hak_free(p);
    }
    hak_free(pin);
  }
  EXPECT_GT(hak_os_failures(), failures0) << "no madvise was refused: the test tested nothing";
  hak_stats_t s = Stats();
  EXPECT_EQ(s.pool_free_clean_bytes, 0u) << "a span was counted released although madvise failed";
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// The slab engine's decommit of a free slab: refused, the slab stays dirty and its old
// headers are scrubbed when it is reused (the checker would see stale headers otherwise).
TEST(Fault, SlabsStayDirtyWhenMadviseIsRefused) {
  FAULTS(f, "madvise:1/1");
  for (int round = 0; round < 3; round++) {
    hak_test::InThread([] {
      std::vector<void *> v;
      for (int i = 0; i < 20000; i++) {
        void *p = hak_malloc(16 + (size_t)(i % 60) * 16);
        ASSERT_NE(p, nullptr);
        memset(p, 0x5a, 16);
        v.push_back(p);
      }
      for (void *p : v) hak_free(p);
    });
    hak_trim(0);
    for (int i = 0; i < 2000; i++) {
      size_t n = 16 + (size_t)(i % 60) * 16;
      uint8_t *p = (uint8_t *)hak_calloc(1, n);
      ASSERT_NE(p, nullptr);
      for (size_t k = 0; k < n; k++) ASSERT_EQ(p[k], 0);
      hak_free(p);
    }
    EXPECT_EQ(hak_check_integrity(), 0u);
  }
}

// A refused mremap: a large block's realloc copies instead, keeping the contents.
TEST(Fault, ReallocOfAMappingCopiesWhenMremapIsRefused) {
  FAULTS(f, "mremap:1/1");
  size_t n = (size_t)hak_cfg.large_min + kMiB;
  uint8_t *p = (uint8_t *)hak_malloc(n);
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < n; i += 4093) p[i] = (uint8_t)(i * 7);
  uint8_t *q = (uint8_t *)hak_realloc(p, 3 * n);
  ASSERT_NE(q, nullptr);
  for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(q[i], (uint8_t)(i * 7)) << i;
  uint8_t *r = (uint8_t *)hak_realloc(q, n + 4096);
  ASSERT_NE(r, nullptr);
  for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(r[i], (uint8_t)(i * 7)) << i;
  hak_free(r);
  EXPECT_GT(hak_os_faults_injected(), 0u);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// No memory from the kernel: every entry point fails cleanly with ENOMEM, the process goes
// on, and once mmap works again so does the allocator.
TEST(Fault, RefusedMmapGivesEnomemAndRecovers) {
  hak_trim(0);
  {
    FAULTS(f, "mmap:1/1");
    const size_t sizes[] = {64 * kKiB + 1, 3 * kMiB, (size_t)hak_cfg.large_min * 2};
    for (size_t s : sizes) {
      errno = 0;
      void *p = hak_malloc(s);
      if (p) {  // the page heap may still hold a free span of that size
        hak_free(p);
        continue;
      }
      EXPECT_EQ(errno, ENOMEM) << s;
    }
    errno = 0;
    EXPECT_EQ(hak_malloc((size_t)hak_cfg.large_min * 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(hak_calloc(1, (size_t)hak_cfg.large_min * 4), nullptr);
    void *small = hak_malloc(100);
    uint8_t *g = (uint8_t *)hak_malloc(100);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(hak_realloc(g, (size_t)hak_cfg.large_min * 4), nullptr);
    g[99] = 1;  // a failed realloc leaves the block as it was
    hak_free(g);
    hak_free(small);
  }
  void *p = hak_malloc((size_t)hak_cfg.large_min * 4);
  EXPECT_NE(p, nullptr);
  hak_free(p);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// A refused munmap is reported and counted; the allocator stays consistent.
TEST(Fault, RefusedMunmapIsCountedNotFatal) {
  std::vector<void *> v;
  for (int i = 0; i < 8; i++) {
    void *p = hak_malloc((size_t)hak_cfg.large_min + (size_t)i * kMiB);
    ASSERT_NE(p, nullptr);
    v.push_back(p);
  }
  FAULTS(f, "munmap:1/1");
  unsigned long failures0 = hak_os_failures();
  for (void *p : v) hak_free(p);
  hak_trim(0);  // unmaps every cached mapping: each munmap is refused
  EXPECT_GT(hak_os_failures(), failures0);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

// No background thread (pthread_create refused): the threads that free memory run the
// release passes themselves, so idle memory still goes back.
TEST(Fault, WithoutTheDecayThreadFreeingThreadsRelease) {
  KnobScope decay(&hak_cfg.decay_ms, 100);
  hak_trim(0);  // nothing left to decay: a running decay thread stops within a period
  for (int i = 0; i < 300 && hak_decay_running(); i++) usleep(10 * 1000);
  FAULTS(f, "thread:1/1");
  ASSERT_FALSE(hak_decay_running()) << "the decay thread did not stop";
  void *p = hak_malloc((size_t)hak_cfg.large_min + kMiB);
  ASSERT_NE(p, nullptr);
  hak_free(p);  // cached; the kick cannot start the thread
  EXPECT_EQ(Stats().large_cached, 1u);
  EXPECT_FALSE(hak_decay_running());
  usleep(250 * 1000);
  // The next free that kicks (a mapping too large to reuse the cached one) runs a pass.
  void *q = hak_malloc(3 * (size_t)hak_cfg.large_min);
  ASSERT_NE(q, nullptr);
  hak_free(q);
  hak_stats_t s = Stats();
  EXPECT_EQ(s.large_cached, 1u) << "the idle cached mapping was not released";
  EXPECT_GE(s.large_cached_bytes, 3 * (size_t)hak_cfg.large_min) << "the one freed just now went instead";
  EXPECT_FALSE(hak_decay_running());
}

// Frees blocks of `size`, each written whole: n with mincore always refused, then n with
// every other call refused. A tier that learns huge pages from how resident freed blocks are
// (mincore) must count nothing in the first run and still see the dense run in the second
// (a refusal neither turns the switch `on` on nor breaks a run). Returns 0, or the failing
// step (for a child's exit status; the messages below).
int LearnUnderRefusedMincore(size_t size, int n, int (*on)(void)) {
  auto dense_free = [&] {
    uint8_t *p = (uint8_t *)hak_malloc(size);
    if (!p) return false;
    memset(p, 1, size);
    hak_free(p);
    return true;
  };
  {
    Faults all("mincore:1/1");
    for (int i = 0; i < n; i++)
      if (!dense_free()) return 2;
    if (on()) return 3;  // nothing was counted
    if (hak_os_faults_injected() == 0) return 4;
  }
  {
    Faults half("mincore:1/2");  // refused, counted, refused, counted ...
    for (int i = 0; i < n; i++)
      if (!dense_free()) return 2;
    if (!on()) return 5;
  }
  return hak_check_integrity() == 0 ? 0 : 6;
}
const char *kLearnSteps = "2: no memory, 3: learned from refused calls, 4: nothing refused, 5: refusals broke the run, 6: integrity";

// The large tier: two dense blocks in a row turn huge pages on (4 frees at 1/2).
TEST(Fault, RefusedMincoreLearnsNothing) {
  if (hak_os_fault_set("") != 0) GTEST_SKIP() << "no fault injection in this build (--config=fault)";
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.large_hugepages, 2);
    hak_trim(0);
    large_hugepages_relearn();
    return LearnUnderRefusedMincore((size_t)hak_cfg.large_min + 8 * kMiB, 4, large_hugepages_on);
  });
  EXPECT_EQ(status, 0) << kLearnSteps;
}

// The page heap (pageheap.c): four in a row (8 frees at 1/2); a refusal does not space out
// the samples as a sparse block does.
TEST(Fault, RefusedMincoreLearnsNothingForThePageHeap) {
  if (hak_os_fault_set("") != 0) GTEST_SKIP() << "no fault injection in this build (--config=fault)";
  int status = hak_test::InChild([] {
    KnobScope mode(&hak_cfg.pool_hugepages, 2);
    ph_hugepages_relearn();
    return LearnUnderRefusedMincore(1 << 20, 8, ph_hugepages_on);
  });
  EXPECT_EQ(status, 0) << kLearnSteps;
}

// realloc's copy asks the kernel which pages hold nothing (pagecopy.h). Refused, or refused
// at the second step, or with the madvise that zeroes a used destination refused, it copies
// (or writes) every byte: the new block holds exactly what the old one held, written or not.
TEST(Fault, ReallocCopiesWholeWhenThePageQueryIsRefused) {
  const char *specs[] = {"mincore:1/1", "pagemap:1/1", "pagemap:1/2,madvise:1/1", "madvise:1/1"};
  for (const char *spec : specs) {
    FAULTS(f, spec);
    std::vector<void *> keep;
    for (int round = 0; round < 6; round++) {
      const size_t n = (256 + 64 * (size_t)round) * kKiB;
      uint8_t *p = (uint8_t *)hak_malloc(n);
      ASSERT_NE(p, nullptr);
      keep.push_back(hak_malloc(n));  // a neighbour, so the next realloc moves
      // The block's pages hold nothing (a page-heap block is page-aligned), then every
      // other page gets a byte: the copy has absent pages to skip and a dirty destination.
      ASSERT_EQ(madvise(p, n, MADV_DONTNEED), 0);
      for (size_t i = 0; i < n; i += 8192) p[i] = (uint8_t)(i >> 13 | 1);
      uint8_t *q = (uint8_t *)hak_realloc(p, 3 * n);
      ASSERT_NE(q, nullptr) << spec;
      for (size_t i = 0; i < n; i++)
        ASSERT_EQ(q[i], i % 8192 ? 0 : (uint8_t)(i >> 13 | 1)) << spec << ": byte " << i << " of " << n;
      memset(q, 0x77, 3 * n);  // the next round's block may take these pages: dirty
      hak_free(q);
    }
    for (void *k : keep) hak_free(k);
  }
  EXPECT_EQ(hak_check_integrity(), 0u);
}

}  // namespace
