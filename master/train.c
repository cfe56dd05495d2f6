#include "master/train.h"

#include "common/clock.h"
#include "common/jobctx.h"
#include "common/log.h"
#include "common/model.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/split.h"
#include "common/tronmsg.h"
#include "master/jobopts.h"
#include "master/journal.h"
#include "master/outputs.h"
#include "master/progress.h"
#include "master/tron.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#define TRON_MAX_ITER 1000 /* liblinear's */

typedef struct trainer {
    master_ctx_t *ctx;
    const config_t *cfg;
    sched_t *s;
    uint32_t job_id;
    int solver;
    bool exact;
    int folds; /* --cv K, 0 = none */
    split_t sp;
    datasrc_t src;
    schema_t *schema;
    char *schema_json;
    int nr_class, nr_w, nr_feature, n;
    int *label_values;
    double *w; /* final model, liblinear layout w[j*nr_w + k] */
    progress_t prog;
    int64_t t0_ms;
    char err[4096];
    bool data_error;
    /* the round in flight */
    summary_t **sums;
    tronmsg_res_t *res;
    blob_t **train_res;
    size_t expect_count;
    uint32_t expect_n;
    char journal_key[2 * CONFIG_PATH];
    double cv_accuracy;
    double secs_tron, secs_read, secs_schema, secs_pred;
} trainer_t;

/* ---- small helpers ---- */

static void set_err(trainer_t *t, const char *fmt, const char *a)
{
    snprintf(t->err, sizeof t->err, fmt, a);
}

/* Sends ctx as the job context; a fresh encode each time (the scheduler
 * copies it and bumps the version). */
static int send_context(trainer_t *t, bool with_schema)
{
    jobctx_t c = {.format = t->sp.format == DATA_LIBSVM ? JOBCTX_LIBSVM : JOBCTX_CSV,
                  .file = (char *)t->cfg->data.train,
                  .header = t->sp.header,
                  .header_len = t->sp.header_len,
                  .label = (char *)t->cfg->data.label,
                  .id = (char *)t->cfg->data.id,
                  .solver = t->solver,
                  .C = t->cfg->model.C,
                  .bias = t->cfg->model.bias};
    if (with_schema) {
        c.schema_json = t->schema_json;
        c.schema_len = strlen(t->schema_json);
    }
    void *buf = NULL;
    size_t len = 0;
    if (jobctx_encode(&c, &buf, &len) < 0) {
        set_err(t, "%s", "out of memory encoding the job context");
        return -1;
    }
    int rc = sched_set_context(t->s, buf, len);
    free(buf);
    if (rc < 0)
        set_err(t, "%s", "out of memory setting the job context");
    return rc;
}

/* Runs the batch that was submitted; maps failures to exit statuses. */
static int wait_batch(trainer_t *t, sched_result_fn fn)
{
    bool data_error = false;
    char err[1024] = "";
    t->err[0] = 0;
    int rc = sched_wait(t->s, fn, t, &data_error, err, sizeof err);
    if (rc == -2) {
        set_err(t, "%s", "stopped by signal");
        return EXIT_JOB_FAILED;
    }
    if (rc < 0) {
        if (!t->err[0])
            set_err(t, "%s", err);
        t->data_error = data_error;
        return data_error ? EXIT_BAD_DATA : EXIT_JOB_FAILED;
    }
    return 0;
}

/* ---- schema pass ---- */

static int on_summary(void *arg, const sched_result_t *r)
{
    trainer_t *t = arg;
    char err[512];
    if (r->shard >= t->sp.nshards || t->sums[r->shard]) {
        snprintf(t->err, sizeof t->err, "summary for unexpected shard %u", r->shard);
        return -1;
    }
    t->sums[r->shard] = summary_decode(r->data, r->len, err, sizeof err);
    if (!t->sums[r->shard]) {
        snprintf(t->err, sizeof t->err, "worker %s sent a bad summary: %s", r->worker, err);
        return -1;
    }
    return 0;
}

static blob_t *shard_pos_body(const shard_range_t *sh)
{
    blob_t *b = blob_new(16);
    if (b) {
        proto_put_u64(b->data, sh->first_row);
        proto_put_u64((uint8_t *)b->data + 8, sh->first_line);
    }
    return b;
}

/* Workers report data errors per shard in any order and the wait stops at
 * the first to arrive, but the error to report is the first in the file:
 * the shards before the reported one that have no summary run (again) until
 * none of them fails, each failure replacing t->err with an earlier one.
 * Returns the exit status for the job. */
static int earliest_summary_error(trainer_t *t)
{
    char found[sizeof t->err];
    for (;;) {
        long bad = split_shard_of_error(&t->sp, t->cfg->data.train, t->err);
        size_t queued = 0;
        for (long i = 0; i < bad; i++) {
            if (t->sums[i])
                continue;
            blob_t *b = shard_pos_body(&t->sp.shards[i]);
            uint32_t id = b ? sched_submit(t->s, OP_SUMMARY, (uint32_t)i, b, t->sp.shards[i].rows) : 0;
            blob_unref(&b);
            if (!id)
                return EXIT_BAD_DATA; /* out of memory: the error in hand is all we know */
            queued++;
        }
        if (!queued)
            return EXIT_BAD_DATA;
        snprintf(found, sizeof found, "%s", t->err);
        int status = wait_batch(t, on_summary);
        if (status == EXIT_BAD_DATA)
            continue; /* an earlier shard: t->err names it */
        if (t->ctx->stop && *t->ctx->stop)
            return status;
        /* The shards before it are fine (or failed otherwise: then the error
         * in hand is still the earliest known). */
        snprintf(t->err, sizeof t->err, "%s", found);
        t->data_error = true;
        return EXIT_BAD_DATA;
    }
}

