#include "master/serve.h"

#include "common/heap.h"
#include "common/jsonx.h"
#include "common/log.h"
#include "master/jobopts.h"
#include "master/outputs.h"
#include "master/predict.h"
#include "master/train.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_REQUEST 65536
#define MAX_QUEUED 64

typedef struct job {
    uint32_t id;
    cli_cmd_t mode;
    config_t cfg;
    master_opts_t opts;
} job_t;

struct serve {
    master_ctx_t *ctx;
    void *rep;
    job_t *queue[MAX_QUEUED];
    int nqueued;
    uint32_t running; /* the run id of the job running, 0 when none */
};

static const char *mode_name(cli_cmd_t mode) {
    return mode == CMD_TRAIN    ? "train"
           : mode == CMD_SEARCH ? "search"
           : mode == CMD_TEST   ? "test"
           : mode == CMD_EXPORT ? "export"
                                : "dispatch";
}

static void reply(void *rep, json_object *o) {
    size_t len;
    const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    zmq_send(rep, text, len, ZMQ_DONTWAIT);
    json_object_put(o);
}

static void reply_error(void *rep, int status, const char *msg) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(msg));
    json_object_object_add(o, "status", json_object_new_int(status));
    reply(rep, o);
}

/* After a driver's error: the dashboard ends a job it still shows as
 * pending (one that failed or was cancelled before it started) on this. */
static void publish_failed(master_ctx_t *ctx, uint32_t id, cli_cmd_t mode, int status) {
    json_object *o = json_object_new_object();
    if (o) {
        json_object_object_add(o, "job_id", json_object_new_int64(id));
        json_object_object_add(o, "mode", json_object_new_string(mode_name(mode)));
        json_object_object_add(o, "status", json_object_new_int(status));
        json_object_object_add(
            o, "state", json_object_new_string(status == EXIT_CANCELLED ? "cancelled" : "failed"));
    }
    events_publish(ctx->ev, EV_JOB_FAILED, o);
}

/* Builds a job from a request; NULL with err set when it is not valid. */
static job_t *job_from_request(serve_t *sv, json_object *req, char *err, size_t errlen) {
    job_t *j = calloc(1, sizeof *j);
    const char *m = NULL;
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->cfg = *sv->ctx->cfg;
    j->opts = *sv->ctx->opts;
    j->opts.keep_running = false;
    j->opts.resume = false;
    /* a --keep-running command line's job keeps its own job options */
    j->opts.cv_folds = 0;
    j->opts.nc = 0;
    j->opts.c_list_given = false;
    j->opts.nsolvers = 0;
    j->opts.no_final = false;
    j->opts.command[0] = 0; /* no command line resumes it */
    if (jsonx_get_string(req, "mode", &m, NULL, NULL, 0) != 0) {
        snprintf(err, errlen, "\"mode\" must be \"train\", \"search\" or \"test\"");
        goto fail;
    }
    if (strcmp(m, "train") == 0)
        j->mode = CMD_TRAIN;
    else if (strcmp(m, "search") == 0)
        j->mode = CMD_SEARCH;
    else if (strcmp(m, "test") == 0)
        j->mode = CMD_TEST;
    else {
        snprintf(err, errlen, "\"mode\" must be \"train\", \"search\" or \"test\", not \"%.40s\"",
                 m);
        goto fail;
    }
    j->opts.cmd = j->mode;
    json_object_object_foreach(req, key, val) {
        char text[CONFIG_PATH];
        if (strcmp(key, "mode") == 0) continue;
        enum json_type t = json_object_get_type(val);
        if (t != json_type_string && t != json_type_int && t != json_type_double &&
            t != json_type_boolean) { /* a boolean: "no-final": true */
            snprintf(err, errlen, "\"%.40s\": expected a string, a number or a boolean", key);
            goto fail;
        }
        snprintf(text, sizeof text, "%s", json_object_get_string(val));
        if (cli_job_option(&j->cfg, &j->opts, key, text, err, errlen) < 0) goto fail;
    }
    /* What the drivers would refuse before starting is refused here, by the
     * command line's checks, so that a submitted job either runs (and ends
     * done or failed) or is rejected. */
    if (jobopts_validate(&j->cfg, &j->opts, err, errlen) < 0) goto fail;
    bool train = j->mode != CMD_TEST; /* train, search */
    const char *data = train ? j->cfg.data.train : j->cfg.data.test;
    if (access(data, R_OK) != 0) {
        snprintf(err, errlen, "%.200s: cannot read the data file", data);
        goto fail;
    }
    if (j->mode == CMD_TEST && access(j->cfg.model.file, R_OK) != 0) {
        snprintf(err, errlen, "%.200s: cannot read the model file", j->cfg.model.file);
        goto fail;
    }
    /* the checks the driver makes first (an output that is an input...), so
     * such a job is refused now instead of failing once queued */
    outputs_t *files = NULL;
    if (outputs_for_job(&j->cfg, j->opts.config_path, train ? CMD_TRAIN : CMD_TEST, &files, err,
                        errlen) != EXIT_OK)
        goto fail;
    outputs_destroy(&files);
    j->id = master_new_run(sv->ctx, &j->cfg, &j->opts, "queued");
    return j;
fail:
    free(j);
    return NULL;
}

