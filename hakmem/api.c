// api.c — the public hak_* entry points: malloc/free through the inline fast paths
// (front_fast.h), and the paths that are never fast (calloc, aligned allocation, realloc,
// usable size, ownership, trim and thread flush), built on the routing of front.c.
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hakmem/config.h"
#include "hakmem/front.h"
#include "hakmem/front_fast.h"
#include "hakmem/hakmem.h"
#include "hakmem/init.h"
#include "hakmem/invalid.h"
#include "hakmem/pagecopy.h"
#include "hakmem/large/large.h"
#include "hakmem/pool/pool.h"
#include "hakmem/tiny/tiny.h"
#include "hakmem/track.h"

void *hak_malloc(size_t size) { return front_malloc(size); }

void hak_free(void *p) { front_free(p); }

void hak_free_sized(void *p, size_t size) {
  (void)size;
  hak_free(p);
}

void hak_free_aligned_sized(void *p, size_t align, size_t size) {
  (void)align;
  (void)size;
  hak_free(p);
}

void *hak_calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  if (total <= TINY_MID_MAX) {
    void *p = hak_malloc(total);
    if (p) memset(p, 0, total);
    return p;
  }
  int fresh;
  void *p = front_big(total, 16, &fresh);
  if (p && !fresh) memset(p, 0, total);
  else if (p) HAK_TRACK_ZEROED(p, total);
  return p;
}

size_t hak_usable_size(const void *cp) {
  void *p = (void *)cp;
  if (!p) return 0;
  front_res_t r;
  int kind = front_resolve(p, &r);
  if (kind == RES_TINY) return (size_t)((uint8_t *)r.block + tiny_usable(r.cls) - (uint8_t *)p);
  if (kind == RES_POOL) return pool_usable(r.pd);
  if (kind == RES_LARGE) return large_usable(r.lh);
  size_t (*u)(void *) = hak_invalid_next_usable();
  if (u && hak_invalid_pass_foreign(r.why)) return u(p);
  return 0;
}

int hak_owns(const void *p) {
  front_res_t r;
  return p && front_resolve((void *)p, &r) != RES_BAD;
}

// ---------------------------------------------------------------- aligned allocation

static int valid_align(size_t a) { return a != 0 && (a & (a - 1)) == 0; }

// Over-allocates from the slab engine and marks the aligned pointer q with header 0x80 and
// the distance back to the block start at q-8 (q >= block + 16, so both fit in the block).
// Every size test is written so that no sum can wrap: a request near SIZE_MAX fails with
// ENOMEM instead of turning into a small block.
static void *front_aligned(size_t align, size_t size) {
  if (align <= 16) return hak_malloc(size);
  if (align <= 4096 && size <= TINY_MID_MAX - align) {
    uint8_t *u = hak_malloc(size + align);
    if (!u) return NULL;
    uint8_t *q = (uint8_t *)HAK_ALIGN_UP((uintptr_t)u, align);
    tiny_aligned_mark(u, q);
    return q;
  }
  // Page heap blocks are page-aligned; a request that fits the slab engine with room for
  // the alignment was served above, so the page heap sees only sizes above ~60 KiB here.
  if (align <= PH_PAGE) return front_large_alloc(size, align);
  hak_global_init();
  // Up to 1 MiB: cut an aligned block out of a page-heap span (no mapping per block).
  if (align <= POOL_ALIGN_MAX && size <= pool_max_request() - align) return pool_alloc_aligned(size, align, NULL);
  int fresh;
  return front_big(size, align, &fresh);
}

int hak_posix_memalign(void **out, size_t align, size_t size) {
  if (!valid_align(align) || align % sizeof(void *) != 0) return EINVAL;
  int saved = errno;
  void *p = front_aligned(align, size);
  if (!p) return errno = ENOMEM;  // as glibc's: errno agrees with the result (glibc's tst-malloc-thread-fail checks it)
  errno = saved;
  *out = p;
  return 0;
}

void *hak_aligned_alloc(size_t align, size_t size) {
  if (!valid_align(align)) {
    errno = EINVAL;
    return NULL;
  }
  return front_aligned(align, size);
}

void *hak_memalign(size_t align, size_t size) {
  if (align == 0) align = 1;
  if (!valid_align(align)) {  // glibc rounds a non-power-of-two alignment up
    size_t a = 1;
    while (a < align && a) a <<= 1;
    if (!a) {
      errno = EINVAL;
      return NULL;
    }
    align = a;
  }
  return front_aligned(align, size);
}

void *hak_valloc(size_t size) { return front_aligned((size_t)sysconf(_SC_PAGESIZE), size); }

void *hak_pvalloc(size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded = HAK_ALIGN_UP(size ? size : 1, page);
  if (rounded < size) {
    errno = ENOMEM;
    return NULL;
  }
  return front_aligned(page, rounded);
}

