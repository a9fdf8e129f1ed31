// thread.c — the slab engine's heaps and threads: the heap lists, the calling thread's cache
// (tiny_me), attaching a thread to a heap at its first slow path (adopting an abandoned heap
// when there is one), abandoning it at thread exit or when an orphan is found, the free
// slow path's entry and this thread's whole-cache operations, malloc_trim's share, and the
// totals stats and the checker read.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"
#include "hakmem/init.h"
#include "hakmem/tiny/heap_learn.h"

HAK_TLS tiny_tls_t *tiny_me = &tiny_none;
HAK_TLS uint8_t tiny_state;
tiny_tls_t tiny_none = {.gate.cap = TINY_GATE_CAP};  // never written: every fast path finds room 0 / an empty list


// Lock order (the whole allocator's is in lifecycle.c): heap_list_lock, dead_lock, a
// heap's lock (never two at once but by trylock), then the SuperSlab cache lock.
pthread_mutex_t heap_list_lock = PTHREAD_MUTEX_INITIALIZER;
tiny_heap_t *heaps_all, *heaps_abandoned;
uint64_t heap_count, heap_abandoned_count;
tiny_totals_t heap_exited;  // counters of threads that have exited (heap_list_lock)
static pthread_key_t tiny_key;
static int tiny_key_ready;

// Threads whose caches are gone (after their TLS destructor ran) share this heap.
pthread_mutex_t dead_lock = PTHREAD_MUTEX_INITIALIZER;
tiny_heap_t *dead_heap;
uint64_t dead_refilled, dead_flushed;  // dead_lock
uint64_t dead_remote_pushes;           // dead_lock

static uint32_t bin_cap(unsigned c) {
  const tiny_band_t *band = tiny_band_of(c);
  uint32_t want = band ? band->cap(c) : 0;
  return want ? want : tiny_cache_target(c);
}

static void tiny_key_dtor(void *arg) {
  (void)arg;
  if (tiny_state == TINY_THREAD_ACTIVE) tiny_thread_exit();
}

tiny_heap_t *heap_new_locked(void) {
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
  h->seq = (uint32_t)heap_count;
  h->all_next = heaps_all;
  heaps_all = h;
  heap_count++;
  return h;
}

// The thread-cache key is taken at initialisation, before main (init.c), so a program
// that uses up every pthread key later still gives each of its threads a cache. Without
// one (the keys were gone even then) threads allocate from the shared dead-thread heap,
// which the decay passes drain and release like an abandoned heap (tiny_decay).
static void tiny_key_init(void) {
  pthread_mutex_lock(&heap_list_lock);
  if (!tiny_key_ready && pthread_key_create(&tiny_key, tiny_key_dtor) == 0) tiny_key_ready = 1;
  pthread_mutex_unlock(&heap_list_lock);
}
HAK_INIT_STEP(HAK_INIT_TIER, tiny_key_init);

