// override.c — the malloc family and glibc's __libc_* aliases, all forwarding to the hak_*
// engine. Linked only into //hakmem (alwayslink) and libhakmem.so; tests, fuzzers and
// sanitizer builds use //hakmem:core instead so the sanitizer keeps owning malloc.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>

#include "hakmem/config.h"
#include "hakmem/front_fast.h"
#include "hakmem/pool/pageheap.h"
#include "hakmem/hakmem.h"
#include "hakmem/init.h"
#include "hakmem/log.h"
#include "hakmem/os.h"

#define HAK_EXPORT __attribute__((visibility("default")))

// malloc and free inline the fast paths (no extra jump); the rest forward to hak_*.
HAK_EXPORT void *malloc(size_t n) { return front_malloc(n); }
HAK_EXPORT void free(void *p) { front_free(p); }
HAK_EXPORT void cfree(void *p) { hak_free(p); }
HAK_EXPORT void *calloc(size_t n, size_t s) { return hak_calloc(n, s); }
HAK_EXPORT void *realloc(void *p, size_t n) { return hak_realloc(p, n); }
HAK_EXPORT void *reallocarray(void *p, size_t n, size_t s) { return hak_reallocarray(p, n, s); }
HAK_EXPORT int posix_memalign(void **out, size_t a, size_t n) { return hak_posix_memalign(out, a, n); }
HAK_EXPORT void *aligned_alloc(size_t a, size_t n) { return hak_aligned_alloc(a, n); }
HAK_EXPORT void *memalign(size_t a, size_t n) { return hak_memalign(a, n); }
HAK_EXPORT void *valloc(size_t n) { return hak_valloc(n); }
HAK_EXPORT void *pvalloc(size_t n) { return hak_pvalloc(n); }
HAK_EXPORT size_t malloc_usable_size(void *p) { return hak_usable_size(p); }
HAK_EXPORT void free_sized(void *p, size_t n) { hak_free_sized(p, n); }
HAK_EXPORT void free_aligned_sized(void *p, size_t a, size_t n) { hak_free_aligned_sized(p, a, n); }
HAK_EXPORT int malloc_trim(size_t pad) { return hak_trim(pad); }
HAK_EXPORT struct mallinfo2 mallinfo2(void) {
  struct mallinfo2 mi = {0};
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  mi.arena = s.bytes_mapped;
  mi.hblks = s.large_live;
  mi.hblkhd = s.large_live_bytes;
  // In use: the bytes of blocks in the program's hands, every tier (so it grows with every
  // allocation, even one served from memory already mapped); free: the rest of the mapping.
  size_t used = (size_t)(tiny_live_bytes() + s.pool_live_bytes + s.large_live_bytes);
  mi.uordblks = used;
  mi.fordblks = mi.arena > used ? mi.arena - used : 0;
  mi.keepcost = s.superslabs_cached * ((size_t)2 << 20);
  return mi;
}

// Deprecated int-sized form of mallinfo2 (values saturate at INT_MAX).
HAK_EXPORT struct mallinfo mallinfo(void) {
  struct mallinfo2 m = mallinfo2();
  struct mallinfo mi = {0};
#define HAK_SAT(x) ((x) > (size_t)INT_MAX ? INT_MAX : (int)(x))
  mi.arena = HAK_SAT(m.arena);
  mi.hblks = HAK_SAT(m.hblks);
  mi.hblkhd = HAK_SAT(m.hblkhd);
  mi.fordblks = HAK_SAT(m.fordblks);
  mi.keepcost = HAK_SAT(m.keepcost);
  mi.uordblks = HAK_SAT(m.uordblks);
#undef HAK_SAT
  return mi;
}

// glibc's summary lines first (programs and glibc's tests read them), then HAKMEM's report,
// both to the stderr stream as glibc's malloc_stats does (a program may have replaced
// `stderr`), with cancellation held off for the duration as glibc does. Not an allocator
// path: stdio may allocate here.
HAK_EXPORT void malloc_stats(void) {
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  struct mallinfo2 mi = mallinfo2();
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  char buf[4608];
  size_t n = hak_format(buf, sizeof buf,
                        "Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                        "Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                        "max mmap regions = %10lu\nmax mmap bytes   = %10lu\n",
                        mi.arena, mi.uordblks, mi.arena, mi.uordblks, (unsigned long)s.large_live,
                        (unsigned long)s.large_live_bytes);
  hak_stats_format(buf + n, sizeof buf - n, 0);
  fputs(buf, stderr);
  fflush(stderr);
  pthread_setcancelstate(old, NULL);
}

