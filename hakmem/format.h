// format.h — printf subset into a buffer, without stdio or allocation (safe inside malloc).
#ifndef HAKMEM_FORMAT_H
#define HAKMEM_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// %s %d %u %zu %lu %llu %x %zx %p %c %% and zero-padded widths (%03ld). Formats into buf
// (always NUL-terminated); returns the length written.
size_t hak_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t hak_format(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
