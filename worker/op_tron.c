/* OP_TRON: a shard's partial sums for distributed TRON (common/tronmsg.h). */
#include "common/colset.h"
#include "common/csvrow.h"
#include "common/sortint.h"
#include "common/proto.h"
#include "common/treemsg.h"
#include "common/tronmsg.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
 * liblinear's rules: sign for one vector, first maximum otherwise. The
 * row's columns are w's, or, with cols, local ones: index i is column
 * cols[i - 1] (ms of them; shardstate.h). */
static int predict_row(const struct feature_node *x, const double *w, int n, int nr_w,
                       const uint32_t *cols, size_t ms, double *dec) {
    for (int k = 0; k < nr_w; k++)
        dec[k] = 0;
    for (; x->index != -1; x++) {
        int j = x->index - 1;
        if (cols) j = j >= 0 && (size_t)j < ms ? (int)cols[j] : -1;
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

/* The (truth, pred, count) cells of keys[0..n) (truth << 32 | pred), sorted
 * in place, into a new array of three u64s a cell; NULL when out of memory. */
static uint64_t *cells_of(uint64_t *keys, size_t n, size_t *ncells) {
    uint64_t *cells = malloc((n ? n : 1) * 3 * sizeof *cells);
    size_t c = 0;
    if (!cells) return NULL;
    sort_u64(keys, n);
    for (size_t i = 0; i < n; i++) {
        if (c == 0 || keys[i] != keys[i - 1]) {
            cells[3 * c] = keys[i] >> 32;
            cells[3 * c + 1] = keys[i] & 0xffffffffu;
            cells[3 * c + 2] = 0;
            c++;
        }
        cells[3 * (c - 1) + 2]++;
    }
    *ncells = c;
    return cells;
}

/* -log p(true label y) under a logistic one-vs-rest model with decision
 * values dec (liblinear's predict_probability: one sigmoid for two classes,
 * else the sigmoids normalised to sum 1), p clipped to [1e-15, 1 - 1e-15]. */
static double row_log_loss(const double *dec, int nr_w, int y) {
    double p;
    if (nr_w == 1) {
        double p0 = 1 / (1 + exp(-dec[0]));
        p = y == 0 ? p0 : 1 - p0;
    } else {
        double sum = 0;
        for (int k = 0; k < nr_w; k++)
            sum += 1 / (1 + exp(-dec[k]));
        p = (1 / (1 + exp(-dec[y]))) / sum;
    }
    if (p < 1e-15) p = 1e-15;
    if (p > 1 - 1e-15) p = 1 - 1e-15;
    return -log(p);
}

static int do_pred(shardstate_t *st, const tronmsg_item_t *it, uint32_t folds, int n,
                   tronmsg_ans_t *a, char **text, uint64_t **cells, char *err, size_t errlen) {
    const dataset_t *d = st->d;
    int nr_w = (int)it->cls;
    csvrow_t row = {0};
    char num[32];
    double *dec = malloc((size_t)nr_w * sizeof *dec);
    bool want_cells = it->flags & TRONMSG_F_CELLS;
    /* log loss: only a logistic model has probabilities */
    bool want_loss = (it->flags & TRONMSG_F_STAT) && st->solver == 0;
    if (it->flags & TRONMSG_F_STAT) a->flags |= TRONMSG_F_STAT;
    uint64_t *keys = want_cells ? malloc((d->rows ? d->rows : 1) * sizeof *keys) : NULL;
    size_t nkeys = 0;
    if (!dec || (nr_w != st->nr_w) || (want_cells && !keys)) {
        if (!dec || (want_cells && !keys))
            snprintf(err, errlen, "out of memory");
        else
            snprintf(err, errlen, "prediction with %d vectors, model has %d", nr_w, st->nr_w);
        free(dec);
        free(keys);
        return -1;
    }
    for (size_t i = 0; i < d->rows; i++) {
        uint64_t r = d->first_row + i;
        if (it->fold != TRONMSG_ALL_ROWS && (folds == 0 || r % folds != it->fold)) continue;
        int p =
            predict_row(d->x[i], it->w, n, nr_w, st->renumbered ? st->lcols : NULL, st->ms, dec);
        a->rows++;
        if (d->y[i] == p) a->correct++;
        if (want_loss && d->y[i] >= 0 && d->y[i] < (nr_w == 1 ? 2 : nr_w))
            a->f += row_log_loss(dec, nr_w, d->y[i]);
        if (want_cells && d->y[i] >= 0) keys[nkeys++] = (uint64_t)d->y[i] << 32 | (uint32_t)p;
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
            free(keys);
            return -1;
        }
    }
    size_t len = 0;
    *text = (char *)buf_detach(&row.out, &len);
    a->text = *text;
    a->text_len = len;
    free(dec);
    if (want_cells) {
        a->flags |= TRONMSG_F_CELLS;
        *cells = cells_of(keys, nkeys, &a->ncells);
        a->cells = *cells;
        free(keys);
        if (!*cells) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* One shard of the task: its cache entry (locked while the op runs) and
 * its training state. */
typedef struct tron_shard {
    uint32_t shard;
    cache_entry_t *entry; /* held and locked by this op unless it is ctx->entry */
    bool own;             /* acquired here (released here) */
    shardstate_t *st;
} tron_shard_t;

/* The working state of one OP_TRON request; op_tron frees it. */
typedef struct {
    tronmsg_req_t req;
    tron_shard_t *sh; /* [nsh]: the group, ascending (or the task's shard) */
    size_t nsh;
    int n, nr_w;
    uint32_t m;     /* length of the wire vectors */
    uint64_t *bits; /* compact: the group's columns */
    uint32_t *cols; /* compact: the m columns, made when needed; NULL: all n */
    bool need_lf;   /* some item is FUN, GRAD or HV */
    tronmsg_ans_t *ans;
    double *floss; /* [count]: one shard's FUN loss */
    double *store; /* the answers' m-long vectors, or NULL when they are in res */
    blob_t *res;   /* a Newton round's result, its vectors summed in place */
    double **vecs; /* [count]: where res holds each answer's vectors */
    /* one shard at a time, in its own ms columns (tron_shard) */
    double **win;       /* [count]: the item's point (NULL when none) */
    double **sin;       /* [count]: HV's direction */
    double **out;       /* [count]: GRAD g then diag (2 ms), HV hv (ms) */
    double *scratch;    /* ms: rebuilding D at a point */
    uint64_t *pos;      /* [count * nr_w]: COUNT's per-class tallies */
    char **texts;       /* [count]: PRED's lines */
    uint64_t **cells;   /* [count]: PRED's (truth, pred, count) cells */
    linfun_req_t *lreq; /* [nr_w]: one fold pass's requests */
} tron_work_t;

/* Acquires and locks the group's shards (the task's own shard is held and
 * locked by the executor) and builds each one's state. */
static int tron_shards(op_ctx_t *ctx, tron_work_t *t, int *cls, char *err, size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    t->nsh = req->ngroup ? req->ngroup : 1;
    t->sh = calloc(t->nsh, sizeof *t->sh);
    if (!t->sh) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (req->ngroup && req->group[0] != ctx->shard) {
        snprintf(err, errlen, "group starts at shard %u, task is for shard %u", req->group[0],
                 ctx->shard);
        return -1;
    }
    for (size_t i = 0; i < t->nsh; i++) {
        tron_shard_t *s = &t->sh[i];
        s->shard = req->ngroup ? req->group[i] : ctx->shard;
        if (s->shard >= req->nshards) {
            snprintf(err, errlen, "shard %u not in the request's table of %zu", s->shard,
                     req->nshards);
            return -1;
        }
        s->entry = i == 0 ? ctx->entry : cache_acquire(ctx->cache, ctx->job_id, s->shard);
        if (!s->entry) {
            *cls = PROTO_ERR_NOSHARD;
            snprintf(err, errlen, "shard %u of job %u is not cached here", s->shard, ctx->job_id);
            return -1;
        }
        if (i > 0) {
            s->own = true;
            cache_entry_lock(s->entry);
        }
        op_ctx_t sub = *ctx;
        sub.shard = s->shard;
        sub.entry = s->entry;
        s->st = shardstate_get(&sub, req->shards[s->shard].first_row,
                               req->shards[s->shard].first_line, cls, err, errlen);
        if (!s->st) return -1;
        if (s->st->d->n != t->sh[0].st->d->n || s->st->nr_w != t->sh[0].st->nr_w) {
            *cls = PROTO_ERR_INTERNAL;
            snprintf(err, errlen, "shards %u and %u disagree on the variables", s->shard,
                     t->sh[0].shard);
            return -1;
        }
    }
    *cls = PROTO_ERR_INTERNAL;
    t->n = t->sh[0].st->d->n;
    t->nr_w = t->sh[0].st->nr_w;
    return 0;
}

static void tron_shards_release(tron_work_t *t) {
    for (size_t i = 0; t->sh && i < t->nsh; i++)
        if (t->sh[i].own) {
            cache_entry_unlock(t->sh[i].entry);
            cache_release(&t->sh[i].entry);
        }
    free(t->sh);
}

/* The compact columns: the union of the group's, which must be what the
 * master named (count and hash); the list itself is made only when a
 * shard needs it (shard_positions). */
static int tron_columns(tron_work_t *t, char *err, size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    t->m = req->m;
    if (!req->compact) return 0;
    size_t words = colset_words((size_t)t->n);
    t->bits = calloc(words + 1, sizeof *t->bits);
    if (!t->bits) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->nsh; i++)
        colset_or(t->bits, t->sh[i].st->cols, words);
    size_t m = colset_count(t->bits, (size_t)t->n);
    uint64_t hash = colset_hash(t->bits, (size_t)t->n);
    if (m != req->m || hash != req->hash) {
        snprintf(err, errlen, "the request's %u columns are not the %zu this group touches", req->m,
                 m);
        return -1;
    }
    return 0;
}

/* FUN, FUNGRAD, GRAD and HV: the items over a class's vector. */
static bool vector_item(const tronmsg_item_t *it) {
    return it->op == TRONMSG_FUN || it->op == TRONMSG_GRAD || it->op == TRONMSG_HV ||
           it->op == TRONMSG_FUNGRAD;
}

/* The gradient items: their answers and outputs are g and diag. */
static bool grad_item(uint32_t op) {
    return op == TRONMSG_GRAD || op == TRONMSG_FUNGRAD;
}

static int cmp_fold_cls(const void *a, const void *b) {
    const tronmsg_item_t *x = *(const tronmsg_item_t *const *)a,
                         *y = *(const tronmsg_item_t *const *)b;
    if (x->fold != y->fold) return x->fold < y->fold ? -1 : 1;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

/* At most one FUN/FUNGRAD/GRAD/HV item per class and fold: checked before
 * any state is touched (a pass answers one request per class). */
static int tron_distinct(const tronmsg_req_t *req, char *err, size_t errlen) {
    const tronmsg_item_t **v = malloc((req->count ? req->count : 1) * sizeof *v);
    size_t n = 0;
    int rc = 0;
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < req->count; i++)
        if (vector_item(&req->items[i])) v[n++] = &req->items[i];
    qsort(v, n, sizeof *v, cmp_fold_cls);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (cmp_fold_cls(&v[i - 1], &v[i]) == 0) {
            snprintf(err, errlen, "two requests for class %u fold %u", v[i]->cls, v[i]->fold);
            rc = -1;
        }
    free(v);
    return rc;
}

/* Checks the request against the shards: the variables, the folds, each
 * item's class and fold, single-shard COUNT and PRED. */
static int tron_check(tron_work_t *t, char *err, size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    int n = t->n, nr_w = t->nr_w;
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
        if (vector_item(it)) {
            t->need_lf = true;
            if ((int)it->cls >= nr_w) {
                snprintf(err, errlen, "class %u of %d", it->cls, nr_w);
                return -1;
            }
        } else if (t->nsh > 1) {
            snprintf(err, errlen, "a COUNT or PRED item in a task over %zu shards", t->nsh);
            return -1;
        }
        if (it->fold != TRONMSG_ALL_ROWS && it->fold >= req->folds) {
            snprintf(err, errlen, "fold %u of %u", it->fold, req->folds);
            return -1;
        }
    }
    return tron_distinct(req, err, errlen);
}

/* Allocates the working arrays, prepares the shards' folds when an item
 * needs them, and binds each answer to its m-long slice of the store
 * (zeroed: every shard adds its part). */
static int tron_alloc(tron_work_t *t, int *cls, char *err, size_t errlen) {
    size_t count = t->req.count, c1 = count ? count : 1, nd = 0;
    /* a Newton round's answers are summed in the result itself */
    bool inplace = count > 0;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        nd += (grad_item(it->op) ? 2 : it->op == TRONMSG_HV ? 1 : 0) * (size_t)t->m;
        inplace = inplace && vector_item(it);
    }
    t->ans = calloc(c1, sizeof *t->ans);
    t->floss = calloc(c1, sizeof *t->floss);
    t->vecs = calloc(c1, sizeof *t->vecs);
    t->store = inplace ? NULL : calloc(nd ? nd : 1, sizeof *t->store);
    t->win = calloc(c1, sizeof *t->win);
    t->sin = calloc(c1, sizeof *t->sin);
    t->out = calloc(c1, sizeof *t->out);
    t->pos = calloc(count * (size_t)t->nr_w + 1, sizeof *t->pos);
    t->texts = calloc(c1, sizeof *t->texts);
    t->cells = calloc(c1, sizeof *t->cells);
    t->lreq = calloc((size_t)t->nr_w, sizeof *t->lreq);
    if (!t->ans || !t->floss || !t->vecs || (!inplace && !t->store) || !t->win || !t->sin ||
        !t->out || !t->pos || !t->texts || !t->cells || !t->lreq) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; t->need_lf && i < t->nsh; i++)
        if (shardstate_prepare(t->sh[i].st, (int)t->req.folds, cls, err, errlen) < 0) return -1;
    *cls = PROTO_ERR_INTERNAL;
    double *sp = t->store;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        t->ans[i] = (tronmsg_ans_t){.cls = it->cls, .fold = it->fold, .op = it->op};
        if (!inplace) t->vecs[i] = sp, sp += (size_t)t->m * (grad_item(it->op) ? 2 : 0);
        if (!inplace && it->op == TRONMSG_HV) sp += t->m;
    }
    if (inplace &&
        !(t->res = tronmsg_res_begin((uint32_t)t->n, t->m, t->ans, count, t->vecs, err, errlen)))
        return -1;
    for (size_t i = 0; i < count; i++) {
        uint32_t op = t->req.items[i].op;
        if (grad_item(op)) t->ans[i].g = t->vecs[i], t->ans[i].diag = t->vecs[i] + t->m;
        if (op == TRONMSG_HV) t->ans[i].hv = t->vecs[i];
    }
    return 0;
}

