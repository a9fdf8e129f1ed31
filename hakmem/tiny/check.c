// check.c — the slab engine's integrity checker (tiny_check, called by
// hak_check_integrity). Walks every heap, SuperSlab, slab, free list, remote queue, thread
// cache, the SuperSlab cache and the band's bundles, and verifies the counter invariants stated in
// superslab.h and heap.h. Read-only; call it while no other thread allocates.
#include "hakmem/tiny/check.h"

#include <stdint.h>

#include "hakmem/log.h"
#include "hakmem/registry.h"
#include "hakmem/tiny/heap.h"
#include "hakmem/track.h"

typedef struct {
  size_t bad;
  uint64_t used_minus_remote;  // sum over slabs of (used - blocks in remote queues)
  uint64_t owned_ss;
  uint64_t cached_blocks;
  uint64_t band_blocks;  // in the band's bundles
} check_ctx_t;

#define FAIL(ctx, ...)   \
  do {                   \
    hak_log(__VA_ARGS__); \
    (ctx)->bad++;        \
  } while (0)

// Returns 1 if b is a block start of slab s (carved, aligned to the stride).
static int block_in_slab(const tiny_slab_t *s, const void *b) {
  uintptr_t first = (uintptr_t)s->begin + SS_BLOCK_LEAD;
  if ((uintptr_t)b < first) return 0;
  uintptr_t off = (uintptr_t)b - first;
  return off % s->stride == 0 && off / s->stride < s->carved;
}

static void check_free_block(check_ctx_t *x, const char *list, superslab_t *ss, tiny_slab_t *s, void *b) {
  if (!block_in_slab(s, b)) {
    FAIL(x, "integrity: %s of slab %u of SuperSlab %p: entry %p outside the slab or not block-aligned", list, s->idx,
         (void *)ss, b);
    return;
  }
  uint8_t h = ((uint8_t *)b)[-1];
  if (h != TINY_HDR_FREE_OF(s->cls))
    FAIL(x, "integrity: %s of slab %u of SuperSlab %p: block %p header expected 0x%x, actual 0x%x", list, s->idx,
         (void *)ss, b, TINY_HDR_FREE_OF(s->cls), h);
}

