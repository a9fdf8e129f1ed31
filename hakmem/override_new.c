// override_new.c — every C++ operator new/delete form, forwarding to the hak_* engine. The
// plain and sized forms inline malloc's and free's fast paths (front_fast.h), as malloc()
// and free() do: a C++ program's new/delete pair costs no extra call or PLT jump.
//
// Written in C under the Itanium-mangled names, so libhakmem.so does not pull libstdc++
// (and its start-up allocations and mappings) into C programs. The C++ runtime pieces the
// standard asks for — the new-handler loop and std::bad_alloc — are reached through weak
// references: in a C++ program libstdc++ is loaded and they resolve; in a C program nothing
// can call operator new in the first place. Built with -fexceptions so that bad_alloc, or
// an exception from a new-handler, unwinds through these frames.
#include <stddef.h>
#include <stdlib.h>

#include "hakmem/front_fast.h"
#include "hakmem/hakmem.h"
#include "hakmem/os.h"

#define HAK_EXPORT __attribute__((visibility("default")))

typedef void (*hak_new_handler_t)(void);
// std::get_new_handler() and std::__throw_bad_alloc() of libstdc++.
extern hak_new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

// Out of memory in a throwing form: the new-handler loop's exit.
static void new_fail(void) {
  if (_ZSt17__throw_bad_allocv) _ZSt17__throw_bad_allocv();
  static const char msg[] = "hakmem: operator new: out of memory and no C++ runtime to throw std::bad_alloc\n";
  hak_os_write_stderr(msg, sizeof msg - 1);
  abort();
}

// Calls the installed new-handler; returns 0 when there is none.
static int new_handler_once(void) {
  hak_new_handler_t h = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
  if (!h) return 0;
  h();
  return 1;
}

static __attribute__((noinline)) void *new_retry(size_t n) {
  for (;;) {
    if (!new_handler_once()) new_fail();
    void *p = hak_malloc(n);
    if (p) return p;
  }
}

// The malloc fast path inline, as malloc() itself has it (override.c): no call into
// hak_malloc, whose exported symbol would also be reached through the PLT.
static inline void *new_impl(size_t n) {
  void *p = front_malloc(n);
  if (HAK_LIKELY(p != NULL)) return p;
  return new_retry(n);
}

static void *new_aligned_impl(size_t n, size_t a) {
  for (;;) {
    void *p = hak_aligned_alloc(a, n);
    if (p) return p;
    if (!new_handler_once()) new_fail();
  }
}

// The nothrow forms return NULL when memory runs out. They do not run the new-handler: a
// handler may throw, and these frames are noexcept to their callers.
HAK_EXPORT void *_Znwm(size_t n) { return new_impl(n); }                                 // new(size_t)
HAK_EXPORT void *_Znam(size_t n) { return new_impl(n); }                                 // new[](size_t)
HAK_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; return front_malloc(n); }
HAK_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; return front_malloc(n); }
HAK_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t a) { return new_aligned_impl(n, a); }
HAK_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t a) { return new_aligned_impl(n, a); }
HAK_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const void *nt) {
  (void)nt;
  return hak_aligned_alloc(a, n);
}
HAK_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const void *nt) {
  (void)nt;
  return hak_aligned_alloc(a, n);
}

HAK_EXPORT void _ZdlPv(void *p) { front_free(p); }                                         // delete(void*)
HAK_EXPORT void _ZdaPv(void *p) { front_free(p); }
HAK_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; front_free(p); }
HAK_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; front_free(p); }
HAK_EXPORT void _ZdlPvm(void *p, size_t n) { (void)n; front_free(p); }                     // delete(void*, size_t)
HAK_EXPORT void _ZdaPvm(void *p, size_t n) { (void)n; front_free(p); }
HAK_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t a) { (void)a; front_free(p); }
HAK_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t a) { (void)a; front_free(p); }
HAK_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const void *nt) {
  (void)a;
  (void)nt;
  hak_free(p);
}
HAK_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const void *nt) {
  (void)a;
  (void)nt;
  hak_free(p);
}
HAK_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t a) { hak_free_aligned_sized(p, a, n); }
HAK_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t a) { hak_free_aligned_sized(p, a, n); }
