#include "worker/exec.h"

#include "common/clock.h"
#include "common/log.h"
#include "worker/idle.h"
#include "worker/ops.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct exec_thread {
    exec_t *pool;
    int index;
    void *main_end; /* main thread's PAIR */
    void *exec_end; /* executor's PAIR (used only by the thread) */
    pthread_t tid;
    bool started;
    exec_task_t *running;     /* main thread's view: the task out on this thread */
    idle_throttle_t throttle; /* the thread's own; initialised by it */
} exec_thread_t;

struct exec {
    cache_t *cache;
    int n;
    int max_cpu;
    exec_thread_t *t;
};

exec_task_t *exec_task_new(void) {
    exec_task_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    zmq_msg_init(&t->body);
    return t;
}

void exec_task_free(exec_task_t **tp) {
    exec_task_t *t = *tp;
    *tp = NULL;
    if (!t) return;
    zmq_msg_close(&t->body);
    blob_unref(&t->context);
    cache_release(&t->entry);
    blob_unref(&t->result);
    free(t->tree);
    free(t);
}

void exec_run(exec_task_t *t) {
    const op_def_t *def = ops_lookup(t->hdr.op);
    t->start_ms = clock_now_ms();
    if (!def) {
        t->err_class = PROTO_ERR_INTERNAL;
        snprintf(t->err, sizeof t->err, "op %u (%s) is not supported by this worker", t->hdr.op,
                 ops_name(t->hdr.op));
        goto out;
    }
    if ((def->needs & OP_NEEDS_CONTEXT) && !t->context) {
        t->err_class = PROTO_ERR_NOSHARD;
        snprintf(t->err, sizeof t->err, "no context for job %u", t->hdr.job_id);
        goto out;
    }
    if ((def->needs & OP_NEEDS_SHARD) && !t->entry) {
        t->err_class = PROTO_ERR_DATA;
        snprintf(t->err, sizeof t->err, "op %s needs a shard", def->name);
        goto out;
    }
    op_ctx_t ctx = {.job_id = t->hdr.job_id,
                    .task_id = t->hdr.task_id,
                    .attempt = t->hdr.attempt,
                    .shard = t->hdr.shard,
                    .context = t->context ? t->context->data : NULL,
                    .context_len = t->context ? t->context->len : 0,
                    .entry = t->entry,
                    .cache = t->cache,
                    .cancel = &t->cancel,
                    .rows = &t->rows,
                    .throttle = t->throttle};
    if (t->entry) cache_entry_lock(t->entry);
    t->err[0] = '\0';
    t->err_class = def->fn(&ctx, zmq_msg_data(&t->body), zmq_msg_size(&t->body), &t->result, t->err,
                           sizeof t->err);
    if (t->entry) cache_entry_unlock(t->entry);
    if (t->err_class != 0) {
        blob_unref(&t->result);
        if (t->err_class != PROTO_ERR_DATA && t->err_class != PROTO_ERR_NOSHARD &&
            t->err_class != PROTO_ERR_NEEDPOINT)
            t->err_class = PROTO_ERR_INTERNAL;
        if (!t->err[0]) snprintf(t->err, sizeof t->err, "op %s failed", def->name);
    }
out:
    /* The shard and body are not needed any more: free them here, not on the
     * main thread, which has the sockets to serve. */
    cache_release(&t->entry);
    blob_unref(&t->context);
    zmq_msg_close(&t->body);
    zmq_msg_init(&t->body);
    t->end_ms = clock_now_ms();
}

static void *thread_main(void *arg) {
    exec_thread_t *th = arg;
    idle_lower_priority();
    idle_throttle_init(&th->throttle, th->pool->max_cpu);
    for (;;) {
        exec_task_t *t = NULL;
        int n = zmq_recv(th->exec_end, &t, sizeof t, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n != (int)sizeof t || !t) break; /* the stop message */
        t->throttle = &th->throttle;
        exec_run(t);
        t->throttle = NULL;
        while (zmq_send(th->exec_end, &t, sizeof t, 0) < 0 && errno == EINTR)
            ;
        /* After the result is out: a cap never delays a result, only the
         * start of the next task. */
        idle_throttle_tick(&th->throttle);
    }
    return NULL;
}

