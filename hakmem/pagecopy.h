// pagecopy.h — realloc's copy of a block that moves: pages the program never wrote are not
// copied, so they stay out of memory in the new block as they were in the old one.
#ifndef HAKMEM_PAGECOPY_H
#define HAKMEM_PAGECOPY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Below this many bytes a copy is a plain memcpy: asking the kernel costs more than it saves.
#define HAK_PAGECOPY_MIN ((size_t)64 << 10)

// Copies n bytes from src to dst (not overlapping). Whole pages of src that hold nothing
// (hak_os_pages_absent: never written, so zeros) are neither read nor written; their
// counterparts in dst are made zero, which costs nothing when dst_zero says dst is known
// zero already (a fresh page-heap block), else one decommit per run of such pages (a
// memset for the partial pages of dst at a run's ends, and wherever the kernel refuses).
// Where the kernel cannot say, every byte is copied.
void hak_pagecopy(void *dst, const void *src, size_t n, int dst_zero);

#ifdef __cplusplus
}
#endif

#endif
