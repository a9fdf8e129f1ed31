// mid.h — the mid tier as the rest of HAKMEM sees it: its stats and its checker. Its
// blocks are served by the slab engine (tiny/), which calls the tier through the band it
// registers (band.c); nothing else calls in.
#ifndef HAKMEM_MID_MID_H
#define HAKMEM_MID_MID_H

#ifdef __cplusplus
extern "C" {
#endif

struct hak_stats;

// The tier's fields of hak_stats_t (mid_depot_*, mid_arena*); adds its reserved arena
// bytes to bytes_mapped.
void mid_stats_fill(struct hak_stats *s);
// Verifies the depot's counters against its bundles and the arena counters against the
// heaps' arenas; returns the number of violations, each logged on one line. Read-only;
// call it while no other thread allocates.
unsigned mid_check(void);

#ifdef __cplusplus
}
#endif

#endif
