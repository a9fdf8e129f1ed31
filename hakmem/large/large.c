// large.c — the large tier (see large.h). Owns large mappings, their registry entries
// and the freed-mapping cache; never touches SuperSlabs.
#include "hakmem/large/large.h"

#include "hakmem/hakmem.h"

#include <pthread.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/log.h"
#include "hakmem/os.h"
#include "hakmem/registry.h"

// No request above half the user address space can be mapped; refusing it early also keeps
// every size sum below from wrapping.
#define LARGE_MAX_REQUEST ((size_t)1 << (HAK_ADDR_BITS - 1))
#include "hakmem/track.h"
#include "hakmem/timing.h"

#define LARGE_BUCKETS 16384  // cacheable mappings: up to 64 MiB, direct-indexed by page count

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static large_hdr_t *cache[LARGE_BUCKETS + 1];       // per-bucket stacks (bnext)
static uint64_t cache_bits[(LARGE_BUCKETS + 64) / 64];  // non-empty buckets
static large_hdr_t *lru_head, *lru_tail;               // every cached block, newest first
static large_stats_t st;

// First non-empty bucket in [lo, hi], or 0. Reusing a mapping up to twice the size needed
// keeps the waste bound and makes reuse likely when sizes vary.
static unsigned cache_find(unsigned lo, unsigned hi) {
  if (hi > LARGE_BUCKETS) hi = LARGE_BUCKETS;
  for (unsigned w = lo / 64; w <= hi / 64; w++) {
    uint64_t bits = cache_bits[w];
    if (w == lo / 64) bits &= ~0ull << (lo % 64);
    if (bits) {
      unsigned b = w * 64 + (unsigned)__builtin_ctzll(bits);
      return b <= hi ? b : 0;
    }
  }
  return 0;
}
// Last (largest) non-empty bucket in [lo, hi], or 0.
static unsigned cache_find_last(unsigned lo, unsigned hi) {
  if (hi > LARGE_BUCKETS) hi = LARGE_BUCKETS;
  if (lo == 0) lo = 1;
  for (unsigned w = hi / 64 + 1; w-- > lo / 64;) {
    uint64_t bits = cache_bits[w];
    if (w == hi / 64 && hi % 64 != 63) bits &= (1ull << (hi % 64 + 1)) - 1;
    if (bits) {
      unsigned b = w * 64 + 63 - (unsigned)__builtin_clzll(bits);
      return b >= lo ? b : 0;
    }
  }
  return 0;
}
static void lru_unlink(large_hdr_t *h) {
  if (h->lru_prev) h->lru_prev->lru_next = h->lru_next;
  else lru_head = h->lru_next;
  if (h->lru_next) h->lru_next->lru_prev = h->lru_prev;
  else lru_tail = h->lru_prev;
  h->lru_prev = h->lru_next = NULL;
}
static large_hdr_t *cache_pop(unsigned b) {
  large_hdr_t *h = cache[b];
  cache[b] = h->bnext;
  if (!cache[b]) cache_bits[b / 64] &= ~(1ull << (b % 64));
  lru_unlink(h);
  return h;
}
static void cache_push(large_hdr_t *h) {
  unsigned b = h->bucket;
  h->bnext = cache[b];
  cache[b] = h;
  cache_bits[b / 64] |= 1ull << (b % 64);
  h->lru_prev = NULL;
  h->lru_next = lru_head;
  if (lru_head) lru_head->lru_prev = h;
  else lru_tail = h;
  lru_head = h;
}
// Removes the least recently freed block from the cache (lock held); returns it.
static large_hdr_t *cache_evict_oldest(void) {
  large_hdr_t *h = lru_tail;
  unsigned b = h->bucket;
  large_hdr_t **pp = &cache[b];
  while (*pp != h) pp = &(*pp)->bnext;
  *pp = h->bnext;
  if (!cache[b]) cache_bits[b / 64] &= ~(1ull << (b % 64));
  lru_unlink(h);
  return h;
}

static uint64_t hdr_seal(large_hdr_t *h) { return (uintptr_t)h ^ LARGE_MAGIC; }

static void *user_of(large_hdr_t *h) { return (uint8_t *)h + LARGE_HDR; }

size_t large_usable(const large_hdr_t *h) { return h->map_size - (size_t)((const uint8_t *)h + LARGE_HDR - (const uint8_t *)h->base); }

static void unmap_block(large_hdr_t *h);

