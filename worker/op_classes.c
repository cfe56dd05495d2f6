/* OP_CLASSES: whole one-vs-rest classes trained on a worker that holds every
 * row of the file (class-parallel training, master/train_classes.h).
 *
 * The rows came in the job context (common/jobctx.h: data); they are parsed
 * once per context and kept as the derived state of a pseudo-shard entry of
 * the job in the cache (ROWS_SHARD), so that the tasks of this worker's
 * slots share them read-only and the cache frees them with the job. Each
 * task runs liblinear's TRON (common/tron.h) for its classes in lockstep:
 * one pass over the rows (linfun_batch) answers every class's next request,
 * FUN with the gradient at its point as the master's rounds do. The task
 * checks for cancellation between passes.
 *
 * Body and result: common/classmsg.h. */
#include "common/classmsg.h"
#include "common/dataset.h"
#include "common/hash.h"
#include "common/jobctx.h"
#include "common/linfun.h"
#include "common/model.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/tron.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The cache entry that holds a job's parsed rows (a task naming it is
 * dropped by the worker loop, so no other op finds this state). */
#define ROWS_SHARD PROTO_ROWS_SHARD

/* The parsed rows, shared by the tasks that use them: each holds a
 * reference, and so does the cache entry while the state is current. */
typedef struct rows {
    int refs; /* atomic */
    uint64_t ctx_hash;
    schema_t *schema;
    dataset_t *d;
    int solver, nr_w;
    double C;
} rows_t;

