// internal.h — compiler helpers shared by every HAKMEM box. Owns no state.
#ifndef HAKMEM_INTERNAL_H
#define HAKMEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/flags.h"

#define HAK_LIKELY(x) __builtin_expect(!!(x), 1)
#define HAK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HAK_INLINE static inline __attribute__((always_inline))
#define HAK_NOINLINE __attribute__((noinline))
#define HAK_COLD __attribute__((noinline, cold))

// The OS page (x86-64 / aarch64 Linux with 4 KiB pages): the unit of every mapping.
#define HAK_OS_PAGE ((size_t)4096)

// Thread-local storage model. The LD_PRELOAD library and static links use initial-exec (a
// single %fs-relative load on the fast path); the dlopen-safe variant is built with
// HAKMEM_TLS_DYNAMIC, which costs a __tls_get_addr call but can be loaded at any time.
#if HAKMEM_TLS_DYNAMIC
#define HAK_TLS __thread __attribute__((tls_model("global-dynamic")))
#else
#define HAK_TLS __thread __attribute__((tls_model("initial-exec")))
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAK_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define HAK_TSAN 1
#endif
#if __has_feature(memory_sanitizer)
#define HAK_MSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(HAK_ASAN)
#define HAK_ASAN 1
#endif

// Relaxed atomics on plain fields that are read racily by design (e.g. the registry).
#define HAK_LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define HAK_STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

#define HAK_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uintptr_t)(a)-1))

#endif
