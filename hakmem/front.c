// front.c — the front gate: size → tier dispatch for every hak_* entry point, pointer
// validation on free, aligned allocation and realloc. Converts user pointers to tier
// pointers in exactly one place (front_resolve) so no path converts twice.
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/init.h"
#include "hakmem/large/large.h"
#include "hakmem/log.h"
#include "hakmem/os.h"
#include "hakmem/pool/pool.h"
#include "hakmem/registry.h"
#include "hakmem/front_fast.h"
#include "hakmem/tiny/tiny.h"
#include "hakmem/track.h"

// Keeps lifecycle.o (fork handlers, exit report) in every static link: init.c only holds a
// weak reference to it.
void hak_core_init(void);
__attribute__((used)) static void (*const front_core_init_ref)(void) = hak_core_init;

// ---------------------------------------------------------------- invalid pointers

static _Atomic(hak_abort_hook_t) abort_hook;
static _Atomic(void (*)(void *)) next_free;
static _Atomic(void *(*)(void *, size_t)) next_realloc;
static _Atomic(size_t (*)(void *)) next_usable;
static _Atomic uint64_t invalid_frees;

hak_abort_hook_t hak_set_abort_hook(hak_abort_hook_t hook) { return atomic_exchange(&abort_hook, hook); }
void hak_set_next_free(void (*f)(void *)) { atomic_store(&next_free, f); }
void hak_set_next_allocator(void (*f)(void *), void *(*r)(void *, size_t), size_t (*u)(void *)) {
  atomic_store(&next_free, f);
  atomic_store(&next_realloc, r);
  atomic_store(&next_usable, u);
}

// HAKMEM_INVALID_FREE=pass: a pointer HAKMEM never allocated belongs to the next allocator.
static int front_pass_foreign(const char *why) {
  hak_global_init();
  return hak_cfg.invalid_free == HAK_INVALID_PASS && strstr(why, "not allocated by HAKMEM") != NULL;
}
uint64_t hak_invalid_free_count(void) { return atomic_load(&invalid_frees); }

// Reports a bad pointer and applies HAKMEM_INVALID_FREE. Returns normally only for warn
// and pass (or when a test hook swallowed the abort).
static HAK_COLD void front_invalid(const char *op, void *p, const char *why) {
  hak_global_init();
  int saved = errno;
  atomic_fetch_add(&invalid_frees, 1);
  char msg[200];
  hak_format(msg, sizeof msg, "hakmem: %s(%p): %s", op, p, why);
  long action = hak_cfg.invalid_free;
  if (action == HAK_INVALID_PASS && strstr(why, "not allocated by HAKMEM")) {
    void (*f)(void *) = atomic_load(&next_free);
    if (f) {
      f(p);
      errno = saved;
      return;
    }
  }
  size_t n = strlen(msg);
  msg[n] = '\n';
  hak_os_write_stderr(msg, n + 1);
  msg[n] = 0;
  if (action == HAK_INVALID_ABORT) {
    hak_abort_hook_t hook = atomic_load(&abort_hook);
    if (hook) hook(msg);
    else hak_os_abort();
  }
  errno = saved;
}

// ---------------------------------------------------------------- pointer resolution

enum { RES_BAD = 0, RES_TINY = 1, RES_LARGE = 2, RES_POOL = 3 };

typedef struct {
  void *block;          // tier pointer (block start for tiny; user pointer for large)
  unsigned cls;
  large_hdr_t *lh;
  ph_desc_t *pd;
  const char *why;
} front_res_t;

// Whether p is the start of a carved block of slab s.
static int slab_is_block_start(const tiny_slab_t *s, const void *p) {
  if ((uintptr_t)p < (uintptr_t)s->begin + SS_BLOCK_LEAD) return 0;
  uintptr_t off = (uintptr_t)p - (uintptr_t)s->begin - SS_BLOCK_LEAD;
  return off % s->stride == 0 && off / s->stride < s->carved;
}

