// pageheap.c — the L2.5 page heap (see pageheap.h): spans, bins, coalescing, release.
#include "hakmem/pool/pageheap.h"

#include <stdatomic.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/log.h"
#include "hakmem/os.h"
#include "hakmem/registry.h"
#include "hakmem/track.h"
#include "hakmem/timing.h"

static ph_shard_t ph_shards[PH_NSHARDS] = {
    {.lock = PTHREAD_MUTEX_INITIALIZER},
    {.lock = PTHREAD_MUTEX_INITIALIZER},
    {.lock = PTHREAD_MUTEX_INITIALIZER},
    {.lock = PTHREAD_MUTEX_INITIALIZER},
};
_Static_assert(PH_NSHARDS == 4, "initialiser above lists every shard");

// Dirty free pages over all shards: the release trigger compares it with the cap.
static _Atomic uint64_t ph_dirty_total;

static unsigned ph_meta_pages(void) { return (unsigned)(HAK_ALIGN_UP(sizeof(ph_arena_t), PH_PAGE) >> PH_PAGE_SHIFT); }

// ---------------------------------------------------------------- bins

static unsigned bin_of(uint32_t n) {
  if (n <= PH_EXACT_BINS) return n - 1;
  unsigned b = 31u - (unsigned)__builtin_clz(n);  // 8.. for n > 256
  return PH_EXACT_BINS + (b - 8) * 8 + ((n >> (b - 3)) & 7);
}

static void bin_insert(ph_shard_t *sh, ph_desc_t *d) {
  unsigned b = bin_of(d->len);
  d->bin = (uint16_t)b;
  d->prev = NULL;
  d->next = sh->bins[b];
  if (d->next) d->next->prev = d;
  sh->bins[b] = d;
  sh->bitmap[b / 64] |= 1ull << (b % 64);
  if (d->clean) sh->free_clean += d->len;
  else {
    sh->free_dirty += d->len;
    atomic_fetch_add_explicit(&ph_dirty_total, d->len, memory_order_relaxed);
  }
}

static void bin_remove(ph_shard_t *sh, ph_desc_t *d) {
  unsigned b = d->bin;
  if (d->prev) d->prev->next = d->next;
  else sh->bins[b] = d->next;
  if (d->next) d->next->prev = d->prev;
  if (!sh->bins[b]) sh->bitmap[b / 64] &= ~(1ull << (b % 64));
  if (d->clean) sh->free_clean -= d->len;
  else {
    sh->free_dirty -= d->len;
    atomic_fetch_sub_explicit(&ph_dirty_total, d->len, memory_order_relaxed);
  }
}

// Marks [d, d+n) as one free span (boundary descriptors only) and bins it.
static void make_free(ph_shard_t *sh, ph_desc_t *d, uint32_t n, int clean) {
  d->len = n;
  d->clean = (uint8_t)clean;
  if (!clean) d->epoch = sh->clock;
  ph_set_state(d, PH_FREE);
  d[n - 1].len = n;
  ph_set_state(&d[n - 1], PH_FREE);
  bin_insert(sh, d);
}

static void make_live(ph_desc_t *d, uint32_t n) {
  d->len = n;
  for (uint32_t i = 1; i < n; i++) ph_set_state(&d[i], PH_INNER);
  d[n - 1].len = n;
  ph_set_state(d, PH_LIVE);
}

// First free span of at least n pages, or NULL. Spans in bins above bin_of(n) all fit; the
// bin of n itself is scanned (it is exact up to 256 pages).
static ph_desc_t *find_fit(ph_shard_t *sh, uint32_t n) {
  unsigned b = bin_of(n);
  for (ph_desc_t *d = sh->bins[b]; d; d = d->next)
    if (d->len >= n) return d;
  for (unsigned w = (b + 1) / 64; w < (PH_NBINS + 63) / 64; w++) {
    uint64_t bits = sh->bitmap[w];
    if (w == (b + 1) / 64) bits &= ~0ull << ((b + 1) % 64);
    if (bits) return sh->bins[w * 64 + (unsigned)__builtin_ctzll(bits)];
  }
  return NULL;
}

// Takes n pages from the front of free span d (lock held).
static ph_desc_t *carve(ph_shard_t *sh, ph_desc_t *d, uint32_t n, int *clean) {
  bin_remove(sh, d);
  uint32_t len = d->len;
  *clean = d->clean;
  if (len > n) make_free(sh, d + n, len - n, d->clean);
  make_live(d, n);
  HAK_STORE_RELAXED(&sh->live, sh->live + n);  // read racily by dirty_cap()
  sh->live_blocks++;
  sh->allocs++;
  return d;
}