static void check_slab(check_ctx_t *x, superslab_t *ss, tiny_slab_t *s) {
  unsigned i = s->idx;
  int unassigned = (ss->free_mask >> i) & 1;
  for (unsigned u = 0; u < SS_NUNITS; u++) {
    if (ss->unit[u].slab != i) continue;
    if (ss->unit[u].cls != s->cls)
      FAIL(x, "integrity: SuperSlab %p slab %u: unit %u says class %u, slab says %u", (void *)ss, i, u, ss->unit[u].cls,
           s->cls);
    if (s->cls != SS_CLASS_NONE && ss->unit[u].start != (uintptr_t)(s->begin + SS_BLOCK_LEAD))
      FAIL(x, "integrity: SuperSlab %p slab %u: unit %u gives the first block at %#lx, slab says %#lx", (void *)ss, i,
           u, (unsigned long)ss->unit[u].start, (unsigned long)(s->begin + SS_BLOCK_LEAD));
    if (ss->unit[u].cap != (s->cls == SS_CLASS_NONE ? 0u : s->capacity))
      FAIL(x, "integrity: SuperSlab %p slab %u: unit %u says capacity %u, slab says %u", (void *)ss, i, u, (unsigned)ss->unit[u].cap,
           s->cls == SS_CLASS_NONE ? 0u : s->capacity);
  }
  if (s->cls != SS_CLASS_NONE && ss_kind_of_class(s->cls) != ss->kind)
    FAIL(x, "integrity: SuperSlab %p slab %u: class %u does not belong in a kind-%u SuperSlab", (void *)ss, i, s->cls, ss->kind);
  if (s->cls == SS_CLASS_NONE) {
    if (!unassigned) FAIL(x, "integrity: SuperSlab %p slab %u: no class but not in free_mask", (void *)ss, i);
    if (s->used || s->free_count || s->carved)
      FAIL(x, "integrity: SuperSlab %p slab %u: unassigned slab has used %u free %u carved %u (expected 0)", (void *)ss, i,
           s->used, s->free_count, s->carved);
    for (unsigned c = 0; c < TINY_NCLASS; c++)
      if ((ss->nonempty[c] >> i) & 1) FAIL(x, "integrity: SuperSlab %p slab %u: unassigned but nonempty[%u] set", (void *)ss, i, c);
    return;
  }
  if (unassigned) FAIL(x, "integrity: SuperSlab %p slab %u: class %u but free_mask bit set", (void *)ss, i, s->cls);
  if (s->cls >= TINY_NCLASS || s->stride != tiny_class_stride[s->cls]) {
    FAIL(x, "integrity: SuperSlab %p slab %u: class %u stride %u inconsistent", (void *)ss, i, s->cls, s->stride);
    return;
  }
  if (s->carved > s->capacity) FAIL(x, "integrity: slab %u of %p: carved %u > capacity %u", i, (void *)ss, s->carved, s->capacity);
  if ((unsigned)s->used + s->free_count != s->carved)
    FAIL(x, "integrity: slab %u of SuperSlab %p (class %u): used %u + free %u expected == carved %u", i, (void *)ss, s->cls,
         s->used, s->free_count, s->carved);
  // The list, and its runs (superslab.h): the top one as the slab describes it, each one
  // below as its first block does; each must end at the block its description names.
  unsigned n = 0, run_left = s->top_n, runs_ok = 1;
  void *run_tail = s->top_tail;
  for (void *b = s->free; b && n <= s->capacity; b = hak_next_peek(b), n++) {
    check_free_block(x, "free list", ss, s, b);
    if (!run_left) {  // b begins a run below the top
      uint32_t w = hak_aux32_get(b);
      run_left = slab_run_len(w);
      run_tail = slab_run_tail(s, w);
    }
    if (!run_left || (--run_left == 0) != (b == run_tail)) runs_ok = 0;
  }
  if (n != s->free_count)
    FAIL(x, "integrity: slab %u of SuperSlab %p: free list length expected %u (free_count), actual %u", i, (void *)ss,
         s->free_count, n);
  else if (!s->free != !s->top_n)
    FAIL(x, "integrity: slab %u of SuperSlab %p: top run of %u blocks on a list %s", i, (void *)ss, s->top_n,
         s->free ? "that is not empty" : "that is empty");
  else if (!runs_ok || run_left)
    FAIL(x, "integrity: slab %u of SuperSlab %p: a run of the free list does not end where its description says",
         i, (void *)ss);
  unsigned r = 0;
  uintptr_t rw = atomic_load_explicit(&s->remote, memory_order_acquire);
  for (void *b = (void *)(rw & ~(uintptr_t)1); b && r <= s->capacity; b = hak_next_peek(b), r++)
    check_free_block(x, "remote queue", ss, s, b);
  if (r > s->used)
    FAIL(x, "integrity: slab %u of SuperSlab %p: %u remote blocks but used is only %u", i, (void *)ss, r, s->used);
  x->used_minus_remote += s->used - r;
  int has = slab_has_free(s), bit = (ss->nonempty[s->cls] >> i) & 1;
  if (has != bit)
    FAIL(x, "integrity: slab %u of SuperSlab %p: nonempty bit expected %d, actual %d", i, (void *)ss, has, bit);
}

