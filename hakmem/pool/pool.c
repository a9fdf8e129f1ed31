// pool.c — the L2.5 thread cache and the pool tier's entry points (see pool.h).
#include "hakmem/pool/pool.h"

#include "hakmem/hakmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/init.h"
#include "hakmem/log.h"
#include "hakmem/freelink.h"
#include "hakmem/track.h"

#include "hakmem/os.h"
#include "hakmem/registry.h"

// A thread's cache record. Records belong to the allocator, not to the thread: TLS holds
// only a pointer, so a thread that exits without its key destructor (it first allocated
// in the last destructor round) leaves a record that stays valid memory, and a later
// thread that reuses the same TLS block starts from a NULL pointer and gets a record of
// its own. Such an orphan is harmless (its cached blocks stay counted) and is reclaimed by
// malloc_trim once its thread id no longer exists.
typedef struct {
  void *head;
  uint32_t count;
  uint32_t misses;  // this thread's misses of the class (the run below starts at the second)
} pool_tbin_t;

typedef struct pool_tls {
  pool_tbin_t bin[POOL_NCLASS];
  size_t bytes;   // bytes parked in this thread's cache
  unsigned home;  // home shard
  int tid;        // kernel thread id of the owner (orphan detection)
  // Counters written only by the owner (a relaxed load and store, no locked instruction on
  // the fast path) and summed by readers over the list of live threads.
  _Atomic uint64_t cached, hits, misses;
  struct pool_tls *tnext, *tprev;  // listed records (pool_threads_lock); tnext also links free records
} pool_tls_t;

static HAK_TLS pool_tls_t *pool_me;   // this thread's record, NULL before the first use
static HAK_TLS uint8_t pool_gone;     // the key destructor ran: no cache from now on

static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;
static int pool_key_ok;
// Lock order: pool_threads_lock, then the page-heap shard locks (pageheap.c).
static pthread_mutex_t pool_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_tls_t *pool_threads;     // listed records
static pool_tls_t *pool_free_recs;   // recycled records
static pool_tls_t *pool_rec_chunk;   // records not handed out yet
static size_t pool_rec_left;
static uint64_t exited_hits, exited_misses;  // of threads that have left (pool_threads_lock)

static inline void ctr_add(_Atomic uint64_t *c, int64_t d) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (uint64_t)d, memory_order_relaxed);
}
static inline uint64_t ctr(_Atomic uint64_t *c) { return atomic_load_explicit(c, memory_order_relaxed); }

static pool_tls_t *rec_new_locked(void) {
  pool_tls_t *t = pool_free_recs;
  if (t) {
    pool_free_recs = t->tnext;
  } else {
    if (!pool_rec_left) {
      pool_rec_chunk = hak_os_map(64 * 1024);
      if (!pool_rec_chunk) return NULL;
      pool_rec_left = 64 * 1024 / sizeof(pool_tls_t);
    }
    t = pool_rec_chunk++;
    pool_rec_left--;
  }
  memset(t, 0, sizeof *t);
  t->tnext = pool_threads;
  if (pool_threads) pool_threads->tprev = t;
  pool_threads = t;
  return t;
}

// Unlists a record whose cache is empty, folds its counters and recycles it.
static void rec_retire_locked(pool_tls_t *t) {
  exited_hits += ctr(&t->hits);
  exited_misses += ctr(&t->misses);
  if (t->tprev) t->tprev->tnext = t->tnext;
  else pool_threads = t->tnext;
  if (t->tnext) t->tnext->tprev = t->tprev;
  t->tprev = NULL;
  t->tnext = pool_free_recs;
  pool_free_recs = t;
}

// Blocks parked in every thread cache; exact when no thread is using its cache.
static uint64_t cached_total_locked(void) {
  uint64_t n = 0;
  for (pool_tls_t *t = pool_threads; t; t = t->tnext) n += ctr(&t->cached);
  return n;
}

static void pool_key_dtor(void *arg);
// Table forms of pool_class_of_pages / pool_class_pages for the thread-cache paths; filled
// before any thread cache exists (threads without one use the arithmetic forms).
static uint8_t class_of_pages[POOL_CLASS_MAX_PAGES + 1];
static uint32_t pages_of_class[POOL_NCLASS];

static void pool_key_create(void) {
  for (uint32_t n = 0; n <= POOL_CLASS_MAX_PAGES; n++) class_of_pages[n] = (uint8_t)pool_class_of_pages(n ? n : 1);
  for (unsigned c = 0; c < POOL_NCLASS; c++) pages_of_class[c] = pool_class_pages(c);
  pool_key_ok = pthread_key_create(&pool_key, pool_key_dtor) == 0;
}

