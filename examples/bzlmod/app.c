// Allocates through plain malloc and checks, through HAKMEM's API, that HAKMEM served it.
#include <stdio.h>
#include <stdlib.h>

#include "hakmem/hakmem.h"

int main(void) {
  void *p = malloc(100), *q = malloc(1 << 20);
  int ok = p && q && hak_owns(p) && hak_owns(q);
  free(p);
  free(q);
  puts(ok ? "bzlmod consumer: HAKMEM served malloc" : "bzlmod consumer: malloc is not HAKMEM");
  return ok ? 0 : 1;
}
