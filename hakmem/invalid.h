// invalid.h — reporting bad pointers (wild, interior, double free, corrupted) and the
// pass-through to the next allocator under HAKMEM_INVALID_FREE=pass.
#ifndef HAKMEM_INVALID_H
#define HAKMEM_INVALID_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Reports "hakmem: <op>(<p>): <why>" once and applies HAKMEM_INVALID_FREE. Returns normally
// only for warn and pass (or when the abort hook returns). Preserves errno.
void hak_invalid_report(const char *op, void *p, const char *why);
// Whether a pointer rejected for `why` goes to the next allocator (pass mode, foreign).
int hak_invalid_pass_foreign(const char *why);
// The next allocator's realloc and malloc_usable_size (NULL until the override sets them).
void *(*hak_invalid_next_realloc(void))(void *, size_t);
size_t (*hak_invalid_next_usable(void))(void *);

#ifdef __cplusplus
}
#endif

#endif
