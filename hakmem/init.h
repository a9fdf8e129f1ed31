// init.h — process-wide initialisation (config from environ, fork handlers, exit report).
// Safe to call from inside malloc: it never allocates and tolerates re-entry.
#ifndef HAKMEM_INIT_H
#define HAKMEM_INIT_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Registered initialisation: a module that needs work done once per process, after the
// configuration is read and before the first allocation is served, declares
//   HAK_INIT_STEP(HAK_INIT_TIER, my_init);
// The steps live in one linker section that hak_global_init walks, lowest order first, so
// nothing below calls up into the modules that register (no weak hooks, no call circles).
enum { HAK_INIT_TIER = 0, HAK_INIT_CORE = 1, HAK_INIT_ORDERS = 2 };
typedef struct {
  int order;
  void (*fn)(void);
} hak_init_step_t;
#define HAK_INIT_STEP(ord, func)                                                                           \
  static const hak_init_step_t hak_init_step_##func                                                        \
      __attribute__((used, section("hak_init_steps"), aligned(sizeof(void *)))) = {(ord), (func)}

// Every call after the first is one load and a predicted branch (inline).
#define HAK_INIT_DONE ((uint64_t)2)
extern _Atomic uint64_t hak_init_state;
void hak_global_init_slow(void);
static inline void hak_global_init(void) {
  if (__builtin_expect(atomic_load_explicit(&hak_init_state, memory_order_acquire) == HAK_INIT_DONE, 1)) return;
  hak_global_init_slow();
}

#ifdef __cplusplus
}
#endif

#endif
