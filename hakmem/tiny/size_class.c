// size_class.c — stride table and the request→class lookup table (see size_class.h).
#include "hakmem/tiny/size_class.h"

#include "hakmem/config.h"
#include "hakmem/init.h"
#include "hakmem/log.h"

uint32_t tiny_class_stride[TINY_NCLASS] = {
    16,    32,    48,    64,    80,    96,    112,   128,   160,   192,   224,   256,   320,   384,   448,
    512,   640,   768,   896,   1024,  1280,  1536,  1792,  2048,  2560,  3072,  3584,  4096,  5120,  6144,
    7168,  8192,  10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536,
    65536,  // TINY_DYN_CLASS until HAKMEM_MID_DYN1 gives it a stride; no table entry maps to it
};

// Entry i serves requests n with (n + 16) / 16 == i, i.e. it needs stride >= 16 * i.
#define L1(c) c
#define R2(c) c, c
#define R4(c) R2(c), R2(c)
#define R8(c) R4(c), R4(c)
#define R16(c) R8(c), R8(c)
#define R32(c) R16(c), R16(c)
#define R64(c) R32(c), R32(c)
#define SMALL_ROWS(F)                                                    \
  0, /* i = 0 is unused (n + 16 >= 16) */                                \
      L1(F(0)), L1(F(1)), L1(F(2)), L1(F(3)), L1(F(4)), L1(F(5)),         \
      L1(F(6)), L1(F(7)),                     /* strides 16..128 */       \
      R2(F(8)), R2(F(9)), R2(F(10)), R2(F(11)),     /* 160..256 */       \
      R4(F(12)), R4(F(13)), R4(F(14)), R4(F(15)),   /* 320..512 */       \
      R8(F(16)), R8(F(17)), R8(F(18)), R8(F(19)),   /* 640..1024 */      \
      R16(F(20)), R16(F(21)), R16(F(22)), R16(F(23)), /* 1280..2048 */   \
      R32(F(24)), R32(F(25)), R32(F(26)), R32(F(27)), /* 2560..4096 */   \
      R64(F(28)), R64(F(29)), R64(F(30)), R64(F(31))  /* 5120..8192 */
#define HDR_OF(c) TINY_HDR_ALLOC_OF(c)
#define BIN_OF(c) TINY_BIN_OFFSET(c)
tiny_lut_t tiny_lut = {{SMALL_ROWS(HDR_OF)}, {SMALL_ROWS(BIN_OF)}};
_Static_assert(TINY_LUT_N == 513, "lut covers requests 0..8191");

// Entry i serves requests n with (n + 1024) / 1024 == i (needs stride >= 1024 * i), for
// 8192 <= n <= 65535, i.e. i = 9..64.
uint8_t tiny_mid_lut[(TINY_MID_MAX + 1024) / 1024 + 1] = {
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,  // i = 0..10 (0..8 unused) -> 10240
    33, 33,                                      // 12288
    34, 34,                                      // 14336
    35, 35,                                      // 16384
    R4(36), R4(37), R4(38), R4(39),              // 20480 .. 32768
    R8(40), R8(41), R8(42), R8(43),              // 40960 .. 65536
};
_Static_assert(sizeof tiny_mid_lut == 65, "pool lut covers requests 8192..65535");

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
  // Rebuild both tables: entry i of tiny_lut serves requests up to 16 * i - 1, entry i of
  // tiny_mid_lut (i >= 9) requests up to 1024 * i - 1.
  for (unsigned i = 1; i < TINY_LUT_N; i++) {
    unsigned c = best_class(16 * i, dyn);
    tiny_lut.hdr[i] = TINY_HDR_ALLOC_OF(c);
    tiny_lut.bin[i] = (uint16_t)TINY_BIN_OFFSET(c);
  }
  for (unsigned i = 9; i < sizeof tiny_mid_lut; i++) tiny_mid_lut[i] = best_class(1024 * i, dyn);
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
