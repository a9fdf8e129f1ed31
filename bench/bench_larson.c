// larson-style server simulation, the seeds' argument form:
//   bench_larson seconds min max chunks_per_thread rounds seed threads
// Each thread replaces random chunks of its array (free + malloc of a random size). After
// each round the arrays rotate between threads, so most frees are of blocks another thread
// allocated (cross-thread frees).
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

static long g_min, g_max, g_chunks, g_rounds, g_threads;
static double g_secs;
static void ***g_arrays;
static pthread_barrier_t g_barrier;
static atomic_long g_ops;
static atomic_int g_stop;

static void *worker(void *arg) {
  long id = (long)arg;
  uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
  long ops = 0;
  double deadline = bench_now() + g_secs;
  for (long round = 0;; round++) {
    void **a = g_arrays[(id + round) % g_threads];
    for (long i = 0; i < g_chunks * 4; i++) {
      uint64_t r = bench_rng(&seed);
      long k = (long)(r % (uint64_t)g_chunks);
      free(a[k]);
      size_t n = (size_t)g_min + (size_t)((r >> 32) % (uint64_t)(g_max - g_min + 1));
      uint8_t *p = malloc(n);
      p[0] = 1;
      a[k] = p;
      ops++;
    }
    if (id == 0 && (bench_now() > deadline || (g_rounds > 0 && round + 1 >= g_rounds * 1000))) atomic_store(&g_stop, 1);
    // The stop flag is read only between the two barriers, so every thread takes the same
    // decision (a read at the loop head could see it one round early and desert a barrier).
    pthread_barrier_wait(&g_barrier);
    int stop = atomic_load(&g_stop);
    pthread_barrier_wait(&g_barrier);
    if (stop) break;
  }
  atomic_fetch_add(&g_ops, ops);
  return NULL;
}

int main(int argc, char **argv) {
  g_secs = (double)bench_arg(argc, argv, 1, 2);
  g_min = bench_arg(argc, argv, 2, 8);
  g_max = bench_arg(argc, argv, 3, 1024);
  g_chunks = bench_arg(argc, argv, 4, 1000);
  g_rounds = bench_arg(argc, argv, 5, 0);
  uint64_t seed = (uint64_t)bench_arg(argc, argv, 6, 12345);
  g_threads = bench_arg(argc, argv, 7, 2);
  g_arrays = malloc(sizeof(void **) * (size_t)g_threads);
  for (long t = 0; t < g_threads; t++) {
    g_arrays[t] = malloc(sizeof(void *) * (size_t)g_chunks);
    for (long k = 0; k < g_chunks; k++)  // allocated by main, freed by the workers
      g_arrays[t][k] = malloc((size_t)g_min + (size_t)(bench_rng(&seed) % (uint64_t)(g_max - g_min + 1)));
  }
  pthread_barrier_init(&g_barrier, NULL, (unsigned)g_threads);
  pthread_t th[256];
  double t0 = bench_now();
  for (long t = 0; t < g_threads; t++) pthread_create(&th[t], NULL, worker, (void *)t);
  for (long t = 0; t < g_threads; t++) pthread_join(th[t], NULL);
  double t1 = bench_now();
  for (long t = 0; t < g_threads; t++) {
    for (long k = 0; k < g_chunks; k++) free(g_arrays[t][k]);
    free(g_arrays[t]);
  }
  char extra[64];
  snprintf(extra, sizeof extra, "threads=%ld", g_threads);
  bench_report("larson", (double)atomic_load(&g_ops), t1 - t0, extra);
  return 0;
}
