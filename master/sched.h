/* sched: the master's scheduler — workers, leases, credits, liveness.
 *
 * The scheduler owns the three master sockets (ROUTER tasks, PULL results,
 * SUB heartbeats) and one event loop driven by zmq_poll. Job drivers
 * (training, prediction) use it in rounds: sched_round() sends one task per
 * shard of the job (or per shard of a chosen set), runs the loop until every
 * task has exactly one accepted result, and gives the results back indexed by
 * shard, as data. A grouped round (exact training) sends each worker one task
 * per slot over the shards it holds instead, so that the worker adds its
 * shards' parts and the master receives one answer per slot, not per shard. A result that must not
 * wait for the others (prediction lines on their way to the ordered writer) goes to the round's
 * sink as it arrives instead, so the master holds none of them. The dispatch benchmark, whose tasks
 * name no shard, uses the lower sched_submit() + sched_wait().
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
#include "common/split.h"
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
    const char *worker;       /* name of the worker whose result won */
    int64_t start_us, end_us; /* monotonic: lease sent, result received */
} sched_result_t;

/* Called once per task; a negative return aborts the wait (it returns -1). */
typedef int (*sched_result_fn)(void *arg, const sched_result_t *r);

typedef struct sched_counters {
    uint64_t tasks_done, tasks_failed, tasks_retried, tasks_speculative;
    uint64_t dropped_total;
    uint64_t dropped[16]; /* by kind, see sched_drop_kind_name() */
    uint64_t rows_processed;
    uint64_t workers_lost;
    uint64_t bytes_sent;     /* task frames: bodies, contexts, shards */
    uint64_t bytes_received; /* result and failure bodies */
    uint64_t msgs_received;  /* results and failures */
    uint64_t tree_rounds;    /* rounds summed by a reduction tree */
    uint64_t tree_direct;    /* tree nodes whose parts were then asked directly */
} sched_counters_t;

/* Binds the three sockets on cfg->master.ip. ev may be NULL. stop is polled
 * in the loop (set by the signal handler). NULL on failure (port in use...). */
sched_t *sched_new(void *zctx, const config_t *cfg, events_t *ev, volatile sig_atomic_t *stop,
                   char *err, size_t errlen);
void sched_destroy(sched_t **s);

/* Starts a job: its events carry job_id (the run id); its tasks carry a wire
 * id of their own, unique to this master process (a random base drawn by
 * sched_new() plus a count), so that a worker that cached run 1 of another
 * master or history database never reuses it. file and shards may be NULL/0 when
 * tasks name no shard. The shard table is copied. */
int sched_begin_job(sched_t *s, uint32_t job_id, const char *file, const sched_shard_t *shards,
                    size_t nshards, char *err, size_t errlen);
/* sched_begin_job() with the shards of a split of file (common/split.h). */
int sched_begin_split(sched_t *s, uint32_t job_id, const char *file, const split_t *sp, char *err,
                      size_t errlen);
/* Sets the job context sent to workers (a new version): ctx (from malloc,
 * len bytes) is the scheduler's from now on, freed by it, on failure too;
 * a context that carries a file's rows is not copied again. */
int sched_set_context(sched_t *s, void *ctx, size_t len);
/* Extra leases per worker beyond its slots (default 1). */
void sched_set_prefetch(sched_t *s, int prefetch);
/* Allows or forbids straggler copies (default on). */
void sched_set_speculation(sched_t *s, bool on);
/* Forgets the job's shards and holders (workers keep caches until told). */
void sched_end_job(sched_t *s);

/* ---- rounds: one task per shard, results by shard ---- */

/* One shard's answer in a round. */
typedef struct sched_answer {
    blob_t *data;    /* the result's bytes (owned by the round); NULL when the shard
                      * had no task or its result went to the sink */
    char worker[65]; /* the worker whose result won ("" when none) */
} sched_answer_t;

/* A sink takes shard's result as it arrives (data borrowed for the call).
 * A negative return fails the round (the sink keeps its own reason). */
typedef int (*sched_sink_fn)(void *arg, uint32_t shard, const void *data, size_t len,
                             const char *worker);

/* Grouped rounds: the body of a task over shards[0..n-1] (ascending), which
 * the worker sums over. full: the worker may lack the cached state of the
 * group (its first task there, or it asked with PROTO_ERR_NEEDPOINT), so the
 * body must carry everything. NULL fails the round (out of memory). */
