// install_dlopen_probe.c — dlopen()s the installed libhakmem_dlopen.so (argv[1]) into a
// program whose malloc stays glibc's and uses the hak_* API through dlsym.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "install_dlopen_probe: %s\n", dlerror()); return 1; }
  void *(*hmalloc)(size_t) = (void *(*)(size_t))dlsym(h, "hak_malloc");
  void (*hfree)(void *) = (void (*)(void *))dlsym(h, "hak_free");
  int (*howns)(const void *) = (int (*)(const void *))dlsym(h, "hak_owns");
  if (!hmalloc || !hfree || !howns) { fprintf(stderr, "install_dlopen_probe: hak_* symbols missing\n"); return 1; }
  if (dlsym(h, "malloc") != dlsym(RTLD_DEFAULT, "malloc")) {
    fprintf(stderr, "install_dlopen_probe: libhakmem_dlopen.so exports malloc\n"); return 1;
  }
  for (size_t n = 8; n <= (8u << 20); n <<= 1) {
    void *p = hmalloc(n);
    if (!p || !howns(p)) { fprintf(stderr, "install_dlopen_probe: hak_malloc(%zu) not HAKMEM's\n", n); return 1; }
    memset(p, 1, n);
    hfree(p);
  }
  printf("install_dlopen_probe: hak_malloc served 21 sizes through dlopen\n");
  return 0;
}
