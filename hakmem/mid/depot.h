// depot.h — the mid tier's global depot: bundles of free blocks shared by all threads.
//
// A thread whose cache of a mid class (1–64 KiB blocks) overflows hands half of it to the
// depot as one bundle instead of walking the blocks back to their slabs; a thread that
// misses takes bundles from the depot before it touches a slab. Blocks of other threads'
// slabs thus change hands without remote frees, and a producer/consumer pair recycles the
// same blocks through the depot.
//
// Layout: per class, MID_DEPOT_NSHARDS shards of MID_DEPOT_SLOTS slots; a slot holds one bundle (a
// NULL-terminated chain; the head's second word holds the length). put = CAS of an empty
// slot to the bundle, get = exchange of a full slot with NULL. Neither dereferences a block
// it does not own, so there is no ABA and no lock. A thread starts at its heap's shard (heap
// number mod MID_DEPOT_NSHARDS) and steals from the others. A byte budget (HAKMEM_MID_DEPOT_BYTES) bounds what the depot
// may hold; malloc_trim empties it.
#ifndef HAKMEM_MID_DEPOT_H
#define HAKMEM_MID_DEPOT_H

#include <stddef.h>
#include <stdint.h>

#include "hakmem/tiny/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MID_DEPOT_NSHARDS 4
#define MID_DEPOT_SLOTS 8

// Hands the bundle head (n blocks of class c, free headers, NULL-terminated) to the depot;
// seq is the number of the heap it comes from. Returns 0, keeping nothing, when the budget
// or every slot is full.
int mid_depot_put(unsigned c, void *head, uint32_t n, uint32_t seq);
// Takes one bundle of class c; returns its length (0: depot empty for c).
uint32_t mid_depot_get(unsigned c, uint32_t seq, void **head);
// Calls fn on every bundle (the checker: the caller makes sure nobody puts or gets).
// Decay step (decay.h, registered by band.c): every bundle of a class no thread put or took
// a bundle of for age_ms goes back to its slabs. Returns the bytes still held.
size_t mid_depot_decay(uint64_t now_ms, uint64_t age_ms);
void mid_depot_foreach(void (*fn)(unsigned c, void *head, uint32_t n, void *arg), void *arg);

// Fork child (lifecycle.c, single-threaded): the counters become what the slots hold.
void mid_depot_fork_child(void);

typedef struct {
  uint64_t blocks, bytes;        // held now
  uint64_t puts, gets, refused;  // events
} mid_depot_stats_t;
void mid_depot_stats_get(mid_depot_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif
