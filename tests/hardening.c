// hardening.c — what a hostile or careless caller does to a drop-in malloc, one case per
// argument (hardening_test.sh runs each in its own process under a timeout, some under a
// HAKMEM_* setting). Linked with malloc = "//hakmem"; every case first checks that HAKMEM
// serves malloc. Exit 0 = the allocator behaved; anything else (a crash, a hang killed by
// the timeout, a wrong result) fails the case with a line saying what went wrong.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hakmem/hakmem.h"

#define FAIL(...)                                  \
  do {                                             \
    fprintf(stderr, "FAIL %s: ", __func__);        \
    fprintf(stderr, __VA_ARGS__);                  \
    fprintf(stderr, " (line %d)\n", __LINE__);     \
    exit(1);                                       \
  } while (0)
#define CHECK(c, ...) \
  do {                \
    if (!(c)) FAIL(__VA_ARGS__); \
  } while (0)

// ---------------------------------------------------------------- invalid-free capture

static char last_msg[256];
static int hook_calls;
static void capture(const char *msg) {
  hook_calls++;
  snprintf(last_msg, sizeof last_msg, "%s", msg);
}

// A guard block around the block under attack: its bytes must survive.
static unsigned char *guard_new(size_t n, int fill) {
  unsigned char *g = malloc(n);
  CHECK(g, "guard malloc");
  memset(g, fill, n);
  return g;
}
static void guard_check(const unsigned char *g, size_t n, int fill) {
  for (size_t i = 0; i < n; i++) CHECK(g[i] == (unsigned char)fill, "guard block byte %zu changed to %#x", i, g[i]);
}

// ---------------------------------------------------------------- 1: aligned-size overflow

static void case_aligned_overflow(void) {
  // Neighbours of every small class the wrapped sum could land in.
  unsigned char *g[64];
  for (int i = 0; i < 64; i++) g[i] = guard_new(16 + (size_t)i * 16, 0x5a);
  void *p;
  errno = 0;
  p = aligned_alloc(64, SIZE_MAX - 63);
  CHECK(!p && errno == ENOMEM, "aligned_alloc(64, SIZE_MAX-63) = %p errno %d", p, errno);
  errno = 0;
  p = memalign(32, SIZE_MAX - 10);
  CHECK(!p && errno == ENOMEM, "memalign(32, SIZE_MAX-10) = %p errno %d", p, errno);
  errno = 0;
  p = valloc(SIZE_MAX);
  CHECK(!p && errno == ENOMEM, "valloc(SIZE_MAX) = %p errno %d", p, errno);
  errno = 0;
  p = pvalloc(SIZE_MAX - 8000);
  CHECK(!p && errno == ENOMEM, "pvalloc(SIZE_MAX-8000) = %p errno %d", p, errno);
  p = (void *)1;
  int rc = posix_memalign(&p, 64, SIZE_MAX - 63);
  CHECK(rc == ENOMEM && p == (void *)1, "posix_memalign(64, SIZE_MAX-63) = %d, out %p", rc, p);
  for (size_t a = 32; a <= ((size_t)1 << 30); a <<= 1) {
    for (size_t d = 0; d < 3 * a && d < 70000; d += a / 2 + 1) {
      errno = 0;
      p = aligned_alloc(a, SIZE_MAX - d);
      CHECK(!p && errno == ENOMEM, "aligned_alloc(%zu, SIZE_MAX-%zu) = %p", a, d, p);
      p = memalign(a, (SIZE_MAX >> 1) - d);
      CHECK(!p, "memalign(%zu, SIZE_MAX/2-%zu) = %p", a, d, p);
    }
  }
  for (int i = 0; i < 64; i++) guard_check(g[i], 16 + (size_t)i * 16, 0x5a), free(g[i]);
  CHECK(hak_check_integrity() == 0, "integrity");
}

// ---------------------------------------------------------------- 2: fork vs late destructors

