// band.c — the registered band (see band.h).
#include "hakmem/tiny/band.h"

const tiny_band_t *tiny_band;

void tiny_band_register(const tiny_band_t *band) { __atomic_store_n(&tiny_band, band, __ATOMIC_RELEASE); }
