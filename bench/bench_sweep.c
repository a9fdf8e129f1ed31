// size sweep across all tiers: for each size, `iters` malloc/free pairs with a working set
// of 64 blocks. Prints one result line per size (throughput per size).
//   bench_sweep iters (200000)
#include "bench_common.h"

int main(int argc, char **argv) {
  long iters = bench_arg(argc, argv, 1, 200000);
  static const size_t sizes[] = {16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304};
  double total_t = 0, total_ops = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    void *slot[64] = {0};
    long n = sizes[s] >= 1048576 ? iters / 50 : iters;
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
      free(slot[i & 63]);
      uint8_t *p = malloc(sizes[s]);
      p[0] = 1;
      slot[i & 63] = p;
    }
    double dt = bench_now() - t0;
    for (int k = 0; k < 64; k++) free(slot[k]);
    total_t += dt;
    total_ops += (double)n;
    printf("sweep size=%zu mops=%.3f\n", sizes[s], (double)n / dt / 1e6);
  }
  bench_report("sweep", total_ops, total_t, NULL);
  return 0;
}