static pthread_key_t late_key;
static volatile int late_stop;
static void late_dtor(void *arg) {
  // Runs after HAKMEM's own key destructor (created later): the thread is past its
  // cleanup and allocates through the dead-thread heap, while another thread forks.
  free(arg);
  for (int i = 0; i < 200; i++) free(malloc(16 + (size_t)(i % 40) * 32));
}
static void *late_thread(void *arg) {
  (void)arg;
  free(malloc(32));  // HAKMEM's key first
  pthread_setspecific(late_key, malloc(48));
  return NULL;
}
static void *late_spawner(void *arg) {
  (void)arg;
  while (!late_stop) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, late_thread, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  }
  return NULL;
}
static void case_fork_late_destructors(void) {
  pthread_key_create(&late_key, late_dtor);
  pthread_t sp[2];
  for (int i = 0; i < 2; i++) pthread_create(&sp[i], NULL, late_spawner, NULL);
  for (int round = 0; round < 1000; round++) {
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      void *q = malloc(100);
      free(q);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child of round %d: status %#x", round, st);
  }
  late_stop = 1;
  for (int i = 0; i < 2; i++) pthread_join(sp[i], NULL);
  CHECK(hak_check_integrity() == 0, "integrity");
}

// ---------------------------------------------------------------- 3, 4: wild and interior frees

#define SS_SIZE ((uintptr_t)2 << 20)

static void case_wild_unassigned_slab(void) {
  hak_set_abort_hook(capture);
  void *keep = malloc(24);
  uintptr_t ss = (uintptr_t)keep & ~(SS_SIZE - 1);
  unsigned char *g = guard_new(64, 0x33);
  // Every 64 KiB unit of the SuperSlab that holds no live block of ours: a 16-byte aligned
  // pointer whose previous byte is 0xbf (class 0x1f | allocated) must be reported, and
  // nothing outside the SuperSlab may change.
  int tried = 0;
  for (uintptr_t off = 31 * 65536; off >= 2 * 65536; off -= 65536) {
    unsigned char *p = (unsigned char *)(ss + off + 4096);
    unsigned char orig = p[-1];
    p[-1] = 0xbf;
    int before = hook_calls;
    free(p);
    CHECK(hook_calls == before + 1, "free(%p) in an unassigned slab was not reported", (void *)p);
    CHECK(strstr(last_msg, "hakmem: free("), "message: %s", last_msg);
    p[-1] = orig;
    tried++;
  }
  CHECK(tried > 0, "no slab tried");
  guard_check(g, 64, 0x33);
  free(g);
  free(keep);
  CHECK(hak_check_integrity() == 0, "integrity");
}

static void case_interior_pointer(void) {
  hak_set_abort_hook(capture);
  static const size_t sizes[] = {24, 64, 100, 200, 500, 1000, 3000, 7000, 12000, 40000};
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    unsigned char *p = malloc(n);
    CHECK(p, "malloc");
    memset(p, 0x11, n);
    unsigned char hdr = p[-1];
    for (size_t off = 16; off + 16 <= n; off += (n / 7 + 15) & ~(size_t)15) {
      p[off - 1] = hdr;  // the user's own data happens to equal the header byte
      int before = hook_calls;
      free(p + off);
      CHECK(hook_calls == before + 1, "interior free(p+%zu) of a %zu-byte block was accepted", off, n);
      CHECK(strstr(last_msg, "interior") || strstr(last_msg, "not"), "message: %s", last_msg);
    }
    // The block is intact and still live: no other allocation may overlap it.
    void *others[64];
    for (int k = 0; k < 64; k++) {
      others[k] = malloc(n);
      CHECK((unsigned char *)others[k] + n <= p || (unsigned char *)others[k] >= p + n, "overlap");
    }
    for (int k = 0; k < 64; k++) free(others[k]);
    free(p);
  }
  CHECK(hak_check_integrity() == 0, "integrity");
}

