// engine.h — the slab engine's functions as the rest of HAKMEM calls them: slow paths,
// thread lifecycle, trim, totals, fork. Prototypes only (the structures and inline helpers
// are in heap.h, the inline fast paths in tiny.h), so any file of the engine may implement
// a part of it without depending on the others.
#ifndef HAKMEM_TINY_ENGINE_H
#define HAKMEM_TINY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/flags.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tiny_heap;
struct tiny_tls;
struct hak_stats;

// The slab engine's fields of hak_stats_t (tiny/stats.c); adds its mappings to bytes_mapped.
void tiny_stats_fill(struct hak_stats *s);

// Slow paths (refill.c, flush.c). tiny_alloc_slow sets errno to ENOMEM when it returns NULL.
// For a band class it may return a block of a larger class (stride at most twice c's,
// refill.c: band_borrow): the block keeps that class, which its header and slab name.
void *tiny_alloc_slow(unsigned c);
void tiny_free_slow(void *p, unsigned c);
// Any thread, any block of the engine: return it to its slab (locally or remotely).
void tiny_free_block_generic(void *p, unsigned c);
// Any thread: a NULL-terminated chain of free blocks (free headers) back to their slabs
// (through their owners' remote queues), e.g. a band bundle nobody took.
void tiny_free_chain_generic(void *head);

// Thread lifecycle. A thread whose TLS destructor never runs (it first allocated in the
// last destructor round) is an orphan: its heap stays attached, cache included, until a
// thread reusing its TLS block or malloc_trim (thread id gone) flushes and abandons it.
void tiny_thread_exit(void);

// Global bookkeeping for the checker and stats.
typedef struct {
  uint64_t refilled, flushed;  // including threads that have exited
  uint64_t refills, flushes, remote_pushes, remote_drained;
  uint64_t cached_blocks;      // blocks in all thread caches (quiescent read)
  uint64_t heaps, heaps_abandoned;
#if HAKMEM_DEBUG_COUNTERS
  uint64_t allocs, frees;
#endif
} tiny_totals_t;
void tiny_totals(tiny_totals_t *out);
// The thread cache attached to h, or NULL (call under the heap-list lock, e.g. from
// tiny_heaps_foreach).
struct tiny_tls *tiny_heap_tls(struct tiny_heap *h);
// Bytes of slab-engine blocks in the program's hands (out of their slabs, not parked in a
// thread cache or a band bundle; blocks queued as remote frees still count). For mallinfo.
uint64_t tiny_live_bytes(void);
// Iterates every heap (under the heap-list lock).
void tiny_heaps_foreach(void (*fn)(struct tiny_heap *, void *), void *arg);
// Flushes this thread's caches back to the slabs (malloc_trim, tests).
void tiny_flush_thread_cache(void);
// Drains this thread's heap inbox (remote frees waiting for it).
void tiny_collect(void);
// Returns every bundle the band holds (the mid depot) to the slabs (malloc_trim, tests).
void tiny_band_drain(void);
// Releases what abandoned heaps no longer need (their caches, empty SuperSlabs).
void tiny_trim_abandoned(void);
// malloc_trim for the slab engine: the band's bundles, abandoned heaps, SuperSlab cache (in that order);
// the bytes returned to the OS. Call after this thread's caches were flushed.
size_t tiny_trim(void);

// fork support, in the lock order of lifecycle.c: heap list, dead-thread heap, every heap
// (list order), then the SuperSlab cache.
void tiny_fork_prepare(void);
// Whether thread tid holds one of the engine's locks (fork from a signal handler).
int tiny_fork_held_by(int tid);
void tiny_fork_parent(void);
void tiny_fork_child(void);
// In the child of any fork (locks taken or not): the forking thread's new thread id.
void tiny_fork_child_rename(void);

#ifdef __cplusplus
}
#endif

#endif
