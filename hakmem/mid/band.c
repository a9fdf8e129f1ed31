// band.c — the mid tier's policy for the slab engine's classes TINY_MID_FIRST and up
// (1088 B – 64 KiB), registered as the engine's band (tiny/band.h) at initialisation:
//   * capacities: a thread cache holds HAKMEM_MID_CACHE_BYTES of each 8 – 64 KiB class (4 –
//     64 blocks) and a ring of HAKMEM_MID_RING_CAP in front of it; the 1088 B – 8 KiB
//     classes keep the engine's Tiny budget;
//   * bundles: half of an overflowing cache goes to the depot (depot.h) when it is at least
//     the class's smallest bundle (HAKMEM_MID_MIN_BUNDLE blocks, at most 64 KiB of them below
//     8 KiB and 16 KiB from 8 KiB up) and
//     the depot's byte budget allows; a refill takes depot bundles before slabs, asks for at
//     least that many blocks and draws on up to HAKMEM_MID_REFILL_BATCH slabs or bundles;
//   * memory: kind-MID SuperSlabs are carved from the heap's arena (arena.h);
//   * the learner (learn.h) in learner builds.
// Every setting is read when used, so tests may change hak_cfg at run time.
#include <stddef.h>

#include "hakmem/config.h"
#include "hakmem/decay.h"
#include "hakmem/init.h"
#include "hakmem/mid/arena.h"
#include "hakmem/mid/depot.h"
#include "hakmem/mid/learn.h"
#include "hakmem/os.h"

// 0 (the engine's byte budget, HAKMEM_TINY_CACHE_BYTES) below 8 KiB.
static uint32_t band_cap(unsigned c) {
  if (c < TINY_SMALL_NCLASS) return 0;
  long cap = hak_cfg.mid_cache_bytes / tiny_class_stride[c];
  return (uint32_t)(cap < 4 ? 4 : cap > 64 ? 64 : cap);
}

static uint32_t band_ring_cap(void) { return (uint32_t)hak_cfg.mid_ring_cap; }
// HAKMEM_MID_MIN_BUNDLE blocks, but no more than about 64 KiB of them below 8 KiB and 16 KiB
// from 8 KiB up (at least one): the smallest cache, refill and bundle of a class. A thread
// that only frees a class (a consumer) then holds at most that much of it, and hands on
// bundles of that. Each consumer holds up to one bundle of every class it frees: 2 producers
// and 2 consumers of messages of 0 - 511 B and one in 16 of 4 - 64 KiB (23 classes) peaked
// at 10.4 MB with 64 KiB bundles throughout and 9.0 with 16 KiB ones (glibc 5.9; medians of
// 7, with refill.c's borrowing in both). Below 8 KiB the blocks share 64 KiB slabs with the
// small classes and keep the larger bundles.
#define BAND_MIN_BYTES_SMALL (64u << 10)
#define BAND_MIN_BYTES_MID (16u << 10)
static uint32_t band_refill_min(unsigned c) {
  uint32_t n = (uint32_t)hak_cfg.mid_min_bundle;
  uint32_t by = (c < TINY_SMALL_NCLASS ? BAND_MIN_BYTES_SMALL : BAND_MIN_BYTES_MID) / tiny_class_stride[c];
  if (n > by) n = by;
  return n ? n : 1;
}
static uint32_t band_refill_slabs(void) { return hak_cfg.mid_refill_batch > 0 ? (uint32_t)hak_cfg.mid_refill_batch : 1; }

static int band_put(unsigned c, void *head, uint32_t k, uint32_t seq) {
  if (!hak_cfg.mid_depot_bytes || k < band_refill_min(c)) return 0;
  return mid_depot_put(c, head, k, seq);
}

static void band_held(uint64_t *blocks, uint64_t *bytes) {
  mid_depot_stats_t d;
  mid_depot_stats_get(&d);
  *blocks = d.blocks;
  *bytes = d.bytes;
}

#if HAKMEM_LEARNER
// One state per heap, for the heap's lifetime (heaps are never freed): its own small
// mapping, so making one takes no lock.
static void *band_learn_new(void) { return hak_os_map(HAK_ALIGN_UP(sizeof(mid_learn_t), HAK_OS_PAGE)); }
static void band_learn_start(void *L, tiny_tune_t *t) { mid_learn_start((mid_learn_t *)L, t); }
static int band_learn_due(void *L) { return mid_learn_due((mid_learn_t *)L); }
static void band_learn_window(void *L, tiny_tune_t *t) { mid_learn_window((mid_learn_t *)L, t); }
#endif

static const tiny_band_t mid_band = {
    .first = TINY_MID_FIRST,
    .cap = band_cap,
    .ring_cap = band_ring_cap,
    .refill_min = band_refill_min,
    .refill_slabs = band_refill_slabs,
    .put = band_put,
    .get = mid_depot_get,
    .foreach = mid_depot_foreach,
    .held = band_held,
    .carve = mid_arena_carve,
    .heap_release = mid_arena_release,
#if HAKMEM_LEARNER
    .learn_new = band_learn_new,
    .learn_start = band_learn_start,
    .learn_due = band_learn_due,
    .learn_window = band_learn_window,
#endif
};

HAK_DECAY_STEP(mid_depot_decay);

static void mid_band_init(void) { tiny_band_register(&mid_band); }
HAK_INIT_STEP(HAK_INIT_TIER, mid_band_init);
