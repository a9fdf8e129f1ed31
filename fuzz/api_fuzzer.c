// api_fuzzer — API properties at the edges of every size class and tier:
//   * aligned allocation (posix_memalign, aligned_alloc, memalign) for every power of two
//     up to 1 MiB at sizes next to class boundaries, freed with free, free_sized or
//     free_aligned_sized: result aligned, usable size >= request, contents intact;
//   * realloc chains that walk across tier boundaries (tiny, mid, pool, large) keeping the
//     common prefix, with usable size >= request at every step;
//   * calloc across boundaries reads zero even when it reuses dirty blocks.
// Sizes come from a table of boundaries (class strides, 64 KiB, pool classes, the large
// threshold) plus a small signed delta, so the inputs aim at off-by-one bugs.
// Record format: op byte, boundary index byte, delta byte, alignment byte.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"
#include "hakmem/pool/pool.h"
#include "hakmem/tiny/size_class.h"

#define NSLOTS 16

typedef struct {
  uint8_t *p;
  size_t size, align;
  uint8_t pat;
} slot_t;

static slot_t slots[NSLOTS];
static size_t bounds[128];
static unsigned nbounds;

static void die(const char *what, size_t size, size_t align) {
  fprintf(stderr, "api_fuzzer: %s (size %zu, align %zu)\n", what, size, align);
  abort();
}

static void init_bounds(void) {
  if (nbounds) return;
  for (unsigned c = 0; c < TINY_NCLASS; c++) bounds[nbounds++] = tiny_class_stride[c] - 1;
  for (unsigned c = 0; c < POOL_NCLASS; c += 3) bounds[nbounds++] = (size_t)pool_class_pages(c) << PH_PAGE_SHIFT;
  bounds[nbounds++] = 0;
  bounds[nbounds++] = 65536;
  bounds[nbounds++] = (size_t)hak_cfg.large_min;
  bounds[nbounds++] = (size_t)hak_cfg.large_min * 2;
}

static size_t size_of(uint8_t idx, uint8_t delta) {
  size_t b = bounds[idx % nbounds];
  long d = (int8_t)delta;
  if (d < 0 && (size_t)-d > b) return 0;
  return b + (size_t)d;
}

static void check_block(slot_t *s) {
  if (!s->p) return;
  size_t n = s->size < 4096 ? s->size : 4096;  // the first 4 KiB and the last byte
  for (size_t k = 0; k < n; k++)
    if (s->p[k] != s->pat) die("block contents changed", s->size, s->align);
  if (s->size && s->p[s->size - 1] != s->pat) die("last byte changed", s->size, s->align);
}

static void fill(slot_t *s) {
  size_t n = s->size < 4096 ? s->size : 4096;
  memset(s->p, s->pat, n);
  if (s->size) s->p[s->size - 1] = s->pat;
}

static void release(slot_t *s, unsigned how) {
  if (!s->p) return;
  check_block(s);
  if (how == 1) hak_free_sized(s->p, s->size);
  else if (how == 2) hak_free_aligned_sized(s->p, s->align, s->size);
  else hak_free(s->p);
  s->p = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_bounds();
  for (size_t pos = 0; pos + 4 <= size; pos += 4) {
    unsigned op = data[pos] & 7;
    slot_t *s = &slots[(data[pos] >> 3) % NSLOTS];
    size_t n = size_of(data[pos + 1], data[pos + 2]);
    size_t align = (size_t)1 << (data[pos + 3] % 21);  // 1 B .. 1 MiB
    switch (op) {
      case 0:
      case 1:
      case 2: {  // aligned allocation through three entry points
        release(s, data[pos + 3] >> 6);
        void *p = NULL;
        if (op == 0) {
          size_t a = align < sizeof(void *) ? sizeof(void *) : align;
          if (hak_posix_memalign(&p, a, n) != 0) die("posix_memalign failed", n, a);
          align = a;
        } else if (op == 1) {
          p = hak_aligned_alloc(align, n);
        } else {
          p = hak_memalign(align, n);
        }
        if (!p) die("aligned allocation returned NULL", n, align);
        if ((uintptr_t)p % align) die("misaligned result", n, align);
        if (hak_usable_size(p) < n) die("usable size below the request", n, align);
        s->p = p;
        s->size = n;
        s->align = align;
        s->pat = (uint8_t)(data[pos + 2] | 1);
        fill(s);
        break;
      }
      case 3: {  // realloc to the next boundary size: a chain across tiers
        size_t keep = s->p ? s->size : 0;
        uint8_t *q = hak_realloc(s->p, n);
        if (!q && n) die("realloc returned NULL", n, 0);
        if (!n) {  // realloc(p, 0) frees (glibc behaviour) or returns malloc(0)
          if (q) hak_free(q);
          s->p = NULL;
          break;
        }
        if (hak_usable_size(q) < n) die("usable size below the request after realloc", n, 0);
        s->p = q;
        size_t common = keep < n ? keep : n;
        for (size_t k = 0; k < common && k < 4096; k++)
          if (q[k] != s->pat) die("realloc lost the block's contents", n, 0);
        s->size = n;
        s->align = 16;
        fill(s);
        break;
      }
      case 4: {  // calloc must read zero
        release(s, 0);
        size_t m = 1 + data[pos + 3] % 7;
        uint8_t *p = hak_calloc(m, n / m);
        if (!p) die("calloc returned NULL", n, 0);
        for (size_t k = 0; k < (n / m) * m; k += (k < 4096 ? 1 : 509))
          if (p[k]) die("calloc memory not zero", n, 0);
        s->p = p;
        s->size = (n / m) * m;
        s->align = 16;
        s->pat = (uint8_t)(data[pos + 2] | 1);
        fill(s);
        break;
      }
      case 5:
        release(s, data[pos + 3] % 3);
        break;
      case 6:
        if (hak_check_integrity() != 0) die("integrity check failed", 0, 0);
        break;
      default:
        hak_trim(0);
        break;
    }
  }
  for (unsigned i = 0; i < NSLOTS; i++) release(&slots[i], 0);
  if (hak_check_integrity() != 0) die("integrity check failed at the end", 0, 0);
  return 0;
}
