// invalid_fuzzer — wild, interior and double frees and corrupted headers, mixed with valid
// traffic in every tier. Every invalid free must be reported exactly once (through the
// abort hook, so the run goes on) and must not corrupt anything: live blocks keep their
// contents and hak_check_integrity() stays clean.
//
// In the checked build (--//cfg:checked=true, as CI runs it) every free is validated, so the
// fill pattern is any byte. The release build validates what is cheap: an interior pointer
// whose preceding byte happens to look like a live header passes its fast path, so there
// the pattern avoids header-like bytes (0x80..0xff).
// Record format: op byte, slot byte, size/offset bytes (2).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/hakmem.h"

#ifndef HAKMEM_CHECKED
#define HAKMEM_CHECKED 0
#endif

#define NSLOTS 16

typedef struct {
  uint8_t *p;
  size_t size;
  uint8_t pat;
} slot_t;

static slot_t slots[NSLOTS];
static uint64_t reports;
static int global_object;

static void hook(const char *msg) {
  (void)msg;
  reports++;
}

static void die(const char *what, const void *p) {
  fprintf(stderr, "invalid_fuzzer: %s (%p)\n", what, p);
  abort();
}

static const size_t sizes[] = {1, 16, 100, 255, 1000, 1024, 4000, 8191, 20000, 65535, 65536, 100000, 1 << 20, 3 << 20, 12 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void verify(slot_t *s) {
  size_t n = s->size < 2048 ? s->size : 2048;
  for (size_t k = 0; k < n; k++)
    if (s->p[k] != s->pat) die("live block changed by an invalid free", s->p);
}

// Frees q, which must be reported as invalid.
static void expect_report(void *q) {
  uint64_t before = reports;
  hak_free(q);
  if (reports != before + 1) die("invalid free not reported", q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hak_abort_hook_t old = hak_set_abort_hook(hook);
  int local_object = 0;
  for (size_t pos = 0; pos + 4 <= size; pos += 4) {
    unsigned op = data[pos] % 8;
    slot_t *s = &slots[data[pos + 1] % NSLOTS];
    unsigned arg = (unsigned)data[pos + 2] | (unsigned)data[pos + 3] << 8;
    switch (op) {
      case 0: {  // valid allocation
        if (s->p) {
          verify(s);
          hak_free(s->p);
        }
        s->size = sizes[arg % NSIZES] + (arg >> 12);
        s->p = hak_malloc(s->size);
        if (!s->p) die("malloc failed", NULL);
        s->pat = (uint8_t)(HAKMEM_CHECKED ? data[pos + 3] : (data[pos + 3] & 0x7f) | 1);
        // Slab-engine blocks are filled whole: in the release build an interior pointer
        // must not find a stale header-like byte left by an earlier use of the memory.
        memset(s->p, s->pat, s->size <= 65535 ? s->size : 2048);
        break;
      }
      case 1:  // valid free, then the same pointer again: a double free
        if (s->p) {
          verify(s);
          hak_free(s->p);
          expect_report(s->p);
          s->p = NULL;
        }
        break;
      case 2:  // interior pointer (any offset inside the block but its start)
        if (s->p && s->size > 1) {
          size_t off = 1 + arg % (s->size - 1);
          expect_report(s->p + off);
          verify(s);
        }
        break;
      case 3:  // wild pointers: stack, global, misaligned, foreign heap
        expect_report(&local_object);
        expect_report(&global_object);
        expect_report((void *)(uintptr_t)(0x1000 + 16 * (uintptr_t)arg));
        expect_report((void *)~(uintptr_t)0xf);
        break;
      case 4:  // corrupted header of a slab-engine block: reported, the block stays live
        if (s->p && s->size <= 65535) {
          uint8_t saved = s->p[-1];
          uint8_t bad = (uint8_t)(arg & 0xff);
          if (bad != saved) {
            s->p[-1] = bad;
            expect_report(s->p);
            s->p[-1] = saved;
          }
          verify(s);
        }
        break;
      case 5:  // cross-tier confusion: a pointer one page into a big block
        if (s->p && s->size > 8192) {
          expect_report(s->p + 4096);
          verify(s);
        }
        break;
      case 6:
        if (hak_check_integrity() != 0) die("integrity check failed", NULL);
        break;
      default:
        for (unsigned i = 0; i < NSLOTS; i++)
          if (slots[i].p) verify(&slots[i]);
        break;
    }
  }
  for (unsigned i = 0; i < NSLOTS; i++)
    if (slots[i].p) {
      verify(&slots[i]);
      hak_free(slots[i].p);
      slots[i].p = NULL;
    }
  if (hak_check_integrity() != 0) die("integrity check failed at the end", NULL);
  hak_set_abort_hook(old);
  return 0;
}
