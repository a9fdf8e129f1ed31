// Thread churn: each generation a short-lived thread allocates `blocks` blocks (16 B - 4 KiB,
// every byte written), frees a tenth itself, hands the rest to the main thread and exits;
// main frees them after the thread is gone, and forks a child that exits at once every 16th
// generation. Memory of exited threads that is never reused or returned shows as peak RSS.
//   bench_thread_churn generations (300) blocks (20000)
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

typedef struct {
  void **out;
  long n, handed;
  uint64_t seed;
} gen_t;

static void *worker(void *arg) {
  gen_t *g = arg;
  g->handed = 0;
  for (long i = 0; i < g->n; i++) {
    size_t sz = 16 + (size_t)(bench_rng(&g->seed) % 4081);
    char *p = malloc(sz);
    memset(p, (int)i, sz);
    if (i % 10 == 0) free(p);
    else g->out[g->handed++] = p;
  }
  return NULL;
}

int main(int argc, char **argv) {
  long gens = bench_arg(argc, argv, 1, 300), n = bench_arg(argc, argv, 2, 20000);
  void **out = malloc((size_t)n * sizeof *out);
  if (!out) return 1;
  long ops = 0;
  double t0 = bench_now();
  for (long g = 0; g < gens; g++) {
    gen_t gen = {out, n, 0, 0x9e3779b97f4a7c15ull * (uint64_t)(g + 1)};
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &gen) != 0) return 1;
    pthread_join(t, NULL);
    for (long i = 0; i < gen.handed; i++) free(out[i]);
    ops += n + gen.handed + n / 10;
    if (g % 16 == 15) {
      pid_t pid = fork();
      if (pid == 0) _exit(0);
      if (pid > 0) waitpid(pid, NULL, 0);
    }
  }
  double secs = bench_now() - t0;
  char extra[64];
  snprintf(extra, sizeof extra, "final_rss_kb=%ld", bench_rss_kb());
  free(out);
  bench_report("thread_churn", (double)ops, secs, extra);
  return 0;
}
