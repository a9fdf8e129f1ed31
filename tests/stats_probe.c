// stats_probe: allocates across every tier, then writes (write(2), no stdio: nothing may
// allocate after the snapshot) some hak_stats_get() fields read by name and the text
// report, and exits; HAKMEM then writes its JSON report at exit (stats_json_test.sh
// compares the three).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hakmem/hakmem_ext.h"  // weak: the sanitizer configs build it without HAKMEM (it then exits 2)
#pragma weak hak_stats_format

static void put(const char *s) {
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(1, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void putnum(const char *name, unsigned long v) {
  char buf[64], digits[24];
  int k = 0;
  do digits[k++] = (char)('0' + v % 10); while ((v /= 10) && k < 23);
  size_t n = strlen(name);
  memcpy(buf, name, n);
  buf[n++] = '=';
  while (k) buf[n++] = digits[--k];
  buf[n++] = '\n';
  buf[n] = 0;
  put(buf);
}

static void *thread_main(void *arg) {
  void **keep = arg;
  for (int i = 0; i < 64; i++) keep[i] = malloc(24 + (size_t)i * 40);
  return NULL;
}

int main(void) {
  static void *keep[64], *big[8];
  pthread_t t;
  pthread_create(&t, NULL, thread_main, keep);
  pthread_join(t, NULL);
  for (int i = 0; i < 8; i++) big[i] = malloc((size_t)(i + 1) << 17);  // page heap, and large
  void *huge = malloc(12 << 20);
  for (int i = 0; i < 32; i++) free(keep[i]);  // remote frees of the exited thread's blocks
  free(big[0]);
  hak_stats_t s;
  if (hak_ext_stats(&s) != 0 || !hak_stats_format) return 2;
  putnum("tiny.refills", s.tiny_refills);
  putnum("tiny.live_blocks", s.tiny_live_blocks);
  putnum("tiny.heaps", s.heaps);
  putnum("tiny.superslabs_live", s.superslabs_live);
  putnum("pool.allocs", s.pool_allocs);
  putnum("pool.live_bytes", s.pool_live_bytes);
  putnum("large.allocs", s.large_allocs);
  putnum("large.live_mappings", s.large_live);
  putnum("large.live_bytes", s.large_live_bytes);
  putnum("mid.depot_blocks", s.mid_depot_blocks);
  putnum("process.invalid_frees", s.invalid_frees);
  putnum("process.os_failures", s.os_failures);
  static char text[8192];
  size_t n = hak_stats_format(text, sizeof text, 0);
  text[n] = 0;
  put("--- text\n");
  put(text);
  (void)huge;
  return 0;
}
