/* OP_SUMMARY: one shard's column summary for the schema pass.
 * Body: u64 first_row, u64 first_line (where the shard sits in the file).
 * Result: summary_encode() bytes. Bad rows fail with PROTO_ERR_DATA and the
 * reader's "FILE:LINE[:COL]: what" line, which the master prints as is. */
#include "common/jobctx.h"
#include "common/proto.h"
#include "common/schema.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <stdio.h>
#include <stdlib.h>

static int op_summary(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                      size_t errlen) {
    int cls = PROTO_ERR_INTERNAL;
    jobctx_t *jc = NULL;
    summary_t *sum = NULL;
    char *buf = NULL;
    size_t len = 0;
    *result = NULL;
    if (blen != 16) {
        snprintf(err, errlen, "summary: body is %zu bytes, want 16", blen);
        goto out;
    }
    jc = jobctx_decode(ctx->context, ctx->context_len, err, errlen);
    if (!jc) goto out;
    datasrc_t src = shardstate_source(jc);
    size_t slen = 0;
    const char *bytes = op_shard_data(ctx, &slen);
    sum = summary_from_shard(&src, bytes, slen, proto_get_u64(body),
                             proto_get_u64((const uint8_t *)body + 8), err, errlen);
    if (!sum) {
        cls = PROTO_ERR_DATA;
        goto out;
    }
    op_add_rows(ctx, summary_rows(sum));
    if (summary_encode(sum, &buf, &len) < 0) {
        snprintf(err, errlen, "out of memory encoding a summary");
        goto out;
    }
    *result = blob_wrap(buf, len);
    if (!*result) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cls = 0;
out:
    summary_destroy(&sum);
    jobctx_destroy(&jc);
    return cls;
}

op_def_t op_summary_def = {
    .name = "summary", .fn = op_summary, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
