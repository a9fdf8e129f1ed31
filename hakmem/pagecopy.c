// pagecopy.c — realloc's copy that skips the pages a program never wrote (see pagecopy.h).
//
// A program that mallocs a large buffer, writes its first bytes and reallocs it to another
// size had every page of it copied: reading an untouched page maps the zero page, writing
// its copy makes a real page resident. Each move of a mostly untouched block so made more
// of it resident, where glibc moves its mmapped chunks with mremap and touches nothing. The
// sweep's large blocks reallocated at random between producers and consumers peaked at
// 101 MB (glibc 3.3 MB) with 109x glibc's page faults (bench/sweep,
// large/long/prodcons/random/first/64). The page heap keeps its blocks in shared arenas, so
// mremap would split them into a mapping per block; instead the kernel is asked which
// pages hold nothing, and those are left alone.
#include "hakmem/pagecopy.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hakmem/internal.h"
#include "hakmem/os.h"
#include "hakmem/track.h"

static int absent_at(const uint64_t *absent, size_t i) { return (int)((absent[i / 64] >> (i % 64)) & 1); }

// dst gets zeros over len bytes: the whole pages inside are decommitted (they read as zeros
// and leave memory), the partial pages at the ends are written.
static void zero_range(uint8_t *dst, size_t len) {
  uint8_t *a = (uint8_t *)HAK_ALIGN_UP((uintptr_t)dst, HAK_OS_PAGE);
  uint8_t *b = (uint8_t *)((uintptr_t)(dst + len) & ~(uintptr_t)(HAK_OS_PAGE - 1));
  if (a >= b) {
    memset(dst, 0, len);
    return;
  }
  memset(dst, 0, (size_t)(a - dst));
  memset(b, 0, (size_t)(dst + len - b));
  if (hak_os_decommit(a, (size_t)(b - a)) != 0) memset(a, 0, (size_t)(b - a));
}

// A run of src's pages [run, upto) was skipped: dst's counterpart reads zero (unless known
// zero already) and, for the sanitizers, has src's state.
static void skipped(const uint8_t *run, const uint8_t *upto, ptrdiff_t to_dst, int dst_zero) {
  size_t len = (size_t)(upto - run);
  if (!dst_zero) zero_range((uint8_t *)run + to_dst, len);
  HAK_TRACK_COPY_SKIPPED((uint8_t *)run + to_dst, run, len);
}

void hak_pagecopy(void *dst, const void *src, size_t n, int dst_zero) {
  if (n < HAK_PAGECOPY_MIN || !HAK_TRACK_PAGECOPY_SKIPS) {
    memcpy(dst, src, n);
    return;
  }
  const uint8_t *s = (const uint8_t *)src, *end = s + n;
  const ptrdiff_t to_dst = (uint8_t *)dst - s;
  // The partial pages of src at both ends are copied: only whole pages may be skipped. dst
  // may sit at another offset within a page (a slab block moving to the page heap): a run of
  // skipped pages then covers whole pages of dst between two partial ones. A run is zeroed
  // once, even across the chunks the kernel is asked about, so no page in its middle is
  // written as a partial end.
  const uint8_t *at = (const uint8_t *)HAK_ALIGN_UP((uintptr_t)s, HAK_OS_PAGE);
  const uint8_t *last = (const uint8_t *)((uintptr_t)end & ~(uintptr_t)(HAK_OS_PAGE - 1));
  const uint8_t *copied = s;  // everything before this is copied or skipped
  const uint8_t *run = NULL;  // the start of a run of skipped pages not yet zeroed in dst
  while (at < last) {
    size_t k = (size_t)(last - at) / HAK_OS_PAGE;
    if (k > HAK_OS_ABSENT_MAX) k = HAK_OS_ABSENT_MAX;
    uint64_t absent[HAK_OS_ABSENT_MAX / 64];
    if (hak_os_pages_absent(at, k, absent) == 0) {
      for (size_t i = 0; i < k; i++) {
        const uint8_t *pg = at + i * HAK_OS_PAGE;
        if (absent_at(absent, i)) {
          if (!run) {
            memcpy((uint8_t *)copied + to_dst, copied, (size_t)(pg - copied));
            run = pg;
          }
        } else if (run) {
          skipped(run, pg, to_dst, dst_zero);
          run = NULL;
          copied = pg;
        }
      }
    } else if (run) {  // the kernel cannot say: the rest of the chunk is copied
      skipped(run, at, to_dst, dst_zero);
      run = NULL;
      copied = at;
    }
    at += k * HAK_OS_PAGE;
  }
  if (run) {
    skipped(run, at, to_dst, dst_zero);
    copied = at;
  }
  memcpy((uint8_t *)copied + to_dst, copied, (size_t)(end - copied));
}
