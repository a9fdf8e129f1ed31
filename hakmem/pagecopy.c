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

#include <stdint.h>
#include <string.h>

#include "hakmem/internal.h"
#include "hakmem/os.h"

static int absent_at(const uint64_t *absent, size_t i) { return (int)((absent[i / 64] >> (i % 64)) & 1); }

// dst gets zeros over len bytes: decommitted pages read as zeros, and leave memory.
static void zero_pages(uint8_t *dst, size_t len) {
  if (hak_os_decommit(dst, len) != 0) memset(dst, 0, len);
}

void hak_pagecopy(void *dst, const void *src, size_t n, int dst_zero) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if (n < HAK_PAGECOPY_MIN || (((uintptr_t)d ^ (uintptr_t)s) & (HAK_OS_PAGE - 1))) {
    memcpy(d, s, n);
    return;
  }
  // The partial pages at both ends are copied whole: only whole pages may be skipped.
  size_t head = (size_t)(HAK_ALIGN_UP((uintptr_t)s, HAK_OS_PAGE) - (uintptr_t)s);
  memcpy(d, s, head);
  d += head, s += head, n -= head;
  size_t pages = n / HAK_OS_PAGE;
  while (pages) {
    size_t k = pages < HAK_OS_ABSENT_MAX ? pages : HAK_OS_ABSENT_MAX;
    uint64_t absent[HAK_OS_ABSENT_MAX / 64];
    if (hak_os_pages_absent(s, k, absent) != 0) {
      memcpy(d, s, k * HAK_OS_PAGE);
    } else {
      for (size_t i = 0; i < k;) {  // runs of pages alike: copied, or zeroed unless dst is
        size_t j = i + 1;
        int skip = absent_at(absent, i);
        while (j < k && absent_at(absent, j) == skip) j++;
        size_t off = i * HAK_OS_PAGE, len = (j - i) * HAK_OS_PAGE;
        if (!skip) memcpy(d + off, s + off, len);
        else if (!dst_zero) zero_pages(d + off, len);
        i = j;
      }
    }
    d += k * HAK_OS_PAGE, s += k * HAK_OS_PAGE, n -= k * HAK_OS_PAGE, pages -= k;
  }
  memcpy(d, s, n);
}
