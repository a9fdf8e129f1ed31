// MSan probe: a branch on uninitialised heap memory. Must FAIL under --config=msan.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  int *p = malloc(4 * sizeof(int));
  if (p[2] == 42) printf("forty-two\n");
  free(p);
  return 0;
}
