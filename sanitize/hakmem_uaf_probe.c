// ASan probe for HAKMEM's own poisoning: a use-after-free of a block served by hak_malloc
// (not by ASan's allocator). Must FAIL under --config=asan with "use-after-poison".
#include <stdio.h>

#include "hakmem/hakmem.h"

int main(void) {
  volatile char *p = hak_malloc(64);
  p[0] = 1;
  hak_free((void *)p);
  p[8] = 2;  // use after free inside HAKMEM-managed memory
  printf("not detected\n");
  return 0;
}
