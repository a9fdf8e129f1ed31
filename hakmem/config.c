// config.c — the single table of HAKMEM_* variables. Nothing else reads the environment.
#include "hakmem/config.h"

#include <stdint.h>

#include "hakmem/log.h"
#include "hakmem/os.h"

hak_config_t hak_cfg = {
    .invalid_free = HAK_INVALID_ABORT,
    .stats = 0,
    .ss_cache_max = 4,
    .tiny_cache_bytes = 16 * 1024,
    .tiny_adapt_bytes = 512 * 1024,
    .tiny_slow_start = 1,
    .mid_cache_bytes = 1024 * 1024,
    .mid_grow_bytes = 8 << 20,
    .large_cache_mb = 64,
    .decay_ms = 1000,
    .large_min = 8 << 20,
    .l25_tc_bytes = 1 << 20,
    .l25_tc_spill = 4,
    .l25_run_factor = 2,
    .pool_hugepages = 2,
    .large_hugepages = 2,
    .mid_ring_cap = 16,
    .mid_min_bundle = 4,
    .mid_refill_batch = 2,
    .mid_depot_bytes = 8 << 20,
    .mid_dyn1 = 0,
    .arena_mb_init = 1,
    .arena_mb_max = 8,
    .arena_growth_levels = 3,
    .target_hit_mid = 970,
    .cap_step_mid = 8,
    .cap_min_mid = 8,
    .cap_max_mid = 512,
    .cap_dwell_ms_mid = 60,
    .learn_window_ms = 20,
    .learn_min_samples = 256,
    .learn_freeze_windows = 0,
    .wmax_learn = 1,
    .wmax_canary = 1,
    .wmax_trial_ms = 500,
    .wmax_adopt_permille = 10,
    .wmax_ncand = 2,
    .wmax_cand_pct = {125, 150},
    .learn_elo = 1,
    .elo_games = 40,
};

enum { KNOB_INT = 0, KNOB_MILLI = 1, KNOB_LIST = 2 };

typedef struct {
  const char *name;
  long *value;
  long def, min, max;
  const char *const *words;  // for enumerations: accepted words, index = value
  int kind;                  // KNOB_MILLI: a decimal stored x1000 (min/max x1000 too);
                             // KNOB_LIST: up to 4 decimals stored x100 after the count
  const char *old_name;      // a former name still accepted, with a one-line warning
} hak_knob_t;

static const char *const invalid_words[] = {"abort", "warn", "pass", NULL};
static const char *const stats_words[] = {"0", "1", "json", NULL};

