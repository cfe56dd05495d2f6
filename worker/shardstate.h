/* shardstate: what a worker derives from one cached shard and keeps between
 * training tasks — the parsed rows and the per-class TRON state.
 *
 * The state lives in the shard's cache entry (cache_entry_set_state) and is
 * tied to the job context it was built from (a hash of the context bytes): a
 * new context (the schema arrives, a new model) rebuilds it. OP_TRON keeps
 * its linfun objects here, one per cross-validation fold (index 0 = all
 * rows), with the id of the point at which each class's margins (fun) and
 * D (grad) were last computed, so that a request for another point is served
 * by recomputing first. OP_TRAIN uses the dataset only.
 *
 * Call with the entry locked (ops run that way). Failures return NULL / -1
 * with a PROTO_ERR_* class in *cls and a one-line reason in err.
 */
#ifndef NC_WORKER_SHARDSTATE_H
#define NC_WORKER_SHARDSTATE_H

#include "common/bigbuf.h"
#include "common/dataset.h"
#include "common/jobctx.h"
#include "common/linfun.h"
#include "common/schema.h"
#include "worker/ops.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct shardstate {
    uint64_t ctx_hash;
    int solver;
    double C, bias;
    int nr_class, nr_w;
    schema_t *schema;
    dataset_t *d;
    uint64_t *cols; /* the columns d's rows touch (common/colset.h) */
    /* Training works in the shard's own columns: local is d's rows with
     * column lcols[j] renumbered j + 1 (ms columns), so that no vector of
     * the whole width n is touched per task (built by shardstate_prepare).
     * The renumbering is done in d's own nodes (no second copy of the rows
     * to fault in): once renumbered, d's rows hold local columns, and a
     * reader that needs d's columns maps index i back to lcols[i - 1]. */
    size_t ms;
    uint32_t *lcols; /* [ms]: local column j is column lcols[j] of d */
    dataset_t local; /* d's rows (x and y borrowed), local columns */
    bool renumbered; /* d's rows hold local columns (see above) */
    /* OP_TRON's per-task arrays, kept for the next task of the same group
     * (a worker's group of shards does not change from round to round): */
    uint32_t *gpos;    /* [ms]: local column -> place in the request's vectors */
    uint64_t gpos_key; /* the request layout gpos was made for (0: none) */
    double *work;      /* the local vectors of one task */
    size_t workcap;
    int folds;         /* views built for this many folds (0 = none) */
    dataset_t *views;  /* views[f]: local's rows with r % folds != f (borrowed) */
    linfun_t **lf;     /* [1 + folds]: 0 = every row, 1 + f = fold f; local columns */
    uint64_t *fun_pt;  /* [(1 + folds) * nr_w]: point of the last fun (0 = none) */
    uint64_t *grad_pt; /* same, of the last grad (the D an hv uses) */
    uint64_t *spec_pt; /* same, of a FUNGRAD not yet accepted (linfun_accept) */
} shardstate_t;

/* The state for this task's context and shard, built when absent or stale
 * (first_row and first_line place the shard in the file). Owned by the
 * entry. */
shardstate_t *shardstate_get(op_ctx_t *ctx, uint64_t first_row, uint64_t first_line, int *cls,
                             char *err, size_t errlen);

/* Makes sure the linfun objects for folds (0 = none) exist; 0 or -1. */
int shardstate_prepare(shardstate_t *st, int folds, int *cls, char *err, size_t errlen);

/* The data source a job context describes (borrows jc's strings). */
datasrc_t shardstate_source(const jobctx_t *jc);

#endif