/* Every GRAD and HV item must find its point cached on every shard (an HV's
 * may be a FUNGRAD's waiting D), or carry it: otherwise PROTO_ERR_NEEDPOINT
 * before anything is computed. */
static int tron_points(tron_work_t *t, int *cls, char *err, size_t errlen) {
    for (size_t s = 0; s < t->nsh; s++) {
        const shardstate_t *st = t->sh[s].st;
        for (size_t i = 0; i < t->req.count; i++) {
            const tronmsg_item_t *it = &t->req.items[i];
            if ((it->op != TRONMSG_GRAD && it->op != TRONMSG_HV) || it->w) continue;
            size_t li = it->fold == TRONMSG_ALL_ROWS ? 0 : 1 + (size_t)it->fold;
            size_t at = li * (size_t)t->nr_w + it->cls;
            bool have = it->op == TRONMSG_GRAD ? st->fun_pt[at] == it->point
                                               : st->grad_pt[at] == it->point ||
                                                     (st->spec_pt[at] == it->point &&
                                                      linfun_waiting(st->lf[li], (int)it->cls));
            if (it->point == 0 || !have) {
                *cls = PROTO_ERR_NEEDPOINT;
                snprintf(err, errlen, "shard %u lacks point %llu of class %u", t->sh[s].shard,
                         (unsigned long long)it->point, it->cls);
                return -1;
            }
        }
    }
    return 0;
}