// ---------------------------------------------------------------- realloc

// Above REALLOC_TO_POOL a block that realloc grows leaves the slab engine for the page heap,
// where it grows in place; it only goes back when it shrinks to REALLOC_FROM_POOL or less
// (the gap between the two keeps a size that wanders around one of them from bouncing).
#define REALLOC_TO_POOL (TINY_MID_MAX / 2)
#define REALLOC_FROM_POOL (TINY_MID_MAX / 4)

void *hak_realloc(void *p, size_t size) {
  if (!p) return hak_malloc(size);
  front_res_t r;
  int kind = front_resolve(p, &r);
  if (size == 0 && kind != RES_BAD) {  // glibc: free and return NULL
    hak_free(p);
    return NULL;
  }
  if (kind == RES_BAD) {
    // pass: the next allocator's block is resized by the next allocator (the caller keeps
    // its pointer valid either way). Otherwise the block is reported and left alone.
    void *(*next)(void *, size_t) = hak_invalid_next_realloc();
    if (next && hak_invalid_pass_foreign(r.why)) return next(p, size);
    hak_invalid_report("realloc", p, r.why);
    errno = ENOMEM;
    return NULL;
  }
  size_t usable;
  if (kind == RES_TINY) {
    usable = (size_t)((uint8_t *)r.block + tiny_usable(r.cls) - (uint8_t *)p);
    // Stay in place unless the block is more than twice what is needed.
    if (size <= usable && (size > usable / 2 || usable <= 32)) return p;
  } else if (kind == RES_POOL) {
    usable = pool_usable(r.pd);
    if (size <= usable && size > usable / 2) return p;
    // Grow into the free span after the block, or give back the tail, without copying. A
    // block that shrinks to a size the slab engine's larger classes serve (above
    // REALLOC_FROM_POOL) keeps the page heap's smallest block in place: a size that goes
    // down and up around 64 KiB otherwise moves between the tiers and is copied each step.
    size_t keep = size > TINY_MID_MAX ? size : size > REALLOC_FROM_POOL ? TINY_MID_MAX + 1 : 0;
    if (keep && keep <= pool_max_request() && (keep == usable || pool_resize(r.pd, keep) == 0)) return p;
    // Otherwise a new page-heap block and a copy. The new block comes from pages the
    // program has touched before and the old one goes back to them: a mapping of its own
    // (mremap) would fault every page of each growth afresh and give the tail back on each
    // shrink -- 100x slower than glibc on random grow/shrink sequences (bench/sweep).
  } else {
    usable = large_usable(r.lh);
    // A mapping resizes in place or moves by mremap while it stays above the page heap:
    // shrinking gives the tail back, growing copies nothing. Below, it moves to the page
    // heap like any block of that size.
    if (size <= usable && size > usable / 2) return p;
    if (size > pool_max_request()) {
      void *q = large_realloc(r.lh, size);
      if (q) return q;
    }
  }
  // Growing moves to a block with half again the old room (tcmalloc grows by a quarter):
  // a builder that grows in small steps then copies about half as often. Above the slab
  // engine the page heap grows in place instead, so a block growing past REALLOC_TO_POOL
  // goes there at once (a 64 KiB block, at most twice what the 48 or 64 KiB class would
  // hold) rather than through the two largest classes with a copy at each.
  size_t want = size;
  if (size > usable && size <= TINY_MID_MAX) {
    if (size > REALLOC_TO_POOL) want = TINY_MID_MAX + 1;
    else if (usable + usable / 2 > size) want = usable + usable / 2;
  }
  void *q;
  int fresh = 0;  // the new block is known zero
  if (want > TINY_MID_MAX && want <= pool_max_request()) {
    q = pool_alloc_growable(want, &fresh);
    if (!q) errno = ENOMEM;
  } else {
    q = hak_malloc(want);
  }
  if (!q) return NULL;
  // Pages of the old block the program never wrote are not copied (pagecopy.h): copying
  // them would make them resident in the new block.
  hak_pagecopy(q, p, size < usable ? size : usable, fresh);
  // The old block was validated above: free it without resolving it again.
  if (kind == RES_TINY) tiny_free(r.block, r.cls);
  else if (kind == RES_LARGE) large_free(r.lh);
  else hak_free(p);
  return q;
}

void *hak_reallocarray(void *p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return hak_realloc(p, total);
}

// ---------------------------------------------------------------- maintenance

int hak_trim(size_t pad) {
  (void)pad;
  hak_thread_flush();
  size_t a = tiny_trim();
  size_t b = large_trim();
  size_t c = pool_trim();
  return (a + b + c) > 0;
}

void hak_thread_flush(void) {
  tiny_flush_thread_cache();
  pool_flush_thread();
}
