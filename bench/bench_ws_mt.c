// Working-set benchmark with threads, used for the mid/pool/large profiles:
//   bench_ws_mt name iterations ws min max threads touch
// Each thread keeps its own working set of `ws` blocks and replaces a random one per
// iteration; touch=1 writes every page of each new block (the seeds' "vm"/large scenario).
// Reports rss_before_kb (before the threads start) and rss_after_trim_kb (after every block
// is freed and malloc_trim(0)): how much memory the allocator gives back.
#include <malloc.h>
#include <pthread.h>

#include "bench_common.h"

static long g_iters, g_ws, g_min, g_max, g_touch;

static void *worker(void *arg) {
  uint64_t seed = 42 + (uint64_t)(long)arg * 7919;
  void **slot = calloc((size_t)g_ws, sizeof *slot);
  for (long i = 0; i < g_iters; i++) {
    uint64_t r = bench_rng(&seed);
    size_t k = r % (uint64_t)g_ws, n = (size_t)g_min + (size_t)((r >> 24) % (uint64_t)(g_max - g_min + 1));
    free(slot[k]);
    uint8_t *p = malloc(n);
    if (g_touch)
      for (size_t off = 0; off < n; off += 4096) p[off] = 1;
    else
      p[0] = p[n - 1] = 1;
    slot[k] = p;
  }
  for (long k = 0; k < g_ws; k++) free(slot[k]);
  free(slot);
  return NULL;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "ws_mt";
  g_iters = bench_arg(argc, argv, 2, 1000000);
  g_ws = bench_arg(argc, argv, 3, 256);
  g_min = bench_arg(argc, argv, 4, 8192);
  g_max = bench_arg(argc, argv, 5, 32768);
  long threads = bench_arg(argc, argv, 6, 2);
  g_touch = bench_arg(argc, argv, 7, 0);
  pthread_t th[64];
  long rss_before = bench_rss_kb();
  double t0 = bench_now();
  for (long t = 0; t < threads; t++) pthread_create(&th[t], NULL, worker, (void *)t);
  for (long t = 0; t < threads; t++) pthread_join(th[t], NULL);
  double t1 = bench_now();
  malloc_trim(0);
  char extra[128];
  snprintf(extra, sizeof extra, "threads=%ld rss_before_kb=%ld rss_after_trim_kb=%ld", threads, rss_before, bench_rss_kb());
  bench_report(name, (double)(g_iters * threads), t1 - t0, extra);
  return 0;
}
