#include "master/search.h"

#include "common/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next item of a comma-separated list at *p: its bounds in [*b, *e);
 * *p moves past the comma. false at the end of the text. */
static bool next_item(const char **p, const char **b, const char **e) {
    if (!*p) return false;
    *b = *p;
    const char *comma = strchr(*p, ',');
    *e = comma ? comma : *p + strlen(*p);
    *p = comma ? comma + 1 : NULL;
    /* trim blanks, as the shell may leave them in a quoted list */
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
    return true;
}

int search_parse_clist(const char *text, double *c, int *n, char *err, size_t errlen) {
    const char *p = text, *b, *e;
    *n = 0;
    if (!text || !*text) {
        snprintf(err, errlen, "--C-list: empty list (give C values such as 0.25,1,4)");
        return -1;
    }
    while (next_item(&p, &b, &e)) {
        char item[64];
        size_t len = (size_t)(e - b);
        if (len == 0) {
            snprintf(err, errlen, "--C-list: empty item in '%.60s'", text);
            return -1;
        }
        if (len >= sizeof item) {
            snprintf(err, errlen, "--C-list: '%.40s...' is not a number", b);
            return -1;
        }
        memcpy(item, b, len);
        item[len] = 0;
        char *end = NULL;
        errno = 0;
        double v = strtod(item, &end);
        if (end == item || *end || errno == ERANGE || !isfinite(v)) {
            snprintf(err, errlen, "--C-list: '%s' is not a number", item);
            return -1;
        }
        if (!(v > 0)) {
            snprintf(err, errlen, "--C-list: C must be positive, not '%s'", item);
            return -1;
        }
        if (*n >= SEARCH_MAX_C) {
            snprintf(err, errlen, "--C-list: more than %d values", SEARCH_MAX_C);
            return -1;
        }
        c[(*n)++] = v;
    }
    return 0;
}

int search_parse_solvers(const char *text, int *s, int *n, char *err, size_t errlen) {
    const char *p = text, *b, *e;
    *n = 0;
    if (!text || !*text) {
        snprintf(err, errlen, "--solvers: empty list (give solvers such as 0,2)");
        return -1;
    }
    while (next_item(&p, &b, &e)) {
        char item[64];
        size_t len = (size_t)(e - b);
        if (len == 0 || len >= sizeof item) {
            snprintf(err, errlen, "--solvers: %s item in '%.60s'", len ? "an unknown" : "empty",
                     text);
            return -1;
        }
        memcpy(item, b, len);
        item[len] = 0;
        int v = model_solver_parse(item);
        if (v < 0) {
            snprintf(err, errlen, "--solvers: unknown solver '%s'", item);
            return -1;
        }
        if (v != 0 && v != 2) {
            snprintf(err, errlen,
                     "--solvers: solver %s (%d) has no exact form: search runs solvers 0 (L2R_LR) "
                     "and 2 (L2R_L2LOSS_SVC)",
                     model_solver_name(v), v);
            return -1;
        }
        bool dup = false;
        for (int k = 0; k < *n; k++)
            dup = dup || s[k] == v;
        if (dup) continue;
        if (*n >= SEARCH_MAX_SOLVERS) {
            snprintf(err, errlen, "--solvers: more than %d solvers", SEARCH_MAX_SOLVERS);
            return -1;
        }
        s[(*n)++] = v;
    }
    return 0;
}

double search_start_c(int solver, double rows, double max_xx) {
    if (!(rows > 0) || !(max_xx > 0)) return 0;
    double min_c = solver == 2 ? 1.0 / (2 * rows * max_xx) : 1.0 / (rows * max_xx);
    double c = pow(2, floor(log(min_c) / log(2.0)));
    return c < SEARCH_MAX_PATH_C ? c : SEARCH_MAX_PATH_C;
}

void search_path_init(search_path_t *p, double start_c) {
    *p = (search_path_t){.c = start_c, .unchanged = 0, .first = true};
}

bool search_path_next(search_path_t *p, bool moved) {
    /* liblinear compares a fold's weights with the previous C's only when
     * it has them: the first C counts as unchanged */
    if (!p->first && moved) p->unchanged = -1;
    p->first = false;
    p->unchanged++;
    if (p->unchanged >= SEARCH_PATH_UNCHANGED) return false;
    p->c *= 2;
    return p->c <= SEARCH_MAX_PATH_C;
}

int search_best(const search_result_t *r, int n) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (best < 0 || r[i].accuracy > r[best].accuracy) best = i;
    return best;
}

void search_print(FILE *out, const search_result_t *r, int n, int best, int folds, bool quiet) {
    if (!quiet) {
        fprintf(out, "%d-fold cross-validation (row r is in fold r %% %d):\n", folds, folds);
        fprintf(out, "  %-16s %14s %12s %12s %9s\n", "solver", "C", "CV accuracy", "CV log loss",
                "time");
        for (int i = 0; i < n; i++) {
            char loss[32] = "-";
            if (r[i].log_loss >= 0) snprintf(loss, sizeof loss, "%.5f", r[i].log_loss);
            const char *name = model_solver_name(r[i].solver);
            fprintf(out, "%s %-16s %14g %11.4f%% %12s %8.2fs\n", i == best ? "*" : " ",
                    name ? name : "?", r[i].c, 100.0 * r[i].accuracy, loss, r[i].secs);
        }
    }
    if (best >= 0 && best < n) {
        const char *name = model_solver_name(r[best].solver);
        fprintf(out, "Best C = %g  solver %s  Cross Validation Accuracy = %.4f%% (%d folds)\n",
                r[best].c, name ? name : "?", 100.0 * r[best].accuracy, folds);
    }
    fflush(out);
}
