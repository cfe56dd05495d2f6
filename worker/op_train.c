/* OP_TRAIN: liblinear train() on one shard (the average strategy).
 *
 * Body: u64 first_row, u64 first_line, f64 eps, u32 has_init, u32 n, u32 nr_w, then
 * when has_init the global weights (n * nr_w doubles, liblinear layout, class
 * k = label index k) to start from (init_sol; solvers 0 and 2).
 * Result: u64 rows, u32 nr_class, u32 nr_feature, f64 bias, u32 labels
 * [nr_class] (label indices, in this shard's liblinear order), f64 w
 * [(nr_feature + (bias >= 0)) * nr_w] as train() left them. */
#include "common/proto.h"
#include "worker/ops.h"
#include "worker/shardstate.h"

#include <linear.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(const char *s) {
    (void)s;
}

/* The global init weights in this shard's class order (first appearance of
 * each label index, which is what liblinear's grouping gives for indices),
 * or NULL when the shard's classes differ from the global ones. */
static double *shard_init(const dataset_t *d, const double *w, int n, int nr_w, int nr_class) {
    int *order = malloc((size_t)nr_class * sizeof *order);
    char *seen = calloc((size_t)nr_class, 1);
    double *init = NULL;
    int m = 0;
    if (!order || !seen) goto out;
    for (size_t i = 0; i < d->rows && m < nr_class; i++) {
        int y = d->y[i];
        if (y >= 0 && y < nr_class && !seen[y]) {
            seen[y] = 1;
            order[m++] = y;
        }
    }
    if (m != nr_class) goto out;
    init = malloc((size_t)n * (size_t)nr_w * sizeof *init);
    if (!init) goto out;
    for (int j = 0; j < n; j++)
        for (int k = 0; k < nr_w; k++) {
            size_t at = (size_t)j * (size_t)nr_w + (size_t)k;
            if (nr_w == 1)
                init[at] = order[0] == 0 ? w[at] : -w[at];
            else
                init[at] = w[(size_t)j * (size_t)nr_w + (size_t)order[k]];
        }
out:
    free(order);
    free(seen);
    return init;
}

/* The request body's fixed part, checked against blen. */
typedef struct train_req {
    uint64_t first_row, first_line;
    double eps;
    uint32_t has_init, n, nr_w;
    const uint8_t *weights; /* n * nr_w doubles when has_init, borrowed from the body */
} train_req_t;

static int parse_req(const void *body, size_t blen, train_req_t *r, char *err, size_t errlen) {
    const uint8_t *p = body;
    if (blen < 36) {
        snprintf(err, errlen, "train: body is %zu bytes", blen);
        return -1;
    }
    r->first_row = proto_get_u64(p);
    r->first_line = proto_get_u64(p + 8);
    r->eps = proto_get_f64(p + 16);
    r->has_init = proto_get_u32(p + 24);
    r->n = proto_get_u32(p + 28);
    r->nr_w = proto_get_u32(p + 32);
    r->weights = p + 36;
    uint32_t n = r->n, nr_w = r->nr_w;
    if (!(r->eps > 0) || r->eps > 1e6) {
        snprintf(err, errlen, "train: eps %g out of range", r->eps);
        return -1;
    }
    if (r->has_init && (n == 0 || nr_w == 0 || n > (1u << 26) || nr_w > 65536 ||
                        (blen - 36) / 8 / n / nr_w != 1 || blen != 36 + 8 * (size_t)n * nr_w)) {
        snprintf(err, errlen, "train: body of %zu bytes does not hold %u x %u weights", blen, n,
                 nr_w);
        return -1;
    }
    if (!r->has_init && blen != 36) {
        snprintf(err, errlen, "train: body is %zu bytes, want 36", blen);
        return -1;
    }
    return 0;
}

/* The request's global weights in this shard's class order, in *init (left
 * NULL when the shard's classes differ from the global ones); -1 with err
 * filled when they do not fit the shard or memory runs out. */
