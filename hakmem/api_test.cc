// Conformance of the hak_* API: edge cases of glibc's and mimalloc's malloc tests, errno
// rules, aligned allocation, realloc across tiers, invalid-pointer detection.
#include <errno.h>
#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

#include "hakmem/hakmem.h"

namespace {

std::vector<std::string> g_msgs;
void RecordAbort(const char *msg) { g_msgs.push_back(msg); }

struct HookGuard {
  hak_abort_hook_t old;
  HookGuard() : old(hak_set_abort_hook(RecordAbort)) { g_msgs.clear(); }
  ~HookGuard() { hak_set_abort_hook(old); }
};

TEST(Api, CallocZeroesAndChecksOverflow) {
  for (size_t n : {1, 10, 1000, 5000, 100000, 3000000}) {
    uint8_t *p = (uint8_t *)hak_malloc(n);
    memset(p, 0xff, n);
    hak_free(p);
    uint8_t *q = (uint8_t *)hak_calloc(n, 1);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(q[i], 0) << n << " at " << i;
    hak_free(q);
  }
  errno = 0;
  EXPECT_EQ(hak_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(hak_reallocarray(nullptr, SIZE_MAX / 4, 8), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Api, ImpossibleSizesReturnEnomem) {
  errno = 0;
  EXPECT_EQ(hak_malloc(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(hak_malloc(SIZE_MAX - 4096), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void *p = hak_malloc(10);
  errno = 0;
  EXPECT_EQ(hak_realloc(p, SIZE_MAX / 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  hak_free(p);  // the original block is still valid after a failed realloc
}

TEST(Api, FreePreservesErrno) {
  void *a = hak_malloc(10), *b = hak_malloc(100000);
  errno = 1234;
  hak_free(a);
  hak_free(b);
  hak_free(nullptr);
  EXPECT_EQ(errno, 1234);
}

TEST(Api, PosixMemalignRejectsBadAlignmentAndLeavesOutput) {
  void *out = (void *)0x1234;
  EXPECT_EQ(hak_posix_memalign(&out, 3, 10), EINVAL);
  EXPECT_EQ(hak_posix_memalign(&out, 0, 10), EINVAL);
  EXPECT_EQ(hak_posix_memalign(&out, 4, 10), EINVAL);  // not a multiple of sizeof(void*)
  EXPECT_EQ(out, (void *)0x1234);
  EXPECT_EQ(hak_aligned_alloc(3, 10), nullptr);
}

TEST(Api, AlignedAllocationForEveryPowerOfTwo) {
  for (size_t align = 1; align <= ((size_t)1 << 30); align <<= 1) {
    for (size_t size : {(size_t)0, (size_t)1, align, align + 1, (size_t)3000}) {
      if (size > ((size_t)1 << 27)) continue;  // keep the test's memory small
      void *p = nullptr;
      if (align >= sizeof(void *)) {
        ASSERT_EQ(hak_posix_memalign(&p, align, size), 0) << align << " " << size;
      } else {
        p = hak_aligned_alloc(align, size);
      }
      ASSERT_NE(p, nullptr) << align << " " << size;
      ASSERT_EQ((uintptr_t)p % align, 0u) << align << " " << size;
      ASSERT_GE(hak_usable_size(p), size);
      memset(p, 0xab, size);
      hak_free_aligned_sized(p, align, size);
    }
  }
  void *p = hak_memalign(64, 100);
  EXPECT_EQ((uintptr_t)p % 64, 0u);
  hak_free(p);
  p = hak_valloc(10);
  EXPECT_EQ((uintptr_t)p % 4096, 0u);
  hak_free(p);
  p = hak_pvalloc(10);
  EXPECT_EQ((uintptr_t)p % 4096, 0u);
  EXPECT_GE(hak_usable_size(p), 4096u);
  hak_free(p);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(Api, ReallocKeepsContentsAcrossEveryTierBoundary) {
  const size_t sizes[] = {1, 15, 16, 17, 128, 1023, 1024, 1025, 4096, 8191, 8192, 8193, 32768, 65536, 1 << 20, (1 << 20) + 1, 5 << 20};
  for (size_t a : sizes) {
    for (size_t b : sizes) {
      uint8_t *p = (uint8_t *)hak_malloc(a);
      for (size_t i = 0; i < a; i++) p[i] = (uint8_t)(i * 7 + a);
      uint8_t *q = (uint8_t *)hak_realloc(p, b);
      ASSERT_NE(q, nullptr);
      ASSERT_GE(hak_usable_size(q), b);
      for (size_t i = 0; i < (a < b ? a : b); i++) ASSERT_EQ(q[i], (uint8_t)(i * 7 + a)) << a << "->" << b << " at " << i;
      hak_free(q);
    }
  }
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(Api, ReallocNullAndZero) {
  void *p = hak_realloc(nullptr, 40);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(hak_realloc(p, 0), nullptr);  // glibc: frees and returns NULL
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(Api, StringBuilderGrowth) {
  char *s = nullptr;
  size_t len = 0;
  for (int i = 0; i < 20000; i++) {
    s = (char *)hak_realloc(s, len + 2);
    s[len++] = (char)('a' + i % 26);
    s[len] = 0;
  }
  for (size_t i = 0; i < len; i++) ASSERT_EQ(s[i], 'a' + (int)(i % 26));
  hak_free(s);
}

TEST(Api, InvalidFreesAreDetectedAndNamed) {
  HookGuard g;
  int on_stack;
  static int global;
  uint64_t before = hak_invalid_free_count();
  hak_free(&on_stack);
  hak_free(&global);
  char *p = (char *)hak_malloc(100);
  hak_free(p + 16);  // interior
  hak_free(p);
  hak_free(p);  // double free
  char *big = (char *)hak_malloc(1 << 20);
  hak_free(big + 4096);  // interior of a large block
  hak_free(big);
  hak_free(big);  // double free of a large block
  ASSERT_EQ(g_msgs.size(), 6u);
  EXPECT_EQ(hak_invalid_free_count() - before, 6u);
  char buf[64];
  snprintf(buf, sizeof buf, "%p", (void *)&on_stack);
  EXPECT_NE(g_msgs[0].find(buf), std::string::npos) << g_msgs[0];
  EXPECT_NE(g_msgs[0].find("not allocated by HAKMEM"), std::string::npos);
  EXPECT_NE(g_msgs[3].find("double free"), std::string::npos) << g_msgs[3];
  EXPECT_NE(g_msgs[5].find("double free"), std::string::npos) << g_msgs[5];
  EXPECT_EQ(hak_check_integrity(), 0u) << "invalid frees must not corrupt state";
}

TEST(Api, CorruptedHeaderIsDetected) {
  HookGuard g;
  uint8_t *p = (uint8_t *)hak_malloc(64);
  uint8_t saved = p[-1];
  p[-1] = 0x13;
  hak_free(p);
  ASSERT_EQ(g_msgs.size(), 1u);
  EXPECT_NE(g_msgs[0].find("corrupted"), std::string::npos) << g_msgs[0];
  p[-1] = saved;
  hak_free(p);
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(Api, OwnsAndUsableSize) {
  int x;
  EXPECT_FALSE(hak_owns(&x));
  EXPECT_FALSE(hak_owns(nullptr));
  void *p = hak_malloc(300);
  EXPECT_TRUE(hak_owns(p));
  EXPECT_GE(hak_usable_size(p), 300u);
  EXPECT_LE(hak_usable_size(p), 375u);
  hak_free(p);
  EXPECT_FALSE(hak_owns(p));  // freed
}

TEST(Api, StatsJsonAndVersion) {
  hak_stats_t s;
  s.size = sizeof s;
  ASSERT_EQ(hak_stats_get(&s), 0);
  EXPECT_EQ(s.version, (uint32_t)HAK_STATS_VERSION);
  EXPECT_GT(s.bytes_mapped, 0u);
}

}  // namespace
