// Fast-path loop for instruction counting under callgrind: malloc+free of a cached 64 B block.
//   bench_fastpath pairs (1000000)
#include "bench_common.h"

int main(int argc, char **argv) {
  long pairs = bench_arg(argc, argv, 1, 1000000);
  void *warm = malloc(64);  // initialises the thread and fills the cache
  free(warm);
  for (long i = 0; i < pairs; i++) {
    void *p = malloc(64);
    bench_sink = *(volatile uint8_t *)p;
    free(p);
  }
  printf("fastpath pairs=%ld allocator=%s\n", pairs, bench_allocator());
  return 0;
}
