// check.h — the slab engine's integrity checker (check.c).
#ifndef HAKMEM_TINY_CHECK_H
#define HAKMEM_TINY_CHECK_H

// Verifies every structure and counter of the slab engine; returns the number of
// violations, each logged on one line. Read-only; call it while no other thread allocates.
unsigned tiny_check(void);

#endif