static ph_desc_t *try_shard(ph_shard_t *sh, uint32_t n, int *clean) {
  ph_desc_t *d = find_fit(sh, n);
  return d ? carve(sh, d, n, clean) : NULL;
}

// Arena sizes are multiples of 2 MiB; under an address-space limit of 256 KiB, so a program
// that keeps 1 MiB in the page heap spends 1.25 MiB of its `ulimit -v` on it, not 2
// (CPython's start-up does). `tight`: the arena was made under a limit (mapped, not
// reserved); a new arena asks the kernel once, growth goes by the arena's own mode, so no
// growth makes the syscall under the shard lock.
static uint32_t round_grow(uint32_t n, int tight) {
  uint32_t grain = tight ? PH_TIGHT_PAGES : PH_FIRST_PAGES;
  return (n + grain - 1) / grain * grain;
}

// ---------------------------------------------------------------- huge pages, learned

// HAKMEM_POOL_HUGEPAGES=2 (the default) learns, as the large tier does (large.c), whether the
// program writes its page-heap blocks whole. Each free of a block of PH_THP_MIN_PAGES or more
// counts the block's resident pages (mincore) until decided; PH_THP_DENSE such blocks in a
// row at least 7/8 resident turn huge pages on for every arena, the ones mapped already
// included (one madvise per arena, once), and for every arena and extension after. A block
// written sparsely starts the count again, and the next samples are spaced out (1, 3, 7 ..
// 255 blocks skipped): a program that never writes its blocks whole pays one mincore per
// 256 frees of such blocks, not one per free. The switch never goes back off. A sparse user
// keeps 4 KiB pages: a block touched once per 2 MiB would otherwise be resident whole.
// Blocks below PH_THP_MIN_PAGES say little about 2 MiB regions and are not counted.
#define PH_THP_DENSE 4
#define PH_THP_GAP_MAX 255u
// Relaxed atomics: frees of all threads sample, and a lost update only shifts a count.
static _Atomic unsigned thp_on, thp_dense, thp_gap, thp_skip;

int ph_hugepages_on(void) {
  long mode = __atomic_load_n(&hak_cfg.pool_hugepages, __ATOMIC_RELAXED);
  return mode == 1 || (mode == 2 && atomic_load_explicit(&thp_on, memory_order_relaxed));
}

// Gives every arena's committed pages (a reserved window's rest gets the hint when it is
// committed, arena_extend) the hint `advise` gives; each shard's lock in turn, no other held.
static void thp_advise_arenas(void (*advise)(void *, size_t)) {
  for (unsigned i = 0; i < PH_NSHARDS; i++) {
    ph_shard_t *sh = &ph_shards[i];
    pthread_mutex_lock(&sh->lock);
    for (ph_arena_t *a = sh->arenas; a; a = a->next) advise(a, (size_t)a->end << PH_PAGE_SHIFT);
    pthread_mutex_unlock(&sh->lock);
  }
}

static void thp_switch_on(void) {
  // The flag first: an arena mapped meanwhile asks for huge pages itself (arena_new).
  if (atomic_exchange_explicit(&thp_on, 1, memory_order_relaxed)) return;
  thp_advise_arenas(hak_os_hugepages);
}

void ph_hugepages_note_free(ph_desc_t *d) {
  if (__atomic_load_n(&hak_cfg.pool_hugepages, __ATOMIC_RELAXED) != 2 || atomic_load_explicit(&thp_on, memory_order_relaxed))
    return;
  unsigned skip = atomic_load_explicit(&thp_skip, memory_order_relaxed);
  if (skip) {
    atomic_store_explicit(&thp_skip, skip - 1, memory_order_relaxed);
    return;
  }
  long res = hak_os_resident_pages(ph_page_of(d), (size_t)d->len << PH_PAGE_SHIFT);
  if (res < 0) return;  // the kernel cannot say: nothing learned
  if (res * 8 >= (long)d->len * 7) {
    atomic_store_explicit(&thp_gap, 0, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&thp_dense, 1, memory_order_relaxed) + 1 >= PH_THP_DENSE) thp_switch_on();
  } else {
    unsigned gap = atomic_load_explicit(&thp_gap, memory_order_relaxed) * 2 + 1;
    if (gap > PH_THP_GAP_MAX) gap = PH_THP_GAP_MAX;
    atomic_store_explicit(&thp_gap, gap, memory_order_relaxed);
    atomic_store_explicit(&thp_skip, gap, memory_order_relaxed);
    atomic_store_explicit(&thp_dense, 0, memory_order_relaxed);
  }
}

