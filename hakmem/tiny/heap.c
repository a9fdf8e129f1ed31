// heap.c — refill, flush, remote frees and thread lifecycle of the slab engine.
//
// Owns: heap lists (avail/with_free/owned), slab counters (used, free_count, carved) and the
// SuperSlab active count. Every counter change happens in take_from_slab() or put_chain();
// nothing else writes them (a refill path that forgets one breaks the counters the checker compares).
#include "hakmem/tiny/heap.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/init.h"
#include "hakmem/os.h"
#include "hakmem/tiny/depot.h"
#include "hakmem/track.h"
#include "hakmem/timing.h"


HAK_TLS tiny_tls_t *tiny_me = &tiny_none;
HAK_TLS uint8_t tiny_state;
tiny_tls_t tiny_none;  // never written: every fast path finds room 0 / an empty list


// Lock order (the whole allocator's is in lifecycle.c): heap_list_lock, dead_lock, a
// heap's lock (never two at once but by trylock), then the SuperSlab cache lock.
static pthread_mutex_t heap_list_lock = PTHREAD_MUTEX_INITIALIZER;
static tiny_heap_t *heaps_all, *heaps_abandoned;
static uint64_t n_heaps, n_abandoned;
static tiny_totals_t exited;  // counters of threads that have exited (heap_list_lock)
static pthread_key_t tiny_key;
static int tiny_key_ready;

// Threads whose caches are gone (after their TLS destructor ran) share this heap.
static pthread_mutex_t dead_lock = PTHREAD_MUTEX_INITIALIZER;
static tiny_heap_t *dead_heap;
static uint64_t dead_refilled, dead_flushed;  // dead_lock

// ---------------------------------------------------------------- heap lists

#define DLIST_LINK(headp, node, nx, pv) \
  do {                                   \
    (node)->pv = NULL;                   \
    (node)->nx = *(headp);               \
    if (*(headp)) (*(headp))->pv = (node); \
    *(headp) = (node);                   \
  } while (0)
#define DLIST_UNLINK(headp, node, nx, pv)      \
  do {                                         \
    if ((node)->pv) (node)->pv->nx = (node)->nx; \
    else *(headp) = (node)->nx;                \
    if ((node)->nx) (node)->nx->pv = (node)->pv; \
    (node)->nx = (node)->pv = NULL;            \
  } while (0)

#if HAKMEM_LEARNER
// Sets bin c's capacity, flushing blocks the new capacity has no room for.
static void tiny_bin_set_cap(tiny_tls_t *t, unsigned c, uint32_t cap);

// The learner's window, when one is due: this thread's counters in, capacities out (the
// learner sees only tiny_learn_t, see learn_driver.h).
static void learn_tick(tiny_tls_t *t) {
  tiny_learn_t *L = &t->learn;
  if (!tiny_learn_due(L)) return;
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    L->allocs[c] = t->bin[c].allocs;
    L->cap_want[c] = t->bin[c].cap;
  }
  tiny_learn_window(L);
  for (unsigned c = TINY_LEARN_FIRST; c < TINY_NCLASS; c++)
    if (L->cap_want[c] != t->bin[c].cap) tiny_bin_set_cap(t, c, L->cap_want[c]);
}
#endif

static void avail_link(tiny_heap_t *h, superslab_t *ss, unsigned c) {
  if (ss->in_avail[c]) return;
  ss->in_avail[c] = 1;
  DLIST_LINK(&h->avail[c], ss, cnext[c], cprev[c]);
}
static void avail_unlink(tiny_heap_t *h, superslab_t *ss, unsigned c) {
  if (!ss->in_avail[c]) return;
  ss->in_avail[c] = 0;
  DLIST_UNLINK(&h->avail[c], ss, cnext[c], cprev[c]);
}
static void free_link(tiny_heap_t *h, superslab_t *ss) {
  if (ss->in_free_list) return;
  ss->in_free_list = 1;
  DLIST_LINK(&h->with_free[ss->kind], ss, fnext, fprev);
}
static void free_unlink(tiny_heap_t *h, superslab_t *ss) {
  if (!ss->in_free_list) return;
  ss->in_free_list = 0;
  DLIST_UNLINK(&h->with_free[ss->kind], ss, fnext, fprev);
}

static void heap_release_ss(tiny_heap_t *h, superslab_t *ss) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) avail_unlink(h, ss, c);
  free_unlink(h, ss);
  DLIST_UNLINK(&h->owned, ss, onext, oprev);
  h->n_owned--;
  h->n_empty--;
  ss_release(ss);
}

// ---------------------------------------------------------------- counters: take / put

static void set_nonempty(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s) {
  ss->nonempty[s->cls] |= 1u << s->idx;
  avail_link(h, ss, s->cls);
}
static void clear_nonempty(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s) {
  ss->nonempty[s->cls] &= ~(1u << s->idx);
  if (!ss->nonempty[s->cls]) avail_unlink(h, ss, s->cls);
}

