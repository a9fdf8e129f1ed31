// size_class.c — stride table and the request→class lookup table (see size_class.h).
#include "hakmem/tiny/size_class.h"

#include "hakmem/config.h"
#include "hakmem/init.h"
#include "hakmem/log.h"

// Four strides per doubling, plus one at 17/16 of each power of two from 256 B, and one at
// 64 B above 4 and 8 KiB. A request of 2^k bytes, or 2^k plus a small header of its own
// (a 4 KiB buffer and its length, CPython's 8224-byte arena blocks), otherwise takes the
// next quarter step, 25 % more memory, as the 1-byte header pushes it past 2^k. CPython's
// test_compile holds 180 MB of 8224-byte blocks at its peak: 10240-byte strides made its
// peak RSS 25 % above glibc's.
uint32_t tiny_class_stride[TINY_NCLASS] = {
    16,    32,    48,    64,    80,    96,    112,   128,                          // 0..7
    160,   192,   224,   256,   272,   320,   384,   448,   512,   544,             // 8..17
    640,   768,   896,   1024,  1088,  1280,  1536,  1792,  2048,  2176,            // 18..27
    2560,  3072,  3584,  4096,  4160,  4352,  5120,  6144,  7168,  8192,            // 28..37
    8256,  8704,  10240, 12288, 14336, 16384, 17408, 20480, 24576, 28672,          // 38..47
    32768, 34816, 40960, 49152, 57344, 65536,                                     // 48..53
    65536,  // TINY_DYN_CLASS until HAKMEM_MID_DYN1 gives it a stride; no table entry maps to it
};
_Static_assert(TINY_NCLASS == 55 && TINY_SMALL_NCLASS == 38 && TINY_MID_FIRST == 22, "the table above");

// Entry i serves requests n with n / 16 == i, i.e. it needs stride >= 16 * (i + 1): the
// index is one shift on the malloc fast path.
#define L1(c) c
#define R2(c) c, c
#define R4(c) R2(c), R2(c)
#define R8(c) R4(c), R4(c)
#define R16(c) R8(c), R8(c)
#define R32(c) R16(c), R16(c)
#define R64(c) R32(c), R32(c)
#define SMALL_ROWS(F)                                                                    \
  L1(F(0)), L1(F(1)), L1(F(2)), L1(F(3)), L1(F(4)), L1(F(5)), L1(F(6)), L1(F(7)),    \
      R2(F(8)), R2(F(9)), R2(F(10)), R2(F(11)), L1(F(12)),           /* 160..272 */      \
      R2(F(13)), L1(F(13)), R4(F(14)), R4(F(15)), R4(F(16)), R2(F(17)), /* 320..544 */   \
      R4(F(18)), R2(F(18)), R8(F(19)), R8(F(20)), R8(F(21)), R4(F(22)), /* 640..1088 */  \
      R8(F(23)), R4(F(23)), R16(F(24)), R16(F(25)), R16(F(26)), R8(F(27)), /* ..2176 */  \
      R16(F(28)), R8(F(28)), R32(F(29)), R32(F(30)), R32(F(31)), /* 2560..4096 */        \
      R4(F(32)), R8(F(33)), R4(F(33)), /* 4160, 4352 */                                  \
      R32(F(34)), R16(F(34)), R64(F(35)), R64(F(36)), R64(F(37)) /* 5120..8192 */
#define HDR_OF(c) TINY_HDR_FREE_OF(c)
#define BIN_OF(c) TINY_BIN_OFFSET(c)
tiny_lut_t tiny_lut = {{SMALL_ROWS(HDR_OF)}, {SMALL_ROWS(BIN_OF)}};
_Static_assert(TINY_LUT_N == 512, "lut covers requests 0..8191");

// Entry i serves requests n with (n + 64) / 64 == i (needs stride >= 64 * i), for
// 8192 <= n <= 65535, i.e. i = 129..1024. The 64-byte grain lets 8256 be a class.
uint8_t tiny_mid_lut[TINY_MID_LUT_N] = {
    [0 ... 129] = 38,   [130 ... 136] = 39, [137 ... 160] = 40, [161 ... 192] = 41,  // 8256 .. 12288
    [193 ... 224] = 42, [225 ... 256] = 43, [257 ... 272] = 44, [273 ... 320] = 45,  // 14336 .. 20480
    [321 ... 384] = 46, [385 ... 448] = 47, [449 ... 512] = 48, [513 ... 544] = 49,  // 24576 .. 34816
    [545 ... 640] = 50, [641 ... 768] = 51, [769 ... 896] = 52, [897 ... 1024] = 53, // 40960 .. 65536
};
_Static_assert(sizeof tiny_mid_lut == 1025, "mid lut covers requests 8192..65535");
_Static_assert(TINY_MID_LUT_FIRST == 129, "the first entry a mid request reaches");

// Smallest class whose blocks hold `need` bytes (header included): the fixed classes, or
// the dynamic class when it is active and tighter.
static uint8_t best_class(uint32_t need, uint32_t dyn_stride) {
  unsigned c = 0;
  while (tiny_class_stride[c] < need) c++;  // class TINY_NFIXED - 1 holds every request
  if (dyn_stride && dyn_stride >= need && dyn_stride < tiny_class_stride[c]) return TINY_DYN_CLASS;
  return (uint8_t)c;
}

int tiny_size_class_set_dyn1(size_t max_request) {
  uint32_t dyn = 0;
  if (max_request) {
    if (max_request < TINY_DYN1_MIN || max_request > TINY_DYN1_MAX) return -1;
    dyn = (uint32_t)HAK_ALIGN_UP(max_request + 1, 16);  // the header byte comes first
    tiny_class_stride[TINY_DYN_CLASS] = dyn;
  }
  // Rebuild both tables: entry i of tiny_lut serves requests up to 16 * i + 15, entry i of
  // tiny_mid_lut (i >= TINY_MID_LUT_FIRST) requests up to 64 * i - 1.
  for (unsigned i = 0; i < TINY_LUT_N; i++) {
    unsigned c = best_class(16 * (i + 1), dyn);
    tiny_lut.hdr[i] = TINY_HDR_FREE_OF(c);
    tiny_lut.bin[i] = (uint16_t)TINY_BIN_OFFSET(c);
  }
  for (unsigned i = TINY_MID_LUT_FIRST; i < sizeof tiny_mid_lut; i++) tiny_mid_lut[i] = best_class(64 * i, dyn);
  return 0;
}

// Before any block exists: an init step of the tier (order HAK_INIT_TIER).
void tiny_size_class_init(void) {
  if (!hak_cfg.mid_dyn1) return;
  if (tiny_size_class_set_dyn1((size_t)hak_cfg.mid_dyn1) != 0)
    hak_log("hakmem: HAKMEM_MID_DYN1=%ld ignored: accepted 0 (off) or %d..%d", hak_cfg.mid_dyn1, TINY_DYN1_MIN,
            TINY_DYN1_MAX);
}
HAK_INIT_STEP(HAK_INIT_TIER, tiny_size_class_init);
