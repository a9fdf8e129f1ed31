// front.h — the front gate's routing, shared by the inline fast paths (front_fast.h) and the
// public entry points (api.c): which tier owns a pointer, and the slow paths.
#ifndef HAKMEM_FRONT_H
#define HAKMEM_FRONT_H

#include <stddef.h>

#include "hakmem/large/large.h"
#include "hakmem/pool/pool.h"

enum { RES_BAD = 0, RES_TINY = 1, RES_LARGE = 2, RES_POOL = 3 };

// What front_resolve found: the tier's own handle of the block.
typedef struct {
  void *block;          // tier pointer (block start for tiny; user pointer for large)
  unsigned cls;         // tiny: the class
  large_hdr_t *lh;      // large: the header
  ph_desc_t *pd;        // pool: the page-heap descriptor
  const char *why;      // RES_BAD: what the pointer is, for the report
} front_res_t;

// Maps a user pointer to its tier (RES_*): one registry read, then the tier's validation.
int front_resolve(void *p, front_res_t *r);
// Above the slab engine: the page heap up to pool_max_request() for alignments up to a
// page, the large tier beyond; *fresh when the memory is known zero; errno on NULL.
void *front_big(size_t size, size_t align, int *fresh);
// malloc's exit above the slab engine (front_fast.h), and free's for everything that is not
// a thread-cache hit: validates, routes, and reports a bad pointer under `op`.
void *front_large_alloc(size_t size, size_t align);
void front_free_slow(void *p, const char *op);

#endif
