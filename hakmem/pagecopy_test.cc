// realloc's copy leaves the pages a program never wrote out of memory (pagecopy.h), and
// copies every byte it wrote, into a fresh block or into one that held data before.
#include "hakmem/pagecopy.h"

#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>

#include <cstdint>
#include <vector>

#include "hakmem/hakmem.h"
#include "hakmem/os.h"

namespace {

constexpr size_t kPage = 4096;

uint8_t *MapPages(size_t pages) {
  void *p = mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  return (uint8_t *)p;
}

// Which pages of [p, p + pages * kPage) are resident. Call before reading the range: a read
// of an absent page maps the zero page.
std::vector<bool> Resident(const void *p, size_t pages) {
  std::vector<unsigned char> vec(pages);
  EXPECT_EQ(mincore(const_cast<void *>(p), pages * kPage, vec.data()), 0);
  std::vector<bool> out(pages);
  for (size_t i = 0; i < pages; i++) out[i] = vec[i] & 1;
  return out;
}

uint8_t Pattern(size_t i) { return (uint8_t)(i * 131 + 7) | 1; }

TEST(PageCopy, OsSaysWhichPagesHoldNothing) {
  const size_t pages = 300;  // more than one call's worth
  uint8_t *m = MapPages(pages);
  m[0] = 1, m[5 * kPage + 9] = 2, m[299 * kPage] = 3;
  volatile uint8_t r = m[7 * kPage];  // a read maps the zero page: present, not absent
  (void)r;
  m[9 * kPage] = 4;
  ASSERT_EQ(hak_os_decommit(m + 9 * kPage, kPage), 0);  // decommitted: holds nothing again
  uint64_t absent[HAK_OS_ABSENT_MAX / 64];
  ASSERT_EQ(hak_os_pages_absent(m, HAK_OS_ABSENT_MAX, absent), 0);
  for (size_t i = 0; i < HAK_OS_ABSENT_MAX; i++) {
    bool want = i != 0 && i != 5 && i != 7;
    EXPECT_EQ((absent[i / 64] >> (i % 64)) & 1, want ? 1u : 0u) << "page " << i;
  }
  ASSERT_EQ(hak_os_pages_absent(m + 256 * kPage, 44, absent), 0);
  EXPECT_EQ(absent[0] >> 43 & 1, 0u);     // page 299 was written
  EXPECT_EQ(absent[0] & 0xffu, 0xffu);    // pages 256..263 were not
  EXPECT_EQ(hak_os_pages_absent(m + 1, 4, absent), -1);  // not page-aligned
  EXPECT_EQ(hak_os_pages_absent(m, HAK_OS_ABSENT_MAX + 1, absent), -1);
  munmap(m, pages * kPage);
}

// Writes a few pages of a source, copies it from offset src_off of its first page to
// offset dst_off of the destination's, and checks every byte arrived and which pages of the
// destination are resident: those a written page of src was copied onto, and none of those
// wholly covered by pages of src that were never written.
void CopyAndCheck(size_t src_off, size_t dst_off, bool dst_dirty) {
  const size_t pages = 600, n = 590 * kPage + 333;
  uint8_t *src = MapPages(pages), *dst = MapPages(pages);
  if (dst_dirty) memset(dst, 0xAB, pages * kPage);
  const size_t written[] = {0, 1, 2, 40, 255, 256, 257, 400, 589, 590};
  auto was_written = [&](size_t pg) {
    for (size_t x : written)
      if (x == pg) return true;
    return false;
  };
  for (size_t pg : written) src[pg * kPage + 2000] = Pattern(pg);
  memset(src + src_off, 0x5A, 50);  // inside the partial first page
  hak_pagecopy(dst + dst_off, src + src_off, n, dst_dirty ? 0 : 1);
  std::vector<bool> res = Resident(dst, pages);
  // Source page pg lands on destination bytes [pg * kPage + shift, ... + kPage).
  const long shift = (long)dst_off - (long)src_off;
  size_t must_in = 0, must_out = 0;
  for (size_t dp = 1; dp + 1 < 590; dp++) {
    long lo = ((long)(dp * kPage) - shift), hi = lo + (long)kPage - 1;  // src bytes it gets
    size_t a = (size_t)lo / kPage, b = (size_t)hi / kPage;               // src pages
    bool from_written = was_written(a) || was_written(b);
    bool all_unwritten = !was_written(a) && !was_written(b) && a >= 1 && b <= 589;
    if (from_written) {
      EXPECT_TRUE(res[dp]) << "dst page " << dp << " holds a written page but is not resident";
      must_in++;
    } else if (all_unwritten) {
      EXPECT_FALSE(res[dp]) << "dst page " << dp << " holds only pages never written but is resident";
      must_out++;
    }
  }
  EXPECT_GT(must_out, 500u);
  EXPECT_GE(must_in, 7u);
  for (size_t i = 0; i < n; i++)
    if (dst[dst_off + i] != src[src_off + i]) {
      ADD_FAILURE() << "byte " << i << " differs: " << (int)dst[dst_off + i] << " vs " << (int)src[src_off + i];
      break;
    }
  if (dst_off) EXPECT_EQ(dst[dst_off - 1], dst_dirty ? 0xAB : 0);  // nothing before the range
  EXPECT_EQ(dst[dst_off + n], dst_dirty ? 0xAB : 0);               // nor after it
  munmap(src, pages * kPage);
  munmap(dst, pages * kPage);
}

TEST(PageCopy, UnwrittenPagesStayOutOfAFreshDestination) { CopyAndCheck(100, 100, false); }
TEST(PageCopy, UnwrittenPagesOfAUsedDestinationBecomeZerosAndLeaveMemory) { CopyAndCheck(100, 100, true); }
// A slab block (a header byte in front) moving to a page-aligned page-heap block, and back.
TEST(PageCopy, BlocksPlacedDifferentlyWithinAPage) {
  CopyAndCheck(1, 0, false);
  CopyAndCheck(1, 0, true);
  CopyAndCheck(0, 3000, true);
  CopyAndCheck(4000, 17, true);
}

TEST(PageCopy, SmallCopiesAreWhole) {
  uint8_t *src = MapPages(40), *dst = MapPages(40);
  src[0] = 9;
  hak_pagecopy(dst, src, HAK_PAGECOPY_MIN - 1, 1);
  std::vector<bool> res = Resident(dst, HAK_PAGECOPY_MIN / kPage);
  for (size_t pg = 0; pg < HAK_PAGECOPY_MIN / kPage; pg++) EXPECT_TRUE(res[pg]) << "page " << pg;
  EXPECT_EQ(dst[0], 9);
  munmap(src, 40 * kPage);
  munmap(dst, 40 * kPage);
}

// The whole path: a page-heap calloc block written on a few pages, grown by realloc past a
// neighbour that keeps it from growing in place, moves without its other pages.
TEST(PageCopy, ReallocMovesOnlyWhatWasWritten) {
  const size_t n = 1 << 20;
  // calloc: the bytes never written are zeros the program may read (and, under MSan,
  // initialised ones), so the moved block must hold them too.
  uint8_t *p = (uint8_t *)hak_calloc(1, n);
  ASSERT_NE(p, nullptr);
  std::vector<void *> after;
  for (int i = 0; i < 64; i++) after.push_back(hak_malloc(n));  // the neighbours
  p[0] = 1, p[100 * kPage] = 2, p[n - 1] = 3;
  uint8_t *q = (uint8_t *)hak_realloc(p, 3 * n);
  ASSERT_NE(q, nullptr);
  ASSERT_NE(q, p) << "the block grew in place: the test needs a neighbour behind it";
  std::vector<bool> res = Resident(q, n / kPage);
  size_t resident = 0;
  for (bool r : res) resident += r;
  EXPECT_LE(resident, 3u) << "of the moved block's first " << n / kPage << " pages, 3 were written";
  EXPECT_EQ(q[0], 1);
  EXPECT_EQ(q[100 * kPage], 2);
  EXPECT_EQ(q[n - 1], 3);
  EXPECT_EQ(q[50 * kPage], 0);
  hak_free(q);
  for (void *a : after) hak_free(a);
}

}  // namespace