/* A point tron_points() should have asked for (never expected). */
static int no_point(const tronmsg_item_t *it, char *err, size_t errlen) {
    snprintf(err, errlen, "point %llu of class %u is not here and the request lacks it",
             (unsigned long long)it->point, it->cls);
    return -1;
}

/* FUN/GRAD/HV over fold li (0 = every row, 1 + f = fold f) of one shard:
 * one linfun_batch pass for every class asked about, in the shard's own
 * columns (t->win, sin, out: bound by tron_shard, which zeroes out). */
static int tron_fold(op_ctx_t *ctx, tron_work_t *t, shardstate_t *st, int li, char *err,
                     size_t errlen) {
    const tronmsg_req_t *req = &t->req;
    size_t ms = st->ms;
    int nr_w = t->nr_w;
    uint32_t fold = li == 0 ? TRONMSG_ALL_ROWS : (uint32_t)(li - 1);
    linfun_t *lf = st->lf[li];
    uint64_t *fun_pt = st->fun_pt + (size_t)li * (size_t)nr_w;
    uint64_t *grad_pt = st->grad_pt + (size_t)li * (size_t)nr_w;
    uint64_t *spec_pt = st->spec_pt + (size_t)li * (size_t)nr_w;
    linfun_req_t *lreq = t->lreq;
    bool any = false;
    memset(lreq, 0, (size_t)nr_w * sizeof *lreq);
    for (size_t i = 0; i < req->count; i++) {
        const tronmsg_item_t *it = &req->items[i];
        if (it->fold != fold || !vector_item(it)) continue;
        int k = (int)it->cls; /* one item a class and fold: tron_distinct */
        any = true;
        switch (it->op) {
        case TRONMSG_FUN:
            lreq[k] = (linfun_req_t){.op = LINFUN_FUN, .v = t->win[i], .out = &t->floss[i]};
            fun_pt[k] = it->point;
            break;
        case TRONMSG_FUNGRAD:
            /* its D waits beside the last gradient's until an HV names it */
            lreq[k] = (linfun_req_t){.op = LINFUN_FUNGRAD,
                                     .v = t->win[i],
                                     .loss = &t->floss[i],
                                     .out = t->out[i],
                                     .diag = t->out[i] + ms,
                                     .zeroed = true};
            fun_pt[k] = spec_pt[k] = it->point;
            break;
        case TRONMSG_GRAD:
            /* the margins of this point may be gone (shard moved here) */
            if (fun_pt[k] != it->point || it->point == 0) {
                if (!t->win[i]) return no_point(it, err, errlen); /* tron_points let it by */
                linfun_fun(lf, k, t->win[i]);
                fun_pt[k] = it->point;
            }
            lreq[k] = (linfun_req_t){
                .op = LINFUN_GRAD, .out = t->out[i], .diag = t->out[i] + ms, .zeroed = true};
            grad_pt[k] = it->point;
            spec_pt[k] = 0;
            break;
        case TRONMSG_HV:
            if (it->point != 0 && spec_pt[k] == it->point && linfun_accept(lf, k) == 0) {
                /* the FUNGRAD's point was accepted: its D is the one now */
                grad_pt[k] = it->point;
                spec_pt[k] = 0;
            }
            if (grad_pt[k] != it->point || it->point == 0) {
                /* rebuild D at the gradient point */
                if (!t->win[i]) return no_point(it, err, errlen);
                linfun_fun(lf, k, t->win[i]);
                memset(t->scratch, 0, ms * sizeof *t->scratch);
                linfun_grad(lf, k, t->scratch, NULL);
                fun_pt[k] = grad_pt[k] = it->point;
                spec_pt[k] = 0;
            }
            lreq[k] =
                (linfun_req_t){.op = LINFUN_HV, .v = t->sin[i], .out = t->out[i], .zeroed = true};
            break;
        }
    }
    if (any) linfun_batch(lf, lreq);
    /* FUN sets its output: each shard's loss went to floss, now added */
    for (size_t i = 0; i < req->count; i++)
        if (req->items[i].fold == fold &&
            (req->items[i].op == TRONMSG_FUN || req->items[i].op == TRONMSG_FUNGRAD))
            t->ans[i].f += t->floss[i];
    if (op_cancelled(ctx)) {
        snprintf(err, errlen, "cancelled");
        return -1;
    }
    return 0;
}