// Fails only for a fresh mapping whose registry leaf could not be mapped.
static int publish(large_hdr_t *h) {
  return hak_reg_set(h->base, h->map_size, user_of(h), HAK_KIND_LARGE, HAK_KIND_LARGE_TAIL);
}

// The cache bucket of a mapping of map_size bytes (its page count), or UINT32_MAX.
static uint32_t bucket_of(size_t map_size) {
  return map_size / HAK_OS_PAGE <= LARGE_BUCKETS ? (uint32_t)(map_size / HAK_OS_PAGE) : UINT32_MAX;
}

// Resizes block h's mapping (header at its base) to map_size bytes: in place when the
// address space allows, else by moving its pages to a fresh granule-aligned place (mremap:
// nothing is copied, pages the program touched are not faulted again). h belongs to the
// caller (live, or just taken from the cache) and is registered. Returns the header at its
// new place, registered for the new extent; or NULL with h unchanged, still mapped and
// registered. The registry leaves of the new extent are mapped before anything changes,
// so the publish after the move cannot fail: the data never sits where free() would not
// find it.
static large_hdr_t *remap_block(large_hdr_t *h, size_t map_size) {
  uint8_t *base = h->base;
  size_t old = h->map_size;
  if (hak_reg_reserve(base, map_size > old ? map_size : old) != 0) return NULL;
  // Clear before the mapping changes: once part of the old range is unmapped (a shrunk
  // tail, or the old place after a move) another thread may map a block there and
  // register it, and a late clear would erase that block's entries.
  hak_reg_clear(base, old);
  if (hak_os_resize_inplace(base, old, map_size) != 0) {
    uint8_t *dst = map_size > old ? hak_os_map_aligned(map_size, HAK_GRANULE) : NULL;
    uint8_t *nb = NULL;
    if (dst && hak_reg_reserve(dst, map_size) == 0) nb = hak_os_move_to(base, old, map_size, dst);
    if (!nb) {
      if (dst) hak_os_unmap(dst, map_size);
      publish(h);  // the range it had: its leaves exist
      return NULL;
    }
    base = nb;
    h = (large_hdr_t *)base;
    h->base = base;
    h->seal = hdr_seal(h);
  }
  h->map_size = map_size;
  h->bucket = bucket_of(map_size);
  publish(h);  // leaves reserved above: cannot fail
  return h;
}

// ---------------------------------------------------------------- huge pages, learned

// HAKMEM_LARGE_HUGEPAGES=2 (the default) learns whether this program writes its large blocks
// whole: at each free, until decided, the block's resident pages are counted (mincore, one
// call per 16 MiB, on a path that follows the program's writing of megabytes). Once
// LARGE_THP_DENSE blocks in a row were at least 7/8 resident, new large mappings get huge
// pages, and so does a cached one when it is reused (a mapping made before the switch has
// no mark saying so: the hint is given again at each reuse, one madvise per block of
// megabytes). A block written sparsely starts the count again; the
// switch never goes back off. A program that never frees a large block never switches.
#define LARGE_THP_DENSE 2
#define LARGE_HUGE_PAGE ((size_t)2 << 20)
static int thp_learned;    // under large_lock; read racily by large_hugepages_on
static unsigned thp_dense;  // dense frees in a row (large_lock)

int large_hugepages_on(void) {
  long mode = __atomic_load_n(&hak_cfg.large_hugepages, __ATOMIC_RELAXED);
  return mode == 1 || (mode == 2 && __atomic_load_n(&thp_learned, __ATOMIC_RELAXED));
}

void large_hugepages_relearn(void);  // large_testing.h: tests only
void large_hugepages_relearn(void) {
  pthread_mutex_lock(&large_lock);
  __atomic_store_n(&thp_learned, 0, __ATOMIC_RELAXED);
  thp_dense = 0;
  pthread_mutex_unlock(&large_lock);
}

// Counts h's resident pages (no lock held: h is the caller's) and returns 1 when they are
// at least 7/8 of its pages, 0 when fewer, -1 when not counted (decided, or not learning).
static int thp_sample(const large_hdr_t *h) {
  if (__atomic_load_n(&hak_cfg.large_hugepages, __ATOMIC_RELAXED) != 2 || __atomic_load_n(&thp_learned, __ATOMIC_RELAXED)) return -1;
  long pages = (long)(h->map_size / HAK_OS_PAGE), res = hak_os_resident_pages(h->base, h->map_size);
  if (res < 0) return -1;
  return res * 8 >= pages * 7;
}