// Moves up to `want` blocks out of slab s into a NULL-terminated chain (ascending addresses
// for carved blocks; *tail_out its last block). used and active grow by exactly the number
// returned.
static uint32_t take_from_slab(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, uint32_t want, void **out,
                               void **tail_out) {
  void *head = NULL, *tail = NULL;
  uint32_t n = 0;
  if (want && s->free) {
    head = tail = s->free;
    n = 1;
    while (n < want && hak_next_get(tail)) tail = hak_next_get(tail), n++;
    s->free = hak_next_get(tail);
  }
  s->free_count = (uint16_t)(s->free_count - n);
  const uint8_t hdr = TINY_HDR_FREE_OF(s->cls);
  while (n < want && s->carved < s->capacity) {
    uint8_t *b = s->begin + SS_BLOCK_LEAD + (size_t)s->carved * s->stride;
    b[-1] = hdr;
    if (tail) hak_next_set(tail, b);
    else head = b;
    tail = b;
    HAK_TRACK_CARVE(b, (size_t)s->stride - 1u);
    s->carved++;
    n++;
  }
  if (tail) hak_next_set(tail, NULL);
  if (n && ss->active == 0) h->n_empty--;
#if HAKMEM_INJECT_REFILL_COUNTER
  // Deliberate bug (--//cfg:inject_bug=refill_counter): a full batch forgets one block.
  s->used = (uint16_t)(s->used + n - (n == want && n > 4));
#else
  s->used = (uint16_t)(s->used + n);
#endif
  ss->active += n;
  if (!slab_has_free(s)) clear_nonempty(h, ss, s);
  *out = head;
  *tail_out = tail;
  return n;
}

// Returns a chain of k blocks (head..tail, all of slab s) to the slab's free list.
static void put_chain(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, void *head, void *tail, uint32_t k) {
  int was_full = !slab_has_free(s);
  hak_next_set(tail, s->free);
  s->free = head;
  s->free_count = (uint16_t)(s->free_count + k);
  s->used = (uint16_t)(s->used - k);
  ss->active -= k;
  if (was_full) set_nonempty(h, ss, s);
#if HAKMEM_EMPTY_SLAB_REUSE
  if (s->used == 0) {
    clear_nonempty(h, ss, s);
    ss_slab_unassign(ss, s);
    free_link(h, ss);
  }
#endif
  if (ss->active == 0) {
    h->n_empty++;
    // Keep one empty SuperSlab per heap so a steady alloc/free cycle never maps/unmaps.
    if (h->n_empty > 1) heap_release_ss(h, ss);
  }
}

// ---------------------------------------------------------------- remote frees

// Pushes a chain of blocks of slab s (owned by another heap) with one CAS; the pusher that
// finds the queued bit clear also queues the slab in the owner's inbox.
static void remote_push_chain(tiny_slab_t *s, void *head, void *tail) {
  uintptr_t old = atomic_load_explicit(&s->remote, memory_order_relaxed);
  do {
    hak_next_set(tail, (void *)(old & ~(uintptr_t)1));
    // acq_rel: when this push is the one that re-queues the slab, it must see the owner's
    // read of inbox_next (done before the owner's draining exchange) as complete.
  } while (!atomic_compare_exchange_weak_explicit(&s->remote, &old, (uintptr_t)head | 1, memory_order_acq_rel,
                                                  memory_order_relaxed));
  if (old & 1) return;  // already queued: the slab may be released any time from now on
  tiny_heap_t *owner = ss_of(s)->owner;
  tiny_slab_t *top = atomic_load_explicit(&owner->inbox, memory_order_relaxed);
  do {
    s->inbox_next = top;
  } while (!atomic_compare_exchange_weak_explicit(&owner->inbox, &top, s, memory_order_release, memory_order_relaxed));
}

static void drain_inbox_impl(tiny_heap_t *h);
static void drain_inbox(tiny_heap_t *h) {
  HAK_TIME_START(t0);
  drain_inbox_impl(h);
  HAK_TIME_END(HT_TINY_DRAIN, t0);
}
static void drain_inbox_impl(tiny_heap_t *h) {
  tiny_slab_t *s = atomic_exchange_explicit(&h->inbox, NULL, memory_order_acquire);
  while (s) {
#if HAKMEM_INJECT_REMOTE_RACE
    // Deliberate bug (--//cfg:inject_bug=remote_race): the link is read after the slab was
    // released to pushers, who may already be rewriting it.
    uintptr_t r = atomic_exchange_explicit(&s->remote, 0, memory_order_relaxed);
    tiny_slab_t *next = s->inbox_next;
#else
    tiny_slab_t *next = s->inbox_next;  // read before the slab can be queued again
    // acq_rel: acquire the pushed blocks; release our read of inbox_next to the next pusher.
    uintptr_t r = atomic_exchange_explicit(&s->remote, 0, memory_order_acq_rel);
#endif
    void *head = (void *)(r & ~(uintptr_t)1), *tail = head;
    uint32_t k = 1;
    while (hak_next_get(tail)) tail = hak_next_get(tail), k++;
    h->remote_drained += k;
    put_chain(h, ss_of(s), s, head, tail, k);
    s = next;
  }
}

