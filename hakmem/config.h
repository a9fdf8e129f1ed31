// config.h — HAKMEM_* runtime knobs. One table (config.c) lists every variable with its
// default and range; it is parsed once from `environ` (never getenv, never allocating).
#ifndef HAKMEM_CONFIG_H
#define HAKMEM_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hak_invalid_action { HAK_INVALID_ABORT = 0, HAK_INVALID_WARN = 1, HAK_INVALID_PASS = 2 };

typedef struct hak_config {
  long invalid_free;     // HAKMEM_INVALID_FREE: abort|warn|pass
  long stats;            // HAKMEM_STATS: 0, 1 (text report at exit) or json
  const char *stats_file; // HAKMEM_STATS_FILE: the report's file (%p: the pid) instead of stderr
  long ss_cache_max;     // HAKMEM_SS_CACHE_MAX: empty SuperSlabs kept mapped (global cap)
  long tiny_cache_bytes; // HAKMEM_TINY_CACHE_BYTES: thread-cache target per class (<= 8 KiB blocks)
  long tiny_adapt_bytes; // HAKMEM_TINY_ADAPT_BYTES: per-thread capacity a cache may grow by beyond its targets
  long tiny_slow_start;  // HAKMEM_TINY_SLOW_START: first refills of a class in a thread carve about a page (refill.c)
  long mid_cache_bytes; // HAKMEM_MID_CACHE_BYTES: thread-cache target per class (10–64 KiB blocks)
  long mid_grow_bytes;  // HAKMEM_MID_GROW_BYTES: per thread, cache capacity the band's classes may earn above their start
  long large_cache_mb;   // HAKMEM_LARGE_CACHE_MB: freed large blocks kept mapped; dirty free pool pages kept resident
  long decay_ms;         // HAKMEM_DECAY_MS: freed page-heap spans and large mappings idle this long go back to the OS
  long large_min;        // HAKMEM_LARGE_MIN: smallest request served by a mapping of its own (large tier)
  long l25_tc_bytes;     // HAKMEM_L25_TC_BYTES: per-thread cache of 64 KiB–1 MiB blocks
  long l25_tc_spill;     // HAKMEM_L25_TC_SPILL: blocks returned to the page heap per spill
  long pool_hugepages;   // HAKMEM_POOL_HUGEPAGES: huge pages for page-heap arenas (0 never, 1 always, 2 learned)
  long large_hugepages;  // HAKMEM_LARGE_HUGEPAGES: madvise(MADV_HUGEPAGE) on large-tier mappings: 0 never, 1 always, 2 learned (large.c)
  long l25_run_factor;   // HAKMEM_L25_RUN_FACTOR: blocks carved per thread-cache miss
  // Mid classes (1–64 KiB blocks of the slab engine).
  long mid_ring_cap;    // HAKMEM_MID_RING_CAP: ring slots per 8–64 KiB class in front of the list (0 = no ring)
  long mid_min_bundle;  // HAKMEM_MID_MIN_BUNDLE: fewest blocks per refill and per depot bundle
  long mid_refill_batch;  // HAKMEM_MID_REFILL_BATCH: slabs (pages) and depot bundles one refill may draw on
  long mid_depot_bytes; // HAKMEM_MID_DEPOT_BYTES: bytes the global depot may hold (0 = no depot)
  long mid_dyn1;         // HAKMEM_MID_DYN1: extra size class serving requests up to this size (0 = off)
  long arena_mb_init;    // HAKMEM_MID_ARENA_MB_INIT: first per-thread arena for 8–64 KiB slabs
  long arena_mb_max;     // HAKMEM_MID_ARENA_MB_MAX: largest arena
  long arena_growth_levels;  // HAKMEM_MID_ARENA_GROWTH_LEVELS: doublings from INIT to MAX (0 = no arena)
  long timing;           // HAKMEM_TIMING: slow-path timing report at exit (builds with --//cfg:timing)
  // Learner (builds with --//cfg:learner; see hakmem/learn/learner.h). Decimals are stored
  // x1000 (hit rates and fractions in per mille, seconds in milliseconds).
  long learn;              // HAKMEM_LEARN
  long target_hit_mid;     // HAKMEM_TARGET_HIT_MID (per mille)
  long cap_step_mid, cap_min_mid, cap_max_mid;  // HAKMEM_CAP_STEP_MID / _MIN_MID / _MAX_MID
  long cap_dwell_ms_mid;   // HAKMEM_CAP_DWELL_SEC_MID (ms)
  long learn_window_ms;    // HAKMEM_LEARN_WINDOW_MS
  long learn_min_samples;  // HAKMEM_LEARN_MIN_SAMPLES
  long learn_freeze_windows;  // HAKMEM_LEARN_FREEZE_WINDOWS
  long wmax_learn;         // HAKMEM_WMAX_LEARN
  long wmax_canary;        // HAKMEM_WMAX_CANARY
  long wmax_trial_ms;      // HAKMEM_WMAX_TRIAL_SEC (ms)
  long wmax_adopt_permille;  // HAKMEM_WMAX_ADOPT_PCT (per mille of the score)
  long wmax_ncand;         // HAKMEM_WMAX_CANDIDATES_MID: number of candidates ...
  long wmax_cand_pct[4];   // ... and their values x100
  long learn_elo;          // HAKMEM_LEARN_ELO: ELO choice of the refill-batch strategy
  long elo_games;          // HAKMEM_ELO_GAMES: matches before the choice freezes
} hak_config_t;

extern hak_config_t hak_cfg;

// Parses the environment array into hak_cfg (defaults first). Bad values get one stderr
// line naming the variable and its accepted range; the default is kept.
void hak_config_load(char **envp);
// Number of table entries and their names (for docs and tests).
size_t hak_config_count(void);
const char *hak_config_name(size_t i);

#ifdef __cplusplus
}
#endif

#endif
