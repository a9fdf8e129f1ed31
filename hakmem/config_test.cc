// HAKMEM_* parsing: defaults, suffixes, ranges, bad values keep the default.
#include "hakmem/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

TEST(Config, DefaultsWithEmptyEnvironment) {
  char *env[] = {nullptr};
  hak_config_load(env);
  EXPECT_EQ(hak_cfg.invalid_free, HAK_INVALID_ABORT);
  EXPECT_EQ(hak_cfg.ss_cache_max, 4);
  EXPECT_EQ(hak_cfg.stats, 0);
}

TEST(Config, ParsesNumbersWordsAndSuffixes) {
  char a[] = "HAKMEM_INVALID_FREE=warn", b[] = "HAKMEM_TINY_CACHE_BYTES=64K", c[] = "HAKMEM_SS_CACHE_MAX=7",
       d[] = "HAKMEM_STATS=json", e[] = "PATH=/bin";
  char *env[] = {a, b, c, d, e, nullptr};
  hak_config_load(env);
  EXPECT_EQ(hak_cfg.invalid_free, HAK_INVALID_WARN);
  EXPECT_EQ(hak_cfg.tiny_cache_bytes, 64 * 1024);
  EXPECT_EQ(hak_cfg.ss_cache_max, 7);
  EXPECT_EQ(hak_cfg.stats, 2);
  char *none[] = {nullptr};
  hak_config_load(none);
}

