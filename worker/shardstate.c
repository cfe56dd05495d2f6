#include "worker/shardstate.h"

#include "common/colset.h"
#include "common/hash.h"
#include "common/jobctx.h"
#include "common/model.h"
#include "common/proto.h"
#include "common/tronmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_folds(shardstate_t *st) {
    int nlf = 1 + st->folds;
    if (st->lf)
        for (int i = 0; i < nlf; i++)
            linfun_destroy(&st->lf[i]);
    if (st->views)
        for (int f = 0; f < st->folds; f++) {
            free(st->views[f].x);
            free(st->views[f].y);
        }
    free(st->views);
    free(st->lf);
    free(st->fun_pt);
    free(st->grad_pt);
    free(st->spec_pt);
    st->views = NULL;
    st->lf = NULL;
    st->fun_pt = st->grad_pt = st->spec_pt = NULL;
    st->folds = 0;
}

static void state_free(void *p) {
    shardstate_t *st = p;
    if (!st) return;
    free_folds(st);
    free(st->lcols);
    free(st->gpos);
    free(st->work);
    free(st->cols);
    dataset_destroy(&st->d);
    schema_destroy(&st->schema);
    free(st);
}

shardstate_t *shardstate_get(op_ctx_t *ctx, uint64_t first_row, uint64_t first_line, int *cls,
                             char *err, size_t errlen) {
    shardstate_t *st = NULL;
    jobctx_t *jc = NULL;
    *cls = PROTO_ERR_INTERNAL;
    if (!ctx->entry || !ctx->context) {
        *cls = PROTO_ERR_NOSHARD;
        snprintf(err, errlen, "task lacks its shard or job context");
        return NULL;
    }
    uint64_t h = hash_fnv1a(ctx->context, ctx->context_len);
    shardstate_t *old = cache_entry_state(ctx->entry);
    if (old && old->ctx_hash == h && old->d->first_row == first_row) return old;

    jc = jobctx_decode(ctx->context, ctx->context_len, err, errlen);
    if (!jc) goto out;
    if (!jc->schema_json) {
        snprintf(err, errlen, "job context has no schema yet");
        goto out;
    }
    st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    st->ctx_hash = h;
    st->solver = jc->solver;
    st->C = jc->C;
    st->bias = jc->bias;
    st->schema = schema_from_json(jc->schema_json, jc->schema_len, err, errlen);
    if (!st->schema) goto fail;
    st->nr_class = schema_nr_class(st->schema);
    st->nr_w = model_nr_w(st->solver, st->nr_class);
    if (st->nr_class < 1 || st->nr_w < 1) {
        snprintf(err, errlen, "job context: solver %d with %d classes", st->solver, st->nr_class);
        goto fail;
    }
    datasrc_t src = shardstate_source(jc);
    size_t len = 0;
    const void *bytes = op_shard_data(ctx, &len);
    if (dataset_from_shard(st->schema, &src, bytes, len, first_row, first_line, st->bias, &st->d,
                           err, errlen) < 0) {
        *cls = PROTO_ERR_DATA;
        goto fail;
    }
    st->cols = calloc(colset_words((size_t)st->d->n) + 1, sizeof *st->cols);
    if (!st->cols) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    colset_mark(st->cols, st->d);
    cache_entry_set_state(ctx->entry, st, state_free);
    goto out;
fail:
    state_free(st);
    st = NULL;
out:
    jobctx_destroy(&jc);
    return st;
}

/* st->local: d's rows in the shard's own columns (once per state),
 * renumbered in place. When the shard touches more than half of the columns
 * the renumbering saves little: local is then d as it is, its columns all n. */