// ---------------------------------------------------------------- refill

// Takes up to `want` blocks of class c from one slab of heap h (assigning a slab, and
// acquiring a SuperSlab, when no slab of the class has free blocks).
static uint32_t heap_take(tiny_heap_t *h, unsigned c, uint32_t want, void **out, void **tail) {
  superslab_t *ss = h->avail[c];
  if (!ss && atomic_load_explicit(&h->inbox, memory_order_relaxed)) {
    drain_inbox(h);
    ss = h->avail[c];
  }
  if (!ss) {
    unsigned kind = ss_kind_of_class(c);
    ss = h->with_free[kind];
    if (!ss) {
      ss = ss_acquire(h, kind, &h->arena);
      if (!ss) return 0;
      DLIST_LINK(&h->owned, ss, onext, oprev);
      h->n_owned++;
      h->n_empty++;
      free_link(h, ss);
    }
    tiny_slab_t *s = ss_slab_assign(ss, c);
    if (!ss->free_mask) free_unlink(h, ss);
    set_nonempty(h, ss, s);
  }
  tiny_slab_t *s = &ss->slabs[__builtin_ctz(ss->nonempty[c])];
  // About to carve never-touched memory: blocks other threads freed back to this heap come
  // first, so a producer/consumer pair recycles instead of growing the footprint.
  if (!s->free_count && atomic_load_explicit(&h->inbox, memory_order_relaxed)) {
    drain_inbox(h);
    ss = h->avail[c];
    if (!ss) return heap_take(h, c, want, out, tail);
    s = &ss->slabs[__builtin_ctz(ss->nonempty[c])];
  }
  return take_from_slab(h, ss, s, want, out, tail);
}

// Batched page refill: a mid class's refill may draw on up to HAKMEM_POOL_REFILL_BATCH
// slabs to gather `want` blocks; a Tiny class's takes what one slab has.
static uint32_t heap_refill(tiny_heap_t *h, unsigned c, uint32_t want, void **out) {
  void *tail;
  uint32_t n = heap_take(h, c, want, out, &tail);
  unsigned slabs = c >= DEPOT_FIRST_CLASS ? (unsigned)hak_cfg.pool_refill_batch : 1;
  for (unsigned i = 1; i < slabs && n && n < want; i++) {
    void *more, *more_tail;
    uint32_t k = heap_take(h, c, want - n, &more, &more_tail);
    if (!k) break;
    hak_next_set(tail, more);
    tail = more_tail;
    n += k;
  }
  return n;
}

static uint32_t bin_cap(unsigned c) {
  if (c >= TINY_SMALL_NCLASS) {  // 10–64 KiB blocks: a byte budget of its own
    long cap = hak_cfg.pool_cache_bytes / tiny_class_stride[c];
    return (uint32_t)(cap < 4 ? 4 : cap > 64 ? 64 : cap);
  }
  long cap = hak_cfg.tiny_cache_bytes / tiny_class_stride[c];
  if (cap < 16) cap = 16;
  if (cap > 512) cap = 512;
  return (uint32_t)cap;
}

static void tiny_key_dtor(void *arg) {
  (void)arg;
  if (tiny_state == TINY_THREAD_ACTIVE) tiny_thread_exit();
}

static void heap_abandon_locked(tiny_heap_t *h);

static tiny_heap_t *heap_new_locked(void) {
  static tiny_heap_t *pool;
  static size_t pool_left;
  if (!pool_left) {
    pool = hak_os_map(64 * 1024);
    if (!pool) return NULL;
    pool_left = 64 * 1024 / sizeof(tiny_heap_t);
  }
  tiny_heap_t *h = pool++;
  pool_left--;
  pthread_mutex_init(&h->lock, NULL);
  h->shard = (uint8_t)(n_heaps % DEPOT_NSHARDS);
  h->all_next = heaps_all;
  heaps_all = h;
  n_heaps++;
  return h;
}

static void abandon_locked(tiny_tls_t *t);

