// slab_fuzzer — the slab engine (hakmem/tiny) through its own seam, by size class: the
// inline thread-cache paths (tiny_alloc / tiny_free) and the slow paths behind them (carve,
// batch refill, flush, empty-slab reuse, SuperSlab release), the remote queue (a second
// thread frees the main thread's blocks and flushes them home, the owner drains its inbox),
// and heap abandonment and adoption (the second thread exits and is replaced). After every
// operation hak_check_integrity() must be clean (per slab used + cached + remote + free ==
// capacity, bitmaps, headers) and every live block must keep its fill byte.
//
// Record format: op byte (low 4 bits), class byte, count/fill byte.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/tiny/size_class.h"
#include "hakmem/tiny/tiny.h"

#define NSLOTS 512

typedef struct {
  uint8_t *p;
  unsigned cls;
  uint8_t fill;
} slot_t;

static slot_t slots[NSLOTS];
static unsigned next_slot;

static void die(const char *what, const void *p) {
  fprintf(stderr, "slab_fuzzer: %s (%p)\n", what, p);
  abort();
}

// ---------------------------------------------------------------- the remote thread

typedef struct {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int op;  // 0 idle, 1 free `arg`, 2 flush, 3 exit
  slot_t arg;
  int running;
} remote_t;

static remote_t rt = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *remote_main(void *unused) {
  (void)unused;
  pthread_mutex_lock(&rt.mu);
  for (;;) {
    while (!rt.op) pthread_cond_wait(&rt.cv, &rt.mu);
    int op = rt.op;
    if (op == 1) tiny_free(rt.arg.p, rt.arg.cls);  // into this thread's cache
    else if (op == 2) tiny_flush_thread_cache();   // remote pushes to the owner's slabs
    rt.op = 0;
    pthread_cond_broadcast(&rt.cv);
    if (op == 3) break;
  }
  pthread_mutex_unlock(&rt.mu);
  return NULL;
}

static void remote_do(int op, const slot_t *arg) {
  if (!rt.running) {
    if (pthread_create(&rt.th, NULL, remote_main, NULL) != 0) die("pthread_create failed", NULL);
    rt.running = 1;
  }
  pthread_mutex_lock(&rt.mu);
  if (arg) rt.arg = *arg;
  rt.op = op;
  pthread_cond_broadcast(&rt.cv);
  while (rt.op) pthread_cond_wait(&rt.cv, &rt.mu);
  pthread_mutex_unlock(&rt.mu);
  if (op == 3) {
    pthread_join(rt.th, NULL);
    rt.running = 0;
  }
}

// ---------------------------------------------------------------- model

static void verify(const slot_t *s) {
  size_t n = tiny_usable(s->cls);
  size_t m = n < 256 ? n : 256;
  for (size_t k = 0; k < m; k++)
    if (s->p[k] != s->fill) die("live block changed", s->p);
  if (s->p[n - 1] != s->fill) die("last byte of a live block changed", s->p);
  if (s->p[-1] != TINY_HDR_ALLOC_OF(s->cls)) die("live block's header changed", s->p);
}

static slot_t *take_slot(void) {
  for (unsigned k = 0; k < NSLOTS; k++) {
    slot_t *s = &slots[(next_slot + k) % NSLOTS];
    if (!s->p) {
      next_slot = (next_slot + k + 1) % NSLOTS;
      return s;
    }
  }
  return NULL;
}

static void alloc_one(unsigned c, uint8_t fill) {
  slot_t *s = take_slot();
  if (!s) return;
  uint8_t *p = tiny_alloc(c);
  if (!p) die("tiny_alloc returned NULL", NULL);
  if ((uintptr_t)p & 15) die("block not 16-byte aligned", p);
  for (unsigned k = 0; k < NSLOTS; k++)
    if (slots[k].p == p) die("block handed out twice", p);
  // A band class's miss may hand out a block of a larger class, at most twice the stride
  // (refill.c: band_borrow); the block keeps its class, which its header names.
  unsigned got = p[-1] & TINY_HDR_CLASS_MASK;
  if ((p[-1] & TINY_HDR_STATE_MASK) != TINY_HDR_ALLOC) die("handed out without an allocated header", p);
  if (got != c && !(tiny_band_of(c) && got > c && got < TINY_NFIXED &&
                    tiny_class_stride[got] <= 2 * tiny_class_stride[c]))
    die("block of an unrelated class", p);
  size_t n = tiny_usable(got);
  memset(p, fill, n < 256 ? n : 256);
  p[n - 1] = fill;
  s->p = p;
  s->cls = got;
  s->fill = fill;
}

static void free_slot(slot_t *s, int remote) {
  verify(s);
  if (remote) remote_do(1, s);
  else tiny_free(s->p, s->cls);
  s->p = NULL;
}

static void check(void) {
  if (hak_check_integrity() != 0) die("integrity check failed", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (size_t pos = 0; pos + 3 <= size; pos += 3) {
    unsigned op = data[pos] & 15, c = data[pos + 1] % TINY_NCLASS, arg = data[pos + 2];
    slot_t *s = &slots[(data[pos + 1] * 7u + arg) % NSLOTS];
    switch (op) {
      case 0:
      case 1:
        alloc_one(c, (uint8_t)arg);
        break;
      case 2:  // burst: enough blocks to carve several slabs and refill the cache repeatedly
        for (unsigned k = 0; k < 8 + arg % 120; k++) alloc_one(c, (uint8_t)(arg + k));
        break;
      case 3:
      case 4:
        if (s->p) free_slot(s, 0);
        break;
      case 5:
      case 6:  // cross-thread free: into the other thread's cache
        if (s->p) free_slot(s, 1);
        break;
      case 7:  // the other thread flushes: remote pushes onto the owner's slabs
        remote_do(2, NULL);
        break;
      case 8:  // the owner drains its inbox
        tiny_collect();
        break;
      case 9:  // free every block of class c (empties slabs; empty slabs change class)
        for (unsigned k = 0; k < NSLOTS; k++)
          if (slots[k].p && slots[k].cls == c) free_slot(&slots[k], (arg & 1) != 0);
        break;
      case 10:  // flush this thread's cache back to its slabs
        tiny_flush_thread_cache();
        break;
      case 11:  // the other thread exits (its heap is abandoned, later adopted)
        if (rt.running) remote_do(3, NULL);
        break;
      case 12:  // release cached SuperSlabs
        hak_trim(0);
        break;
      default:
        for (unsigned k = 0; k < NSLOTS; k++)
          if (slots[k].p) verify(&slots[k]);
        break;
    }
    check();
  }
  for (unsigned k = 0; k < NSLOTS; k++)
    if (slots[k].p) free_slot(&slots[k], 0);
  if (rt.running) {
    remote_do(2, NULL);
    remote_do(3, NULL);
  }
  tiny_collect();
  check();
  return 0;
}