// Pointers into the SuperSlab header (the first 2 KiB of it at least) are not blocks.
static void case_superslab_header(void) {
  hak_set_abort_hook(capture);
  void *keep = malloc(24);
  uintptr_t ss = (uintptr_t)keep & ~(SS_SIZE - 1);
  for (uintptr_t off = 16; off < 2048; off += 16) {
    int before = hook_calls;
    free((void *)(ss + off));
    if (hook_calls != before + 1) FAIL("free(SuperSlab + %lu) not reported", (unsigned long)off);
    CHECK(!strstr(last_msg, "double free") && !strstr(last_msg, "header"), "SuperSlab + %lu reported as %s",
          (unsigned long)off, last_msg);
  }
  free(keep);
  CHECK(hak_check_integrity() == 0, "integrity");
}

// ---------------------------------------------------------------- 5: pass mode, realloc

static void case_pass_realloc(void) {
  // Run with HAKMEM_INVALID_FREE=pass.
  void *(*libc_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  size_t (*libc_usable)(void *) = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
  CHECK(libc_malloc && libc_usable, "dlsym");
  char *g = libc_malloc(100);
  memset(g, 'x', 100);
  size_t u = malloc_usable_size(g);
  CHECK(u == libc_usable(g), "malloc_usable_size of a foreign block: %zu, glibc says %zu", u, libc_usable(g));
  char *q = realloc(g, 5000);
  CHECK(q, "realloc of a foreign block returned NULL (errno %d)", errno);
  for (int i = 0; i < 100; i++) CHECK(q[i] == 'x', "contents lost at %d", i);
  memset(q, 'y', 5000);
  free(q);
  CHECK(hak_invalid_free_count() >= 1, "not counted");
}

// ---------------------------------------------------------------- 6: first allocation in the last destructor round

static pthread_key_t round_key;
static void round_dtor(void *arg) {
  uintptr_t r = (uintptr_t)arg;
  if (r < 4) {
    pthread_setspecific(round_key, (void *)(r + 1));  // ask for another round
    return;
  }
  // Round 4 of 4 (PTHREAD_DESTRUCTOR_ITERATIONS): the thread's first allocations.
  void *a = malloc(40), *b = malloc(100000), *c = malloc(20000);
  free(a);
  free(b);
  free(c);
}
static void *round_thread(void *arg) {
  (void)arg;
  pthread_setspecific(round_key, (void *)(uintptr_t)1);
  return NULL;
}
static void case_last_round_first_alloc(void) {
  pthread_key_create(&round_key, round_dtor);
  for (int i = 0; i < 200; i++) {
    pthread_t t;
    pthread_create(&t, NULL, round_thread, NULL);
    pthread_join(t, NULL);
  }
  // Every walker of per-thread records must terminate.
  int fd = dup(2), devnull = open("/dev/null", O_WRONLY);
  dup2(devnull, 2);
  malloc_stats();
  dup2(fd, 2);
  void *p = malloc(200000);
  CHECK(p, "malloc");
  free(p);
  hak_stats_t s;
  s.size = sizeof s;
  CHECK(hak_stats_get(&s) == 0, "stats");
  CHECK(hak_check_integrity() == 0, "integrity");
  malloc_trim(0);
  CHECK(hak_check_integrity() == 0, "integrity after trim");
}

// ---------------------------------------------------------------- 7: large alignments

static unsigned count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  unsigned n = 0;
  int ch;
  while ((ch = fgetc(f)) != EOF) n += ch == '\n';
  fclose(f);
  return n;
}
static void case_big_alignment(void) {
  unsigned before = count_maps();
  enum { N = 100000 };
  void **v = calloc(N, sizeof *v);
  for (int i = 0; i < N; i++) {
    int rc = posix_memalign(&v[i], 8192, 64);
    CHECK(rc == 0 && ((uintptr_t)v[i] & 8191) == 0, "posix_memalign(8192, 64) #%d: %d %p", i, rc, v[i]);
    memset(v[i], 1, 64);
  }
  unsigned after = count_maps();
  CHECK(after < before + 1000, "%d aligned blocks made %u mappings", N, after - before);
  void *p = malloc(100);
  CHECK(p, "malloc(100) after the aligned blocks: errno %d", errno);
  free(p);
  for (int i = 0; i < N; i++) free(v[i]);
  free(v);
  // Every alignment up to 1 MiB, at several sizes: aligned, usable, writable, not a mapping of its own.
  before = count_maps();
  void *keep[256];
  int k = 0;
  for (size_t a = 8192; a <= ((size_t)1 << 20); a <<= 1) {
    static const size_t sizes[] = {1, 100, 5000, 70000, 300000, 2000000};
    for (unsigned i = 0; i < 6; i++) {
      void *q = aligned_alloc(a, sizes[i]);
      CHECK(q && ((uintptr_t)q & (a - 1)) == 0, "aligned_alloc(%zu, %zu) = %p", a, sizes[i], q);
      CHECK(malloc_usable_size(q) >= sizes[i], "usable");
      memset(q, 7, sizes[i]);
      keep[k++] = q;
    }
  }
  after = count_maps();
  CHECK(after < before + 24, "page alignments made %u mappings", after - before);
  for (int i = 0; i < k; i++) free(keep[i]);
  CHECK(hak_check_integrity() == 0, "integrity");
}

