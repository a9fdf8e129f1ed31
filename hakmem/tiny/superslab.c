// superslab.c — mapping, the empty-SuperSlab cache (LRU with a global cap) and slab
// assignment. Never touches thread caches or heap lists (the heap files own those, see heap_impl.h).
#include "hakmem/tiny/superslab.h"

#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/os.h"
#include "hakmem/registry.h"
#include "hakmem/track.h"
#include "hakmem/timing.h"

static pthread_mutex_t ss_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static superslab_t *ss_cache_head, *ss_cache_tail;  // most recently released first
static ss_stats_t ss_stats;
// SuperSlabs taken from the cache; acquisitions (takes and maps) at the last decay pass.
static uint64_t ss_cache_takes, ss_acquired_seen;
// The most SuperSlabs in use at once (mapped, not cached) since the last decay pass, and
// between the two passes before it.
static uint64_t ss_peak_cur, ss_peak_prev;

// A SuperSlab went into use (lock held).
static void ss_note_use_locked(void) {
  uint64_t live = ss_stats.mapped - ss_stats.cached;
  if (live > ss_peak_cur) ss_peak_cur = live;
}

// How many empty SuperSlabs the cache keeps (lock held): HAKMEM_SS_CACHE_MAX, or the most
// the program had in use at once since the pass before the last, when that is more. A program
// that frees a burst of blocks and allocates it again keeps its SuperSlabs: with the fixed
// cap of 4, bursts of 2,000 32 KiB blocks unmapped 28 of them after each burst and faulted
// them in again, 17 s where 0.15 s do (bench_burst 2000000 32768 2000; glibc, trimming its
// heap top each time, 17.6 s). What the program no longer uses goes within two passes
// (ss_cache_decay), all of it after a pass with no take. Without a decay thread (HAKMEM_DECAY_MS=0) nothing would release the
// extra, so the fixed cap holds; 0 keeps no cache at all.
static uint64_t ss_cache_cap_locked(void) {
  uint64_t cap = (uint64_t)__atomic_load_n(&hak_cfg.ss_cache_max, __ATOMIC_RELAXED);  // the decay thread reads it too
  if (cap && __atomic_load_n(&hak_cfg.decay_ms, __ATOMIC_RELAXED) > 0) {
    uint64_t recent = ss_peak_cur > ss_peak_prev ? ss_peak_cur : ss_peak_prev;
    if (recent > cap) cap = recent;
  }
  return cap;
}

static void ss_unmap(superslab_t *ss);

// Unmaps a list of cached SuperSlabs linked through onext (lock not held); returns the
// bytes they had mapped.
static size_t ss_unmap_list(superslab_t *list) {
  size_t bytes = 0;
  while (list) {
    superslab_t *next = list->onext;
    bytes += list->mapped;
    ss_unmap(list);
    list = next;
  }
  return bytes;
}

// Unlinks the least recently released cached SuperSlabs beyond `keep` (lock held); returns
// them linked through onext, for ss_unmap outside the lock.
static superslab_t *ss_cache_cut_locked(uint64_t keep) {
  superslab_t *list = NULL;
  while (ss_stats.cached > keep) {
    superslab_t *victim = ss_cache_tail;
    ss_cache_tail = victim->oprev;
    if (ss_cache_tail) ss_cache_tail->onext = NULL;
    else ss_cache_head = NULL;
    ss_stats.cached--;
    ss_stats.mapped--;
    ss_stats.unmaps++;
    victim->onext = list;
    list = victim;
  }
  return list;
}

static uint32_t ss_slab_units(superslab_t *ss, unsigned slab);