static int thread_init(void) {
  hak_global_init();
  int tid = hak_os_gettid();
  pthread_mutex_lock(&heap_list_lock);
  if (!tiny_key_ready) {
    if (pthread_key_create(&tiny_key, tiny_key_dtor) == 0) tiny_key_ready = 1;
  }
  if (!tiny_key_ready) {  // no destructor could ever flush this thread's cache
    pthread_mutex_unlock(&heap_list_lock);
    return -1;
  }
  // A heap still attached to this very TLS block belongs to a thread that exited without
  // its destructor (two live threads never share a TLS block): an orphan, whose cache is
  // flushed back to its slabs now.
  for (tiny_heap_t *o = heaps_all; o; o = o->all_next)
    if (o->tls && o->tls_slot == &tiny_me) abandon_locked(o->tls);
  tiny_heap_t *h = heaps_abandoned;
  if (h) {
    heaps_abandoned = h->abandoned_next;
    n_abandoned--;
  } else {
    h = heap_new_locked();
  }
  tiny_tls_t *t = NULL;
  if (h) {
    t = &h->cache;
    memset(t, 0, sizeof *t);  // a heap abandoned without a flush (fork child) drops its cache
    __atomic_store_n(&h->tls, t, __ATOMIC_RELAXED);
    h->tid = tid;
    h->tls_slot = &tiny_me;
  }
  pthread_mutex_unlock(&heap_list_lock);
  if (!h) return -1;
  if (pthread_setspecific(tiny_key, t) != 0) {  // no destructor: the dead-thread path instead
    pthread_mutex_lock(&heap_list_lock);
    heap_abandon_locked(h);
    pthread_mutex_unlock(&heap_list_lock);
    return -1;
  }
  t->heap = h;
  for (unsigned c = 0; c < TINY_NCLASS; c++) t->bin[c].cap = t->bin[c].room = bin_cap(c);
  for (unsigned i = 0; i < TINY_NRING; i++) t->ring[i].cap = (uint32_t)hak_cfg.pool_ring_cap;
#if HAKMEM_LEARNER
  uint32_t caps[TINY_NCLASS];
  for (unsigned c = 0; c < TINY_NCLASS; c++) caps[c] = t->bin[c].cap;
  tiny_learn_init(&t->learn, caps);
#endif
  tiny_me = t;
  tiny_state = TINY_THREAD_ACTIVE;
  return 0;
}

static void *dead_alloc(unsigned c) {
  void *p = NULL;
  pthread_mutex_lock(&heap_list_lock);  // lock order: heap list before dead_lock
  if (!dead_heap) dead_heap = heap_new_locked();
  tiny_heap_t *h = dead_heap;
  pthread_mutex_unlock(&heap_list_lock);
  if (!h) {
    errno = ENOMEM;
    return NULL;
  }
  pthread_mutex_lock(&dead_lock);
  pthread_mutex_lock(&h->lock);
  drain_inbox(h);
  void *tail;
  if (heap_take(h, c, 1, &p, &tail)) dead_refilled++;
  pthread_mutex_unlock(&h->lock);
  pthread_mutex_unlock(&dead_lock);
  if (p) tiny_mark_alloc(p, c);
  else errno = ENOMEM;
  return p;
}

// Hands out the first block of a non-empty bin of class c (the slow path's twin of the pop
// in tiny_alloc).
static void *bin_pop(tiny_bin_t *b, unsigned c) {
  void *p = b->head;
  b->head = hak_next_get(p);
  b->room++;
  return tiny_mark_alloc(p, c);
}

static uint32_t depot_refill(tiny_tls_t *t, unsigned c, uint32_t want, void **out);

