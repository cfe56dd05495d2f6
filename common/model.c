/* model: liblinear 2.30 model files and the average combiner (see model.h). */
#include "common/model.h"

#include "common/dtoa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* liblinear 2.30's solver_type_table; gaps are numbers it does not use. */
static const char *const model_solvers[] = {"L2R_LR",
                                            "L2R_L2LOSS_SVC_DUAL",
                                            "L2R_L2LOSS_SVC",
                                            "L2R_L1LOSS_SVC_DUAL",
                                            "MCSVM_CS",
                                            "L1R_L2LOSS_SVC",
                                            "L1R_LR",
                                            "L2R_LR_DUAL",
                                            NULL,
                                            NULL,
                                            NULL,
                                            "L2R_L2LOSS_SVR",
                                            "L2R_L2LOSS_SVR_DUAL",
                                            "L2R_L1LOSS_SVR_DUAL"};
#define MODEL_NSOLVERS ((int)(sizeof model_solvers / sizeof model_solvers[0]))

const char *model_solver_name(int solver) {
    if (solver < 0 || solver >= MODEL_NSOLVERS) return NULL;
    return model_solvers[solver];
}

int model_solver_parse(const char *s) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end == '\0' && errno == 0) return model_solver_name((int)v) && v == (int)v ? (int)v : -1;
    for (int i = 0; i < MODEL_NSOLVERS; i++)
        if (model_solvers[i] && strcasecmp(model_solvers[i], s) == 0) return i;
    return -1;
}

int model_nr_w(int solver, int nr_class) {
    if (nr_class == 2 && solver != MCSVM_CS) return 1;
    return nr_class;
}

static int model_check(int solver, int nr_class, const int *labels, int nr_feature, const double *w,
                       char *err, size_t errlen) {
    if (!model_solver_name(solver)) {
        snprintf(err, errlen, "model: unknown solver %d", solver);
        return -1;
    }
    if (nr_class < 1 || !labels || nr_feature < 0 || !w) {
        snprintf(err, errlen, "model: bad arguments (nr_class %d, nr_feature %d)", nr_class,
                 nr_feature);
        return -1;
    }
    return 0;
}

int model_write(const char *path, int solver, int nr_class, const int *labels, int nr_feature,
                double bias, const double *w, char *err, size_t errlen) {
    int rc = -1;
    FILE *fp = NULL;
    char *tmp = NULL;
    if (model_check(solver, nr_class, labels, nr_feature, w, err, errlen) < 0) return -1;
    size_t tl = strlen(path) + 32;
    tmp = malloc(tl);
    if (!tmp) {
        snprintf(err, errlen, "model: out of memory");
        return -1;
    }
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    int nr_w = model_nr_w(solver, nr_class);
    int w_size = nr_feature + (bias >= 0 ? 1 : 0);
    fprintf(fp, "solver_type %s\n", model_solver_name(solver));
    fprintf(fp, "nr_class %d\n", nr_class);
    fprintf(fp, "label");
    for (int k = 0; k < nr_class; k++)
        fprintf(fp, " %d", labels[k]);
    fprintf(fp, "\n");
    fprintf(fp, "nr_feature %d\n", nr_feature);
    fprintf(fp, "bias %.17g\n", bias);
    fprintf(fp, "w\n");
    /* the weights, "%.17g " each (dtoa_g17 writes what printf would), one
     * row of nr_w a line, through a buffer */
    char buf[1 << 16];
    size_t used = 0;
    for (int j = 0; j < w_size; j++) {
        for (int k = 0; k < nr_w; k++) {
            if (used + DTOA_BUF + 2 > sizeof buf) { /* room for a number, ' ' and '\n' */
                fwrite(buf, 1, used, fp);
                used = 0;
            }
            used += (size_t)dtoa_g17(w[(size_t)j * nr_w + k], buf + used);
            buf[used++] = ' ';
        }
        buf[used++] = '\n';
    }
    if (used) fwrite(buf, 1, used, fp);
    /* Surface write errors (disk full) before the rename makes them permanent. */
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fp = NULL;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fp) fclose(fp);
    if (rc != 0 && tmp) unlink(tmp);
    free(tmp);
    return rc;
}