void ph_hugepages_relearn(void) {
  // As at start: no arena carries the hint (MADV_NOHUGEPAGE clears it; it also keeps
  // khugepaged away, which the tests that use this do not mind).
  thp_advise_arenas(hak_os_hugepages_off);
  atomic_store_explicit(&thp_on, 0, memory_order_relaxed);
  atomic_store_explicit(&thp_dense, 0, memory_order_relaxed);
  atomic_store_explicit(&thp_gap, 0, memory_order_relaxed);
  atomic_store_explicit(&thp_skip, 0, memory_order_relaxed);
}

// Maps and registers a new arena for sh (lock held) with room for a block of `pages`;
// returns its single free span.
static ph_desc_t *arena_new(ph_shard_t *sh, uint32_t pages) {
  unsigned meta = ph_meta_pages();
  // No address-space limit: reserve the whole window (PROT_NONE, no memory), so the arena
  // always grows in place. Under `ulimit -v`: map only the prefix, placed so that the next
  // mappings land elsewhere, and grow into free pages behind it while they stay free.
  int reserve = !hak_os_address_space_limited();
  uint32_t end = round_grow(meta + pages, !reserve);
  if (end > PH_NPAGES) end = PH_NPAGES;
  size_t bytes = (size_t)end << PH_PAGE_SHIFT;
  ph_arena_t *a = reserve ? hak_os_reserve_window(bytes, PH_ARENA_SIZE) : hak_os_map_window(bytes, PH_ARENA_SIZE);
  if (!a) return NULL;
  if (hak_reg_set(a, bytes, a, HAK_KIND_POOL, HAK_KIND_POOL) != 0) {  // no registry leaf: no arena
    hak_os_unmap(a, reserve ? PH_ARENA_SIZE : bytes);
    return NULL;
  }
  HAK_TRACK_MAPPED(a, bytes);
  if (ph_hugepages_on()) hak_os_hugepages(a, bytes);
  a->magic = PH_MAGIC;
  a->shard = sh;
  a->first = meta;
  a->end = end;
  a->reserved = (uint32_t)reserve;
  a->desc[0].len = meta;
  for (unsigned i = 0; i < meta; i++) ph_set_state(&a->desc[i], PH_META);
  a->next = sh->arenas;
  sh->arenas = a;
  HAK_STORE_RELAXED(&sh->narenas, sh->narenas + 1);  // read unlocked by stealers
  sh->mapped += end;
  sh->maps++;
  make_free(sh, &a->desc[meta], end - meta, 1);
  return &a->desc[meta];
}

// Maps n more pages behind arena a's end if nothing else lies there (lock held); the new
// pages join the free span at the arena's end, if there is one. 0 on success.
static int arena_extend(ph_shard_t *sh, ph_arena_t *a, uint32_t n) {
  uint8_t *at = (uint8_t *)a + ((size_t)a->end << PH_PAGE_SHIFT);
  size_t bytes = (size_t)n << PH_PAGE_SHIFT;
  if (a->reserved ? hak_os_commit(at, bytes) != 0 : !hak_os_map_at(at, bytes)) return -1;
  if (hak_reg_set(at, bytes, at, HAK_KIND_POOL, HAK_KIND_POOL) != 0) {
    if (!a->reserved) hak_os_unmap(at, bytes);  // a reserved window keeps the pages, unused
    return -1;
  }
  if (ph_hugepages_on()) hak_os_hugepages(at, bytes);
  ph_desc_t *last = &a->desc[a->end - 1], *start = last + 1;
  uint32_t len = n;
  int clean = 1;
  if (ph_state(last) == PH_FREE) {  // a span's last page: its state is exact
    start = last - (last->len - 1);
    bin_remove(sh, start);
    len += start->len;
    clean = start->clean;  // a merged span is clean only if both parts are
  }
  a->end += n;
  sh->mapped += n;
  sh->grows++;
  make_free(sh, start, len, clean);
  return 0;
}

// Maps at least `more` pages behind arena a's end (lock held): by doubling the arena where
// the window has room, else by what is needed. 0 on success; -1 when the window has no room
// or the pages behind it are taken (then the arena is stuck at this size).
static int arena_grow_by(ph_shard_t *sh, ph_arena_t *a, uint32_t more) {
  uint32_t room = PH_NPAGES - a->end;
  if (a->stuck || more > room) return -1;
  uint32_t need = round_grow(more, !a->reserved), dbl = a->end < need ? need : a->end;
  if (need > room) need = room;
  if (dbl > room) dbl = room;
  if (arena_extend(sh, a, dbl) == 0 || (need < dbl && arena_extend(sh, a, need) == 0)) return 0;
  a->stuck = 1;
  return -1;
}