void *tiny_alloc_slow(unsigned c) {
  if (HAK_UNLIKELY(tiny_state != TINY_THREAD_ACTIVE)) {
    if (tiny_state == TINY_THREAD_DEAD || thread_init() != 0) return dead_alloc(c);
  }
  tiny_tls_t *t = tiny_me;
  tiny_bin_t *b = &t->bin[c];
  // A ring class allocated through the list (the dynamic class below 8 KiB): the ring may
  // hold blocks the list does not.
  if (c >= TINY_RING_FIRST && !b->head && t->ring[c - TINY_RING_FIRST].n) {
    tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
    return tiny_hand_out(r->slot[--r->n], c);
  }
#if HAKMEM_LEARNER
  if (!b->head) {
    t->learn.misses[c]++;
    learn_tick(t);
    // W_MAX: serve the miss from a larger class's cache when that block is at most W_MAX
    // times this class's size (memory traded for a refill, only as the learner decided).
    for (unsigned c2 = c + 1; t->learn.wmax_pct > 100 && c2 < TINY_NFIXED &&
                              (uint64_t)tiny_class_stride[c2] * 100 <= (uint64_t)tiny_class_stride[c] * t->learn.wmax_pct;
         c2++) {
      if (!t->bin[c2].head) continue;
      t->learn.borrows++;
      return bin_pop(&t->bin[c2], c2);
    }
  }
#endif
  if (!b->head) {
#if HAKMEM_LEARNER
    uint32_t want = b->cap / t->learn.refill_div;
    if (!want) want = 1;
#else
    uint32_t want = HAKMEM_BATCH_REFILL ? b->cap / 2 : 1;
#endif
    void *chain = NULL;
    uint32_t n = 0;
    HAK_TIME_START(t0);
    if (c >= DEPOT_FIRST_CLASS) {
      // Mid classes: at least a minimum bundle per refill, and the depot before the slabs.
      if (want < (uint32_t)hak_cfg.pool_min_bundle) want = (uint32_t)hak_cfg.pool_min_bundle;
      if (want > b->cap) want = b->cap;
      n = depot_refill(t, c, want, &chain);
    }
    if (!n) {
      pthread_mutex_lock(&t->heap->lock);
      n = heap_refill(t->heap, c, want, &chain);
      if (n) {
        t->heap->refilled += n;
        t->heap->refills++;
      }
      pthread_mutex_unlock(&t->heap->lock);
    }
    HAK_TIME_END(HT_TINY_REFILL, t0);
    if (!n) {
      errno = ENOMEM;
      return NULL;
    }
    b->head = chain;
    b->room = b->cap - n;
  }
  void *p = bin_pop(b, c);
#if HAKMEM_DEBUG_COUNTERS
  t->allocs[c]++;
#endif
  return p;
}

// ---------------------------------------------------------------- flush

// Drains the inbox of a heap no thread owns and releases its empty SuperSlabs, so memory
// freed into an abandoned heap goes back without waiting for a thread to adopt the heap.
// Every heap-structure change happens under the heap's lock, so this is safe even if a new
// thread adopts the heap meanwhile; trylock keeps the caller's free path from waiting.
static void reclaim_abandoned(tiny_heap_t *h) {
  if (pthread_mutex_trylock(&h->lock) != 0) return;
  drain_inbox(h);
  if (!__atomic_load_n(&h->tls, __ATOMIC_RELAXED)) {
    for (superslab_t *ss = h->owned, *next; ss; ss = next) {
      next = ss->onext;
      if (ss->active == 0) heap_release_ss(h, ss);
    }
  }
  pthread_mutex_unlock(&h->lock);
}

// Returns the first n blocks of the chain at p to their slabs: blocks of heap `self`
// directly, others through remote queues, one CAS per run of blocks of the same slab.
// Returns the block after them. self's lock is held.
static void *flush_chain(tiny_tls_t *t, tiny_heap_t *self, void *p, uint32_t n) {
  uint32_t done = 0;
  tiny_heap_t *reclaim = NULL;
  while (done < n) {
    tiny_slab_t *s = ss_slab_of(ss_of(p), p);
    void *head = p, *tail = p;
    uint32_t k = 1;
    p = hak_next_get(p);
    while (done + k < n && ss_slab_of(ss_of(p), p) == s) {
      tail = p;
      p = hak_next_get(p);
      k++;
    }
    superslab_t *ss = ss_of(head);
    if (ss->owner == self) {
      put_chain(self, ss, s, head, tail, k);
    } else {
      // Read the owner before pushing: once pushed, the blocks may be drained and the
      // SuperSlab released by its owner at any moment.
      tiny_heap_t *owner = ss->owner;
      if (!__atomic_load_n(&owner->tls, __ATOMIC_RELAXED)) reclaim = owner;
      remote_push_chain(s, head, tail);
      self->remote_pushes += k;
    }
    done += k;
  }
  self->flushed += n;
  self->flushes++;
  if (reclaim) reclaim_abandoned(reclaim);
  return p;
}

// Returns every block of the ring of class c to the slabs.
static void flush_ring(tiny_tls_t *t, tiny_heap_t *self, unsigned c) {
  tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
  if (!r->n) return;
  for (uint32_t i = 0; i + 1 < r->n; i++) hak_next_set(r->slot[i], r->slot[i + 1]);
  hak_next_set(r->slot[r->n - 1], NULL);
  flush_chain(t, self, r->slot[0], r->n);
  r->n = 0;
}

// Detaches n blocks from the head of bin c of cache t and returns them to their slabs.
static void flush_bin(tiny_tls_t *t, tiny_heap_t *self, unsigned c, uint32_t n) {
  tiny_bin_t *b = &t->bin[c];
  if (n > tiny_bin_count(b)) n = tiny_bin_count(b);
  if (!n) return;
  b->head = flush_chain(t, self, b->head, n);
  b->room += n;
}

// ---------------------------------------------------------------- depot (mid classes)

