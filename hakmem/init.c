// init.c — process-wide initialisation, below every tier. Runs inside the first malloc, so
// it must not allocate: the environment is read from `environ`, and a re-entrant call from
// the initialising thread returns at once with the defaults in place. The core library's
// part (fork handlers, exit report) is reached through a weak hook so the tiers can call
// hak_global_init without depending on the core library.
#include "hakmem/init.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "hakmem/config.h"
#include "hakmem/internal.h"

extern char **environ;

void hak_core_init(void) __attribute__((weak));

// State word: 0 = not started, DONE = finished, else (pid << 1) | 1 = running in process pid.
// Keeping the pid lets a forked child that inherited "running" (the initialising thread
// did not survive the fork) take over instead of waiting forever.
_Atomic uint64_t hak_init_state;
static HAK_TLS int init_owner;

static void run_init(void) {
  init_owner = 1;
  hak_config_load(environ);
  if (hak_core_init) hak_core_init();
  atomic_store_explicit(&hak_init_state, HAK_INIT_DONE, memory_order_release);
  init_owner = 0;
}

void hak_global_init_slow(void) {
  if (HAK_LIKELY(atomic_load_explicit(&hak_init_state, memory_order_acquire) == HAK_INIT_DONE)) return;
  if (init_owner) return;  // re-entered from pthread_atfork/atexit: defaults are usable
  uint64_t mine = ((uint64_t)getpid() << 1) | 1, seen = 0;
  if (atomic_compare_exchange_strong(&hak_init_state, &seen, mine)) {
    run_init();
    return;
  }
  while ((seen = atomic_load_explicit(&hak_init_state, memory_order_acquire)) != HAK_INIT_DONE) {
    if (seen != mine && (seen & 1) && atomic_compare_exchange_strong(&hak_init_state, &seen, mine)) {
      run_init();  // inherited across fork from a thread that no longer exists
      return;
    }
    sched_yield();
  }
}