static int schema_pass(trainer_t *t)
{
    int status = EXIT_JOB_FAILED;
    summary_t *all = NULL;
    t->sums = calloc(t->sp.nshards, sizeof *t->sums);
    if (!t->sums) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    progress_phase(&t->prog, "schema");
    for (size_t i = 0; i < t->sp.nshards; i++) {
        blob_t *b = shard_pos_body(&t->sp.shards[i]);
        uint32_t id = b ? sched_submit(t->s, OP_SUMMARY, (uint32_t)i, b, t->sp.shards[i].rows) : 0;
        blob_unref(&b);
        if (!id) {
            set_err(t, "%s", "out of memory queueing tasks");
            goto out;
        }
    }
    if ((status = wait_batch(t, on_summary)) != 0) {
        if (status == EXIT_BAD_DATA)
            status = earliest_summary_error(t);
        goto out;
    }
    status = EXIT_JOB_FAILED;
    all = t->sums[0];
    t->sums[0] = NULL;
    for (size_t i = 1; i < t->sp.nshards; i++)
        if (summary_merge(all, t->sums[i]) < 0) {
            set_err(t, "%s", "cannot merge the shard summaries (out of memory?)");
            goto out;
        }
    t->schema = schema_fit(all, &t->src, t->cfg->data.scale, t->err, sizeof t->err);
    if (!t->schema) {
        status = EXIT_BAD_DATA;
        goto out;
    }
    t->schema_json = schema_to_json(t->schema);
    if (!t->schema_json) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    t->nr_class = schema_nr_class(t->schema);
    if (t->nr_class < 2) {
        snprintf(t->err, sizeof t->err, "%s: the label column has a single class; nothing to train",
                 t->cfg->data.train);
        status = EXIT_BAD_DATA;
        goto out;
    }
    t->nr_feature = schema_n_features(t->schema);
    t->nr_w = model_nr_w(t->solver, t->nr_class);
    t->n = t->nr_feature + (t->cfg->model.bias >= 0 ? 1 : 0);
    t->label_values = malloc((size_t)t->nr_class * sizeof *t->label_values);
    if (!t->label_values) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    for (int k = 0; k < t->nr_class; k++)
        t->label_values[k] = schema_label_value(t->schema, k);
    status = 0;
out:
    if (t->sums)
        for (size_t i = 0; i < t->sp.nshards; i++)
            summary_destroy(&t->sums[i]);
    free(t->sums);
    t->sums = NULL;
    summary_destroy(&all);
    return status;
}

/* ---- exact strategy ---- */

/* One trained function: a class, on all rows or on a cross-validation fold. */
typedef struct tclass {
    int cls;
    uint32_t fold;
    tron_t *tr;
    bool done;
    uint64_t fun_id, grad_id;
    int passes_seen;
    int64_t last_ms;
    long pos, rows;
} tclass_t;

static int on_tron(void *arg, const sched_result_t *r)
{
    trainer_t *t = arg;
    char err[512];
    if (r->shard >= t->sp.nshards || t->res[r->shard].ans) {
        snprintf(t->err, sizeof t->err, "tron result for unexpected shard %u", r->shard);
        return -1;
    }
    tronmsg_res_t *res = &t->res[r->shard];
    if (tronmsg_decode_res(r->data, r->len, res, err, sizeof err) < 0) {
        snprintf(t->err, sizeof t->err, "worker %s sent a bad tron result: %s", r->worker, err);
        return -1;
    }
    if (res->n != t->expect_n || res->count != t->expect_count) {
        snprintf(t->err, sizeof t->err, "worker %s answered %zu items of %u, want %zu of %u",
                 r->worker, res->count, res->n, t->expect_count, t->expect_n);
        tronmsg_res_free(res);
        return -1;
    }
    return 0;
}

static void free_round(trainer_t *t)
{
    if (!t->res)
        return;
    for (size_t i = 0; i < t->sp.nshards; i++)
        tronmsg_res_free(&t->res[i]);
}

/* Sends items to every shard and collects the answers in t->res[shard]. */
static int tron_round(trainer_t *t, const tronmsg_item_t *items, size_t count)
{
    int status = EXIT_JOB_FAILED;
    tronmsg_shard_t *tab = malloc(t->sp.nshards * sizeof *tab);
    blob_t *body = NULL;
    if (!tab) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->sp.nshards; i++)
        tab[i] = (tronmsg_shard_t){t->sp.shards[i].first_row, t->sp.shards[i].first_line};
    body = tronmsg_encode_req((uint32_t)t->n, (uint32_t)t->folds, tab, t->sp.nshards, items, count,
                              t->err, sizeof t->err);
    if (!body)
        goto out;
    free_round(t);
    t->expect_count = count;
    t->expect_n = (uint32_t)t->n;
    for (size_t i = 0; i < t->sp.nshards; i++)
        if (!sched_submit(t->s, OP_TRON, (uint32_t)i, body, t->sp.shards[i].rows)) {
            set_err(t, "%s", "out of memory queueing tasks");
            goto out;
        }
    status = wait_batch(t, on_tron);
    if (status == 0) {
        /* answers must match the request item by item */
        for (size_t i = 0; i < t->sp.nshards; i++)
            for (size_t j = 0; j < count; j++) {
                const tronmsg_ans_t *a = &t->res[i].ans[j];
                if (a->op != items[j].op || a->cls != items[j].cls || a->fold != items[j].fold) {
                    snprintf(t->err, sizeof t->err, "shard %zu: answer %zu does not match its request",
                             i, j);
                    status = EXIT_JOB_FAILED;
                    goto out;
                }
            }
    }
out:
    blob_unref(&body);
    free(tab);
    return status;
}

