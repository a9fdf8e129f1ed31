// freelink.c — the free-list key and the report of a bad link (see freelink.h).
#include "hakmem/freelink.h"

#include "hakmem/log.h"
#include "hakmem/os.h"

// 0 until initialisation sets it (init.c), before the first list exists.
uintptr_t hak_link_key;

void hak_link_corrupt(const void *block, uintptr_t decoded) {
  hak_log("free list corrupted: the free block at %p links to %p, not a block (a write after free, or an "
          "overflow into a free neighbour)",
          block, (void *)decoded);
  hak_os_abort();
}

void *hak_link_corrupt_jump(const void *block, uintptr_t decoded) { hak_link_corrupt(block, decoded); }

void *hak_hdr_corrupt_jump(const void *block, uint8_t fh) {
  hak_log("free list corrupted: the free block at %p about to be handed out has header 0x%x, not 0x%x (free, class %u): "
          "a write after free, an overflow into a free neighbour, or a forged link",
          block, hak_peek8((const uint8_t *)block - 1), fh, fh & HAK_HDR_CLASS_MASK);
  hak_os_abort();
}
