// Bursts larger than a thread cache: one size, a working set of `run` blocks allocated in one
// burst and freed in the same order (FIFO), cycled. A fixed-size cache flushes and refills on
// every burst longer than itself; an adaptive one grows to the burst.
//   bench_burst ops (40000000) size (256) run (256)
#include "bench_common.h"

int main(int argc, char **argv) {
  long ops = bench_arg(argc, argv, 1, 40000000), size = bench_arg(argc, argv, 2, 256), run = bench_arg(argc, argv, 3, 256);
  if (run < 1) run = 1;
  void **blk = malloc((size_t)run * sizeof *blk);
  if (!blk) return 1;
  long done = 0;
  double t0 = bench_now();
  while (done < ops) {
    for (long i = 0; i < run; i++) {
      blk[i] = malloc((size_t)size);
      ((volatile char *)blk[i])[0] = (char)i;
    }
    for (long i = 0; i < run; i++) free(blk[i]);
    done += 2 * run;
  }
  double secs = bench_now() - t0;
  free(blk);
  bench_report("burst", (double)done, secs, NULL);
  return 0;
}