/* COUNT item i (one shard): the rows it covers and how many of each class;
 * on every row, also the columns they touch. */
static int tron_count(tron_work_t *t, size_t i, char *err, size_t errlen) {
    const tronmsg_item_t *it = &t->req.items[i];
    const shardstate_t *st = t->sh[0].st;
    int nr_w = t->nr_w;
    if ((int)it->cls != nr_w) {
        snprintf(err, errlen, "count for %u classes, model has %d", it->cls, nr_w);
        return -1;
    }
    bool all = it->fold == TRONMSG_ALL_ROWS;
    uint64_t *pk = t->pos + i * (size_t)nr_w;
    for (size_t r = 0; r < st->d->rows; r++) {
        uint64_t row = st->d->first_row + r;
        if (!all && row % t->req.folds == it->fold) continue;
        t->ans[i].rows++;
        int y = st->d->y[r];
        if (y >= 0 && y < nr_w) pk[y]++;
    }
    t->ans[i].pos = pk;
    if (it->flags & TRONMSG_F_STAT) { /* the largest squared row norm, bias included */
        double mx = 0;
        for (size_t r = 0; r < st->d->rows; r++) {
            uint64_t row = st->d->first_row + r;
            if (!all && row % t->req.folds == it->fold) continue;
            double xx = 0;
            for (const struct feature_node *x = st->d->x[r]; x->index != -1; x++)
                xx += x->value * x->value;
            if (xx > mx) mx = xx;
        }
        t->ans[i].f = mx;
        t->ans[i].flags |= TRONMSG_F_STAT;
    }
    if (all) {
        t->ans[i].flags |= TRONMSG_F_COLUMNS;
        t->ans[i].cols = st->cols;
    }
    return 0;
}

