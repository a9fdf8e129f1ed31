// Size classes: every request maps to a class that fits it, with bounded waste.
#include "hakmem/tiny/size_class.h"

#include <gtest/gtest.h>
#include <string.h>

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

// The tables written out in size_class.c are the ones the rule builds (the smallest class
// whose stride holds the entry's largest request plus its header), entry for entry.
TEST(SizeClass, WrittenTablesAreTheOnesTheRuleBuilds) {
  tiny_lut_t lut;
  uint8_t mid[TINY_MID_LUT_N];
  memcpy(&lut, &tiny_lut, sizeof lut);
  memcpy(mid, tiny_mid_lut, sizeof mid);
  ASSERT_EQ(tiny_size_class_set_dyn1(0), 0);  // rebuilds both from the strides
  for (unsigned i = 0; i < TINY_LUT_N; i++) {
    EXPECT_EQ(lut.hdr[i], tiny_lut.hdr[i]) << "entry " << i;
    EXPECT_EQ(lut.bin[i], tiny_lut.bin[i]) << "entry " << i;
  }
  for (unsigned i = TINY_MID_LUT_FIRST; i < TINY_MID_LUT_N; i++) EXPECT_EQ(mid[i], tiny_mid_lut[i]) << "mid entry " << i;
}

// A request of a power of two, or a little more (its own header), takes the class at 17/16
// of it, not the next quarter step: 25 % waste before.
TEST(SizeClass, PowersOfTwoAndALittleMoreWasteAtMostASixteenth) {
  // 4 and 8 KiB plus a header of up to 63 bytes: at most 64 bytes over.
  for (size_t n : {4096, 4127, 4159, 8192, 8224, 8255}) {
    unsigned c = tiny_engine_class_of(n);
    EXPECT_LE(tiny_class_stride[c], (n & ~(size_t)4095) + 64) << "n=" << n;
  }
  for (size_t p = 256; p <= 32768; p *= 2)
    for (size_t n : {p, p + 8, p + p / 32, p + p / 16 - 1}) {
      unsigned c = tiny_engine_class_of(n);
      EXPECT_LE(tiny_class_stride[c], p + p / 16) << "n=" << n;
    }
}
