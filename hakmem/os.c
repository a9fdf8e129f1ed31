// os.c — Linux implementation of the OS layer (see os.h). Owns every syscall HAKMEM makes.
// Never allocates: /proc is read with open/read into stack buffers.
#define _GNU_SOURCE
#include "hakmem/os.h"
#include "hakmem/format.h"
#include "hakmem/track.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Atomic unsigned long os_failures;

// One line per failed call, for the first OS_REPORT_MAX of them (a sandbox that refuses
// madvise would otherwise print one per release pass); all are counted in hak_os_failures().
#define OS_REPORT_MAX 8
void hak_os_report_failure(const char *call, const void *p, size_t size) {
  int saved = errno;
  unsigned long k = atomic_fetch_add(&os_failures, 1);
  if (k < OS_REPORT_MAX) {
    char msg[200];
    hak_format(msg, sizeof msg, "hakmem: %s(%p, %zu) failed (errno %d); the memory stays as it was%s\n", call, p, size, saved,
               k + 1 == OS_REPORT_MAX ? " (further failures are only counted)" : "");
    size_t n = 0;
    while (msg[n]) n++;
    hak_os_write_stderr(msg, n);
  }
  errno = saved;
}

unsigned long hak_os_failures(void) { return atomic_load(&os_failures); }

// ---------------------------------------------------------------- fault injection
// Test builds only (--//cfg:fault_injection, HAKMEM_FAULT_INJECTION): HAKMEM_FAULT makes
// chosen calls fail at a chosen rate, so every caller's failure path runs under the tests,
// the fuzzers and the stress programs. A rate n/d fails exactly n of every d calls,
// deterministically (call k, counted from 0 per kind, fails when k*n mod d < n: the first
// call always fails), so a failing run replays. In other builds os_fail() is the constant 0 and the calls are as
// they were.
enum { OS_F_MMAP, OS_F_MUNMAP, OS_F_MADVISE, OS_F_MREMAP, OS_F_THREAD, OS_F_MINCORE, OS_F_PAGEMAP, OS_F_N };
#ifdef HAKMEM_FAULT_INJECTION
static const char *const os_fault_name[OS_F_N] = {"mmap", "munmap", "madvise", "mremap", "thread", "mincore", "pagemap"};
static struct {
  _Atomic uint32_t num, den;
  _Atomic uint64_t calls;
} os_fault[OS_F_N];
static _Atomic unsigned long os_injected;

static int os_fail(int call) {
  uint32_t d = atomic_load_explicit(&os_fault[call].den, memory_order_relaxed);
  if (!d) return 0;
  uint64_t n = atomic_load_explicit(&os_fault[call].num, memory_order_relaxed);
  uint64_t k = atomic_fetch_add_explicit(&os_fault[call].calls, 1, memory_order_relaxed);
  if (k * n % d >= n) return 0;
  atomic_fetch_add_explicit(&os_injected, 1, memory_order_relaxed);
  return 1;
}

static int os_parse_u32(const char **s, uint32_t *out) {
  uint64_t v = 0;
  const char *p = *s;
  if (*p < '0' || *p > '9') return -1;
  while (*p >= '0' && *p <= '9' && v <= UINT32_MAX) v = v * 10 + (uint64_t)(*p++ - '0');
  if (v > UINT32_MAX) return -1;
  *out = (uint32_t)v;
  *s = p;
  return 0;
}

int hak_os_fault_set(const char *spec) {
  uint32_t num[OS_F_N] = {0}, den[OS_F_N] = {0};
  const char *p = spec;
  while (*p) {
    int which = -1;
    for (int i = 0; i < OS_F_N && which < 0; i++) {
      const char *n = os_fault_name[i], *q = p;
      while (*n && *n == *q) n++, q++;
      if (!*n && *q == ':') which = i, p = q + 1;
    }
    if (which < 0 || os_parse_u32(&p, &num[which]) != 0 || *p++ != '/' || os_parse_u32(&p, &den[which]) != 0 ||
        den[which] == 0 || num[which] > den[which] || (*p && *p++ != ','))
      return -1;
  }
  for (int i = 0; i < OS_F_N; i++) {
    atomic_store(&os_fault[i].calls, 0);
    atomic_store(&os_fault[i].num, num[i]);
    atomic_store(&os_fault[i].den, num[i] ? den[i] : 0);
  }
  return 0;
}

