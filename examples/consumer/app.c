// A program that knows nothing about HAKMEM except, optionally, its stats API. The test
// passes only if HAKMEM served the allocations: hak_owns() recognises malloc's pointers
// and HAKMEM's own counters moved.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem.h"

int main(void) {
  hak_stats_t before, after;
  before.size = after.size = sizeof before;
  hak_stats_get(&before);
  char *small[1000];
  for (int i = 0; i < 1000; i++) {
    small[i] = malloc(16 + i);
    memset(small[i], i & 0xff, 16 + i);
  }
  char *mid = malloc(3 << 20);  // the pool tier (page heap)
  memset(mid, 1, 3 << 20);
  char *big = malloc(16 << 20);  // the large tier (a mapping of its own)
  memset(big, 2, 16 << 20);
  hak_stats_get(&after);
  int served = hak_owns(small[0]) && hak_owns(small[999]) && hak_owns(mid) && hak_owns(big) &&
               after.tiny_live_blocks >= before.tiny_live_blocks + 1000 &&
               after.pool_live_blocks >= before.pool_live_blocks + 1 && after.large_live >= before.large_live + 1;
  printf("allocator: %s (tiny live blocks %lu -> %lu, pool live %lu, large live %lu)\n", served ? "HAKMEM" : "NOT HAKMEM",
         (unsigned long)before.tiny_live_blocks, (unsigned long)after.tiny_live_blocks,
         (unsigned long)after.pool_live_blocks, (unsigned long)after.large_live);
  for (int i = 0; i < 1000; i++) free(small[i]);
  free(mid);
  free(big);
  size_t bad = hak_check_integrity();
  if (bad) printf("integrity violations: %zu\n", bad);
  return served && bad == 0 ? 0 : 1;
}