int heap_thread_init(void) {
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
  // A heap still attached to this very TLS block belongs to a thread that heap_exited without
  // its destructor (two live threads never share a TLS block): an orphan, whose cache is
  // flushed back to its slabs now.
  for (tiny_heap_t *o = heaps_all; o; o = o->all_next)
    if (o->tls && o->tls_slot == &tiny_me) heap_abandon_thread_locked(o->tls);
  tiny_heap_t *h = heaps_abandoned;
  if (h) {
    heaps_abandoned = h->abandoned_next;
    heap_abandoned_count--;
  } else {
    h = heap_new_locked();
  }
  tiny_tls_t *t = NULL;
  if (h) {
    t = &h->cache;
    memset(t, 0, sizeof *t);  // a heap abandoned without a flush (fork child) drops its cache
    t->gate.cap = TINY_GATE_CAP;
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
  const tiny_band_t *band = tiny_band_of(TINY_RING_FIRST);
  for (unsigned i = 0; i < TINY_NRING; i++) t->ring[i].cap = band ? band->ring_cap() : 0;
  heap_adapt_start(t);  // records those targets; the band's classes start small
#if HAKMEM_LEARNER
  t->tune.wmax_pct = 100;
  t->tune.refill_div = 2;
  for (unsigned c = 0; c < TINY_NCLASS; c++) t->tune.cap_want[c] = t->bin[c].cap;
  if (tiny_band && !h->learn) h->learn = tiny_band->learn_new();
  if (h->learn) tiny_band->learn_start(h->learn, &t->tune);
#endif
  tiny_me = t;
  tiny_state = TINY_THREAD_ACTIVE;
  return 0;
}

void heap_fold_counters_locked(tiny_tls_t *t) {
#if HAKMEM_DEBUG_COUNTERS
  for (unsigned c = 0; c < TINY_NCLASS; c++) heap_exited.allocs += t->allocs[c], heap_exited.frees += t->frees[c];
#else
  (void)t;
#endif
}

// What a heap no thread uses need not keep: its empty SuperSlabs and the unused part of its
// band's arena (h->lock held).
void heap_release_idle(tiny_heap_t *h) {
  heap_release_empty(h);
  if (tiny_band) tiny_band->heap_release(&h->band);
}

// Detaches heap h from its thread and queues it for adoption (heap_list_lock held).
void heap_abandon_locked(tiny_heap_t *h) {
  __atomic_store_n(&h->tls, NULL, __ATOMIC_RELAXED);
  h->tid = 0;
  h->abandoned_next = heaps_abandoned;
  h->abandoned_ms = hak_os_now_ms();
  heaps_abandoned = h;
  heap_abandoned_count++;
}

tiny_tls_t *tiny_heap_tls(tiny_heap_t *h) { return h->tls; }

// Empties every bin of t into the heap, drains the inbox, releases empty SuperSlabs and
// abandons the heap. heap_list_lock must be held.
void heap_abandon_thread_locked(tiny_tls_t *t) {
  tiny_heap_t *h = t->heap;
  pthread_mutex_lock(&h->lock);
  heap_flush_all(t, h);
  // The heap keeps its empty SuperSlabs and its arena for the next thread, which adopts the
  // most recently abandoned heap first: a program whose threads come and go (a pool that
  // grows and shrinks, a thread per request) reuses their pages instead of unmapping them at
  // each exit and faulting them in again at the next start (32 waves of 4 threads faulted
  // 11,000 pages, glibc 211). What no thread adopts goes back at the next decay pass
  // (tiny_decay), or here when there is no decay thread (HAKMEM_DECAY_MS=0).
  if (__atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED) <= 0) heap_release_idle(h);
  pthread_mutex_unlock(&h->lock);
  heap_fold_counters_locked(t);
  heap_abandon_locked(h);
  memset(t, 0, sizeof *t);
  t->gate.cap = TINY_GATE_CAP;
}

void tiny_thread_exit(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  tiny_tls_t *t = tiny_me;
  tiny_me = &tiny_none;
  tiny_state = TINY_THREAD_DEAD;  // later frees go remote, later mallocs to the dead heap
  // Band-class blocks go to the band (the mid depot), where every thread finds them; in this
  // heap's slabs only the thread that adopts the heap would. Only at a real exit: malloc_trim
  // (the dead-thread heaps it abandons) empties the band before, and must not refill it.
  heap_spill_bands(t);
  pthread_mutex_lock(&heap_list_lock);
  heap_abandon_thread_locked(t);
  pthread_mutex_unlock(&heap_list_lock);
  hak_decay_kick();  // the abandoned heap's empty slabs go back (tiny_decay)
}

// ---------------------------------------------------------------- this thread's cache

void tiny_free_slow(void *p, unsigned c) {
  if (HAK_UNLIKELY(tiny_state != TINY_THREAD_ACTIVE)) {
    if (tiny_state == TINY_THREAD_DEAD || heap_thread_init() != 0) {
      tiny_free_block_generic(p, c);
      return;
    }
  }
  tiny_tls_t *t = tiny_me;
  if (c >= TINY_RING_FIRST) {  // the header already says free (tiny_free_to)
    tiny_ring_t *r = &t->ring[c - TINY_RING_FIRST];
    if (r->n < r->cap) {
      r->slot[r->n++] = p;
#if HAKMEM_DEBUG_COUNTERS
      t->frees[c]++;
#endif
      return;
    }
  }
  tiny_bin_t *b = &t->bin[c];
  if (b->room == 0) {
    if (heap_learn_tick(t)) heap_apply_caps(t);
    // The learner may have resized the bin, or the adaptive capacity grow it.
    if (b->room == 0 && !heap_adapt_full(t, c)) heap_flush_half(t, b, c);
  }
  hak_next_set(p, b->head);
  b->head = p;
  b->room--;
#if HAKMEM_DEBUG_COUNTERS
  t->frees[c]++;
#endif
}

