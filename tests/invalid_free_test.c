// HAKMEM_INVALID_FREE with the override linked: a pointer from the next allocator in the
// chain (glibc, reached with dlsym(RTLD_NEXT)) handed to free():
//   pass  -> forwarded to glibc's free, no message, program continues
//   warn  -> one line naming the pointer, program continues
//   abort -> one line naming the pointer, then abort
// invalid_free_test.sh runs this binary under each setting.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  void *(*libc_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  if (!libc_malloc) return 2;
  for (int i = 0; i < 100; i++) {
    void *p = libc_malloc(100 + i);  // glibc's block
    free(p);                          // HAKMEM's free
  }
  int on_stack;
  if (getenv("TRY_STACK")) free(&on_stack);
  printf("survived\n");
  return 0;
}
