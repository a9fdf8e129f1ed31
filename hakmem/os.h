// os.h — the only place HAKMEM talks to the kernel (mmap, madvise, mremap, write, /proc).
// Every other box calls hak_os_*; porting HAKMEM means rewriting os.c only.
#ifndef HAKMEM_OS_H
#define HAKMEM_OS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Anonymous read-write mapping; NULL on failure. Memory is zero-filled.
void *hak_os_map(size_t size);
// Like hak_os_map, but the result is aligned to `align` (a power of two >= page size).
void *hak_os_map_aligned(size_t size, size_t align);
// Whether the process runs under an address-space limit (RLIMIT_AS, `ulimit -v`).
int hak_os_address_space_limited(void);
// Reserves `window` bytes aligned to `window` without memory (PROT_NONE, counted in VmSize
// and against RLIMIT_AS only) and makes the first `size` bytes usable; NULL on failure.
// hak_os_commit makes more of it usable (0, or -1 when the kernel refused); the whole
// window goes back with hak_os_unmap(base, window).
void *hak_os_reserve_window(size_t size, size_t window);
int hak_os_commit(void *p, size_t size);
// Like hak_os_map_aligned(size, window) for a mapping that will grow in place up to
// `window` bytes: the free address space above it at the time of the call is left for the
// next mappings, so they do not land in the pages it will grow into.
void *hak_os_map_window(size_t size, size_t window);
// Maps exactly [addr, addr + size) if nothing is mapped there (MAP_FIXED_NOREPLACE), else
// NULL: for growing a mapping in place.
void *hak_os_map_at(void *addr, size_t size);
// Unmaps; a failure is reported (one line) and counted, never ignored.
void hak_os_unmap(void *p, size_t size);
void hak_os_report_failure(const char *call, const void *p, size_t size);
// Fault injection (builds with --//cfg:fault_injection only; elsewhere -1 and 0):
// "call:n/d,..." with call one of mmap, munmap, madvise, mremap, thread, mincore, pagemap makes n of every d
// such calls fail; "" turns it off. -1 for a malformed spec (nothing changes). Set from
// HAKMEM_FAULT by config.c, or directly by a test.
int hak_os_fault_set(const char *spec);
unsigned long hak_os_faults_injected(void);
// Number of OS calls that failed to release memory so far.
unsigned long hak_os_failures(void);
// Give pages back to the kernel but keep the range mapped (reads return zeros afterwards).
// 0 on success; -1 (reported in one line, counted) when the kernel refused: then the
// pages keep their contents, and the caller must go on treating them as dirty.
int hak_os_decommit(void *p, size_t size);
// Ask for transparent huge pages on a 2 MiB-aligned range (a hint; ignored where THP is off).
void hak_os_hugepages(void *p, size_t size);
// Withdraws that hint (MADV_NOHUGEPAGE; tests that learn it again).
void hak_os_hugepages_off(void *p, size_t size);
// How many pages of the page-aligned range [p, p + size) are resident (mincore); -1 when
// the kernel cannot say. Slow: one call per 16 MiB.
long hak_os_resident_pages(void *p, size_t size);
// Which pages of the page-aligned range of `pages` pages (at most HAK_OS_ABSENT_MAX) from p,
// in a private anonymous mapping, hold nothing: never written since they were mapped or
// decommitted (neither resident nor swapped out), so they read as zeros. Sets bit i of
// absent[] for each such page and returns 0; -1 when the kernel cannot say (no /proc, a
// refusal, an injected fault), and then nothing may be assumed. Slow: two or four calls.
#define HAK_OS_ABSENT_MAX 256
int hak_os_pages_absent(const void *p, size_t pages, uint64_t *absent);
// Monotonic clock in milliseconds / nanoseconds (vDSO; for the learner and timing only).
uint64_t hak_os_now_ms(void);
uint64_t hak_os_now_ns(void);
// Whether thread tid (hak_os_gettid) holds mutex m: glibc records a normal mutex's owner on
// lock. For fork handlers: a signal handler that forks may have interrupted its thread
// inside the allocator.
int hak_os_mutex_held_by(void *m, int tid);
// Try to resize a mapping in place; returns 0 on success.
int hak_os_resize_inplace(void *p, size_t old_size, size_t new_size);
// Move a mapping onto dst, a mapping of new_size the caller reserved (hak_os_map_aligned):
// the pages move, nothing is copied. Returns dst, or NULL with both mappings unchanged.
void *hak_os_move_to(void *p, size_t old_size, size_t new_size, void *dst);
// Resident set size of this process in bytes (0 if unknown). Not for hot paths.
size_t hak_os_rss_bytes(void);
// Peak resident set size (VmHWM) in bytes (0 if unknown).
size_t hak_os_peak_rss_bytes(void);
// Pages freed with MADV_FREE not yet reclaimed (LazyFree in smaps_rollup), in bytes.
size_t hak_os_lazyfree_bytes(void);
// 64 random bits from the kernel (getrandom, else AT_RANDOM): the free-list key.
uint64_t hak_os_random64(void);
// Kernel id of the calling thread (a syscall: thread set-up only).
int hak_os_gettid(void);
// Starts a detached thread running fn with every signal blocked (so it never takes a
// signal meant for the program); 0 on success.
int hak_os_thread_spawn(void *(*fn)(void *), const char *name);
// Sleeps for ms milliseconds (a background thread only).
void hak_os_sleep_ms(unsigned ms);
// Whether thread `tid` of this process still exists (a syscall: maintenance paths only).
int hak_os_thread_alive(int tid);
void hak_os_write_stderr(const char *s, size_t n);
// The exit report's channel: a close-on-exec copy of stderr taken at start-up, so a program
// that closes fd 2 before exit (xz, sort and other coreutils do) still gets its report.
// Writes there only while the copy still names the file it named when taken (a program
// may have closed every fd and opened another in its place); falls back to fd 2, which is
// also all it does when no copy was taken (HAKMEM_STATS unset). hak_stats_print writes here.
void hak_os_report_open(void);
void hak_os_report_write(const char *s, size_t n);
// Writes a report to the file `pattern` names, "%p" replaced by the pid (created or
// truncated, 0644); -1 when it cannot be opened (the caller falls back to stderr).
int hak_os_report_file(const char *pattern, const char *s, size_t n);
int hak_os_getpid(void);
__attribute__((noreturn)) void hak_os_abort(void);

#ifdef __cplusplus
}
#endif

#endif