static void publish_iteration(trainer_t *t, const tclass_t *c, const tron_iter_info_t *info,
                              double secs)
{
    if (c->fold == TRONMSG_ALL_ROWS)
        log_info("iter %d class %d f=%.6e |g|=%.6e CG=%d time=%.3f%s", info->iter, c->cls,
                 info->f, info->gnorm, info->cg_iter, secs, info->accepted ? "" : " (rejected)");
    else
        log_debug("cv fold %u iter %d class %d f=%.6e |g|=%.6e CG=%d time=%.3f", c->fold,
                  info->iter, c->cls, info->f, info->gnorm, info->cg_iter, secs);
    if (c->fold != TRONMSG_ALL_ROWS)
        return;
    json_object *js = json_object_new_object();
    if (!js)
        return;
    json_object_object_add(js, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(js, "class", json_object_new_int(t->label_values[c->cls]));
    json_object_object_add(js, "iter", json_object_new_int(info->iter));
    json_object_object_add(js, "f", json_object_new_double(info->f));
    json_object_object_add(js, "gnorm", json_object_new_double(info->gnorm));
    json_object_object_add(js, "cg", json_object_new_int(info->cg_iter));
    json_object_object_add(js, "secs", json_object_new_double(secs));
    events_publish(t->ctx->ev, EV_ITERATION, js);
}

static void journal_key(trainer_t *t)
{
    struct stat st;
    char abs[CONFIG_PATH];
    const char *path = t->cfg->data.train;
    if (!realpath(path, abs))
        snprintf(abs, sizeof abs, "%s", path);
    long long size = 0, mtime = 0;
    if (stat(path, &st) == 0) {
        size = (long long)st.st_size;
        mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
    /* Everything that changes the optimum; not the shard layout, which only
     * changes the order of additions. */
    snprintf(t->journal_key, sizeof t->journal_key,
             "%s|%lld|%lld|s=%d|C=%.17g|e=%.17g|B=%.17g|label=%s|id=%s|scale=%s|fmt=%d|cv=%d", abs,
             size, mtime, t->solver, t->cfg->model.C, t->cfg->model.eps, t->cfg->model.bias,
             t->cfg->data.label, t->cfg->data.id, t->cfg->data.scale, (int)t->sp.format, t->folds);
}

static uint64_t random_u32(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)clock_now_us();
    return r;
}

/* Journals the classes trained on all rows. */
static void journal_store(trainer_t *t, journal_t *j, tclass_t *cl, int ncl)
{
    if (!j)
        return;
    journal_class_t *jc = calloc((size_t)ncl, sizeof *jc);
    int m = 0;
    if (!jc)
        return;
    for (int i = 0; i < ncl; i++) {
        if (cl[i].fold != TRONMSG_ALL_ROWS)
            continue;
        tron_state_t st;
        tron_state(cl[i].tr, &st);
        jc[m++] = (journal_class_t){.cls = cl[i].cls,
                                    .iter = st.iter,
                                    .delta = st.delta,
                                    .gnorm0 = st.gnorm0,
                                    .done = cl[i].done,
                                    .n = t->n,
                                    .w = tron_weights(cl[i].tr)};
    }
    char err[512] = "";
    if (journal_save(j, t->journal_key, jc, (size_t)m, err, sizeof err) < 0)
        log_every(7, LOG_WARN, "%s (training goes on without a restart point)", err);
    free(jc);
}

static int exact_train(trainer_t *t)
{
    int status = EXIT_JOB_FAILED;
    int nf = t->folds > 0 ? t->folds : 0;
    int ncl = t->nr_w * (1 + nf);
    tclass_t *cl = calloc((size_t)ncl, sizeof *cl);
    tronmsg_item_t *items = calloc((size_t)ncl + (size_t)nf + 1, sizeof *items);
    double *acc = malloc(2 * (size_t)t->n * sizeof *acc);
    journal_t *j = NULL;
    journal_class_t *loaded = calloc((size_t)t->nr_w, sizeof *loaded);
    int nloaded = 0;
    t->res = calloc(t->sp.nshards, sizeof *t->res);
    if (!cl || !items || !acc || !t->res || !loaded) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    for (int i = 0; i < ncl; i++) {
        cl[i].cls = i % t->nr_w;
        cl[i].fold = i < t->nr_w ? TRONMSG_ALL_ROWS : (uint32_t)(i / t->nr_w - 1);
    }

    /* Counting round: rows and positives per class (and fold), which set
     * liblinear's per-class tolerance; it also makes every worker parse its
     * shards, so the read time is measured apart from the Newton rounds. */
    int64_t t_read = clock_now_ms();
    size_t cnt = 0;
    items[cnt++] = (tronmsg_item_t){.cls = (uint32_t)t->nr_w, .fold = TRONMSG_ALL_ROWS,
                                    .op = TRONMSG_COUNT};
    for (int f = 0; f < nf; f++)
        items[cnt++] = (tronmsg_item_t){.cls = (uint32_t)t->nr_w, .fold = (uint32_t)f,
                                        .op = TRONMSG_COUNT};
    progress_phase(&t->prog, "loading");
    if ((status = tron_round(t, items, cnt)) != 0)
        goto out;
    status = EXIT_JOB_FAILED;
    for (size_t s = 0; s < t->sp.nshards; s++)
        for (size_t q = 0; q < cnt; q++) {
            const tronmsg_ans_t *a = &t->res[s].ans[q];
            for (int k = 0; k < t->nr_w; k++) {
                tclass_t *c = &cl[(int)q * t->nr_w + k];
                c->rows += (long)a->rows;
                c->pos += (long)a->pos[k];
            }
        }
    t->secs_read = (double)(clock_now_ms() - t_read) / 1000.0;
    log_info("shards loaded on the workers in %.2f s (%ld rows)", t->secs_read, cl[0].rows);

    if (t->cfg->history.db[0]) {
        char err[512];
        j = journal_open(t->cfg->history.db, err, sizeof err);
        if (!j)
            log_warn("%s; training goes on without a restart point", err);
    }
    journal_key(t);
    if (j && t->ctx->opts->resume) {
        char err[512];
        nloaded = journal_load(j, t->journal_key, t->nr_w, t->n, loaded, err, sizeof err);
        if (nloaded < 0) {
            log_warn("%s; starting over", err);
            nloaded = 0;
        } else if (nloaded == 0) {
            log_info("resume: no journal for this data and these parameters; starting over");
        } else {
            log_info("resume: continuing %d class(es) from the journal", nloaded);
        }
    }

    uint64_t id_base = random_u32() << 32, next_id = 1;
    for (int i = 0; i < ncl; i++) {
        tclass_t *c = &cl[i];
        double eps = tron_class_eps(t->cfg->model.eps, c->pos, c->rows - c->pos, c->rows);
        const journal_class_t *jl = c->fold == TRONMSG_ALL_ROWS && loaded[c->cls].w ? &loaded[c->cls]
                                                                                   : NULL;
        if (jl && jl->iter >= 1) {
            tron_state_t st = {.iter = jl->iter, .delta = jl->delta, .gnorm0 = jl->gnorm0};
            c->tr = tron_resume(t->n, t->cfg->model.C, eps, tron_eps_cg(0), TRON_MAX_ITER, jl->w,
                                &st);
            /* A finished class still needs its weights: a resumed tron
             * re-checks the stop rule at once. */
        } else {
            c->tr = tron_new(t->n, t->cfg->model.C, eps, tron_eps_cg(0), TRON_MAX_ITER, NULL);
        }
        if (!c->tr) {
            set_err(t, "%s", "cannot start TRON (out of memory?)");
            goto out;
        }
        c->last_ms = clock_now_ms();
    }

    progress_phase(&t->prog, "training");
    int64_t t_tron = clock_now_ms();
    for (;;) {
        cnt = 0;
        int item_of[ncl];
        for (int i = 0; i < ncl; i++) {
            tclass_t *c = &cl[i];
            item_of[i] = -1;
            if (c->done)
                continue;
            const double *vec = NULL;
            tron_op_t op = tron_next(c->tr, &vec);
            tronmsg_item_t it = {.cls = (uint32_t)c->cls, .fold = c->fold};
            switch (op) {
            case TRON_DONE:
                c->done = true;
                continue;
            case TRON_FUN:
                c->fun_id = id_base | next_id++;
                it.op = TRONMSG_FUN, it.point = c->fun_id, it.w = vec;
                break;
            case TRON_GRAD:
                c->grad_id = c->fun_id;
                it.op = TRONMSG_GRAD, it.point = c->fun_id, it.w = vec;
                break;
            case TRON_HV:
                it.op = TRONMSG_HV, it.point = c->grad_id, it.w = tron_weights(c->tr), it.s = vec;
                break;
            }
            item_of[i] = (int)cnt;
            items[cnt++] = it;
        }
        if (cnt == 0)
            break;
        if ((status = tron_round(t, items, cnt)) != 0)
            goto out;
        status = EXIT_JOB_FAILED;
        bool advanced = false;
        for (int i = 0; i < ncl; i++) {
            tclass_t *c = &cl[i];
            int q = item_of[i];
            if (q < 0)
                continue;
            int rc = -1;
            double *sum = acc, *dsum = acc + t->n;
            switch (items[q].op) {
            case TRONMSG_FUN: {
                double f = 0;
                for (size_t s = 0; s < t->sp.nshards; s++)
                    f += t->res[s].ans[q].f;
                rc = tron_feed_fun(c->tr, f);
                break;
            }
            case TRONMSG_GRAD:
                memset(acc, 0, 2 * (size_t)t->n * sizeof *acc);
                for (size_t s = 0; s < t->sp.nshards; s++)
                    for (int v = 0; v < t->n; v++) {
                        sum[v] += t->res[s].ans[q].g[v];
                        dsum[v] += t->res[s].ans[q].diag[v];
                    }
                rc = tron_feed_grad(c->tr, sum, dsum);
                break;
            case TRONMSG_HV:
                memset(acc, 0, (size_t)t->n * sizeof *acc);
                for (size_t s = 0; s < t->sp.nshards; s++)
                    for (int v = 0; v < t->n; v++)
                        sum[v] += t->res[s].ans[q].hv[v];
                rc = tron_feed_hv(c->tr, sum);
                break;
            }
            if (rc < 0) {
                set_err(t, "%s", "internal error: TRON refused an answer");
                goto out;
            }
            tron_iter_info_t info;
            int passes = tron_iteration_info(c->tr, &info);
            if (passes > c->passes_seen) {
                int64_t now = clock_now_ms();
                c->passes_seen = passes;
                publish_iteration(t, c, &info, (double)(now - c->last_ms) / 1000.0);
                c->last_ms = now;
                advanced = advanced || (info.accepted && c->fold == TRONMSG_ALL_ROWS);
            }
            if (tron_next(c->tr, NULL) == TRON_DONE) {
                c->done = true;
                advanced = advanced || c->fold == TRONMSG_ALL_ROWS;
            }
        }
        if (advanced)
            journal_store(t, j, cl, ncl);
        if (*t->ctx->stop) {
            set_err(t, "%s", "stopped by signal");
            goto out;
        }
    }
    t->secs_tron = (double)(clock_now_ms() - t_tron) / 1000.0;

    /* the model: w[j*nr_w + k] */
    t->w = malloc((size_t)t->n * (size_t)t->nr_w * sizeof *t->w);
    if (!t->w) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    long cg = 0;
    for (int k = 0; k < t->nr_w; k++) {
        const double *wk = tron_weights(cl[k].tr);
        for (int v = 0; v < t->n; v++)
            t->w[(size_t)v * (size_t)t->nr_w + (size_t)k] = wk[v];
        cg += tron_cg_total(cl[k].tr);
    }
    log_info("TRON finished in %.2f s: %ld CG steps over %d class(es)", t->secs_tron, cg, t->nr_w);

    if (nf > 0) {
        /* held-out predictions of every fold's model */
        double *wf = malloc((size_t)t->n * (size_t)t->nr_w * (size_t)nf * sizeof *wf);
        if (!wf) {
            set_err(t, "%s", "out of memory");
            goto out;
        }
        cnt = 0;
        for (int f = 0; f < nf; f++) {
            double *w = wf + (size_t)f * (size_t)t->n * (size_t)t->nr_w;
            for (int k = 0; k < t->nr_w; k++) {
                const double *wk = tron_weights(cl[(f + 1) * t->nr_w + k].tr);
                for (int v = 0; v < t->n; v++)
                    w[(size_t)v * (size_t)t->nr_w + (size_t)k] = wk[v];
            }
            items[cnt++] = (tronmsg_item_t){.cls = (uint32_t)t->nr_w, .fold = (uint32_t)f,
                                            .op = TRONMSG_PRED, .w = w};
        }
        progress_phase(&t->prog, "cross-validation");
        status = tron_round(t, items, cnt);
        free(wf);
        if (status != 0)
            goto out;
        status = EXIT_JOB_FAILED;
        uint64_t rows = 0, correct = 0;
        for (size_t s = 0; s < t->sp.nshards; s++)
            for (size_t q = 0; q < cnt; q++) {
                rows += t->res[s].ans[q].rows;
                correct += t->res[s].ans[q].correct;
            }
        t->cv_accuracy = rows ? (double)correct / (double)rows : -1;
    }
    if (j)
        journal_store(t, j, cl, ncl);
    status = 0;
out:
    free_round(t);
    free(t->res);
    t->res = NULL;
    if (cl)
        for (int i = 0; i < ncl; i++)
            tron_destroy(&cl[i].tr);
    free(cl);
    free(items);
    free(acc);
    if (loaded)
        journal_free_loaded(loaded, t->nr_w);
    free(loaded);
    journal_close(&j);
    return status;
}

/* ---- average strategy ---- */

static int on_train(void *arg, const sched_result_t *r)
{
    trainer_t *t = arg;
    if (r->shard >= t->sp.nshards || t->train_res[r->shard]) {
        snprintf(t->err, sizeof t->err, "train result for unexpected shard %u", r->shard);
        return -1;
    }
    t->train_res[r->shard] = blob_copy(r->data, r->len);
    if (!t->train_res[r->shard]) {
        set_err(t, "%s", "out of memory");
        return -1;
    }
    return 0;
}

/* OP_TRAIN result: u64 rows, u32 nr_class, u32 nr_feature, f64 bias,
 * i32 labels[nr_class] (label indices), f64 w[(nr_feature + (bias >= 0)) * nr_w]. */
static struct model *decode_train(trainer_t *t, const blob_t *b, double *rows, char *err,
                                  size_t errlen)
{
    const uint8_t *p = b->data;
    if (b->len < 24) {
        snprintf(err, errlen, "train result of %zu bytes is too short", b->len);
        return NULL;
    }
    *rows = (double)proto_get_u64(p);
    uint32_t nc = proto_get_u32(p + 8), nfeat = proto_get_u32(p + 12);
    double bias = proto_get_f64(p + 16);
    if (nc < 1 || nc > (uint32_t)t->nr_class || nfeat > (uint32_t)t->nr_feature ||
        bias != t->cfg->model.bias) {
        snprintf(err, errlen, "train result does not fit the job (%u classes, %u features)", nc,
                 nfeat);
        return NULL;
    }
    int nw = model_nr_w(t->solver, (int)nc);
    size_t nv = (size_t)nfeat + (bias >= 0 ? 1 : 0);
    if (nw < 1 || b->len != 24 + 4 * (size_t)nc + 8 * nv * (size_t)nw) {
        snprintf(err, errlen, "train result has %zu bytes, does not fit its header", b->len);
        return NULL;
    }
    int *labels = malloc(nc * sizeof *labels);
    double *w = malloc(nv * (size_t)nw * sizeof *w);
    struct model *m = NULL;
    if (!labels || !w) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    p += 24;
    for (uint32_t i = 0; i < nc; i++, p += 4) {
        labels[i] = (int)proto_get_u32(p);
        if (labels[i] < 0 || labels[i] >= t->nr_class) {
            snprintf(err, errlen, "train result has label index %d out of range", labels[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < nv * (size_t)nw; i++, p += 8)
        w[i] = proto_get_f64(p);
    m = model_build(t->solver, (int)nc, labels, (int)nfeat, bias, w, err, errlen);
out:
    free(labels);
    free(w);
    return m;
}

static int average_train(trainer_t *t)
{
    int status = EXIT_JOB_FAILED;
    int rounds = t->cfg->model.rounds > 0 ? t->cfg->model.rounds : 1;
    size_t ns = t->sp.nshards, nwv = (size_t)t->n * (size_t)t->nr_w;
    struct model **models = calloc(ns, sizeof *models);
    double *rows = calloc(ns, sizeof *rows);
    int *gl = malloc((size_t)t->nr_class * sizeof *gl);
    t->train_res = calloc(ns, sizeof *t->train_res);
    t->w = calloc(nwv, sizeof *t->w);
    if (!models || !rows || !gl || !t->train_res || !t->w) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    for (int k = 0; k < t->nr_class; k++)
        gl[k] = k;
    if (rounds > 1 && t->solver != 0 && t->solver != 2) {
        log_warn("--rounds needs init_sol, which liblinear supports for solvers 0 and 2 only; "
                 "training one round");
        rounds = 1;
    }
    progress_phase(&t->prog, "training");
    int64_t t_tr = clock_now_ms();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < ns; i++) {
            /* body: u64 first_row, u64 first_line, f64 eps, u32 has_init, u32 n,
             * u32 nr_w, w (see worker/op_train.c) */
            size_t len = 36 + (r > 0 ? 8 * nwv : 0);
            blob_t *b = blob_new(len);
            if (!b) {
                set_err(t, "%s", "out of memory");
                goto out;
            }
            uint8_t *p = b->data;
            proto_put_u64(p, t->sp.shards[i].first_row);
            proto_put_u64(p + 8, t->sp.shards[i].first_line);
            proto_put_f64(p + 16, t->cfg->model.eps);
            proto_put_u32(p + 24, r > 0);
            proto_put_u32(p + 28, (uint32_t)t->n);
            proto_put_u32(p + 32, (uint32_t)t->nr_w);
            if (r > 0)
                for (size_t v = 0; v < nwv; v++)
                    proto_put_f64(p + 36 + 8 * v, t->w[v]);
            uint32_t id = sched_submit(t->s, OP_TRAIN, (uint32_t)i, b, t->sp.shards[i].rows);
            blob_unref(&b);
            if (!id) {
                set_err(t, "%s", "out of memory queueing tasks");
                goto out;
            }
        }
        if ((status = wait_batch(t, on_train)) != 0)
            goto out;
        status = EXIT_JOB_FAILED;
        for (size_t i = 0; i < ns; i++) {
            char err[512];
            models[i] = decode_train(t, t->train_res[i], &rows[i], err, sizeof err);
            blob_unref(&t->train_res[i]);
            if (!models[i]) {
                snprintf(t->err, sizeof t->err, "shard %zu: %s", i, err);
                goto out;
            }
        }
        if (model_average((const struct model *const *)models, rows, (int)ns, gl, t->nr_class,
                          t->nr_feature, t->cfg->model.bias, t->w, t->err, sizeof t->err) < 0)
            goto out;
        for (size_t i = 0; i < ns; i++) {
            free_and_destroy_model(&models[i]);
            models[i] = NULL;
        }
        log_info("average round %d/%d done (%.2f s)", r + 1, rounds,
                 (double)(clock_now_ms() - t_tr) / 1000.0);
    }
    t->secs_tron = (double)(clock_now_ms() - t_tr) / 1000.0;
    status = 0;
out:
    if (models)
        for (size_t i = 0; i < ns; i++)
            if (models[i])
                free_and_destroy_model(&models[i]);
    if (t->train_res)
        for (size_t i = 0; i < ns; i++)
            blob_unref(&t->train_res[i]);
    free(t->train_res);
    t->train_res = NULL;
    free(models);
    free(rows);
    free(gl);
    return status;
}

/* ---- outputs ---- */

/* The training submission without a second pass over the file: the workers
 * still hold their parsed shards, so one OP_TRON round with a PRED item for
 * the final weights returns every shard's "id,label,predicted" lines, which
 * are written in shard order (= input order) to tmp, the staged file that
 * write_outputs() commits with the model. */
static int write_submission(trainer_t *t, const char *tmp, double *accuracy)
{
    int status = EXIT_JOB_FAILED;
    FILE *f = NULL;
    t->res = calloc(t->sp.nshards, sizeof *t->res);
    if (!t->res) {
        set_err(t, "%s", "out of memory");
        goto out;
    }
    tronmsg_item_t it = {.cls = (uint32_t)t->nr_w, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_PRED,
                         .flags = TRONMSG_F_TEXT, .w = t->w};
    progress_phase(&t->prog, "predicting");
    if ((status = tron_round(t, &it, 1)) != 0)
        goto out;
    status = EXIT_JOB_FAILED;
    if (!(f = fopen(tmp, "w"))) {
        snprintf(t->err, sizeof t->err, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    uint64_t rows = 0, correct = 0;
    fputs("id,label,predicted\n", f);
    for (size_t s = 0; s < t->sp.nshards; s++) {
        const tronmsg_ans_t *a = &t->res[s].ans[0];
        rows += a->rows;
        correct += a->correct;
        if (a->text_len && fwrite(a->text, 1, a->text_len, f) != a->text_len)
            break;
    }
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        snprintf(t->err, sizeof t->err, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (fclose(f) != 0) {
        f = NULL;
        snprintf(t->err, sizeof t->err, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    f = NULL;
    if (rows != t->sp.rows) {
        snprintf(t->err, sizeof t->err, "predictions cover %llu rows of %llu",
                 (unsigned long long)rows, (unsigned long long)t->sp.rows);
        goto out;
    }
    *accuracy = rows ? (double)correct / (double)rows : -1;
    status = 0;
out:
    if (f)
        fclose(f);
    free_round(t);
    free(t->res);
    t->res = NULL;
    return status;
}

/* The model, its schema and the submission (outputs 0, 1, 2 of outs) are
 * written to their staged files and committed together only when all three
 * are complete: a failure anywhere leaves the previous ones as they were
 * (see master/outputs.h for the order of the renames). */
static int write_outputs(trainer_t *t, outputs_t *outs, double *accuracy)
{
    if (model_write(outputs_stage_path(outs, 0), t->solver, t->nr_class, t->label_values,
                    t->nr_feature, t->cfg->model.bias, t->w, t->err, sizeof t->err) < 0)
        return EXIT_JOB_FAILED;
    if (!outputs_skipped(outs, 1) &&
        schema_save(t->schema, outputs_stage_path(outs, 1), t->err, sizeof t->err) < 0)
        return EXIT_JOB_FAILED;
    int status = write_submission(t, outputs_stage_path(outs, 2), accuracy);
    if (status != 0)
        return status;
    return outputs_commit(outs, t->err, sizeof t->err) < 0 ? EXIT_JOB_FAILED : 0;
}

static void publish_done(trainer_t *t, int status, double acc, double secs)
{
    json_object *jd = json_object_new_object();
    if (!jd)
        return;
    json_object_object_add(jd, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(jd, "mode", json_object_new_string("train"));
    json_object_object_add(jd, "state", json_object_new_string(status == 0 ? "done" : "failed"));
    json_object_object_add(jd, "duration_s", json_object_new_double(secs));
    json_object_object_add(jd, "accuracy", status == 0 && acc >= 0 ? json_object_new_double(acc)
                                                                    : NULL);
    if (t->folds > 0 && status == 0)
        json_object_object_add(jd, "cv_accuracy", json_object_new_double(t->cv_accuracy));
    json_object *out = json_object_new_object();
    if (status == 0 && out) {
        json_object_object_add(out, "model", json_object_new_string(t->cfg->model.file));
        json_object_object_add(out, "submission", json_object_new_string(t->cfg->output.train));
    }
    json_object_object_add(jd, "outputs", out);
    json_object_object_add(jd, "error", status == 0 ? NULL : json_object_new_string(t->err));
    events_publish(t->ctx->ev, EV_JOB_DONE, jd);
}

/* The one line a job stopped by a signal ends with: where it stopped and how
 * to go on. --resume applies once the exact strategy has its journal. */
static void stopped_message(trainer_t *t, bool started)
{
    int sig = (int)*t->ctx->stop;
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
    char where[64];
    if (started)
        snprintf(where, sizeof where, "in the %s phase", t->prog.phase);
    else
        snprintf(where, sizeof where, "while waiting for workers");
    const char *cmd = t->ctx->opts->command;
    if (!cmd[0]) /* a job submitted over REST */
        snprintf(t->err, sizeof t->err, "stopped by %s %s", name, where);
    else if (t->exact && t->journal_key[0] && t->cfg->history.db[0])
        snprintf(t->err, sizeof t->err, "stopped by %s %s; resume with: %s --resume", name,
                 where, cmd);
    else
        snprintf(t->err, sizeof t->err, "stopped by %s %s; run the command again to start over",
                 name, where);
}

int train_run(master_ctx_t *ctx)
{
    trainer_t tr = {.ctx = ctx, .cfg = ctx->cfg, .s = ctx->sched};
    trainer_t *t = &tr;
    const config_t *cfg = ctx->cfg;
    int status = EXIT_USAGE;
    double acc = -1;
    bool started = false;
    outputs_t *outs = NULL;

    t->job_id = ctx->job_id ? ctx->job_id : master_next_job_id();
    t->t0_ms = clock_now_ms();
    t->solver = model_solver_parse(cfg->model.solver); /* known: jobopts_validate() */
    t->exact = jobopts_exact(cfg);
    if (!t->exact && strcmp(cfg->model.strategy, "exact") == 0)
        log_info("solver %s has no distributed exact form; using the average strategy",
                 model_solver_name(t->solver));
    t->folds = ctx->opts->cv_folds;

    /* The job's files: an output that would destroy an input (or another
     * output) is refused before anything is read (exit 2). */
    status = outputs_for_job(cfg, ctx->opts->config_path, CMD_TRAIN, &outs, t->err,
                             sizeof t->err);
    if (status != EXIT_OK) {
        fprintf(stderr, "master: %s\n", t->err);
        return status;
    }

    /* Split first: a missing or broken file is reported before waiting for anyone. */
    const char *path = cfg->data.train;
    data_format_t fmt = split_detect_format(path, cfg->data.format);
    size_t shard_rows = cfg->cluster.shard_rows > 0 ? (size_t)cfg->cluster.shard_rows : 0;
    if (split_file(path, fmt, shard_rows, (size_t)cfg->cluster.shard_mb << 20, &t->sp, t->err, sizeof t->err) < 0) {
        fprintf(stderr, "master: %s\n", t->err);
        outputs_destroy(&outs);
        return EXIT_BAD_DATA;
    }
    t->src = (datasrc_t){.format = fmt, .file = path, .header = t->sp.header,
                         .header_len = t->sp.header_len, .label = cfg->data.label,
                         .id = cfg->data.id[0] ? cfg->data.id : NULL};

    /* Streams open (a FIFO may wait for its reader) and the staged files are
     * made before workers are awaited: an output that cannot be written
     * fails now, not after the training. */
    if (outputs_open(outs, t->s, t->err, sizeof t->err) < 0) {
        fprintf(stderr, "master: %s\n", t->err);
        outputs_destroy(&outs);
        split_free(&t->sp);
        return EXIT_JOB_FAILED;
    }
    int want = ctx->opts->min_workers > 0 ? ctx->opts->min_workers : 1;
    log_info("train: %s, %llu rows in %zu shard(s); waiting for %d worker(s) on port %d", path,
             (unsigned long long)t->sp.rows, t->sp.nshards, want, cfg->master.task_port);
    if (sched_wait_workers(t->s, want, -1) < 0) {
        set_err(t, "%s", "interrupted while waiting for workers");
        status = EXIT_JOB_FAILED;
        goto out;
    }
    double wait_secs = (double)(clock_now_ms() - t->t0_ms) / 1000.0;
    /* The job's duration (dashboard, history) counts work, not the wait for workers. */
    t->t0_ms = clock_now_ms();
    int64_t work_ms = t->t0_ms;
    /* Exact training is a sequence of rounds that each wait for the slowest
     * shard: give every slot of the cluster a shard of its own. */
    int slots = sched_total_slots(t->s);
    if (t->exact) {
        int rc = split_refine(&t->sp, path, fmt, (uint64_t)slots, (size_t)cfg->cluster.shard_mb << 20,
                              t->err, sizeof t->err);
        if (rc < 0) {
            status = EXIT_BAD_DATA;
            goto out;
        }
        t->src.header = t->sp.header;
        t->src.header_len = t->sp.header_len;
        if (rc > 0)
            log_info("train: %zu shard(s) for %d slot(s)", t->sp.nshards, slots);
    }

    sched_shard_t *tab = calloc(t->sp.nshards, sizeof *tab);
    if (!tab) {
        set_err(t, "%s", "out of memory");
        status = EXIT_JOB_FAILED;
        goto out;
    }
    for (size_t i = 0; i < t->sp.nshards; i++)
        tab[i] = (sched_shard_t){t->sp.shards[i].offset, t->sp.shards[i].length,
                                 t->sp.shards[i].rows};
    int rc = sched_begin_job(t->s, t->job_id, path, tab, t->sp.nshards, t->err, sizeof t->err);
    free(tab);
    status = EXIT_JOB_FAILED;
    if (rc < 0 || send_context(t, false) < 0)
        goto out;
    started = true;
    json_object *js = json_object_new_object();
    if (js) {
        json_object_object_add(js, "job_id", json_object_new_int64(t->job_id));
        json_object_object_add(js, "mode", json_object_new_string("train"));
        json_object_object_add(js, "data", json_object_new_string(path));
        json_object_object_add(js, "total_tasks", json_object_new_int64((int64_t)t->sp.nshards));
        json_object_object_add(js, "rows_total", json_object_new_int64((int64_t)t->sp.rows));
        json_object_object_add(js, "workers", json_object_new_int(sched_live_workers(t->s)));
        json_object_object_add(js, "solver", json_object_new_string(model_solver_name(t->solver)));
        json_object_object_add(js, "strategy", json_object_new_string(t->exact ? "exact"
                                                                               : "average"));
        events_publish(ctx->ev, EV_JOB_STARTED, js);
    }
    progress_init(&t->prog, t->s, ctx->ev, t->job_id, ctx->opts->verbosity < 0);
    sched_set_tick(t->s, progress_tick, &t->prog);

    int64_t t_schema = clock_now_ms();
    if ((status = schema_pass(t)) != 0)
        goto out;
    t->secs_schema = (double)(clock_now_ms() - t_schema) / 1000.0;
    status = EXIT_JOB_FAILED;
    if (send_context(t, true) < 0)
        goto out;
    log_info("schema: %d classes, %d features, solver %s, C=%g, eps=%g, bias=%g, %s strategy",
             t->nr_class, t->nr_feature, model_solver_name(t->solver), cfg->model.C,
             cfg->model.eps, cfg->model.bias, t->exact ? "exact" : "average");
    status = t->exact ? exact_train(t) : average_train(t);
    if (status != 0)
        goto out;
    int64_t t_pred = clock_now_ms();
    status = write_outputs(t, outs, &acc);
    t->secs_pred = (double)(clock_now_ms() - t_pred) / 1000.0;
    progress_finish(&t->prog);
    if (status != 0)
        goto out;
    double secs = (double)(clock_now_ms() - t->t0_ms) / 1000.0;
    /* Standard output may be the submission itself. */
    FILE *say = outputs_uses_stdout(outs) ? stderr : stdout;
    if (acc >= 0)
        fprintf(say, "Training accuracy = %.4f%% (%llu rows)\n", 100.0 * acc,
                (unsigned long long)t->sp.rows);
    if (t->folds > 0)
        fprintf(say, "Cross Validation Accuracy = %.4f%% (%d folds)\n", 100.0 * t->cv_accuracy,
                t->folds);
    fprintf(say, "model: %s\nschema: %s%s\nsubmission: %s\n", cfg->model.file,
            outputs_skipped(outs, 1) ? "(none: the model is not a file)" : cfg->model.file,
            outputs_skipped(outs, 1) ? "" : ".schema.json", cfg->output.train);
    fprintf(say, "time: %.2f s from file to outputs (schema %.2f s, loading %.2f s, training %.2f s, "
            "predicting %.2f s), %.2f s waiting for workers\n",
            (double)(clock_now_ms() - work_ms) / 1000.0, t->secs_schema, t->secs_read,
            t->secs_tron, t->secs_pred, wait_secs);
    fflush(stdout);
    publish_done(t, 0, acc, secs);
    if (t->exact && t->journal_key[0] && cfg->history.db[0]) {
        /* the model is on disk: the restart point has served its purpose */
        char err[512];
        journal_t *j = journal_open(cfg->history.db, err, sizeof err);
        if (!j || journal_forget(j, t->journal_key, err, sizeof err) < 0)
            log_warn("%s", err);
        journal_close(&j);
    }
    status = 0;
out:
    if (status != 0) {
        progress_finish(&t->prog);
        if (*ctx->stop)
            stopped_message(t, started);
        if (!t->err[0])
            set_err(t, "%s", "training failed");
        fprintf(stderr, "master: %s\n", t->err);
        if (started)
            publish_done(t, status, -1, (double)(clock_now_ms() - t->t0_ms) / 1000.0);
    }
    sched_set_tick(t->s, NULL, NULL);
    sched_end_job(t->s);
    outputs_destroy(&outs);
    split_free(&t->sp);
    schema_destroy(&t->schema);
    free(t->schema_json);
    free(t->label_values);
    free(t->w);
    return status;
}
