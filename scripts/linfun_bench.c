/* linfun_bench: how fast the exact strategy's shard math is, on real rows.
 *
 *   bin/linfun_bench FILE.svm [--rows N] [--solver 0|2] [--bias B] [--reps R]
 *                    [--train SHARDS] [--compare]
 *
 * Reads the first N rows (default 20000) of a libsvm file, appends the bias
 * feature as liblinear-train -B does, and times linfun's fun, grad and hv for
 * one class and for all classes in one batched pass (milliseconds per call,
 * median of R). --train S trains every class single-process over S shards of
 * those rows with tron, in lockstep as the master does, and prints the time
 * and the number of rounds; --compare also runs liblinear's train() on the
 * same rows and prints both times and the relative L2 distance of the weights.
 * Exit status: 0 ok, 2 bad usage, 3 unreadable input.
 */
#include <linear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/dataset.h"
#include "common/linfun.h"
#include "common/model.h"
#include "common/tron.h"

typedef struct bench_data {
    dataset_t d;
    struct problem prob;
    struct feature_node *nodes;
    int labels[64];
    int nr_class;
} bench_data_t;

static int bench_read(const char *path, size_t max_rows, double bias, bench_data_t *b) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "linfun_bench: cannot read %s\n", path);
        return -1;
    }
    size_t cap_nodes = 1 << 20, used = 0, rows = 0, cap_rows = 1024;
    size_t *start = malloc(cap_rows * sizeof *start);
    double *yv = malloc(cap_rows * sizeof *yv);
    b->nodes = malloc(cap_nodes * sizeof *b->nodes);
    char *line = NULL;
    size_t lcap = 0;
    int maxidx = 0, rc = -1;
    if (!start || !yv || !b->nodes) goto out;
    while (rows < max_rows && getline(&line, &lcap, fp) > 0) {
        char *p = line, *end;
        double y = strtod(p, &end);
        if (end == p) continue;
        p = end;
        if (rows == cap_rows) {
            cap_rows *= 2;
            size_t *ns = realloc(start, cap_rows * sizeof *start);
            double *ny = realloc(yv, cap_rows * sizeof *yv);
            if (!ns || !ny) {
                free(ns ? ns : start);
                free(ny ? ny : yv);
                start = NULL, yv = NULL;
                goto out;
            }
            start = ns, yv = ny;
        }
        start[rows] = used;
        yv[rows] = y;
        for (;;) {
            if (used + 2 >= cap_nodes) {
                cap_nodes *= 2;
                struct feature_node *nn = realloc(b->nodes, cap_nodes * sizeof *nn);
                if (!nn) goto out;
                b->nodes = nn;
            }
            long idx = strtol(p, &end, 10);
            if (end == p || *end != ':') break;
            double v = strtod(end + 1, &p);
            b->nodes[used].index = (int)idx;
            b->nodes[used++].value = v;
            if (idx > maxidx) maxidx = (int)idx;
        }
        b->nodes[used++].index = -1; /* bias slot filled below */
        b->nodes[used++].index = -1;
        rows++;
    }
    int n = maxidx + (bias >= 0);
    b->d.x = malloc(rows * sizeof *b->d.x);
    b->d.y = malloc(rows * sizeof *b->d.y);
    if (!b->d.x || !b->d.y) goto out;
    for (size_t i = 0; i < rows; i++) {
        struct feature_node *q = b->nodes + start[i];
        while (q->index != -1)
            q++;
        if (bias >= 0) {
            q->index = n;
            q->value = bias;
            q[1].index = -1;
        }
        b->d.x[i] = b->nodes + start[i];
        int lab = (int)yv[i], k;
        for (k = 0; k < b->nr_class && b->labels[k] != lab; k++)
            ;
        if (k == b->nr_class) {
            if (k == 64) goto out;
            b->labels[b->nr_class++] = lab;
        }
        b->d.y[i] = k;
    }
    /* liblinear puts +1 first in a -1/+1 problem. */
    if (b->nr_class == 2 && b->labels[0] == -1 && b->labels[1] == 1) {
        b->labels[0] = 1, b->labels[1] = -1;
        for (size_t i = 0; i < rows; i++)
            b->d.y[i] = 1 - b->d.y[i];
    }
    b->d.rows = rows;
    b->d.n = n;
    b->d.bias = bias;
    b->prob.l = (int)rows;
    b->prob.n = n;
    b->prob.x = b->d.x;
    b->prob.bias = bias;
    b->prob.y = yv;
    yv = NULL;
    rc = 0;
