// The OS layer's clock (the vDSO entry it looks up itself, or the system call) tells the
// same monotonic time as libc's clock_gettime, and its sleep lasts at least as asked.
#include "hakmem/os.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>

namespace {

uint64_t libc_now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

TEST(Os, ClockAgreesWithLibcAndNeverGoesBack) {
  for (int i = 0; i < 1000; i++) {
    uint64_t a = libc_now_ns();
    uint64_t b = hak_os_now_ns();
    uint64_t c = libc_now_ns();
    ASSERT_LE(a, b) << "HAKMEM's clock is behind libc's at call " << i;
    ASSERT_LE(b, c) << "HAKMEM's clock is ahead of libc's at call " << i;
  }
  uint64_t ms = hak_os_now_ms(), ns = hak_os_now_ns();
  EXPECT_LE(ms, ns / 1000000u);
  EXPECT_GE(ms + 1000u, ns / 1000000u);
}

TEST(Os, SleepLastsAtLeastWhatWasAsked) {
  uint64_t a = hak_os_now_ns();
  hak_os_sleep_ms(20);
  EXPECT_GE(hak_os_now_ns() - a, 20u * 1000000u);
}

}  // namespace
