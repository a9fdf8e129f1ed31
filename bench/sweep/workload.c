// workload.c — one cell of the workload sweep (sweep.py): an allocation workload generated
// from six axes and a seed, run under whatever allocator is preloaded.
//
//   workload SIZE LIFETIME TOPOLOGY REALLOC TOUCH WS [SEED] [SCALE]
//
//   SIZE      fixed (64 B) | uniform (16 B - 4 KiB) | log (16 B - 1 MiB, log-uniform) |
//             bimodal (0 - 511 B, one in 16 of 4 - 64 KiB) | large (128 KiB - 4 MiB, log-uniform)
//   LIFETIME  lifo (fill the working set, free the newest half, again) | fifo (the oldest
//             goes) | random (any slot) | long (half the working set lives the whole run,
//             one in 64 replacements renews one of them; the rest churns at random) |
//             burst (fill the working set, free all of it, newest first, again)
//   TOPOLOGY  local (4 threads, each frees its own) | prodcons (2 producers, 2 consumers,
//             at most 1024 blocks in flight each) | pipeline (4 stages: each frees what it
//             receives and sends a block of the same size on) | alltoall (4 threads, each
//             block freed by a random other thread) | shortlived (waves of 4 threads, each
//             running 1/32 of the work and handing its live blocks to main)
//   REALLOC   none (free + malloc) | append (a block grows by an eighth until 64 KiB or the
//             size axis' top, then starts again small) | random (realloc to a fresh size of
//             the distribution) | same (realloc to its own size)
//   TOUCH     none (never written) | first (first byte) | pages (a byte per 4 KiB page) |
//             all (memset)
//   WS        live blocks per thread (the working set)
//
// Every touched block carries a tag in its first byte that is checked when it is freed or
// resized: a wrong byte aborts (an allocator that hands out overlapping blocks fails). The
// result line is bench_common.h's, with cell= naming the cell.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"

enum { SZ_FIXED, SZ_UNIFORM, SZ_LOG, SZ_BIMODAL, SZ_LARGE };
enum { LT_LIFO, LT_FIFO, LT_RANDOM, LT_LONG, LT_BURST };
enum { TP_LOCAL, TP_PRODCONS, TP_PIPELINE, TP_ALLTOALL, TP_SHORTLIVED };
enum { RA_NONE, RA_APPEND, RA_RANDOM, RA_SAME };
enum { TO_NONE, TO_FIRST, TO_PAGES, TO_ALL };

static const char *const size_names[] = {"fixed", "uniform", "log", "bimodal", "large", NULL};
static const char *const life_names[] = {"lifo", "fifo", "random", "long", "burst", NULL};
static const char *const topo_names[] = {"local", "prodcons", "pipeline", "alltoall", "shortlived", NULL};
static const char *const realloc_names[] = {"none", "append", "random", "same", NULL};
static const char *const touch_names[] = {"none", "first", "pages", "all", NULL};

#define NTHREADS 4
#define INFLIGHT_MAX 1024
#define APPEND_MAX (64u << 10)

static int g_size, g_life, g_topo, g_realloc, g_touch;
static long g_ws;
static long g_ops;  // replacements per thread
static uint64_t g_seed;
static atomic_long g_done_ops;

static int pick(const char *s, const char *const *names, const char *axis) {
  for (int i = 0; names[i]; i++)
    if (!strcmp(s, names[i])) return i;
  fprintf(stderr, "workload: unknown %s '%s'\n", axis, s);
  exit(2);
}

static size_t log_uniform(uint64_t *r, double lo, double hi) {
  double u = (double)(bench_rng(r) >> 11) / 9007199254740992.0;
  double v = lo * __builtin_exp(u * __builtin_log(hi / lo));
  return (size_t)v;
}

static size_t draw_size(uint64_t *r) {
  switch (g_size) {
    case SZ_FIXED: return 64;
    case SZ_UNIFORM: return 16 + bench_rng(r) % 4081;
    case SZ_LOG: return log_uniform(r, 16, 1 << 20);
    case SZ_BIMODAL: return bench_rng(r) % 16 == 0 ? 4096 + bench_rng(r) % (60 << 10) : 16 + bench_rng(r) % 496;
    default: return log_uniform(r, 128 << 10, 4 << 20);
  }
}

// The size axis' mean, for scaling the number of operations to a similar byte volume.
static double mean_size(void) {
  switch (g_size) {
    case SZ_FIXED: return 64;
    case SZ_UNIFORM: return 2048;
    case SZ_LOG: return 75000;  // (1 MiB - 16) / ln(65536)
    case SZ_BIMODAL: return 2500;
    default: return 1.1e6;
  }
}

