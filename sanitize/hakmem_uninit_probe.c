// MSan probe for HAKMEM's own tracking: a recycled hak_malloc block read before it is
// written. Must FAIL under --config=msan.
#include <stdio.h>

#include "hakmem/hakmem.h"

int main(void) {
  int *p = hak_malloc(64);
  p[3] = 42;
  hak_free(p);
  int *q = hak_malloc(64);  // same class: the block is recycled, old bytes are still there
  if (q[3] == 42) printf("read stale data\n");
  hak_free(q);
  return 0;
}
