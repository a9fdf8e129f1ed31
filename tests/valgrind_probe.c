// Valgrind probe: a use-after-free inside a block served by hak_malloc. Built with
// --//cfg:valgrind=true, memcheck must report "Invalid write" (ci/valgrind_check.sh).
#include <stdio.h>

#include "hakmem/hakmem.h"

int main(void) {
  volatile char *p = hak_malloc(64);
  p[0] = 1;
  hak_free((void *)p);
  p[8] = 2;  // use after free
  printf("done\n");
  return 0;
}
