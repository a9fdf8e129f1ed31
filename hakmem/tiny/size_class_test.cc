// Size classes: every request maps to a class that fits it, with bounded waste.
#include "hakmem/tiny/size_class.h"

#include <gtest/gtest.h>

TEST(SizeClass, EveryRequestFitsItsClass) {
  for (size_t n = 0; n <= TINY_ENGINE_MAX; n++) {
    unsigned c = tiny_class_of(n);
    ASSERT_LT(c, (unsigned)TINY_NCLASS) << "n=" << n;
    ASSERT_GE(tiny_usable(c), n) << "n=" << n << " class " << c;
    if (c > 0) ASSERT_LT(tiny_usable(c - 1), n) << "n=" << n << " should use the smaller class " << c - 1;
  }
}

TEST(SizeClass, PoolClassesFitAndFollowTheSmallOnes) {
  for (size_t n = TINY_ENGINE_MAX + 1; n <= TINY_MID_MAX; n++) {
    unsigned c = tiny_mid_class_of(n);
    ASSERT_GE(c, (unsigned)TINY_SMALL_NCLASS) << n;
    ASSERT_LT(c, (unsigned)TINY_NCLASS) << n;
    ASSERT_GE(tiny_usable(c), n) << n;
    if (c > TINY_SMALL_NCLASS) ASSERT_LT(tiny_usable(c - 1), n) << n;
    double waste = (double)(tiny_class_stride[c] - n) / (double)n;
    ASSERT_LE(waste, 0.25) << "n=" << n << " stride " << tiny_class_stride[c];
  }
}

TEST(SizeClass, WasteAtMostAQuarterAbove128) {
  for (size_t n = 129; n <= TINY_ENGINE_MAX; n++) {
    unsigned c = tiny_class_of(n);
    double waste = (double)(tiny_class_stride[c] - n) / (double)n;
    ASSERT_LE(waste, 0.25) << "n=" << n << " stride " << tiny_class_stride[c];
  }
}

TEST(SizeClass, StridesAreSixteenByteMultiplesAndIncreasing) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    EXPECT_EQ(tiny_class_stride[c] % 16, 0u) << c;
    if (c && c < TINY_NFIXED) EXPECT_GT(tiny_class_stride[c], tiny_class_stride[c - 1]) << c;
  }
  // The seeds' regression: 64 B requests must land in a class that holds 64 bytes, and
  // a 1 KiB request must not take a 2 KiB stride.
  EXPECT_GE(tiny_usable(tiny_class_of(64)), 64u);
  EXPECT_LE(tiny_class_stride[tiny_class_of(1024)], 1280u);
}

TEST(SizeClass, HeaderEncodingRoundTrips) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    unsigned alloc = TINY_HDR_ALLOC_OF(c), freed = TINY_HDR_FREE_OF(c);
    EXPECT_EQ(alloc & TINY_HDR_STATE_MASK, TINY_HDR_ALLOC);
    EXPECT_EQ(freed & TINY_HDR_STATE_MASK, TINY_HDR_FREE);
    EXPECT_EQ(alloc & TINY_HDR_CLASS_MASK, c);  // the whole class number, every class
    EXPECT_EQ(freed & TINY_HDR_CLASS_MASK, c);
    EXPECT_EQ(alloc | (TINY_HDR_FREE ^ TINY_HDR_ALLOC), freed);  // the free fast path's derivation
    EXPECT_NE(alloc, freed);
    EXPECT_NE(alloc, TINY_HDR_ALIGNED);
    EXPECT_NE(freed, TINY_HDR_ALIGNED);
    EXPECT_NE(alloc, 0u);  // fresh (zero) memory never reads as a header
    for (unsigned d = 0; d < TINY_NCLASS; d++)
      if (d != c) EXPECT_NE(alloc, TINY_HDR_ALLOC_OF(d)) << c << " vs " << d;
  }
}
