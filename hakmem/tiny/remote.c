// remote.c — frees that cross threads: a chain of blocks of another heap's slab is pushed on
// the slab's remote queue with one CAS, and the slab queued once in its owner's inbox; the
// owner drains its inbox in its slow paths. Also the free of a thread past its destructor.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"

// Pushes a chain of blocks of slab s (owned by another heap) with one CAS; the pusher that
// finds the queued bit clear also queues the slab in the owner's inbox.
void heap_remote_push(tiny_slab_t *s, void *head, void *tail) {
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
void heap_drain_inbox(tiny_heap_t *h) {
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
    // Returned in runs of at most run_max blocks (superslab.h), so a refill takes them whole.
    // The slab can become empty (and be released) only with the last run: the later runs'
    // blocks still count as used until then.
    for (void *p = (void *)(r & ~(uintptr_t)1); p;) {
      void *head = p, *tail = p;
      uint32_t k = 1;
      while (k < s->run_max && hak_next_get(tail)) tail = hak_next_get(tail), k++;
      p = hak_next_get(tail);
      h->remote_drained += k;
      heap_put_chain(h, ss_of(s), s, head, tail, k);
    }
    s = next;
  }
}

void tiny_free_block_generic(void *p, unsigned c) {
  (void)c;
  tiny_slab_t *s = ss_slab_of(ss_of(p), p);
  pthread_mutex_lock(&dead_lock);
  dead_flushed++;
  dead_remote_pushes++;
  pthread_mutex_unlock(&dead_lock);
  heap_remote_push(s, p, p);
}

void tiny_free_chain_generic(void *head) {
  uint32_t n = 0;
  while (head) {
    tiny_slab_t *s = ss_slab_of(ss_of(head), head);
    void *tail = head, *next = hak_next_get(head);
    n++;
    while (next && ss_slab_of(ss_of(next), next) == s) {  // one push per run of one slab
      tail = next;
      next = hak_next_get(next);
      n++;
    }
    heap_remote_push(s, head, tail);
    head = next;
  }
  pthread_mutex_lock(&dead_lock);
  dead_flushed += n;
  dead_remote_pushes += n;
  pthread_mutex_unlock(&dead_lock);
}

void tiny_collect(void) {
  if (tiny_state != TINY_THREAD_ACTIVE) return;
  pthread_mutex_lock(&tiny_me->heap->lock);
  heap_drain_inbox(tiny_me->heap);
  pthread_mutex_unlock(&tiny_me->heap->lock);
}
