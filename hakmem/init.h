// init.h — process-wide initialisation (config from environ, fork handlers, exit report).
// Safe to call from inside malloc: it never allocates and tolerates re-entry.
#ifndef HAKMEM_INIT_H
#define HAKMEM_INIT_H

#ifdef __cplusplus
extern "C" {
#endif

void hak_global_init(void);

#ifdef __cplusplus
}
#endif

#endif
