// Uses only hakmem_ext.h and plain malloc: prints whether HAKMEM is present and owns malloc.
// ext_header_test runs it without HAKMEM, with LD_PRELOAD=libhakmem.so, and dlopen()s the
// dlopen-safe library from it (argv[1]).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem_ext.h"

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
static malloc_fn dl_malloc;
static free_fn dl_free;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 100000; i++) {
    char *p = dl_malloc(16 + i % 2000);
    p[0] = 1;
    dl_free(p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  void *p = malloc(100);
  hak_stats_t s;
  int have = hak_ext_stats(&s) == 0;
  printf("present=%d is_malloc=%d owns_malloc_block=%d", hak_ext_present(), hak_ext_is_malloc(), hak_ext_owns(p));
  if (have) printf(" tiny_live_blocks=%lu check=%ld", (unsigned long)s.tiny_live_blocks, (long)hak_ext_check());
  printf("\n");
  free(p);
  if (argc > 1) {  // dlopen the dlopen-safe library late, after threads and TLS are set up
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      printf("dlopen failed: %s\n", dlerror());
      return 1;
    }
    dl_malloc = (malloc_fn)dlsym(h, "hak_malloc");
    dl_free = (free_fn)dlsym(h, "hak_free");
    size_t (*check)(void) = (size_t(*)(void))dlsym(h, "hak_check_integrity");
    if (!dl_malloc || !dl_free || !check) return 1;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("dlopen: 2 threads x 100000 hak_malloc/hak_free, integrity violations %zu\n", check());
    return check() != 0;
  }
  return 0;
}