static hak_knob_t knobs[] = {
    {"HAKMEM_INVALID_FREE", &hak_cfg.invalid_free, HAK_INVALID_ABORT, 0, 2, invalid_words, KNOB_INT, NULL},
    {"HAKMEM_STATS", &hak_cfg.stats, 0, 0, 2, stats_words, KNOB_INT, NULL},
    {"HAKMEM_SS_CACHE_MAX", &hak_cfg.ss_cache_max, 4, 0, 4096, NULL, KNOB_INT, NULL},
    {"HAKMEM_TINY_CACHE_BYTES", &hak_cfg.tiny_cache_bytes, 16 * 1024, 1024, 1 << 20, NULL, KNOB_INT, NULL},
    {"HAKMEM_TINY_ADAPT_BYTES", &hak_cfg.tiny_adapt_bytes, 512 * 1024, 0, 64 << 20, NULL, KNOB_INT, NULL},
    {"HAKMEM_TINY_SLOW_START", &hak_cfg.tiny_slow_start, 1, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_MID_CACHE_BYTES", &hak_cfg.mid_cache_bytes, 1024 * 1024, 0, 16 << 20, NULL, KNOB_INT, "HAKMEM_POOL_CACHE_BYTES"},
    {"HAKMEM_MID_GROW_BYTES", &hak_cfg.mid_grow_bytes, 8 << 20, 0, 1L << 30, NULL, KNOB_INT, NULL},
    {"HAKMEM_LARGE_CACHE_MB", &hak_cfg.large_cache_mb, 64, 0, 1 << 16, NULL, KNOB_INT, NULL},
    {"HAKMEM_DECAY_MS", &hak_cfg.decay_ms, 1000, 0, 600000, NULL, KNOB_INT, NULL},
    {"HAKMEM_LARGE_MIN", &hak_cfg.large_min, 8 << 20, 65536, 16 << 20, NULL, KNOB_INT, NULL},
    {"HAKMEM_L25_TC_BYTES", &hak_cfg.l25_tc_bytes, 1 << 20, 0, 256 << 20, NULL, KNOB_INT, NULL},
    {"HAKMEM_L25_TC_SPILL", &hak_cfg.l25_tc_spill, 4, 1, 64, NULL, KNOB_INT, NULL},
    {"HAKMEM_L25_RUN_FACTOR", &hak_cfg.l25_run_factor, 2, 1, 16, NULL, KNOB_INT, NULL},
    {"HAKMEM_POOL_HUGEPAGES", &hak_cfg.pool_hugepages, 2, 0, 2, NULL, KNOB_INT, NULL},
    {"HAKMEM_LARGE_HUGEPAGES", &hak_cfg.large_hugepages, 2, 0, 2, NULL, KNOB_INT, NULL},
    {"HAKMEM_MID_RING_CAP", &hak_cfg.mid_ring_cap, 16, 0, 32, NULL, KNOB_INT, "HAKMEM_POOL_RING_CAP"},
    {"HAKMEM_MID_MIN_BUNDLE", &hak_cfg.mid_min_bundle, 4, 1, 64, NULL, KNOB_INT, "HAKMEM_POOL_MIN_BUNDLE"},
    {"HAKMEM_MID_REFILL_BATCH", &hak_cfg.mid_refill_batch, 2, 1, 8, NULL, KNOB_INT, "HAKMEM_POOL_REFILL_BATCH"},
    {"HAKMEM_MID_DEPOT_BYTES", &hak_cfg.mid_depot_bytes, 8 << 20, 0, 1 << 30, NULL, KNOB_INT, "HAKMEM_POOL_DEPOT_BYTES"},
    {"HAKMEM_MID_DYN1", &hak_cfg.mid_dyn1, 0, 0, 65024, NULL, KNOB_INT, NULL},
    {"HAKMEM_MID_ARENA_MB_INIT", &hak_cfg.arena_mb_init, 1, 1, 64, NULL, KNOB_INT, "HAKMEM_POOL_TLS_ARENA_MB_INIT"},
    {"HAKMEM_MID_ARENA_MB_MAX", &hak_cfg.arena_mb_max, 8, 1, 1024, NULL, KNOB_INT, "HAKMEM_POOL_TLS_ARENA_MB_MAX"},
    {"HAKMEM_MID_ARENA_GROWTH_LEVELS", &hak_cfg.arena_growth_levels, 3, 0, 10, NULL, KNOB_INT, "HAKMEM_POOL_TLS_ARENA_GROWTH_LEVELS"},
    {"HAKMEM_TIMING", &hak_cfg.timing, 0, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_LEARN", &hak_cfg.learn, 0, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_TARGET_HIT_MID", &hak_cfg.target_hit_mid, 970, 500, 999, NULL, KNOB_MILLI, NULL},
    {"HAKMEM_CAP_STEP_MID", &hak_cfg.cap_step_mid, 8, 1, 64, NULL, KNOB_INT, NULL},
    {"HAKMEM_CAP_MIN_MID", &hak_cfg.cap_min_mid, 8, 4, 64, NULL, KNOB_INT, NULL},
    {"HAKMEM_CAP_MAX_MID", &hak_cfg.cap_max_mid, 512, 16, 2048, NULL, KNOB_INT, NULL},
    {"HAKMEM_CAP_DWELL_SEC_MID", &hak_cfg.cap_dwell_ms_mid, 60, 0, 60000, NULL, KNOB_MILLI, NULL},
    {"HAKMEM_LEARN_WINDOW_MS", &hak_cfg.learn_window_ms, 20, 10, 10000, NULL, KNOB_INT, NULL},
    {"HAKMEM_LEARN_MIN_SAMPLES", &hak_cfg.learn_min_samples, 256, 16, 65536, NULL, KNOB_INT, NULL},
    {"HAKMEM_LEARN_FREEZE_WINDOWS", &hak_cfg.learn_freeze_windows, 0, 0, 100000, NULL, KNOB_INT, NULL},
    {"HAKMEM_WMAX_LEARN", &hak_cfg.wmax_learn, 1, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_WMAX_CANARY", &hak_cfg.wmax_canary, 1, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_WMAX_TRIAL_SEC", &hak_cfg.wmax_trial_ms, 500, 10, 60000, NULL, KNOB_MILLI, NULL},
    {"HAKMEM_WMAX_ADOPT_PCT", &hak_cfg.wmax_adopt_permille, 10, 1, 500, NULL, KNOB_MILLI, NULL},
    {"HAKMEM_WMAX_CANDIDATES_MID", &hak_cfg.wmax_ncand, 2, 100, 200, NULL, KNOB_LIST, NULL},
    {"HAKMEM_LEARN_ELO", &hak_cfg.learn_elo, 1, 0, 1, NULL, KNOB_INT, NULL},
    {"HAKMEM_ELO_GAMES", &hak_cfg.elo_games, 40, 4, 100000, NULL, KNOB_INT, NULL},
};
#define NKNOBS (sizeof knobs / sizeof knobs[0])

size_t hak_config_count(void) { return NKNOBS; }
const char *hak_config_name(size_t i) { return i < NKNOBS ? knobs[i].name : NULL; }

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

// Parses a decimal number with an optional K/M/G suffix; returns 0 on success.
static int parse_num(const char *s, long *out) {
  long v = 0;
  if (!*s) return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*s - '0');
  }
  long mul = 1;
  if (*s == 'k' || *s == 'K') mul = 1L << 10, s++;
  else if (*s == 'm' || *s == 'M') mul = 1L << 20, s++;
  else if (*s == 'g' || *s == 'G') mul = 1L << 30, s++;
  if (*s) return -1;
  if (v > INT64_MAX / mul) return -1;
  *out = v * mul;
  return 0;
}

