// log.c — one-line diagnostics to stderr. stdio may allocate, so HAKMEM never calls it
// while serving malloc; everything the allocator prints is formatted by format.c and
// written by hak_os_write_stderr.
#include "hakmem/log.h"

#include "hakmem/os.h"
#include "hakmem/track.h"

void hak_log(const char *fmt, ...) {
  char buf[512] = "hakmem: ";
  va_list ap;
  va_start(ap, fmt);
  size_t n = 8 + hak_vformat(buf + 8, sizeof buf - 9, fmt, ap);
  va_end(ap);
  buf[n++] = '\n';
  hak_os_write_stderr(buf, n);
}

// The key of the free-list links (track.h). 0 until initialisation sets it; links written
// before that (none: every list is built after hak_global_init) would decode the same.
uintptr_t hak_link_key;

void hak_link_corrupt(const void *block, uintptr_t decoded) {
  hak_log("free list corrupted: the free block at %p links to %p, not a block (a write after free, or an "
          "overflow into a free neighbour)",
          block, (void *)decoded);
  hak_os_abort();
}

void *hak_link_corrupt_jump(const void *block, uintptr_t decoded) { hak_link_corrupt(block, decoded); }
