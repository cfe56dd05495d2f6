#include "master/shardjob.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/predmsg.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

writer_t *shardjob_open_writer(master_ctx_t *ctx, const outputs_t *outs, const split_t *sp,
                               const char *header, const char *key, char *err, size_t errlen) {
    uint32_t n = (uint32_t)sp->nshards;
    writer_t *w;
    if (outputs_is_stream(outs, 0)) {
        if (ctx->opts->resume)
            log_warn("--resume: %s is not a regular file; a stream cannot be resumed, so every "
                     "shard is done again",
                     outputs_path(outs, 0));
        w = writer_open_stream(outputs_fd(outs, 0), outputs_path(outs, 0), n, header,
                               SHARDJOB_MEM_BUDGET, err, errlen);
    } else {
        w = writer_open(outputs_path(outs, 0), n, header, key, ctx->opts->resume,
                        SHARDJOB_MEM_BUDGET, err, errlen);
    }
    if (w && writer_resumed(w))
        log_info("resuming: %u of %u shards already done", writer_resumed(w), n);
    return w;
}

int shardjob_begin(master_ctx_t *ctx, uint32_t job_id, const char *data_path, const split_t *sp,
                   const jobctx_t *jc, char *err, size_t errlen) {
    void *cbuf = NULL;
    size_t clen = 0;
    if (sched_begin_split(ctx->sched, job_id, data_path, sp, err, errlen) < 0) return -1;
    if (jobctx_encode(jc, &cbuf, &clen) < 0 || sched_set_context(ctx->sched, cbuf, clen) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void free_bodies(blob_t **b, size_t n) {
    for (size_t i = 0; b && i < n; i++)
        blob_unref(&b[i]);
    free(b);
}

/* Task bodies for the shards before limit that the writer does not hold
 * yet (NULL entries for the others); *queued counts them. NULL when out of
 * memory. Free with free_bodies(). */
static blob_t **round_bodies(const shardjob_t *j, size_t limit, size_t *queued) {
    blob_t **b = calloc(j->sp->nshards ? j->sp->nshards : 1, sizeof *b);
    *queued = 0;
    for (size_t i = 0; b && i < limit; i++) {
        if (writer_has(j->w, (uint32_t)i)) continue;
        predmsg_req_t req = {j->sp->shards[i].first_row, j->sp->shards[i].first_line};
        if (!(b[i] = predmsg_req_encode(&req))) {
            free_bodies(b, j->sp->nshards);
            return NULL;
        }
        (*queued)++;
    }
    return b;
}

/* One round over the shards before limit not yet written; the answers go to
 * the sink as they arrive. Returns sched_round's status. */
static int one_round(const shardjob_t *j, size_t limit, size_t *queued, bool *data_error, char *why,
                     size_t whylen) {
    blob_t **bodies = round_bodies(j, limit, queued);
    *data_error = false;
    if (!bodies) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    sched_round_t r = {.op = j->op, .bodies = bodies, .sink = j->sink, .sink_arg = j->sink_arg};
    int rc = *queued ? sched_round(j->ctx->sched, &r, why, whylen) : 0;
    *data_error = r.data_error;
    sched_round_free(&r);
    free_bodies(bodies, j->sp->nshards);
    return rc;
}

/* After a data error (why), the shards before the reported one run until
 * none of them fails, each failure replacing why with an earlier one.
 * Returns -1 (why: the earliest data error), or -2 when stopped meanwhile. */
static int earliest_data_error(const shardjob_t *j, char *why, size_t whylen) {
    const char *file = j->file ? j->file : "data";
    for (;;) {
        long bad = split_shard_of_error(j->sp, file, why);
        size_t queued = 0;
        bool data_error = false;
        char earlier[1024] = "";
        int rc =
            one_round(j, bad > 0 ? (size_t)bad : 0, &queued, &data_error, earlier, sizeof earlier);
        if (!queued) return -1; /* none before it, or out of memory: the error in hand */
        if (rc == -2) return -2;
        if (rc == -1 && data_error) {
            snprintf(why, whylen, "%s", earlier);
            continue;
        }
        /* The shards before it are fine (or failed otherwise: then the error
         * in hand is still the earliest known). */
        return -1;
    }
}

int shardjob_run(const shardjob_t *j, const outputs_t *outs, bool *keep, char *err, size_t errlen) {
    bool data_error = false;
    size_t queued = 0;
    char why[1024] = "";
    int rc = one_round(j, j->sp->nshards, &queued, &data_error, why, sizeof why);
    if (rc == -1 && data_error) rc = earliest_data_error(j, why, sizeof why);
    if (rc == -2) {
        *keep = true;
        writer_stats_t st;
        writer_get_stats(j->w, &st);
        /* As a stopped training says it: the signal, where, and the command
         * that finishes the job (a stream cannot be resumed; a REST job has
         * no command line). */
        int sig = j->ctx->stop ? (int)*j->ctx->stop : 0;
        const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
        const char *cmd = j->ctx->opts ? j->ctx->opts->command : "";
        bool resumable = !outputs_is_stream(outs, 0);
        snprintf(err, errlen, "stopped by %s with %u of %zu shards done%s%s%s", name,
                 st.written + st.held + st.spooled, j->sp->nshards,
                 !resumable ? ""
                 : cmd[0]   ? "; resume with: "
                            : "; run again with --resume",
                 resumable ? cmd : "", resumable && cmd[0] ? " --resume" : "");
        return EXIT_JOB_FAILED;
    }
    if (rc < 0) {
        const char *sink_err = j->sink_err && j->sink_err[0] ? j->sink_err : why;
        snprintf(err, errlen, "%s", data_error ? why : sink_err);
        return data_error ? EXIT_BAD_DATA : EXIT_JOB_FAILED;
    }
    return writer_commit(j->w, err, errlen) < 0 ? EXIT_JOB_FAILED : EXIT_OK;
}

int shardjob_await_workers(master_ctx_t *ctx, split_t *sp, const char *data, data_format_t fmt,
                           char *err, size_t errlen) {
    int want = ctx->opts->min_workers > 0 ? ctx->opts->min_workers : 1;
    if (sched_live_workers(ctx->sched) < want) {
        log_info("waiting for %d worker(s) on port %d", want, ctx->cfg->master.task_port);
        if (sched_wait_workers(ctx->sched, want, -1) < 0) {
            snprintf(err, errlen, "interrupted while waiting for workers");
            return -1;
        }
    }
    return split_refine(sp, data, fmt, 2 * (uint64_t)sched_total_slots(ctx->sched),
                        (size_t)ctx->cfg->cluster.shard_mb << 20, err, errlen) < 0
               ? -1
               : 0;
}

void shardjob_publish_started(master_ctx_t *ctx, uint32_t job_id, const char *mode,
                              const char *data, const split_t *sp) {
    json_object *js = json_object_new_object();
    json_object_object_add(js, "job_id", json_object_new_int64(job_id));
    json_object_object_add(js, "mode", json_object_new_string(mode));
    json_object_object_add(js, "data", json_object_new_string(data));
    json_object_object_add(js, "total_tasks", json_object_new_int64((int64_t)sp->nshards));
    json_object_object_add(js, "rows_total", json_object_new_int64((int64_t)sp->rows));
    json_object_object_add(js, "workers", json_object_new_int(sched_live_workers(ctx->sched)));
    events_publish(ctx->ev, EV_JOB_STARTED, js);
}

void shardjob_publish_done(master_ctx_t *ctx, uint32_t job_id, int status, int64_t t0,
                           json_object *metrics, const char *out, const char *err) {
    json_object *acc = metrics ? json_object_object_get(metrics, "accuracy") : NULL;
    json_object *jd = json_object_new_object();
    json_object_object_add(jd, "job_id", json_object_new_int64(job_id));
    const char *state = master_end_state(ctx, status);
    json_object_object_add(jd, "state", json_object_new_string(state));
    json_object_object_add(jd, "duration_s",
                           json_object_new_double((double)(clock_now_ms() - t0) / 1000.0));
    json_object_object_add(jd, "accuracy", acc ? json_object_get(acc) : NULL);
    if (metrics) json_object_object_add(jd, "metrics", metrics);
    json_object *outs = json_object_new_object();
    if (status == EXIT_OK) json_object_object_add(outs, "submission", json_object_new_string(out));
    json_object_object_add(jd, "outputs", outs);
    json_object_object_add(jd, "error",
                           !status                           ? NULL
                           : strcmp(state, "cancelled") == 0 ? json_object_new_string("cancelled")
                                                             : json_object_new_string(err));
    events_publish(ctx->ev, EV_JOB_DONE, jd);
}
