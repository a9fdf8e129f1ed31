// Prints this process's VmSize (kB) as main starts, after one block of each tier (tiny,
// mid, page heap) is live: what a C program pays in address space for its allocator.
// hardening_test.sh compares it with and without LD_PRELOAD=libhakmem.so.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  static const size_t sizes[] = {64, 3000, 100000, 1 << 20};
  void *live[4];
  for (int i = 0; i < 4; i++) {
    live[i] = malloc(sizes[i]);
    if (!live[i]) return 1;
    memset(live[i], 1, sizes[i]);
  }
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmSize:", 7) == 0) printf("%ld\n", strtol(line + 7, NULL, 10));
  if (f) fclose(f);
  for (int i = 0; i < 4; i++) free(live[i]);
  return 0;
}
