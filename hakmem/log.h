// log.h — one-line diagnostics to stderr without stdio or allocation (safe inside malloc).
#ifndef HAKMEM_LOG_H
#define HAKMEM_LOG_H

#include "hakmem/format.h"

#ifdef __cplusplus
extern "C" {
#endif

// printf subset: %s %d %u %zu %lu %llu %x %zx %p %c %%. Writes "hakmem: <msg>\n".
void hak_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif
