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
static void test_delay(op_ctx_t *ctx) {
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
static int put_line(csvrow_t *row, const char *id, const char *label, const char *pred) {
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
                       double *dec) {
    for (int k = 0; k < nr_w; k++)
        dec[k] = 0;
    for (; x->index != -1; x++) {
        int j = x->index - 1;
        if (j < 0 || j >= n) continue;
        for (int k = 0; k < nr_w; k++)
            dec[k] += w[(size_t)j * (size_t)nr_w + (size_t)k] * x->value;
    }
    if (nr_w == 1) return dec[0] > 0 ? 0 : 1;
    int best = 0;
    for (int k = 1; k < nr_w; k++)
        if (dec[k] > dec[best]) best = k;
    return best;
}

static int do_pred(shardstate_t *st, const tronmsg_item_t *it, uint32_t folds, int n,
                   tronmsg_ans_t *a, char **text, char *err, size_t errlen) {
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
        if (it->fold != TRONMSG_ALL_ROWS && (folds == 0 || r % folds != it->fold)) continue;
        int p = predict_row(d->x[i], it->w, n, nr_w, dec);
        a->rows++;
        if (d->y[i] == p) a->correct++;
        if (!(it->flags & TRONMSG_F_TEXT)) continue;
        const char *id = d->ids ? d->ids[i] : NULL;
        if (!id) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)(r + 1));
            id = num;
        }
        const char *lab = d->y[i] >= 0 ? schema_label_name(st->schema, d->y[i]) : "";
        const char *pl = schema_label_name(st->schema, p);
        if (!lab) lab = "";
        if (!pl) pl = "";
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

/* The working state of one OP_TRON request; op_tron frees it. */
typedef struct {
    tronmsg_req_t req;
    shardstate_t *st; /* borrowed from the context */
    int n, nr_w;
    bool need_lf; /* some item is FUN, GRAD or HV */
    size_t nd;    /* doubles the answers' vectors need */
    tronmsg_ans_t *ans;
    double *store;      /* [nd]: every answer's vectors */
    uint64_t *pos;      /* [count * nr_w]: COUNT's per-class tallies */
    char **texts;       /* [count]: PRED's lines */
    double **vec;       /* [count]: writable views into store (the answers hold them const) */
    linfun_req_t *lreq; /* [nr_w]: one fold pass's requests */
} tron_work_t;

/* Checks the request against this shard: its table, the variables, the
 * folds, each item's class and fold; counts the vectors the answers need. */
static int tron_check(op_ctx_t *ctx, tron_work_t *t, int *cls, char *err, size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    if (ctx->shard >= req->nshards) {
        snprintf(err, errlen, "shard %u not in the request's table of %zu", ctx->shard,
                 req->nshards);
        return -1;
    }
    t->st = shardstate_get(ctx, req->shards[ctx->shard].first_row,
                           req->shards[ctx->shard].first_line, cls, err, errlen);
    if (!t->st) return -1;
    *cls = PROTO_ERR_INTERNAL;
    int n = t->n = t->st->d->n, nr_w = t->nr_w = t->st->nr_w;
    if ((uint32_t)n != req->n) {
        snprintf(err, errlen, "request has %u variables, shard has %d", req->n, n);
        return -1;
    }
    if (req->folds > 1000000) {
        snprintf(err, errlen, "%u folds", req->folds);
        return -1;
    }
    for (size_t i = 0; i < req->count; i++) {
        const tronmsg_item_t *it = &req->items[i];
        if (it->op == TRONMSG_FUN || it->op == TRONMSG_GRAD || it->op == TRONMSG_HV) {
            t->need_lf = true;
            if ((int)it->cls >= nr_w) {
                snprintf(err, errlen, "class %u of %d", it->cls, nr_w);
                return -1;
            }
        }
        if (it->fold != TRONMSG_ALL_ROWS && it->fold >= req->folds) {
            snprintf(err, errlen, "fold %u of %u", it->fold, req->folds);
            return -1;
        }
        t->nd += it->op == TRONMSG_GRAD ? 2 * (size_t)n : it->op == TRONMSG_HV ? (size_t)n : 0;
    }
    return 0;
}

/* Allocates the working arrays, prepares the shard's folds when an item
 * needs them, and binds each answer to its slice of the store. */
static int tron_alloc(tron_work_t *t, int *cls, char *err, size_t errlen) {
    size_t count = t->req.count;
    int n = t->n;
    t->ans = calloc(count ? count : 1, sizeof *t->ans);
    t->store = calloc(t->nd ? t->nd : 1, sizeof *t->store);
    t->pos = calloc(count * (size_t)t->nr_w + 1, sizeof *t->pos);
    t->texts = calloc(count ? count : 1, sizeof *t->texts);
    t->lreq = calloc((size_t)t->nr_w, sizeof *t->lreq);
    t->vec = calloc(count ? count : 1, sizeof *t->vec);
    if (!t->ans || !t->store || !t->pos || !t->texts || !t->lreq || !t->vec) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (t->need_lf && shardstate_prepare(t->st, (int)t->req.folds, cls, err, errlen) < 0) return -1;
    *cls = PROTO_ERR_INTERNAL;

    double *sp = t->store;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        t->ans[i] = (tronmsg_ans_t){.cls = it->cls, .fold = it->fold, .op = it->op};
        t->vec[i] = sp;
        if (it->op == TRONMSG_GRAD) {
            t->ans[i].g = sp;
            t->ans[i].diag = sp + n;
            sp += 2 * (size_t)n;
        } else if (it->op == TRONMSG_HV) {
            t->ans[i].hv = sp;
            sp += n;
        }
    }
    return 0;
}

