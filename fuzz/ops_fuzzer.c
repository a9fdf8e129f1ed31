// ops_fuzzer — the operation-sequence harness. Input bytes decode into a program of
// allocator operations that three worker threads replay under a deterministic schedule
// (the main thread hands one operation at a time to its thread and waits), against a shadow
// model: every live block is filled with a pattern and verified, live blocks never overlap,
// usable size >= request, alignment holds, calloc memory is zero, and at checkpoints and at
// the end HAKMEM's own counters and hak_check_integrity() agree with the model.
//
// Failing OS calls: in a fault-injection build (--config=fault, os.c) OP_FAULT makes chosen
// mmap/munmap/madvise/mremap calls fail from then on. The model then also accepts NULL
// from an allocation, but only with errno ENOMEM and only when a fault was injected during
// that call; a failed realloc must leave the old block as it was. Everything else is checked
// as before: calloc zero after a refused madvise, realloc contents after a refused mremap,
// exact counters and integrity after refused munmaps. Elsewhere OP_FAULT does nothing.
//
// Program format: a sequence of records; the first byte selects thread (bits 0-1, 3 = same
// as previous) and operation (bits 2-5); operands follow (see decode()).
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem.h"
#include "hakmem/os.h"

#define NTHREADS 3
#define NSLOTS 48

enum { OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_ALIGNED, OP_FREE, OP_FREE_SIZED, OP_CHECK, OP_RESTART, OP_TRIM, OP_FLUSH, OP_FAULT, OP_COUNT };

// OP_FAULT's choices (hak_os_fault_set): failure rates per call kind, "" for none.
static const char *const fault_specs[] = {
    "",
    "madvise:1/2",
    "madvise:1/1",
    "mremap:1/2",
    "mremap:1/1",
    "mmap:1/3",
    "mmap:1/16",
    "munmap:1/2",
    "madvise:1/3,mremap:1/3,munmap:1/5,mmap:1/9,mincore:1/4,pagemap:1/3",
};
#define NFAULT_SPECS (sizeof fault_specs / sizeof fault_specs[0])
static int faults_on;  // a spec other than "" is in force

typedef struct {
  uint8_t *p;
  size_t size;
  size_t align;
  uint8_t pat;
  uint8_t sparse;    // the pattern goes on every 16th page only (and the first 4 KiB)
  size_t zero_upto;  // bytes below this that carry no pattern are known zero (calloc)
} slot_t;

static slot_t slots[NSLOTS];

typedef struct {
  int op, slot;
  size_t size, n, align;
  uint8_t pat;
} op_t;

// ---------------------------------------------------------------- deterministic workers

typedef struct {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const op_t *op;  // non-NULL: work to do
  int quit;
  int started;
} worker_t;

static worker_t workers[NTHREADS];
static void exec_op(const op_t *op);