/* A queued job cancelled: it leaves the queue, its run ends cancelled. */
static void end_queued(serve_t *sv, job_t *j) {
    master_ctx_t *ctx = sv->ctx;
    log_info("run %u cancelled while queued", j->id);
    if (ctx->runs) runs_cancel_queued(ctx->runs, j->id, j->mode);
    publish_failed(ctx, j->id, j->mode, EXIT_CANCELLED);
}

/* {"cancel": N}: see serve.h. */
static void on_cancel(serve_t *sv, json_object *idv) {
    char err[128];
    if (!json_object_is_type(idv, json_type_int) || json_object_get_int64(idv) <= 0) {
        reply_error(sv->rep, 400, "\"cancel\" takes a run id");
        return;
    }
    int64_t id = json_object_get_int64(idv);
    int k = 0;
    while (k < sv->nqueued && sv->queue[k]->id != id)
        k++;
    if (k < sv->nqueued) {
        job_t *j = sv->queue[k];
        memmove(sv->queue + k, sv->queue + k + 1, (size_t)(--sv->nqueued - k) * sizeof *sv->queue);
        end_queued(sv, j);
        free(j);
    } else if (sv->running && sv->running == id) {
        log_info("run %u: cancelled over REST", sv->running);
        sched_cancel(sv->ctx->sched, true);
    } else {
        snprintf(err, sizeof err, "run %lld is neither queued nor running", (long long)id);
        reply_error(sv->rep, 409, err);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "state", json_object_new_string("cancelled"));
    reply(sv->rep, o);
}

static void on_request(void *arg) {
    serve_t *sv = arg;
    char buf[MAX_REQUEST + 1];
    char err[1024];
    int n = zmq_recv(sv->rep, buf, MAX_REQUEST, ZMQ_DONTWAIT);
    if (n < 0) return;
    int more = 0;
    size_t ml = sizeof more;
    zmq_getsockopt(sv->rep, ZMQ_RCVMORE, &more, &ml);
    while (more) { /* a REP must answer once per request, whatever it held */
        zmq_recv(sv->rep, buf, MAX_REQUEST, 0);
        zmq_getsockopt(sv->rep, ZMQ_RCVMORE, &more, &ml);
        n = MAX_REQUEST + 1;
    }
    if (n > MAX_REQUEST) {
        reply_error(sv->rep, 413, "request too large");
        return;
    }
    buf[n] = 0; /* zmq_recv returned at most MAX_REQUEST here */
    char why[256];
    json_object *req = jsonx_parse_object(buf, (size_t)n, NULL, why, sizeof why);
    if (!req) {
        snprintf(err, sizeof err, "the body must be one JSON object: %s", why);
        reply_error(sv->rep, 400, err);
        return;
    }
    json_object *cancel = NULL;
    if (json_object_object_get_ex(req, "cancel", &cancel)) {
        on_cancel(sv, cancel);
        json_object_put(req);
        return;
    }
    if (sv->nqueued >= MAX_QUEUED) {
        json_object_put(req);
        reply_error(sv->rep, 429, "too many queued jobs");
        return;
    }
    job_t *j = job_from_request(sv, req, err, sizeof err);
    json_object_put(req);
    if (!j) {
        reply_error(sv->rep, 400, err);
        return;
    }
    sv->queue[sv->nqueued++] = j;
    log_info("run %u queued: %s %s", j->id, mode_name(j->mode),
             j->mode != CMD_TEST ? j->cfg.data.train : j->cfg.data.test);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(j->id));
    reply(sv->rep, o);
}

serve_t *serve_new(master_ctx_t *ctx, void *rep) {
    serve_t *sv = calloc(1, sizeof *sv);
    if (!sv) return NULL;
    sv->ctx = ctx;
    sv->rep = rep;
    sched_set_aux(ctx->sched, rep, on_request, sv);
    return sv;
}

int serve_job(serve_t *sv, master_ctx_t *jc, int (*driver)(master_ctx_t *)) {
    sv->running = jc->job_id;
    int status = master_run_job(jc, driver);
    sv->running = 0;
    heap_give_back(); /* what the job's rounds kept (common/heap.h) goes back between jobs */
    if (status == EXIT_CANCELLED) log_info("run %u cancelled", jc->job_id);
    if (status != EXIT_OK) publish_failed(sv->ctx, jc->job_id, jc->opts->cmd, status);
    return status;
}

int serve_loop(serve_t *sv) {
    master_ctx_t *ctx = sv->ctx;
    while (!*ctx->stop) {
        if (sv->nqueued == 0) {
            /* short: a job submitted meanwhile starts within 100 ms */
            if (sched_poll(ctx->sched, 100) == -2) break;
            continue;
        }
        job_t *j = sv->queue[0];
        memmove(sv->queue, sv->queue + 1, (size_t)--sv->nqueued * sizeof *sv->queue);
        master_ctx_t jc = *ctx;
        jc.cfg = &j->cfg;
        jc.opts = &j->opts;
        jc.job_id = j->id;
        int status = serve_job(sv, &jc, j->mode != CMD_TEST ? train_run : predict_run);
        if (status != EXIT_CANCELLED) log_info("run %u finished with status %d", j->id, status);
        free(j);
    }
    return EXIT_OK;
}

void serve_destroy(serve_t **svp) {
    serve_t *sv = svp ? *svp : NULL;
    if (!sv) return;
    sched_set_aux(sv->ctx->sched, NULL, NULL, NULL);
    for (int i = 0; i < sv->nqueued; i++)
        free(sv->queue[i]);
    free(sv);
    *svp = NULL;
}
