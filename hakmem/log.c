// log.c — one-line diagnostics to stderr. stdio may allocate, so HAKMEM never calls it
// while serving malloc; everything the allocator prints is formatted by format.c and
// written by hak_os_write_stderr.
#include "hakmem/log.h"

#include "hakmem/os.h"

void hak_log(const char *fmt, ...) {
  char buf[512] = "hakmem: ";
  va_list ap;
  va_start(ap, fmt);
  size_t n = 8 + hak_vformat(buf + 8, sizeof buf - 9, fmt, ap);
  va_end(ap);
  buf[n++] = '\n';
  hak_os_write_stderr(buf, n);
}

