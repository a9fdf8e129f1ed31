// realloc growth: string builders growing byte by byte from 8 B to 8 KiB.
//   bench_realloc builders (20000)
#include "bench_common.h"

int main(int argc, char **argv) {
  long builders = bench_arg(argc, argv, 1, 20000);
  double t0 = bench_now();
  long ops = 0;
  for (long b = 0; b < builders; b++) {
    size_t cap = 8, len = 0;
    char *s = malloc(cap);
    while (len < 8192) {
      if (len + 1 >= cap) {
        cap += cap / 8 + 8;  // slow growth: many reallocs per builder
        s = realloc(s, cap);
        ops++;
      }
      s[len++] = 'x';
    }
    bench_sink = (uint8_t)s[len / 2];
    free(s);
  }
  bench_report("realloc_growth", (double)ops, bench_now() - t0, NULL);
  return 0;
}
