/* op_export: OP_EXPORT — one shard's fitted features as libsvm text
 * (`bin/master export`).
 *
 * Context: a jobctx_t with the fitted schema (no model weights needed).
 * Body: predmsg_req_t (where the shard starts in the file). Result: an
 * exportmsg (common/exportmsg.h), one line per row in shard order.
 *
 * The rows are parsed by dataset_from_shard(), the very function training
 * parses its shards with, without the bias node (liblinear-train -B adds
 * it): the exported matrix is the one training fits, bit for bit. The
 * parsed shard is not kept in the cache: an export reads each shard once.
 */
#include "common/dataset.h"
#include "common/exportmsg.h"
#include "common/jobctx.h"
#include "common/predmsg.h"
#include "common/proto.h"
#include "common/schema.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <stdio.h>
#include <stdlib.h>

#define CANCEL_EVERY 1024 /* rows between cancel checks: well under 10 ms */

/* The int liblinear's model file records for a row's label index y, or 0
 * for a row without a known label (no label column, a missing label, a
 * label training never saw): *unlabelled then says so. */
static int row_label(const schema_t *s, int y, int *unlabelled) {
    *unlabelled = y < 0 || y >= schema_nr_class(s);
    return *unlabelled ? 0 : schema_label_value(s, y);
}

/* Formats d's rows into e, checking for cancellation. 0, or a PROTO_ERR_*
 * class with err. */
static int format_rows(op_ctx_t *ctx, const schema_t *s, const dataset_t *d, exportmsg_enc_t *e,
                       char *err, size_t errlen) {
    uint64_t pending = 0;
    for (size_t i = 0; i < d->rows; i++) {
        int unlabelled;
        int label = row_label(s, d->y[i], &unlabelled);
        if (exportmsg_enc_row(e, label, d->x[i], unlabelled) < 0) {
            snprintf(err, errlen, "export: out of memory for the result");
            return PROTO_ERR_INTERNAL;
        }
        if (++pending == CANCEL_EVERY) {
            op_add_rows(ctx, pending);
            pending = 0;
            if (op_cancelled(ctx)) {
                snprintf(err, errlen, "export: cancelled");
                return PROTO_ERR_INTERNAL;
            }
        }
    }
    op_add_rows(ctx, pending);
    return 0;
}

static int op_export(op_ctx_t *ctx, const void *body, size_t len, blob_t **result, char *err,
                     size_t errlen) {
    int rc = PROTO_ERR_DATA;
    jobctx_t *jc = NULL;
    schema_t *schema = NULL;
    dataset_t *d = NULL;
    exportmsg_enc_t e = {0};
    predmsg_req_t req;
    *result = NULL;

    if (predmsg_req_decode(body, len, &req) < 0) {
        snprintf(err, errlen, "export: bad task body (%zu bytes)", len);
        goto out;
    }
    if (!(jc = jobctx_decode(ctx->context, ctx->context_len, err, errlen))) goto out;
    if (!jc->schema_json) {
        snprintf(err, errlen, "export: the job context has no schema");
        goto out;
    }
    if (!(schema = schema_from_json(jc->schema_json, jc->schema_len, err, errlen))) goto out;
    datasrc_t src = shardstate_source(jc);
    size_t shard_len = 0;
    const char *bytes = op_shard_data(ctx, &shard_len);
    if (dataset_from_shard(schema, &src, bytes, shard_len, req.first_row, req.first_line, -1, &d,
                           err, errlen) < 0)
        goto out;
    if (exportmsg_enc_init(&e, req.first_row) < 0) goto nomem;
    rc = format_rows(ctx, schema, d, &e, err, errlen);
    if (rc != 0) goto out;
    if (!(*result = exportmsg_enc_finish(&e))) goto nomem;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "export: out of memory");
    rc = PROTO_ERR_INTERNAL;
out:
    exportmsg_enc_free(&e);
    dataset_destroy(&d);
    schema_destroy(&schema);
    jobctx_destroy(&jc);
    return rc;
}

op_def_t op_export_def = {
    .name = "export", .fn = op_export, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
