// init.c — one-time process initialisation. Runs inside the first malloc, so it must not
// allocate: the environment is read from `environ`, fork handlers are registered with
// pthread_atfork (glibc keeps the first handlers in static storage), and a re-entrant call
// from the initialising thread returns at once with the defaults in place.
#include "hakmem/init.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/internal.h"
#include "hakmem/large/large.h"
#include "hakmem/tiny/heap.h"

extern char **environ;

static _Atomic int init_state;  // 0 = not started, 1 = running, 2 = done
static HAK_TLS int init_owner;

static void fork_prepare(void) {
  // Lock order (documented in README "fork"): tiny heap list, dead-thread heap, SuperSlab
  // cache, then the large cache.
  tiny_fork_prepare();
  large_fork_prepare();
}
static void fork_parent(void) {
  large_fork_parent();
  tiny_fork_parent();
}
static void fork_child(void) {
  large_fork_child();
  tiny_fork_child();
}

static void stats_at_exit(void) { hak_stats_print(hak_cfg.stats == 2); }

void hak_global_init(void) {
  if (HAK_LIKELY(atomic_load_explicit(&init_state, memory_order_acquire) == 2)) return;
  int expected = 0;
  if (atomic_compare_exchange_strong(&init_state, &expected, 1)) {
    init_owner = 1;
    hak_config_load(environ);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (hak_cfg.stats) atexit(stats_at_exit);
    atomic_store_explicit(&init_state, 2, memory_order_release);
    init_owner = 0;
    return;
  }
  if (init_owner) return;  // re-entered from pthread_atfork/atexit: defaults are usable
  while (atomic_load_explicit(&init_state, memory_order_acquire) != 2) sched_yield();
}
