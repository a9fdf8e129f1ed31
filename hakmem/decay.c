// decay.c — the background release thread and its registered steps (see decay.h).
#include "hakmem/decay.h"

#include <pthread.h>
#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/os.h"

extern const hak_decay_step_t __start_hak_decay_steps[] __attribute__((weak));
extern const hak_decay_step_t __stop_hak_decay_steps[] __attribute__((weak));

// 0: no thread; 1: running (or being started); 2: never (could not be started, or this is
// the child of a fork: starting threads there is unsafe before exec, and TSan forbids it).
static _Atomic int decay_state;

// Tests and mallopt-style callers may change the setting while the thread runs.
static long decay_ms(void) { return __atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED); }

// Held for a whole pass: the integrity checker and fork wait for a pass to finish (lock
// order: first of the allocator's locks, lifecycle.c).
static pthread_mutex_t decay_lock = PTHREAD_MUTEX_INITIALIZER;

int hak_decay_held_by(int tid) { return hak_os_mutex_held_by(&decay_lock, tid); }
void hak_decay_lock(void) { pthread_mutex_lock(&decay_lock); }
void hak_decay_unlock(void) { pthread_mutex_unlock(&decay_lock); }

size_t hak_decay_run(void) {
  size_t kept = 0;
  if (!__start_hak_decay_steps) return 0;
  pthread_mutex_lock(&decay_lock);
  uint64_t age = (uint64_t)decay_ms(), now = hak_os_now_ms();
  for (const hak_decay_step_t *s = __start_hak_decay_steps; s < __stop_hak_decay_steps; s++) kept += s->fn(now, age);
  pthread_mutex_unlock(&decay_lock);
  return kept;
}

static void *decay_main(void *arg) {
  (void)arg;
  for (;;) {
    // Wake twice per decay period: what went idle is released between 1 and 1.5 periods
    // after its last use.
    unsigned period = (unsigned)(decay_ms() / 2);
    hak_os_sleep_ms(period < 10 ? 10 : period);
    if (hak_decay_run()) continue;
    // Nothing left: stop, unless a kick arrived while this thread was deciding (a kick
    // that saw state 1 started nothing, so look again after giving up the state).
    atomic_store_explicit(&decay_state, 0, memory_order_seq_cst);
    if (!hak_decay_run()) return NULL;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&decay_state, &expect, 1)) return NULL;  // another thread took over
  }
}

void hak_decay_kick(void) {
  if (atomic_load_explicit(&decay_state, memory_order_relaxed) || decay_ms() <= 0) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&decay_state, &expect, 1)) return;
  if (hak_os_thread_spawn(decay_main, "hakmem-decay") != 0) atomic_store(&decay_state, 2);
}

int hak_decay_running(void) { return atomic_load(&decay_state) == 1; }

void hak_decay_fork_child(void) { atomic_store(&decay_state, 2); }
