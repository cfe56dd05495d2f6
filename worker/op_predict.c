/* op_predict: OP_PREDICT — one shard's rows through the job's model.
 *
 * Context: a jobctx_t with the model weights (and, for CSV, the fitted
 * schema). Body: predmsg_req_t (where the shard starts in the file). Result:
 * a predmsg (common/predmsg.h), one entry per row in shard order.
 *
 * Decision values follow liblinear 2.30's predict_values(): features with an
 * index above the model's nr_feature contribute nothing, the bias node comes
 * last with the model's bias value, and per class the products are added in
 * node order, so the sums are bit for bit liblinear's. Two classes: dec > 0
 * gives labels[0]; more: the first maximum wins. Probabilities follow
 * predict_probability() for the logistic-regression solvers. Rows are parsed
 * and predicted one at a time (streaming): a shard is never held in parsed
 * form, so worker memory is the shard bytes plus the result.
 */
#include "common/csvread.h"
#include "common/jobctx.h"
#include "common/model.h"
#include "common/predmsg.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/svmread.h"
#include "worker/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANCEL_EVERY 1024 /* rows between cancel checks: well under 10 ms */
#define COL_ID (-2)       /* schema_filecol_t.sc: the id column, unknown to the schema */

typedef struct pred {
    op_ctx_t *op;
    const jobctx_t *jc;
    schema_t *schema; /* CSV only */
    const char *file; /* name in messages */
    bool prob;
    double *dec;  /* nr_w (at least 2) decision values of the current row */
    double *pout; /* nr_class probabilities */
    predmsg_enc_t enc;
    uint64_t rows, pending_rows;
    /* CSV: per file column, its schema column (-1 = ignored, COL_ID) and,
     * for a numeric one, its scaling. */
    schema_filecol_t *cols;
    size_t ncols;
    int truth;
    char *id;
    size_t idlen, idcap;
    bool cancelled;
    schema_words_t words; /* a free-text field's features */
} pred_t;

/* Whether the solver's model gives probabilities (liblinear's
 * check_probability_model: the logistic-regression solvers). */
static bool solver_has_prob(int solver) {
    return solver == L2R_LR || solver == L1R_LR || solver == L2R_LR_DUAL;
}

static void add_feature(pred_t *p, int idx, double value) {
    const jobctx_t *jc = p->jc;
    if (idx < 1 || idx > jc->nr_feature) return;
    const double *w = jc->w + (size_t)(idx - 1) * (size_t)jc->nr_w;
    for (int k = 0; k < jc->nr_w; k++)
        p->dec[k] += w[k] * value;
}

/* Ends the current row: bias, decision, probabilities, result entry. */
static int finish_row(pred_t *p, const char *id, size_t idlen, char *err, size_t errlen) {
    const jobctx_t *jc = p->jc;
    if (jc->bias >= 0) {
        /* The bias node is {nr_feature + 1, bias}: its weights sit last. */
        const double *w = jc->w + (size_t)jc->nr_feature * (size_t)jc->nr_w;
        for (int k = 0; k < jc->nr_w; k++)
            p->dec[k] += w[k] * jc->bias;
    }
    int best = 0;
    if (jc->nr_class == 2) {
        best = p->dec[0] > 0 ? 0 : 1;
    } else {
        for (int k = 1; k < jc->nr_class && k < jc->nr_w; k++)
            if (p->dec[k] > p->dec[best]) best = k;
    }
    if (p->prob) {
        int nw = jc->nr_class == 2 ? 1 : jc->nr_class;
        for (int k = 0; k < nw; k++)
            p->pout[k] = 1.0 / (1.0 + exp(-p->dec[k]));
        if (jc->nr_class == 2) {
            p->pout[1] = 1.0 - p->pout[0];
        } else {
            double sum = 0;
            for (int k = 0; k < jc->nr_class; k++)
                sum += p->pout[k];
            for (int k = 0; k < jc->nr_class; k++)
                p->pout[k] /= sum;
        }
    }
    if (predmsg_enc_add(&p->enc, best, p->truth, p->pout, id, idlen) < 0) {
        snprintf(err, errlen, "predict: out of memory for the result");
        return -1;
    }
    memset(p->dec, 0, sizeof *p->dec * (size_t)(jc->nr_w < 2 ? 2 : jc->nr_w));
    p->truth = -1;
    p->rows++;
    if (++p->pending_rows == CANCEL_EVERY) {
        op_add_rows(p->op, p->pending_rows);
        p->pending_rows = 0;
        if (op_cancelled(p->op)) {
            p->cancelled = true;
            snprintf(err, errlen, "predict: cancelled");
            return -1;
        }
    }
    return 0;
}