typedef blob_t *(*sched_body_fn)(void *arg, const uint32_t *shards, size_t n, bool full);
/* Grouped rounds: the answer for shards[0..n-1], data borrowed for the call.
 * A negative return fails the round (the sink keeps its own reason). */
typedef int (*sched_group_sink_fn)(void *arg, const uint32_t *shards, size_t n, const void *data,
                                   size_t len, const char *worker);

typedef struct sched_round {
    /* Filled by the caller. */
    uint16_t op;
    blob_t *body;          /* every shard's task body (referenced) unless bodies is set */
    blob_t *const *bodies; /* bodies[i]: shard i's body (referenced); a NULL entry: no task */
    sched_sink_fn sink;    /* may be NULL: results are kept in answers */
    void *sink_arg;
    /* Grouped instead (body, bodies, sink unused): one task per slot of each
     * worker over the shards it holds, one task per shard nobody holds; a
     * group whose worker is lost is split into single-shard tasks. */
    sched_body_fn group_body;
    sched_group_sink_fn group_sink;
    void *group_arg;
    /* Grouped rounds as a reduction tree (common/treemsg.h) when tree_fanin
     * is 2 or more: the workers add their answers up the tree and the sink
     * gets the root's sum once (shards: the root's group), then one answer
     * per task whose part the root's sum lacks. Needs two or more tasks on
     * known workers, each with a tree port; otherwise the round is star. */
    uint32_t tree_fanin;
    uint32_t tree_wait_ms; /* a node waits this long per level below it */
    /* Filled by sched_round(); released by sched_round_free(). */
    sched_answer_t *answers; /* one per shard of the job */
    size_t nshards;
    bool data_error; /* the round failed on a worker's report of bad input data */
} sched_round_t;

/* Runs one round over the shards of the current job (sched_begin_job): one
 * task of r->op per shard (per non-NULL bodies entry), each covering that
 * shard's rows for progress. Every task has exactly one accepted result,
 * given to r->sink or kept in r->answers[shard]. Returns 0; -1 when a task
 * failed for good or memory ran out (err says why; r->data_error tells a
 * data error) or the sink refused a result (err untouched: the sink has its
 * own reason); -2 when stop was set. Call
 * sched_round_free() afterwards in every case. */
int sched_round(sched_t *s, sched_round_t *r, char *err, size_t errlen);

/* Frees the answers of a round (safe on a zeroed or freed round). */
void sched_round_free(sched_round_t *r);

/* ---- tasks without shards (the dispatch benchmark) ---- */

/* Queues one task. body is referenced (not copied) and may be NULL. rows is
 * what the task covers, for progress. Returns the task id, 0 on ENOMEM. */
uint32_t sched_submit(sched_t *s, uint16_t op, uint32_t shard, blob_t *body, uint64_t rows);

/* Runs the loop until every submitted task is done, handing each result to fn
 * in the order results arrive. Returns 0; -1 when a task failed for good or
 * fn aborted (err says why; *data_error is set when a worker reported bad
 * input data); -2 when stop was set. */
int sched_wait(sched_t *s, sched_result_fn fn, void *arg, bool *data_error, char *err,
               size_t errlen);

/* Runs the loop until n workers are alive or timeout_ms passes (-1 forever).
 * Returns 0, -1 on timeout, -2 on stop. */
int sched_wait_workers(sched_t *s, int n, int64_t timeout_ms);

/* Runs the loop for timeout_ms (serve mode between jobs, waiting for a
 * FIFO's reader). Returns 0, or -2 on stop. */
int sched_poll(sched_t *s, int64_t timeout_ms);

/* Cancels the current job (serve mode: POST /api/jobs/ID/cancel): from now
 * on every loop (sched_round, sched_wait, sched_wait_workers, sched_poll)
 * returns -2 as on a stop, and a round cancels its outstanding leases (the
 * workers get CANCEL). The flag stays set until sched_cancel(s, false),
 * which the next job's start calls (master_run_job). */
void sched_cancel(sched_t *s, bool on);
bool sched_cancelled(const sched_t *s);

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

/* Called from the loop about once a heartbeat. Only master/progress.c sets
 * and clears it (progress_init, progress_finish): the job's display. */
typedef void (*sched_tick_fn)(void *arg);
void sched_set_tick(sched_t *s, sched_tick_fn fn, void *arg);

#endif