exec_t *exec_new(void *zctx, cache_t *cache, int n, int max_cpu, char *err, size_t errlen) {
    exec_t *e = calloc(1, sizeof *e);
    if (!e || n < 1) {
        snprintf(err, errlen, n < 1 ? "executor count %d < 1" : "out of memory", n);
        free(e);
        return NULL;
    }
    e->cache = cache;
    e->max_cpu = max_cpu;
    e->t = calloc((size_t)n, sizeof *e->t);
    if (!e->t) {
        snprintf(err, errlen, "out of memory");
        free(e);
        return NULL;
    }
    e->n = n;
    for (int i = 0; i < n; i++) {
        exec_thread_t *th = &e->t[i];
        char ep[96];
        int zero = 0;
        th->pool = e;
        th->index = i;
        snprintf(ep, sizeof ep, "inproc://nc-exec-%p-%d", (void *)e, i);
        th->main_end = zmq_socket(zctx, ZMQ_PAIR);
        th->exec_end = zmq_socket(zctx, ZMQ_PAIR);
        if (!th->main_end || !th->exec_end ||
            zmq_setsockopt(th->main_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_setsockopt(th->exec_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_bind(th->main_end, ep) != 0 || zmq_connect(th->exec_end, ep) != 0) {
            snprintf(err, errlen, "executor socket: %s", zmq_strerror(zmq_errno()));
            goto fail;
        }
        /* Signals belong to the main thread: its zmq_poll is what they
         * should interrupt. The new thread inherits the blocked mask. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        int prc = pthread_create(&th->tid, NULL, thread_main, th);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (prc != 0) {
            snprintf(err, errlen, "cannot start executor thread %d", i);
            goto fail;
        }
        th->started = true;
    }
    return e;
fail:
    exec_destroy(&e);
    return NULL;
}

void exec_destroy(exec_t **ep) {
    exec_t *e = *ep;
    *ep = NULL;
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        exec_thread_t *th = &e->t[i];
        if (th->started) {
            exec_task_t *stop = NULL;
            /* A running thread reads this after sending its task back. */
            zmq_send(th->main_end, &stop, sizeof stop, 0);
            pthread_join(th->tid, NULL);
        }
        if (th->running) {
            /* Its pointer may still sit unread in main_end; the task is ours. */
            exec_task_free(&th->running);
        }
        if (th->main_end) zmq_close(th->main_end);
        if (th->exec_end) zmq_close(th->exec_end);
    }
    free(e->t);
    free(e);
}

int exec_count(const exec_t *e) {
    return e->n;
}

void *exec_socket(exec_t *e, int i) {
    return e->t[i].main_end;
}

exec_task_t *exec_running(exec_t *e, int i) {
    return e->t[i].running;
}

int exec_free_slot(const exec_t *e) {
    for (int i = 0; i < e->n; i++)
        if (!e->t[i].running) return i;
    return -1;
}

int exec_start(exec_t *e, int i, exec_task_t *t) {
    exec_thread_t *th = &e->t[i];
    if (th->running) return -1;
    if (zmq_send(th->main_end, &t, sizeof t, ZMQ_DONTWAIT) != (int)sizeof t) return -1;
    th->running = t;
    return 0;
}

exec_task_t *exec_collect(exec_t *e, int i) {
    exec_thread_t *th = &e->t[i];
    exec_task_t *t = NULL;
    int n = zmq_recv(th->main_end, &t, sizeof t, ZMQ_DONTWAIT);
    if (n != (int)sizeof t || t != th->running || !t)
        return NULL; /* nothing waiting, or not a pointer we gave out */
    th->running = NULL;
    return t;
}