// Maps a user pointer to its tier. Every check, in an order that names what the pointer is:
// where it points (a carved block slot of an assigned slab) before what its header says.
static int front_resolve(void *p, front_res_t *r) {
  unsigned kind = hak_reg_kind(p);
  if (kind == HAK_KIND_SUPERSLAB) {
    if ((uintptr_t)p & 15) {
      r->why = "misaligned pointer inside a SuperSlab (interior pointer)";
      return RES_BAD;
    }
    superslab_t *ss = ss_of(p);
    uint8_t h = hak_peek8((uint8_t *)p - 1);
    if (h == TINY_HDR_ALIGNED && (uintptr_t)p - (uintptr_t)ss >= SS_HEADER_BYTES + 16) {
      uint32_t dist = hak_peek32((uint8_t *)p - 8);
      uint8_t *u = (uint8_t *)p - dist;
      // An aligned pointer lies strictly inside its block (16 <= dist < stride), so it is
      // never a block start itself: a block start carrying 0x80 is a corrupted header,
      // whatever the bytes before it say.
      tiny_slab_t *ps = ss_slab_of(ss, p);
      if (ps->cls == SS_CLASS_NONE || dist < 16 || dist >= ps->stride || ss_of(u) != ss || ((uintptr_t)u & 15) ||
          slab_is_block_start(ps, p) || ss_slab_of(ss, u) != ps) {
        r->why = "corrupted aligned-block header";
        return RES_BAD;
      }
      p = u;
      h = hak_peek8(u - 1);
    }
    // The class comes from the slab; the pointer must be a carved block of it, and the
    // header must agree.
    tiny_slab_t *s = ss_slab_of(ss, p);
    unsigned c = ss_unit_of(ss, p)->cls;
    r->block = p;
    r->cls = c;
    if ((uintptr_t)p - (uintptr_t)ss < SS_HEADER_BYTES) {
      r->why = "pointer into a SuperSlab's metadata (not a block)";
      return RES_BAD;
    }
    if (c == SS_CLASS_NONE) {
      r->why = "pointer into an unused slab (not a block)";
      return RES_BAD;
    }
    if (ss->magic != SS_MAGIC || s->cls != c) {
      r->why = "SuperSlab metadata does not match (corrupted)";
      return RES_BAD;
    }
    if (!slab_is_block_start(s, p)) {
      r->why = "interior pointer (not the start of a block)";
      return RES_BAD;
    }
    if (h == TINY_HDR_FREE_OF(c)) {
      r->why = "double free (block is already free)";
      return RES_BAD;
    }
    if (h != TINY_HDR_ALLOC_OF(c)) {
      r->why = "corrupted block header";
      return RES_BAD;
    }
    return RES_TINY;
  }
  if (kind == HAK_KIND_LARGE) {
    large_hdr_t *lh = large_lookup(p);
    if (!lh) {
      r->why = "interior pointer or corrupted header of a large block";
      return RES_BAD;
    }
    if (lh->state != 1) {
      r->why = "double free (large block is already free)";
      return RES_BAD;
    }
    r->lh = lh;
    r->block = p;
    return RES_LARGE;
  }
  if (kind == HAK_KIND_POOL) {
    ph_desc_t *d = pool_lookup(p, &r->why);
    if (!d) return RES_BAD;
    r->pd = d;
    r->block = p;
    return RES_POOL;
  }
  if (kind == HAK_KIND_LARGE_TAIL) {
    r->why = "interior pointer of a large block";
    return RES_BAD;
  }
  r->why = "not allocated by HAKMEM";
  return RES_BAD;
}

// ---------------------------------------------------------------- malloc / free

// Above the slab engine: the page heap up to HAKMEM_LARGE_MIN (page-aligned, so any
// alignment up to a page is free), a mapping of its own beyond.
static void *front_big(size_t size, size_t align, int *fresh) {
  hak_global_init();
  void *p;
  if (align <= PH_PAGE && size <= pool_max_request()) p = pool_alloc(size, fresh);
  else p = large_alloc(size, align, fresh);
  if (!p) errno = ENOMEM;
  return p;
}