void tiny_flush_thread_cache(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  tiny_tls_t *t = tiny_me;
  pthread_mutex_lock(&t->heap->lock);
  heap_flush_all(t, t->heap);
  pthread_mutex_unlock(&t->heap->lock);
}

// Returns every bundle the band holds to the slabs (malloc_trim), so empty SuperSlabs can go.
void tiny_band_drain(void) {
  const tiny_band_t *band = tiny_band;
  if (!band) return;
  tiny_tls_t *t = tiny_me;
  for (unsigned c = band->first; c < TINY_NCLASS; c++) {
    void *h;
    uint32_t k;
    while ((k = band->get(c, 0, &h)) != 0) {
      if (tiny_state == TINY_THREAD_ACTIVE) {
        pthread_mutex_lock(&t->heap->lock);
        heap_flush_chain(t, t->heap, h, k);
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

// ---------------------------------------------------------------- introspection

void tiny_totals(tiny_totals_t *out) {
  pthread_mutex_lock(&heap_list_lock);
  *out = heap_exited;
  out->heaps = heap_count;
  out->heaps_abandoned = heap_abandoned_count;
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
  out->remote_pushes += dead_remote_pushes;
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
  if (tiny_band) {
    uint64_t blocks, bytes;
    tiny_band->held(&blocks, &bytes);
    parked += bytes;
  }
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
    if (h->tls && h->tls != tiny_me && !hak_os_thread_alive(h->tid)) heap_abandon_thread_locked(h->tls);
  for (tiny_heap_t *h = heaps_abandoned; h; h = h->abandoned_next) {
    pthread_mutex_lock(&h->lock);
    heap_drain_inbox(h);
    heap_release_idle(h);
    pthread_mutex_unlock(&h->lock);
  }
  pthread_mutex_unlock(&heap_list_lock);
}

// Decay step (decay.h) of the slab engine. An abandoned heap is memory no thread allocates
// from until one adopts it: its inbox is drained at every pass; once it has waited
// HAKMEM_DECAY_MS for a thread, its empty SuperSlabs are released and the pages of its
// unassigned slabs given back (a heap keeps
// its SuperSlabs while a few blocks of each are still out, e.g. handed to another thread,
// so its empty slabs are what an exited thread's memory mostly is). Empty SuperSlabs in the
// global cache are unmapped when they stayed unused for a whole pass.
static size_t tiny_decay(uint64_t now_ms, uint64_t age_ms) {
  size_t waiting = 0;
  pthread_mutex_lock(&heap_list_lock);
  for (tiny_heap_t *h = heaps_abandoned; h; h = h->abandoned_next) {
    if (pthread_mutex_trylock(&h->lock) != 0) continue;
    heap_drain_inbox(h);  // what other threads freed into it is reusable at once
    // Its empty SuperSlabs and arena wait for the next thread for HAKMEM_DECAY_MS (a pass
    // in between would make threads that come and go fault their pages in again).
    if (hak_decay_idle(now_ms, h->abandoned_ms, age_ms)) {
      heap_release_idle(h);
      for (superslab_t *ss = h->owned; ss; ss = ss->onext) ss_decommit_free_slabs(ss);
    } else if (h->owned) {
      waiting = 1;
    }
    pthread_mutex_unlock(&h->lock);
  }
  // The dead-thread heap serves threads without a cache (past their destructor, or no
  // pthread key): blocks freed into it come back as remote frees, drained here, not only
  // at its next allocation, and its empty SuperSlabs go (lock order: dead_lock, heap).
  if (dead_heap && pthread_mutex_trylock(&dead_lock) == 0) {
    if (pthread_mutex_trylock(&dead_heap->lock) == 0) {
      heap_drain_inbox(dead_heap);
      heap_release_idle(dead_heap);
      pthread_mutex_unlock(&dead_heap->lock);
    }
    pthread_mutex_unlock(&dead_lock);
  }
  pthread_mutex_unlock(&heap_list_lock);
  return ss_cache_decay() + waiting;
}
HAK_DECAY_STEP(tiny_decay);

// malloc_trim's share of the slab engine, in the one order that works: the band's bundles
// first (they reach abandoned heaps as remote frees), then the abandoned heaps, then the empty
// SuperSlabs their release put in the cache. Returns the bytes released to the OS.
size_t tiny_trim(void) {
  tiny_band_drain();
  tiny_trim_abandoned();
  return ss_cache_trim();
}