static int svm_row(void *ctx, int label, const struct feature_node *x, size_t n, uint64_t line,
                   char *err, size_t errlen) {
    pred_t *p = ctx;
    p->truth = p->jc->nr_class; /* "other": see csv_field */
    for (int k = 0; k < p->jc->nr_class; k++)
        if (p->jc->labels[k] == label) {
            p->truth = k;
            break;
        }
    for (size_t i = 0; i < n; i++)
        add_feature(p, x[i].index, x[i].value);
    return finish_row(p, NULL, 0, err, errlen);
}

static int csv_field(void *ctx, size_t col, const char *s, size_t len, uint64_t line, char *err,
                     size_t errlen) {
    pred_t *p = ctx;
    const schema_filecol_t *c = col < p->ncols ? &p->cols[col] : NULL;
    if (c && c->numeric) {
        double v;
        if (schema_numeric_field(&c->num, s, len, &v, p->file, line, col, err, errlen) != 0)
            return -1;
        if (v != 0.0) add_feature(p, c->num.index, v);
        return 0;
    }
    long sc = c ? c->sc : -1;
    if (sc == -1) return 0;
    switch (sc == COL_ID ? SCHEMA_ID : c->kind) {
    case SCHEMA_LABEL:
        if (!csvread_is_missing(s, len) &&
            schema_check_label(p->file, line, col, s, len, err, errlen) != 0)
            return -1;
        /* A label training never saw is PREDMSG "other" (nr_class): it counts
         * as a labelled row predicted wrong. */
        p->truth = csvread_is_missing(s, len) ? -1 : schema_label_find(p->schema, s, len);
        if (p->truth < 0 && !csvread_is_missing(s, len)) p->truth = p->jc->nr_class;
        break;
    case SCHEMA_ID:
        if (len > PREDMSG_MAX_ID) len = PREDMSG_MAX_ID;
        if (len > p->idcap) {
            char *nb = realloc(p->id, len);
            if (!nb) {
                snprintf(err, errlen, "predict: out of memory");
                return -1;
            }
            p->id = nb;
            p->idcap = len;
        }
        memcpy(p->id, s, len);
        p->idlen = len;
        break;
    case SCHEMA_WORDS: {
        long n = schema_words_field(p->schema, (size_t)sc, s, len, &p->words, p->file, line, col,
                                    err, errlen);
        if (n < 0) return -1;
        for (long i = 0; i < n; i++)
            add_feature(p, p->words.index[i], p->words.value[i]);
        break;
    }
    default: {
        int idx;
        double v;
        int got = schema_text_field(p->schema, (size_t)sc, s, len, &idx, &v, p->file, line, col,
                                    err, errlen);
        if (got < 0) return -1;
        if (got) add_feature(p, idx, v);
        break;
    }
    }
    return 0;
}

static int csv_record(void *ctx, size_t nfields, uint64_t line, char *err, size_t errlen) {
    pred_t *p = ctx;
    int rc = finish_row(p, p->id, p->idlen, err, errlen);
    p->idlen = 0;
    return rc;
}

