#include "master/train_average.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/model.h"
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>

/* OP_TRAIN result: u64 rows, u32 nr_class, u32 nr_feature, f64 bias,
 * i32 labels[nr_class] (label indices), f64 w[(nr_feature + (bias >= 0)) * nr_w]. */
static struct model *decode_train(trainer_t *t, const blob_t *b, double *rows, char *err,
                                  size_t errlen) {
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

/* Round r's body for shard i: u64 first_row, u64 first_line, f64 eps,
 * u32 has_init, u32 n, u32 nr_w, then from the second round the average so
 * far (see worker/op_train.c). */
static blob_t *train_body(const trainer_t *t, size_t i, int r) {
    size_t nwv = (size_t)t->n * (size_t)t->nr_w;
    blob_t *b = blob_new(36 + (r > 0 ? 8 * nwv : 0));
    if (!b) return NULL;
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
    return b;
}

/* One round: every shard trains, t->w becomes the row-weighted average. */
static int average_round(trainer_t *t, int r, struct model **models, double *rows, const int *gl) {
    size_t ns = t->sp.nshards;
    int status = EXIT_JOB_FAILED;
    blob_t **bodies = calloc(ns ? ns : 1, sizeof *bodies);
    sched_round_t round = {.op = OP_TRAIN, .bodies = bodies};
    for (size_t i = 0; bodies && i < ns; i++)
        if (!(bodies[i] = train_body(t, i, r))) break;
    if (!bodies || (ns && !bodies[ns - 1])) {
        trainer_fail(t, "out of memory");
        goto out;
    }
    if ((status = trainer_round(t, &round)) != 0) goto out;
    status = EXIT_JOB_FAILED;
    for (size_t i = 0; i < ns; i++) {
        char err[512];
        models[i] = decode_train(t, round.answers[i].data, &rows[i], err, sizeof err);
        if (!models[i]) {
            snprintf(t->err, sizeof t->err, "shard %zu: %s", i, err);
            goto out;
        }
    }
    if (model_average((const struct model *const *)models, rows, (int)ns, gl, t->nr_class,
                      t->nr_feature, t->cfg->model.bias, t->w, t->err, sizeof t->err) < 0)
        goto out;
    status = 0;
out:
    for (size_t i = 0; i < ns; i++)
        if (models[i]) {
            free_and_destroy_model(&models[i]);
            models[i] = NULL;
        }
    for (size_t i = 0; bodies && i < ns; i++)
        blob_unref(&bodies[i]);
    free(bodies);
    sched_round_free(&round);
    return status;
}

int train_average(trainer_t *t) {
    int status = EXIT_JOB_FAILED;
    int rounds = t->cfg->model.rounds > 0 ? t->cfg->model.rounds : 1;
    size_t ns = t->sp.nshards;
    struct model **models = calloc(ns ? ns : 1, sizeof *models);
    double *rows = calloc(ns ? ns : 1, sizeof *rows);
    int *gl = malloc((size_t)t->nr_class * sizeof *gl);
    t->w = calloc((size_t)t->n * (size_t)t->nr_w, sizeof *t->w);
    if (!models || !rows || !gl || !t->w) {
        trainer_fail(t, "out of memory");
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
        if ((status = average_round(t, r, models, rows, gl)) != 0) goto out;
        log_info("average round %d/%d done (%.2f s)", r + 1, rounds,
                 (double)(clock_now_ms() - t_tr) / 1000.0);
    }
    t->secs_tron = (double)(clock_now_ms() - t_tr) / 1000.0;
    status = 0;
out:
    free(models);
    free(rows);
    free(gl);
    return status;
}
