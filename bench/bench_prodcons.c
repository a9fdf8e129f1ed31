// producer/consumer: one thread allocates, the other frees, through a bounded ring.
//   bench_prodcons items (4M) min (16) max (1024)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "bench_common.h"

#define RING 4096
static _Atomic(void *) ring[RING];
static long g_items, g_min, g_max;

static void *producer(void *arg) {
  (void)arg;
  uint64_t seed = 7;
  for (long i = 0; i < g_items; i++) {
    size_t n = (size_t)g_min + (size_t)(bench_rng(&seed) % (uint64_t)(g_max - g_min + 1));
    uint8_t *p = malloc(n);
    p[0] = (uint8_t)i;
    _Atomic(void *) *slot = &ring[i % RING];
    while (atomic_load_explicit(slot, memory_order_acquire)) sched_yield();
    atomic_store_explicit(slot, p, memory_order_release);
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  for (long i = 0; i < g_items; i++) {
    _Atomic(void *) *slot = &ring[i % RING];
    void *p;
    while (!(p = atomic_exchange_explicit(slot, NULL, memory_order_acq_rel))) sched_yield();
    bench_sink = *(uint8_t *)p;
    free(p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  g_items = bench_arg(argc, argv, 1, 4000000);
  g_min = bench_arg(argc, argv, 2, 16);
  g_max = bench_arg(argc, argv, 3, 1024);
  pthread_t a, b;
  double t0 = bench_now();
  pthread_create(&a, NULL, producer, NULL);
  pthread_create(&b, NULL, consumer, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  bench_report("prodcons", (double)g_items, bench_now() - t0, NULL);
  return 0;
}
