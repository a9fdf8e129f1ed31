// invalid.c — what happens to a pointer HAKMEM cannot free: one line naming the call, the
// pointer and what it is (wild, interior, double free, corrupted), counted exactly once,
// then HAKMEM_INVALID_FREE's action (abort through the test hook, warn, or pass a foreign
// pointer to the next allocator). The tiers say what is wrong; this module says it.
#define _GNU_SOURCE
#include "hakmem/invalid.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/init.h"
#include "hakmem/internal.h"
#include "hakmem/log.h"
#include "hakmem/os.h"

static _Atomic(hak_abort_hook_t) abort_hook;
static _Atomic(void (*)(void *)) next_free;
static _Atomic(void *(*)(void *, size_t)) next_realloc;
static _Atomic(size_t (*)(void *)) next_usable;
static _Atomic uint64_t invalid_frees;

hak_abort_hook_t hak_set_abort_hook(hak_abort_hook_t hook) { return atomic_exchange(&abort_hook, hook); }
void hak_set_next_free(void (*f)(void *)) { atomic_store(&next_free, f); }
void hak_set_next_allocator(void (*f)(void *), void *(*r)(void *, size_t), size_t (*u)(void *)) {
  atomic_store(&next_free, f);
  atomic_store(&next_realloc, r);
  atomic_store(&next_usable, u);
}

// HAKMEM_INVALID_FREE=pass: a pointer HAKMEM never allocated belongs to the next allocator.
int hak_invalid_pass_foreign(const char *why) {
  hak_global_init();
  return hak_cfg.invalid_free == HAK_INVALID_PASS && strstr(why, "not allocated by HAKMEM") != NULL;
}
uint64_t hak_invalid_free_count(void) { return atomic_load(&invalid_frees); }

// Reports a bad pointer and applies HAKMEM_INVALID_FREE. Returns normally only for warn
// and pass (or when a test hook swallowed the abort).
HAK_COLD void hak_invalid_report(const char *op, void *p, const char *why) {
  hak_global_init();
  int saved = errno;
  atomic_fetch_add(&invalid_frees, 1);
  char msg[200];
  hak_format(msg, sizeof msg, "hakmem: %s(%p): %s", op, p, why);
  long action = hak_cfg.invalid_free;
  if (action == HAK_INVALID_PASS && strstr(why, "not allocated by HAKMEM")) {
    void (*f)(void *) = atomic_load(&next_free);
    if (f) {
      f(p);
      errno = saved;
      return;
    }
  }
  size_t n = strlen(msg);
  msg[n] = '\n';
  hak_os_write_stderr(msg, n + 1);
  msg[n] = 0;
  if (action == HAK_INVALID_ABORT) {
    hak_abort_hook_t hook = atomic_load(&abort_hook);
    if (hook) hook(msg);
    else hak_os_abort();
  }
  errno = saved;
}

void *(*hak_invalid_next_realloc(void))(void *, size_t) { return atomic_load(&next_realloc); }
size_t (*hak_invalid_next_usable(void))(void *) { return atomic_load(&next_usable); }