// Grows one of sh's arenas so that a block of `pages` fits at its end (lock held). 0 on
// success.
static int arena_grow(ph_shard_t *sh, uint32_t pages) {
  for (ph_arena_t *a = sh->arenas; a; a = a->next) {
    ph_desc_t *last = &a->desc[a->end - 1];
    uint32_t tail = ph_state(last) == PH_FREE ? last->len : 0;
    if (tail < pages && arena_grow_by(sh, a, pages - tail) == 0) return 0;
  }
  return -1;
}

static ph_desc_t *ph_alloc_impl(unsigned *home, uint32_t pages, int *clean);
ph_desc_t *ph_alloc(unsigned *home, uint32_t pages, int *clean) {
  HAK_TIME_START(t0);
  ph_desc_t *d = ph_alloc_impl(home, pages, clean);
  HAK_TIME_END(HT_POOL_ALLOC, t0);
  return d;
}
// Shards threads may move on to (mallopt M_ARENA_MAX); stealing still visits every shard.
static unsigned ph_shard_limit = PH_NSHARDS;
void ph_set_shard_limit(unsigned n) { HAK_STORE_RELAXED(&ph_shard_limit, n < 1 ? 1 : n > PH_NSHARDS ? PH_NSHARDS : n); }

static ph_desc_t *ph_alloc_impl(unsigned *home, uint32_t pages, int *clean) {
  if (pages == 0 || pages > PH_NPAGES - ph_meta_pages()) return NULL;
  unsigned lim = HAK_LOAD_RELAXED(&ph_shard_limit);
  unsigned h = *home % lim;
  ph_shard_t *sh = &ph_shards[h];
  // Threads start on shard 0 (one shard fragments least) and move to the next shard when
  // they find theirs locked: shards multiply only where threads actually contend.
  if (pthread_mutex_trylock(&sh->lock) != 0) {
    h = (h + 1) % lim;
    *home = h;
    sh = &ph_shards[h];
    pthread_mutex_lock(&sh->lock);
  }
  ph_desc_t *d = try_shard(sh, pages, clean);
  pthread_mutex_unlock(&sh->lock);
  if (d) return d;
  // Steal: another shard's free span is resident memory; a new arena is not.
  for (unsigned i = 1; i < PH_NSHARDS && !d; i++) {
    ph_shard_t *o = &ph_shards[(h + i) % PH_NSHARDS];
    if (!HAK_LOAD_RELAXED(&o->narenas)) continue;
    pthread_mutex_lock(&o->lock);
    d = try_shard(o, pages, clean);
    if (d) o->steals++;
    pthread_mutex_unlock(&o->lock);
  }
  if (d) return d;
  pthread_mutex_lock(&sh->lock);
  d = try_shard(sh, pages, clean);  // another thread may have mapped an arena meanwhile
  if (!d && (arena_grow(sh, pages) == 0 || arena_new(sh, pages))) d = try_shard(sh, pages, clean);
  pthread_mutex_unlock(&sh->lock);
  return d;
}

// ---------------------------------------------------------------- free and release

// Releases dirty free spans of sh idle for at least min_age ms, largest bins first,
// until the global dirty count is at most `target` pages (lock held). One madvise per span,
// all in this one pass.
static void release_locked_impl(ph_shard_t *sh, uint64_t target, uint32_t min_age);
static void release_locked(ph_shard_t *sh, uint64_t target, uint32_t min_age) {
  HAK_TIME_START(t0);
  release_locked_impl(sh, target, min_age);
  HAK_TIME_END(HT_POOL_RELEASE, t0);
}
static void release_locked_impl(ph_shard_t *sh, uint64_t target, uint32_t min_age) {
  for (int b = PH_NBINS - 1; b >= 0 && atomic_load_explicit(&ph_dirty_total, memory_order_relaxed) > target; b--) {
    for (ph_desc_t *d = sh->bins[b]; d && atomic_load_explicit(&ph_dirty_total, memory_order_relaxed) > target; d = d->next) {
      if (d->clean || (uint32_t)(sh->clock - d->epoch) < min_age) continue;
      // A refused madvise leaves the pages as they were: the span stays dirty, or calloc
      // would skip zeroing memory that still holds old data.
      if (hak_os_decommit(ph_page_of(d), (size_t)d->len << PH_PAGE_SHIFT) != 0) continue;
      sh->free_dirty -= d->len;
      sh->free_clean += d->len;
      atomic_fetch_sub_explicit(&ph_dirty_total, d->len, memory_order_relaxed);
      sh->madvise_calls++;
      sh->released_pages += d->len;
      d->clean = 1;
    }
  }
}