// The key is taken at initialisation, before main: a program that uses up the pthread keys
// later still gets thread caches.
static void pool_key_init(void) { pthread_once(&pool_key_once, pool_key_create); }
HAK_INIT_STEP(HAK_INIT_TIER, pool_key_init);

static HAK_NOINLINE pool_tls_t *pool_thread_init(void);
HAK_INLINE pool_tls_t *pool_thread(void) {
  pool_tls_t *t = pool_me;
  if (HAK_LIKELY(t != NULL)) return t;
  return pool_thread_init();
}

static HAK_NOINLINE pool_tls_t *pool_thread_init(void) {
  if (pool_gone) return NULL;
  pthread_once(&pool_key_once, pool_key_create);
  if (!pool_key_ok) return NULL;
  pthread_mutex_lock(&pool_threads_lock);
  pool_tls_t *t = rec_new_locked();
  pthread_mutex_unlock(&pool_threads_lock);
  if (!t) return NULL;
  t->tid = hak_os_gettid();
  // Cache only when the key's destructor will empty the cache: otherwise page heap only.
  if (pthread_setspecific(pool_key, t) != 0) {
    pthread_mutex_lock(&pool_threads_lock);
    rec_retire_locked(t);
    pthread_mutex_unlock(&pool_threads_lock);
    pool_gone = 1;
    return NULL;
  }
  pool_me = t;
  return t;
}

static void tc_push(pool_tls_t *t, ph_desc_t *d, unsigned c) {
  void *p = ph_page_of(d);
  ph_set_state(d, PH_CACHED);
  hak_next_set(p, t->bin[c].head);
  t->bin[c].head = p;
  t->bin[c].count++;
  t->bytes += pool_usable(d);
  ctr_add(&t->cached, 1);
}

// A block about to leave a thread cache that is none: one line, abort.
static HAK_COLD __attribute__((noreturn)) void tc_corrupt(const void *p, unsigned kind) {
  hak_log("free list corrupted: the free block at %p about to be handed out is no cached page-heap block (%s): "
          "a write after free, an overflow into a free neighbour, or a forged link",
          p, kind != HAK_KIND_POOL ? "not in a page-heap arena" : (uintptr_t)p & (PH_PAGE - 1) ? "not at a page start" : "its page is not cached");
  hak_os_abort();
}

static ph_desc_t *tc_pop(pool_tls_t *t, unsigned c) {
  void *p = t->bin[c].head;
  if (!p) return NULL;
  // The link that led here decoded aligned (freelink.h); the block must also be what the
  // cache holds: the first page of a page-heap block in state "cached". A link forged by an
  // attacker who learned the key, or garbage that decoded aligned, stops here.
  unsigned kind = hak_reg_kind(p);
  if (HAK_UNLIKELY(kind != HAK_KIND_POOL || ((uintptr_t)p & (PH_PAGE - 1)) || ph_state(ph_desc_of(p)) != PH_CACHED))
    tc_corrupt(p, kind);
  t->bin[c].head = hak_next_get(p);
  t->bin[c].count--;
  ph_desc_t *d = ph_desc_of(p);
  t->bytes -= pool_usable(d);
  ctr_add(&t->cached, -1);
  return d;
}

// Moves cached blocks back to the page heap until the cache holds at most `limit` bytes,
// taking up to `n` from class `first` before the largest classes.
static void tc_spill(pool_tls_t *t, unsigned first, unsigned n, size_t limit) {
  ph_desc_t *list = NULL, *d;
  for (unsigned k = 0; k < n && (d = tc_pop(t, first)); k++) {
    d->next = list;
    list = d;
  }
  for (unsigned c = POOL_NCLASS; c-- > 0 && t->bytes > limit;)
    while (t->bytes > limit && (d = tc_pop(t, c))) {
      d->next = list;
      list = d;
    }
  for (ph_desc_t *x = list; x; x = x->next) ph_set_state(x, PH_LIVE);
  ph_free_list(list);
}

static void pool_key_dtor(void *arg) {
  pool_tls_t *t = arg;
  pool_me = NULL;
  pool_gone = 1;  // later frees and mallocs go straight to the page heap
  tc_spill(t, 0, 0, 0);
  pthread_mutex_lock(&pool_threads_lock);
  rec_retire_locked(t);
  pthread_mutex_unlock(&pool_threads_lock);
}

void pool_flush_thread(void) {
  pool_tls_t *t = pool_me;
  if (t) tc_spill(t, 0, 0, 0);
}