// Parses a decimal such as 0.97 or 2 into value x scale (scale 1000 or 100); at most as
// many fraction digits as the scale has zeros. Returns 0 on success.
static int parse_fixed(const char *s, long scale, long *out) {
  long v = 0, frac = 0, div = 1;
  if (!*s) return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > 1000000) return -1;
    v = v * 10 + (*s - '0');
  }
  if (*s == '.') {
    s++;
    for (; *s >= '0' && *s <= '9'; s++) {
      if (div >= scale) return -1;
      frac = frac * 10 + (*s - '0');
      div *= 10;
    }
  }
  if (*s) return -1;
  *out = v * scale + frac * (scale / div);
  return 0;
}

// A comma-separated list of up to 4 decimals (x100), each within [min, max] (x100).
static int parse_list(hak_knob_t *k, const char *s) {
  long vals[4];
  long n = 0;
  char part[16];
  while (*s) {
    size_t m = 0;
    while (*s && *s != ',' && m + 1 < sizeof part) part[m++] = *s++;
    part[m] = 0;
    if (*s == ',') s++;
    else if (*s) return -1;
    if (n == 4 || parse_fixed(part, 100, &vals[n]) != 0 || vals[n] < k->min || vals[n] > k->max) return -1;
    n++;
  }
  if (!n) return -1;
  k->value[0] = n;
  for (long i = 0; i < n; i++) k->value[1 + i] = vals[i];
  return 0;
}

// Knobs are written with relaxed atomic stores: a reload (tests, mallopt) may run while the
// decay thread reads its setting.
static void knob_store(long *slot, long v) { __atomic_store_n(slot, v, __ATOMIC_RELAXED); }