// Live pages over all shards (relaxed sum; only steers the release policy).
static uint64_t live_total(void) {
  uint64_t n = 0;
  for (unsigned i = 0; i < PH_NSHARDS; i++) n += HAK_LOAD_RELAXED(&ph_shards[i].live);
  return n;
}

// Dirty free pages kept resident: HAKMEM_LARGE_CACHE_MB, or as many pages as are live when
// that is more (malloc_trim releases all of them).
static uint64_t dirty_cap(void) {
  uint64_t cap = (uint64_t)hak_cfg.large_cache_mb << (20 - PH_PAGE_SHIFT);
  uint64_t live = live_total();
  return live > cap ? live : cap;
}

// Frees block d into its shard (lock held), merging with free neighbours.
static void free_locked(ph_shard_t *sh, ph_desc_t *d) {
  ph_arena_t *a = ph_arena_of(d);
  uint32_t n = d->len;
  HAK_STORE_RELAXED(&sh->live, sh->live - n);
  sh->live_blocks--;
  sh->frees++;
  ph_set_state(d, PH_GONE);
  ph_desc_t *start = d;
  if (d - a->desc > (ptrdiff_t)a->first && ph_state(d - 1) == PH_FREE) {
    ph_desc_t *left = d - d[-1].len;
    bin_remove(sh, left);
    n += left->len;
    start = left;
  }
  ph_desc_t *right = d + d->len;
  if (right < a->desc + a->end && ph_state(right) == PH_FREE) {
    bin_remove(sh, right);
    n += right->len;
  }
  make_free(sh, start, n, 0);
}

// A block of `pages` pages whose address is a multiple of `align_pages` pages: the span
// is over-allocated by align_pages - 1 pages and the pages in front of the aligned start
// and behind the block go straight back as free spans (one lock, no extra mapping).
ph_desc_t *ph_alloc_aligned(unsigned *home, uint32_t pages, uint32_t align_pages, int *clean) {
  if (align_pages <= 1) return ph_alloc(home, pages, clean);
  if (pages == 0 || pages > PH_NPAGES || align_pages > PH_NPAGES / 2) return NULL;
  uint32_t total = pages + align_pages - 1;
  ph_desc_t *d = ph_alloc(home, total, clean);
  if (!d) return NULL;
  uintptr_t addr = (uintptr_t)ph_page_of(d), al = HAK_ALIGN_UP(addr, (uintptr_t)align_pages << PH_PAGE_SHIFT);
  uint32_t head = (uint32_t)((al - addr) >> PH_PAGE_SHIFT), tail = total - head - pages;
  if (!head && !tail) return d;
  ph_shard_t *sh = ph_arena_of(d)->shard;
  pthread_mutex_lock(&sh->lock);
  ph_desc_t *b = d + head;
  make_live(b, pages);
  // Each cut-off piece is counted as a block of its own and freed (merging with neighbours).
  if (head) {
    make_live(d, head);
    sh->live_blocks++;
    sh->frees--;
    free_locked(sh, d);
  }
  if (tail) {
    ph_desc_t *t = b + pages;
    make_live(t, tail);
    sh->live_blocks++;
    sh->frees--;
    free_locked(sh, t);
  }
  pthread_mutex_unlock(&sh->lock);
  return b;
}

static void ph_free_list_impl(ph_desc_t *list);
// A shard's clock only moves forward (shard lock held). Freers and decay passes read the time
// before they take the lock, so a later holder may bring an earlier time; stepping back would
// put the clock before spans stamped already, and their age (clock - epoch, unsigned) would
// wrap to 49 days: released at once, when they were freed just now. The comparison is signed
// (the 32-bit ms clock wraps); 0 is a clock never set.
static void ph_clock_advance(ph_shard_t *sh, uint32_t now) {
  if (sh->clock == 0 || (int32_t)(now - sh->clock) > 0) sh->clock = now;
}