// Records whose thread is gone without running its key destructor: their caches go back
// to the page heap and the records are recycled (malloc_trim).
static void pool_reap_orphans(void) {
  pthread_mutex_lock(&pool_threads_lock);
  for (pool_tls_t *t = pool_threads, *next; t; t = next) {
    next = t->tnext;
    if (t == pool_me || hak_os_thread_alive(t->tid)) continue;
    tc_spill(t, 0, 0, 0);
    rec_retire_locked(t);
  }
  pthread_mutex_unlock(&pool_threads_lock);
}

// A block fresh from the page heap leaves the pool: ENOMEM when there is none.
static void *pool_hand_out(ph_desc_t *d, int clean, int *fresh) {
  if (!d) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = ph_page_of(d);
  HAK_TRACK_ALLOC(p, pool_usable(d));
  if (fresh) *fresh = clean;
  return p;
}

// Everything but a thread-cache hit: a run of blocks from the page heap into the cache, or
// a block of its own for sizes the cache does not hold.
static HAK_NOINLINE void *pool_alloc_slow(size_t size, int *fresh, pool_tls_t *t, uint32_t pages) {
  ph_desc_t *d;
  int clean = 0;
  if (t && pages <= POOL_CLASS_MAX_PAGES) {
    unsigned c = class_of_pages[pages];
    pages = pages_of_class[c];
    ctr_add(&t->misses, 1);
    d = ph_alloc(&t->home, pages, &clean);
    // A run: more blocks of the class into the cache while the lock is warm, within a
    // quarter of the cache budget; from the thread's second miss of the class on. A thread
    // that takes a few blocks of many classes (one that hands them to another and exits)
    // parked a spare of each: space the page heap then grew around (threads that exit, 8 at
    // a time, handing 64-100 KB blocks to another: peak RSS 13.6 -> 12.0 MB).
    size_t bytes = (size_t)pages << PH_PAGE_SHIFT;
    long run = t->bin[c].misses++ ? hak_cfg.l25_run_factor : 1;
    for (long k = 1; d && k < run && t->bytes + 4 * bytes <= (size_t)hak_cfg.l25_tc_bytes; k++) {
      int c2;
      ph_desc_t *e = ph_alloc(&t->home, pages, &c2);
      if (!e) break;
      HAK_TRACK_FREE(ph_page_of(e), bytes);
      tc_push(t, e, c);
    }
  } else {
    unsigned shared = 0;
    pages = pool_pages_for(size);
    d = ph_alloc(t ? &t->home : &shared, pages, &clean);
  }
  return pool_hand_out(d, clean, fresh);
}

void *pool_alloc(size_t size, int *fresh) {
  uint32_t pages = (uint32_t)((size + PH_PAGE - 1) >> PH_PAGE_SHIFT);
  pool_tls_t *t = pool_thread();
  if (HAK_LIKELY(t && pages <= POOL_CLASS_MAX_PAGES)) {
    ph_desc_t *d = tc_pop(t, class_of_pages[pages]);
    if (HAK_LIKELY(d != NULL)) {
      ctr_add(&t->hits, 1);
      ph_set_state(d, PH_LIVE);
      void *p = ph_page_of(d);
      HAK_TRACK_ALLOC(p, pool_usable(d));
      if (fresh) *fresh = 0;
      return p;
    }
  }
  return pool_alloc_slow(size, fresh, t, pages);
}

void *pool_alloc_growable(size_t size, int *fresh) {
  pool_tls_t *t = pool_thread();
  unsigned shared = 0;
  int clean = 0;
  ph_desc_t *d = ph_alloc(t ? &t->home : &shared, pool_pages_for(size), &clean);
  return pool_hand_out(d, clean, fresh);
}

void *pool_alloc_aligned(size_t size, size_t align, int *fresh) {
  uint32_t pages = (uint32_t)((size + PH_PAGE - 1) >> PH_PAGE_SHIFT);
  if (!pages) pages = 1;
  pool_tls_t *t = pool_thread();
  unsigned shared = 0;
  int clean = 0;
  ph_desc_t *d = ph_alloc_aligned(t ? &t->home : &shared, pages, (uint32_t)(align >> PH_PAGE_SHIFT), &clean);
  return pool_hand_out(d, clean, fresh);
}

