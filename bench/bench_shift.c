// Shifting size distribution (the learner's benchmark): bursts of allocations followed by
// frees, in a size band that changes every phase (1–2 KiB, 4–8 KiB, 16–32 KiB, 2–4 KiB, then
// again). A fixed cache capacity suits some bands and not others; a learner can follow.
//   bench_shift ops(20000000) burst(192) phase_ops(2500000) seed(42)
#include "bench_common.h"

int main(int argc, char **argv) {
  long ops = bench_arg(argc, argv, 1, 20000000), burst = bench_arg(argc, argv, 2, 192);
  long phase_ops = bench_arg(argc, argv, 3, 2500000);
  uint64_t seed = (uint64_t)bench_arg(argc, argv, 4, 42);
  static const size_t band[4][2] = {{1024, 2048}, {4096, 8192}, {16384, 32768}, {2048, 4096}};
  void **v = calloc((size_t)burst, sizeof *v);
  double t0 = bench_now();
  long done = 0;
  while (done < ops) {
    const size_t *b = band[(done / phase_ops) % 4];
    for (long i = 0; i < burst; i++) {
      size_t n = b[0] + bench_rng(&seed) % (b[1] - b[0]);
      uint8_t *p = malloc(n);
      p[0] = p[n - 1] = (uint8_t)i;
      v[i] = p;
    }
    for (long i = 0; i < burst; i++) free(v[i]);
    done += 2 * burst;
  }
  double t1 = bench_now();
  free(v);
  bench_report("shift", (double)done, t1 - t0, NULL);
  return 0;
}
