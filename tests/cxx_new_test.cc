// Every operator new/delete form goes to HAKMEM when linked with malloc = "//hakmem":
// pointers are HAKMEM's, alignment holds, huge requests throw std::bad_alloc (or return
// nullptr for nothrow), and sized/aligned deletes are accepted.
#include <gtest/gtest.h>

#include <new>
#include <vector>

#include "hakmem/hakmem.h"

namespace {

struct alignas(256) Wide {
  char c[300];
};

TEST(CxxNew, AllFormsAreServedByHakmem) {
  int *a = new int(7);
  EXPECT_TRUE(hak_owns(a));
  delete a;
  int *b = new int[100];
  EXPECT_TRUE(hak_owns(b));
  delete[] b;
  int *c = new (std::nothrow) int(3);
  EXPECT_TRUE(hak_owns(c));
  delete c;
  char *d = new (std::nothrow) char[5000];
  EXPECT_TRUE(hak_owns(d));
  delete[] d;
  Wide *w = new Wide;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w) % 256, 0u);
  EXPECT_TRUE(hak_owns(w));
  delete w;  // sized + aligned delete
  Wide *wa = new Wide[3];
  EXPECT_EQ(reinterpret_cast<uintptr_t>(wa) % 256, 0u);
  delete[] wa;
  Wide *wn = new (std::nothrow) Wide;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(wn) % 256, 0u);
  delete wn;
  void *raw = ::operator new(1000, std::align_val_t(4096));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(raw) % 4096, 0u);
  ::operator delete(raw, 1000, std::align_val_t(4096));
  std::vector<std::vector<int>> v(100, std::vector<int>(100, 1));  // the library's own news
  EXPECT_TRUE(hak_owns(v.data()));
  EXPECT_EQ(hak_check_integrity(), 0u);
}

TEST(CxxNew, HugeRequestsThrowOrReturnNull) {
  size_t huge = static_cast<size_t>(1) << 62;
  EXPECT_THROW(
      {
        char *p = new char[huge];
        delete[] p;
      },
      std::bad_alloc);
  EXPECT_EQ(new (std::nothrow) char[huge], nullptr);
  EXPECT_THROW(::operator new(huge, std::align_val_t(64)), std::bad_alloc);
  EXPECT_EQ(::operator new(huge, std::align_val_t(64), std::nothrow), nullptr);
}

TEST(CxxNew, NewHandlerIsCalledBeforeThrowing) {
  static int calls;
  calls = 0;
  std::set_new_handler([] {
    calls++;
    std::set_new_handler(nullptr);  // second attempt throws
  });
  EXPECT_THROW(::operator new(static_cast<size_t>(1) << 62), std::bad_alloc);
  EXPECT_EQ(calls, 1);
}

}  // namespace
