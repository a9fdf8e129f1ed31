// check.c — hak_check_integrity: every tier checks its own structures and counters (the
// slab engine in tiny/check.c, the mid tier's depot and arenas in mid/, the page heap in
// pool/, the large tier in large/), each
// violation logged on one line; this file only adds them up. Read-only; call it while no
// other thread allocates.
#include "hakmem/decay.h"
#include "hakmem/hakmem.h"
#include "hakmem/large/large.h"
#include "hakmem/mid/mid.h"
#include "hakmem/pool/pool.h"
#include "hakmem/tiny/check.h"

size_t hak_check_integrity(void) {
  hak_decay_lock();  // the decay thread moves blocks too: no pass while the tiers are walked
  size_t bad = (size_t)tiny_check() + mid_check() + pool_check() + large_check();
  hak_decay_unlock();
  return bad;
}