// A block in flight or in a slot: its size is kept beside it (slot) or in it (mailbox).
typedef struct {
  uint8_t *p;
  size_t n;
} blk_t;

static uint8_t tag_of(const uint8_t *p, size_t n) { return (uint8_t)(((uintptr_t)p >> 4) ^ n ^ 0x5a); }

static void touch(uint8_t *p, size_t n, size_t from) {
  if (g_touch == TO_NONE || !n) return;
  if (g_touch == TO_ALL) {
    if (n > from) memset(p + from, 0x33, n - from);
  } else if (g_touch == TO_PAGES) {
    for (size_t i = from & ~(size_t)4095; i < n; i += 4096)
      if (i >= from) p[i] = 0x33;
  }
  p[0] = tag_of(p, n);
}

static void check(const uint8_t *p, size_t n) {
  if (g_touch != TO_NONE && n && p[0] != tag_of(p, n)) {
    fprintf(stderr, "workload: block %p (%zu B) was overwritten while live\n", (const void *)p, n);
    abort();
  }
}

static blk_t make(uint64_t *r) {
  size_t n = g_realloc == RA_APPEND ? 16 + bench_rng(r) % 48 : draw_size(r);
  uint8_t *p = malloc(n);
  if (!p) {
    fprintf(stderr, "workload: malloc(%zu) failed\n", n);
    exit(1);
  }
  touch(p, n, 0);
  return (blk_t){p, n};
}

static void release_free(blk_t b) {
  check(b.p, b.n);
  free(b.p);
}

// A slot's block replaced: by a realloc of it (the realloc axis), or returns 0 when the
// caller must release it and make a new one.
static int replace_by_realloc(blk_t *b, uint64_t *r) {
  size_t n;
  switch (g_realloc) {
    case RA_APPEND: {
      size_t top = g_size == SZ_LARGE ? (8u << 20) : APPEND_MAX;
      n = b->n + b->n / 8 + 16;
      if (n > top) return 0;
      break;
    }
    case RA_RANDOM: n = draw_size(r); break;
    case RA_SAME: n = b->n; break;
    default: return 0;
  }
  check(b->p, b->n);
  uint8_t old_tag = b->p[0];
  uint8_t *q = realloc(b->p, n);
  if (!q) {
    fprintf(stderr, "workload: realloc(%zu) failed\n", n);
    exit(1);
  }
  if (g_touch != TO_NONE && q[0] != old_tag) {
    fprintf(stderr, "workload: realloc to %zu B lost the block's contents\n", n);
    abort();
  }
  size_t keep = b->n < n ? b->n : n;
  b->p = q;
  b->n = n;
  touch(q, n, keep);
  if (g_touch != TO_NONE) q[0] = tag_of(q, n);
  return 1;
}

// ---------------------------------------------------------------- mailboxes

typedef struct {
  pthread_mutex_t m;
  pthread_cond_t not_empty, not_full;
  blk_t *q;
  long head, n, cap;  // a ring of cap entries
  int closed;
} mbox_t;

static mbox_t boxes[NTHREADS];

static void mbox_init(mbox_t *b, long cap) {
  pthread_mutex_init(&b->m, NULL);
  pthread_cond_init(&b->not_empty, NULL);
  pthread_cond_init(&b->not_full, NULL);
  b->cap = cap;
  // Allocated before the measured phase; 16 KiB, the same under every allocator.
  b->q = malloc(sizeof(blk_t) * (size_t)cap);
  b->head = b->n = 0;
  b->closed = 0;
}

static void mbox_put(mbox_t *b, blk_t x) {
  pthread_mutex_lock(&b->m);
  while (b->n == b->cap) pthread_cond_wait(&b->not_full, &b->m);
  b->q[(b->head + b->n) % b->cap] = x;
  b->n++;
  pthread_cond_signal(&b->not_empty);
  pthread_mutex_unlock(&b->m);
}

// 0 when the box is full (the caller drains its own box meanwhile: all-to-all threads
// send to each other, and waiting there could close a circle).
static int mbox_try_put(mbox_t *b, blk_t x) {
  pthread_mutex_lock(&b->m);
  int ok = b->n < b->cap;
  if (ok) {
    b->q[(b->head + b->n) % b->cap] = x;
    b->n++;
    pthread_cond_signal(&b->not_empty);
  }
  pthread_mutex_unlock(&b->m);
  return ok;
}

