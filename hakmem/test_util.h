// test_util.h — helpers shared by the GoogleTest suites of the tiers.
#ifndef HAKMEM_TEST_UTIL_H
#define HAKMEM_TEST_UTIL_H

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "hakmem/hakmem.h"

namespace hak_test {

// False under ASan, TSan or MSan: their shadow memory needs terabytes of address space (no
// `ulimit -v` test can run) and counts in RSS and page faults (no RSS or fault bound holds).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPlainBuild = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kPlainBuild = false;
#else
constexpr bool kPlainBuild = true;
#endif
#else
constexpr bool kPlainBuild = true;
#endif

inline hak_stats_t Stats() {
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  return s;
}

// This process's VmSize in bytes (address space: what `ulimit -v` limits); 0 if unreadable.
inline size_t VmSizeBytes() {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  size_t kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %zu kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb * 1024;
}

// Runs body() in a forked child (for a one-way switch a test must not leave on for the
// tests after it); returns body's result as the child's exit status, -1 if it did not exit.
template <typename F>
int InChild(F body) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) _exit(body());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Runs body(vm) in a forked child whose address space is limited (RLIMIT_AS, what `ulimit -v`
// sets) to its VmSize vm plus headroom; the child exits with body's result (0: passed). Returns
// that exit status: 2 when the limit could not be set, -1 when the child did not exit (a
// signal). No gtest in the child: body reports on stderr and returns non-zero.
template <typename F>
int UnderAddressSpaceLimit(size_t headroom, F body) {
  return InChild([&] {
    size_t vm = VmSizeBytes();
    struct rlimit r = {vm + headroom, vm + headroom};
    if (vm == 0 || setrlimit(RLIMIT_AS, &r) != 0) return 2;
    return (int)body(vm);
  });
}

// Whether the mapping holding p has asked for huge pages ("hg" in its smaps VmFlags: what
// madvise(MADV_HUGEPAGE) sets, whatever the system's THP mode).
inline bool HugePageHint(const void *p) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return false;
  char line[512];
  bool in = false, hg = false;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ') && line[0] != 'V') {
      in = (uintptr_t)p >= a && (uintptr_t)p < b;
    } else if (in && !strncmp(line, "VmFlags:", 8)) {
      hg = strstr(line, " hg") != nullptr;
      break;
    }
  }
  fclose(f);
  return hg;
}

// Runs f in a fresh thread so that gtest's own allocations on the main thread never mix
// with the counts a test checks.
template <typename F>
void InThread(F f) {
  std::thread t(f);
  t.join();
}

// Sets a HAKMEM_* knob (a field of hak_cfg) for one scope and restores it on every way out
// of the scope, an ASSERT that returns early included: a knob left changed would leak into
// the tests after it. Relaxed atomics, as the decay thread reads knobs while tests run.
class KnobScope {
 public:
  KnobScope(long *knob, long value) : knob_(knob), old_(__atomic_load_n(knob, __ATOMIC_RELAXED)) {
    __atomic_store_n(knob_, value, __ATOMIC_RELAXED);
  }
  ~KnobScope() { __atomic_store_n(knob_, old_, __ATOMIC_RELAXED); }
  KnobScope(const KnobScope &) = delete;
  KnobScope &operator=(const KnobScope &) = delete;

 private:
  long *knob_;
  long old_;
};

}  // namespace hak_test

#endif