static void knob_set(hak_knob_t *k, const char *val) {
  long v;
  if (k->kind == KNOB_LIST) {
    if (parse_list(k, val) != 0)
      hak_log("invalid %s='%s' (accepted: up to 4 comma-separated values %ld.%02ld..%ld.%02ld); using the default",
              k->name, val, k->min / 100, k->min % 100, k->max / 100, k->max % 100);
    return;
  }
  if (k->kind == KNOB_MILLI) {
    if (parse_fixed(val, 1000, &v) != 0 || v < k->min || v > k->max) {
      hak_log("invalid %s='%s' (accepted: %ld.%03ld..%ld.%03ld); using %ld.%03ld", k->name, val, k->min / 1000,
              k->min % 1000, k->max / 1000, k->max % 1000, k->def / 1000, k->def % 1000);
      return;
    }
    knob_store(k->value, v);
    return;
  }
  if (k->words) {
    for (long i = 0; k->words[i]; i++)
      if (str_eq(val, k->words[i])) {
        knob_store(k->value, i);
        return;
      }
    char list[64];
    size_t n = 0;
    for (long i = 0; k->words[i]; i++) n += hak_format(list + n, sizeof list - n, "%s%s", i ? "|" : "", k->words[i]);
    hak_log("invalid %s='%s' (accepted: %s); using '%s'", k->name, val, list, k->words[k->def]);
    knob_store(k->value, k->def);
    return;
  }
  if (parse_num(val, &v) != 0 || v < k->min || v > k->max) {
    hak_log("invalid %s='%s' (accepted: %ld..%ld, K/M/G suffixes); using %ld", k->name, val, k->min, k->max, k->def);
    knob_store(k->value, k->def);
    return;
  }
  knob_store(k->value, v);
}

// Whether env entry s is "<name>=..."; *val then points at the value.
static int env_is(const char *s, const char *name, const char **val) {
  const char *n = name, *p = s;
  while (*n && *n == *p) n++, p++;
  if (*n || *p != '=') return 0;
  *val = p + 1;
  return 1;
}

void hak_config_load(char **envp) {
  for (size_t i = 0; i < NKNOBS; i++) knob_store(knobs[i].value, knobs[i].def);
  hak_cfg.stats_file = NULL;
  hak_cfg.wmax_cand_pct[0] = 125;  // the list's default values (the count is the knob's default)
  hak_cfg.wmax_cand_pct[1] = 150;
  if (!envp) return;
  unsigned char set[NKNOBS] = {0};
  const char *old_val[NKNOBS] = {0};  // a former name's value, applied once the scan is done
  for (char **e = envp; *e; e++) {
    const char *s = *e, *val;
    if (s[0] != 'H' || s[1] != 'A' || s[2] != 'K') continue;
    for (size_t i = 0; i < NKNOBS; i++) {
      if (env_is(s, knobs[i].name, &val)) {
        knob_set(&knobs[i], val);
        set[i] = 1;
        goto next;
      }
      if (knobs[i].old_name && env_is(s, knobs[i].old_name, &val)) {
        old_val[i] = val;
        goto next;
      }
    }
    if (env_is(s, "HAKMEM_STATS_FILE", &val)) {  // a path, not a number: kept as the environment holds it
      hak_cfg.stats_file = val;
      goto next;
    }
    if (env_is(s, "HAKMEM_FAULT", &val)) {  // not a knob: a spec for the OS layer's test hook
      if (hak_os_fault_set(val) != 0)
        hak_log("HAKMEM_FAULT=%s ignored: malformed, or this build has no fault injection (--//cfg:fault_injection)", val);
      goto next;
    }
    if (s[3] == 'M' && s[4] == 'E' && s[5] == 'M' && s[6] == '_') {
      char name[64];
      size_t n = 0;
      while (s[n] && s[n] != '=' && n + 1 < sizeof name) name[n] = s[n], n++;
      name[n] = 0;
      hak_log("unknown variable %s ignored (see README \"Runtime variables\")", name);
    }
  next:;
  }
  // Former names: honoured with a warning, unless the current name was given too.
  for (size_t i = 0; i < NKNOBS; i++) {
    if (!old_val[i]) continue;
    if (set[i]) {
      hak_log("%s is deprecated and ignored: %s is set", knobs[i].old_name, knobs[i].name);
    } else {
      hak_log("%s is deprecated; use %s", knobs[i].old_name, knobs[i].name);
      knob_set(&knobs[i], old_val[i]);
    }
  }
}