unsigned long hak_os_faults_injected(void) { return atomic_load(&os_injected); }
#else
static inline int os_fail(int call) {
  (void)call;
  return 0;
}
int hak_os_fault_set(const char *spec) {
  (void)spec;
  return -1;
}
unsigned long hak_os_faults_injected(void) { return 0; }
#endif

void *hak_os_map(size_t size) {
  if (os_fail(OS_F_MMAP)) return NULL;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  // A new mapping that lands where an old one was poisoned must start clean (and defined:
  // mmap memory is zero).
  HAK_TRACK_MAPPED(p, size);
  return p;
}

static int os_munmap(void *p, size_t size) {
  if (os_fail(OS_F_MUNMAP)) {
    errno = ENOMEM;  // what a split of a mapping past vm.max_map_count reports
    return -1;
  }
  return munmap(p, size);
}

void *hak_os_map_at(void *addr, size_t size) {
  if (os_fail(OS_F_MMAP)) return NULL;
  void *p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  if (p != addr) {  // a kernel older than 4.17 takes the flag for a hint and maps elsewhere
    munmap(p, size);
    return NULL;
  }
  HAK_TRACK_MAPPED(p, size);
  return p;
}

// Under a tight address-space limit (ulimit -v) the over-map of size + align can fail
// where size alone fits. The kernel places a mapping at the top of the highest free gap,
// so the aligned address just below it is usually free: map exactly there. In a process
// whose mappings are packed (arenas, libraries) that address, and the one above, can be
// taken; the address space below the lowest mapping is free in a top-down layout, so the
// aligned addresses further down are tried, one failing system call each (a cold path:
// only under a limit).
#define OS_TIGHT_PROBES 64
static void *os_map_aligned_tight(size_t size, size_t align) {
  uint8_t *p = hak_os_map(size);
  if (!p || ((uintptr_t)p & (align - 1)) == 0) return p;
  hak_os_unmap(p, size);
  uintptr_t down = (uintptr_t)p & ~((uintptr_t)align - 1);
  void *q = hak_os_map_at((void *)(down + align), size);
  for (unsigned i = 0; !q && i < OS_TIGHT_PROBES && down >= align * i; i++) q = hak_os_map_at((void *)(down - align * i), size);
  return q;
}

// Keeps [base, base + keep) of the fresh mapping [raw, raw + raw_size), base being raw
// rounded up to `align`, and unmaps the rest. Trimming the ends of one mapping never splits
// it, so this only fails when the kernel is out of memory for its own bookkeeping; then
// nothing is kept (no leaked head or tail) and NULL is returned.
static void *os_keep_aligned(uint8_t *raw, size_t raw_size, size_t align, size_t keep) {
  uintptr_t base = ((uintptr_t)raw + align - 1) & ~((uintptr_t)align - 1);
  size_t head = base - (uintptr_t)raw, tail = raw_size - head - keep;
  if ((head && os_munmap(raw, head) != 0) || (tail && os_munmap((void *)(base + keep), tail) != 0)) {
    hak_os_report_failure("munmap", raw, raw_size);
    munmap(raw, raw_size);  // whatever part is still mapped
    return NULL;
  }
  return (void *)base;
}

void *hak_os_map_aligned(size_t size, size_t align) {
  // Over-map by `align` and trim both ends: at most three syscalls, no retry loop.
  if (size + align < size) return NULL;
  uint8_t *raw = hak_os_map(size + align);
  if (!raw) return os_map_aligned_tight(size, align);
  return os_keep_aligned(raw, size + align, align, size);
}

// Through syscall(), which the library imports already: no new libc import (imports_test).
// `r` starts zeroed: MSan does not see a raw syscall's writes, and the kernel fills all of it.
int hak_os_address_space_limited(void) {
  struct rlimit r = {0, 0};
  return syscall(SYS_prlimit64, 0, RLIMIT_AS, NULL, &r) == 0 && r.rlim_cur != RLIM_INFINITY;
}

