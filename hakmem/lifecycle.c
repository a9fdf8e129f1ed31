// lifecycle.c — the core library's share of process initialisation (an init step run once
// by hak_global_init): fork handlers and the HAKMEM_STATS exit report.
#include <pthread.h>
#include <stdlib.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/hakmem.h"
#include "hakmem/init.h"
#include "hakmem/large/large.h"
#include "hakmem/mid/depot.h"
#include "hakmem/os.h"
#include "hakmem/pool/pool.h"
#include "hakmem/timing.h"
#include "hakmem/tiny/heap.h"

// ---------------------------------------------------------------- lock hierarchy
//
// Every lock of the allocator, in the one order any path may nest them (a path holding a
// lock only ever waits for locks further down; trylock may go anywhere):
//   0. glibc's stdio list lock (_IO_list_lock; taken here, at fork only)
//   ½. decay_lock                      (decay.c: one decay pass; the integrity checker)
//   1. tiny: heap_list_lock            (tiny/thread.c: heap lists, attach/abandon, totals)
//   2. tiny: dead_lock                 (tiny/refill.c: the heap of threads past their destructor)
//   3. tiny: each heap's lock          (heap.h: refill, flush, drain; one at a time)
//   4. tiny: ss_cache_lock             (superslab.c: SuperSlab cache and stats)
//   5. pool: pool_threads_lock         (pool.c: thread-cache records)
//   6. pool: page-heap shards 0..3     (pageheap.c: spans; one at a time but here)
//   7. large: large_lock               (large.c: BigCache and stats)
// The fork handlers take all of them in this order and release them in reverse.
//
// Why stdio first: glibc's fork takes its stdio list lock only after the atfork prepare
// handlers ran. A thread in getline() holds a FILE lock and may be in realloc() waiting for
// one of ours, while a thread in fflush(NULL) holds the list lock and waits for that FILE:
// had we taken our locks first, the forking thread would then wait for the list lock and
// close the cycle. The list lock is recursive, so glibc taking it again is fine; in the
// child glibc resets it, so only the parent releases our hold.
//
// The decay thread (decay.c) holds decay_lock for a whole pass and its steps take the tier
// locks below it in this order, so fork and the integrity checker wait for a pass.
//
// A single-threaded process takes no locks (as glibc does): nobody else can hold them, and
// a signal handler that forks while the program was inside fork_prepare or any allocator
// path would otherwise wait for a lock its own thread holds.
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));
extern char __libc_single_threaded __attribute__((weak));

static int fork_locked;  // whether fork_prepare took the locks (read by the same thread)

// A signal handler that forks while its thread was inside the allocator: that thread holds
// one of the locks (glibc records the owner), and waiting for it would never end. Then no
// lock is taken, as in a single-threaded process, though HAKMEM's own decay thread may run:
// it cannot be waited for either, as it may be waiting for the lock the interrupted thread
// holds. The child then gets what the other threads were doing as it was, the risk POSIX
// leaves to a program that forks in a signal handler; the interrupted code goes on in both
// processes and releases its own locks. (hardening_test's fork_in_signal, whose program
// has no thread but the decay thread, hung when this took the locks.)
static int fork_from_inside(void) {
  int tid = hak_os_gettid();
  return tiny_fork_held_by(tid) || pool_fork_held_by(tid) || large_fork_held_by(tid) || hak_decay_held_by(tid);
}

static void fork_prepare(void) {
  fork_locked = !(&__libc_single_threaded && __libc_single_threaded) && !fork_from_inside();
  if (!fork_locked) return;
  if (_IO_list_lock) _IO_list_lock();
  hak_decay_lock();
  tiny_fork_prepare();
  pool_fork_prepare();
  large_fork_prepare();
}
static void fork_parent(void) {
  if (!fork_locked) return;
  large_fork_parent();
  pool_fork_parent();
  tiny_fork_parent();
  hak_decay_unlock();
  if (_IO_list_unlock) _IO_list_unlock();
}
static void fork_child(void) {
  // The forking thread has a new kernel id in the child: orphan detection must not take
  // its records for those of a thread that is gone.
  tiny_fork_child_rename();
  pool_fork_child_rename();
  hak_decay_fork_child();
  if (!fork_locked) return;
  large_fork_child();
  pool_fork_child();
  tiny_fork_child();
  // Only here, where the other threads are gone: a put or get of the forking thread itself
  // that a signal handler interrupted finishes in the child after the handler returns.
  mid_depot_fork_child();
  hak_decay_unlock();
}

static void stats_at_exit(void) { hak_stats_print(hak_cfg.stats == 2); }

static void lifecycle_init(void) {
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  if (hak_cfg.stats) {
    hak_os_report_open();
    atexit(stats_at_exit);
  }
#if HAKMEM_TIMING_BUILD
  if (hak_cfg.timing) atexit(hak_timing_print);
#endif
}
HAK_INIT_STEP(HAK_INIT_CORE, lifecycle_init);