out:
    free(line);
    free(start);
    free(yv);
    fclose(fp);
    if (rc < 0)
        fprintf(stderr, "linfun_bench: cannot load %s (out of memory or too many labels)\n", path);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void quiet(const char *s) {
    (void)s;
}

/* liblinear's TRON log per class: a class starts at its "iter  1" line. */
static int ll_class = -1, ll_passes[64], ll_cg[64];

static void capture(const char *s) {
    const char *c = strstr(s, " CG ");
    if (strncmp(s, "iter ", 5) != 0 || !c) return;
    if (atoi(s + 5) == 1 && (ll_class < 0 || ll_passes[ll_class] > 0)) ll_class++;
    if (ll_class >= 0 && ll_class < 64) {
        ll_passes[ll_class]++;
        ll_cg[ll_class] += atoi(c + 4);
    }
}

int main(int argc, char **argv) {
    const char *path = NULL;
    size_t rows = 20000;
    int solver = 0, reps = 5, train_shards = 0, compare = 0;
    double bias = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--solver") && i + 1 < argc)
            solver = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bias") && i + 1 < argc)
            bias = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--train") && i + 1 < argc)
            train_shards = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compare"))
            compare = 1;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: linfun_bench FILE.svm [--rows N] [--solver 0|2] [--bias B] "
                            "[--reps R] [--train SHARDS] [--compare]\n");
            return 2;
        }
    }
    if (!path || reps < 1 || reps > 100 || train_shards < 0 || train_shards > 64) {
        fprintf(stderr, "usage: linfun_bench FILE.svm [--rows N] [--solver 0|2] [--bias B] "
                        "[--reps R] [--train SHARDS] [--compare]\n");
        return 2;
    }
    bench_data_t b;
    memset(&b, 0, sizeof b);
    int64_t t0 = clock_now_us();
    if (bench_read(path, rows, bias, &b) < 0) return 3;
    size_t nnz = 0;
    for (size_t i = 0; i < b.d.rows; i++)
        for (const struct feature_node *q = b.d.x[i]; q->index != -1; q++)
            nnz++;
    printf("read %zu rows x %d features (%zu nonzeros incl. bias, %.1f%%), %d classes in %.2f s\n",
           b.d.rows, b.d.n, nnz, 100.0 * nnz / ((double)b.d.rows * b.d.n), b.nr_class,
           (clock_now_us() - t0) / 1e6);

    int nr_w = model_nr_w(solver, b.nr_class), n = b.d.n;
    char err[256];
    linfun_t *f = linfun_new(&b.d, solver, nr_w, err, sizeof err);
    if (!f) {
        fprintf(stderr, "linfun_bench: %s\n", err);
        return 3;
    }
    double *w = calloc((size_t)n * nr_w, sizeof *w), *g = calloc((size_t)n * nr_w, sizeof *g);
    double *dg = calloc((size_t)n * nr_w, sizeof *dg), *tm = calloc(3 * (size_t)reps, sizeof *tm);
    double *fv = calloc((size_t)nr_w, sizeof *fv);
    linfun_req_t *reqs = calloc((size_t)nr_w, sizeof *reqs);
    if (!w || !g || !dg || !tm || !fv || !reqs) return 1;
    for (int j = 0; j < n * nr_w; j++)
        w[j] = 0.01 * sin(j);

    for (int r = 0; r < reps; r++) {
        int64_t a = clock_now_us();
        linfun_fun(f, 0, w);
        int64_t b1 = clock_now_us();
        linfun_grad(f, 0, g, dg);
        int64_t c = clock_now_us();
        linfun_hv(f, 0, w, g);
        int64_t d = clock_now_us();
        tm[r] = (b1 - a) / 1e3, tm[reps + r] = (c - b1) / 1e3, tm[2 * reps + r] = (d - c) / 1e3;
    }
    printf("one class:   fun %.2f ms  grad+diag %.2f ms  hv %.2f ms\n", median(tm, reps),
           median(tm + reps, reps), median(tm + 2 * reps, reps));
    for (int r = 0; r < reps; r++) {
        int64_t a = clock_now_us();
        for (int k = 0; k < nr_w; k++)
            reqs[k] = (linfun_req_t){.op = LINFUN_FUN, .v = w + (size_t)k * n, .out = &fv[k]};
        linfun_batch(f, reqs);
        int64_t b1 = clock_now_us();
        for (int k = 0; k < nr_w; k++)
            reqs[k] = (linfun_req_t){
                .op = LINFUN_GRAD, .out = g + (size_t)k * n, .diag = dg + (size_t)k * n};
        linfun_batch(f, reqs);
        int64_t c = clock_now_us();
        for (int k = 0; k < nr_w; k++)
            reqs[k] =
                (linfun_req_t){.op = LINFUN_HV, .v = w + (size_t)k * n, .out = g + (size_t)k * n};
        linfun_batch(f, reqs);
        int64_t d = clock_now_us();
        tm[r] = (b1 - a) / 1e3, tm[reps + r] = (c - b1) / 1e3, tm[2 * reps + r] = (d - c) / 1e3;
    }
    printf("%d classes batched: fun %.2f ms  grad+diag %.2f ms  hv %.2f ms\n", nr_w,
           median(tm, reps), median(tm + reps, reps), median(tm + 2 * reps, reps));
    linfun_destroy(&f);

    if (train_shards > 0) {
        linfun_t *sh[64];
        dataset_t views[64];
        long pos[64] = {0};
        for (int s = 0; s < train_shards; s++) {
            size_t a = b.d.rows * s / train_shards, e = b.d.rows * (s + 1) / train_shards;
            views[s] = b.d;
            views[s].x = b.d.x + a;
            views[s].y = b.d.y + a;
            views[s].rows = e - a;
            sh[s] = linfun_new(&views[s], solver, nr_w, err, sizeof err);
            if (!sh[s]) {
                fprintf(stderr, "linfun_bench: %s\n", err);
                return 3;
            }
            for (int k = 0; k < nr_w; k++)
                pos[k] += (long)linfun_positives(sh[s], k);
        }
        tron_t *t[64];
        long l = (long)b.d.rows;
        for (int k = 0; k < nr_w; k++)
            t[k] = tron_new(n, 1.0, tron_class_eps(0.01, pos[k], l - pos[k], l), tron_eps_cg(0),
                            1000, NULL);
        int64_t a = clock_now_us();
        int rounds = 0;
        for (;;) {
            tron_op_t ops[64];
            const double *vec[64];
            int live = 0;
            for (int k = 0; k < nr_w; k++)
                live += (ops[k] = tron_next(t[k], &vec[k])) != TRON_DONE;
            if (!live) break;
            rounds++;
            memset(g, 0, (size_t)n * nr_w * sizeof *g);
            memset(dg, 0, (size_t)n * nr_w * sizeof *dg);
            double fsum[64] = {0};
            for (int s = 0; s < train_shards; s++) {
                for (int k = 0; k < nr_w; k++) {
                    double *gk = g + (size_t)k * n;
                    linfun_op_t op = ops[k] == TRON_FUN    ? LINFUN_FUN
                                     : ops[k] == TRON_GRAD ? LINFUN_GRAD
                                     : ops[k] == TRON_HV   ? LINFUN_HV
                                                           : LINFUN_NONE;
                    reqs[k] = (linfun_req_t){.op = op,
                                             .v = vec[k],
                                             .out = op == LINFUN_FUN ? &fv[k] : gk,
                                             .diag = dg + (size_t)k * n};
                }
                linfun_batch(sh[s], reqs);
                for (int k = 0; k < nr_w; k++)
                    if (ops[k] == TRON_FUN) fsum[k] += fv[k];
            }
            for (int k = 0; k < nr_w; k++) {
                if (ops[k] == TRON_FUN)
                    tron_feed_fun(t[k], fsum[k]);
                else if (ops[k] == TRON_GRAD)
                    tron_feed_grad(t[k], g + (size_t)k * n, dg + (size_t)k * n);
                else if (ops[k] == TRON_HV)
                    tron_feed_hv(t[k], g + (size_t)k * n);
            }
        }
        double secs = (clock_now_us() - a) / 1e6;
        long cg = 0;
        for (int k = 0; k < nr_w; k++) {
            const double *wk = tron_weights(t[k]);
            for (int j = 0; j < n; j++)
                w[(size_t)j * nr_w + k] = wk[j];
            cg += tron_cg_total(t[k]);
        }
        printf("train %d shard(s), single process: %.2f s, %d rounds, %ld CG steps in all\n",
               train_shards, secs, rounds, cg);
        if (compare) {
            struct parameter par;
            memset(&par, 0, sizeof par);
            par.solver_type = solver;
            par.C = 1;
            par.eps = 0.01;
            set_print_string_function(capture);
            a = clock_now_us();
            struct model *m = train(&b.prob, &par);
            secs = (clock_now_us() - a) / 1e6;
            double num = 0, den = 0;
            for (size_t j = 0; j < (size_t)n * nr_w; j++) {
                num += (w[j] - m->w[j]) * (w[j] - m->w[j]);
                den += m->w[j] * m->w[j];
            }
            printf("liblinear train(): %.2f s; relative L2 distance of weights %.3g\n", secs,
                   sqrt(num / den));
            for (int k = 0; k < nr_w; k++) {
                double nk = 0, dk = 0;
                for (int j = 0; j < n; j++) {
                    double a1 = w[(size_t)j * nr_w + k], b1 = m->w[(size_t)j * nr_w + k];
                    nk += (a1 - b1) * (a1 - b1);
                    dk += b1 * b1;
                }
                printf("  class %d: ours %d passes %ld CG, liblinear %d passes %d CG, rel L2 "
                       "%.3g\n",
                       k, tron_iteration_info(t[k], NULL), tron_cg_total(t[k]),
                       k < 64 ? ll_passes[k] : 0, k < 64 ? ll_cg[k] : 0, sqrt(nk / dk));
            }
            /* How far liblinear is from itself when only the order of the rows
             * (hence of the floating-point sums) changes. */
            struct problem rev = b.prob;
            rev.x = malloc(b.d.rows * sizeof *rev.x);
            rev.y = malloc(b.d.rows * sizeof *rev.y);
            if (rev.x && rev.y) {
                for (size_t i = 0; i < b.d.rows; i++) {
                    rev.x[i] = b.prob.x[b.d.rows - 1 - i];
                    rev.y[i] = b.prob.y[b.d.rows - 1 - i];
                }
                set_print_string_function(quiet);
                struct model *m2 = train(&rev, &par);
                double n2 = 0, d2 = 0;
                size_t agree = 0, agree2 = 0;
                if (m2 && m2->nr_class == m->nr_class && nr_w > 1) {
                    /* Reversed rows reorder the labels: match columns by label. */
                    for (int k = 0; k < nr_w; k++) {
                        int k2 = 0;
                        while (k2 < nr_w - 1 && m2->label[k2] != m->label[k])
                            k2++;
                        for (int j = 0; j < n; j++) {
                            double a1 = m2->w[(size_t)j * nr_w + k2];
                            double b1 = m->w[(size_t)j * nr_w + k];
                            n2 += (a1 - b1) * (a1 - b1);
                            d2 += b1 * b1;
                        }
                    }
                    printf("liblinear on the rows reversed vs liblinear: relative L2 %.3g\n",
                           sqrt(n2 / d2));
                }
                struct model *ours = model_build(solver, b.nr_class, b.labels, n - (bias >= 0),
                                                 bias, w, err, sizeof err);
                for (size_t i = 0; ours && i < b.d.rows; i++) {
                    double pm = predict(m, b.d.x[i]);
                    agree += predict(ours, b.d.x[i]) == pm;
                    agree2 += m2 && predict(m2, b.d.x[i]) == pm;
                }
                printf("training-row predictions equal to liblinear's: ours %.3f%%, "
                       "liblinear reversed %.3f%%\n",
                       100.0 * agree / b.d.rows, 100.0 * agree2 / b.d.rows);
                free_and_destroy_model(&ours);
                free_and_destroy_model(&m2);
            }
            free(rev.x);
            free(rev.y);
            free_and_destroy_model(&m);
        }
        for (int k = 0; k < nr_w; k++)
            tron_destroy(&t[k]);
        for (int s = 0; s < train_shards; s++)
            linfun_destroy(&sh[s]);
    }
    free(w), free(g), free(dg), free(tm), free(fv), free(reqs);
    free(b.nodes), free(b.d.x), free(b.d.y), free(b.prob.y);
    return 0;
}