void *hak_os_reserve_window(size_t size, size_t window) {
  if (size > window || os_fail(OS_F_MMAP)) return NULL;
  // PROT_NONE over-map of two windows, trimmed to the aligned one: address space only.
  uint8_t *raw = mmap(NULL, 2 * window, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  uint8_t *base = os_keep_aligned(raw, 2 * window, window, window);
  if (base && hak_os_commit(base, size) != 0) {
    munmap(base, window);
    return NULL;
  }
  return base;
}

int hak_os_commit(void *p, size_t size) {
  if (os_fail(OS_F_MMAP) || syscall(SYS_mprotect, p, size, PROT_READ | PROT_WRITE) != 0) return -1;
  HAK_TRACK_MAPPED(p, size);
  return 0;
}

void *hak_os_map_window(size_t size, size_t window) {
  // Over-map three windows and keep `size` bytes at the lowest aligned address: at least
  // one whole free window then lies above the window this one starts, and the kernel,
  // which places a mapping at the top of the highest gap that fits, puts the next ones
  // there, clear of the pages this mapping will grow into. Under a tight address-space
  // limit the plain aligned map (no room promised) is the fallback.
  if (size > window || 3 * window / 3 != window) return hak_os_map_aligned(size, window);
  uint8_t *raw = hak_os_map(3 * window);
  if (!raw) return hak_os_map_aligned(size, window);
  return os_keep_aligned(raw, 3 * window, window, size);
}

void hak_os_unmap(void *p, size_t size) {
  HAK_TRACK_MAPPED(p, size);
  if (os_munmap(p, size) != 0) hak_os_report_failure("munmap", p, size);
}

int hak_os_decommit(void *p, size_t size) {
  if (os_fail(OS_F_MADVISE)) errno = EINVAL;  // a sandbox that refuses madvise
  else if (madvise(p, size, MADV_DONTNEED) == 0) return 0;
  hak_os_report_failure("madvise", p, size);
  return -1;
}

void hak_os_hugepages(void *p, size_t size) { madvise(p, size, MADV_HUGEPAGE); }
void hak_os_hugepages_off(void *p, size_t size) { madvise(p, size, MADV_NOHUGEPAGE); }

// mincore of `pages` pages through syscall() (no new libc import); the callers ask the fault
// hook once per call of theirs. The vector starts zeroed: MSan does not see the kernel's writes.
static int os_mincore(const void *p, size_t pages, unsigned char *vec) {
  __builtin_memset(vec, 0, pages);
  return syscall(SYS_mincore, p, pages * HAK_OS_PAGE, vec) == 0 ? 0 : -1;
}

// mincore in chunks of 4096 pages (a 4 KiB vector on the stack).
long hak_os_resident_pages(void *p, size_t size) {
  unsigned char vec[4096];
  long resident = 0;
  if (os_fail(OS_F_MINCORE)) return -1;
  uint8_t *at = (uint8_t *)p, *end = at + size;
  while (at < end) {
    size_t chunk = (size_t)(end - at) < sizeof vec * HAK_OS_PAGE ? (size_t)(end - at) : sizeof vec * HAK_OS_PAGE;
    size_t pages = (chunk + HAK_OS_PAGE - 1) / HAK_OS_PAGE;
    if (os_mincore(at, pages, vec) != 0) return -1;
    for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
    at += chunk;
  }
  return resident;
}

// mincore answers for the resident pages in one call; only when some are not resident does
// /proc/self/pagemap say which of those are swapped out (bit 62) rather than never written.
// The file is opened for each call: a descriptor kept open would, after fork, read the
// parent's page tables, and a program that closes every descriptor could reuse its number
// for a file of its own. The entries start zeroed: MSan does not see the kernel's writes.
int hak_os_pages_absent(const void *p, size_t pages, uint64_t *absent) {
  unsigned char vec[HAK_OS_ABSENT_MAX];
  uint64_t ent[HAK_OS_ABSENT_MAX];
  if (pages > HAK_OS_ABSENT_MAX || ((uintptr_t)p & (HAK_OS_PAGE - 1))) return -1;
  for (size_t w = 0; w < (pages + 63) / 64; w++) absent[w] = 0;
  if (os_fail(OS_F_MINCORE) || os_mincore(p, pages, vec) != 0) return -1;
  size_t out = 0;
  for (size_t i = 0; i < pages; i++) out += !(vec[i] & 1);
  if (!out) return 0;
  if (os_fail(OS_F_PAGEMAP)) return -1;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  __builtin_memset(ent, 0, pages * sizeof ent[0]);
  long want = (long)(pages * sizeof ent[0]);
  long got = syscall(SYS_pread64, fd, ent, (size_t)want, (long)((uintptr_t)p / HAK_OS_PAGE * sizeof ent[0]));
  close(fd);
  if (got != want) return -1;
  const uint64_t present_or_swapped = (uint64_t)3 << 62;
  for (size_t i = 0; i < pages; i++)
    if (!(vec[i] & 1) && !(ent[i] & present_or_swapped)) absent[i / 64] |= (uint64_t)1 << (i % 64);
  return 0;
}

// The clock and the sleep. libc's clock_gettime only forwards to the kernel's vDSO, but
// importing it and nanosleep makes every process that preloads HAKMEM fault in a 64 KiB
// window of libc's text that most programs never touch (tests/imports_test.sh). So the
// vDSO's own entry is looked up once from the auxiliary vector, and a process without one
// (valgrind hides it) and the background thread's sleep use raw system calls. Sanitizer
// builds keep libc's calls, whose interceptors know what the kernel wrote.
#if defined(HAK_ASAN) || defined(HAK_TSAN) || defined(HAK_MSAN)
static void os_monotonic(struct timespec *ts) { clock_gettime(CLOCK_MONOTONIC, ts); }
static int os_nanosleep(struct timespec *ts) { return nanosleep(ts, ts); }
#else
typedef int (*os_clock_fn)(clockid_t, struct timespec *);

// strcmp, written out: libc's is an IFUNC import like the ones this avoids.
static int os_name_is(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

// __vdso_clock_gettime from the vDSO's dynamic symbol table (found through DT_HASH, whose
// chain count is the number of symbols), or NULL.
static os_clock_fn os_vdso_clock_lookup(void) {
  uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
  if (!base) return NULL;
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
  const ElfW(Dyn) *dyn = NULL;
  uintptr_t bias = 0;
  int loaded = 0;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && !loaded) {
      bias = base + ph[i].p_offset - ph[i].p_vaddr;
      loaded = 1;
    } else if (ph[i].p_type == PT_DYNAMIC) {
      dyn = (const ElfW(Dyn) *)(base + ph[i].p_offset);
    }
  }
  if (!loaded || !dyn) return NULL;
  const ElfW(Sym) *sym = NULL;
  const char *str = NULL;
  const uint32_t *hash = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) sym = (const ElfW(Sym) *)(bias + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) str = (const char *)(bias + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) hash = (const uint32_t *)(bias + dyn->d_un.d_ptr);
  }
  if (!sym || !str || !hash) return NULL;
  for (uint32_t i = 0; i < hash[1]; i++) {
    if (sym[i].st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC) continue;
    if (os_name_is(str + sym[i].st_name, "__vdso_clock_gettime")) return (os_clock_fn)(bias + sym[i].st_value);
  }
  return NULL;
}

