// init.h — process-wide initialisation (config from environ, fork handlers, exit report).
// Safe to call from inside malloc: it never allocates and tolerates re-entry.
#ifndef HAKMEM_INIT_H
#define HAKMEM_INIT_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
