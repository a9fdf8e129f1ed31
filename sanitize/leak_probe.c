// LSan probe: memory that is never freed. Must FAIL under --config=asan.
#include <stdlib.h>

void *volatile sink;
int main(void) {
  sink = malloc(1234);
  sink = NULL;
  return 0;
}
