/* cache: what a worker keeps between tasks — each job's context and shards.
 *
 * The master sends a job's context (data source, schema, model: opaque bytes)
 * and each shard's raw bytes once, then names them in later tasks. The cache
 * holds them by job id:
 *   - one context per job; a new one replaces the old;
 *   - shards by (job, shard index); a new copy replaces the old;
 *   - at most max_jobs jobs: storing anything for a new job evicts the least
 *     recently used job with all its shards (jobs run one after the other, so
 *     an older job's shards are dead weight);
 *   - optionally at most max_bytes of shard data: past it the least recently
 *     used shards go (the master resends a shard we answer NOSHARD for).
 *
 * Entries are shared with the executor threads, so they are reference counted:
 * cache_acquire() returns a held entry that stays valid (bytes and derived
 * state) after it is replaced or evicted, until cache_release(). Each entry
 * carries a mutex that an executor holds while an op computes on it, and a
 * slot for op-specific derived state (a parsed dataset, say) with the
 * destructor that frees it when the entry dies.
 *
 * Every function is thread-safe. Functions that can fail return 0/-1 or NULL.
 */
#ifndef NC_WORKER_CACHE_H
#define NC_WORKER_CACHE_H

#include "common/blob.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cache cache_t;
typedef struct cache_entry cache_entry_t;

/* New empty cache keeping at most max_jobs (>= 1) jobs and max_bytes of shard
 * data (0 = no byte limit). NULL on ENOMEM. */
cache_t *cache_new(int max_jobs, size_t max_bytes);

/* Drops the cache's references; entries still held by executors live on
 * until released. NULL-safe; sets *c to NULL. */
void cache_destroy(cache_t **c);

/* Forgets every job (a new master identity: ids may be reused). */
void cache_clear(cache_t *c);

/* Sets job's context to ctx (the cache takes its own reference; the caller
 * keeps its own). -1 on ENOMEM. */
int cache_put_context(cache_t *c, uint32_t job, blob_t *ctx);

/* Returns a new reference to job's context (caller blob_unref()s it), or NULL
 * when the cache has none. */
blob_t *cache_get_context(cache_t *c, uint32_t job);

/* Stores bytes as (job, shard), replacing any older copy (the cache takes its
 * own reference). -1 on ENOMEM. */
int cache_put_shard(cache_t *c, uint32_t job, uint32_t shard, blob_t *bytes);

/* Returns the entry for (job, shard) held for the caller, or NULL when absent.
 * Release it with cache_release(). */
cache_entry_t *cache_acquire(cache_t *c, uint32_t job, uint32_t shard);

/* Gives back a held entry; frees it (state destructor, bytes) when it was the
 * last holder of an entry no longer in the cache. NULL-safe; sets *e NULL. */
void cache_release(cache_entry_t **e);

/* The shard's raw bytes (borrowed from the entry, valid while held). */
const void *cache_entry_data(const cache_entry_t *e, size_t *len);

/* Exclusive use of the entry's derived state while computing. */
void cache_entry_lock(cache_entry_t *e);
void cache_entry_unlock(cache_entry_t *e);

/* Derived state: read or replace it with the entry locked. Setting a new state
 * frees the old one with its destructor. free_fn may be NULL. */
void *cache_entry_state(const cache_entry_t *e);
void cache_entry_set_state(cache_entry_t *e, void *state, void (*free_fn)(void *));

/* Figures for logs and tests. */
typedef struct cache_stats {
    int jobs;
    size_t shards;
    size_t bytes;     /* shard bytes held by the cache (not by executors) */
    uint64_t evicted; /* shards dropped by eviction or replacement */
} cache_stats_t;
void cache_get_stats(cache_t *c, cache_stats_t *out);

#endif