// A bundle of k blocks of class c leaving thread cache t: to the depot when it takes it,
// else back to the slabs.
static void spill_chain(tiny_tls_t *t, unsigned c, void *head, uint32_t k) {
  if (hak_cfg.pool_depot_bytes && k >= (uint32_t)hak_cfg.pool_min_bundle && depot_put(c, head, k, t->heap->shard))
    return;
  pthread_mutex_lock(&t->heap->lock);
  flush_chain(t, t->heap, head, k);
  pthread_mutex_unlock(&t->heap->lock);
}

static void *chain_at(void *p, uint32_t i) {
  while (i--) p = hak_next_get(p);
  return p;
}

// Fills an empty bin of class c from depot bundles: up to HAKMEM_POOL_REFILL_BATCH of them
// until `want` blocks are in hand; what exceeds the bin's cap is spilled again.
static uint32_t depot_refill(tiny_tls_t *t, unsigned c, uint32_t want, void **out) {
  if (!hak_cfg.pool_depot_bytes) return 0;
  uint32_t n = 0, cap = t->bin[c].cap;
  void *head = NULL, *tail = NULL;
  for (long i = 0; i < hak_cfg.pool_refill_batch && n < want; i++) {
    void *h;
    uint32_t k = depot_get(c, t->heap->shard, &h);
    if (!k) break;
    if (n + k > cap) {  // a bundle from a thread with a larger cap: keep what fits
      void *last = chain_at(h, cap - n - 1), *rest = hak_next_get(last);
      hak_next_set(last, NULL);
      spill_chain(t, c, rest, n + k - cap);
      k = cap - n;
    }
    if (tail) hak_next_set(tail, h);
    else head = h;
    n += k;
    if (n < want) tail = chain_at(h, k - 1);  // only needed to append another bundle
  }
  *out = head;
  return n;
}

// Returns every depot bundle to the slabs (malloc_trim), so empty SuperSlabs can go.
void tiny_depot_drain(void) {
  tiny_tls_t *t = tiny_me;
  for (unsigned c = DEPOT_FIRST_CLASS; c < TINY_NCLASS; c++) {
    void *h;
    uint32_t k;
    while ((k = depot_get(c, 0, &h)) != 0) {
      if (tiny_state == TINY_THREAD_ACTIVE) {
        pthread_mutex_lock(&t->heap->lock);
        flush_chain(t, t->heap, h, k);
        pthread_mutex_unlock(&t->heap->lock);
      } else {
        while (h) {
          void *next = hak_next_get(h);
          tiny_free_block_generic(h, c);
          h = next;
        }
      }
    }
  }
}

#if HAKMEM_LEARNER
static void tiny_bin_set_cap(tiny_tls_t *t, unsigned c, uint32_t cap) {
  tiny_bin_t *b = &t->bin[c];
  uint32_t count = tiny_bin_count(b);
  if (count > cap) {
    pthread_mutex_lock(&t->heap->lock);
    flush_bin(t, t->heap, c, count - cap);
    pthread_mutex_unlock(&t->heap->lock);
    count = tiny_bin_count(b);
  }
  b->cap = cap;
  b->room = cap - count;
}
#endif

void tiny_free_block_generic(void *p, unsigned c) {
  (void)c;
  tiny_slab_t *s = ss_slab_of(ss_of(p), p);
  pthread_mutex_lock(&dead_lock);
  dead_flushed++;
  pthread_mutex_unlock(&dead_lock);
  remote_push_chain(s, p, p);
}

void tiny_free_slow(void *p, unsigned c) {
  if (HAK_UNLIKELY(tiny_state != TINY_THREAD_ACTIVE)) {
    if (tiny_state == TINY_THREAD_DEAD || thread_init() != 0) {
      tiny_free_block_generic(p, c);
      return;
    }
  }
  tiny_tls_t *t = tiny_me;
  tiny_bin_t *b = &t->bin[c];
  if (b->room == 0) {
#if HAKMEM_LEARNER
    learn_tick(t);
    if (b->room == 0) {  // the tick may have resized the bin
#endif
    HAK_TIME_START(t0);
    uint32_t k = b->cap / 2 ? b->cap / 2 : 1;
    if (c >= DEPOT_FIRST_CLASS && hak_cfg.pool_depot_bytes && k >= (uint32_t)hak_cfg.pool_min_bundle) {
      void *head = b->head, *last = chain_at(head, k - 1);
      b->head = hak_next_get(last);
      hak_next_set(last, NULL);
      b->room += k;
      spill_chain(t, c, head, k);
    } else {
      pthread_mutex_lock(&t->heap->lock);
      flush_bin(t, t->heap, c, k);
      pthread_mutex_unlock(&t->heap->lock);
    }
    HAK_TIME_END(HT_TINY_FLUSH, t0);
#if HAKMEM_LEARNER
    }
#endif
  }
  hak_next_set(p, b->head);
  b->head = p;
  b->room--;
#if HAKMEM_DEBUG_COUNTERS
  t->frees[c]++;
#endif
}

