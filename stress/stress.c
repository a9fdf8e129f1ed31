// stress — multi-threaded stress programs for HAKMEM (hak_* API, so they run under every
// sanitizer). Deterministic pseudo-random choices per thread, every block filled with a
// pattern and verified before it is freed, the integrity checker and an RSS bound at the end.
//
//   stress --mode=<churn|prodcons|xfree|realloc|fork|larson|mix|forkexit|all> [--threads=N]
//          [--seconds=S] [--smoke]
// --smoke: a few hundred milliseconds per mode (bazel test); otherwise --seconds per mode.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hakmem/hakmem.h"

static int g_threads = 4;
static double g_seconds = 0.3;
static atomic_ulong g_ops;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void fail(const char *what, void *p) {
  fprintf(stderr, "stress: FAILED: %s (block %p)\n", what, p);
  abort();
}

// Blocks carry their size and a seed in the first 16 bytes (size >= 16), and a pattern.
typedef struct {
  uint64_t size, seed;
} tag_t;

static size_t pick_size(uint64_t *s) {
  uint64_t r = rnd(s);
  switch (r % 16) {
    case 0: return 8192 + (r >> 8) % 200000;  // mid classes and the pool tier
    case 1: case 2: return 1024 + (r >> 8) % 7000;
    default: return 16 + (r >> 8) % 1009;
  }
}

static void *make(size_t size, uint64_t seed) {
  if (size < sizeof(tag_t)) size = sizeof(tag_t);
  uint8_t *p = hak_malloc(size);
  if (!p) fail("out of memory", NULL);
  tag_t t = {size, seed};
  memcpy(p, &t, sizeof t);
  size_t step = size > 4096 ? 509 : 1;
  for (size_t i = sizeof t; i < size; i += step) p[i] = (uint8_t)(seed + i);
  p[size - 1] = (uint8_t)(seed + size - 1);
  return p;
}

static void check(const void *vp) {
  const uint8_t *p = vp;
  tag_t t;
  memcpy(&t, p, sizeof t);
  if (t.size < sizeof t || t.size > (1u << 26)) fail("block header overwritten", (void *)p);
  size_t step = t.size > 4096 ? 509 : 1;
  for (size_t i = sizeof t; i < t.size; i += step)
    if (p[i] != (uint8_t)(t.seed + i)) fail("block contents changed while live", (void *)p);
  if (p[t.size - 1] != (uint8_t)(t.seed + t.size - 1)) fail("block tail changed while live", (void *)p);
}

static void kill_block(void *p) {
  check(p);
  hak_free(p);
}

// ---------------------------------------------------------------- churn: threads come and go
#define TRANSFER 1024
static _Atomic(void *) transfer[TRANSFER];

static void *churn_worker(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg * 7919 + 1;
  for (int i = 0; i < 2000; i++) {
    void *mine = make(pick_size(&s), s);
    // Swap with the shared transfer array: the block outlives this thread.
    void *old = atomic_exchange(&transfer[rnd(&s) % TRANSFER], mine);
    if (old) kill_block(old);
    atomic_fetch_add(&g_ops, 1);
  }
  return NULL;
}

static void mode_churn(void) {
  double end = now() + g_seconds;
  uint64_t round = 0;
  do {
    pthread_t th[64];
    for (int t = 0; t < g_threads; t++) pthread_create(&th[t], NULL, churn_worker, (void *)(uintptr_t)(round * 64 + t + 1));
    for (int t = 0; t < g_threads; t++) pthread_join(th[t], NULL);
    round++;
  } while (now() < end);
  for (int i = 0; i < TRANSFER; i++) {
    void *p = atomic_exchange(&transfer[i], NULL);
    if (p) kill_block(p);
  }
}

// ---------------------------------------------------------------- producer/consumer with back-pressure
#define RING 256
static _Atomic(void *) ring[RING];
static atomic_int pc_stop;

static void *producer(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg + 99;
  unsigned i = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&pc_stop)) {
    void *p = make(pick_size(&s), s);
    _Atomic(void *) *slot = &ring[i++ % RING];
    void *expected = NULL;
    while (!atomic_compare_exchange_weak(slot, &expected, p)) {  // back-pressure: ring full
      expected = NULL;
      if (atomic_load(&pc_stop)) {
        kill_block(p);
        return NULL;
      }
      sched_yield();
    }
    atomic_fetch_add(&g_ops, 1);
  }
  return NULL;
}