void ph_free_list(ph_desc_t *list) {
  HAK_TIME_START(t0);
  ph_free_list_impl(list);
  HAK_TIME_END(HT_POOL_FREE, t0);
}
static void ph_free_list_impl(ph_desc_t *list) {
  uint32_t now = (uint32_t)hak_os_now_ms();  // the age stamp of the spans freed below
  while (list) {
    ph_shard_t *sh = ph_arena_of(list)->shard;
    pthread_mutex_lock(&sh->lock);
    ph_clock_advance(sh, now);
    // Every block of this shard in the list, under one lock acquisition.
    ph_desc_t **pp = &list;
    while (*pp) {
      ph_desc_t *d = *pp;
      if (ph_arena_of(d)->shard == sh) {
        *pp = d->next;
        free_locked(sh, d);
      } else {
        pp = &d->next;
      }
    }
    uint64_t cap = dirty_cap();
    if (atomic_load_explicit(&ph_dirty_total, memory_order_relaxed) > cap)
      release_locked(sh, cap - cap / 4, (uint32_t)__atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED));
    pthread_mutex_unlock(&sh->lock);
  }
  // Dirty spans stay for reuse; the decay thread gives back the ones left idle.
  if (atomic_load_explicit(&ph_dirty_total, memory_order_relaxed)) hak_decay_kick();
}

// Decay step (decay.h): every shard's dirty spans idle for age_ms go back to the OS.
static size_t ph_decay(uint64_t now_ms, uint64_t age_ms) {
  for (unsigned i = 0; i < PH_NSHARDS; i++) {
    ph_shard_t *sh = &ph_shards[i];
    pthread_mutex_lock(&sh->lock);
    ph_clock_advance(sh, (uint32_t)now_ms);
    release_locked(sh, 0, (uint32_t)age_ms);
    pthread_mutex_unlock(&sh->lock);
  }
  return (size_t)atomic_load_explicit(&ph_dirty_total, memory_order_relaxed) << PH_PAGE_SHIFT;
}
HAK_DECAY_STEP(ph_decay);

int ph_resize(ph_desc_t *d, uint32_t pages) {
  ph_arena_t *a = ph_arena_of(d);
  ph_shard_t *sh = a->shard;
  int ok = -1;
  pthread_mutex_lock(&sh->lock);
  uint32_t n = d->len;
  if (pages < n) {  // the tail becomes a free span (merged with a free right neighbour)
    ph_desc_t *tail = d + pages;
    make_live(d, pages);
    tail->len = n - pages;
    ph_set_state(tail, PH_LIVE);
    sh->live_blocks++;  // free_locked counts the tail as a block it frees
    sh->frees--;
    free_locked(sh, tail);
    ok = 0;
  } else if (pages > n) {
    ph_desc_t *right = d + n;
    // A block that ends the arena, or whose free right neighbour does, grows with the arena:
    // as it would have inside a window mapped whole, it need not move (and copy) to grow.
    uint32_t avail = right < a->desc + a->end && ph_state(right) == PH_FREE ? right->len : 0;
    if (avail < pages - n && (uint32_t)(right - a->desc) + avail == a->end) (void)arena_grow_by(sh, a, pages - n - avail);
    if (right < a->desc + a->end && ph_state(right) == PH_FREE && right->len >= pages - n) {
      uint32_t rlen = right->len;
      int clean = right->clean;
      bin_remove(sh, right);
      if (rlen > pages - n) make_free(sh, d + pages, rlen - (pages - n), clean);
      make_live(d, pages);
      HAK_STORE_RELAXED(&sh->live, sh->live + (pages - n));
      ok = 0;
    }
  } else {
    ok = 0;
  }
  pthread_mutex_unlock(&sh->lock);
  return ok;
}

size_t ph_trim(void) {
  size_t bytes = 0;
  for (unsigned i = 0; i < PH_NSHARDS; i++) {
    ph_shard_t *sh = &ph_shards[i];
    pthread_mutex_lock(&sh->lock);
    uint64_t before = sh->free_dirty;
    release_locked(sh, 0, 0);
    bytes += (size_t)(before - sh->free_dirty) << PH_PAGE_SHIFT;
    // Descriptors inside a free span are never read (only its first and last are): give
    // their pages back too, so an arena kept for one small live block costs little RSS.
    for (unsigned b = 0; b < PH_NBINS; b++)
      for (ph_desc_t *d = sh->bins[b]; d; d = d->next) {
        uintptr_t lo = HAK_ALIGN_UP((uintptr_t)(d + 1), PH_PAGE), hi = (uintptr_t)(d + d->len - 1) & ~(PH_PAGE - 1);
        if (hi > lo) (void)hak_os_decommit((void *)lo, hi - lo);  // refused: they just stay resident
      }
    // Unmap arenas that hold nothing: their one free span covers every data page.
    ph_arena_t **pp = &sh->arenas;
    while (*pp) {
      ph_arena_t *a = *pp;
      ph_desc_t *d = &a->desc[a->first];
      if (ph_state(d) == PH_FREE && d->len == a->end - a->first) {
        size_t bytes = (size_t)a->end << PH_PAGE_SHIFT;
        bin_remove(sh, d);
        *pp = a->next;
        HAK_STORE_RELAXED(&sh->narenas, sh->narenas - 1);
        sh->mapped -= a->end;
        sh->unmaps++;
        hak_reg_clear(a, bytes);
        a->magic = 0;
        hak_os_unmap(a, a->reserved ? PH_ARENA_SIZE : bytes);
      } else {
        pp = &a->next;
      }
    }
    pthread_mutex_unlock(&sh->lock);
  }
  return bytes;
}

