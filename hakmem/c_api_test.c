// Plain-C API test (no C++ runtime), so it also runs under --config=msan.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem.h"

#define CHECK(c)                                                  \
  do {                                                            \
    if (!(c)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
      exit(1);                                                    \
    }                                                             \
  } while (0)

static void *churn(void *arg) {
  unsigned long x = (unsigned long)(size_t)arg * 2654435761u + 1;
  void *slots[512] = {0};
  for (int i = 0; i < 200000; i++) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    unsigned k = (unsigned)(x >> 33) % 512;
    if (slots[k]) {
      hak_free(slots[k]);
      slots[k] = NULL;
    } else {
      size_t n = (x >> 20) % 20000;
      unsigned char *p = hak_malloc(n);
      CHECK(p != NULL);
      if (n) p[0] = p[n - 1] = 1;
      slots[k] = p;
    }
  }
  for (int k = 0; k < 512; k++) hak_free(slots[k]);
  return NULL;
}

int main(void) {
  unsigned char *p = hak_calloc(100, 3);
  for (int i = 0; i < 300; i++) CHECK(p[i] == 0);
  p = hak_realloc(p, 5000);
  CHECK(p && p[299] == 0);
  hak_free(p);
  void *out = NULL;
  CHECK(hak_posix_memalign(&out, 256, 1000) == 0 && ((size_t)out & 255) == 0);
  hak_free(out);
  errno = 0;
  CHECK(hak_calloc((size_t)-1, 2) == NULL && errno == ENOMEM);
  pthread_t t[3];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, churn, (void *)i);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  CHECK(hak_check_integrity() == 0);
  hak_stats_t s;
  s.size = sizeof s;
  hak_stats_get(&s);
  CHECK(s.tiny_live_blocks == 0);
  CHECK(s.large_live == 0);
  printf("c_api_test: ok\n");
  return 0;
}
