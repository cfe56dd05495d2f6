/* exec: the worker's executor threads.
 *
 * A pool of `slots` threads, each joined to the main thread by its own
 * inproc PAIR socket. The main thread hands a thread one task at a time by
 * sending the task's pointer (exec_start) and gets the same pointer back when
 * the op has finished (exec_collect, when exec_socket(i) polls readable).
 * While a task is out, only the executor touches it, except its cancel flag,
 * which the main thread may set at any time (atomically). Threads share
 * nothing else but the cache, whose entries they hold while computing.
 * Executor threads run at the lowest CPU priority (idle_lower_priority), so
 * the desktop's owner never notices them.
 *
 * --max-cpu (worker.max_cpu, percent of one core per thread): each thread owns
 * an idle_throttle_t, ticked after every task and, through op_cancelled(), at
 * every cancellation check inside an op. Ops that check cancellation every
 * ~10 ms of work (tron, predict, summary) are therefore held to the cap over
 * any 100 ms window; work that never checks (liblinear's train() in the
 * average strategy) is capped only between tasks: it runs a whole task at
 * full speed, then the thread sleeps until the average is back under the cap
 * before it starts the next one.
 */
#ifndef NC_WORKER_EXEC_H
#define NC_WORKER_EXEC_H

#include "common/blob.h"
#include "common/proto.h"
#include "worker/cache.h"
#include "worker/idle.h"

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct exec_task {
    /* Filled by the main thread before exec_start. */
    proto_header_t hdr;
    char worker_id[PROTO_MAX_ID + 1]; /* routing id the task arrived on */
    zmq_msg_t body;                   /* the TASK body frame (moved, no copy) */
    blob_t *context;                  /* held reference or NULL */
    cache_entry_t *entry;             /* held shard entry or NULL */
    cache_t *cache;                   /* the worker's cache (an op covering several shards) */
    int cancel;                       /* atomic */
    /* Main thread only. */
    bool discard;              /* cancelled or handed back: send no result */
    struct treemsg_node *tree; /* owned: its place in a reduction tree, or NULL */
    struct exec_task *next;
    /* Filled by the executor. */
    int err_class; /* 0 or PROTO_ERR_* */
    char err[PROTO_MAX_ERROR];
    blob_t *result;            /* NULL = empty body */
    uint64_t rows;             /* atomic: rows processed so far */
    idle_throttle_t *throttle; /* the running thread's cap (NULL in exec_run callers) */
    int64_t start_ms, end_ms;
} exec_task_t;

/* New task with an empty body and nothing held; NULL on ENOMEM. */
exec_task_t *exec_task_new(void);
/* Releases everything the task holds and frees it. NULL-safe. */
void exec_task_free(exec_task_t **t);

typedef struct exec exec_t;

/* Starts n threads on zctx sharing cache (borrowed; must outlive the pool),
 * each capped at max_cpu percent of a core (0 or 100 = no cap).
 * NULL on failure with err. */
exec_t *exec_new(void *zctx, cache_t *cache, int n, int max_cpu, char *err, size_t errlen);

/* Stops and joins every thread. Running ops are not interrupted: set their
 * cancel flags first. Tasks still out are freed. NULL-safe. */
void exec_destroy(exec_t **e);

int exec_count(const exec_t *e);
/* Thread i's PAIR socket, for zmq_poll (ZMQ_POLLIN = a task came back). */
void *exec_socket(exec_t *e, int i);
/* The task thread i is running, or NULL when it is free. */
exec_task_t *exec_running(exec_t *e, int i);
/* Index of a free thread, or -1. */
int exec_free_slot(const exec_t *e);

/* Gives task t to free thread i (ownership passes until collected). -1 when
 * i is busy or the send failed. */
int exec_start(exec_t *e, int i, exec_task_t *t);
/* Runs t's op on the calling thread (for OP_INLINE ops and tests): fills
 * err_class, err, result and releases the body, context and entry. */
void exec_run(exec_task_t *t);

/* Takes back thread i's finished task (call when its socket is readable);
 * NULL when nothing was waiting. The caller owns the task. */
exec_task_t *exec_collect(exec_t *e, int i);

#endif