// ---------------------------------------------------------------- 10: fork from a signal handler

static volatile sig_atomic_t forks_done, alarm_armed;
static void on_alarm(int sig) {
  (void)sig;
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid > 0) {
    int st;
    waitpid(pid, &st, 0);
    forks_done++;
  }
  alarm_armed = 0;
}
// The timer is one-shot, re-armed by the loop: with a periodic 1 ms timer, a loaded machine
// whose fork and wait took longer than 1 ms found the next alarm pending at every return
// from the handler, and the loop never ran again (the test hung).
static void case_fork_in_signal(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  void *v[64] = {0};
  for (long i = 0; forks_done < 300; i++) {
    if (!alarm_armed) {
      alarm_armed = 1;
      struct itimerval it = {{0, 0}, {0, 200 + (i * 7919) % 1000}};  // lands anywhere in the loop
      setitimer(ITIMER_REAL, &it, NULL);
    }
    unsigned k = (unsigned)i & 63;
    free(v[k]);
    v[k] = malloc(((size_t)i * 37) % 3000 + 1);
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  for (int k = 0; k < 64; k++) free(v[k]);
}

// ---------------------------------------------------------------- 11: fork against stdio

static int pipe_fd[2];
static volatile int stop_stdio;
static void *stdio_writer(void *arg) {
  (void)arg;
  char line[3000];
  memset(line, 'a', sizeof line);
  unsigned seed = 1;
  while (!stop_stdio) {
    size_t n = (size_t)(rand_r(&seed) % (int)sizeof line) + 1;
    line[n - 1] = '\n';  // every write is one whole line
    ssize_t w = write(pipe_fd[1], line, n);
    line[n - 1] = 'a';
    if (w < 0) break;
  }
  return NULL;
}
static void *stdio_reader(void *arg) {
  (void)arg;
  FILE *f = fdopen(pipe_fd[0], "r");
  char *buf = NULL;
  size_t cap = 0;
  for (;;) {  // until EOF: the writer's end is closed only after the writer stopped
    if (getline(&buf, &cap, f) < 0) break;
    if (cap > 8192) {  // keep realloc busy
      free(buf);
      buf = NULL;
      cap = 0;
    }
  }
  free(buf);
  return NULL;
}
static void *stdio_flusher(void *arg) {
  (void)arg;
  while (!stop_stdio) fflush(NULL);
  return NULL;
}
static void case_fork_stdio(void) {
  CHECK(pipe(pipe_fd) == 0, "pipe");
  pthread_t w, r, fl;
  pthread_create(&w, NULL, stdio_writer, NULL);
  pthread_create(&r, NULL, stdio_reader, NULL);
  pthread_create(&fl, NULL, stdio_flusher, NULL);
  for (int i = 0; i < 1500; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    CHECK(pid > 0, "fork");
    waitpid(pid, NULL, 0);
  }
  stop_stdio = 1;
  pthread_join(w, NULL);
  close(pipe_fd[1]);
  pthread_join(r, NULL);
  pthread_join(fl, NULL);
}

// ---------------------------------------------------------------- 12: mallopt

static void case_mallopt(void) {
  CHECK(mallopt(M_ARENA_MAX, 1) == 1, "M_ARENA_MAX");
  CHECK(mallopt(M_ARENA_TEST, 2) == 1, "M_ARENA_TEST");
  CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1, "M_TRIM_THRESHOLD");
  CHECK(mallopt(M_TRIM_THRESHOLD, -1) == 1, "M_TRIM_THRESHOLD -1 (never trim)");
  CHECK(mallopt(M_TOP_PAD, 0) == 1, "M_TOP_PAD");
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1, "M_MMAP_THRESHOLD");
  CHECK(mallopt(M_MMAP_MAX, 0) == 1, "M_MMAP_MAX");
  CHECK(mallopt(M_PERTURB, 0) == 1, "M_PERTURB");
  CHECK(mallopt(M_CHECK_ACTION, 3) == 1, "M_CHECK_ACTION");
  CHECK(mallopt(M_MXFAST, 64) == 1, "M_MXFAST");
  CHECK(mallopt(12345, 1) == 0, "an unknown parameter must be declined");
  CHECK(mallopt(M_MMAP_THRESHOLD, -5) == 0, "a negative threshold must be declined");
  void *p = malloc(5 << 20);
  CHECK(p, "malloc after mallopt");
  free(p);
  // mallinfo2 is HAKMEM's and "in use" grows with blocks served from memory already mapped.
  struct mallinfo2 m1 = mallinfo2();
  void *q[19];
  size_t total = 0;
  for (int i = 1; i < 20; i++) q[i - 1] = malloc(160 * (size_t)i), total += 160 * (size_t)i;
  struct mallinfo2 m2 = mallinfo2();
  CHECK(m2.arena > 0 && m2.uordblks >= m1.uordblks + total, "mallinfo2: arena %zu, in use %zu -> %zu (+%zu allocated)",
        m2.arena, m1.uordblks, m2.uordblks, total);
  for (int i = 0; i < 19; i++) free(q[i]);
}

// ---------------------------------------------------------------- driver

typedef struct {
  const char *name;
  void (*fn)(void);
} test_case_t;
static const test_case_t cases[] = {
    {"aligned_overflow", case_aligned_overflow},
    {"fork_late_destructors", case_fork_late_destructors},
    {"wild_unassigned_slab", case_wild_unassigned_slab},
    {"interior_pointer", case_interior_pointer},
    {"superslab_header", case_superslab_header},
    {"pass_realloc", case_pass_realloc},
    {"last_round_first_alloc", case_last_round_first_alloc},
    {"big_alignment", case_big_alignment},
    {"fork_in_signal", case_fork_in_signal},
    {"fork_stdio", case_fork_stdio},
    {"mallopt", case_mallopt},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) printf("%s\n", cases[i].name);
    return 0;
  }
  void *probe = malloc(8);
  if (!hak_owns(probe)) {
    fprintf(stderr, "FAIL: HAKMEM does not serve malloc\n");
    return 1;
  }
  free(probe);
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (strcmp(argv[1], cases[i].name) == 0) {
      cases[i].fn();
      printf("ok %s\n", cases[i].name);
      return 0;
    }
  }
  fprintf(stderr, "unknown case %s\n", argv[1]);
  return 2;
}
