// bench_common.h — shared pieces of the benchmarks: timing, RNG, peak RSS, and the check of
// which allocator actually served malloc (the seeds once published numbers that had
// silently fallen back to glibc). Every benchmark prints one "key=value" result line.
#ifndef HAKMEM_BENCH_COMMON_H
#define HAKMEM_BENCH_COMMON_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t bench_rng(uint64_t *s) {  // xorshift64*
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

// A "Key:   N kB" line of /proc/self/status, in KiB (-1 if absent).
static inline long bench_status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0) kb = atol(line + n);
  if (f) fclose(f);
  return kb;
}

// VmHWM of this process (ru_maxrss would include the launcher's RSS from before exec).
static inline long bench_peak_rss_kb(void) { return bench_status_kb("VmHWM:"); }
// VmRSS of this process in KiB.
static inline long bench_rss_kb(void) { return bench_status_kb("VmRSS:"); }

// Name of the allocator that owns malloc, found through symbols only it exports.
static inline const char *bench_allocator(void) {
  if (dlsym(RTLD_DEFAULT, "hakmem_is_active_allocator")) return "hakmem";
  if (dlsym(RTLD_DEFAULT, "mi_malloc")) return "mimalloc";
  if (dlsym(RTLD_DEFAULT, "tc_malloc")) return "tcmalloc";
  if (dlsym(RTLD_DEFAULT, "mallctl")) return "jemalloc";
  return "glibc";
}

// File name of the shared object whose malloc the program calls ("libc.so.6" under glibc):
// proves a peer given only as a path (compare.py and sweep.py --peer) actually served.
static inline const char *bench_malloc_owner(void) {
  Dl_info info;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  if (!m || !dladdr(m, &info) || !info.dli_fname) return "unknown";
  const char *slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}

// For HAKMEM: the number of slab refills, pool and large allocations HAKMEM recorded (must be > 0
// for a valid run). -1 for other allocators.
static inline long long bench_hakmem_served(void) {
  typedef struct {
    uint32_t version, size;
    uint64_t f[64];
  } stats_t;
  int (*get)(void *) = (int (*)(void *))dlsym(RTLD_DEFAULT, "hak_stats_get");
  if (!get) return -1;
  stats_t s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  get(&s);
  // Field order of hak_stats_t: f[2] = tiny_refills, f[16] = large_allocs (v1); f[28] =
  // pool_allocs, f[30] = pool_cache_hits (v2+).
  long long n = (long long)(s.f[2] + s.f[16]);
  if (s.version >= 2) n += (long long)(s.f[28] + s.f[30]);
  return n;
}

static inline void bench_report(const char *name, double ops, double secs, const char *extra) {
  printf("bench=%s allocator=%s malloc_from=%s ops=%.0f secs=%.4f mops=%.3f peak_rss_kb=%ld hakmem_served=%lld%s%s\n",
         name, bench_allocator(), bench_malloc_owner(), ops, secs, ops / secs / 1e6, bench_peak_rss_kb(),
         bench_hakmem_served(), extra ? " " : "", extra ? extra : "");
  fflush(stdout);
}

static inline long bench_arg(int argc, char **argv, int i, long def) { return argc > i ? atol(argv[i]) : def; }

// Defeats dead-store elimination of touched memory.
static volatile uint8_t bench_sink;

#endif
