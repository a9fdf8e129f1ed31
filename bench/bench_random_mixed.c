// random-mixed: iterations (10M), working set (256), seed (42), min (16), max (1024).
// Each iteration frees a random slot of the working set and allocates a new random size.
#include "bench_common.h"

int main(int argc, char **argv) {
  long iters = bench_arg(argc, argv, 1, 10000000), ws = bench_arg(argc, argv, 2, 256);
  uint64_t seed = (uint64_t)bench_arg(argc, argv, 3, 42);
  long lo = bench_arg(argc, argv, 4, 16), hi = bench_arg(argc, argv, 5, 1024);
  void **slot = calloc((size_t)ws, sizeof *slot);
  double t0 = bench_now();
  for (long i = 0; i < iters; i++) {
    uint64_t r = bench_rng(&seed);
    size_t k = r % (uint64_t)ws, n = (size_t)lo + (size_t)((r >> 32) % (uint64_t)(hi - lo + 1));
    free(slot[k]);
    uint8_t *p = malloc(n);
    p[0] = (uint8_t)i;
    slot[k] = p;
  }
  double t1 = bench_now();
  for (long k = 0; k < ws; k++) free(slot[k]);
  free(slot);
  bench_report(lo == hi ? "fixed" : "random_mixed", (double)iters, t1 - t0, NULL);
  return 0;
}