ph_desc_t *pool_lookup(void *p, const char **why) {
  if ((uintptr_t)p & (PH_PAGE - 1)) {
    *why = "interior pointer of a pool block (not page-aligned)";
    return NULL;
  }
  ph_arena_t *a = ph_arena_of(p);
  ph_desc_t *d = ph_desc_of(p);
  if (hak_peek64(&a->magic) != PH_MAGIC) {
    *why = "pointer into an unused pool arena";
    return NULL;
  }
  unsigned st = ph_state(d);
  if (HAK_LIKELY(st == PH_LIVE)) return d;
  switch (st) {
    case PH_CACHED:
    case PH_FREE:
    case PH_GONE:
      *why = "double free (pool block is already free)";
      return NULL;
    default:
      *why = "interior pointer of a pool block";
      return NULL;
  }
}

// The paths that reach the page heap may make syscalls (madvise, munmap); free() keeps
// errno, so they save it. The thread-cache push touches nothing that could change it.
static HAK_NOINLINE void pool_free_to_heap(ph_desc_t *d) {
  int saved = errno;
  d->next = NULL;
  ph_free_list(d);
  errno = saved;
}
static HAK_NOINLINE void pool_spill_then_push(pool_tls_t *t, ph_desc_t *d, unsigned c, size_t bytes) {
  int saved = errno;
  tc_spill(t, c, (unsigned)hak_cfg.l25_tc_spill, (size_t)hak_cfg.l25_tc_bytes - bytes);
  tc_push(t, d, c);
  errno = saved;
}

HAK_INLINE void pool_free_inline(ph_desc_t *d) {
  size_t bytes = pool_usable(d);
  // Before the cache's link write below makes the first page resident (huge pages, learned).
  if (HAK_UNLIKELY(d->len >= PH_THP_MIN_PAGES)) ph_hugepages_note_free(d);
  HAK_TRACK_FREE(ph_page_of(d), bytes);
  pool_tls_t *t = pool_thread();
  uint32_t pages = d->len;
  if (HAK_LIKELY(t && pages <= POOL_CLASS_MAX_PAGES && (size_t)hak_cfg.l25_tc_bytes >= bytes)) {
    unsigned c = class_of_pages[pages];
    if (HAK_LIKELY(pages_of_class[c] == pages)) {
      if (HAK_UNLIKELY(t->bytes + bytes > (size_t)hak_cfg.l25_tc_bytes)) pool_spill_then_push(t, d, c, bytes);
      else tc_push(t, d, c);
      return;
    }
  }
  pool_free_to_heap(d);
}

int pool_free_ptr(void *p, const char **why) {
  ph_desc_t *d = pool_lookup(p, why);
  if (!d) return -1;
  pool_free_inline(d);
  return 0;
}

void pool_free(ph_desc_t *d) { pool_free_inline(d); }

int pool_resize(ph_desc_t *d, size_t size) {
  uint32_t pages = (uint32_t)((size + PH_PAGE - 1) >> PH_PAGE_SHIFT);
  if (pages < POOL_MIN_PAGES) pages = POOL_MIN_PAGES;
  size_t old = pool_usable(d);
  if (ph_resize(d, pages) != 0) return -1;
  uint8_t *p = ph_page_of(d);
  size_t now = pool_usable(d);
  // Only the pages that changed hands change state: the kept contents stay as they were.
  if (now > old) HAK_TRACK_ALLOC(p + old, now - old);
  else if (now < old) HAK_TRACK_FREE(p + now, old - now);
  (void)p;
  return 0;
}

size_t pool_trim(void) {
  pool_flush_thread();
  pool_reap_orphans();
  return ph_trim();
}

void pool_stats_get(pool_stats_t *out) {
  pool_stats_t s = {0};
  ph_stats_t ph;
  ph_stats_get(&ph);
  s.arenas = ph.arenas;
  s.mapped_bytes = ph.mapped_bytes;
  s.live_blocks = ph.live_blocks;
  s.live_bytes = ph.live_bytes;
  s.free_dirty_bytes = ph.free_dirty_bytes;
  s.free_clean_bytes = ph.free_clean_bytes;
  s.allocs = ph.allocs;
  s.frees = ph.frees;
  s.steals = ph.steals;
  s.arena_maps = ph.maps;
  s.arena_unmaps = ph.unmaps;
  s.madvise_calls = ph.madvise_calls;
  s.released_bytes = ph.released_bytes;
  pthread_mutex_lock(&pool_threads_lock);
  s.cached_blocks = cached_total_locked();
  s.tc_hits = exited_hits;
  s.tc_misses = exited_misses;
  for (pool_tls_t *t = pool_threads; t; t = t->tnext) s.tc_hits += ctr(&t->hits), s.tc_misses += ctr(&t->misses);
  pthread_mutex_unlock(&pool_threads_lock);
  s.live_blocks -= s.cached_blocks;  // the page heap counts parked blocks as allocated
  *out = s;
}