/* FUN/GRAD/HV over fold li (0 = every row, 1 + f = fold f): one
 * linfun_batch pass for every class asked about. */
static int tron_fold(op_ctx_t *ctx, tron_work_t *t, int li, char *err, size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    int n = t->n, nr_w = t->nr_w;
    uint32_t fold = li == 0 ? TRONMSG_ALL_ROWS : (uint32_t)(li - 1);
    linfun_t *lf = t->st->lf[li];
    uint64_t *fun_pt = t->st->fun_pt + (size_t)li * (size_t)nr_w;
    uint64_t *grad_pt = t->st->grad_pt + (size_t)li * (size_t)nr_w;
    linfun_req_t *lreq = t->lreq;
    double **vec = t->vec;
    bool any = false;
    memset(lreq, 0, (size_t)nr_w * sizeof *lreq);
    for (size_t i = 0; i < req->count; i++) {
        const tronmsg_item_t *it = &req->items[i];
        if (it->fold != fold || it->op < TRONMSG_FUN || it->op > TRONMSG_HV) continue;
        int k = (int)it->cls;
        if (lreq[k].op != LINFUN_NONE) {
            snprintf(err, errlen, "two requests for class %d fold %u", k, fold);
            return -1;
        }
        any = true;
        switch (it->op) {
        case TRONMSG_FUN:
            lreq[k] = (linfun_req_t){.op = LINFUN_FUN, .v = it->w, .out = &t->ans[i].f};
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
    if (any) linfun_batch(lf, lreq);
    if (op_cancelled(ctx)) {
        snprintf(err, errlen, "cancelled");
        return -1;
    }
    return 0;
}

/* COUNT item i: the rows it covers and how many of each class. */
static int tron_count(tron_work_t *t, size_t i, char *err, size_t errlen) {
    const tronmsg_item_t *it = &t->req.items[i];
    const shardstate_t *st = t->st;
    int nr_w = t->nr_w;
    if ((int)it->cls != nr_w) {
        snprintf(err, errlen, "count for %u classes, model has %d", it->cls, nr_w);
        return -1;
    }
    const dataset_t *d = it->fold == TRONMSG_ALL_ROWS ? st->d : NULL;
    uint64_t *pk = t->pos + i * (size_t)nr_w;
    for (size_t r = 0; r < st->d->rows; r++) {
        uint64_t row = st->d->first_row + r;
        if (!d && row % t->req.folds == it->fold) continue;
        t->ans[i].rows++;
        int y = st->d->y[r];
        if (y >= 0 && y < nr_w) pk[y]++;
    }
    t->ans[i].pos = pk;
    return 0;
}

/* COUNT and PRED items, in request order. */
static int tron_tally(tron_work_t *t, char *err, size_t errlen) {
    for (size_t i = 0; i < t->req.count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        if (it->op == TRONMSG_COUNT) {
            if (tron_count(t, i, err, errlen) < 0) return -1;
        } else if (it->op == TRONMSG_PRED) {
            if (do_pred(t->st, it, t->req.folds, t->n, &t->ans[i], &t->texts[i], err, errlen) < 0)
                return -1;
        }
    }
    return 0;
}

static int op_tron(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                   size_t errlen) {
    int cls = PROTO_ERR_INTERNAL;
    tron_work_t t = {0};
    *result = NULL;

    if (tronmsg_decode_req(body, blen, &t.req, err, errlen) < 0) goto out;
    if (tron_check(ctx, &t, &cls, err, errlen) < 0) goto out;
    if (tron_alloc(&t, &cls, err, errlen) < 0) goto out;
    int nlf = t.need_lf ? 1 + t.st->folds : 0;
    for (int li = 0; li < nlf; li++)
        if (tron_fold(ctx, &t, li, err, errlen) < 0) goto out;
    if (tron_tally(&t, err, errlen) < 0) goto out;
    op_add_rows(ctx, t.st->d->rows);
    test_delay(ctx);
    *result = tronmsg_encode_res((uint32_t)t.n, t.ans, t.req.count, err, errlen);
    if (*result) cls = 0;
out:
    if (t.texts)
        for (size_t i = 0; i < t.req.count; i++)
            free(t.texts[i]);
    free(t.texts);
    free(t.vec);
    free(t.lreq);
    free(t.pos);
    free(t.store);
    free(t.ans);
    tronmsg_req_free(&t.req);
    return cls;
}

op_def_t op_tron_def = {.name = "tron", .fn = op_tron, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
