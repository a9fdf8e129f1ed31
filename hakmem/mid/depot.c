// depot.c — see depot.h. Lock-free: every operation is one CAS or exchange on a slot plus
// relaxed counter updates.
#include "hakmem/mid/depot.h"

#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/os.h"
#include "hakmem/tiny/engine.h"
#include "hakmem/track.h"

// One cache line per shard of a class, so threads on different shards do not share lines.
typedef struct {
  _Alignas(64) _Atomic(void *) slot[MID_DEPOT_SLOTS];
} depot_shard_t;

static depot_shard_t depot[TINY_NCLASS][MID_DEPOT_NSHARDS];
static _Atomic uint64_t depot_blocks, depot_bytes, depot_puts, depot_gets, depot_refused;
// When a bundle of each class was last put or taken (ms): a class nobody touched for the
// decay time holds memory an idle program no longer reuses (mid_depot_decay).
static _Atomic uint64_t depot_touched_ms[TINY_NCLASS];

#define RELAXED memory_order_relaxed

int mid_depot_put(unsigned c, void *head, uint32_t n, uint32_t seq) {
  unsigned shard = seq % MID_DEPOT_NSHARDS;
  uint64_t bytes = (uint64_t)n * tiny_class_stride[c];
  // Reserve the bytes first: the budget holds exactly even with racing puts.
  if (atomic_fetch_add_explicit(&depot_bytes, bytes, RELAXED) + bytes > (uint64_t)hak_cfg.mid_depot_bytes) {
    atomic_fetch_sub_explicit(&depot_bytes, bytes, RELAXED);
    atomic_fetch_add_explicit(&depot_refused, 1, RELAXED);
    return 0;
  }
  hak_aux_set(head, (uintptr_t)n);
  for (unsigned k = 0; k < MID_DEPOT_NSHARDS; k++) {
    depot_shard_t *sh = &depot[c][(shard + k) % MID_DEPOT_NSHARDS];
    for (unsigned i = 0; i < MID_DEPOT_SLOTS; i++) {
      void *expect = NULL;
      if (atomic_load_explicit(&sh->slot[i], RELAXED)) continue;
      // release: the chain's links and length are written before the bundle is visible.
      if (atomic_compare_exchange_strong_explicit(&sh->slot[i], &expect, head, memory_order_release, RELAXED)) {
        atomic_fetch_add_explicit(&depot_blocks, n, RELAXED);
        atomic_fetch_add_explicit(&depot_puts, 1, RELAXED);
        atomic_store_explicit(&depot_touched_ms[c], hak_os_now_ms(), RELAXED);
        return 1;
      }
    }
  }
  atomic_fetch_sub_explicit(&depot_bytes, bytes, RELAXED);
  atomic_fetch_add_explicit(&depot_refused, 1, RELAXED);
  return 0;
}

// Takes one bundle of class c without stamping the class (a decay pass's drain is no use).
static uint32_t depot_take(unsigned c, uint32_t seq, void **head) {
  unsigned shard = seq % MID_DEPOT_NSHARDS;
  for (unsigned k = 0; k < MID_DEPOT_NSHARDS; k++) {
    depot_shard_t *sh = &depot[c][(shard + k) % MID_DEPOT_NSHARDS];
    for (unsigned i = 0; i < MID_DEPOT_SLOTS; i++) {
      if (!atomic_load_explicit(&sh->slot[i], RELAXED)) continue;
      void *h = atomic_exchange_explicit(&sh->slot[i], NULL, memory_order_acquire);
      if (!h) continue;
      uint32_t n = (uint32_t)hak_aux_get(h);
      atomic_fetch_sub_explicit(&depot_blocks, n, RELAXED);
      atomic_fetch_sub_explicit(&depot_bytes, (uint64_t)n * tiny_class_stride[c], RELAXED);
      atomic_fetch_add_explicit(&depot_gets, 1, RELAXED);
      *head = h;
      return n;
    }
  }
  return 0;
}

uint32_t mid_depot_get(unsigned c, uint32_t seq, void **head) {
  uint32_t n = depot_take(c, seq, head);
  if (n) atomic_store_explicit(&depot_touched_ms[c], hak_os_now_ms(), RELAXED);
  return n;
}

size_t mid_depot_decay(uint64_t now_ms, uint64_t age_ms) {
  for (unsigned c = TINY_MID_FIRST; c < TINY_NCLASS; c++) {
    // A class stamped after this pass read its clock was used just now (hak_decay_idle).
    if (!hak_decay_idle(now_ms, atomic_load_explicit(&depot_touched_ms[c], RELAXED), age_ms)) continue;
    void *h;
    // depot_take leaves the stamp alone: a put racing with this drain keeps its own.
    while (depot_take(c, 0, &h)) tiny_free_chain_generic(h);
  }
  return (size_t)atomic_load_explicit(&depot_bytes, RELAXED);
}

void mid_depot_foreach(void (*fn)(unsigned c, void *head, uint32_t n, void *arg), void *arg) {
  for (unsigned c = TINY_MID_FIRST; c < TINY_NCLASS; c++)
    for (unsigned s = 0; s < MID_DEPOT_NSHARDS; s++)
      for (unsigned i = 0; i < MID_DEPOT_SLOTS; i++) {
        void *h = atomic_load_explicit(&depot[c][s].slot[i], memory_order_acquire);
        if (h) fn(c, h, (uint32_t)hak_aux_get(h), arg);
      }
}

// A fork may have cut another thread's put or get between its slot exchange and its
// counter updates (no lock to wait for): a put that reserved its bytes but never reached a
// slot left them counted, a get that emptied a slot left its bundle counted. The child
// (single-threaded) counts what its slots hold. The bundles those threads held are theirs,
// and stay out of their slabs like the rest of the vanished threads' caches.
static void count_bundle(unsigned c, void *head, uint32_t n, void *arg) {
  (void)head;
  uint64_t *sum = arg;  // blocks, bytes
  sum[0] += n;
  sum[1] += (uint64_t)n * tiny_class_stride[c];
}

void mid_depot_fork_child(void) {
  uint64_t sum[2] = {0, 0};
  mid_depot_foreach(count_bundle, sum);
  atomic_store_explicit(&depot_blocks, sum[0], RELAXED);
  atomic_store_explicit(&depot_bytes, sum[1], RELAXED);
}

void mid_depot_stats_get(mid_depot_stats_t *out) {
  out->blocks = atomic_load_explicit(&depot_blocks, RELAXED);
  out->bytes = atomic_load_explicit(&depot_bytes, RELAXED);
  out->puts = atomic_load_explicit(&depot_puts, RELAXED);
  out->gets = atomic_load_explicit(&depot_gets, RELAXED);
  out->refused = atomic_load_explicit(&depot_refused, RELAXED);
}
