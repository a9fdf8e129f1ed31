// Prints this process's VmSize (kB) as main starts, after one malloc: what a C program
// pays in address space for its allocator. hardening_test.sh compares it with and without
// LD_PRELOAD=libhakmem.so.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  free(malloc(64));
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmSize:", 7) == 0) printf("%ld\n", strtol(line + 7, NULL, 10));
  if (f) fclose(f);
  return 0;
}
