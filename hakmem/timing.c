// timing.c — counters behind timing.h (builds with --//cfg:timing=true only).
#include "hakmem/timing.h"

#if HAKMEM_TIMING_BUILD

#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/log.h"
#include "hakmem/os.h"

static _Atomic uint64_t t_count[HT_NCAT], t_ns[HT_NCAT];
static const char *const t_name[HT_NCAT] = {"tiny_refill", "tiny_flush",  "tiny_drain",   "ss_acquire",  "ss_release",
                                            "pool_alloc",  "pool_free",   "pool_release", "large_alloc", "large_free"};

uint64_t hak_timing_start(void) { return hak_cfg.timing ? hak_os_now_ns() : 0; }

void hak_timing_add(unsigned cat, uint64_t start_ns) {
  uint64_t d = hak_os_now_ns() - start_ns;
  atomic_fetch_add_explicit(&t_count[cat], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&t_ns[cat], d, memory_order_relaxed);
}

void hak_timing_print(void) {
  char buf[2048];
  size_t n = hak_format(buf, sizeof buf, "hakmem timing (slow paths): category calls total_us avg_ns\n");
  for (unsigned i = 0; i < HT_NCAT; i++) {
    uint64_t c = atomic_load(&t_count[i]), ns = atomic_load(&t_ns[i]);
    n += hak_format(buf + n, sizeof buf - n, "  %s %lu %lu %lu\n", t_name[i], (unsigned long)c, (unsigned long)(ns / 1000),
                    (unsigned long)(c ? ns / c : 0));
  }
  hak_os_write_stderr(buf, n);
}

#endif