static void *worker_main(void *arg) {
  worker_t *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->op && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
    if (w->quit && !w->op) break;
    exec_op(w->op);
    w->op = NULL;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void worker_start(worker_t *w) {
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->op = NULL;
  w->quit = 0;
  pthread_create(&w->th, NULL, worker_main, w);
  w->started = 1;
}

static void worker_stop(worker_t *w) {
  pthread_mutex_lock(&w->mu);
  w->quit = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->th, NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  w->started = 0;
}

// Runs op on worker t and waits for it: one operation at a time, so every run replays.
static void run_on(int t, const op_t *op) {
  worker_t *w = &workers[t];
  if (!w->started) worker_start(w);
  pthread_mutex_lock(&w->mu);
  w->op = op;
  pthread_cond_broadcast(&w->cv);
  while (w->op) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

// ---------------------------------------------------------------- the model

static void die(const char *what, const slot_t *s) {
  fprintf(stderr, "ops_fuzzer: %s (block %p size %zu align %zu)\n", what, s ? (void *)s->p : NULL, s ? s->size : 0,
          s ? s->align : 0);
  abort();
}

// Bytes of a block that carry the pattern: all of a small block; the first and last 4 KiB
// and one byte per page in between for big ones (keeps executions fast, still catches
// overlap and stale mappings).
static size_t next_idx(size_t i, size_t size) {
  if (size <= 65536 || i < 4096 || i + 4096 >= size) return i + 1;
  size_t j = (i | 4095) + 1;
  return j + 4096 > size ? size - 4096 : j;
}

// A sparse block (one in four of those over 64 KiB) leaves most of its pages unwritten, so
// realloc's copy (pagecopy.c) has pages to skip: the ones written must arrive, and a calloc
// block's unwritten ones must still read zero after a move, into a fresh block or into
// pages that held other blocks.
static int carries_pattern(const slot_t *s, size_t i) { return !s->sparse || i < 4096 || (i / 4096) % 16 == 0; }

static void fill(slot_t *s) {
  for (size_t i = 0; i < s->size; i = next_idx(i, s->size))
    if (carries_pattern(s, i)) s->p[i] = (uint8_t)(s->pat + i * 31);
}

// The unwritten bytes are read (zeros checked) only right after a realloc: a read of a page
// never written maps the kernel's zero page, and the next move would copy it like data.
static void verify_zeros(const slot_t *s, size_t upto, int zeros) {
  for (size_t i = 0; i < upto && i < s->size; i = next_idx(i, s->size)) {
    if (carries_pattern(s, i)) {
      if (s->p[i] != (uint8_t)(s->pat + i * 31)) die("block contents changed while live", s);
    } else if (zeros && i < s->zero_upto && s->p[i]) {
      die("an unwritten byte of a calloc block is no longer zero after realloc", s);
    }
  }
}

static void verify(const slot_t *s, size_t upto) { verify_zeros(s, upto, 0); }

// An allocation's NULL is acceptable only as ENOMEM caused by an injected fault.
static int failed_by_fault(unsigned long injected_before, int err) {
  return faults_on && err == ENOMEM && hak_os_faults_injected() > injected_before;
}

static void check_new(slot_t *s, int zeroed) {
  if (!s->p) die("allocation failed", s);
  if ((uintptr_t)s->p % (s->align > 16 ? s->align : 16)) die("misaligned block", s);
  if (hak_usable_size(s->p) < s->size) die("usable size below the request", s);
  if (zeroed)
    for (size_t i = 0; i < s->size; i = next_idx(i, s->size))  // a sparse block's other bytes: after a realloc
      if (carries_pattern(s, i) && s->p[i]) die("calloc memory not zero", s);
  for (int k = 0; k < NSLOTS; k++) {
    slot_t *o = &slots[k];
    if (o == s || !o->p) continue;
    size_t a = o->size ? o->size : 1, b = s->size ? s->size : 1;
    if (s->p < o->p + a && o->p < s->p + b) die("two live blocks overlap", s);
  }
}

static void model_check(void) {
  size_t bad = hak_check_integrity();
  if (bad) die("hak_check_integrity reported violations", NULL);
}

static int trace = -1;  // OPS_TRACE=1 prints every operation (for minimising crashes)

static void exec_op(const op_t *op) {
  slot_t *s = &slots[op->slot];
  if (trace) fprintf(stderr, "op %d slot %d size %zu n %zu align %zu (slot has %p/%zu)\n", op->op, op->slot, op->size,
                     op->n, op->align, (void *)s->p, s->size);
  switch (op->op) {
    case OP_MALLOC:
    case OP_CALLOC:
    case OP_ALIGNED:
      if (s->p) {
        verify(s, s->size);
        hak_free(s->p);
      }
      s->size = op->op == OP_CALLOC ? op->n * op->size : op->size;
      s->align = op->op == OP_ALIGNED ? op->align : 0;
      s->pat = op->pat;
      s->sparse = s->size > 65536 && (op->pat & 3) == 0;
      s->zero_upto = op->op == OP_CALLOC ? s->size : 0;
      {
        unsigned long injected = hak_os_faults_injected();
        int err = 0;
        errno = 0;
        if (op->op == OP_MALLOC) s->p = hak_malloc(s->size);
        else if (op->op == OP_CALLOC) s->p = hak_calloc(op->n, op->size);
        else if ((err = hak_posix_memalign((void **)&s->p, op->align, s->size)) != 0) s->p = NULL;
        if (!s->p && failed_by_fault(injected, op->op == OP_ALIGNED ? err : errno)) {
          s->sparse = 0, s->zero_upto = 0;
          break;
        }
      }
      check_new(s, op->op == OP_CALLOC);
      fill(s);
      break;
    case OP_REALLOC: {
      if (!s->p) break;
      verify(s, s->size);
      unsigned long injected = hak_os_faults_injected();
      errno = 0;
      uint8_t *q = hak_realloc(s->p, op->size);
      if (!q && op->size && failed_by_fault(injected, errno)) {  // the old block stays as it was
        verify(s, s->size);
        break;
      }
      if (op->size == 0) {  // glibc semantics: freed, NULL returned
        if (q) die("realloc(p, 0) returned a block", s);
        s->p = NULL;
        break;
      }
      slot_t old = *s;  // the pattern was laid out for the old size
      old.p = q;
      size_t keep = s->size < op->size ? s->size : op->size;
      s->p = q;
      s->size = op->size;
      s->align = 0;
      if (s->zero_upto > keep) s->zero_upto = keep;  // what realloc adds holds anything
      check_new(s, 0);
      verify_zeros(&old, keep, 1);
      fill(s);
      break;
    }
    case OP_FREE:
    case OP_FREE_SIZED:
      if (!s->p) break;
      verify(s, s->size);
      if (op->op == OP_FREE_SIZED) hak_free_sized(s->p, s->size);
      else hak_free(s->p);
      s->p = NULL;
      break;
    case OP_TRIM:
      hak_trim(0);
      break;
    case OP_FLUSH:
      hak_thread_flush();
      break;
  }
}

// Checkpoint: counters must equal the model (no cached blocks are "live").
static void checkpoint(void) {
  model_check();
  size_t live = 0;
  for (int k = 0; k < NSLOTS; k++) live += slots[k].p != NULL;
  hak_stats_t st;
  st.size = sizeof st;
  hak_stats_get(&st);
  if (st.tiny_live_blocks + st.pool_live_blocks + st.large_live != live) {
    fprintf(stderr,
            "ops_fuzzer: COUNTER MISMATCH: HAKMEM says %llu live blocks (tiny %llu + pool %llu + large %llu), model says %zu\n",
            (unsigned long long)(st.tiny_live_blocks + st.pool_live_blocks + st.large_live),
            (unsigned long long)st.tiny_live_blocks, (unsigned long long)st.pool_live_blocks,
            (unsigned long long)st.large_live, live);
    abort();
  }
}

// ---------------------------------------------------------------- decoding

static size_t rd(const uint8_t **d, size_t *n, int bytes) {
  size_t v = 0;
  for (int i = 0; i < bytes; i++) {
    v = v << 8 | (*n ? **d : 0);
    if (*n) (*d)++, (*n)--;
  }
  return v;
}

// Sizes cover every tier and the class boundaries around them.
static size_t decode_size(const uint8_t **d, size_t *n) {
  size_t sel = rd(d, n, 1), v = rd(d, n, 2);
  switch (sel & 3) {
    case 0: return v % 1025;                 // Tiny
    case 1: return 1024 + v % 7200;          // interim mid classes
    case 2: return 8000 + v * 4 % 300000;    // large path, cached sizes
    default:  // > 1 MiB (page heap), > 8 MiB (large tier: mremap on realloc), powers of two
      switch ((sel >> 2) % 4) {
        case 0: return (1 << 20) + v * 16;
        case 1: return (8 << 20) + v * 64;
        default: return (size_t)1 << (v % 21);
      }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int last_thread;
  op_t op;
  if (trace < 0) trace = getenv("OPS_TRACE") != NULL;
  memset(slots, 0, sizeof slots);
  last_thread = 0;
  while (size > 0) {
    uint8_t b = (uint8_t)rd(&data, &size, 1);
    int t = (b & 3) == 3 ? last_thread : (b & 3);
    last_thread = t;
    memset(&op, 0, sizeof op);
    op.op = (b >> 2) % OP_COUNT;
    op.slot = (int)(rd(&data, &size, 1) % NSLOTS);
    op.pat = (uint8_t)(b * 13 + op.slot);
    switch (op.op) {
      case OP_MALLOC: op.size = decode_size(&data, &size); break;
      case OP_CALLOC:
        op.n = 1 + rd(&data, &size, 1) % 64;
        op.size = decode_size(&data, &size) / op.n;
        break;
      case OP_REALLOC: op.size = decode_size(&data, &size); break;
      case OP_ALIGNED:
        op.align = (size_t)8 << (rd(&data, &size, 1) % 19);  // 8 B .. 2 MiB
        op.size = decode_size(&data, &size);
        break;
      case OP_CHECK: checkpoint(); continue;
      case OP_FAULT:  // refused by builds without fault injection
        faults_on = hak_os_fault_set(fault_specs[op.slot % NFAULT_SPECS]) == 0 && op.slot % NFAULT_SPECS != 0;
        continue;
      case OP_RESTART:
        if (workers[t].started) worker_stop(&workers[t]);  // thread exit drains its caches
        continue;
      default: break;
    }
    run_on(t, &op);
  }
  // End: no more faults; free everything, then counters and integrity must be exact.
  if (faults_on) hak_os_fault_set("");
  faults_on = 0;
  for (int k = 0; k < NSLOTS; k++) {
    if (!slots[k].p) continue;
    op_t f = {.op = OP_FREE, .slot = k};
    run_on(k % NTHREADS, &f);
  }
  checkpoint();
  return 0;
}
