/* OP_TRON: a shard's partial sums for distributed TRON (common/tronmsg.h). */
#include "common/csvrow.h"
#include "common/proto.h"
#include "common/tronmsg.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Test seam: NC_TEST_TRON_DELAY_MS stretches every task so that end-to-end
 * tests can kill a process in the middle of training. Read once; never set
 * in production. */
static void test_delay(op_ctx_t *ctx)
{
    static int ms = -1;
    if (__atomic_load_n(&ms, __ATOMIC_RELAXED) < 0) {
        const char *e = getenv("NC_TEST_TRON_DELAY_MS");
        int v = e ? atoi(e) : 0;
        __atomic_store_n(&ms, v > 0 && v < 10000 ? v : 0, __ATOMIC_RELAXED);
    }
    for (int left = __atomic_load_n(&ms, __ATOMIC_RELAXED); left > 0 && !op_cancelled(ctx);
         left -= 10) {
        struct timespec ts = {0, 10L * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* One "id,label,predicted" line (common/csvrow.h; the training submission
 * does not quote outer blanks). */
static int put_line(csvrow_t *row, const char *id, const char *label, const char *pred)
{
    /* || keeps the order: the operands of | are not sequenced */
    if (csvrow_field(row, id, strlen(id)) < 0 || csvrow_text(row, ",", 1) < 0 ||
        csvrow_field(row, label, strlen(label)) < 0 || csvrow_text(row, ",", 1) < 0 ||
        csvrow_field(row, pred, strlen(pred)) < 0 || csvrow_text(row, "\n", 1) < 0)
        return -1;
    return 0;
}

/* Predicted label index of row x under w (n*nr_w, liblinear layout), with
 * liblinear's rules: sign for one vector, first maximum otherwise. */
static int predict_row(const struct feature_node *x, const double *w, int n, int nr_w,
                       double *dec)
{
    for (int k = 0; k < nr_w; k++)
        dec[k] = 0;
    for (; x->index != -1; x++) {
        int j = x->index - 1;
        if (j < 0 || j >= n)
            continue;
        for (int k = 0; k < nr_w; k++)
            dec[k] += w[(size_t)j * (size_t)nr_w + (size_t)k] * x->value;
    }
    if (nr_w == 1)
        return dec[0] > 0 ? 0 : 1;
    int best = 0;
    for (int k = 1; k < nr_w; k++)
        if (dec[k] > dec[best])
            best = k;
    return best;
}

static int do_pred(shardstate_t *st, const tronmsg_item_t *it, uint32_t folds, int n,
                   tronmsg_ans_t *a, char **text, char *err, size_t errlen)
{
    const dataset_t *d = st->d;
    int nr_w = (int)it->cls;
    csvrow_t row = {0};
    char num[32];
    double *dec = malloc((size_t)nr_w * sizeof *dec);
    if (!dec || (nr_w != st->nr_w)) {
        snprintf(err, errlen, dec ? "prediction with %d vectors, model has %d" : "out of memory",
                 nr_w, st->nr_w);
        free(dec);
        return -1;
    }
    for (size_t i = 0; i < d->rows; i++) {
        uint64_t r = d->first_row + i;
        if (it->fold != TRONMSG_ALL_ROWS && (folds == 0 || r % folds != it->fold))
            continue;
        int p = predict_row(d->x[i], it->w, n, nr_w, dec);
        a->rows++;
        if (d->y[i] == p)
            a->correct++;
        if (!(it->flags & TRONMSG_F_TEXT))
            continue;
        const char *id = d->ids ? d->ids[i] : NULL;
        if (!id) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)(r + 1));
            id = num;
        }
        const char *lab = d->y[i] >= 0 ? schema_label_name(st->schema, d->y[i]) : "";
        const char *pl = schema_label_name(st->schema, p);
        if (!lab)
            lab = "";
        if (!pl)
            pl = "";
        if (put_line(&row, id, lab, pl) < 0) {
            snprintf(err, errlen, "out of memory");
            csvrow_free(&row);
            free(dec);
            return -1;
        }
    }
    size_t len = 0;
    *text = (char *)buf_detach(&row.out, &len);
    a->text = *text;
    a->text_len = len;
    free(dec);
    return 0;
}

