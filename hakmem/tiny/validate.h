// validate.h — which pointers the slab engine accepts (validate.c).
#ifndef HAKMEM_TINY_VALIDATE_H
#define HAKMEM_TINY_VALIDATE_H

// 1 and the block start and class when p is an allocated block of the slab engine, or an
// aligned pointer inside one (tiny_aligned_mark in tiny.h); else 0 and *why names what p
// is (interior, metadata, unused slab, double free, corrupted header).
int tiny_resolve(void *p, void **block, unsigned *cls, const char **why);

#endif
