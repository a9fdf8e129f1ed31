// init.c — process-wide initialisation, below every tier. Runs inside the first malloc, so
// it must not allocate: the environment is read from `environ`, and a re-entrant call from
// the initialising thread returns at once with the defaults in place. The modules above
// (size classes, fork handlers, exit report) register their steps with HAK_INIT_STEP, so
// the tiers can call hak_global_init without this file knowing any of them.
#include "hakmem/init.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "hakmem/config.h"
#include "hakmem/internal.h"
#include "hakmem/os.h"
#include "hakmem/freelink.h"
#include "hakmem/track.h"

extern char **environ;

// Bounds of the hak_init_steps section (the linker defines them when any step exists).
extern const hak_init_step_t __start_hak_init_steps[] __attribute__((weak));
extern const hak_init_step_t __stop_hak_init_steps[] __attribute__((weak));

// Once per address space: a child that re-runs init (its parent forked mid-init) must not
// register fork handlers or exit reports twice.
static int steps_started;

static void run_steps(void) {
  if (steps_started || !__start_hak_init_steps) return;
  steps_started = 1;
  for (int order = 0; order < HAK_INIT_ORDERS; order++)
    for (const hak_init_step_t *s = __start_hak_init_steps; s < __stop_hak_init_steps; s++)
      if (s->order == order) s->fn();
}

// State word: 0 = not started, DONE = finished, else (pid << 1) | 1 = running in process pid.
// Keeping the pid lets a forked child that inherited "running" (the initialising thread
// did not survive the fork) take over instead of waiting forever.
_Atomic uint64_t hak_init_state;
static HAK_TLS int init_owner;

static void run_init(void) {
  init_owner = 1;
  // The free-list key first: no list exists yet, and once one does the key never changes
  // (a forked child re-running init keeps its parent's key and lists).
  if (!hak_link_key) {
    // A low nibble other than 0: links are 16-byte aligned, so an aligned address written
    // into a free block (what an attacker writes) decodes misaligned and is caught.
    uintptr_t k = (uintptr_t)hak_os_random64();
    hak_link_key = (k & ~(uintptr_t)15) | (1 + (k & 15) % 15);
  }
  hak_config_load(environ);
  run_steps();
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

// Initialise before main, while the process still has one thread, and not only at the first
// allocation: the fork handlers are then registered before the program can fork. A child
// forked from a multi-threaded parent before HAKMEM's first use would otherwise initialise
// itself with no fork handler having run, and could start the decay thread, which after a
// multi-threaded fork is unsafe (TSan aborts the child: stress_fork_smoke failed so about
// one run in six).
__attribute__((constructor)) static void init_early(void) { hak_global_init_slow(); }
