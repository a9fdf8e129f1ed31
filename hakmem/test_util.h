// test_util.h — helpers shared by the GoogleTest suites of the tiers.
#ifndef HAKMEM_TEST_UTIL_H
#define HAKMEM_TEST_UTIL_H

#include <thread>

#include "hakmem/hakmem.h"

namespace hak_test {

inline hak_stats_t Stats() {
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  return s;
}

// Runs f in a fresh thread so that gtest's own allocations on the main thread never mix
// with the counts a test checks.
template <typename F>
void InThread(F f) {
  std::thread t(f);
  t.join();
}

}  // namespace hak_test

#endif