// Records a sample (large_lock held).
static void thp_note_locked(int dense) {
  if (dense < 0 || thp_learned) return;
  thp_dense = dense ? thp_dense + 1 : 0;
  if (thp_dense >= LARGE_THP_DENSE) __atomic_store_n(&thp_learned, 1, __ATOMIC_RELAXED);
}

static void *large_alloc_impl(size_t size, size_t align, int *fresh);
void *large_alloc(size_t size, size_t align, int *fresh) {
  HAK_TIME_START(t0);
  void *p = large_alloc_impl(size, align, fresh);
  HAK_TIME_END(HT_LARGE_ALLOC, t0);
  return p;
}
static void *large_alloc_impl(size_t size, size_t align, int *fresh) {
  size_t offset = align > LARGE_HDR ? align : LARGE_HDR;
  if (size == 0) size = 1;  // the user pointer's granule must lie inside the mapping
  if (size > LARGE_MAX_REQUEST - offset) return NULL;
  size_t map_size = HAK_ALIGN_UP(offset + size, HAK_OS_PAGE);
  // Decided once per allocation: the size and the hint below agree.
  int thp = large_hugepages_on();
  // With huge pages, whole ones: a partial last 2 MiB would take 4 KiB faults (up to 511).
  if (thp) map_size = HAK_ALIGN_UP(map_size, LARGE_HUGE_PAGE);
  uint32_t bucket = offset == LARGE_HDR ? bucket_of(map_size) : UINT32_MAX;
  large_hdr_t *h = NULL;
  if (bucket != UINT32_MAX) {
    pthread_mutex_lock(&large_lock);
    unsigned b = cache_find(bucket, 2 * bucket);
    int trim = 0, grow = 0;
    if (!b) {  // no close fit: take any larger cached mapping and cut it down below
      b = cache_find(2 * bucket + 1, LARGE_BUCKETS);
      trim = b != 0;
    }
    if (!b) {  // only smaller ones: the largest of at least half the size, grown below
      b = cache_find_last(bucket / 2, bucket - 1);
      grow = b != 0;
    }
    h = b ? cache_pop(b) : NULL;
    if (h) {
      st.cached--;
      st.cached_bytes -= h->map_size;
      st.cache_hits++;
    }
    pthread_mutex_unlock(&large_lock);
    // Shrinking keeps the pages the program already touched (no page faults for them) and
    // returns the tail to the OS: one mremap instead of mmap + munmap + faults. Growing
    // moves the touched pages (mremap) and maps only the difference: a program cycling
    // through sizes that keep growing (or random sizes, with the cache holding smaller
    // ones) faults in the growth, not the whole block.
    if (h && (trim || grow)) {
      large_hdr_t *r = remap_block(h, map_size);
      if (!r) unmap_block(h);  // keep the old mapping out of the cache
      h = r;
    }
    if (!h && (trim || grow)) {  // the cached mapping was unmapped instead
      pthread_mutex_lock(&large_lock);
      st.unmaps++;
      pthread_mutex_unlock(&large_lock);
    }
  }
  if (h) {
    *fresh = 0;
    if (thp) hak_os_hugepages(h->base, h->map_size);
  } else {
    size_t galign = align > HAK_GRANULE ? align : HAK_GRANULE;
    uint8_t *base = hak_os_map_aligned(map_size, galign);
    if (!base) return NULL;
    // Huge pages (HAKMEM_LARGE_HUGEPAGES=1, or =2 once learned, below): a program that
    // writes its blocks whole takes 512 times fewer page faults and TLB misses, but one that
    // touches them sparsely (a hash table) is made resident 2 MiB at a time (xz -T2: +10 %
    // peak RSS over glibc with them always on).
    if (thp) hak_os_hugepages(base, map_size);
    h = (large_hdr_t *)(base + offset - LARGE_HDR);
    h->magic = LARGE_MAGIC;
    h->base = base;
    h->map_size = map_size;
    h->bucket = bucket;
    h->seal = hdr_seal(h);
    if (publish(h) != 0) {
      hak_os_unmap(base, map_size);
      return NULL;
    }
    *fresh = 1;
    pthread_mutex_lock(&large_lock);
    st.maps++;
    pthread_mutex_unlock(&large_lock);
  }
  h->state = 1;
  pthread_mutex_lock(&large_lock);
  st.live++;
  st.live_bytes += h->map_size;
  st.allocs++;
  pthread_mutex_unlock(&large_lock);
  return user_of(h);
}