static void fold_counters_locked(tiny_tls_t *t) {
#if HAKMEM_DEBUG_COUNTERS
  for (unsigned c = 0; c < TINY_NCLASS; c++) exited.allocs += t->allocs[c], exited.frees += t->frees[c];
#else
  (void)t;
#endif
}

// Detaches heap h from its thread and queues it for adoption (heap_list_lock held).
static void heap_abandon_locked(tiny_heap_t *h) {
  __atomic_store_n(&h->tls, NULL, __ATOMIC_RELAXED);
  h->tid = 0;
  h->abandoned_next = heaps_abandoned;
  heaps_abandoned = h;
  n_abandoned++;
}

tiny_tls_t *tiny_heap_tls(tiny_heap_t *h) { return h->tls; }

// Empties every bin of t into the heap, drains the inbox, releases empty SuperSlabs and
// abandons the heap. heap_list_lock must be held.
static void abandon_locked(tiny_tls_t *t) {
  tiny_heap_t *h = t->heap;
  pthread_mutex_lock(&h->lock);
  for (unsigned c = 0; c < TINY_NCLASS; c++) flush_bin(t, h, c, tiny_bin_count(&t->bin[c]));
  for (unsigned c = TINY_RING_FIRST; c < TINY_NCLASS; c++) flush_ring(t, h, c);
  drain_inbox(h);
  for (superslab_t *ss = h->owned, *next; ss; ss = next) {
    next = ss->onext;
    if (ss->active == 0) heap_release_ss(h, ss);
  }
  ss_arena_release(&h->arena);
  pthread_mutex_unlock(&h->lock);
  fold_counters_locked(t);
  heap_abandon_locked(h);
  memset(t, 0, sizeof *t);
}

void tiny_thread_exit(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  tiny_tls_t *t = tiny_me;
  tiny_me = &tiny_none;
  tiny_state = TINY_THREAD_DEAD;  // later frees go remote, later mallocs to the dead heap
  pthread_mutex_lock(&heap_list_lock);
  abandon_locked(t);
  pthread_mutex_unlock(&heap_list_lock);
}

void tiny_flush_thread_cache(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  tiny_tls_t *t = tiny_me;
  pthread_mutex_lock(&t->heap->lock);
  for (unsigned c = 0; c < TINY_NCLASS; c++) flush_bin(t, t->heap, c, tiny_bin_count(&t->bin[c]));
  for (unsigned c = TINY_RING_FIRST; c < TINY_NCLASS; c++) flush_ring(t, t->heap, c);
  drain_inbox(t->heap);
  pthread_mutex_unlock(&t->heap->lock);
}

void tiny_collect(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  pthread_mutex_lock(&tiny_me->heap->lock);
  drain_inbox(tiny_me->heap);
  pthread_mutex_unlock(&tiny_me->heap->lock);
}

// ---------------------------------------------------------------- introspection

void tiny_totals(tiny_totals_t *out) {
  pthread_mutex_lock(&heap_list_lock);
  *out = exited;
  out->heaps = n_heaps;
  out->heaps_abandoned = n_abandoned;
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) {
    out->remote_drained += h->remote_drained;
    out->refilled += h->refilled;
    out->flushed += h->flushed;
    out->refills += h->refills;
    out->flushes += h->flushes;
    out->remote_pushes += h->remote_pushes;
    tiny_tls_t *t = tiny_heap_tls(h);
    if (!t) continue;
    for (unsigned c = 0; c < TINY_NCLASS; c++) out->cached_blocks += tiny_bin_count(&t->bin[c]);
    for (unsigned i = 0; i < TINY_NRING; i++) out->cached_blocks += t->ring[i].n;
#if HAKMEM_DEBUG_COUNTERS
    for (unsigned c = 0; c < TINY_NCLASS; c++) out->allocs += t->allocs[c], out->frees += t->frees[c];
#endif
  }
  pthread_mutex_unlock(&heap_list_lock);
  pthread_mutex_lock(&dead_lock);
  out->refilled += dead_refilled;
  out->flushed += dead_flushed;
  pthread_mutex_unlock(&dead_lock);
}

uint64_t tiny_live_bytes(void) {
  uint64_t used = 0, parked = 0;
  pthread_mutex_lock(&heap_list_lock);
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) {
    pthread_mutex_lock(&h->lock);
    for (superslab_t *ss = h->owned; ss; ss = ss->onext)
      for (unsigned i = 0; i < ss->nslabs; i++)
        if (ss->slabs[i].cls != SS_CLASS_NONE) used += (uint64_t)ss->slabs[i].used * ss->slabs[i].stride;
    pthread_mutex_unlock(&h->lock);
    tiny_tls_t *t = h->tls;
    if (!t) continue;
    for (unsigned c = 0; c < TINY_NCLASS; c++) parked += (uint64_t)tiny_bin_count(&t->bin[c]) * tiny_class_stride[c];
    for (unsigned i = 0; i < TINY_NRING; i++) parked += (uint64_t)t->ring[i].n * tiny_class_stride[TINY_RING_FIRST + i];
  }
  pthread_mutex_unlock(&heap_list_lock);
  depot_stats_t d;
  depot_stats_get(&d);
  parked += d.bytes;
  return used > parked ? used - parked : 0;
}