static void *consumer(void *arg) {
  unsigned i = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&pc_stop)) {
    void *p = atomic_exchange(&ring[i++ % RING], NULL);
    if (p) kill_block(p);
    else sched_yield();
  }
  return NULL;
}

static void mode_prodcons(void) {
  int pairs = g_threads / 2 ? g_threads / 2 : 1;
  pthread_t th[64];
  atomic_store(&pc_stop, 0);
  for (int t = 0; t < pairs; t++) {
    pthread_create(&th[2 * t], NULL, producer, (void *)(uintptr_t)(t * 37));
    pthread_create(&th[2 * t + 1], NULL, consumer, (void *)(uintptr_t)(t * 53));
  }
  double end = now() + g_seconds;
  while (now() < end) usleep(10000);
  atomic_store(&pc_stop, 1);
  for (int t = 0; t < 2 * pairs; t++) pthread_join(th[t], NULL);
  for (int i = 0; i < RING; i++) {
    void *p = atomic_exchange(&ring[i], NULL);
    if (p) kill_block(p);
  }
}

// ---------------------------------------------------------------- cross-thread free storm / larson
typedef struct {
  int id;
  void **arr;
  int n;
  pthread_barrier_t *bar;
  double end;
  int rotate;  // larson: arrays rotate between threads each round
  void ***all;
} xf_arg_t;

static atomic_int xf_stop;

static void *xfree_worker(void *vp) {
  xf_arg_t *a = vp;
  uint64_t s = (uint64_t)a->id * 131 + 7;
  for (int round = 0;; round++) {
    void **arr = a->rotate ? a->all[(a->id + round) % g_threads] : a->arr;
    // Replace every block: frees are of blocks another thread allocated last round.
    for (int i = 0; i < a->n; i++) {
      if (arr[i]) kill_block(arr[i]);
      arr[i] = make(pick_size(&s), s);
      atomic_fetch_add(&g_ops, 1);
    }
    if (a->id == 0 && now() > a->end) atomic_store(&xf_stop, 1);
    pthread_barrier_wait(a->bar);
    int stop = atomic_load(&xf_stop);
    pthread_barrier_wait(a->bar);
    if (stop) break;
    if (!a->rotate) {  // storm: swap arrays with the next thread
      void **tmp = a->all[a->id];
      pthread_barrier_wait(a->bar);
      a->arr = a->all[(a->id + 1) % g_threads];
      pthread_barrier_wait(a->bar);
      a->all[a->id] = a->arr;
      (void)tmp;
      pthread_barrier_wait(a->bar);
    }
  }
  return NULL;
}

static void run_xfree(int rotate, int n) {
  pthread_t th[64];
  xf_arg_t args[64];
  void **all[64];
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, (unsigned)g_threads);
  atomic_store(&xf_stop, 0);
  for (int t = 0; t < g_threads; t++) all[t] = calloc((size_t)n, sizeof(void *));
  double end = now() + g_seconds;
  for (int t = 0; t < g_threads; t++) {
    args[t] = (xf_arg_t){t, all[t], n, &bar, end, rotate, all};
    pthread_create(&th[t], NULL, xfree_worker, &args[t]);
  }
  for (int t = 0; t < g_threads; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < g_threads; t++) {
    for (int i = 0; i < n; i++)
      if (all[t][i]) kill_block(all[t][i]);
    free(all[t]);
  }
  pthread_barrier_destroy(&bar);
}

static void mode_xfree(void) { run_xfree(0, 1024); }
static void mode_larson(void) { run_xfree(1, 512); }

// ---------------------------------------------------------------- realloc storm across tiers
static void *realloc_worker(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg + 3;
  double end = now() + g_seconds;
  uint8_t *p = NULL;
  size_t size = 0;
  while (now() < end) {
    size_t ns = (rnd(&s) % 4 == 0) ? 1 + rnd(&s) % 600000 : 1 + rnd(&s) % 9000;
    uint8_t *q = hak_realloc(p, ns);
    if (!q) fail("realloc failed", p);
    for (size_t i = 0; i < size && i < ns; i += (size > 4096 ? 997 : 1))
      if (q[i] != (uint8_t)(i * 7)) fail("realloc lost contents", q);
    for (size_t i = 0; i < ns; i += (ns > 4096 ? 997 : 1)) q[i] = (uint8_t)(i * 7);
    p = q;
    size = ns;
    atomic_fetch_add(&g_ops, 1);
  }
  hak_free(p);
  return NULL;
}