TEST(Config, BadValuesKeepTheDefault) {
  char a[] = "HAKMEM_SS_CACHE_MAX=lots", b[] = "HAKMEM_TINY_CACHE_BYTES=1", c[] = "HAKMEM_INVALID_FREE=explode",
       d[] = "HAKMEM_LARGE_CACHE_MB=99999999999999999999999", e[] = "HAKMEM_NO_SUCH_KNOB=1";
  char *env[] = {a, b, c, d, e, nullptr};
  testing::internal::CaptureStderr();
  hak_config_load(env);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(hak_cfg.ss_cache_max, 4);
  EXPECT_EQ(hak_cfg.tiny_cache_bytes, 16 * 1024);
  EXPECT_EQ(hak_cfg.invalid_free, HAK_INVALID_ABORT);
  EXPECT_EQ(hak_cfg.large_cache_mb, 64);
  EXPECT_NE(err.find("HAKMEM_SS_CACHE_MAX='lots'"), std::string::npos) << err;
  EXPECT_NE(err.find("HAKMEM_TINY_CACHE_BYTES='1' (accepted: 1024..1048576"), std::string::npos) << err;
  EXPECT_NE(err.find("accepted: abort|warn|pass"), std::string::npos) << err;
  EXPECT_NE(err.find("HAKMEM_LARGE_CACHE_MB"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown variable HAKMEM_NO_SUCH_KNOB"), std::string::npos) << err;
  char *none[] = {nullptr};
  hak_config_load(none);
}

// The mid band's variables were called HAKMEM_POOL_* (and HAKMEM_POOL_TLS_ARENA_*): the old
// names still work with a one-line warning, and lose to the new name when both are given.
TEST(Config, FormerNamesWarnAndYieldToNewOnes) {
  char a[] = "HAKMEM_POOL_RING_CAP=7", b[] = "HAKMEM_POOL_DEPOT_BYTES=1M", c[] = "HAKMEM_MID_DEPOT_BYTES=2M",
       d[] = "HAKMEM_POOL_TLS_ARENA_MB_MAX=16";
  char *env[] = {a, b, c, d, nullptr};
  testing::internal::CaptureStderr();
  hak_config_load(env);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(hak_cfg.mid_ring_cap, 7);
  EXPECT_EQ(hak_cfg.mid_depot_bytes, 2 << 20);
  EXPECT_EQ(hak_cfg.arena_mb_max, 16);
  EXPECT_NE(err.find("HAKMEM_POOL_RING_CAP is deprecated; use HAKMEM_MID_RING_CAP"), std::string::npos) << err;
  EXPECT_NE(err.find("HAKMEM_POOL_DEPOT_BYTES is deprecated and ignored: HAKMEM_MID_DEPOT_BYTES is set"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("HAKMEM_POOL_TLS_ARENA_MB_MAX is deprecated; use HAKMEM_MID_ARENA_MB_MAX"), std::string::npos) << err;
  EXPECT_EQ(err.find("unknown variable"), std::string::npos) << err;
  char *none[] = {nullptr};
  hak_config_load(none);
}

TEST(Config, DecimalsAndLists) {
  char a[] = "HAKMEM_TARGET_HIT_MID=0.9", b[] = "HAKMEM_CAP_DWELL_SEC_MID=1.5", c[] = "HAKMEM_WMAX_CANDIDATES_MID=1.1,1.3,1.75",
       d[] = "HAKMEM_WMAX_ADOPT_PCT=0.02";
  char *env[] = {a, b, c, d, nullptr};
  hak_config_load(env);
  EXPECT_EQ(hak_cfg.target_hit_mid, 900);
  EXPECT_EQ(hak_cfg.cap_dwell_ms_mid, 1500);
  EXPECT_EQ(hak_cfg.wmax_ncand, 3);
  EXPECT_EQ(hak_cfg.wmax_cand_pct[0], 110);
  EXPECT_EQ(hak_cfg.wmax_cand_pct[1], 130);
  EXPECT_EQ(hak_cfg.wmax_cand_pct[2], 175);
  EXPECT_EQ(hak_cfg.wmax_adopt_permille, 20);
}

TEST(Config, BadDecimalsAndListsKeepTheDefault) {
  char a[] = "HAKMEM_TARGET_HIT_MID=1.5", b[] = "HAKMEM_WMAX_CANDIDATES_MID=1.2,9", c[] = "HAKMEM_CAP_DWELL_SEC_MID=0.0001";
  char *env[] = {a, b, c, nullptr};
  testing::internal::CaptureStderr();
  hak_config_load(env);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(hak_cfg.target_hit_mid, 970);
  EXPECT_EQ(hak_cfg.wmax_ncand, 2);
  EXPECT_EQ(hak_cfg.wmax_cand_pct[0], 125);
  EXPECT_EQ(hak_cfg.cap_dwell_ms_mid, 60);
  EXPECT_NE(err.find("HAKMEM_TARGET_HIT_MID='1.5' (accepted: 0.500..0.999); using 0.970"), std::string::npos) << err;
  EXPECT_NE(err.find("HAKMEM_WMAX_CANDIDATES_MID='1.2,9' (accepted: up to 4 comma-separated values 1.00..2.00)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("HAKMEM_CAP_DWELL_SEC_MID"), std::string::npos) << err;
  char *none[] = {nullptr};
  hak_config_load(none);
}

// Every variable of the table has its row in the README's table, and nothing else does.
TEST(Config, ReadmeDocumentsEveryVariable) {
  std::ifstream f("README.md");
  ASSERT_TRUE(f) << "README.md not in the runfiles";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string readme = ss.str();
  for (size_t i = 0; i < hak_config_count(); i++) {
    std::string row = std::string("| `") + hak_config_name(i) + "` |";
    EXPECT_NE(readme.find(row), std::string::npos) << hak_config_name(i) << " has no row in README.md";
  }
  // HAKMEM_FAULT and HAKMEM_STATS_FILE are no knobs: strings config.c hands on as they are.
  EXPECT_NE(readme.find("| `HAKMEM_FAULT` |"), std::string::npos);
  EXPECT_NE(readme.find("| `HAKMEM_STATS_FILE` |"), std::string::npos);
  size_t rows = 0;
  for (size_t at = 0; (at = readme.find("| `HAKMEM_", at)) != std::string::npos; at++) rows++;
  EXPECT_EQ(rows, hak_config_count() + 2) << "README.md documents a variable the table does not list";
}

}  // namespace
