// init.c — process-wide initialisation, below every tier. Runs inside the first malloc, so
// it must not allocate: the environment is read from `environ`, and a re-entrant call from
// the initialising thread returns at once with the defaults in place. The core library's
// part (fork handlers, exit report) is reached through a weak hook so the tiers can call
// hak_global_init without depending on the core library.
#include "hakmem/init.h"

#include <sched.h>
#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/internal.h"

extern char **environ;

void hak_core_init(void) __attribute__((weak));

static _Atomic int init_state;  // 0 = not started, 1 = running, 2 = done
static HAK_TLS int init_owner;

void hak_global_init(void) {
  if (HAK_LIKELY(atomic_load_explicit(&init_state, memory_order_acquire) == 2)) return;
  int expected = 0;
  if (atomic_compare_exchange_strong(&init_state, &expected, 1)) {
    init_owner = 1;
    hak_config_load(environ);
    if (hak_core_init) hak_core_init();
    atomic_store_explicit(&init_state, 2, memory_order_release);
    init_owner = 0;
    return;
  }
  if (init_owner) return;  // re-entered from pthread_atfork/atexit: defaults are usable
  while (atomic_load_explicit(&init_state, memory_order_acquire) != 2) sched_yield();
}