unsigned pool_check(void) {
  uint64_t cached_seen;
  unsigned bad = ph_check(&cached_seen);
  pthread_mutex_lock(&pool_threads_lock);
  uint64_t cached = cached_total_locked();
  pthread_mutex_unlock(&pool_threads_lock);
  if (cached_seen != cached) {
    hak_log("integrity: pool thread caches: counter says %lu blocks, %lu pages marked cached", (unsigned long)cached,
            (unsigned long)cached_seen);
    bad++;
  }
  // This thread's cache: every entry a cached class-sized block in a live arena.
  pool_tls_t *t = pool_me;
  if (!t) return bad;
  size_t bytes = 0;
  for (unsigned c = 0; c < POOL_NCLASS; c++) {
    uint32_t n = 0;
    for (void *p = t->bin[c].head; p; p = hak_next_get(p), n++) {
      ph_desc_t *d = ph_desc_of(p);
      if (((uintptr_t)p & (PH_PAGE - 1)) || ph_state(d) != PH_CACHED || d->len != pool_class_pages(c)) {
        hak_log("integrity: pool thread cache class %u: entry %p is not a cached block of %u pages", c, p, pool_class_pages(c));
        bad++;
        break;
      }
      bytes += pool_usable(d);
    }
    if (n != t->bin[c].count) {
      hak_log("integrity: pool thread cache class %u: count %u, list holds %u", c, t->bin[c].count, n);
      bad++;
    }
  }
  if (bytes != t->bytes) {
    hak_log("integrity: pool thread cache: %zu bytes counted, list holds %zu", t->bytes, bytes);
    bad++;
  }
  return bad;
}

int pool_fork_held_by(int tid) {
  return hak_os_mutex_held_by(&pool_threads_lock, tid) || ph_lock_held_by(tid);
}

void pool_fork_prepare(void) {
  pthread_mutex_lock(&pool_threads_lock);
  ph_lock_all();
}
void pool_fork_parent(void) {
  ph_unlock_all();
  pthread_mutex_unlock(&pool_threads_lock);
}
// The child has only the forking thread: blocks parked in the other threads' caches (whose
// pushes and pops may even have been cut in half by the fork) go back to the page heap, and
// the cached-block counter is recounted from this thread's cache.
void pool_fork_child(void) {
  ph_unlock_all();
  static pool_tls_t none;  // a thread without a cache has nothing of its own to keep
  pool_tls_t *t = pool_me ? pool_me : &none;
  uint64_t mine = 0;
  for (unsigned c = 0; c < POOL_NCLASS; c++)
    for (void *p = t->bin[c].head; p; p = hak_next_get(p), mine++) ph_set_state(ph_desc_of(p), PH_LIVE);
  ph_desc_t *orphans = ph_claim_cached();
  for (unsigned c = 0; c < POOL_NCLASS; c++)
    for (void *p = t->bin[c].head; p; p = hak_next_get(p)) ph_set_state(ph_desc_of(p), PH_CACHED);
  // The other threads are gone: fold their counters and forget them.
  for (pool_tls_t *o = pool_threads, *next; o; o = next) {
    next = o->tnext;
    if (o != t) rec_retire_locked(o);
  }
  if (pool_me) atomic_store_explicit(&t->cached, mine, memory_order_relaxed);
  pthread_mutex_unlock(&pool_threads_lock);
  ph_free_list(orphans);
}

void pool_fork_child_rename(void) {
  if (pool_me) pool_me->tid = hak_os_gettid();
}

void pool_stats_fill(hak_stats_t *s) {
  pool_stats_t ps;
  pool_stats_get(&ps);
  s->pool_live_blocks = ps.live_blocks;
  s->pool_live_bytes = ps.live_bytes;
  s->pool_cached_blocks = ps.cached_blocks;
  s->pool_allocs = ps.allocs;
  s->pool_frees = ps.frees;
  s->pool_cache_hits = ps.tc_hits;
  s->pool_steals = ps.steals;
  s->pool_arenas = ps.arenas;
  s->pool_free_dirty_bytes = ps.free_dirty_bytes;
  s->pool_free_clean_bytes = ps.free_clean_bytes;
  s->pool_madvise_calls = ps.madvise_calls;
  s->pool_released_bytes = ps.released_bytes;
  uint64_t all = ps.tc_hits + ps.tc_misses;
  s->pool_hit_permille = all ? ps.tc_hits * 1000 / all : 0;
  s->bytes_mapped += ps.mapped_bytes;
}
