// config.c — the single table of HAKMEM_* variables. Nothing else reads the environment.
#include "hakmem/config.h"

#include <stdint.h>

#include "hakmem/log.h"

hak_config_t hak_cfg = {
    .invalid_free = HAK_INVALID_ABORT,
    .stats = 0,
    .ss_cache_max = 4,
    .tiny_cache_bytes = 16 * 1024,
    .pool_cache_bytes = 1024 * 1024,
    .large_cache_mb = 64,
    .large_min = 8 << 20,
    .l25_tc_bytes = 4 << 20,
    .l25_tc_spill = 4,
    .l25_run_factor = 2,
    .pool_hugepages = 0,
};

typedef struct {
  const char *name;
  long *value;
  long def, min, max;
  const char *const *words;  // for enumerations: accepted words, index = value
} hak_knob_t;

static const char *const invalid_words[] = {"abort", "warn", "pass", NULL};
static const char *const stats_words[] = {"0", "1", "json", NULL};

static hak_knob_t knobs[] = {
    {"HAKMEM_INVALID_FREE", &hak_cfg.invalid_free, HAK_INVALID_ABORT, 0, 2, invalid_words},
    {"HAKMEM_STATS", &hak_cfg.stats, 0, 0, 2, stats_words},
    {"HAKMEM_SS_CACHE_MAX", &hak_cfg.ss_cache_max, 4, 0, 4096, NULL},
    {"HAKMEM_TINY_CACHE_BYTES", &hak_cfg.tiny_cache_bytes, 16 * 1024, 1024, 1 << 20, NULL},
    {"HAKMEM_POOL_CACHE_BYTES", &hak_cfg.pool_cache_bytes, 1024 * 1024, 0, 16 << 20, NULL},
    {"HAKMEM_LARGE_CACHE_MB", &hak_cfg.large_cache_mb, 64, 0, 1 << 16, NULL},
    {"HAKMEM_LARGE_MIN", &hak_cfg.large_min, 8 << 20, 65536, 16 << 20, NULL},
    {"HAKMEM_L25_TC_BYTES", &hak_cfg.l25_tc_bytes, 4 << 20, 0, 256 << 20, NULL},
    {"HAKMEM_L25_TC_SPILL", &hak_cfg.l25_tc_spill, 4, 1, 64, NULL},
    {"HAKMEM_L25_RUN_FACTOR", &hak_cfg.l25_run_factor, 2, 1, 16, NULL},
    {"HAKMEM_POOL_HUGEPAGES", &hak_cfg.pool_hugepages, 0, 0, 1, NULL},
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

static void knob_set(hak_knob_t *k, const char *val) {
  long v;
  if (k->words) {
    for (long i = 0; k->words[i]; i++)
      if (str_eq(val, k->words[i])) {
        *k->value = i;
        return;
      }
    char list[64];
    size_t n = 0;
    for (long i = 0; k->words[i]; i++) n += hak_format(list + n, sizeof list - n, "%s%s", i ? "|" : "", k->words[i]);
    hak_log("invalid %s='%s' (accepted: %s); using '%s'", k->name, val, list, k->words[k->def]);
    *k->value = k->def;
    return;
  }
  if (parse_num(val, &v) != 0 || v < k->min || v > k->max) {
    hak_log("invalid %s='%s' (accepted: %ld..%ld, K/M/G suffixes); using %ld", k->name, val, k->min, k->max, k->def);
    *k->value = k->def;
    return;
  }
  *k->value = v;
}

void hak_config_load(char **envp) {
  for (size_t i = 0; i < NKNOBS; i++) *knobs[i].value = knobs[i].def;
  if (!envp) return;
  for (char **e = envp; *e; e++) {
    const char *s = *e;
    if (s[0] != 'H' || s[1] != 'A' || s[2] != 'K') continue;
    for (size_t i = 0; i < NKNOBS; i++) {
      const char *n = knobs[i].name, *p = s;
      while (*n && *n == *p) n++, p++;
      if (*n == 0 && *p == '=') {
        knob_set(&knobs[i], p + 1);
        goto next;
      }
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
}