// What slab s of a SuperSlab about to be cut again has written (see tiny_slab_t.written).
static uint32_t ss_slab_written(const tiny_slab_t *s) {
  uint64_t w = s->written;
  if (s->cls != SS_CLASS_NONE && SS_BLOCK_LEAD + (uint64_t)s->carved * s->stride > w)
    w = SS_BLOCK_LEAD + (uint64_t)s->carved * s->stride;
  return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

// Maps [ss + ss->mapped, ss + upto) in place: 0, or -1 when the OS refuses or another
// mapping is there. Only partly mapped SuperSlabs (address-space limit) get here.
static int ss_map_more(superslab_t *ss, size_t upto) {
  if (upto <= ss->mapped) return 0;
  if (!hak_os_map_at((uint8_t *)ss + ss->mapped, upto - ss->mapped)) return -1;
  pthread_mutex_lock(&ss_cache_lock);
  ss_stats.bytes += upto - ss->mapped;
  pthread_mutex_unlock(&ss_cache_lock);
  ss->mapped = (uint32_t)upto;
  return 0;
}

// log2 of a slab's size in a SuperSlab of this kind, as made now. Under an address-space
// limit the mid kind's slabs are 128 KiB, not 512: each 8 – 64 KiB class a program touches
// takes a slab of address space of its own, and CPython's start-up touches eight of them
// (4 MiB of a `ulimit -v` at 512 KiB). Every reader uses the SuperSlab's own slab_shift.
// `limited`: hak_os_address_space_limited(), asked once per acquire by its caller (a syscall).
static unsigned ss_kind_slab_shift(unsigned kind, int limited) {
  if (kind != SS_KIND_MID) return SS_SMALL_SLAB_SHIFT;
  return limited ? SS_MID_TIGHT_SLAB_SHIFT : SS_MID_SLAB_SHIFT;
}

// Slab i's first byte (slab 0 begins after the header).
static uint8_t *ss_slab_begin(superslab_t *ss, unsigned i) {
  return (uint8_t *)ss + ((size_t)i << ss->slab_shift) + (i == 0 ? SS_HEADER_BYTES : 0);
}

// -1 when slab 0 of the kind cannot be mapped (a partly mapped SuperSlab from the cache).
static int ss_init_slabs(superslab_t *ss, unsigned kind, int limited) {
  unsigned shift = ss_kind_slab_shift(kind, limited);
  if (ss_map_more(ss, (size_t)1 << shift) != 0) return -1;
  // From the cache with the same kind and slab size, its slabs lie where they lay: what they
  // wrote stays known. A new mapping is zero throughout (kind is 0 there, nothing is dirty).
  int same = ss->kind == kind && ss->slab_shift == shift;
  uint32_t written[SS_NSLABS];
  for (unsigned i = 0; i < SS_NSLABS; i++) written[i] = same ? ss_slab_written(&ss->slabs[i]) : UINT32_MAX;
  ss->kind = (uint8_t)kind;
  ss->slab_shift = (uint8_t)shift;
  ss->nslabs = (uint8_t)(ss->mapped >> shift);
  ss->free_mask = ss_all_slabs(ss);
  for (unsigned u = 0; u < SS_NUNITS; u++) {
    memset(&ss->unit[u], 0, sizeof ss->unit[u]);
    ss->unit[u].slab = (uint8_t)(u >> (ss->slab_shift - SS_UNIT_SHIFT));
    ss->unit[u].cls = SS_CLASS_NONE;
  }
  ss->active = 0;
  memset(ss->nonempty, 0, sizeof ss->nonempty);
  memset(ss->in_avail, 0, sizeof ss->in_avail);
  ss->in_free_list = 0;
  for (unsigned i = 0; i < SS_NSLABS; i++) {
    tiny_slab_t *s = &ss->slabs[i];
    memset(s, 0, sizeof *s);
    s->idx = (uint8_t)i;
    s->cls = SS_CLASS_NONE;
    s->begin = i < ss->nslabs ? ss_slab_begin(ss, i) : NULL;
    // One that served the other kind was cut elsewhere: a dirty slab counts as written
    // throughout.
    s->written = i < ss->nslabs && (ss->dirty_units & ss_slab_units(ss, i)) ? written[i] : 0;
  }
  return 0;
}

// A new SuperSlab's memory: all 2 MiB, or under an address-space limit only its first slab
// (of the kind it is for) at a 2 MiB-aligned address with free windows above it, where the
// kernel puts the next mappings instead of into this one's rest (hak_os_map_window).
static superslab_t *ss_map_new(unsigned kind, int limited) {
  size_t first = limited ? (size_t)1 << ss_kind_slab_shift(kind, limited) : SS_SIZE;
  superslab_t *ss = first == SS_SIZE ? hak_os_map_aligned(SS_SIZE, SS_SIZE) : hak_os_map_window(first, SS_SIZE);
  if (ss) ss->mapped = (uint32_t)first;
  return ss;
}

static superslab_t *ss_acquire_impl(struct tiny_heap *owner, unsigned kind, superslab_t *(*source)(tiny_band_heap_t *), tiny_band_heap_t *arg);
superslab_t *ss_acquire(struct tiny_heap *owner, unsigned kind, superslab_t *(*source)(tiny_band_heap_t *), tiny_band_heap_t *arg) {
  HAK_TIME_START(t0);
  superslab_t *ss = ss_acquire_impl(owner, kind, source, arg);
  HAK_TIME_END(HT_SS_ACQUIRE, t0);
  return ss;
}
static superslab_t *ss_acquire_impl(struct tiny_heap *owner, unsigned kind, superslab_t *(*source)(tiny_band_heap_t *), tiny_band_heap_t *arg) {
  pthread_mutex_lock(&ss_cache_lock);
  superslab_t *ss = ss_cache_head;
  if (ss) {
    ss_cache_head = ss->onext;
    if (ss_cache_head) ss_cache_head->oprev = NULL;
    else ss_cache_tail = NULL;
    ss_stats.cached--;
    ss_cache_takes++;
    ss_note_use_locked();
  }
  pthread_mutex_unlock(&ss_cache_lock);
  // Whether an address-space limit is set, asked once (a syscall) and only where it matters:
  // the mid kind's slab size and a new mapping. A small-kind cache take makes no syscall.
  int limited = kind == SS_KIND_MID || !ss ? hak_os_address_space_limited() : 0;
  if (ss && ss_init_slabs(ss, kind, limited) != 0) {  // partly mapped, and slab 0 of this kind is not
    pthread_mutex_lock(&ss_cache_lock);
    ss_stats.mapped--;
    ss_stats.unmaps++;
    pthread_mutex_unlock(&ss_cache_lock);
    ss_unmap(ss);
    ss = NULL;
  }
  if (!ss) {
    ss = source ? source(arg) : NULL;
    if (ss) ss->mapped = SS_SIZE;
    else ss = ss_map_new(kind, limited);
    if (!ss) return NULL;
    if (hak_reg_set(ss, SS_SIZE, ss, HAK_KIND_SUPERSLAB, HAK_KIND_SUPERSLAB) != 0) {  // no registry leaf
      hak_os_unmap(ss, ss->mapped);
      return NULL;
    }
    ss->magic = SS_MAGIC;
    pthread_mutex_lock(&ss_cache_lock);
    ss_stats.mapped++;
    ss_stats.maps++;
    ss_stats.bytes += ss->mapped;
    ss_note_use_locked();
    pthread_mutex_unlock(&ss_cache_lock);
    ss_init_slabs(ss, kind, limited);  // cannot fail: the first slab of the kind is mapped
  }
  ss->owner = owner;
  ss->onext = ss->oprev = NULL;
  return ss;
}

static void ss_unmap(superslab_t *ss) {
  size_t bytes = ss->mapped;
  hak_reg_clear(ss, SS_SIZE);
  ss->magic = 0;
  pthread_mutex_lock(&ss_cache_lock);
  ss_stats.bytes -= bytes;
  pthread_mutex_unlock(&ss_cache_lock);
  hak_os_unmap(ss, bytes);
}

static void ss_release_impl(superslab_t *ss);
void ss_release(superslab_t *ss) {
  HAK_TIME_START(t0);
  ss_release_impl(ss);
  HAK_TIME_END(HT_SS_RELEASE, t0);
}
static void ss_release_impl(superslab_t *ss) {
  ss->owner = NULL;
  pthread_mutex_lock(&ss_cache_lock);
  ss->oprev = NULL;
  ss->onext = ss_cache_head;
  if (ss_cache_head) ss_cache_head->oprev = ss;
  else ss_cache_tail = ss;
  ss_cache_head = ss;
  ss_stats.cached++;
  superslab_t *victims = ss_cache_cut_locked(ss_cache_cap_locked());  // least recently released
  pthread_mutex_unlock(&ss_cache_lock);
  ss_unmap_list(victims);
}

size_t ss_cache_trim(void) {
  pthread_mutex_lock(&ss_cache_lock);
  superslab_t *list = ss_cache_head;
  uint64_t n = ss_stats.cached;
  ss_cache_head = ss_cache_tail = NULL;
  ss_stats.cached = 0;
  ss_stats.mapped -= n;
  ss_stats.unmaps += n;
  pthread_mutex_unlock(&ss_cache_lock);
  return ss_unmap_list(list);
}

static uint32_t ss_slab_units(superslab_t *ss, unsigned slab) {
  unsigned per = 1u << (ss->slab_shift - SS_UNIT_SHIFT);
  return (per == 32 ? 0xffffffffu : (1u << per) - 1) << (slab * per);
}

// The inverse of odd d modulo 2^64 (Newton's iteration doubles the correct low bits each
// step: d itself is correct to 3 bits, five steps reach 96).
static uint64_t ss_inverse_odd(uint64_t d) {
  uint64_t x = d;
  for (int i = 0; i < 5; i++) x *= 2 - d * x;
  return x;
}

// Publishes slab `slab`'s class and block geometry to its units (cls SS_CLASS_NONE: none).
static void ss_set_units(superslab_t *ss, unsigned slab, uint8_t cls) {
  uint32_t units = ss_slab_units(ss, slab);
  const tiny_slab_t *s = &ss->slabs[slab];
  for (unsigned u = 0; u < SS_NUNITS; u++) {
    if (!(units >> u & 1)) continue;
    ss_unit_t *e = &ss->unit[u];
    e->cls = cls;
    if (cls == SS_CLASS_NONE) {
      e->hdr = 0;
      e->cap = 0;
      e->start = 0;
      e->inv = 0;
      e->rot = 0;
      e->bin = TINY_GATE_OFFSET;
    } else {
      e->hdr = TINY_HDR_ALLOC_OF(cls);
      e->start = (uintptr_t)(s->begin + SS_BLOCK_LEAD);
      e->cap = s->capacity;
      e->rot = (uint8_t)__builtin_ctz(s->stride);
      e->inv = ss_inverse_odd(s->stride >> e->rot);
      // A ring class's free finds the always-full gate bin and leaves for tiny_free_slow,
      // which tries the ring first.
      e->bin = (uint16_t)(cls < TINY_SMALL_NCLASS ? TINY_BIN_OFFSET(cls) : TINY_GATE_OFFSET);
    }
  }
}

// free()'s fast path accepts a block slot whose header byte says "allocated, class c"; the
// slots a slab has not carved yet must not say so. Fresh memory is zero; a unit that served
// another class may hold that class's user data exactly where this class's headers go.
// Only the part earlier classes carved (s->written) can hold such bytes: reading the rest
// would fault in pages never written (a program cycling sizes through the classes, each
// slab reassigned again and again, took 77 % of its page faults here).
static void ss_scrub_headers(tiny_slab_t *s, unsigned c) {
  const uint8_t alloc = TINY_HDR_ALLOC_OF(c);
  uint8_t *first = s->begin + SS_BLOCK_LEAD;
  uint64_t limit = s->written;
  for (uint32_t j = 0; j < s->capacity && SS_BLOCK_LEAD + (uint64_t)j * s->stride <= limit; j++) {
    uint8_t *h = first + (size_t)j * s->stride - 1;
    HAK_TRACK_MAPPED(h, 1);  // a header byte, never user data of this class
    if (hak_peek8(h) == alloc) *h = 0;
  }
}

// Defined here, beside the slab that sizes its runs by it; thread.c sizes its bins by it too.
uint32_t tiny_cache_target(unsigned c) {
  long cap = hak_cfg.tiny_cache_bytes / tiny_class_stride[c];
  if (cap < 16) cap = 16;
  if (cap > 512) cap = 512;
  return (uint32_t)cap;
}

// One more slab for a partly mapped SuperSlab whose last free slab was just taken; it stays
// as it is when the place is taken (its heap then maps a new SuperSlab when it needs one).
static void ss_grow(superslab_t *ss) {
  unsigned n = ss->nslabs;
  if (n >= (SS_SIZE >> ss->slab_shift) || ss_map_more(ss, (size_t)(n + 1) << ss->slab_shift) != 0) return;
  tiny_slab_t *s = &ss->slabs[n];
  s->begin = ss_slab_begin(ss, n);
  s->written = 0;
  ss->dirty_units &= ~ss_slab_units(ss, n);  // fresh pages: zero
  ss->nslabs = (uint8_t)(n + 1);
  ss->free_mask |= 1u << n;
}

tiny_slab_t *ss_slab_assign(superslab_t *ss, unsigned c) {
  unsigned i = (unsigned)__builtin_ctz(ss->free_mask);
  tiny_slab_t *s = &ss->slabs[i];
  size_t bytes = (size_t)((uint8_t *)ss + ((size_t)(i + 1) << ss->slab_shift) - s->begin);
  ss->free_mask &= ~(1u << i);
  if (!ss->free_mask && ss->mapped < SS_SIZE) ss_grow(ss);
  HAK_TRACK_RESET(s->begin, bytes);
  s->cls = (uint8_t)c;
  s->stride = tiny_class_stride[c];
  s->capacity = (uint16_t)((bytes - SS_BLOCK_LEAD) / s->stride);
  ss_set_units(ss, i, (uint8_t)c);
  uint32_t units = ss_slab_units(ss, i);
  if (ss->dirty_units & units) ss_scrub_headers(s, c);
  ss->dirty_units |= units;
  s->carved = 0;
  s->used = 0;
  s->free = NULL;
  s->free_count = 0;
  s->top_n = 0;
  // Runs grow to about a refill (half a thread cache's target capacity), so a refill
  // takes one or two of them whole.
  s->run_max = (uint16_t)(tiny_cache_target(c) / 2);
  return s;
}

void ss_slab_unassign(superslab_t *ss, tiny_slab_t *s) {
  s->written = ss_slab_written(s);
  s->cls = SS_CLASS_NONE;
  ss_set_units(ss, s->idx, SS_CLASS_NONE);
  s->free = NULL;
  s->free_count = 0;
  s->top_n = 0;
  s->carved = 0;
  s->capacity = 0;
  ss->free_mask |= 1u << s->idx;
}

size_t ss_cache_decay(void) {
  pthread_mutex_lock(&ss_cache_lock);
  // Idle: no SuperSlab taken or mapped since the last pass. (A program whose first burst
  // mapped all it needs has taken nothing from the cache yet, and is not idle.)
  uint64_t acquired = ss_cache_takes + ss_stats.maps;
  int idle = acquired == ss_acquired_seen;
  ss_acquired_seen = acquired;
  // A new window: what the cache holds beyond the last two windows' peak use goes now.
  ss_peak_prev = ss_peak_cur;
  ss_peak_cur = ss_stats.mapped - ss_stats.cached;
  superslab_t *victims = ss_cache_cut_locked(ss_cache_cap_locked());
  uint64_t cached = ss_stats.cached;
  pthread_mutex_unlock(&ss_cache_lock);
  ss_unmap_list(victims);
  if (cached && idle) {
    ss_cache_trim();
    return 0;
  }
  return (size_t)cached * SS_SIZE;
}

size_t ss_decommit_free_slabs(superslab_t *ss) {
  size_t bytes = 0;
  for (uint32_t m = ss->free_mask; m; m &= m - 1) {
    unsigned i = (unsigned)__builtin_ctz(m);
    uint32_t units = ss_slab_units(ss, i);
    if (!(ss->dirty_units & units)) continue;
    // Whole pages of the slab's block area only: slab 0 begins after the header.
    uintptr_t lo = HAK_ALIGN_UP((uintptr_t)ss->slabs[i].begin, HAK_OS_PAGE);
    uintptr_t hi = (uintptr_t)ss + ((uintptr_t)(i + 1) << ss->slab_shift);
    if (hak_os_decommit((void *)lo, hi - lo) != 0) continue;  // still dirty: headers are scrubbed on reuse
    bytes += hi - lo;
    ss->dirty_units &= ~units;  // reads as zero again: no stale headers to scrub
    ss->slabs[i].written = 0;
  }
  return bytes;
}

void ss_stats_get(ss_stats_t *out) {
  pthread_mutex_lock(&ss_cache_lock);
  *out = ss_stats;
  pthread_mutex_unlock(&ss_cache_lock);
}

void ss_cache_foreach(void (*fn)(superslab_t *, void *), void *arg) {
  pthread_mutex_lock(&ss_cache_lock);
  for (superslab_t *ss = ss_cache_head; ss; ss = ss->onext) fn(ss, arg);
  pthread_mutex_unlock(&ss_cache_lock);
}

int ss_lock_held_by(int tid) { return hak_os_mutex_held_by(&ss_cache_lock, tid); }
void ss_lock_all(void) { pthread_mutex_lock(&ss_cache_lock); }
void ss_unlock_all(void) { pthread_mutex_unlock(&ss_cache_lock); }