// 1 and *x, or 0 once the box is closed and empty; wait: block until one arrives.
static int mbox_get(mbox_t *b, blk_t *x, int wait) {
  pthread_mutex_lock(&b->m);
  while (!b->n && !b->closed && wait) pthread_cond_wait(&b->not_empty, &b->m);
  if (!b->n) {
    pthread_mutex_unlock(&b->m);
    return 0;
  }
  *x = b->q[b->head];
  b->head = (b->head + 1) % b->cap;
  b->n--;
  pthread_cond_signal(&b->not_full);
  pthread_mutex_unlock(&b->m);
  return 1;
}

static void mbox_close(mbox_t *b) {
  pthread_mutex_lock(&b->m);
  b->closed = 1;
  pthread_cond_broadcast(&b->not_empty);
  pthread_mutex_unlock(&b->m);
}

// ---------------------------------------------------------------- the allocating loop

typedef struct {
  int id;
  long ops;
  blk_t *slot;  // the working set
  long live;
  uint64_t rng;
} worker_t;

static void drain_own(worker_t *w);

// Where a block the loop lets go of goes: freed here, or sent to another thread.
static void release(worker_t *w, blk_t b) {
  switch (g_topo) {
    case TP_PRODCONS: mbox_put(&boxes[NTHREADS / 2 + w->id % (NTHREADS / 2)], b); break;
    case TP_PIPELINE: mbox_put(&boxes[1], b); break;
    case TP_ALLTOALL: {
      int to = (int)(bench_rng(&w->rng) % (NTHREADS - 1));
      if (to >= w->id) to++;
      check(b.p, b.n);
      while (!mbox_try_put(&boxes[to], b)) drain_own(w);
      break;
    }
    default: release_free(b);
  }
}

static void drain_own(worker_t *w) {
  blk_t b;
  if (g_topo != TP_ALLTOALL) return;
  while (mbox_get(&boxes[w->id], &b, 0)) release_free(b);
}

// The slot the next replacement takes (a LIFO run frees its newest half, then refills).
static long next_slot(worker_t *w, long i, int *fill) {
  switch (g_life) {
    case LT_FIFO: return i % g_ws;
    case LT_RANDOM: return (long)(bench_rng(&w->rng) % (uint64_t)g_ws);
    case LT_LONG: {
      long half = g_ws / 2 ? g_ws / 2 : 1;
      if (bench_rng(&w->rng) % 64 == 0) return (long)(bench_rng(&w->rng) % (uint64_t)half);
      return half + (long)(bench_rng(&w->rng) % (uint64_t)(g_ws - half ? g_ws - half : 1));
    }
    default: {  // LIFO: pop down to half (a burst: to nothing), push back up to full
      if (*fill && w->live == g_ws) *fill = 0;
      if (!*fill && w->live <= (g_life == LT_BURST ? 0 : g_ws / 2)) *fill = 1;
      return -1;
    }
  }
}

static void run_loop(worker_t *w) {
  int fill = 1;
  for (long i = 0; i < w->ops; i++) {
    long s = next_slot(w, i, &fill);
    if (s < 0) {  // LIFO
      if (fill) {
        w->slot[w->live++] = make(&w->rng);
      } else {
        blk_t *top = &w->slot[w->live - 1];
        if (replace_by_realloc(top, &w->rng)) continue;
        release(w, *top);
        top->p = NULL;
        w->live--;
      }
    } else if (!w->slot[s].p) {
      w->slot[s] = make(&w->rng);
      w->live++;
    } else if (!replace_by_realloc(&w->slot[s], &w->rng)) {
      release(w, w->slot[s]);
      w->slot[s] = make(&w->rng);
    }
    if ((i & 63) == 0) drain_own(w);
  }
  atomic_fetch_add(&g_done_ops, w->ops);
}

static void release_all(worker_t *w) {
  for (long s = 0; s < g_ws; s++)
    if (w->slot[s].p) release(w, w->slot[s]);
  memset(w->slot, 0, sizeof(blk_t) * (size_t)g_ws);
  w->live = 0;
}

static worker_t workers[NTHREADS];
static atomic_int g_running;