static int build_local(shardstate_t *st, char *err, size_t errlen) {
    dataset_t *d = st->d;
    size_t n = (size_t)d->n;
    st->ms = colset_count(st->cols, n);
    if (st->ms > n / 2) {
        st->ms = n;
        st->lcols = malloc((n + 1) * sizeof *st->lcols);
        if (!st->lcols) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t j = 0; j < n; j++)
            st->lcols[j] = (uint32_t)j;
        st->local = *d; /* the rows as they are, every column */
        return 0;
    }
    st->lcols = malloc((st->ms + 1) * sizeof *st->lcols);
    uint32_t *map = malloc((n + 1) * sizeof *map);
    if (!st->lcols || !map) {
        free(map);
        free(st->lcols);
        st->lcols = NULL; /* not built: the next task tries again */
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    colset_list(st->cols, n, st->lcols);
    for (size_t j = 0; j < st->ms; j++)
        map[st->lcols[j]] = (uint32_t)j + 1;
    /* a node outside 1..n (none from the parser) is dropped: the row can
     * only shrink, so it is rewritten from its own start */
    for (size_t i = 0; i < d->rows; i++) {
        struct feature_node *out = d->x[i];
        for (const struct feature_node *x = d->x[i]; x->index != -1; x++)
            if (x->index >= 1 && (size_t)x->index <= n)
                *out++ = (struct feature_node){(int)map[x->index - 1], x->value};
        *out = (struct feature_node){-1, 0};
    }
    free(map);
    st->renumbered = true;
    st->local = (dataset_t){.rows = d->rows,
                            .n = (int)st->ms,
                            .bias = d->bias,
                            .x = d->x,
                            .y = d->y,
                            .first_row = d->first_row};
    return 0;
}

int shardstate_prepare(shardstate_t *st, int folds, int *cls, char *err, size_t errlen) {
    *cls = PROTO_ERR_INTERNAL;
    if (folds < 0 || (size_t)folds > st->d->rows + 1000) {
        snprintf(err, errlen, "%d folds for %zu rows", folds, st->d->rows);
        return -1;
    }
    if (st->lf && st->folds == folds) return 0;
    free_folds(st);
    if (!st->lcols && build_local(st, err, errlen) < 0) return -1;
    int nlf = 1 + folds;
    st->lf = calloc((size_t)nlf, sizeof *st->lf);
    st->fun_pt = calloc((size_t)nlf * (size_t)st->nr_w, sizeof *st->fun_pt);
    st->grad_pt = calloc((size_t)nlf * (size_t)st->nr_w, sizeof *st->grad_pt);
    st->spec_pt = calloc((size_t)nlf * (size_t)st->nr_w, sizeof *st->spec_pt);
    st->views = folds ? calloc((size_t)folds, sizeof *st->views) : NULL;
    if (!st->lf || !st->fun_pt || !st->grad_pt || !st->spec_pt || (folds && !st->views)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    st->folds = folds;
    const dataset_t *d = &st->local;
    for (int f = 0; f < folds; f++) {
        dataset_t *v = &st->views[f];
        *v = (dataset_t){.n = d->n, .bias = d->bias, .first_row = d->first_row};
        v->x = malloc((d->rows ? d->rows : 1) * sizeof *v->x);
        v->y = malloc((d->rows ? d->rows : 1) * sizeof *v->y);
        if (!v->x || !v->y) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < d->rows; i++)
            if ((d->first_row + i) % (uint64_t)folds != (uint64_t)f) {
                v->x[v->rows] = d->x[i];
                v->y[v->rows++] = d->y[i];
            }
    }
    for (int i = 0; i < nlf; i++) {
        st->lf[i] = linfun_new(i == 0 ? d : &st->views[i - 1], st->solver, st->nr_w, err, errlen);
        if (!st->lf[i]) {
            /* a label out of range is the data's fault; a bad solver the master's */
            *cls = PROTO_ERR_DATA;
            goto fail;
        }
    }
    return 0;
fail:
    free_folds(st);
    return -1;
}

datasrc_t shardstate_source(const jobctx_t *jc) {
    return (datasrc_t){.format = jc->format == JOBCTX_LIBSVM ? DATA_LIBSVM : DATA_CSV,
                       .file = jc->file,
                       .header = jc->header,
                       .header_len = jc->header_len,
                       .label = jc->label,
                       .id = jc->id && jc->id[0] ? jc->id : NULL,
                       .text = jc->text,
                       .detect = jc->text_detect,
                       .count_terms = jc->count_terms,
                       .ngram = jc->ngram};
}