/* COUNT and PRED items (one shard), in request order. */
static int tron_tally(tron_work_t *t, char *err, size_t errlen) {
    for (size_t i = 0; i < t->req.count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        if (it->op == TRONMSG_COUNT) {
            if (tron_count(t, i, err, errlen) < 0) return -1;
        } else if (it->op == TRONMSG_PRED) {
            if (do_pred(t->sh[0].st, it, t->req.folds, t->n, &t->ans[i], &t->texts[i], &t->cells[i],
                        err, errlen) < 0)
                return -1;
        }
    }
    return 0;
}

#define NOPOS UINT32_MAX

/* gpos[j]: where the shard's local column j sits in the task's vectors
 * (the group's column list, or all n columns); NOPOS for a column the
 * shard does not touch (its local columns may be all n). -1 when the list
 * lacks a column the shard touches. */
static int shard_positions(tron_work_t *t, const shardstate_t *st, uint32_t *gpos) {
    if (!t->req.compact) {
        memcpy(gpos, st->lcols, st->ms * sizeof *gpos);
        return 0;
    }
    if (!t->cols) {
        t->cols = malloc(((size_t)t->m + 1) * sizeof *t->cols);
        if (!t->cols) return -1;
        colset_list(t->bits, (size_t)t->n, t->cols);
    }
    size_t g = 0;
    for (size_t j = 0; j < st->ms; j++) {
        uint32_t c = st->lcols[j];
        while (g < t->m && t->cols[g] < c)
            g++;
        if (g < t->m && t->cols[g] == c) {
            gpos[j] = (uint32_t)g;
        } else if ((st->cols[c / 64] >> (c % 64)) & 1) {
            return -1;
        } else {
            gpos[j] = NOPOS;
        }
    }
    return 0;
}