static void *worker_main(void *arg) {
  worker_t *w = arg;
  if (g_topo == TP_PRODCONS && w->id >= NTHREADS / 2) {  // a consumer
    blk_t b;
    while (mbox_get(&boxes[w->id], &b, 1)) release_free(b);
    return NULL;
  }
  if (g_topo == TP_PIPELINE && w->id > 0) {  // a stage: free what comes, send one like it
    blk_t b;
    while (mbox_get(&boxes[w->id], &b, 1)) {
      size_t n = b.n;
      release_free(b);
      if (w->id == NTHREADS - 1) continue;
      uint8_t *p = malloc(n ? n : 1);
      touch(p, n, 0);
      mbox_put(&boxes[w->id + 1], (blk_t){p, n});
    }
    if (w->id < NTHREADS - 1) mbox_close(&boxes[w->id + 1]);
    return NULL;
  }
  run_loop(w);
  release_all(w);
  if (g_topo == TP_ALLTOALL) {  // keep freeing what others send until every sender is done
    atomic_fetch_sub(&g_running, 1);
    while (atomic_load(&g_running) > 0) drain_own(w);
    drain_own(w);
  }
  return NULL;
}

// Short-lived threads: each runs a slice of the work and leaves its live blocks to main.
static void *short_main(void *arg) {
  worker_t *w = arg;
  run_loop(w);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: workload SIZE LIFETIME TOPOLOGY REALLOC TOUCH WS [SEED] [SCALE]\n");
    return 2;
  }
  g_size = pick(argv[1], size_names, "size");
  g_life = pick(argv[2], life_names, "lifetime");
  g_topo = pick(argv[3], topo_names, "topology");
  g_realloc = pick(argv[4], realloc_names, "realloc");
  g_touch = pick(argv[5], touch_names, "touch");
  g_ws = atol(argv[6]);
  g_seed = argc > 7 ? strtoull(argv[7], NULL, 10) : 1;
  double scale = argc > 8 ? atof(argv[8]) : 1.0;
  if (g_ws < 2) g_ws = 2;
  // About 1 GiB of allocation per thread at scale 1 for the byte-heavy distributions,
  // 400k replacements at most.
  double ops = 1e9 * scale / mean_size();
  if (ops > 400000 * scale) ops = 400000 * scale;
  if (ops < 200) ops = 200;
  g_ops = (long)ops;

  char cell[160];
  snprintf(cell, sizeof cell, "cell=%s/%s/%s/%s/%s/%ld seed=%llu", argv[1], argv[2], argv[3], argv[4], argv[5], g_ws,
           (unsigned long long)g_seed);
  for (int i = 0; i < NTHREADS; i++) {
    // Bounded boxes: producers and pipeline stages wait for their consumers, all-to-all
    // senders drain their own box while the one they send to is full.
    mbox_init(&boxes[i], INFLIGHT_MAX);
  }
  for (int i = 0; i < NTHREADS; i++) {
    workers[i].id = i;
    workers[i].ops = g_ops;
    workers[i].slot = calloc((size_t)g_ws, sizeof(blk_t));
    workers[i].rng = g_seed * 0x9E3779B97F4A7C15ull + (uint64_t)i + 1;
  }

  double t0 = bench_now();
  if (g_topo == TP_SHORTLIVED) {
    const int waves = 32;
    for (int wv = 0; wv < waves; wv++) {
      pthread_t th[NTHREADS];
      for (int i = 0; i < NTHREADS; i++) {
        workers[i].ops = g_ops / waves > 1 ? g_ops / waves : 1;
        pthread_create(&th[i], NULL, short_main, &workers[i]);
      }
      for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        release_all(&workers[i]);  // main frees what the exited thread left
      }
    }
  } else {
    pthread_t th[NTHREADS];
    int allocating = g_topo == TP_PRODCONS ? NTHREADS / 2 : g_topo == TP_PIPELINE ? 1 : NTHREADS;
    atomic_store(&g_running, allocating);
    for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, worker_main, &workers[i]);
    for (int i = 0; i < allocating; i++) pthread_join(th[i], NULL);
    if (g_topo == TP_PRODCONS)
      for (int i = NTHREADS / 2; i < NTHREADS; i++) mbox_close(&boxes[i]);
    if (g_topo == TP_PIPELINE) mbox_close(&boxes[1]);
    for (int i = allocating; i < NTHREADS; i++) pthread_join(th[i], NULL);
    blk_t b;
    for (int i = 0; i < NTHREADS; i++)
      while (mbox_get(&boxes[i], &b, 0)) release_free(b);
  }
  double secs = bench_now() - t0;
  bench_report("sweep_cell", (double)atomic_load(&g_done_ops), secs, cell);
  return 0;
}