large_hdr_t *large_lookup(void *p) {
  uintptr_t u = (uintptr_t)p;
  if (u & 15) return NULL;
  if ((u & (HAK_GRANULE - 1)) < LARGE_HDR && hak_reg_kind((void *)(u - LARGE_HDR)) != HAK_KIND_LARGE_TAIL) return NULL;
  large_hdr_t *h = (large_hdr_t *)(u - LARGE_HDR);
  if (hak_peek64(&h->magic) != LARGE_MAGIC || hak_peek64(&h->seal) != hdr_seal(h)) return NULL;
  return h;
}

large_hdr_t *large_resolve(void *p, const char **why) {
  large_hdr_t *h = large_lookup(p);
  if (!h) {
    *why = "interior pointer or corrupted header of a large block";
    return NULL;
  }
  if (h->state != 1) {
    *why = "double free (large block is already free)";
    return NULL;
  }
  return h;
}

static void unmap_block(large_hdr_t *h) {
  void *base = h->base;
  size_t sz = h->map_size;
  hak_reg_clear(base, sz);
  h->magic = 0;
  hak_os_unmap(base, sz);
}

// Moves the least recently freed cached block onto *victims, counted as unmapped (lock
// held); the caller unmaps the list with unmap_list once the lock is dropped.
static void evict_oldest_locked(large_hdr_t **victims) {
  large_hdr_t *v = cache_evict_oldest();
  st.cached--;
  st.cached_bytes -= v->map_size;
  st.unmaps++;
  v->bnext = *victims;
  *victims = v;
}

// Unmaps a list of blocks linked through bnext (no lock held).
static void unmap_list(large_hdr_t *list) {
  while (list) {
    large_hdr_t *next = list->bnext;
    unmap_block(list);
    list = next;
  }
}

static void large_free_impl(large_hdr_t *h);
void large_free(large_hdr_t *h) {
  HAK_TIME_START(t0);
  large_free_impl(h);
  HAK_TIME_END(HT_LARGE_FREE, t0);
}
static void large_free_impl(large_hdr_t *h) {
  h->state = 0;
  large_hdr_t *victims = NULL;
  int keep = 0;
  // When it was freed (the decay step's age), in the block's own first bytes: a cached
  // block's user memory is the allocator's.
  int dense = thp_sample(h);  // before the write below, which makes a page resident
  *(uint64_t *)user_of(h) = hak_os_now_ms();
  pthread_mutex_lock(&large_lock);
  thp_note_locked(dense);
  st.live--;
  st.live_bytes -= h->map_size;
  st.frees++;
  // The cache holds HAKMEM_LARGE_CACHE_MB, or as many bytes as are live when that is more
  // (the page heap's rule for its dirty pages):
  // a program cycling through many large blocks reuses their pages instead of faulting
  // fresh ones in; what it stops reusing decays (large_decay).
  uint64_t cap = (uint64_t)hak_cfg.large_cache_mb << 20;
  if (st.live_bytes > cap) cap = st.live_bytes;
  if (h->bucket != UINT32_MAX && h->map_size <= cap) {
    // Make room by unmapping the least recently freed blocks: a size the program has moved
    // on from should not keep the cache full (e.g. a sweep from 1 MiB to 4 MiB).
    while (st.cached_bytes + h->map_size > cap) {
      evict_oldest_locked(&victims);
    }
    cache_push(h);
    st.cached++;
    st.cached_bytes += h->map_size;
    keep = 1;
  } else {
    st.unmaps++;
  }
  pthread_mutex_unlock(&large_lock);
  unmap_list(victims);
  if (!keep) unmap_block(h);
  else hak_decay_kick();
}

// Decay step (decay.h): cached mappings idle for age_ms are unmapped, oldest first.
static size_t large_decay(uint64_t now_ms, uint64_t age_ms) {
  large_hdr_t *victims = NULL;
  pthread_mutex_lock(&large_lock);
  while (lru_tail && hak_decay_idle(now_ms, *(uint64_t *)user_of(lru_tail), age_ms)) {
    evict_oldest_locked(&victims);
  }
  size_t kept = (size_t)st.cached_bytes;
  pthread_mutex_unlock(&large_lock);
  unmap_list(victims);
  return kept;
}
HAK_DECAY_STEP(large_decay);