// ---------------------------------------------------------------- integrity

#define FAIL(...) (hak_log(__VA_ARGS__), bad++)

static unsigned check_arena(ph_shard_t *sh, ph_arena_t *a, uint64_t *free_pages, uint64_t *clean_pages,
                            uint64_t *live_pages, uint64_t *live_blocks, uint64_t *cached) {
  unsigned bad = 0;
  if (a->magic != PH_MAGIC || a->shard != sh || a->first != ph_meta_pages() || a->end > PH_NPAGES ||
      a->end <= a->first || a->end % PH_TIGHT_PAGES) {
    FAIL("integrity: pool arena %p: bad magic/shard/metadata size/end (%u pages)", (void *)a, a->end);
    return bad;
  }
  if (hak_reg_kind(a) != HAK_KIND_POOL || hak_reg_kind((uint8_t *)a + ((size_t)a->end << PH_PAGE_SHIFT) - 1) != HAK_KIND_POOL)
    FAIL("integrity: pool arena %p: not registered", (void *)a);
  int prev_free = 0;
  for (uint32_t i = a->first; i < a->end;) {
    ph_desc_t *d = &a->desc[i];
    uint32_t n = d->len;
    unsigned s = ph_state(d);
    if (n == 0 || i + n > a->end || d[n - 1].len != n) {
      FAIL("integrity: pool arena %p page %u: span length %u inconsistent (last page says %u)", (void *)a, i, n,
           n && i + n <= a->end ? d[n - 1].len : 0);
      return bad;
    }
    if (s == PH_FREE) {
      if (prev_free) FAIL("integrity: pool arena %p page %u: two adjacent free spans (not coalesced)", (void *)a, i);
      if (ph_state(&d[n - 1]) != PH_FREE) FAIL("integrity: pool free span %p: last page not marked free", ph_page_of(d));
      if (d->bin != bin_of(n)) FAIL("integrity: pool free span %p: in bin %u, expected %u", ph_page_of(d), d->bin, bin_of(n));
      *free_pages += n;
      if (d->clean) *clean_pages += n;
      prev_free = 1;
    } else if (s == PH_LIVE || s == PH_CACHED) {
      for (uint32_t k = 1; k < n; k++)
        if (ph_state(&d[k]) != PH_INNER) {
          FAIL("integrity: pool block %p: page %u of %u not marked inner", ph_page_of(d), k, n);
          break;
        }
      *live_pages += n;
      *live_blocks += 1;
      if (s == PH_CACHED) *cached += 1;
      prev_free = 0;
    } else {
      FAIL("integrity: pool arena %p page %u: span starts with state %u", (void *)a, i, s);
      return bad;
    }
    i += n;
  }
  return bad;
}