// Runs fn on g_threads threads (argument: thread index) and waits for all of them.
static void run_threads(void *(*fn)(void *)) {
  pthread_t th[64];
  for (int t = 0; t < g_threads; t++) pthread_create(&th[t], NULL, fn, (void *)(uintptr_t)t);
  for (int t = 0; t < g_threads; t++) pthread_join(th[t], NULL);
}

static void mode_realloc(void) { run_threads(realloc_worker); }

// ---------------------------------------------------------------- fork under load
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FE_TSAN 1
#endif
#endif
#ifndef FE_TSAN
#define FE_TSAN 0
#endif

static atomic_int fork_stop;

// Waits up to 20 s for a forked child. On a hang it prints every thread's backtrace of the
// child (gdb, where installed), kills it and returns 0: a hang is diagnosed in the test's log,
// not left to the test runner's timeout.
static int wait_child(pid_t pid, int *st) {
  for (int i = 0; i < 2000; i++) {
    pid_t w = waitpid(pid, st, WNOHANG);
    if (w == pid) return 1;
    if (w < 0 && errno != EINTR) fail("waitpid failed", NULL);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  char cmd[160];
  snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' </dev/null 2>&1 | grep -E '^(#|Thread)' >&2", (int)pid);
  fprintf(stderr, "stress: fork child %d still running after 20 s; its threads:\n", (int)pid);
  if (system(cmd) != 0) fprintf(stderr, "stress: (no backtrace: gdb missing or refused)\n");
  kill(pid, SIGKILL);
  waitpid(pid, st, 0);
  return 0;
}

static void *fork_loader(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg + 11;
  void *keep[64] = {0};
  while (!atomic_load(&fork_stop)) {
    int k = (int)(rnd(&s) % 64);
    if (keep[k]) kill_block(keep[k]);
    keep[k] = make(pick_size(&s), s);
    atomic_fetch_add(&g_ops, 1);
  }
  for (int k = 0; k < 64; k++)
    if (keep[k]) kill_block(keep[k]);
  return NULL;
}

static void mode_fork(void) {
  pthread_t th[64];
  atomic_store(&fork_stop, 0);
  int n = g_threads > 1 ? g_threads - 1 : 1;
  for (int t = 0; t < n; t++) pthread_create(&th[t], NULL, fork_loader, (void *)(uintptr_t)t);
  double end = now() + g_seconds;
  int forks = 0;
  while (now() < end || forks < 3) {
    pid_t pid = fork();
    if (pid == 0) {  // child: allocate, free, check, exit without running atexit handlers
      uint64_t s = 5;
      void *v[200];
      for (int i = 0; i < 200; i++) v[i] = make(pick_size(&s), s);
      for (int i = 0; i < 200; i++) kill_block(v[i]);
      _exit(hak_check_integrity() == 0 ? 0 : 3);
    }
    int st = 0;
    if (!wait_child(pid, &st)) {
      // Under TSan alone a hung child is reported, not failed: clang 16's runtime locks only
      // part of its own state around fork (llvm-project PR 96600 added its stack depot in
      // LLVM 19), and a child that hangs inside it is not HAKMEM's; every other build runs
      // this same child and fails on a hang. The backtrace above says which it was.
      if (!FE_TSAN) fail("child after fork hung (backtrace above)", NULL);
      fprintf(stderr, "stress: fork child %d hung under TSan (backtrace above); not counted\n", (int)pid);
      continue;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("child after fork failed", NULL);
    forks++;
  }
  atomic_store(&fork_stop, 1);
  for (int t = 0; t < n; t++) pthread_join(th[t], NULL);
}

// ---------------------------------------------------------------- fork while threads exit
// Threads come and go while the main thread forks: each hands blocks to the shared transfer
// array, and allocates again in pthread key destructors that run after HAKMEM's own (the
// dead-thread path), some of them first allocating only in the last destructor round.
static pthread_key_t fe_key;
static pthread_once_t fe_once = PTHREAD_ONCE_INIT;
static atomic_int fe_stop;

static void fe_dtor(void *arg) {
  // arg = round << 2 | kind; kind 2 re-arms itself until the last of the 4 rounds. (Not
  // under TSan: its runtime finalizes the thread from a destructor of its own that re-arms
  // itself too, and code running in a later round crashes the runtime itself.)
  uintptr_t v = (uintptr_t)arg;
  uint64_t s = v * 31 + 7;
  if ((v & 3) == 2 && (v >> 2) < 3 && !FE_TSAN) {
    pthread_setspecific(fe_key, (void *)(v + 4));
    return;
  }
  for (int i = 0; i < 8; i++) {
    void *p = make(pick_size(&s), s);
    void *old = atomic_exchange(&transfer[rnd(&s) % TRANSFER], p);
    if (old) kill_block(old);
  }
}
static void fe_key_create(void) { pthread_key_create(&fe_key, fe_dtor); }

static void *fe_worker(void *arg) {
  uintptr_t id = (uintptr_t)arg;
  uint64_t s = id * 104729 + 3;
  // One thread in four allocates only in its destructors (a late first allocation).
  if (id % 4 != 0)
    for (int i = 0; i < 200; i++) {
      void *old = atomic_exchange(&transfer[rnd(&s) % TRANSFER], make(pick_size(&s), s));
      if (old) kill_block(old);
      atomic_fetch_add(&g_ops, 1);
    }
  pthread_setspecific(fe_key, (void *)(uintptr_t)(id % 4 == 0 ? 2 : 1));
  return NULL;
}

static void *fe_spawner(void *arg) {
  uintptr_t base = (uintptr_t)arg * 1000003;
  for (uintptr_t round = 0; !atomic_load(&fe_stop); round++) {
    pthread_t th[4];
    for (int t = 0; t < 4; t++) pthread_create(&th[t], NULL, fe_worker, (void *)(base + round * 4 + (uintptr_t)t));
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
  }
  return NULL;
}

static void mode_forkexit(void) {
  hak_free(hak_malloc(1));  // HAKMEM's key exists before ours: ours runs after it
  pthread_once(&fe_once, fe_key_create);
  atomic_store(&fe_stop, 0);
  int n = g_threads > 2 ? g_threads / 2 : 1;
  pthread_t sp[32];
  for (int t = 0; t < n; t++) pthread_create(&sp[t], NULL, fe_spawner, (void *)(uintptr_t)(t + 1));
  double end = now() + g_seconds;
  int forks = 0;
  // Under TSan only the thread churn and late destructors run: its runtime can deadlock in
  // its own locks when a fork meets threads being created or torn down (the fork part runs
  // in every other build, and tests/hardening_test forks against late destructors too).
  while (FE_TSAN && now() < end) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  while (!FE_TSAN && (now() < end || forks < 3)) {
    pid_t pid = fork();
    if (pid == 0) {
      uint64_t s = 9;
      void *v[64];
      for (int i = 0; i < 64; i++) v[i] = make(pick_size(&s), s);
      for (int i = 0; i < 64; i++) kill_block(v[i]);
      _exit(hak_check_integrity() == 0 ? 0 : 3);
    }
    if (pid < 0) fail("fork failed", NULL);
    int st = 0;
    if (!wait_child(pid, &st)) fail("child after fork hung (backtrace above)", NULL);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("child after fork failed", NULL);
    forks++;
  }
  atomic_store(&fe_stop, 1);
  for (int t = 0; t < n; t++) pthread_join(sp[t], NULL);
  for (int i = 0; i < TRANSFER; i++) {
    void *p = atomic_exchange(&transfer[i], NULL);
    if (p) kill_block(p);
  }
}

// ---------------------------------------------------------------- mix of every tier
static void *mix_worker(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg * 17 + 5;
  void *keep[256] = {0};
  double end = now() + g_seconds;
  while (now() < end) {
    int k = (int)(rnd(&s) % 256);
    if (keep[k]) kill_block(keep[k]);
    uint64_t r = rnd(&s);
    // Every tier: 1–4 MiB (pool page heap) now and then, 8–12 MiB (large tier) rarely.
    size_t sz = r % 1024 == 0 ? (8u << 20) + (r >> 20) % (4u << 20)
                : r % 64 == 0 ? (1u << 20) + (r >> 20) % (3u << 20)
                              : pick_size(&s);
    if (r % 7 == 0) {
      void *q = NULL;
      if (hak_posix_memalign(&q, (size_t)32 << (r % 6), sz) != 0) fail("posix_memalign failed", NULL);
      hak_free(q);
    }
    keep[k] = make(sz, s);
    atomic_fetch_add(&g_ops, 1);
  }
  for (int k = 0; k < 256; k++)
    if (keep[k]) kill_block(keep[k]);
  return NULL;
}

static void mode_mix(void) { run_threads(mix_worker); }

// ---------------------------------------------------------------- driver
typedef struct {
  const char *name;
  void (*fn)(void);
} mode_t_;

static const mode_t_ modes[] = {{"churn", mode_churn},   {"prodcons", mode_prodcons}, {"xfree", mode_xfree},
                                {"realloc", mode_realloc}, {"fork", mode_fork},         {"larson", mode_larson},
                                {"mix", mode_mix},         {"forkexit", mode_forkexit}};

static int run_mode(const mode_t_ *m) {
  atomic_store(&g_ops, 0);
  double t0 = now();
  m->fn();
  double dt = now() - t0;
  hak_trim(0);
  size_t bad = hak_check_integrity();
  hak_stats_t st;
  st.size = sizeof st;
  hak_stats_get(&st);
  printf("stress %-9s threads=%d secs=%.1f ops=%lu integrity=%s tiny_live=%lu pool_live=%lu large_live=%lu rss=%luKiB peak_rss=%luKiB\n",
         m->name, g_threads, dt, (unsigned long)atomic_load(&g_ops), bad ? "FAILED" : "ok", (unsigned long)st.tiny_live_blocks,
         (unsigned long)st.pool_live_blocks, (unsigned long)st.large_live, (unsigned long)(st.rss_bytes >> 10), (unsigned long)(st.peak_rss_bytes >> 10));
  fflush(stdout);
  if (bad) return 1;
  // Under fault injection (CI's fault_injection step), refused calls must have happened.
  const char *faults = getenv("HAKMEM_FAULT");
  if (faults && *faults && m->fn != mode_fork && m->fn != mode_forkexit && !st.os_faults_injected) {
    fprintf(stderr, "stress: FAILED: HAKMEM_FAULT=%s set but no OS call was made to fail\n", faults);
    return 1;
  }
  if (st.tiny_live_blocks || st.pool_live_blocks || st.large_live) {
    fprintf(stderr, "stress: FAILED: blocks still live after %s freed everything\n", m->name);
    return 1;
  }
  // Bounded RSS: everything was freed and trimmed; what stays mapped must be small.
  if (st.bytes_mapped > ((uint64_t)64 << 20)) {
    fprintf(stderr, "stress: FAILED: %lu bytes still mapped after %s\n", (unsigned long)st.bytes_mapped, m->name);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = "all";
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--mode=", 7)) mode = argv[i] + 7;
    else if (!strncmp(argv[i], "--threads=", 10)) g_threads = atoi(argv[i] + 10);
    else if (!strncmp(argv[i], "--seconds=", 10)) g_seconds = atof(argv[i] + 10);
    else if (!strcmp(argv[i], "--smoke")) g_seconds = 0.3;
    else {
      fprintf(stderr, "usage: stress --mode=<churn|prodcons|xfree|realloc|fork|larson|mix|forkexit|all> [--threads=N] [--seconds=S] [--smoke]\n");
      return 2;
    }
  }
  if (g_threads < 2 || g_threads > 64) {
    fprintf(stderr, "stress: --threads must be 2..64\n");
    return 2;
  }
  int bad = 0, found = 0;
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    if (strcmp(mode, "all") && strcmp(mode, modes[i].name)) continue;
    found = 1;
    bad |= run_mode(&modes[i]);
  }
  if (!found) {
    fprintf(stderr, "stress: unknown mode %s\n", mode);
    return 2;
  }
  return bad;
}
