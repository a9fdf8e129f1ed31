// pageheap_fuzzer — drives the L2.5 page heap (hakmem/pool/pageheap.h) directly through
// its seam with typed operations, checking ph_check() after every operation: spans tile
// every arena, free spans are coalesced and binned, counters are exact. A shadow model keeps
// every block's page range and fill byte; blocks must never overlap, keep their contents
// across resizes, and "clean" blocks must read as zero.
//
// Record format: op byte (low 3 bits: alloc, free, resize, free batch, trim, alloc clean
// check, shard hop), then operands: slot byte and a 16-bit page count.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/pool/pageheap.h"

#define NSLOTS 32
#define MAX_PAGES 3000  // up to ~12 MiB: single blocks a third of an arena

typedef struct {
  ph_desc_t *d;
  uint32_t pages;
  uint8_t fill;
} slot_t;

static slot_t slots[NSLOTS];
static unsigned home;

static void die(const char *what, unsigned slot) {
  fprintf(stderr, "pageheap_fuzzer: %s (slot %u)\n", what, slot);
  abort();
}

static uint8_t *addr(const slot_t *s) { return ph_page_of(s->d); }

// Samples a block's bytes (first, last and one per page) against its fill byte.
static void verify(unsigned i) {
  slot_t *s = &slots[i];
  uint8_t *p = addr(s);
  size_t n = (size_t)s->pages << PH_PAGE_SHIFT;
  for (size_t off = 0; off < n; off += PH_PAGE)
    if (p[off] != s->fill || p[off + PH_PAGE - 1] != s->fill) die("block contents changed", i);
}

static void fill(unsigned i, uint8_t v) {
  slot_t *s = &slots[i];
  s->fill = v;
  uint8_t *p = addr(s);
  for (size_t off = 0; off < ((size_t)s->pages << PH_PAGE_SHIFT); off += PH_PAGE) {
    p[off] = v;
    p[off + PH_PAGE - 1] = v;
  }
}

static void check_all(void) {
  uint64_t cached;
  if (ph_check(&cached) != 0) die("ph_check reported violations", 0);
  // No two live blocks overlap.
  for (unsigned i = 0; i < NSLOTS; i++) {
    if (!slots[i].d) continue;
    uintptr_t a = (uintptr_t)addr(&slots[i]), ae = a + ((uintptr_t)slots[i].pages << PH_PAGE_SHIFT);
    for (unsigned j = i + 1; j < NSLOTS; j++) {
      if (!slots[j].d) continue;
      uintptr_t b = (uintptr_t)addr(&slots[j]), be = b + ((uintptr_t)slots[j].pages << PH_PAGE_SHIFT);
      if (a < be && b < ae) die("two live blocks overlap", i);
    }
  }
}

static void do_free(unsigned i) {
  verify(i);
  slots[i].d->next = NULL;
  ph_free_list(slots[i].d);
  slots[i].d = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t pos = 0;
  while (pos + 4 <= size) {
    unsigned op = data[pos] & 7, i = data[pos + 1] % NSLOTS;
    uint32_t pages = 1 + ((uint32_t)data[pos + 2] | (uint32_t)data[pos + 3] << 8) % MAX_PAGES;
    pos += 4;
    slot_t *s = &slots[i];
    switch (op) {
      case 0:
      case 5: {  // alloc (5: a clean block must read as zero)
        if (s->d) do_free(i);
        int clean = 0;
        s->d = ph_alloc(&home, pages, &clean);
        if (!s->d) die("ph_alloc returned NULL", i);
        s->pages = pages;
        if (s->d->len != pages || ph_state(s->d) != PH_LIVE) die("block has the wrong length or state", i);
        if (((uintptr_t)addr(s) & (PH_PAGE - 1)) != 0) die("block not page-aligned", i);
        if (clean) {
          uint8_t *p = addr(s);
          for (size_t off = 0; off < ((size_t)pages << PH_PAGE_SHIFT); off += 997)
            if (p[off]) die("clean block is not zero", i);
        }
        fill(i, (uint8_t)(data[pos - 2] | 1));
        break;
      }
      case 1:  // free
        if (s->d) do_free(i);
        break;
      case 2:  // resize in place
        if (s->d) {
          verify(i);
          uint32_t old = s->pages;
          if (ph_resize(s->d, pages) == 0) {
            if (s->d->len != pages) die("resize reported success with the wrong length", i);
            s->pages = pages;
            if (pages > old) fill(i, s->fill);  // the grown pages hold whatever was there
            verify(i);
          } else if (s->d->len != old) {
            die("failed resize changed the block", i);
          }
        }
        break;
      case 3: {  // free a batch (several slots, one list: grouped per shard)
        ph_desc_t *list = NULL;
        for (unsigned k = 0; k < NSLOTS; k++)
          if (slots[k].d && ((k ^ i) & 3) == 0) {
            verify(k);
            slots[k].d->next = list;
            list = slots[k].d;
            slots[k].d = NULL;
          }
        ph_free_list(list);
        break;
      }
      case 4:  // release everything free; unmaps empty arenas
        ph_trim();
        break;
      case 6:  // move to another shard (as a contended thread would)
        home = (home + 1 + (pages & 1)) % PH_NSHARDS;
        break;
      default:  // verify every block
        for (unsigned k = 0; k < NSLOTS; k++)
          if (slots[k].d) verify(k);
        break;
    }
    check_all();
  }
  for (unsigned i = 0; i < NSLOTS; i++)
    if (slots[i].d) do_free(i);
  ph_trim();
  check_all();
  home = 0;
  return 0;
}