unsigned ph_check(uint64_t *cached_blocks_seen) {
  unsigned bad = 0;
  uint64_t dirty_all = 0;
  *cached_blocks_seen = 0;
  for (unsigned i = 0; i < PH_NSHARDS; i++) {
    ph_shard_t *sh = &ph_shards[i];
    pthread_mutex_lock(&sh->lock);
    uint64_t free_pages = 0, clean = 0, live = 0, blocks = 0, narenas = 0, meta = 0, mapped = 0;
    for (ph_arena_t *a = sh->arenas; a; a = a->next) {
      narenas++;
      meta += a->first;
      mapped += a->end;
      bad += check_arena(sh, a, &free_pages, &clean, &live, &blocks, cached_blocks_seen);
    }
    uint64_t binned = 0, binned_clean = 0;
    for (unsigned b = 0; b < PH_NBINS; b++) {
      if (!sh->bins[b] != !((sh->bitmap[b / 64] >> (b % 64)) & 1)) FAIL("integrity: pool shard %u bin %u: bitmap disagrees", i, b);
      for (ph_desc_t *d = sh->bins[b]; d; d = d->next) {
        if (ph_state(d) != PH_FREE || d->bin != b) {
          FAIL("integrity: pool shard %u bin %u: span %p not free or in the wrong bin", i, b, ph_page_of(d));
          break;
        }
        binned += d->len;
        if (d->clean) binned_clean += d->len;
      }
    }
    if (narenas != sh->narenas) FAIL("integrity: pool shard %u: %lu arenas listed, counter says %lu", i, (unsigned long)narenas, (unsigned long)sh->narenas);
    if (binned != free_pages || binned_clean != clean)
      FAIL("integrity: pool shard %u: free spans walked %lu pages (%lu clean), bins hold %lu (%lu clean)", i,
           (unsigned long)free_pages, (unsigned long)clean, (unsigned long)binned, (unsigned long)binned_clean);
    if (sh->free_dirty + sh->free_clean != free_pages || sh->free_clean != clean)
      FAIL("integrity: pool shard %u: free counters %lu dirty + %lu clean, expected %lu (%lu clean)", i,
           (unsigned long)sh->free_dirty, (unsigned long)sh->free_clean, (unsigned long)free_pages, (unsigned long)clean);
    if (sh->live != live || sh->live_blocks != blocks)
      FAIL("integrity: pool shard %u: live counters %lu pages/%lu blocks, expected %lu/%lu", i, (unsigned long)sh->live,
           (unsigned long)sh->live_blocks, (unsigned long)live, (unsigned long)blocks);
    if (mapped != sh->mapped || meta + free_pages + live != mapped)
      FAIL("integrity: pool shard %u: %lu meta + %lu free + %lu live pages, arenas map %lu, counter says %lu", i,
           (unsigned long)meta, (unsigned long)free_pages, (unsigned long)live, (unsigned long)mapped,
           (unsigned long)sh->mapped);
    if (sh->allocs - sh->frees != sh->live_blocks)
      FAIL("integrity: pool shard %u: allocs-frees %lu, live blocks %lu", i, (unsigned long)(sh->allocs - sh->frees),
           (unsigned long)sh->live_blocks);
    dirty_all += sh->free_dirty;
    pthread_mutex_unlock(&sh->lock);
  }
  uint64_t total = atomic_load(&ph_dirty_total);
  if (total != dirty_all) FAIL("integrity: pool dirty pages: global counter %lu, shards hold %lu", (unsigned long)total, (unsigned long)dirty_all);
  return bad;
}

int ph_lock_held_by(int tid) {
  for (unsigned i = 0; i < PH_NSHARDS; i++)
    if (hak_os_mutex_held_by(&ph_shards[i].lock, tid)) return 1;
  return 0;
}
void ph_lock_all(void) {
  for (unsigned i = 0; i < PH_NSHARDS; i++) pthread_mutex_lock(&ph_shards[i].lock);
}
void ph_unlock_all(void) {
  for (unsigned i = PH_NSHARDS; i-- > 0;) pthread_mutex_unlock(&ph_shards[i].lock);
}

void ph_stats_get(ph_stats_t *out) {
  ph_stats_t s = {0};
  for (unsigned i = 0; i < PH_NSHARDS; i++) {
    ph_shard_t *sh = &ph_shards[i];
    pthread_mutex_lock(&sh->lock);
    s.arenas += sh->narenas;
    s.mapped_bytes += sh->mapped << PH_PAGE_SHIFT;
    s.live_blocks += sh->live_blocks;
    s.live_bytes += sh->live << PH_PAGE_SHIFT;
    s.free_dirty_bytes += sh->free_dirty << PH_PAGE_SHIFT;
    s.free_clean_bytes += sh->free_clean << PH_PAGE_SHIFT;
    s.allocs += sh->allocs;
    s.frees += sh->frees;
    s.steals += sh->steals;
    s.maps += sh->maps;
    s.grows += sh->grows;
    s.unmaps += sh->unmaps;
    s.madvise_calls += sh->madvise_calls;
    s.released_bytes += sh->released_pages << PH_PAGE_SHIFT;
    pthread_mutex_unlock(&sh->lock);
  }
  *out = s;
}

ph_desc_t *ph_claim_cached(void) {
  ph_desc_t *list = NULL;
  for (unsigned i = 0; i < PH_NSHARDS; i++)
    for (ph_arena_t *a = ph_shards[i].arenas; a; a = a->next)
      for (uint32_t k = a->first; k < a->end; k += a->desc[k].len)
        if (ph_state(&a->desc[k]) == PH_CACHED) {
          ph_set_state(&a->desc[k], PH_LIVE);
          a->desc[k].next = list;
          list = &a->desc[k];
        }
  return list;
}
