// fork.c — the slab engine's fork handlers, in the lock order of lifecycle.c: heap list,
// dead-thread heap, every heap (list order), then the SuperSlab cache.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/os.h"
#include "hakmem/tiny/heap_impl.h"
#include "hakmem/timing.h"
#include "hakmem/track.h"

int tiny_fork_held_by(int tid) {
  if (hak_os_mutex_held_by(&heap_list_lock, tid) || hak_os_mutex_held_by(&dead_lock, tid)) return 1;
  if (ss_lock_held_by(tid)) return 1;
  // Of the heap locks a thread takes only its own heap's blocking (others', when it
  // reclaims or adopts, by trylock while holding its own or heap_list_lock).
  tiny_tls_t *t = tiny_state == TINY_THREAD_ACTIVE ? tiny_me : NULL;
  return t && hak_os_mutex_held_by(&t->heap->lock, tid);
}

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
    heap_fold_counters_locked(t);
    heap_abandon_locked(h);
  }
  pthread_mutex_unlock(&heap_list_lock);
}

void tiny_fork_child_rename(void) {
  if (tiny_state == TINY_THREAD_ACTIVE) tiny_me->heap->tid = hak_os_gettid();
}
