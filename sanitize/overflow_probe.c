// ASan probe: a heap buffer overflow. Must FAIL under --config=asan.
#include <stdlib.h>
#include <string.h>

int main(void) {
  volatile char *p = malloc(16);
  p[16] = 1;  // one past the end
  int r = p[16];
  free((void *)p);
  return r == 1 ? 0 : 0;
}