// 0: not looked up yet; 1: no vDSO clock (system call); else the entry. Threads racing on
// the first call look up the same answer.
static _Atomic(uintptr_t) os_vdso_clock;

static void os_monotonic(struct timespec *ts) {
  uintptr_t f = atomic_load_explicit(&os_vdso_clock, memory_order_relaxed);
  if (f == 0) {
    os_clock_fn found = os_vdso_clock_lookup();
    f = found ? (uintptr_t)found : 1;
    atomic_store_explicit(&os_vdso_clock, f, memory_order_relaxed);
  }
  if (f == 1 || ((os_clock_fn)f)(CLOCK_MONOTONIC, ts) != 0) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts);
}

static int os_nanosleep(struct timespec *ts) { return (int)syscall(SYS_nanosleep, ts, ts); }
#endif

uint64_t hak_os_now_ms(void) {
  struct timespec ts;
  os_monotonic(&ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hak_os_now_ns(void) {
  struct timespec ts;
  os_monotonic(&ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hak_os_resize_inplace(void *p, size_t old_size, size_t new_size) {
  if (os_fail(OS_F_MREMAP)) return -1;
  void *q = mremap(p, old_size, new_size, 0);
  return q == p ? 0 : -1;
}

void *hak_os_move_to(void *p, size_t old_size, size_t new_size, void *dst) {
  if (os_fail(OS_F_MREMAP)) return NULL;
  void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  return q == MAP_FAILED ? NULL : q;
}

static size_t hak_os_proc_kb(const char *file, const char *key) {
  char buf[4096];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  size_t klen = 0;
  while (key[klen]) klen++;
  for (ssize_t i = 0; i + (ssize_t)klen < n; i++) {
    if ((i == 0 || buf[i - 1] == '\n')) {
      size_t k = 0;
      while (k < klen && buf[i + k] == key[k]) k++;
      if (k == klen) {
        size_t v = 0;
        for (ssize_t j = i + klen; j < n && buf[j] != '\n'; j++)
          if (buf[j] >= '0' && buf[j] <= '9') v = v * 10 + (size_t)(buf[j] - '0');
        return v;
      }
    }
  }
  return 0;
}

size_t hak_os_rss_bytes(void) { return hak_os_proc_kb("/proc/self/status", "VmRSS:") * 1024; }
size_t hak_os_peak_rss_bytes(void) { return hak_os_proc_kb("/proc/self/status", "VmHWM:") * 1024; }
size_t hak_os_lazyfree_bytes(void) { return hak_os_proc_kb("/proc/self/smaps_rollup", "LazyFree:") * 1024; }

int hak_os_gettid(void) { return (int)syscall(SYS_gettid); }

uint64_t hak_os_random64(void) {
  uint64_t v = 0;
  // getrandom(2) never blocks once the pool is ready; without it (old kernels, seccomp),
  // the kernel's 16 random bytes of the auxiliary vector, mixed so that the result is
  // neither of glibc's secrets made from them (stack guard, pointer guard).
  if (syscall(SYS_getrandom, &v, sizeof v, 0x1 /* GRND_NONBLOCK */) == (long)sizeof v && v) return v;
  const uint64_t *r = (const uint64_t *)getauxval(AT_RANDOM);
  uint64_t a = r ? r[0] : 0, b = r ? r[1] : 0;
  uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(uintptr_t)&v;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x;
}

int hak_os_thread_spawn(void *(*fn)(void *), const char *name) {
  if (os_fail(OS_F_THREAD)) return EAGAIN;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the new thread inherits the full mask
  pthread_attr_t attr;
  pthread_t th;
  int rc = pthread_attr_init(&attr);
  if (rc == 0) {
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    rc = pthread_create(&th, &attr, fn, NULL);
    pthread_attr_destroy(&attr);
    if (rc == 0 && name) pthread_setname_np(th, name);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

void hak_os_sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (os_nanosleep(&ts) != 0 && errno == EINTR) {
  }
}

int hak_os_mutex_held_by(void *m, int tid) {
  // Relaxed atomic: other threads write the field as they lock and unlock.
  return __atomic_load_n(&((pthread_mutex_t *)m)->__data.__owner, __ATOMIC_RELAXED) == tid;
}

int hak_os_thread_alive(int tid) {
  if (tid <= 0) return 0;
  int saved = errno;
  long rc = syscall(SYS_tgkill, (long)getpid(), (long)tid, 0L);
  int alive = rc == 0 || errno != ESRCH;
  errno = saved;
  return alive;
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

void hak_os_write_stderr(const char *s, size_t n) { write_all(2, s, n); }

static int report_fd = -1;
static dev_t report_dev;
static ino_t report_ino;

void hak_os_report_open(void) {
  struct stat st;
  int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return;
  }
  report_dev = st.st_dev;
  report_ino = st.st_ino;
  report_fd = fd;
}

void hak_os_report_write(const char *s, size_t n) {
  struct stat st;
  int fd = 2;
  if (report_fd >= 0 && fstat(report_fd, &st) == 0 && st.st_dev == report_dev && st.st_ino == report_ino)
    fd = report_fd;
  write_all(fd, s, n);
}

int hak_os_getpid(void) { return (int)getpid(); }

int hak_os_report_file(const char *pattern, const char *s, size_t n) {
  char path[4096];
  size_t k = 0;
  for (const char *p = pattern; *p && k + 24 < sizeof path; p++) {
    if (p[0] == '%' && p[1] == 'p') {
      k += hak_format(path + k, sizeof path - k, "%d", (int)getpid());
      p++;
    } else {
      path[k++] = *p;
    }
  }
  path[k] = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  write_all(fd, s, n);
  close(fd);
  return 0;
}

void hak_os_abort(void) { abort(); }