struct model *model_build(int solver, int nr_class, const int *labels, int nr_feature, double bias,
                          const double *w, char *err, size_t errlen) {
    if (model_check(solver, nr_class, labels, nr_feature, w, err, errlen) < 0) return NULL;
    int nr_w = model_nr_w(solver, nr_class);
    size_t w_size = (size_t)nr_feature + (bias >= 0 ? 1 : 0);
    /* liblinear frees these with free(), so they come from malloc. */
    struct model *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->w = malloc((w_size ? w_size : 1) * (size_t)nr_w * sizeof *m->w);
    m->label = malloc((size_t)nr_class * sizeof *m->label);
    if (!m->w || !m->label) goto oom;
    memcpy(m->w, w, w_size * (size_t)nr_w * sizeof *w);
    memcpy(m->label, labels, (size_t)nr_class * sizeof *labels);
    m->param.solver_type = solver;
    m->nr_class = nr_class;
    m->nr_feature = nr_feature;
    m->bias = bias;
    return m;
oom:
    snprintf(err, errlen, "model: out of memory");
    if (m) {
        free(m->w);
        free(m->label);
        free(m);
    }
    return NULL;
}

struct model *model_load(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read model %s: %s", path, strerror(errno));
        return NULL;
    }
    struct model *m = load_model(path);
    if (!m) snprintf(err, errlen, "%s is not a liblinear model file", path);
    return m;
}

/* Column of shard model m (and its sign) that decides for label L; -1 if none. */
static int model_column(const struct model *m, int snw, int L, double *sign) {
    if (snw == 1) {
        *sign = 1;
        if (m->label[0] == L) return 0;
        *sign = -1;
        if (m->label[1] == L) return 0;
        return -1;
    }
    *sign = 1;
    for (int c = 0; c < m->nr_class; c++)
        if (m->label[c] == L) return c;
    return -1;
}

int model_average(const struct model *const *models, const double *rows, int count,
                  const int *labels, int nr_class, int nr_feature, double bias, double *w_out,
                  char *err, size_t errlen) {
    int rc = -1;
    double *wsum = NULL;
    if (!models || !rows || count < 1 || !labels || nr_class < 2 || nr_feature < 0 || !w_out) {
        snprintf(err, errlen, "model_average: bad arguments");
        return -1;
    }
    int solver = models[0]->param.solver_type;
    int nr_w = model_nr_w(solver, nr_class);
    int has_bias = bias >= 0;
    size_t w_size = (size_t)nr_feature + has_bias;
    memset(w_out, 0, w_size * (size_t)nr_w * sizeof *w_out);
    wsum = calloc((size_t)nr_w, sizeof *wsum);
    if (!wsum) {
        snprintf(err, errlen, "model_average: out of memory");
        return -1;
    }
    for (int s = 0; s < count; s++) {
        const struct model *m = models[s];
        if (m->param.solver_type != solver) {
            snprintf(err, errlen, "model_average: shard %d has solver %d, shard 0 has %d", s,
                     m->param.solver_type, solver);
            goto out;
        }
        if ((m->bias >= 0) != has_bias || (has_bias && m->bias != bias)) {
            snprintf(err, errlen, "model_average: shard %d has bias %g, expected %g", s, m->bias,
                     bias);
            goto out;
        }
        if (m->nr_feature > nr_feature) {
            snprintf(err, errlen, "model_average: shard %d has %d features, more than %d", s,
                     m->nr_feature, nr_feature);
            goto out;
        }
        for (int c = 0; c < m->nr_class; c++) {
            int found = 0;
            for (int k = 0; k < nr_class; k++)
                found |= m->label[c] == labels[k];
            if (!found) {
                snprintf(err, errlen, "model_average: shard %d has label %d not in the job", s,
                         m->label[c]);
                goto out;
            }
        }
        /* A one-class shard model says nothing about separating classes. */
        if (m->nr_class < 2) continue;
        int snw = model_nr_w(m->param.solver_type, m->nr_class);
        for (int k = 0; k < nr_w; k++) {
            double sign;
            int c = model_column(m, snw, labels[k], &sign);
            if (c < 0) continue;
            double a = rows[s] * sign;
            for (int j = 0; j < m->nr_feature; j++)
                w_out[(size_t)j * nr_w + k] += a * m->w[(size_t)j * snw + c];
            if (has_bias)
                w_out[(size_t)nr_feature * nr_w + k] += a * m->w[(size_t)m->nr_feature * snw + c];
            wsum[k] += rows[s];
        }
    }
    for (int k = 0; k < nr_w; k++) {
        if (!(wsum[k] > 0)) {
            snprintf(err, errlen, "model_average: label %d is in no shard model", labels[k]);
            goto out;
        }
        for (size_t j = 0; j < w_size; j++)
            w_out[j * nr_w + k] /= wsum[k];
    }
    rc = 0;
out:
    free(wsum);
    return rc;
}
