// api_fuzzer — API properties at the edges of every size class and tier:
//   * aligned allocation (posix_memalign, aligned_alloc, memalign) for every power of two
//     up to 1 MiB at sizes next to class boundaries, freed with free, free_sized or
//     free_aligned_sized: result aligned, usable size >= request, contents intact;
//   * realloc chains that walk across tier boundaries (tiny, mid, pool, large) keeping the
//     common prefix, with usable size >= request at every step;
//   * calloc across boundaries reads zero even when it reuses dirty blocks;
//   * impossible requests (sizes near SIZE_MAX, SIZE_MAX/2 and the 47-bit address space,
//     with every alignment up to 1 MiB, through every entry point including valloc,
//     pvalloc, calloc and realloc) fail with ENOMEM and write nothing: every live block
//     keeps its contents.
// Sizes come from a table of boundaries (class strides, 64 KiB, pool classes, the large
// threshold) plus a small signed delta, so the inputs aim at off-by-one bugs.
// Record format: op byte, boundary index byte, delta byte, alignment byte.
#include <errno.h>
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

// Every entry point refuses a request that cannot be met, and nothing is written.
static void impossible(uint8_t which, uint8_t delta, size_t align) {
  static const size_t tops[] = {SIZE_MAX, SIZE_MAX / 2 + 1, (size_t)1 << 47, (size_t)3 << 46};
  size_t n = tops[which % 4] - (size_t)delta * ((which >> 2) % 2 ? 4096 : 1);
  void *p = (void *)&p;
  errno = 0;
  switch ((which >> 3) % 9) {
    case 0: p = hak_aligned_alloc(align, n); break;
    case 1: p = hak_memalign(align, n); break;
    case 2: {
      size_t a = align < sizeof(void *) ? sizeof(void *) : align;
      void *out = (void *)&p;
      if (hak_posix_memalign(&out, a, n) != ENOMEM) die("posix_memalign of an impossible size did not fail", n, a);
      if (out != (void *)&p) die("posix_memalign wrote its output on failure", n, a);
      p = NULL;
      errno = ENOMEM;
      break;
    }
    case 3: p = hak_valloc(n); break;
    case 4: p = hak_pvalloc(n); break;
    case 5: p = hak_malloc(n); break;
    case 6: p = hak_calloc(1 + delta % 3, n); break;
    case 7: p = hak_realloc(NULL, n); break;
    default: p = hak_reallocarray(NULL, 2 + delta % 5, n / 2 + 1); break;
  }
  if (p) die("an impossible request returned a block", n, align);
  if (errno != ENOMEM) die("an impossible request did not set ENOMEM", n, align);
  for (unsigned i = 0; i < NSLOTS; i++) check_block(&slots[i]);
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
        } else if (!(data[pos + 3] & 0x20)) {
          p = hak_memalign(align, n);
        } else {  // page alignment through the old entry points
          p = (data[pos + 3] & 0x40) ? hak_pvalloc(n) : hak_valloc(n);
          align = 4096;
          if (data[pos + 3] & 0x40) n = (n + 4095) & ~(size_t)4095;
          if (!n) n = 0;
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
        if (data[pos + 3] & 0x80) impossible(data[pos + 1], data[pos + 2], align);
        else hak_trim(0);
        break;
    }
  }
  for (unsigned i = 0; i < NSLOTS; i++) release(&slots[i], 0);
  if (hak_check_integrity() != 0) die("integrity check failed at the end", 0, 0);
  return 0;
}
