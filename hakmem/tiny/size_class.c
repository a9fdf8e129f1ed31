// size_class.c — stride table and the request→class lookup table (see size_class.h).
#include "hakmem/tiny/size_class.h"

const uint16_t tiny_class_stride[TINY_NCLASS] = {
    16,   32,   48,   64,   80,   96,   112,  128,  160,  192,  224,  256,  320,  384,  448,  512,
    640,  768,  896,  1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
};

// Entry i serves requests n with (n + 16) / 16 == i, i.e. it needs stride >= 16 * i.
#define L1(c) c
#define R2(c) c, c
#define R4(c) R2(c), R2(c)
#define R8(c) R4(c), R4(c)
#define R16(c) R8(c), R8(c)
#define R32(c) R16(c), R16(c)
#define R64(c) R32(c), R32(c)
const uint8_t tiny_class_lut[(TINY_ENGINE_MAX + 16) / 16 + 1] = {
    0,  // i = 0 is unused (n + 16 >= 16)
    L1(0), L1(1), L1(2), L1(3), L1(4), L1(5), L1(6), L1(7),  // strides 16..128
    R2(8), R2(9), R2(10), R2(11),                            // 160..256
    R4(12), R4(13), R4(14), R4(15),                          // 320..512
    R8(16), R8(17), R8(18), R8(19),                          // 640..1024
    R16(20), R16(21), R16(22), R16(23),                      // 1280..2048
    R32(24), R32(25), R32(26), R32(27),                      // 2560..4096
    R64(28), R64(29), R64(30), R64(31),                      // 5120..8192
};
_Static_assert(sizeof tiny_class_lut == 513, "lut covers requests 0..8191");