static void check_superslab(check_ctx_t *x, superslab_t *ss, tiny_heap_t *owner) {
  if (ss->magic != SS_MAGIC) FAIL(x, "integrity: SuperSlab %p: bad magic", (void *)ss);
  if (ss->owner != owner) FAIL(x, "integrity: SuperSlab %p: owner expected %p, actual %p", (void *)ss, (void *)owner, (void *)ss->owner);
  if (hak_reg_kind(ss) != HAK_KIND_SUPERSLAB) FAIL(x, "integrity: SuperSlab %p not in the registry", (void *)ss);
  if (ss->mapped > SS_SIZE || ss->mapped % (1u << SS_UNIT_SHIFT) || ((size_t)ss->nslabs << ss->slab_shift) > ss->mapped)
    FAIL(x, "integrity: SuperSlab %p: %u slabs of 2^%u bytes in %u bytes mapped", (void *)ss, ss->nslabs, ss->slab_shift, ss->mapped);
  if (!owner) {
    if (ss->active) FAIL(x, "integrity: cached SuperSlab %p: active expected 0, actual %u", (void *)ss, ss->active);
    return;
  }
  uint64_t sum = 0;
  if (ss->free_mask & ~ss_all_slabs(ss)) FAIL(x, "integrity: SuperSlab %p: free_mask 0x%x beyond its %u slabs", (void *)ss, ss->free_mask, ss->nslabs);
  for (unsigned i = 0; i < ss->nslabs; i++) {
    check_slab(x, ss, &ss->slabs[i]);
    sum += ss->slabs[i].used;
  }
  if (sum != ss->active)
    FAIL(x, "integrity: SuperSlab %p: active expected %lu (sum of used), actual %u", (void *)ss, (unsigned long)sum, ss->active);
  for (unsigned c = 0; c < TINY_NCLASS; c++)
    if ((ss->nonempty[c] != 0) != ss->in_avail[c])
      FAIL(x, "integrity: SuperSlab %p: class %u avail-list membership %u disagrees with nonempty mask 0x%x", (void *)ss, c,
           ss->in_avail[c], ss->nonempty[c]);
  if ((ss->free_mask != 0) != ss->in_free_list)
    FAIL(x, "integrity: SuperSlab %p: free-list membership %u disagrees with free_mask 0x%x", (void *)ss, ss->in_free_list,
         ss->free_mask);
}

// A block held by a thread cache or a band bundle: a free block of class c in a SuperSlab.
// Returns 0 when the chain cannot be followed further.
static int check_cached_block(check_ctx_t *x, const char *where, const void *owner, unsigned c, void *b) {
  if (hak_reg_kind(b) != HAK_KIND_SUPERSLAB) {
    FAIL(x, "integrity: %s %p class %u: block %p is not in a SuperSlab", where, owner, c, b);
    return 0;
  }
  tiny_slab_t *s = ss_slab_of(ss_of(b), b);
  if (s->cls != c || !block_in_slab(s, b))
    FAIL(x, "integrity: %s %p class %u: block %p belongs to a slab of class %u or is misaligned", where, owner, c, b, s->cls);
  else if (((uint8_t *)b)[-1] != TINY_HDR_FREE_OF(c))
    FAIL(x, "integrity: %s %p class %u: block %p header expected 0x%x, actual 0x%x", where, owner, c, b, TINY_HDR_FREE_OF(c),
         ((uint8_t *)b)[-1]);
  return 1;
}

// A bundle the band holds: every block a free block of its class (the band checks its own
// counters against the bundles, mid_check).
static void check_band_bundle(unsigned c, void *head, uint32_t n, void *arg) {
  check_ctx_t *x = arg;
  uint32_t k = 0;
  for (void *b = head; b && k <= n; b = hak_next_peek(b), k++)
    if (!check_cached_block(x, "band bundle", head, c, b)) break;
  x->band_blocks += k;
}