/* dst[j] = src[gpos[j]], 0 where the shard's column j is not in src. */
static void gather(double *dst, const double *src, const uint32_t *gpos, size_t ms) {
    for (size_t j = 0; j < ms; j++)
        dst[j] = gpos[j] == NOPOS ? 0 : src[gpos[j]];
}

/* dst[gpos[j]] += src[j] where the column is in dst. */
static void scatter_add(double *dst, const double *src, const uint32_t *gpos, size_t ms) {
    for (size_t j = 0; j < ms; j++)
        if (gpos[j] != NOPOS) dst[gpos[j]] += src[j];
}

/* The local vectors one item needs on a shard of ms columns. */
static size_t item_local(const tronmsg_item_t *it, size_t ms) {
    size_t k = (it->w ? 1 : 0) + (it->s ? 1 : 0);
    k += grad_item(it->op) ? 2 : it->op == TRONMSG_HV ? 1 : 0;
    return vector_item(it) ? k * ms : 0;
}

/* One shard's part of the FUN/GRAD/HV items: its columns of the request's
 * vectors, every fold, and its outputs added into the answers. */
static int tron_shard(op_ctx_t *ctx, tron_work_t *t, shardstate_t *st, char *err, size_t errlen) {
    size_t ms = st->ms, need = ms + 1;
    for (size_t i = 0; i < t->req.count; i++)
        need += item_local(&t->req.items[i], ms);
    /* the positions and the work arrays stay with the shard for its next
     * task: the same group asks again every round */
    uint64_t key = t->req.compact ? (t->req.hash ^ ((uint64_t)t->m << 1)) | 1 : 2;
    if (!st->gpos) st->gpos = malloc((ms + 1) * sizeof *st->gpos);
    if (need > st->workcap) {
        free(st->work);
        st->work = malloc(need * sizeof *st->work);
        st->workcap = st->work ? need : 0;
    }
    uint32_t *gpos = st->gpos;
    double *buf = st->work;
    int rc = -1;
    if (!gpos || !buf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (st->gpos_key != key) {
        st->gpos_key = 0;
        if (shard_positions(t, st, gpos) < 0) {
            snprintf(err, errlen, "the request's columns lack some of this shard's");
            goto out;
        }
        st->gpos_key = key;
    }
    double *p = buf;
    t->scratch = p, p += ms;
    for (size_t i = 0; i < t->req.count; i++) {
        const tronmsg_item_t *it = &t->req.items[i];
        if (!item_local(it, ms)) continue;
        t->win[i] = t->sin[i] = t->out[i] = NULL;
        if (it->w) gather(t->win[i] = p, it->w, gpos, ms), p += ms;
        if (it->s) gather(t->sin[i] = p, it->s, gpos, ms), p += ms;
        size_t nout = grad_item(it->op) ? 2 * ms : it->op == TRONMSG_HV ? ms : 0;
        if (nout) memset(t->out[i] = p, 0, nout * sizeof *p), p += nout;
    }
    for (int li = 0; li < 1 + st->folds; li++)
        if (tron_fold(ctx, t, st, li, err, errlen) < 0) goto out;
    for (size_t i = 0; i < t->req.count; i++) {
        tronmsg_ans_t *a = &t->ans[i];
        if (a->op == TRONMSG_HV) scatter_add((double *)a->hv, t->out[i], gpos, ms);
        if (!grad_item(a->op)) continue;
        scatter_add((double *)a->g, t->out[i], gpos, ms);
        scatter_add((double *)a->diag, t->out[i] + ms, gpos, ms);
    }
    rc = 0;
out:
    t->scratch = NULL;
    return rc;
}

static void tron_work_free(tron_work_t *t) {
    for (size_t i = 0; i < t->req.count; i++) {
        if (t->texts) free(t->texts[i]);
        if (t->cells) free(t->cells[i]);
    }
    free(t->texts);
    free(t->cells);
    free(t->lreq);
    free(t->pos);
    free(t->out);
    free(t->sin);
    free(t->win);
    free(t->floss);
    free(t->store);
    free(t->vecs);
    blob_unref(&t->res);
    free(t->ans);
    free(t->cols);
    free(t->bits);
    tron_shards_release(t);
    tronmsg_req_free(&t->req);
}

/* A tree round's answer (common/treemsg.h, COLS): the group's columns and
 * the answer over them, so that a parent adds answers of different groups
 * over the union of their columns. Takes *res. */
static int tron_tag(tron_work_t *t, blob_t **res, char *err, size_t errlen) {
    if (!t->req.compact || !t->req.wide) return 0;
    if (!t->cols) {
        t->cols = malloc(((size_t)t->m + 1) * sizeof *t->cols);
        if (!t->cols) {
            snprintf(err, errlen, "out of memory naming a tree answer's columns");
            return -1;
        }
        colset_list(t->bits, (size_t)t->n, t->cols);
    }
    blob_t *tagged =
        treemsg_encode_cols((uint32_t)t->n, t->cols, t->m, (*res)->data, (*res)->len, err, errlen);
    blob_unref(res);
    *res = tagged;
    return tagged ? 0 : -1;
}

static int op_tron(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                   size_t errlen) {
    int cls = PROTO_ERR_INTERNAL;
    tron_work_t t = {0};
    *result = NULL;

    if (tronmsg_decode_req(body, blen, &t.req, err, errlen) < 0) goto out;
    if (tron_shards(ctx, &t, &cls, err, errlen) < 0) goto out;
    if (tron_check(&t, err, errlen) < 0 || tron_columns(&t, err, errlen) < 0) goto out;
    if (tron_alloc(&t, &cls, err, errlen) < 0) goto out;
    if (tron_points(&t, &cls, err, errlen) < 0) goto out;
    cls = PROTO_ERR_INTERNAL;
    uint64_t rows = 0;
    for (size_t s = 0; s < t.nsh; s++) {
        if (t.need_lf && tron_shard(ctx, &t, t.sh[s].st, err, errlen) < 0) goto out;
        rows += t.sh[s].st->d->rows;
    }
    if (tron_tally(&t, err, errlen) < 0) goto out;
    op_add_rows(ctx, rows);
    op_test_delay(ctx, OP_DELAY_TRON);
    if (t.res) {
        tronmsg_res_seal(t.res, (uint32_t)t.n, t.m, t.ans, t.req.count);
        *result = t.res;
        t.res = NULL;
    } else {
        *result = tronmsg_encode_res((uint32_t)t.n, t.m, t.ans, t.req.count, err, errlen);
    }
    if (*result && tron_tag(&t, result, err, errlen) == 0) cls = 0;
out:
    tron_work_free(&t);
    return cls;
}

op_def_t op_tron_def = {.name = "tron", .fn = op_tron, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
