#include "master/jobopts.h"

#include "common/model.h"

#include <stdio.h>
#include <string.h>

bool jobopts_exact(const config_t *cfg) {
    int solver = model_solver_parse(cfg->model.solver);
    return strcmp(cfg->model.strategy, "average") != 0 && (solver == 0 || solver == 2);
}

/* The ranges of the options that are numbers (0 for --cv and -1 for
 * --prefetch mean "not given"). */
static int check_ranges(const master_opts_t *o, char *err, size_t errlen) {
    const struct {
        const char *opt;
        long v, lo, hi;
        bool given;
    } r[] = {
        {"--min-workers", o->min_workers, 1, 100000, true},
        {"--cv", o->cv_folds, 2, 100, o->cv_folds != 0},
        {"--tasks", o->tasks, 1, 100000000, true},
        {"--payload", o->payload, 0, 1L << 30, true},
        {"--task-ms", o->task_ms, 0, 3600000, true},
        {"--prefetch", o->prefetch, 0, 10000, o->prefetch != -1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i].given && (r[i].v < r[i].lo || r[i].v > r[i].hi)) {
            snprintf(err, errlen, "%s: '%ld' is not a whole number from %ld to %ld", r[i].opt,
                     r[i].v, r[i].lo, r[i].hi);
            return -1;
        }
    return 0;
}

/* A search: --cv given, the exact strategy, and solvers it trains exactly. */
static int search_rules(const config_t *cfg, const master_opts_t *o, char *err, size_t errlen) {
    if (o->cv_folds == 0) {
        snprintf(err, errlen, "search needs --cv K (K from 2 to 100)");
        return -1;
    }
    if (o->c_list_given && o->nc == 0) {
        snprintf(err, errlen, "--C-list: empty list (give C values such as 0.25,1,4)");
        return -1;
    }
    if (o->resume) {
        snprintf(err, errlen, "--resume is not available for search (run it again)");
        return -1;
    }
    if (strcmp(cfg->model.strategy, "average") == 0) {
        snprintf(err, errlen, "search runs on the exact strategy, not --strategy average");
        return -1;
    }
    if (o->nsolvers > 0) return 0; /* checked by search_parse_solvers() */
    int solver = model_solver_parse(cfg->model.solver);
    if (solver != 0 && solver != 2) {
        snprintf(err, errlen,
                 "search: solver '%.40s' has no exact form: search runs solvers 0 (L2R_LR) and 2 "
                 "(L2R_L2LOSS_SVC) (--solver or --solvers)",
                 cfg->model.solver);
        return -1;
    }
    return 0;
}

int jobopts_validate(const config_t *cfg, const master_opts_t *o, char *err, size_t errlen) {
    if (config_validate(cfg, err, errlen) < 0 || check_ranges(o, err, errlen) < 0) return -1;
    if (o->cmd == CMD_EXPORT && (!o->data_given || !o->out_given)) {
        /* No config default: an export written over a submission by
         * mistake would be a bad surprise. */
        snprintf(err, errlen,
                 "export needs %s (usage: master export --data FILE [--model M] --out "
                 "FILE.svm)",
                 !o->data_given ? "--data FILE" : "--out FILE");
        return -1;
    }
    if (o->cmd != CMD_SEARCH && (o->c_list_given || o->nsolvers > 0 || o->no_final)) {
        snprintf(err, errlen, "%s is an option of master search",
                 o->c_list_given   ? "--C-list"
                 : o->nsolvers > 0 ? "--solvers"
                                   : "--no-final");
        return -1;
    }
    if (o->cmd == CMD_SEARCH) return search_rules(cfg, o, err, errlen);
    if (o->cmd != CMD_TRAIN) return 0;
    if (model_solver_parse(cfg->model.solver) < 0) {
        snprintf(err, errlen,
                 "unknown solver '%.40s': use a liblinear solver number or name (0 or L2R_LR, 2 "
                 "or L2R_L2LOSS_SVC, ...)",
                 cfg->model.solver);
        return -1;
    }
    if (o->cv_folds > 0 && !jobopts_exact(cfg)) {
        snprintf(err, errlen, "--cv is available with the exact strategy (solvers 0 and 2)");
        return -1;
    }
    return 0;
}