HAK_NOINLINE void *front_large_alloc(size_t size, size_t align) {
  hak_global_init();
  if (HAK_LIKELY(align <= PH_PAGE && size <= pool_max_request())) return pool_alloc(size, NULL);
  int fresh;
  return front_big(size, align, &fresh);
}

void *hak_malloc(size_t size) { return front_malloc(size); }

static HAK_NOINLINE void front_free_pool_bad(void *p, const char *op, const char *why) {
  int saved = errno;
  front_invalid(op, p, why);
  errno = saved;
}

static HAK_NOINLINE void front_free_resolve(void *p, const char *op);

HAK_NOINLINE void front_free_slow(void *p, const char *op) {
  if (!p) return;
  if (HAK_LIKELY(hak_reg_kind(p) == HAK_KIND_POOL)) {  // the pool: no lookup beyond its own
    const char *why;
    if (HAK_UNLIKELY(pool_free_ptr(p, &why) != 0)) front_free_pool_bad(p, op, why);
    return;
  }
  front_free_resolve(p, op);
}

static HAK_NOINLINE void front_free_resolve(void *p, const char *op) {
  int saved = errno;
  front_res_t r;
  int kind = front_resolve(p, &r);
  if (kind == RES_TINY) tiny_free(r.block, r.cls);
  else if (kind == RES_POOL) pool_free(r.pd);
  else if (kind == RES_LARGE) large_free(r.lh);
  else front_invalid(op, p, r.why);
  errno = saved;
}

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
  if (total <= TINY_POOL_MAX) {
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
  size_t (*u)(void *) = atomic_load(&next_usable);
  if (u && front_pass_foreign(r.why)) return u(p);
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
  if (align <= 4096 && size <= TINY_POOL_MAX - align) {
    uint8_t *u = hak_malloc(size + align);
    if (!u) return NULL;
    uint8_t *q = (uint8_t *)HAK_ALIGN_UP((uintptr_t)u, align);
    if (q != u) {
      q[-1] = TINY_HDR_ALIGNED;
      *(uint32_t *)(q - 8) = (uint32_t)(q - u);
    }
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
    void *(*next)(void *, size_t) = atomic_load(&next_realloc);
    if (next && front_pass_foreign(r.why)) return next(p, size);
    front_invalid("realloc", p, r.why);
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
    // Grow into the free span after the block, or give back the tail, without copying.
    if (size > TINY_POOL_MAX && size <= pool_max_request() && pool_resize(r.pd, size) == 0) return p;
  } else {
    usable = large_usable(r.lh);
    if (size > pool_max_request()) {
      if (size <= usable && size > usable / 2) return p;
      void *q = large_realloc(r.lh, size);
      if (q) return q;
    }
  }
  // Growing moves to a block with half again the old room (tcmalloc grows by a quarter):
  // a builder that grows in small steps then copies about half as often. Above the slab
  // engine the page heap grows in place instead.
  size_t want = size;
  if (size > usable && size <= TINY_POOL_MAX && usable + usable / 2 > size) {
    want = usable + usable / 2;
    if (want > TINY_POOL_MAX) want = TINY_POOL_MAX;
  }
  void *q = hak_malloc(want);
  if (!q) return NULL;
  memcpy(q, p, size < usable ? size : usable);
  hak_free(p);
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

void tiny_trim_abandoned(void);

int hak_trim(size_t pad) {
  (void)pad;
  hak_thread_flush();
  tiny_depot_drain();  // before the abandoned heaps: their blocks reach them as remote frees
  tiny_trim_abandoned();
  size_t a = ss_cache_trim();
  size_t b = large_trim();
  size_t c = pool_trim();
  return (a + b + c) > 0;
}

void hak_thread_flush(void) {
  tiny_flush_thread_cache();
  pool_flush_thread();
}
