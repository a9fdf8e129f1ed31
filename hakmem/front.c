// front.c — the front gate's routing: which tier a pointer belongs to (one registry read
// per pointer, then that tier's own validation), and the slow paths the inline fast paths
// of front_fast.h leave through (a free that is not a thread-cache hit, an allocation
// above the slab engine). The public entry points built on these are in api.c.
#define _GNU_SOURCE
#include "hakmem/front.h"

#include <errno.h>

#include "hakmem/init.h"
#include "hakmem/invalid.h"
#include "hakmem/large/large.h"
#include "hakmem/pool/pool.h"
#include "hakmem/registry.h"
#include "hakmem/tiny/tiny.h"
#include "hakmem/tiny/validate.h"

// ---------------------------------------------------------------- pointer resolution


// Maps a user pointer to its tier. Every check, in an order that names what the pointer is:
// where it points (a carved block slot of an assigned slab) before what its header says.
static int resolve_kind(void *p, unsigned kind, front_res_t *r) {
  if (kind == HAK_KIND_SUPERSLAB) return tiny_resolve(p, &r->block, &r->cls, &r->why) ? RES_TINY : RES_BAD;
  if (kind == HAK_KIND_LARGE) {
    large_hdr_t *lh = large_resolve(p, &r->why);
    if (!lh) return RES_BAD;
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

int front_resolve(void *p, front_res_t *r) { return resolve_kind(p, hak_reg_kind(p), r); }

// ---------------------------------------------------------------- malloc / free

// Above the slab engine: the page heap up to HAKMEM_LARGE_MIN (page-aligned, so any
// alignment up to a page is free), a mapping of its own beyond.
void *front_big(size_t size, size_t align, int *fresh) {
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

// One registry read routes the pointer; the pool validates inside its own free.
HAK_NOINLINE void front_free_slow(void *p, const char *op) {
  if (!p) return;
  int saved = errno;
  unsigned kind = hak_reg_kind(p);
  front_res_t r;
  if (HAK_LIKELY(kind == HAK_KIND_POOL)) {
    if (HAK_UNLIKELY(pool_free_ptr(p, &r.why) != 0)) hak_invalid_report(op, p, r.why);
  } else {
    int res = resolve_kind(p, kind, &r);
    if (res == RES_TINY) tiny_free(r.block, r.cls);
    else if (res == RES_LARGE) large_free(r.lh);
    else hak_invalid_report(op, p, r.why);
  }
  errno = saved;
}