static void rows_unref(void *p) {
    rows_t *r = p;
    if (!r || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    dataset_destroy(&r->d);
    schema_destroy(&r->schema);
    free(r);
}

/* Parses the context's rows. NULL with *cls and err set. */
static rows_t *rows_build(const jobctx_t *jc, uint64_t h, int *cls, char *err, size_t errlen) {
    rows_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->refs = 1;
    r->ctx_hash = h;
    r->solver = jc->solver;
    r->C = jc->C;
    if (!jc->data || !jc->schema_json) {
        snprintf(err, errlen, "job context has no rows or no schema for class-parallel training");
        goto fail;
    }
    if (!(r->schema = schema_from_json(jc->schema_json, jc->schema_len, err, errlen))) goto fail;
    r->nr_w = model_nr_w(r->solver, schema_nr_class(r->schema));
    datasrc_t src = shardstate_source(jc);
    if (dataset_from_shard(r->schema, &src, jc->data, jc->data_len, 0, jc->data_first_line,
                           jc->bias, &r->d, err, errlen) < 0) {
        *cls = PROTO_ERR_DATA;
        goto fail;
    }
    return r;
fail:
    rows_unref(r);
    return NULL;
}

/* What tells one context of the job from another: its JSON (u32 length,
 * then the JSON), which names the rows' length and first line. The rows
 * themselves are the job's file, which a job does not change, so they are
 * not hashed again by every task (they may be hundreds of MB). */
static uint64_t context_key(const op_ctx_t *ctx) {
    size_t n = ctx->context_len;
    if (n >= 4) {
        size_t jlen = proto_get_u32(ctx->context);
        if (jlen <= n - 4) n = 4 + jlen;
    }
    return hash_fnv1a(ctx->context, n);
}

/* The job's rows, parsed on first use: a reference the caller drops with
 * rows_unref(). NULL with *cls and err set. */
static rows_t *rows_get(op_ctx_t *ctx, int *cls, char *err, size_t errlen) {
    *cls = PROTO_ERR_INTERNAL;
    if (!ctx->context) {
        *cls = PROTO_ERR_NOSHARD;
        snprintf(err, errlen, "task lacks its job context");
        return NULL;
    }
    /* find or make the entry under one lock, so that the slots starting
     * together share one entry (and one parse) */
    static pthread_mutex_t entry_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&entry_lock);
    cache_entry_t *e = cache_acquire(ctx->cache, ctx->job_id, ROWS_SHARD);
    if (!e) {
        blob_t *none = blob_new(0);
        if (!none || cache_put_shard(ctx->cache, ctx->job_id, ROWS_SHARD, none) < 0) {
            blob_unref(&none);
            pthread_mutex_unlock(&entry_lock);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        blob_unref(&none);
        e = cache_acquire(ctx->cache, ctx->job_id, ROWS_SHARD);
    }
    pthread_mutex_unlock(&entry_lock);
    if (!e) {
        snprintf(err, errlen, "out of memory, or the job's rows were evicted");
        return NULL;
    }
    uint64_t h = context_key(ctx);
    jobctx_t *jc = NULL;
    cache_entry_lock(e);
    rows_t *r = cache_entry_state(e);
    if (!r || r->ctx_hash != h) {
        r = NULL;
        if ((jc = jobctx_decode(ctx->context, ctx->context_len, err, errlen)) &&
            (r = rows_build(jc, h, cls, err, errlen)))
            cache_entry_set_state(e, r, rows_unref);
    }
    if (r) __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
    cache_entry_unlock(e);
    cache_release(&e);
    jobctx_destroy(&jc);
    return r;
}

/* The rows of d relabelled for the task's m classes: class list[i] is i,
 * every other label m ("the rest"), so that linfun's buffers are m + 1
 * classes wide, not the job's. y is the caller's (l entries). */
static dataset_t relabel(const dataset_t *d, const classmsg_req_t *req, int nr_w, int *y) {
    int *pos = malloc((size_t)nr_w * sizeof *pos);
    dataset_t v = *d;
    v.y = y;
    if (!pos) {
        v.y = NULL;
        return v;
    }
    for (int k = 0; k < nr_w; k++)
        pos[k] = (int)req->count;
    for (size_t i = 0; i < req->count; i++)
        pos[req->cls[i].cls] = (int)i;
    for (size_t i = 0; i < d->rows; i++)
        y[i] = d->y[i] >= 0 && d->y[i] < nr_w ? pos[d->y[i]] : (int)req->count;
    free(pos);
    return v;
}

/* One pass: every unfinished class's next request, answered by one
 * linfun_batch and fed back. Returns how many classes asked (0: all done). */
static int tron_pass(linfun_t *lf, tron_t **tr, size_t m, linfun_req_t *reqs, double *loss, int n) {
    int asked = 0;
    for (size_t i = 0; i <= m; i++)
        reqs[i] = (linfun_req_t){.op = LINFUN_NONE};
    for (size_t i = 0; i < m; i++) {
        const double *v;
        double *diag, *sums;
        tron_op_t op = tron_next(tr[i], &v);
        if (op == TRON_DONE) continue;
        asked++;
        sums = tron_sums(tr[i], &diag);
        memset(sums, 0, (size_t)n * sizeof *sums);
        if (diag) memset(diag, 0, (size_t)n * sizeof *diag);
        if (op == TRON_FUN)
            reqs[i] = (linfun_req_t){
                .op = LINFUN_FUNGRAD, .v = v, .loss = &loss[i], .out = sums, .diag = diag};
        else if (op == TRON_GRAD)
            reqs[i] = (linfun_req_t){.op = LINFUN_GRAD, .out = sums, .diag = diag};
        else
            reqs[i] = (linfun_req_t){.op = LINFUN_HV, .v = v, .out = sums};
    }
    if (!asked) return 0;
    linfun_batch(lf, reqs);
    for (size_t i = 0; i < m; i++) {
        double *diag, *sums = tron_sums(tr[i], &diag);
        switch (reqs[i].op) {
        case LINFUN_FUNGRAD:
            /* the trial point's D becomes the one H*s uses when accepted */
            if (tron_feed_fun_grad(tr[i], loss[i]) == 1) linfun_accept(lf, (int)i);
            break;
        case LINFUN_GRAD:
            tron_feed_grad(tr[i], sums, diag);
            break;
        case LINFUN_HV:
            tron_feed_hv(tr[i], sums);
            break;
        default:
            break;
        }
    }
    return asked;
}

/* Trains the request's classes on r's rows into a result blob. */
static int train_classes(op_ctx_t *ctx, const rows_t *r, const classmsg_req_t *req, blob_t **result,
                         char *err, size_t errlen) {
    const dataset_t *d = r->d;
    size_t m = req->count, l = d->rows;
    int rc = PROTO_ERR_INTERNAL, n = d->n;
    for (size_t i = 0; i < m; i++)
        if ((int)req->cls[i].cls >= r->nr_w) {
            snprintf(err, errlen, "class %u of %d", req->cls[i].cls, r->nr_w);
            return PROTO_ERR_DATA;
        }
    if ((int)req->n != n) {
        snprintf(err, errlen, "request has %u variables, the rows have %d", req->n, n);
        return PROTO_ERR_DATA;
    }
    int *y = malloc((l ? l : 1) * sizeof *y);
    tron_t **tr = calloc(m, sizeof *tr);
    linfun_req_t *reqs = calloc(m + 1, sizeof *reqs);
    double *loss = calloc(m, sizeof *loss);
    classmsg_ans_t *ans = calloc(m, sizeof *ans);
    linfun_t *lf = NULL;
    if (!y || !tr || !reqs || !loss || !ans) goto nomem;
    dataset_t v = relabel(d, req, r->nr_w, y);
    if (!v.y || !(lf = linfun_new(&v, r->solver, (int)m + 1, err, errlen))) goto out;
    for (size_t i = 0; i < m; i++)
        if (!(tr[i] = tron_new(n, r->C, req->cls[i].eps, tron_eps_cg(0), TRON_OUTER_MAX, NULL)))
            goto nomem;
    while (tron_pass(lf, tr, m, reqs, loss, n) > 0) {
        op_add_rows(ctx, l);
        if (op_cancelled(ctx)) {
            snprintf(err, errlen, "cancelled");
            goto out;
        }
    }
    for (size_t i = 0; i < m; i++)
        ans[i] = (classmsg_ans_t){.cls = req->cls[i].cls,
                                  .iters = (uint32_t)tron_iteration_info(tr[i], NULL),
                                  .cg = (uint32_t)tron_cg_total(tr[i]),
                                  .stop = (uint32_t)tron_stop_reason(tr[i]),
                                  .f = tron_f(tr[i]),
                                  .gnorm = tron_gnorm(tr[i]),
                                  .w = tron_weights(tr[i])};
    if ((*result = classmsg_encode_res(req->n, ans, m, err, errlen))) rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    for (size_t i = 0; tr && i < m; i++)
        tron_destroy(&tr[i]);
    linfun_destroy(&lf);
    free(y);
    free(tr);
    free(reqs);
    free(loss);
    free(ans);
    return rc;
}

static int op_classes(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                      size_t errlen) {
    classmsg_req_t req;
    int cls = PROTO_ERR_DATA;
    *result = NULL;
    if (classmsg_decode_req(body, blen, &req, err, errlen) < 0) return cls;
    rows_t *r = rows_get(ctx, &cls, err, errlen);
    if (r) {
        cls = train_classes(ctx, r, &req, result, err, errlen);
        rows_unref(r);
        op_test_delay(ctx, OP_DELAY_TRON);
    }
    classmsg_req_free(&req);
    return cls;
}

op_def_t op_classes_def = {.name = "classes", .fn = op_classes, .needs = OP_NEEDS_CONTEXT};
