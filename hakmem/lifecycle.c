// lifecycle.c — the core library's share of process initialisation (called once from
// hak_global_init): fork handlers and the HAKMEM_STATS exit report.
#include <pthread.h>
#include <stdlib.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/pool/pool.h"
#include "hakmem/timing.h"
#include "hakmem/tiny/heap.h"

void hak_core_init(void);

static void fork_prepare(void) {
  // Lock order (README "fork"): tiny heap list, dead-thread heap, SuperSlab cache, the
  // page-heap shards 0..3, then the large cache. Every allocator lock is taken, so the child
  // never inherits a held lock.
  tiny_fork_prepare();
  pool_fork_prepare();
  large_fork_prepare();
}
static void fork_parent(void) {
  large_fork_parent();
  pool_fork_parent();
  tiny_fork_parent();
}
static void fork_child(void) {
  large_fork_child();
  pool_fork_child();
  tiny_fork_child();
}

static void stats_at_exit(void) { hak_stats_print(hak_cfg.stats == 2); }

void hak_core_init(void) {
  // Once per address space: a child that re-runs init (its parent forked mid-init) must not
  // register the handlers twice.
  static int registered;
  if (registered) return;
  registered = 1;
  tiny_size_class_init();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  if (hak_cfg.stats) atexit(stats_at_exit);
#if defined(HAKMEM_TIMING_BUILD) && HAKMEM_TIMING_BUILD
  if (hak_cfg.timing) atexit(hak_timing_print);
#endif
}
