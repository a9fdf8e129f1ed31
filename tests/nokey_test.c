// A program that uses up every pthread key before its threads start (legal, rare): HAKMEM
// took its keys at initialisation, before main, so each thread still gets its caches, and
// what the threads freed goes back. With keys taken lazily, the threads fell back to the
// shared dead-thread heap, whose remote frees were drained only at its next allocation and
// whose empty SuperSlabs were never released (150 MB resident after 200 threads, 2.4 MB
// with keys). The decay pass also drains that heap now (tiny_decay).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/decay.h"
#include "hakmem/hakmem.h"

static void *worker(void *arg) {
  uintptr_t seed = (uintptr_t)arg * 2654435761u + 1;
  void *slot[256] = {0};
  for (int i = 0; i < 20000; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    int k = (int)(seed >> 56);
    hak_free(slot[k]);
    size_t n = 16 + (size_t)((seed >> 20) % 2000);
    slot[k] = hak_malloc(n);
    if (!slot[k]) return (void *)1;
    memset(slot[k], 1, 16);
  }
  for (int k = 0; k < 256; k++) hak_free(slot[k]);
  return NULL;
}

int main(void) {
  pthread_key_t k;
  int keys = 0;
  while (pthread_key_create(&k, NULL) == 0) keys++;  // every key the process has left
  for (int wave = 0; wave < 25; wave++) {
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
      if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(wave * 8 + i)) != 0) return 2;
    for (int i = 0; i < 8; i++) {
      void *r;
      pthread_join(t[i], &r);
      if (r) {
        fprintf(stderr, "nokey_test: malloc failed\n");
        return 1;
      }
    }
  }
  hak_decay_run();  // what the background thread does after HAKMEM_DECAY_MS of idle
  hak_decay_run();
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  printf("nokey_test: %d keys taken by the program; superslabs_live %lu, tiny_live_blocks %lu, heaps %lu\n", keys,
         (unsigned long)s.superslabs_live, (unsigned long)s.tiny_live_blocks, (unsigned long)s.heaps);
  if (keys == 0) {
    fprintf(stderr, "nokey_test: could not use up the keys\n");
    return 1;
  }
  // Eight threads at a time, each with its own heap: without a key of its own HAKMEM had
  // put them all on the one dead-thread heap, under one lock (16 s for this test, 0.3 s).
  if (s.heaps < 2) {
    fprintf(stderr, "nokey_test: the threads had no caches of their own (%lu heap)\n", (unsigned long)s.heaps);
    return 1;
  }
  if (s.tiny_live_blocks != 0) {
    fprintf(stderr, "nokey_test: %lu blocks still counted live after every thread freed its own\n",
            (unsigned long)s.tiny_live_blocks);
    return 1;
  }
  // 200 threads' worth of freed memory, 8 at a time: what stays is what the heaps keep for
  // the next thread to adopt, not one set per thread. A heap whose thread used the 30
  // classes of 16 – 2016 B needs more than the 32 slabs of one SuperSlab: two per heap.
  if (s.superslabs_live > 2 * s.heaps) {
    fprintf(stderr, "nokey_test: %lu SuperSlabs still live after the threads exited\n", (unsigned long)s.superslabs_live);
    return 1;
  }
  if (hak_check_integrity() != 0) return 1;
  return 0;
}