static int op_tron(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                   size_t errlen)
{
    int cls = PROTO_ERR_INTERNAL;
    tronmsg_req_t req = {0};
    tronmsg_ans_t *ans = NULL;
    double *store = NULL;
    uint64_t *pos = NULL;
    char **texts = NULL;
    void *vecs = NULL;
    linfun_req_t *lreq = NULL;
    *result = NULL;

    if (tronmsg_decode_req(body, blen, &req, err, errlen) < 0)
        goto out;
    if (ctx->shard >= req.nshards) {
        snprintf(err, errlen, "shard %u not in the request's table of %zu", ctx->shard,
                 req.nshards);
        goto out;
    }
    shardstate_t *st = shardstate_get(ctx, req.shards[ctx->shard].first_row,
                                      req.shards[ctx->shard].first_line, &cls, err, errlen);
    if (!st)
        goto out;
    cls = PROTO_ERR_INTERNAL;
    int n = st->d->n, nr_w = st->nr_w;
    if ((uint32_t)n != req.n) {
        snprintf(err, errlen, "request has %u variables, shard has %d", req.n, n);
        goto out;
    }
    if (req.folds > 1000000) {
        snprintf(err, errlen, "%u folds", req.folds);
        goto out;
    }

    /* room for every answer's vectors */
    size_t nd = 0;
    bool need_lf = false;
    for (size_t i = 0; i < req.count; i++) {
        const tronmsg_item_t *it = &req.items[i];
        if (it->op == TRONMSG_FUN || it->op == TRONMSG_GRAD || it->op == TRONMSG_HV) {
            need_lf = true;
            if ((int)it->cls >= nr_w) {
                snprintf(err, errlen, "class %u of %d", it->cls, nr_w);
                goto out;
            }
        }
        if (it->fold != TRONMSG_ALL_ROWS && it->fold >= req.folds) {
            snprintf(err, errlen, "fold %u of %u", it->fold, req.folds);
            goto out;
        }
        nd += it->op == TRONMSG_GRAD ? 2 * (size_t)n : it->op == TRONMSG_HV ? (size_t)n : 0;
    }
    ans = calloc(req.count ? req.count : 1, sizeof *ans);
    store = calloc(nd ? nd : 1, sizeof *store);
    pos = calloc(req.count * (size_t)nr_w + 1, sizeof *pos);
    texts = calloc(req.count ? req.count : 1, sizeof *texts);
    lreq = calloc((size_t)nr_w, sizeof *lreq);
    vecs = calloc(req.count ? req.count : 1, sizeof(double *));
    if (!ans || !store || !pos || !texts || !lreq || !vecs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (need_lf && shardstate_prepare(st, (int)req.folds, &cls, err, errlen) < 0)
        goto out;
    cls = PROTO_ERR_INTERNAL;

    /* writable views of the answers' vectors (the answers hold them const) */
    double **vec = (double **)(void *)vecs;
    double *sp = store;
    for (size_t i = 0; i < req.count; i++) {
        const tronmsg_item_t *it = &req.items[i];
        ans[i] = (tronmsg_ans_t){.cls = it->cls, .fold = it->fold, .op = it->op};
        vec[i] = sp;
        if (it->op == TRONMSG_GRAD) {
            ans[i].g = sp;
            ans[i].diag = sp + n;
            sp += 2 * (size_t)n;
        } else if (it->op == TRONMSG_HV) {
            ans[i].hv = sp;
            sp += n;
        }
    }

    /* FUN/GRAD/HV: one linfun_batch pass per fold */
    int nlf = need_lf ? 1 + st->folds : 0;
    for (int li = 0; li < nlf; li++) {
        uint32_t fold = li == 0 ? TRONMSG_ALL_ROWS : (uint32_t)(li - 1);
        linfun_t *lf = st->lf[li];
        uint64_t *fun_pt = st->fun_pt + (size_t)li * (size_t)nr_w;
        uint64_t *grad_pt = st->grad_pt + (size_t)li * (size_t)nr_w;
        bool any = false;
        memset(lreq, 0, (size_t)nr_w * sizeof *lreq);
        for (size_t i = 0; i < req.count; i++) {
            const tronmsg_item_t *it = &req.items[i];
            if (it->fold != fold || it->op < TRONMSG_FUN || it->op > TRONMSG_HV)
                continue;
            int k = (int)it->cls;
            if (lreq[k].op != LINFUN_NONE) {
                snprintf(err, errlen, "two requests for class %d fold %u", k, fold);
                goto out;
            }
            any = true;
            switch (it->op) {
            case TRONMSG_FUN:
                lreq[k] = (linfun_req_t){.op = LINFUN_FUN, .v = it->w, .out = &ans[i].f};
                fun_pt[k] = it->point;
                break;
            case TRONMSG_GRAD:
                /* the margins of this point may be gone (shard moved here) */
                if (fun_pt[k] != it->point || it->point == 0) {
                    linfun_fun(lf, k, it->w);
                    fun_pt[k] = it->point;
                }
                lreq[k] = (linfun_req_t){.op = LINFUN_GRAD, .out = vec[i], .diag = vec[i] + n};
                grad_pt[k] = it->point;
                break;
            case TRONMSG_HV:
                if (grad_pt[k] != it->point || it->point == 0) {
                    /* rebuild D at the gradient point; ans.hv is scratch here */
                    linfun_fun(lf, k, it->w);
                    linfun_grad(lf, k, vec[i], NULL);
                    memset(vec[i], 0, (size_t)n * sizeof(double));
                    fun_pt[k] = grad_pt[k] = it->point;
                }
                lreq[k] = (linfun_req_t){.op = LINFUN_HV, .v = it->s, .out = vec[i]};
                break;
            }
        }
        if (any)
            linfun_batch(lf, lreq);
        if (op_cancelled(ctx)) {
            snprintf(err, errlen, "cancelled");
            goto out;
        }
    }

    /* COUNT and PRED */
    for (size_t i = 0; i < req.count; i++) {
        const tronmsg_item_t *it = &req.items[i];
        if (it->op == TRONMSG_COUNT) {
            if ((int)it->cls != nr_w) {
                snprintf(err, errlen, "count for %u classes, model has %d", it->cls, nr_w);
                goto out;
            }
            const dataset_t *d = it->fold == TRONMSG_ALL_ROWS ? st->d : NULL;
            uint64_t *pk = pos + i * (size_t)nr_w;
            for (size_t r = 0; r < st->d->rows; r++) {
                uint64_t row = st->d->first_row + r;
                if (!d && row % req.folds == it->fold)
                    continue;
                ans[i].rows++;
                int y = st->d->y[r];
                if (y >= 0 && y < nr_w)
                    pk[y]++;
            }
            ans[i].pos = pk;
        } else if (it->op == TRONMSG_PRED) {
            if (do_pred(st, it, req.folds, n, &ans[i], &texts[i], err, errlen) < 0)
                goto out;
        }
    }
    op_add_rows(ctx, st->d->rows);
    test_delay(ctx);
    *result = tronmsg_encode_res((uint32_t)n, ans, req.count, err, errlen);
    if (*result)
        cls = 0;
out:
    if (texts)
        for (size_t i = 0; i < req.count; i++)
            free(texts[i]);
    free(texts);
    free(vecs);
    free(lreq);
    free(pos);
    free(store);
    free(ans);
    tronmsg_req_free(&req);
    return cls;
}

op_def_t op_tron_def = {.name = "tron", .fn = op_tron, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
