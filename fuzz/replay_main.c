// Replays fuzz inputs without a fuzzing engine: every file named on the command line (or
// found in a named directory) goes through LLVMFuzzerTestOneInput once. Used by the
// *_regression tests, so every committed crash input is replayed by an ordinary bazel test
// in every config (asan, ubsan, tsan, msan, ...).
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  uint8_t *copy = malloc(n ? n : 1);  // exact-size copy so ASan sees overreads
  memcpy(copy, buf, n);
  LLVMFuzzerTestOneInput(copy, n);
  free(copy);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: no such path %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *e;
      while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
        bad |= replay_file(path);
        files++;
      }
      if (d) closedir(d);
    } else {
      bad |= replay_file(argv[i]);
      files++;
    }
  }
  printf("replay: %d inputs, all passed\n", files);
  return bad || files == 0;
}
