// String builders: a buffer starts at 8 B and grows by half (x1.5) until it holds a final
// length drawn from 64 B - 8 KiB, then is freed; four builders are live at once, so blocks of
// neighbouring sizes interleave as in a program building several strings.
//   bench_strbuild builders (400000) seed (7)
#include "bench_common.h"

int main(int argc, char **argv) {
  long builders = bench_arg(argc, argv, 1, 400000);
  uint64_t rng = (uint64_t)bench_arg(argc, argv, 2, 7) | 1;
  enum { LIVE = 4 };
  char *buf[LIVE] = {0};
  size_t cap[LIVE] = {0}, len[LIVE] = {0}, want[LIVE] = {0};
  long ops = 0, started = 0;
  double t0 = bench_now();
  while (started < builders || buf[0] || buf[1] || buf[2] || buf[3]) {
    for (int k = 0; k < LIVE; k++) {
      if (!buf[k]) {
        if (started >= builders) continue;
        started++;
        cap[k] = 8;
        len[k] = 0;
        want[k] = 64 + (size_t)(bench_rng(&rng) % (8192 - 64 + 1));
        buf[k] = malloc(cap[k]);
        ops++;
      }
      // Append a chunk of 1-32 bytes, growing by half when it does not fit. Only the first
      // byte of each chunk is written, so the time is the allocator's (realloc, its copy).
      size_t chunk = 1 + (size_t)(bench_rng(&rng) & 31);
      if (len[k] + chunk > want[k]) chunk = want[k] - len[k];
      if (len[k] + chunk > cap[k]) {
        while (len[k] + chunk > cap[k]) cap[k] += cap[k] / 2;
        buf[k] = realloc(buf[k], cap[k]);
        ops++;
      }
      buf[k][len[k]] = (char)('a' + k);  // touch the append point (the copy is realloc's)
      len[k] += chunk;
      if (len[k] >= want[k]) {
        bench_sink = (uint8_t)buf[k][len[k] / 2];
        free(buf[k]);
        buf[k] = NULL;
        ops++;
      }
    }
  }
  bench_report("strbuild", (double)ops, bench_now() - t0, NULL);
  return 0;
}
