// A multi-threaded program that knows nothing about HAKMEM: malloc in a constructor, thread
// churn with cross-thread frees, malloc/free inside pthread key destructors (thread
// teardown), fork while other threads allocate, and malloc/free in an atexit handler after
// main returns. Every block carries a pattern that is verified before it is freed. Run under
// LD_PRELOAD=libhakmem.so and linked with malloc = "//hakmem" by preload_mt_test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c)                                                            \
  do {                                                                      \
    if (!(c)) {                                                             \
      fprintf(stderr, "preload_mt: %s:%d: %s failed\n", __FILE__, __LINE__, #c); \
      _exit(1);                                                             \
    }                                                                       \
  } while (0)

static char *ctor_block;
__attribute__((constructor)) static void early(void) {  // may be the process's first malloc
  ctor_block = malloc(77);
  memset(ctor_block, 'c', 77);
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i);
}
static void verify_free(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) CHECK(p[i] == (unsigned char)(seed + i));
  free(p);
}
static void verify_free_tail(unsigned char *p, size_t n) {
  for (size_t i = sizeof n; i < n; i++) CHECK(p[i] == (unsigned char)((unsigned)n + i - sizeof n));
  free(p);
}

static pthread_key_t key;
static void key_dtor(void *v) {  // runs during thread teardown
  verify_free(v, 300, 3);
  void *q = malloc(5000);  // allocation after the thread's own exit handlers may have run
  memset(q, 1, 5000);
  free(q);
}

#define SLOTS 512
static _Atomic(unsigned char *) shared[SLOTS];  // blocks start with their size
static atomic_int stop;

static unsigned char *make_block(size_t n) {
  unsigned char *p = malloc(n);
  CHECK(p);
  fill(p + sizeof n, n - sizeof n, (unsigned)n);
  memcpy(p, &n, sizeof n);
  return p;
}
static void kill_block(unsigned char *p) {
  size_t n;
  memcpy(&n, p, sizeof n);
  CHECK(n >= sizeof n && n <= 400000);
  verify_free_tail(p, n);
}

static void *churn(void *arg) {
  unsigned seed = (unsigned)(size_t)arg;
  unsigned char *k = malloc(300);
  fill(k, 300, 3);
  pthread_setspecific(key, k);
  for (int i = 0; i < 20000; i++) {
    seed = seed * 1103515245u + 12345u;
    size_t n = 16 + seed % (i % 50 == 0 ? 300000 : 2000);
    // Publish a new block, take what was there (made by any thread) and free it here.
    unsigned char *old = atomic_exchange(&shared[(seed >> 8) % SLOTS], make_block(n));
    if (old) kill_block(old);
  }
  return NULL;
}

static void *allocator_loop(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    void *p = malloc(64 + rand() % 4000);
    free(p);
  }
  return NULL;
}

static void late(void) {  // atexit: after main returned
  void *p = malloc(123);
  memset(p, 2, 123);
  free(p);
  for (int i = 0; i < 77; i++) CHECK(ctor_block[i] == 'c');
  free(ctor_block);
}

int main(int argc, char **argv) {
  atexit(late);
  pthread_key_create(&key, key_dtor);
  // Thread churn: 6 rounds of 4 threads; blocks outlive the threads that made them.
  for (int r = 0; r < 6; r++) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, (void *)(size_t)(r * 4 + i + 1));
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  }
  // fork while two threads allocate; the child allocates, frees and exits.
  pthread_t a[2];
  for (int i = 0; i < 2; i++) pthread_create(&a[i], NULL, allocator_loop, NULL);
  for (int f = 0; f < 20; f++) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int i = 0; i < 1000; i++) {
        char *p = malloc(1 + i * 7);
        p[0] = 1;
        free(p);
      }
      _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(a[i], NULL);
  for (int s = 0; s < SLOTS; s++) {
    unsigned char *p = atomic_exchange(&shared[s], NULL);
    if (p) kill_block(p);
  }
  printf("preload_mt: ok\n");
  // As xz and sort do: close stderr before exit. HAKMEM's exit report must still arrive.
  if (argc > 1 && strcmp(argv[1], "--close-stderr") == 0) close(2);
  return 0;
}
