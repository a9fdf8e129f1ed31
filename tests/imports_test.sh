#!/usr/bin/env bash
# libhakmem.so imports only the libc symbols listed here. Every process that preloads the
# library pays for its imports in resident memory: the library is linked with BIND_NOW, so
# the dynamic linker resolves each import at load time, and an IFUNC import (memcpy's
# fortified twin __memcpy_chk, say) runs a resolver that faults in a 64 KiB window of
# libc's text the program itself may never touch. A new import is added to the list only
# after `peak_rss` of a small program (the peer suite's glibc-simple) is measured with it.
#   imports_test.sh <libhakmem.so>
set -eu
lib=$1
allowed="__cxa_atexit __errno_location __register_atfork __stack_chk_fail abort close
dlsym environ fcntl getauxval fflush fputs fstat getpid madvise memcpy memset mmap mremap munmap
open pthread_attr_destroy pthread_attr_init pthread_attr_setdetachstate pthread_attr_setstacksize
pthread_create pthread_key_create pthread_mutex_init pthread_mutex_lock pthread_mutex_trylock
pthread_mutex_unlock pthread_once pthread_setcancelstate pthread_setname_np pthread_setspecific
pthread_sigmask read sched_yield sigfillset stderr strlen strstr syscall sysconf write"
# Strong imports only ("U"): a weak one (w, v) is bound only if something else loaded it.
imports=$(nm -D --undefined-only "$lib" | awk '$1 == "U" {print $2}' | sed 's/@.*//' | sort -u)
[ -n "$imports" ] || { echo "imports_test: nm found no imports in $lib"; exit 1; }
bad=0
for s in $imports; do
  case " $(echo $allowed) " in
    *" $s "*) ;;
    *) echo "imports_test: $lib imports '$s', which is not in the list (each import may cost resident libc text in every process)"; bad=1 ;;
  esac
done
[ $bad = 0 ] && echo "imports_test: $(echo "$imports" | wc -l) imports, all listed"
exit $bad
