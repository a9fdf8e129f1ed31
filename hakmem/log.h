// log.h — one-line diagnostics to stderr without stdio or allocation (safe inside malloc).
#ifndef HAKMEM_LOG_H
#define HAKMEM_LOG_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// printf subset: %s %d %u %zu %lu %llu %x %zx %p %c %%. Writes "hakmem: <msg>\n".
void hak_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Formats into buf (always NUL-terminated); returns the length written.
size_t hak_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t hak_format(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