static void check_heap(tiny_heap_t *h, void *arg) {
  check_ctx_t *x = arg;
  unsigned n = 0, empty = 0;
  for (superslab_t *ss = h->owned; ss; ss = ss->onext) {
    check_superslab(x, ss, h);
    n++;
    empty += ss->active == 0;
  }
  x->owned_ss += n;
  if (n != h->n_owned) FAIL(x, "integrity: heap %p: owns %u SuperSlabs, counter says %u", (void *)h, n, h->n_owned);
  if (empty != h->n_empty) FAIL(x, "integrity: heap %p: %u empty SuperSlabs, counter says %u", (void *)h, empty, h->n_empty);
  for (unsigned c = 0; c < TINY_NCLASS; c++)
    for (superslab_t *ss = h->avail[c]; ss; ss = ss->cnext[c])
      if (ss->owner != h || !ss->nonempty[c]) FAIL(x, "integrity: heap %p avail[%u] holds SuperSlab %p without free blocks", (void *)h, c, (void *)ss);
  // Slabs queued in the inbox are counted through their remote words above.
  tiny_tls_t *t = tiny_heap_tls(h);
  if (!t) return;
  if (t->gate.head || t->gate.room || t->gate.cap != TINY_GATE_CAP)
    FAIL(x, "integrity: thread cache of heap %p: the ring classes' gate bin is not empty (head %p, room %u)", (void *)h,
         t->gate.head, t->gate.room);
  for (unsigned c = 0; c < TINY_NCLASS; c++) {
    unsigned k = 0;
    uint32_t count = tiny_bin_count(&t->bin[c]);
    if (t->bin[c].room > t->bin[c].cap)
      FAIL(x, "integrity: thread cache of heap %p class %u: room %u exceeds cap %u", (void *)h, c, t->bin[c].room, t->bin[c].cap);
    for (void *b = t->bin[c].head; b && k <= count; b = hak_next_peek(b), k++)
      if (!check_cached_block(x, "thread cache of heap", h, c, b)) break;
    if (k != count)
      FAIL(x, "integrity: thread cache of heap %p class %u: list length %u, count (cap - room) says %u", (void *)h, c, k, count);
    x->cached_blocks += k;
  }
  for (unsigned i = 0; i < TINY_NRING; i++) {
    tiny_ring_t *r = &t->ring[i];
    if (r->n > r->cap || r->cap > TINY_RING_MAX)
      FAIL(x, "integrity: ring of heap %p class %u: %u blocks, cap %u (max %u)", (void *)h, TINY_RING_FIRST + i, r->n, r->cap,
           TINY_RING_MAX);
    for (uint32_t k = 0; k < r->n && k < TINY_RING_MAX; k++) check_cached_block(x, "ring of heap", h, TINY_RING_FIRST + i, r->slot[k]);
    x->cached_blocks += r->n;
  }
}

static void check_cached_ss(superslab_t *ss, void *arg) { check_superslab(arg, ss, NULL); }

unsigned tiny_check(void) {
  check_ctx_t x = {0};
  tiny_heaps_foreach(check_heap, &x);
  uint64_t cached_ss = 0;
  ss_cache_foreach(check_cached_ss, &x);
  ss_stats_t ss;
  ss_stats_get(&ss);
  cached_ss = ss.cached;
  if (x.owned_ss + cached_ss != ss.mapped)
    FAIL(&x, "integrity: SuperSlabs: %lu owned + %lu cached, expected %lu mapped", (unsigned long)x.owned_ss,
         (unsigned long)cached_ss, (unsigned long)ss.mapped);
  if (tiny_band) tiny_band->foreach(check_band_bundle, &x);
  tiny_totals_t t;
  tiny_totals(&t);
  if (t.refilled - t.flushed != x.used_minus_remote)
    FAIL(&x, "integrity: COUNTER_MISMATCH: slabs say %lu blocks out (used - remote), thread counters say %lu (refilled %lu - flushed %lu)",
         (unsigned long)x.used_minus_remote, (unsigned long)(t.refilled - t.flushed), (unsigned long)t.refilled,
         (unsigned long)t.flushed);
  if (t.refilled - t.flushed < x.cached_blocks + x.band_blocks)
    FAIL(&x, "integrity: %lu blocks in thread caches and %lu in the band's bundles but only %lu out of slabs",
         (unsigned long)x.cached_blocks, (unsigned long)x.band_blocks, (unsigned long)(t.refilled - t.flushed));
  return (unsigned)x.bad;
}
