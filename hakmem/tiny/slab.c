// slab.c — a heap's SuperSlab lists (avail per class, with-free per kind, owned) and the
// slab counters (used, free_count, carved) and SuperSlab active count. Every counter change
// happens in heap_take_from_slab() or heap_put_chain(); nothing else writes them (a path that
// forgot one would break the invariants tiny/check.c compares). Callers hold the heap's lock.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/log.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"

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

static void set_nonempty(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s) {
  ss->nonempty[s->cls] |= 1u << s->idx;
  avail_link(h, ss, s->cls);
}
static void clear_nonempty(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s) {
  ss->nonempty[s->cls] &= ~(1u << s->idx);
  if (!ss->nonempty[s->cls]) avail_unlink(h, ss, s->cls);
}

void heap_release_ss(tiny_heap_t *h, superslab_t *ss) {
  for (unsigned c = 0; c < TINY_NCLASS; c++) avail_unlink(h, ss, c);
  free_unlink(h, ss);
  DLIST_UNLINK(&h->owned, ss, onext, oprev);
  h->n_owned--;
  h->n_empty--;
  ss_release(ss);
}

void heap_release_empty(tiny_heap_t *h) {
  for (superslab_t *ss = h->owned, *next; ss; ss = next) {
    next = ss->onext;
    if (ss->active == 0) heap_release_ss(h, ss);
  }
}

tiny_slab_t *heap_new_slab(tiny_heap_t *h, unsigned c) {
  unsigned kind = ss_kind_of_class(c);
  superslab_t *ss = h->with_free[kind];
  if (!ss) {
    // A band (the mid tier) may supply the memory of its kind's SuperSlabs (its arena).
    const tiny_band_t *band = kind == SS_KIND_MID ? tiny_band : NULL;
    ss = ss_acquire(h, kind, band ? band->carve : NULL, &h->band);
    if (!ss) return NULL;
    DLIST_LINK(&h->owned, ss, onext, oprev);
    h->n_owned++;
    h->n_empty++;
    free_link(h, ss);
  }
  tiny_slab_t *s = ss_slab_assign(ss, c);
  if (!ss->free_mask) free_unlink(h, ss);
  set_nonempty(h, ss, s);
  return s;
}

// ---------------------------------------------------------------- counters: take / put

// A run below the top is described in its first block (superslab.h).
static void run_save(tiny_slab_t *s) { hak_aux32_set(s->free, slab_run_word(s, s->top_tail, s->top_n)); }
static void run_load(tiny_slab_t *s) {
  uint32_t w = hak_aux32_get(s->free);
  uint32_t n = slab_run_len(w);
  if (HAK_UNLIKELY(!n || n > s->free_count || !slab_is_block_start(s, slab_run_tail(s, w)))) {
    // Only a write into a free block (a use after free) changes a description. The rest of
    // the list becomes one run, its end found by walking it once, rather than a refill
    // following a wild tail.
    hak_log("free list of slab %u of SuperSlab %p: run description in free block %p overwritten (0x%x; a write after free?)",
            s->idx, (void *)ss_of(s->free), s->free, w);
    void *t = s->free;
    for (n = 1; n < s->free_count && hak_next_get(t); n++) t = hak_next_get(t);
    s->top_n = (uint16_t)n;
    s->top_tail = t;
    return;
  }
  s->top_n = (uint16_t)n;
  s->top_tail = slab_run_tail(s, w);
}

// Moves up to `want` blocks out of slab s into a NULL-terminated chain (*tail_out, when
// asked, its last block). used and active grow by exactly the number returned.
// Free blocks come first, without a walk down the list, whose every step is a cache miss,
// paid again when the thread cache pops the block: a caller that needs no tail gets the
// whole list when it fits `most` (no block touched: the list ends in NULL, and carved
// blocks go in front of it); otherwise whole runs (superslab.h) while they fit `most`. Only
// a top run longer than `most` is walked, for `want` blocks. Carved blocks, ascending,
// follow when the list ran out.
uint32_t heap_take_from_slab(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, uint32_t want, uint32_t most,
                             void **out, void **tail_out) {
  void *head = s->free, *tail = NULL;
  uint32_t n = 0;
  int carved = 0;
  const uint8_t hdr = TINY_HDR_FREE_OF(s->cls);
  if (most < want) most = want;
  if (!tail_out && want && s->free && s->free_count <= most) {
    n = s->free_count;
    s->free = NULL;
    s->free_count = 0;
    s->top_n = 0;
    uint32_t k = 0;
    if (n < want) {
      k = want - n;
      if (k > (uint32_t)(s->capacity - s->carved)) k = (uint32_t)(s->capacity - s->carved);
    }
    for (uint32_t i = k; i-- > 0;) {  // from the last, so the carved run stays ascending
      uint8_t *b = s->begin + SS_BLOCK_LEAD + (size_t)(s->carved + i) * s->stride;
      b[-1] = hdr;
      HAK_TRACK_CARVE(b, (size_t)s->stride - 1u);
      hak_next_set(b, head);
      head = b;
    }
    s->carved = (uint16_t)(s->carved + k);
    n += k;
  } else {
    while (s->free && n < want) {
      uint32_t k = s->top_n;
      if (n + k > most) break;
      tail = s->top_tail;
      s->free = hak_next_get(tail);  // a run costs this load and the next run's description
      s->free_count = (uint16_t)(s->free_count - k);
      n += k;
      if (s->free) run_load(s);
      else s->top_n = 0;  // top_n is 0 exactly when the list is empty
    }
    if (!n && want && s->free) {  // a run too long for the bin: walk `want` blocks off it
      tail = s->free;
      n = 1;
      while (n < want) tail = hak_next_get(tail), n++;
      s->free = hak_next_get(tail);  // the run goes on below: its tail is still top_tail
      s->free_count = (uint16_t)(s->free_count - n);
      s->top_n = (uint16_t)(s->top_n - n);
    }
    if (!n) head = NULL;
    if (!s->free) {  // carving only once the list is empty: free blocks are resident already
      while (n < want && s->carved < s->capacity) {
        uint8_t *b = s->begin + SS_BLOCK_LEAD + (size_t)s->carved * s->stride;
        b[-1] = hdr;
        if (tail) hak_next_set(tail, b);
        else head = b;
        tail = b;
        HAK_TRACK_CARVE(b, (size_t)s->stride - 1u);
        s->carved++;
        n++;
        carved = 1;
      }
    }
    // The chain ends here: cut from what stays in the list, or after fresh blocks. A chain
    // that took the list to its end already ends in NULL (no store into a cold block).
    if (tail && (s->free || carved)) hak_next_set(tail, NULL);
  }
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
  if (tail_out) *tail_out = tail;
  return n;
}

// Returns a chain of k blocks (head..tail, all of slab s) to the slab's free list.
void heap_put_chain(tiny_heap_t *h, superslab_t *ss, tiny_slab_t *s, void *head, void *tail, uint32_t k) {
  int was_full = !slab_has_free(s);
  hak_next_set(tail, s->free);
  if (s->free && s->top_n + k <= s->run_max) {
    s->top_n = (uint16_t)(s->top_n + k);  // joins the top run, whose last block stays
  } else {
    if (s->free) run_save(s);  // the old top run is described in its first block
    s->top_n = (uint16_t)k;
    s->top_tail = tail;
  }
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
