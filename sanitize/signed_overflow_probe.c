// UBSan probe: signed integer overflow. Must FAIL under --config=ubsan.
#include <limits.h>
#include <stdio.h>

int main(int argc, char **argv) {
  (void)argv;
  int x = INT_MAX - 1 + argc;  // INT_MAX
  x += argc;                   // overflows
  printf("%d\n", x);
  return 0;
}