void tiny_heaps_foreach(void (*fn)(tiny_heap_t *, void *), void *arg) {
  pthread_mutex_lock(&heap_list_lock);
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) fn(h, arg);
  pthread_mutex_unlock(&heap_list_lock);
}

// Releases what abandoned heaps no longer need (malloc_trim).
void tiny_trim_abandoned(void) {
  pthread_mutex_lock(&heap_list_lock);
  // Orphans (attached to a thread that no longer exists): their caches go back now.
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next)
    if (h->tls && h->tls != tiny_me && !hak_os_thread_alive(h->tid)) abandon_locked(h->tls);
  for (tiny_heap_t *h = heaps_abandoned; h; h = h->abandoned_next) {
    pthread_mutex_lock(&h->lock);
    drain_inbox(h);
    for (superslab_t *ss = h->owned, *next; ss; ss = next) {
      next = ss->onext;
      if (ss->active == 0) heap_release_ss(h, ss);
    }
    pthread_mutex_unlock(&h->lock);
  }
  pthread_mutex_unlock(&heap_list_lock);
}

// malloc_trim's share of the slab engine, in the one order that works: the depot first (its
// bundles reach abandoned heaps as remote frees), then the abandoned heaps, then the empty
// SuperSlabs their release put in the cache. Returns the bytes released to the OS.
size_t tiny_trim(void) {
  tiny_depot_drain();
  tiny_trim_abandoned();
  return ss_cache_trim();
}

// ---------------------------------------------------------------- fork

void tiny_fork_prepare(void) {
  pthread_mutex_lock(&heap_list_lock);
  pthread_mutex_lock(&dead_lock);  // before the heaps: dead_alloc holds it while taking the dead heap's lock
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) pthread_mutex_lock(&h->lock);
  ss_lock_all();
}

void tiny_fork_parent(void) {
  ss_unlock_all();
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) pthread_mutex_unlock(&h->lock);
  pthread_mutex_unlock(&dead_lock);
  pthread_mutex_unlock(&heap_list_lock);
}

// A remote free is two steps, a CAS that sets the slab's "queued" bit and then the push of
// the slab onto its owner's inbox, with no lock held between them; a fork in between leaves
// the child with a slab marked queued but in no inbox, whose blocks nobody would ever drain.
// The child puts every such slab back in its owner's inbox (single-threaded here).
static int inbox_holds(tiny_heap_t *h, tiny_slab_t *s) {
  for (tiny_slab_t *x = atomic_load_explicit(&h->inbox, memory_order_relaxed); x; x = x->inbox_next)
    if (x == s) return 1;
  return 0;
}
static void requeue_torn_remote_frees(tiny_heap_t *h) {
  for (superslab_t *ss = h->owned; ss; ss = ss->onext)
    for (unsigned i = 0; i < ss->nslabs; i++) {
      tiny_slab_t *s = &ss->slabs[i];
      if (!(atomic_load_explicit(&s->remote, memory_order_relaxed) & 1) || inbox_holds(h, s)) continue;
      s->inbox_next = atomic_load_explicit(&h->inbox, memory_order_relaxed);
      atomic_store_explicit(&h->inbox, s, memory_order_relaxed);
    }
}

void tiny_fork_child(void) {
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) requeue_torn_remote_frees(h);
  ss_unlock_all();
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) pthread_mutex_unlock(&h->lock);
  pthread_mutex_unlock(&dead_lock);
  // The other threads are gone. Their heaps were consistent (we held their locks), but
  // their thread caches may have been mid-update on a fast path, so they are not touched:
  // the blocks in them stay counted as out of their slabs (leaked to the child), the
  // threads' refill/flush counters (only changed under the heap lock) are folded into the
  // totals, and the heaps are abandoned for reuse.
  for (tiny_heap_t *h = heaps_all; h; h = h->all_next) {
    tiny_tls_t *t = h->tls;
    if (!t) continue;
    if (t == tiny_me) continue;
    fold_counters_locked(t);
    heap_abandon_locked(h);
  }
  pthread_mutex_unlock(&heap_list_lock);
}

void tiny_fork_child_rename(void) {
  if (tiny_state == TINY_THREAD_ACTIVE) tiny_me->heap->tid = hak_os_gettid();
}