void *large_realloc(large_hdr_t *h, size_t size) {
  size_t offset = (size_t)((uint8_t *)user_of(h) - (uint8_t *)h->base);
  if (offset != LARGE_HDR || size > LARGE_MAX_REQUEST) return NULL;
  size_t map_size = HAK_ALIGN_UP(offset + size, HAK_OS_PAGE);
  if (map_size == h->map_size) return user_of(h);
  size_t old = h->map_size;
  h = remap_block(h, map_size);
  if (!h) return NULL;
  pthread_mutex_lock(&large_lock);
  st.live_bytes = st.live_bytes - old + map_size;
  pthread_mutex_unlock(&large_lock);
  return user_of(h);
}

size_t large_trim(void) {
  large_hdr_t *list = NULL;
  pthread_mutex_lock(&large_lock);
  for (unsigned b = 0; b <= LARGE_BUCKETS; b++) {
    while (cache[b]) {
      large_hdr_t *h = cache_pop(b);
      h->bnext = list;
      list = h;
      st.unmaps++;
    }
  }
  size_t bytes = st.cached_bytes;
  st.cached = st.cached_bytes = 0;
  pthread_mutex_unlock(&large_lock);
  unmap_list(list);
  return bytes;
}

void large_stats_get(large_stats_t *out) {
  pthread_mutex_lock(&large_lock);
  *out = st;
  pthread_mutex_unlock(&large_lock);
}

unsigned large_check(void) {
  unsigned bad = 0;
  uint64_t n = 0, bytes = 0;
  pthread_mutex_lock(&large_lock);
  for (unsigned b = 0; b <= LARGE_BUCKETS; b++) {
    if (!cache[b] != !((cache_bits[b / 64] >> (b % 64)) & 1)) {
      hak_log("integrity: large cache bucket %u: bitmap bit disagrees with the list", b);
      bad++;
    }
    for (large_hdr_t *h = cache[b]; h; h = h->bnext) {
      n++;
      bytes += h->map_size;
      if (h->magic != LARGE_MAGIC || h->state != 0 || h->bucket != b || h->map_size != (size_t)b * HAK_OS_PAGE) {
        hak_log("integrity: large cache block %p in bucket %u: magic/state/size wrong (state %u, size %zu)", user_of(h), b,
                h->state, h->map_size);
        bad++;
      }
      if (hak_reg_kind(user_of(h)) != HAK_KIND_LARGE) {
        hak_log("integrity: large cache block %p not registered", user_of(h));
        bad++;
      }
    }
  }
  uint64_t in_lru = 0;
  for (large_hdr_t *h = lru_head; h; h = h->lru_next) in_lru++;
  if (in_lru != n) {
    hak_log("integrity: large cache LRU holds %lu blocks, buckets hold %lu", (unsigned long)in_lru, (unsigned long)n);
    bad++;
  }
  if (n != st.cached || bytes != st.cached_bytes) {
    hak_log("integrity: large cache counters: expected %lu blocks/%lu bytes, found %lu/%lu", (unsigned long)st.cached,
            (unsigned long)st.cached_bytes, (unsigned long)n, (unsigned long)bytes);
    bad++;
  }
  if (st.allocs - st.frees != st.live) {
    hak_log("integrity: large live count: expected %lu (allocs-frees), actual %lu", (unsigned long)(st.allocs - st.frees),
            (unsigned long)st.live);
    bad++;
  }
  pthread_mutex_unlock(&large_lock);
  return bad;
}

int large_fork_held_by(int tid) { return hak_os_mutex_held_by(&large_lock, tid); }
void large_fork_prepare(void) { pthread_mutex_lock(&large_lock); }
void large_fork_parent(void) { pthread_mutex_unlock(&large_lock); }
void large_fork_child(void) { pthread_mutex_unlock(&large_lock); }

void large_stats_fill(hak_stats_t *s) {
  large_stats_t l;
  large_stats_get(&l);
  s->large_live = l.live;
  s->large_live_bytes = l.live_bytes;
  s->large_cached = l.cached;
  s->large_cached_bytes = l.cached_bytes;
  s->large_allocs = l.allocs;
  s->large_frees = l.frees;
  s->large_cache_hits = l.cache_hits;
  s->large_hit_permille = l.allocs ? l.cache_hits * 1000 / l.allocs : 0;
  s->bytes_mapped += l.live_bytes + l.cached_bytes;
}
