// init.h — process-wide initialisation (config from environ, fork handlers, exit report).
// Safe to call from inside malloc: it never allocates and tolerates re-entry.
#ifndef HAKMEM_INIT_H
#define HAKMEM_INIT_H

void hak_global_init(void);

#endif