/* What a prediction task allocated for its rows. */
static void pred_free(pred_t *p) {
    free(p->cols);
    schema_words_free(&p->words);
    free(p->id);
    free(p->dec);
    free(p->pout);
    schema_destroy(&p->schema);
}

static int op_predict(op_ctx_t *ctx, const void *body, size_t len, blob_t **result, char *err,
                      size_t errlen) {
    int rc = PROTO_ERR_DATA;
    jobctx_t *jc = NULL;
    char **names = NULL;
    size_t nnames = 0;
    pred_t p = {.op = ctx, .truth = -1};
    predmsg_req_t req;
    *result = NULL;

    if (predmsg_req_decode(body, len, &req) < 0) {
        snprintf(err, errlen, "predict: bad task body (%zu bytes)", len);
        goto out;
    }
    jc = jobctx_decode(ctx->context, ctx->context_len, err, errlen);
    if (!jc) goto out;
    if (!jc->has_model || jc->nr_class < 1 || jc->nr_w != model_nr_w(jc->solver, jc->nr_class)) {
        snprintf(err, errlen, "predict: the job context has no usable model");
        goto out;
    }
    p.jc = jc;
    p.prob = jc->want_prob && solver_has_prob(jc->solver);
    p.dec = calloc((size_t)(jc->nr_w < 2 ? 2 : jc->nr_w), sizeof *p.dec);
    p.pout = calloc((size_t)jc->nr_class + 1, sizeof *p.pout);
    if (!p.dec || !p.pout) goto nomem;
    size_t shard_len;
    const char *bytes = op_shard_data(ctx, &shard_len);
    if (predmsg_enc_init(&p.enc, (uint32_t)jc->nr_class, p.prob, req.first_row, 0) < 0) goto nomem;
    const char *file = jc->file ? jc->file : "data";
    p.file = file;

    if (jc->format == JOBCTX_LIBSVM) {
        if (svmread_parse(file, bytes, shard_len, req.first_line, svm_row, &p, err, errlen) < 0)
            goto parse_failed;
    } else {
        if (!jc->schema_json || !jc->header) {
            snprintf(err, errlen, "predict: a CSV job needs its schema and header");
            goto out;
        }
        p.schema = schema_from_json(jc->schema_json, jc->schema_len, err, errlen);
        if (!p.schema) goto out;
        if (schema_nr_class(p.schema) != jc->nr_class ||
            schema_n_features(p.schema) != jc->nr_feature) {
            snprintf(err, errlen, "predict: the schema does not match the model");
            goto out;
        }
        if (csvread_header(file, jc->header, jc->header_len, &names, &nnames, err, errlen) < 0)
            goto out;
        p.ncols = nnames;
        p.cols = schema_file_columns(p.schema, names, nnames);
        if (!p.cols) goto nomem;
        /* The test file may have an id column training did not have. */
        for (size_t c = 0; c < nnames; c++)
            if (p.cols[c].sc < 0 && jc->id && strcmp(names[c], jc->id) == 0) p.cols[c].sc = COL_ID;
        csvread_cb_t cb = {.field = csv_field, .record = csv_record};
        if (csvread_parse(file, bytes, shard_len, req.first_line, nnames, &cb, &p, err, errlen) < 0)
            goto parse_failed;
    }
    op_add_rows(ctx, p.pending_rows);
    op_test_delay(ctx, OP_DELAY_PREDICT);
    *result = predmsg_enc_finish(&p.enc);
    if (!*result) goto nomem;
    rc = 0;
    goto out;
parse_failed:
    if (p.cancelled) rc = PROTO_ERR_INTERNAL;
    goto out;
nomem:
    snprintf(err, errlen, "predict: out of memory");
    rc = PROTO_ERR_INTERNAL;
out:
    predmsg_enc_free(&p.enc);
    csvread_names_free(names, nnames);
    pred_free(&p);
    jobctx_destroy(&jc);
    return rc;
}

op_def_t op_predict_def = {
    .name = "predict", .fn = op_predict, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