// glibc's mallopt parameters. Every parameter glibc knows is accepted (returns 1, as
// glibc does, so programs that check the result carry on); those with a HAKMEM meaning
// change the matching knob, the rest are accepted and ignored. Unknown parameters and
// out-of-range values are declined (0).
//   M_TRIM_THRESHOLD  -> HAKMEM_LARGE_CACHE_MB (bytes of freed memory kept before release;
//                        negative = never release, its maximum)
//   M_MMAP_THRESHOLD  -> HAKMEM_LARGE_MIN (smallest request given a mapping of its own),
//                        clamped to 64 KiB .. 16 MiB
//   M_ARENA_MAX       -> page-heap shards threads may spread over (1 .. 4)
//   M_TOP_PAD, M_MMAP_MAX, M_CHECK_ACTION, M_PERTURB, M_ARENA_TEST, M_MXFAST: ignored
HAK_EXPORT int mallopt(int param, int value) {
  hak_global_init();
  switch (param) {
    case M_TRIM_THRESHOLD:  // negative: glibc reads it as a huge unsigned value, i.e. never trim
      __atomic_store_n(&hak_cfg.large_cache_mb, value < 0 ? 65536L : (long)((unsigned)value >> 20), __ATOMIC_RELAXED);
      return 1;
    case M_MMAP_THRESHOLD: {
      if (value < 0) return 0;
      long v = value < (64 << 10) ? (64 << 10) : value > (16 << 20) ? (16 << 20) : value;
      __atomic_store_n(&hak_cfg.large_min, v, __ATOMIC_RELAXED);
      return 1;
    }
    case M_ARENA_MAX:
      if (value < 0) return 0;
      ph_set_shard_limit(value == 0 ? PH_NSHARDS : (unsigned)value);
      return 1;
    case M_MXFAST:
      return value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4;
    case M_TOP_PAD:
    case M_MMAP_MAX:
    case M_CHECK_ACTION:
    case M_PERTURB:
    case M_ARENA_TEST:
      return 1;
    default:
      return 0;
  }
}

// glibc's internal names, used by some programs and by glibc itself (e.g. in fork paths).
HAK_EXPORT void *__libc_malloc(size_t n) { return hak_malloc(n); }
HAK_EXPORT void __libc_free(void *p) { hak_free(p); }
HAK_EXPORT void *__libc_calloc(size_t n, size_t s) { return hak_calloc(n, s); }
HAK_EXPORT void *__libc_realloc(void *p, size_t n) { return hak_realloc(p, n); }
HAK_EXPORT void *__libc_memalign(size_t a, size_t n) { return hak_memalign(a, n); }
HAK_EXPORT void *__libc_valloc(size_t n) { return hak_valloc(n); }
HAK_EXPORT void *__libc_pvalloc(size_t n) { return hak_pvalloc(n); }
HAK_EXPORT int __posix_memalign(void **out, size_t a, size_t n) { return hak_posix_memalign(out, a, n); }

// The allocator below HAKMEM in the symbol chain, for HAKMEM_INVALID_FREE=pass. Resolved in
// a constructor (dlsym may allocate, so never from inside malloc).
__attribute__((constructor)) static void hak_override_init(void) {
  hak_global_init();
  void *f = dlsym(RTLD_NEXT, "free"), *r = dlsym(RTLD_NEXT, "realloc"), *u = dlsym(RTLD_NEXT, "malloc_usable_size");
  if (f && f != (void *)free)
    hak_set_next_allocator((void (*)(void *))f, r != (void *)realloc ? (void *(*)(void *, size_t))r : NULL,
                           u != (void *)malloc_usable_size ? (size_t(*)(void *))u : NULL);
}

// Lets programs and tests ask which allocator is active (weak reference from hak_stats.h).
HAK_EXPORT int hakmem_is_active_allocator(void) { return 1; }
