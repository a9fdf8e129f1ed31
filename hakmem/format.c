// format.c — a minimal printf-style formatter into a caller's buffer. Pure (no OS call, no
// allocation), so the OS layer can format its failure reports and the log can format its
// lines without either depending on the other.
#include "hakmem/format.h"

#include <stdint.h>

static size_t put_u(char *buf, size_t cap, size_t n, unsigned long long v, unsigned base) {
  char tmp[32];
  int len = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[len++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  while (len > 0 && n + 1 < cap) buf[n++] = tmp[--len];
  return n;
}

size_t hak_vformat(char *buf, size_t cap, const char *fmt, va_list ap) {
  size_t n = 0;
  if (cap == 0) return 0;
  for (const char *f = fmt; *f && n + 1 < cap; f++) {
    if (*f != '%') {
      buf[n++] = *f;
      continue;
    }
    f++;
    int lng = 0, sz = 0, width = 0;
    if (*f == '0')  // zero-padded width for numbers, e.g. %03ld
      for (f++; *f >= '0' && *f <= '9'; f++) width = width * 10 + (*f - '0');
    size_t start = n;
    while (*f == 'l') { lng++; f++; }
    if (*f == 'z') { sz = 1; f++; }
    switch (*f) {
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        while (*s && n + 1 < cap) buf[n++] = *s++;
        break;
      }
      case 'c': buf[n++] = (char)va_arg(ap, int); break;
      case 'd': {
        long long v = lng ? (lng > 1 ? va_arg(ap, long long) : va_arg(ap, long)) : (sz ? (long long)va_arg(ap, size_t) : va_arg(ap, int));
        if (v < 0) { buf[n++] = '-'; v = -v; }
        n = put_u(buf, cap, n, (unsigned long long)v, 10);
        break;
      }
      case 'u':
      case 'x': {
        unsigned long long v = sz ? va_arg(ap, size_t) : lng > 1 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        n = put_u(buf, cap, n, v, *f == 'x' ? 16 : 10);
        break;
      }
      case 'p': {
        uintptr_t v = (uintptr_t)va_arg(ap, void *);
        if (n + 3 < cap) { buf[n++] = '0'; buf[n++] = 'x'; }
        n = put_u(buf, cap, n, v, 16);
        break;
      }
      case '%': buf[n++] = '%'; break;
      default: buf[n++] = '?'; break;
    }
    if ((int)(n - start) < width && n + (size_t)width - (n - start) + 1 < cap) {
      size_t pad = (size_t)width - (n - start);
      for (size_t i = n; i-- > start;) buf[i + pad] = buf[i];
      for (size_t i = 0; i < pad; i++) buf[start + i] = '0';
      n += pad;
    }
  }
  buf[n] = 0;
  return n;
}

size_t hak_format(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = hak_vformat(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}
