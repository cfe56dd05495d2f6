#include "worker/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cache_entry {
    uint32_t job, shard;
    blob_t *bytes;
    int refs; /* atomic: the cache's own reference while listed + holders */
    uint64_t last_use;
    pthread_mutex_t lock; /* held by the executor computing on this entry */
    void *state;
    void (*state_free)(void *);
};

typedef struct cache_job {
    uint32_t id;
    blob_t *context; /* NULL until one arrives */
    uint64_t last_use;
} cache_job_t;

struct cache {
    pthread_mutex_t lock;
    int max_jobs, njobs;
    size_t max_bytes, bytes;
    cache_job_t *jobs;
    cache_entry_t **shards;
    size_t nshards, cap;
    uint64_t tick; /* LRU clock: bumped on every use */
    uint64_t evicted;
};

static void entry_free(cache_entry_t *e) {
    if (e->state && e->state_free) e->state_free(e->state);
    blob_unref(&e->bytes);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void cache_release(cache_entry_t **ep) {
    cache_entry_t *e = *ep;
    *ep = NULL;
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) entry_free(e);
}

cache_t *cache_new(int max_jobs, size_t max_bytes) {
    if (max_jobs < 1) max_jobs = 1;
    cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->jobs = calloc((size_t)max_jobs, sizeof *c->jobs);
    if (!c->jobs) {
        free(c);
        return NULL;
    }
    c->max_jobs = max_jobs;
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

/* Unlists shard i (the caller holds c->lock); holders keep it alive. */
static void unlist_shard(cache_t *c, size_t i) {
    cache_entry_t *e = c->shards[i];
    c->bytes -= e->bytes->len;
    c->shards[i] = c->shards[--c->nshards];
    c->evicted++;
    cache_release(&e);
}

static void drop_job(cache_t *c, int j) {
    uint32_t id = c->jobs[j].id;
    for (size_t i = 0; i < c->nshards;) {
        if (c->shards[i]->job == id)
            unlist_shard(c, i);
        else
            i++;
    }
    blob_unref(&c->jobs[j].context);
    c->jobs[j] = c->jobs[--c->njobs];
}

void cache_clear(cache_t *c) {
    pthread_mutex_lock(&c->lock);
    while (c->njobs > 0)
        drop_job(c, 0);
    pthread_mutex_unlock(&c->lock);
}

void cache_destroy(cache_t **cp) {
    cache_t *c = *cp;
    *cp = NULL;
    if (!c) return;
    cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c->shards);
    free(c->jobs);
    free(c);
}

/* Finds or makes job id's slot, evicting the least recently used job when
 * full; marks it used. Caller holds c->lock. Never fails. */
static cache_job_t *touch_job(cache_t *c, uint32_t id) {
    for (int j = 0; j < c->njobs; j++) {
        if (c->jobs[j].id == id) {
            c->jobs[j].last_use = ++c->tick;
            return &c->jobs[j];
        }
    }
    if (c->njobs == c->max_jobs) {
        int oldest = 0;
        for (int j = 1; j < c->njobs; j++)
            if (c->jobs[j].last_use < c->jobs[oldest].last_use) oldest = j;
        drop_job(c, oldest);
    }
    cache_job_t *job = &c->jobs[c->njobs++];
    job->id = id;
    job->context = NULL;
    job->last_use = ++c->tick;
    return job;
}

int cache_put_context(cache_t *c, uint32_t job, blob_t *ctx) {
    pthread_mutex_lock(&c->lock);
    cache_job_t *j = touch_job(c, job);
    blob_unref(&j->context);
    j->context = blob_ref(ctx);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

blob_t *cache_get_context(cache_t *c, uint32_t job) {
    blob_t *b = NULL;
    pthread_mutex_lock(&c->lock);
    for (int j = 0; j < c->njobs; j++) {
        if (c->jobs[j].id == job && c->jobs[j].context) {
            c->jobs[j].last_use = ++c->tick;
            b = blob_ref(c->jobs[j].context);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return b;
}

static long find_shard(cache_t *c, uint32_t job, uint32_t shard) {
    for (size_t i = 0; i < c->nshards; i++)
        if (c->shards[i]->job == job && c->shards[i]->shard == shard) return (long)i;
    return -1;
}

/* Evicts least recently used shards, never keep, until under max_bytes. */
static void enforce_bytes(cache_t *c, const cache_entry_t *keep) {
    while (c->max_bytes && c->bytes > c->max_bytes) {
        long victim = -1;
        for (size_t i = 0; i < c->nshards; i++) {
            if (c->shards[i] == keep) continue;
            if (victim < 0 || c->shards[i]->last_use < c->shards[victim]->last_use)
                victim = (long)i;
        }
        if (victim < 0) break; /* the new shard alone is over the limit: keep it anyway */
        unlist_shard(c, (size_t)victim);
    }
}

int cache_put_shard(cache_t *c, uint32_t job, uint32_t shard, blob_t *bytes) {
    int rc = -1;
    cache_entry_t *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->job = job;
    e->shard = shard;
    e->refs = 1; /* the cache's */
    pthread_mutex_init(&e->lock, NULL);

    pthread_mutex_lock(&c->lock);
    if (c->nshards == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        cache_entry_t **n = realloc(c->shards, ncap * sizeof *n);
        if (!n) goto out;
        c->shards = n;
        c->cap = ncap;
    }
    touch_job(c, job);
    long old = find_shard(c, job, shard);
    if (old >= 0) unlist_shard(c, (size_t)old);
    e->bytes = blob_ref(bytes);
    e->last_use = ++c->tick;
    c->shards[c->nshards++] = e;
    c->bytes += bytes->len;
    enforce_bytes(c, e);
    e = NULL;
    rc = 0;
out:
    pthread_mutex_unlock(&c->lock);
    if (e) {
        pthread_mutex_destroy(&e->lock);
        free(e);
    }
    return rc;
}

cache_entry_t *cache_acquire(cache_t *c, uint32_t job, uint32_t shard) {
    cache_entry_t *e = NULL;
    pthread_mutex_lock(&c->lock);
    long i = find_shard(c, job, shard);
    if (i >= 0) {
        e = c->shards[i];
        e->last_use = ++c->tick;
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
        for (int j = 0; j < c->njobs; j++)
            if (c->jobs[j].id == job) c->jobs[j].last_use = c->tick;
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

const void *cache_entry_data(const cache_entry_t *e, size_t *len) {
    *len = e->bytes->len;
    return e->bytes->data;
}

void cache_entry_lock(cache_entry_t *e) {
    pthread_mutex_lock(&e->lock);
}

void cache_entry_unlock(cache_entry_t *e) {
    pthread_mutex_unlock(&e->lock);
}

void *cache_entry_state(const cache_entry_t *e) {
    return e->state;
}

void cache_entry_set_state(cache_entry_t *e, void *state, void (*free_fn)(void *)) {
    if (e->state && e->state_free && e->state != state) e->state_free(e->state);
    e->state = state;
    e->state_free = free_fn;
}

void cache_get_stats(cache_t *c, cache_stats_t *out) {
    pthread_mutex_lock(&c->lock);
    out->jobs = c->njobs;
    out->shards = c->nshards;
    out->bytes = c->bytes;
    out->evicted = c->evicted;
    pthread_mutex_unlock(&c->lock);
}
