// decay.h — memory a program stopped using goes back to the OS within a bounded time, even
// when the program is idle afterwards (HAKMEM_DECAY_MS).
//
// A tier that keeps freed memory mapped for reuse (the page heap's dirty spans, the large
// tier's cached mappings) registers a decay step and stamps what it keeps with the time it
// was freed. Memory reused within HAKMEM_DECAY_MS is never released (a program cycling
// through blocks pays no page faults); memory idle for longer is released by a background
// thread, started on the first hak_decay_kick() and stopping itself once no step reports
// anything left to decay. HAKMEM_DECAY_MS=0: no thread, tiers release by their own caps.
#ifndef HAKMEM_DECAY_H
#define HAKMEM_DECAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// A decay step releases what has been idle for at least age_ms at time now_ms and returns
// the bytes it still keeps that may decay later (0: nothing left).
typedef struct {
  size_t (*fn)(uint64_t now_ms, uint64_t age_ms);
} hak_decay_step_t;
#define HAK_DECAY_STEP(func)                                                                              \
  static const hak_decay_step_t hak_decay_step_##func                                                     \
      __attribute__((used, section("hak_decay_steps"), aligned(sizeof(void *)))) = {(func)}

// Whether something stamped at stamp_ms has been idle for age_ms at now_ms. A pass reads its
// clock once and then the stamps: one written in between (a thread used the memory just now)
// is later than now_ms and means "not idle", not an unsigned wrap to 2^64 ms.
static inline int hak_decay_idle(uint64_t now_ms, uint64_t stamp_ms, uint64_t age_ms) {
  return now_ms >= stamp_ms && now_ms - stamp_ms >= age_ms;
}

// Called by a tier after it kept freed memory: starts the background thread if it is not
// running (one relaxed load when it is). Call with no allocator lock held.
void hak_decay_kick(void);
// Runs every step once now (tests, and the thread's loop); returns the bytes still kept.
size_t hak_decay_run(void);
// Excludes decay passes (held by each pass): the integrity checker, which needs the
// allocator quiescent, and the fork handlers take it first.
void hak_decay_lock(void);
int hak_decay_held_by(int tid);
void hak_decay_unlock(void);
// Whether the background thread runs (tests).
int hak_decay_running(void);
// In a fork child: the thread did not survive the fork, and none is started there (a
// multi-threaded parent's child may only call async-signal-safe functions before exec);
// the child releases by the tiers' caps and malloc_trim, as with HAKMEM_DECAY_MS=0.
void hak_decay_fork_child(void);

#ifdef __cplusplus
}
#endif

#endif
