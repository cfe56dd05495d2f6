/* sched: the master's scheduler — workers, leases, credits, liveness.
 *
 * The scheduler owns the three master sockets (ROUTER tasks, PULL results,
 * SUB heartbeats) and one event loop driven by zmq_poll. Drivers (training,
 * prediction, the dispatch benchmark) use it in rounds: submit a batch of
 * tasks, then sched_wait(), which runs the loop until every task of the batch
 * has exactly one accepted result, delivered to the driver's callback in the
 * order results arrive.
 *
 * Scheduling is pull-based: a worker announces `slots` in READY and the
 * scheduler keeps at most slots + prefetch leases on it, so fast PCs take
 * more tasks than slow ones. Every assignment is a lease (task id, attempt,
 * random nonce); a result is accepted only for a live lease of a task not yet
 * done, so late results after a requeue, duplicates from speculative copies
 * and forged results are dropped and counted. A worker silent for
 * liveness * heartbeat_ms is dead and its leases go back to the queue front.
 * When the queue is empty and a worker is idle, the oldest running task past
 * a straggler threshold runs a second time there; the first result wins and
 * the other lease is cancelled.
 *
 * Shards: a job may register a table of byte ranges of one file. A task that
 * names a shard is sent to the worker that holds it; if none does (first use,
 * or its holder died), the scheduler reads the range from the file and
 * attaches it, and that worker becomes the holder. The job context (an opaque
 * blob: data source, schema, model) is attached to a worker's first task of
 * each context version.
 */
#ifndef NC_SCHED_H
#define NC_SCHED_H

#include "common/blob.h"
#include "common/config.h"
#include "master/events.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sched sched_t;

typedef struct sched_shard {
    uint64_t offset, length; /* bytes of the job's file */
    uint64_t rows;
} sched_shard_t;

typedef struct sched_result {
    uint32_t task_id;
    uint32_t shard; /* PROTO_NO_SHARD when none */
    uint16_t op;
    uint32_t attempt;
    const void *data; /* borrowed: valid during the callback only */
    size_t len;
    const char *worker; /* name of the worker whose result won */
    int64_t start_us, end_us; /* monotonic: lease sent, result received */
} sched_result_t;

/* Called once per task; a negative return aborts sched_wait (returns -1). */
typedef int (*sched_result_fn)(void *arg, const sched_result_t *r);

typedef struct sched_counters {
    uint64_t tasks_done, tasks_failed, tasks_retried, tasks_speculative;
    uint64_t dropped_total;
    uint64_t dropped[16]; /* by kind, see sched_drop_kind_name() */
    uint64_t rows_processed;
    uint64_t workers_lost;
} sched_counters_t;

/* Binds the three sockets on cfg->master.ip. ev may be NULL. stop is polled
 * in the loop (set by the signal handler). NULL on failure (port in use...). */
sched_t *sched_new(void *zctx, const config_t *cfg, events_t *ev, volatile sig_atomic_t *stop,
                   char *err, size_t errlen);
void sched_destroy(sched_t **s);

/* Starts a job: later tasks carry job_id. file and shards may be NULL/0 when
 * tasks name no shard. The shard table is copied. */
int sched_begin_job(sched_t *s, uint32_t job_id, const char *file, const sched_shard_t *shards,
                    size_t nshards, char *err, size_t errlen);
/* Sets the job context sent to workers (copied; new version). */
int sched_set_context(sched_t *s, const void *ctx, size_t len);
/* Extra leases per worker beyond its slots (default 1). */
void sched_set_prefetch(sched_t *s, int prefetch);
/* Allows or forbids straggler copies (default on). */
void sched_set_speculation(sched_t *s, bool on);
/* Forgets the job's shards and holders (workers keep caches until told). */
void sched_end_job(sched_t *s);

/* Queues one task. body is referenced (not copied) and may be NULL. rows is
 * what the task covers, for progress. Returns the task id, 0 on ENOMEM. */
uint32_t sched_submit(sched_t *s, uint16_t op, uint32_t shard, blob_t *body, uint64_t rows);

/* Runs the loop until every submitted task is done. Returns 0; -1 when a task
 * failed for good or the callback aborted (err says why; *data_error is set
 * when a worker reported bad input data); -2 when stop was set. */
int sched_wait(sched_t *s, sched_result_fn fn, void *arg, bool *data_error, char *err,
               size_t errlen);

/* Runs the loop until n workers are alive or timeout_ms passes (-1 forever).
 * Returns 0, -1 on timeout, -2 on stop. */
int sched_wait_workers(sched_t *s, int n, int64_t timeout_ms);

/* Runs the loop for at most timeout_ms (serve mode between jobs). extra_sock
 * (may be NULL) is polled too; returns 1 when it is readable, 0 on timeout,
 * -2 on stop. */
int sched_poll(sched_t *s, int64_t timeout_ms, void *extra_sock);

int sched_live_workers(const sched_t *s);
int sched_total_slots(const sched_t *s);
void sched_get_counters(const sched_t *s, sched_counters_t *out);
const char *sched_drop_kind_name(int kind);

/* Progress of the current batch, for progress bars and events. */
typedef struct sched_progress {
    uint64_t tasks_done, tasks_total, rows_done, rows_total;
} sched_progress_t;
void sched_get_progress(const sched_t *s, sched_progress_t *out);

/* An extra socket polled by every loop iteration, during jobs too: fn(arg)
 * is called when it is readable (serve mode answers job submissions so). */
typedef void (*sched_aux_fn)(void *arg);
void sched_set_aux(sched_t *s, void *sock, sched_aux_fn fn, void *arg);

/* Called from the loop about once a second while sched_wait runs. */
typedef void (*sched_tick_fn)(void *arg);
void sched_set_tick(sched_t *s, sched_tick_fn fn, void *arg);

#endif
