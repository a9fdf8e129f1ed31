// invalid_fuzzer — wild, interior and double frees and corrupted headers, mixed with valid
// traffic in every tier. Every invalid free must be reported exactly once (through the
// abort hook, so the run goes on) and must not corrupt anything: live blocks keep their
// contents and hak_check_integrity() stays clean.
//
// Every build validates block starts exactly, so the fill pattern is any byte. Region
// probes aim at every part of a SuperSlab (its header, unassigned and cached slabs, block
// interiors and starts of free blocks), of a page-heap arena and of a large mapping, with
// the byte in front of the probe set to an input byte (so a probe can carry any header,
// including a live-looking one), under each HAKMEM_INVALID_FREE mode: abort (hook), warn and
// pass (a foreign pointer goes to the next free, recorded here). Only the start of one of
// the fuzzer's own live blocks may be accepted; nothing else may be changed.
// Record format: op byte, slot byte, size/offset bytes (2).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem/config.h"
#include "hakmem/hakmem.h"

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
static void next_free(void *p) {  // pass mode: a foreign pointer handed on
  (void)p;
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

// Frees q, which must be reported as invalid (counted in every mode).
static void expect_report(void *q) {
  uint64_t before = hak_invalid_free_count();
  hak_free(q);
  if (hak_invalid_free_count() != before + 1) die("invalid free not reported", q);
}

// Whether q is the start of one of the live slots (the only pointers free may accept).
static int is_live_start(const uint8_t *q) {
  for (unsigned i = 0; i < NSLOTS; i++)
    if (slots[i].p == q) return 1;
  return 0;
}

// The byte in front of a probe may be free (poisoned) HAKMEM memory: written around ASan.
__attribute__((no_sanitize("address", "memory"))) static uint8_t peek(const uint8_t *p) { return *(const volatile uint8_t *)p; }
__attribute__((no_sanitize("address", "memory"))) static void poke(uint8_t *p, uint8_t v) { *(volatile uint8_t *)p = v; }

// Probes address q inside HAKMEM memory with header byte `hb` in front of it.
static void probe(uint8_t *q, uint8_t hb) {
  if (is_live_start(q)) return;
  uint8_t saved = peek(q - 1);
  poke(q - 1, hb);
  expect_report(q);
  poke(q - 1, saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hak_abort_hook_t old = hak_set_abort_hook(hook);
  long saved_mode = hak_cfg.invalid_free;
  if (size) {
    // abort (through the hook) most of the time; warn prints a line per report
    static const long modes[] = {HAK_INVALID_ABORT, HAK_INVALID_ABORT, HAK_INVALID_WARN, HAK_INVALID_PASS};
    hak_cfg.invalid_free = modes[data[size - 1] % 4];
    hak_set_next_free(next_free);
  }
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
        s->pat = data[pos + 3];
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
      default:  // region probes around a live block of any tier
        if (s->p) {
          uint8_t hb = data[pos + 3];
          uintptr_t base = (uintptr_t)s->p;
          uint8_t *q;
          if (s->size <= 65535) {  // anywhere in its SuperSlab, 16-byte aligned (header included)
            uintptr_t ss = base & ~(((uintptr_t)2 << 20) - 1);
            q = (uint8_t *)(ss + 16 + ((uintptr_t)arg * 16 * 31) % (((uintptr_t)2 << 20) - 16));
          } else if (s->size < (8u << 20)) {  // in its page-heap arena, page or 16-byte aligned
            // An arena maps its first 2 MiB and grows in place as far as it needs, so the
            // probe goes into the first 2 MiB (metadata and blocks) or into the block itself.
            uintptr_t arena = base & ~(((uintptr_t)32 << 20) - 1);
            uintptr_t step = (arg & 1) ? 4096 : 16;
            if (arg & 2) q = (uint8_t *)(arena + 4096 + ((uintptr_t)arg * step * 7) % (((uintptr_t)2 << 20) - 4096));
            else q = s->p + step * (1 + (uintptr_t)(arg >> 2) % ((s->size - 1) / step));
          } else {  // inside its large mapping
            q = s->p + 16 * (1 + (uintptr_t)arg % (s->size / 16 - 1));
          }
          probe(q, hb);
        }
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
  hak_cfg.invalid_free = saved_mode;
  return 0;
}
