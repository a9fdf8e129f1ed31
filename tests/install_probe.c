// install_probe.c — built by install_test.sh against an installed tree with
// `cc probe.c $(pkg-config --cflags --libs hakmem)`, outside Bazel. Exits 0 only if
// HAKMEM (the installed libhakmem.so) served this program's malloc, calloc, realloc and
// operator-new-free allocations and its structures check clean.
#include <hakmem/hakmem.h>
#include <hakmem/hakmem_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  if (!hak_ext_is_malloc()) { fprintf(stderr, "install_probe: HAKMEM does not own malloc\n"); return 1; }
  void *blocks[64];
  for (int i = 0; i < 64; i++) {
    size_t n = (size_t)16 << (i % 17);  // 16 B .. 1 MiB: every tier
    blocks[i] = (i % 3 == 0) ? calloc(1, n) : malloc(n);
    if (!blocks[i]) { fprintf(stderr, "install_probe: malloc(%zu) failed\n", n); return 1; }
    memset(blocks[i], 0x5a, n);
    if (!hak_owns(blocks[i])) { fprintf(stderr, "install_probe: block %p of %zu bytes is not HAKMEM's\n", blocks[i], n); return 1; }
  }
  blocks[0] = realloc(blocks[0], 100000);
  if (!blocks[0] || !hak_owns(blocks[0])) { fprintf(stderr, "install_probe: realloc not served by HAKMEM\n"); return 1; }
  hak_stats_t st;
  if (hak_ext_stats(&st) != 0 || st.version < 1) { fprintf(stderr, "install_probe: hak_stats_get failed\n"); return 1; }
  size_t bad = hak_check_integrity();
  for (int i = 0; i < 64; i++) free(blocks[i]);
  if (bad != 0) { fprintf(stderr, "install_probe: integrity check found %zu violations\n", bad); return 1; }
  printf("install_probe: HAKMEM %d.%d.%d served 65 allocations, integrity clean\n", HAKMEM_VERSION_MAJOR,
         HAKMEM_VERSION_MINOR, HAKMEM_VERSION_PATCH);
  return 0;
}
