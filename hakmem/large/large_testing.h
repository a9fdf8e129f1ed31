// large_testing.h — what only the tests call into the large tier (a testonly target): the
// huge-page switch is one-way and per process, so a test that teaches it must be able to
// forget what earlier tests taught.
#ifndef HAKMEM_LARGE_LARGE_TESTING_H
#define HAKMEM_LARGE_LARGE_TESTING_H

#ifdef __cplusplus
extern "C" {
#endif

// Forgets what was learned (mappings keep their hint).
void large_hugepages_relearn(void);

#ifdef __cplusplus
}
#endif

#endif
