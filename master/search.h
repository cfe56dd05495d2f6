/* search: the pure parts of `master search` — which C values and solvers a
 * cross-validated parameter search visits, and which result is best.
 *
 * Two ways to choose the C values:
 *   --C-list a,b,c   exactly these, in the order given (each a positive
 *                    finite number; at most SEARCH_MAX_C of them);
 *   the C path       liblinear 2.3's -C: a start C of 2^floor(log2(1 /
 *                    (l * max_i |x_i|^2))) for L2R_LR (1 / (2 l max |x|^2)
 *                    for L2R_L2LOSS_SVC), l the training rows and x_i with
 *                    its bias feature; start at most SEARCH_MAX_PATH_C;
 *                    each next C doubles while C <= SEARCH_MAX_PATH_C; the
 *                    path stops early once the weights of every fold have
 *                    not moved (|w_C - w_C/2| <= 1e-15 for each fold) for
 *                    liblinear's count of steps (search_path_t below).
 * Each C of the path starts every fold from that fold's weights at the
 * previous C (warm start), as liblinear does.
 *
 * Solvers: --solvers 0,2 (numbers or names); the search runs on the exact
 * strategy, so only solvers 0 (L2R_LR) and 2 (L2R_L2LOSS_SVC) are accepted.
 *
 * Everything here is pure (no I/O, no allocation) but search_print. Parsers return 0, or -1
 * with one line in err naming the option and what is wrong.
 */
#ifndef NC_SEARCH_H
#define NC_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SEARCH_MAX_C 64          /* values in --C-list */
#define SEARCH_MAX_SOLVERS 8     /* entries in --solvers */
#define SEARCH_MAX_PATH_C 1024.0 /* liblinear's max_C */
#define SEARCH_PATH_UNCHANGED 5  /* liblinear 2.3: stop after this count (see search_path_t) */

/* Parses "a,b,c" into c[0..*n-1] (room for SEARCH_MAX_C). Refuses an empty
 * list or item, a value that is not a number, not finite or not positive,
 * and more than SEARCH_MAX_C values. */
int search_parse_clist(const char *text, double *c, int *n, char *err, size_t errlen);

/* Parses "0,2" or "L2R_LR,L2R_L2LOSS_SVC" into s[0..*n-1] (room for
 * SEARCH_MAX_SOLVERS), without duplicates. Refuses an empty list, an
 * unknown solver and a solver the exact strategy does not train. */
int search_parse_solvers(const char *text, int *s, int *n, char *err, size_t errlen);

/* liblinear 2.3's calc_start_C, capped at SEARCH_MAX_PATH_C: rows l and the
 * largest squared row norm max_xx (bias feature included). 0 when l or
 * max_xx is not positive (then the caller starts at SEARCH_MAX_PATH_C's
 * bottom: no path can be made). */
double search_start_c(int solver, double rows, double max_xx);

/* The C path's state: after each C, search_path_next() is told whether
 * every fold's weights stayed where they were (false for the first C, which
 * has nothing to compare with) and says whether another C follows, and
 * which. Mirrors liblinear 2.3's find_parameter_C counter: it starts at 0,
 * goes to -1 when some fold moved, is incremented after each C, and the
 * path stops when it reaches SEARCH_PATH_UNCHANGED or C passes the cap. */
typedef struct search_path {
    double c;      /* the C being run */
    int unchanged; /* liblinear's num_unchanged_w */
    bool first;    /* c is the first C of the path */
} search_path_t;

void search_path_init(search_path_t *p, double start_c);

/* Called after the C in p->c ran; moved: some fold's weights moved by more
 * than 1e-15 (ignored for the first C). Returns true with p->c set to the
 * next C, false when the path ends. */
bool search_path_next(search_path_t *p, bool moved);

/* One result of the search. */
typedef struct search_result {
    int solver;
    double c;
    double accuracy;       /* CV accuracy, 0..1 */
    double log_loss;       /* mean held-out log loss, < 0 when not defined (solver 2) */
    double secs;           /* wall time of this C's trainings and scoring */
    double *fold_accuracy; /* [folds]: each fold's held-out accuracy (owned by the
                            * search's driver), NULL when not kept */
} search_result_t;

/* The best of r[0..n-1]: the highest accuracy; a tie goes to the earlier
 * result (liblinear keeps the first C that reached its best rate). -1 when
 * n is 0. */
int search_best(const search_result_t *r, int n);

/* The search's table on out: a header (unless quiet), one line per result
 * of r[0..n-1] with the best (index best, -1 none) marked "*", then the
 * "Best C = ..." line. What `master search` and `master submit search`
 * print. */
void search_print(FILE *out, const search_result_t *r, int n, int best, int folds, bool quiet);

#endif
