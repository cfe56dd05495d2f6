/* ops: the table of task operations a worker can run.
 *
 * An op is a function from (job context, shard, task body) to a result body.
 * It runs on an executor thread, with the shard's cache entry locked for it,
 * so it may build and keep derived state on the entry (a parsed dataset, a
 * liblinear problem) for later tasks on the same shard. It must check
 * op_cancelled() often enough to stop within about 10 ms of work, and report
 * the rows it processed with op_add_rows() (heartbeats show rows/s).
 *
 * Adding an op without editing this module: write worker/op_NAME.c that
 * includes this header and defines (not const, not static)
 *     op_def_t op_NAME_def = {.name = "NAME", .fn = ..., .needs = ...};
 * for one of the names declared below. ops.c declares those names as common
 * symbols: the linker then pulls op_NAME.o out of libworker.a when it exists
 * (a weak reference would not: archive members are never extracted for weak
 * symbols), and when it does not the symbol is zero and the op answers FAIL
 * "not supported by this worker" (PROTO_ERR_INTERNAL, so another worker may
 * run it).
 */
#ifndef NC_WORKER_OPS_H
#define NC_WORKER_OPS_H

#include "common/blob.h"
#include "worker/cache.h"
#include "worker/idle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct op_ctx {
    uint32_t job_id, task_id, attempt, shard; /* shard: PROTO_NO_SHARD when none */
    const void *context; /* the job's context bytes; NULL when the job has none */
    size_t context_len;
    cache_entry_t *entry;      /* the shard (locked for the op); NULL when no shard */
    cache_t *cache;            /* the worker's cache: an op over a group of shards
                                * acquires and locks the others itself, in
                                * ascending shard order, after ctx->shard */
    const int *cancel;         /* atomic; read it with op_cancelled() */
    uint64_t *rows;            /* atomic; add to it with op_add_rows() */
    idle_throttle_t *throttle; /* the executor thread's --max-cpu cap; NULL = none */
} op_ctx_t;

/* Returns 0, or a PROTO_ERR_* class with a one-line reason in err. On 0,
 * *result is the result body (caller owns it; NULL means empty). */
typedef int (*op_fn_t)(op_ctx_t *ctx, const void *body, size_t len, blob_t **result, char *err,
                       size_t errlen);

#define OP_NEEDS_CONTEXT 0x1 /* missing context -> FAIL NOSHARD before the op runs */
#define OP_NEEDS_SHARD 0x2   /* a task without a shard is bad data */
#define OP_INLINE                                                                                  \
    0x4 /* microseconds of work: run on the main thread, skipping the                              \
         * executor hand-off (NOOP: the dispatch benchmark) */

typedef struct op_def {
    const char *name;
    op_fn_t fn;
    unsigned needs; /* OP_NEEDS_* */
} op_def_t;

/* Defined by their own files (see above); zero when absent. */
extern op_def_t op_summary_def;
extern op_def_t op_tron_def;
extern op_def_t op_predict_def;
extern op_def_t op_train_def;
extern op_def_t op_classes_def;
extern op_def_t op_export_def;

/* Test seams (NC_TEST_TRON_DELAY_MS for training tasks,
 * NC_TEST_PREDICT_DELAY_MS for OP_PREDICT): sleeps that long, in cancellable
 * steps, at a task's end; nothing when unset. */
typedef enum { OP_DELAY_TRON, OP_DELAY_PREDICT } op_delay_t;
void op_test_delay(op_ctx_t *ctx, op_delay_t which);

/* The definition for op, or NULL when this worker cannot run it. */
const op_def_t *ops_lookup(uint16_t op);

/* Name for logs ("noop", "sleep", ... or "op?"). */
const char *ops_name(uint16_t op);

/* Also the --max-cpu hook: every cancellation check ticks the thread's
 * throttle, so an op that checks as often as it must (every ~10 ms of work)
 * is capped at that granularity without knowing about the cap. */
static inline bool op_cancelled(const op_ctx_t *ctx) {
    if (ctx->throttle) idle_throttle_tick(ctx->throttle);
    return __atomic_load_n(ctx->cancel, __ATOMIC_RELAXED) != 0;
}

static inline void op_add_rows(op_ctx_t *ctx, uint64_t n) {
    __atomic_add_fetch(ctx->rows, n, __ATOMIC_RELAXED);
}

/* The shard's raw bytes; NULL (and *len 0) when the task has no shard. */
const void *op_shard_data(const op_ctx_t *ctx, size_t *len);

#endif
