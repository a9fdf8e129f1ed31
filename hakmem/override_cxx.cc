// override_cxx.cc — every C++ operator new/delete form, forwarding to the hak_* engine.
// Throwing forms call the new-handler loop and throw std::bad_alloc, as the standard asks.
#include <cstddef>
#include <new>

#include "hakmem/hakmem.h"

#define HAK_EXPORT __attribute__((visibility("default")))

namespace {

void *new_impl(std::size_t n) {
  for (;;) {
    void *p = hak_malloc(n);
    if (p) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}

void *new_aligned_impl(std::size_t n, std::align_val_t a) {
  for (;;) {
    void *p = hak_aligned_alloc(static_cast<std::size_t>(a), n);
    if (p) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}

template <typename F>
void *nothrow(F f) noexcept {
  try {
    return f();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

HAK_EXPORT void *operator new(std::size_t n) { return new_impl(n); }
HAK_EXPORT void *operator new[](std::size_t n) { return new_impl(n); }
HAK_EXPORT void *operator new(std::size_t n, const std::nothrow_t &) noexcept { return nothrow([&] { return new_impl(n); }); }
HAK_EXPORT void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return nothrow([&] { return new_impl(n); }); }
HAK_EXPORT void *operator new(std::size_t n, std::align_val_t a) { return new_aligned_impl(n, a); }
HAK_EXPORT void *operator new[](std::size_t n, std::align_val_t a) { return new_aligned_impl(n, a); }
HAK_EXPORT void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return nothrow([&] { return new_aligned_impl(n, a); });
}
HAK_EXPORT void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return nothrow([&] { return new_aligned_impl(n, a); });
}

HAK_EXPORT void operator delete(void *p) noexcept { hak_free(p); }
HAK_EXPORT void operator delete[](void *p) noexcept { hak_free(p); }
HAK_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { hak_free(p); }
HAK_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { hak_free(p); }
HAK_EXPORT void operator delete(void *p, std::size_t n) noexcept { hak_free_sized(p, n); }
HAK_EXPORT void operator delete[](void *p, std::size_t n) noexcept { hak_free_sized(p, n); }
HAK_EXPORT void operator delete(void *p, std::align_val_t) noexcept { hak_free(p); }
HAK_EXPORT void operator delete[](void *p, std::align_val_t) noexcept { hak_free(p); }
HAK_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { hak_free(p); }
HAK_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { hak_free(p); }
HAK_EXPORT void operator delete(void *p, std::size_t n, std::align_val_t a) noexcept {
  hak_free_aligned_sized(p, static_cast<std::size_t>(a), n);
}
HAK_EXPORT void operator delete[](void *p, std::size_t n, std::align_val_t a) noexcept {
  hak_free_aligned_sized(p, static_cast<std::size_t>(a), n);
}