static int load_init(const train_req_t *r, const shardstate_t *st, double **init, char *err,
                     size_t errlen) {
    const dataset_t *d = st->d;
    uint32_t n = r->n, nr_w = r->nr_w;
    if ((int)n != d->n || (int)nr_w != st->nr_w) {
        snprintf(err, errlen, "train: init weights %u x %u, shard has %d x %d", n, nr_w, d->n,
                 st->nr_w);
        return -1;
    }
    double *gw = malloc((size_t)n * nr_w * sizeof *gw);
    if (!gw) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < (size_t)n * nr_w; i++)
        gw[i] = proto_get_f64(r->weights + 8 * i);
    *init = shard_init(d, gw, (int)n, (int)nr_w, st->nr_class);
    free(gw);
    return 0;
}

/* The result body (see the top of this file); NULL when out of memory. */
static blob_t *encode_model(const struct model *m, uint64_t rows) {
    int nw = (m->nr_class == 2 && m->param.solver_type != MCSVM_CS) ? 1 : m->nr_class;
    size_t nv = (size_t)m->nr_feature + (m->bias >= 0 ? 1 : 0);
    size_t len = 24 + 4 * (size_t)m->nr_class + 8 * nv * (size_t)nw;
    blob_t *b = blob_new(len);
    if (!b) return NULL;
    uint8_t *q = b->data;
    proto_put_u64(q, rows);
    proto_put_u32(q + 8, (uint32_t)m->nr_class);
    proto_put_u32(q + 12, (uint32_t)m->nr_feature);
    proto_put_f64(q + 16, m->bias);
    q += 24;
    for (int i = 0; i < m->nr_class; i++, q += 4)
        proto_put_u32(q, (uint32_t)m->label[i]);
    for (size_t i = 0; i < nv * (size_t)nw; i++, q += 8)
        proto_put_f64(q, m->w[i]);
    return b;
}

static int op_train(op_ctx_t *ctx, const void *body, size_t blen, blob_t **result, char *err,
                    size_t errlen) {
    int cls = PROTO_ERR_INTERNAL;
    train_req_t r;
    struct problem prob = {0};
    struct model *m = NULL;
    double *init = NULL;
    *result = NULL;
    if (parse_req(body, blen, &r, err, errlen) != 0) return cls;
    shardstate_t *st = shardstate_get(ctx, r.first_row, r.first_line, &cls, err, errlen);
    if (!st) return cls;
    cls = PROTO_ERR_INTERNAL;
    if (st->renumbered) { /* a job trains one way: OP_TRON renumbered these rows */
        snprintf(err, errlen, "shard %u was renumbered for exact training", ctx->shard);
        return cls;
    }
    const dataset_t *d = st->d;
    prob.l = (int)d->rows;
    prob.n = d->n;
    prob.bias = d->bias;
    prob.x = d->x;
    prob.y = malloc((d->rows ? d->rows : 1) * sizeof *prob.y);
    if (!prob.y) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->rows; i++)
        prob.y[i] = d->y[i];
    if (r.has_init && load_init(&r, st, &init, err, errlen) != 0) goto out;
    struct parameter param = {
        .solver_type = st->solver, .eps = r.eps, .C = st->C, .p = 0.1, .init_sol = init};
    const char *bad = check_parameter(&prob, &param);
    if (bad) {
        snprintf(err, errlen, "train: %s", bad);
        cls = PROTO_ERR_DATA;
        goto out;
    }
    set_print_string_function(quiet);
    m = train(&prob, &param);
    if (!m) {
        snprintf(err, errlen, "train: liblinear failed");
        goto out;
    }
    blob_t *b = encode_model(m, d->rows);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    op_add_rows(ctx, d->rows);
    *result = b;
    cls = 0;
out:
    if (m) free_and_destroy_model(&m);
    free(prob.y);
    free(init);
    return cls;
}

op_def_t op_train_def = {
    .name = "train", .fn = op_train, .needs = OP_NEEDS_CONTEXT | OP_NEEDS_SHARD};
