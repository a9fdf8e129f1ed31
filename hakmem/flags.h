// flags.h — every build-time phase flag and its default, in one place. Bazel sets a flag
// (-DHAKMEM_X=...) from //cfg (see cfg/BUILD.bazel and the README's "Phase flags"); code
// tests them with `#if HAKMEM_X`, never `#ifdef`, so a flag is always 0 or 1 here.
#ifndef HAKMEM_FLAGS_H
#define HAKMEM_FLAGS_H

// --//cfg:checked: validate every free completely (the inline free fast path is skipped).
#ifndef HAKMEM_CHECKED
#define HAKMEM_CHECKED 0
#endif
// --//cfg:debug_counters: per-operation counters (allocs/frees per class).
#ifndef HAKMEM_DEBUG_COUNTERS
#define HAKMEM_DEBUG_COUNTERS 0
#endif
// --//cfg:batch_refill: refill a thread cache with a batch of blocks (off: one at a time).
#ifndef HAKMEM_BATCH_REFILL
#define HAKMEM_BATCH_REFILL 1
#endif
// --//cfg:empty_slab_reuse: a slab that empties goes back to the SuperSlab for any class.
#ifndef HAKMEM_EMPTY_SLAB_REUSE
#define HAKMEM_EMPTY_SLAB_REUSE 1
#endif
// --//cfg:learner: the per-thread learner of the mid classes (run time: HAKMEM_LEARN=1).
#ifndef HAKMEM_LEARNER
#define HAKMEM_LEARNER 0
#endif
// --//cfg:timing: per-path cycle counters (run time: HAKMEM_TIMING=1).
#ifndef HAKMEM_TIMING_BUILD
#define HAKMEM_TIMING_BUILD 0
#endif
// --//cfg:valgrind: valgrind client requests for every block.
#ifndef HAKMEM_VALGRIND
#define HAKMEM_VALGRIND 0
#endif
// --//cfg:inject_bug: a known bug compiled in, to prove the fuzzers and the TSan gate fail.
#ifndef HAKMEM_INJECT_REFILL_COUNTER
#define HAKMEM_INJECT_REFILL_COUNTER 0
#endif
#ifndef HAKMEM_INJECT_REMOTE_RACE
#define HAKMEM_INJECT_REMOTE_RACE 0
#endif
// libhakmem_dlopen.so: global-dynamic TLS (the others use initial-exec).
#ifndef HAKMEM_TLS_DYNAMIC
#define HAKMEM_TLS_DYNAMIC 0
#endif

#endif
