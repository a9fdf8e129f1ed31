// decay.c — the background release thread and its registered steps (see decay.h).
#include "hakmem/decay.h"

#include <pthread.h>
#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/os.h"

extern const hak_decay_step_t __start_hak_decay_steps[] __attribute__((weak));
extern const hak_decay_step_t __stop_hak_decay_steps[] __attribute__((weak));

// 0: no thread; 1: running (or being started); 2: never (this is the child of a fork:
// starting threads there is unsafe before exec, and TSan forbids it); 3: never, because it
// could not be started: the freeing threads run the passes (decay_inline).
static _Atomic int decay_state;

// Tests and mallopt-style callers may change the setting while the thread runs.
static long decay_ms(void) { return __atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED); }

// Held for a whole pass: the integrity checker and fork wait for a pass to finish (lock
// order: first of the allocator's locks, lifecycle.c).
static pthread_mutex_t decay_lock = PTHREAD_MUTEX_INITIALIZER;

int hak_decay_held_by(int tid) { return hak_os_mutex_held_by(&decay_lock, tid); }
void hak_decay_lock(void) { pthread_mutex_lock(&decay_lock); }
void hak_decay_unlock(void) { pthread_mutex_unlock(&decay_lock); }

static size_t decay_pass_locked(void) {
  size_t kept = 0;
  uint64_t age = (uint64_t)decay_ms(), now = hak_os_now_ms();
  for (const hak_decay_step_t *s = __start_hak_decay_steps; s < __stop_hak_decay_steps; s++) kept += s->fn(now, age);
  return kept;
}

size_t hak_decay_run(void) {
  if (!__start_hak_decay_steps) return 0;
  pthread_mutex_lock(&decay_lock);
  size_t kept = decay_pass_locked();
  pthread_mutex_unlock(&decay_lock);
  return kept;
}

// Without the thread (it could not be started) the threads that
// free memory run the passes themselves, at most one per half period, from the kick they
// make anyway (no lock of the allocator is held there). trylock: a thread never waits for
// another's pass.
static _Atomic uint64_t decay_inline_next_ms;
static void decay_inline(void) {
  uint64_t now = hak_os_now_ms(), next = atomic_load_explicit(&decay_inline_next_ms, memory_order_relaxed);
  if (now < next || !__start_hak_decay_steps) return;
  uint64_t half = (uint64_t)decay_ms() / 2;
  if (!atomic_compare_exchange_strong(&decay_inline_next_ms, &next, now + (half < 10 ? 10 : half))) return;
  if (pthread_mutex_trylock(&decay_lock) != 0) return;
  decay_pass_locked();
  pthread_mutex_unlock(&decay_lock);
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
  int state = atomic_load_explicit(&decay_state, memory_order_relaxed);
  if (state == 3 && decay_ms() > 0) decay_inline();
  if (state || decay_ms() <= 0) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&decay_state, &expect, 1)) return;
  if (hak_os_thread_spawn(decay_main, "hakmem-decay") != 0) {
    atomic_store(&decay_state, 3);
    decay_inline();
  }
}

int hak_decay_running(void) { return atomic_load(&decay_state) == 1; }

void hak_decay_fork_child(void) { atomic_store(&decay_state, 2); }
