/* tronmsg: the body and result of an OP_TRON task (exact training).
 *
 * One OP_TRON task asks a worker for several things in one pass over the rows
 * of one shard or of a group of shards it holds (the answer is then the sum
 * over the group, in the order the group lists them): for each active
 * one-vs-rest class (and cross-validation fold) one of
 *   FUN   loss sum at w                          -> one double
 *   GRAD  loss gradient and diagonal sums at w   -> g[m], diag[m]
 *   FUNGRAD  FUN and GRAD at w in one pass       -> one double, g[m], diag[m]
 *   HV    loss part of H*s at the gradient point -> hv[m]
 *   COUNT rows and positives per class           -> rows, pos[nr_w], and
 *         (flag COLUMNS) the bitmap of the columns the rows touch
 *   PRED  predictions with the full model w      -> rows, correct, text
 * The request carries the job's shard table (first data row and first file
 * line of every shard) so that a worker that receives a shard for the first
 * time knows its place in the file.
 *
 * Columns: FUN, GRAD and HV vectors hold m of the n coordinates: all n
 * (m = n, not compact) or, compact, the ascending list of columns the group's
 * rows touch (common/colset.h), named by m and its hash; the worker derives
 * the same list from its own shards and refuses a request whose list differs.
 * The other coordinates of a gradient or H*s are zero for those rows.
 *
 * Points: every FUN, FUNGRAD, GRAD and HV item names its point (an id the
 * master never reuses within a job). FUN and FUNGRAD always carry their w.
 * GRAD (at the point of the preceding FUN) and HV (at a gradient point) carry
 * only what is new, s for HV, unless flag POINT is set: then they carry w
 * too, and a worker that lacks the cached margins or D for that point (a
 * shard that moved after a worker died) rebuilds them from it. Without POINT
 * such a worker answers FAIL PROTO_ERR_NEEDPOINT and the master sends the
 * task again with POINT. A FUNGRAD is asked at a trial point that TRON may
 * still reject, so the worker keeps the D of the last gradient point beside
 * the new one: an HV names either, and naming the new one accepts it.
 *
 * Request wire form (little-endian):
 *   u32 magic TRONMSG_REQ_MAGIC, u32 n, u32 folds, u32 count, u32 nshards,
 *   nshards * (u64 first_row, u64 first_line),
 *   u32 ngroup, ngroup * u32 shard (ascending, < nshards; 0 = the task's own
 *   shard), u32 m, u32 compact (0, 1, or 2: compact with answers widened
 *   to all n columns, scattered through the list; 0 needs m = n), u64 hash (0 unless
 *   compact), then per item u32 cls, u32 fold, u32 op, u32 flags, u64 point,
 *   then the doubles: FUN, FUNGRAD: w[m]; GRAD: w[m] with POINT, else none; HV: s[m],
 *   then w[m] with POINT; PRED: w[n*cls] (liblinear layout, cls = nr_w);
 *   COUNT: none (cls = nr_w).
 * Result wire form:
 *   u32 magic TRONMSG_RES_MAGIC, u32 n, u32 m, u32 count, then per item
 *   u32 cls, u32 fold, u32 op, u32 flags, then FUN: f64; GRAD: g[m], diag[m];
 *   FUNGRAD: f64, g[m], diag[m];
 *   HV: hv[m]; COUNT: u64 rows, u64 pos[cls], with COLUMNS u64 bits[(n+63)/64],
 *   with STAT f64 max |x|^2;
 *   PRED: u64 rows, u64 correct, u64 text_len, text bytes, then with CELLS
 *   u64 ncells and per cell u32 truth, u32 pred, u64 count, then with STAT
 *   f64 log loss sum.
 *
 * Decoders take untrusted bytes: every length is checked against what was
 * received before anything is read or allocated, unknown ops and trailing
 * bytes are rejected. Decoded vectors live in one allocation owned by the
 * decoded message.
 */
#ifndef NC_TRONMSG_H
#define NC_TRONMSG_H

#include "common/blob.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRONMSG_REQ_MAGIC 0x3354434eu /* "NCT3" */
#define TRONMSG_RES_MAGIC 0x3352434eu /* "NCR3" */
#define TRONMSG_ALL_ROWS 0xffffffffu  /* fold: train on every row */
#define TRONMSG_MAX_N (1u << 26)      /* variables per vector */
#define TRONMSG_MAX_CLS 65536u

/* PRED flag: also return "id,label,predicted" lines for the submission file. */
#define TRONMSG_F_TEXT 0x1
/* GRAD, HV flag: the item carries the point's w as well. */
#define TRONMSG_F_POINT 0x2
/* COUNT answer flag: the bitmap of the columns the rows touch follows. */
#define TRONMSG_F_COLUMNS 0x4
/* PRED flag (request and answer): also the counts of (true, predicted)
 * label index pairs, for the job's metrics (common/metrics.h). */
#define TRONMSG_F_CELLS 0x8
/* COUNT and PRED flag (request and answer): one more f64 at the end of the
 * answer, in f: for COUNT the largest squared norm of a row (its bias
 * feature included), liblinear's start C of a search; for PRED the sum over
 * the rows of -log p(true label) with p clipped to [1e-15, 1 - 1e-15]
 * (logistic solvers; 0 for others), the held-out log loss. */
#define TRONMSG_F_STAT 0x10

typedef enum {
    TRONMSG_FUN = 1,
    TRONMSG_GRAD = 2,
    TRONMSG_HV = 3,
    TRONMSG_COUNT = 4,
    TRONMSG_PRED = 5,
    TRONMSG_FUNGRAD = 6
} tronmsg_op_t;

/* fold semantics: for FUN/GRAD/HV/COUNT, TRONMSG_ALL_ROWS means every row and
 * f < folds means the rows whose file row number r has r % folds != f (the
 * training part of fold f); for PRED, f < folds means the rows with
 * r % folds == f (the held-out part) and TRONMSG_ALL_ROWS means every row. */
typedef struct tronmsg_item {
    uint32_t cls, fold, op, flags;
    uint64_t point;  /* FUN/GRAD: the point of w; HV: the gradient point */
    const double *w; /* FUN, GRAD and HV with POINT: the point; PRED: n*cls; else NULL */
    const double *s; /* HV: the direction; otherwise NULL */
} tronmsg_item_t;

typedef struct tronmsg_shard {
    uint64_t first_row, first_line;
} tronmsg_shard_t;

/* How a request lays out its vectors, and which shards it covers. */
typedef struct tronmsg_layout {
    const tronmsg_shard_t *shards; /* the job's shard table */
    size_t nshards;
    const uint32_t *group; /* shards summed over, ascending; ngroup 0 = the task's own */
    size_t ngroup;
    bool compact;         /* vectors hold m listed columns, not all n */
    uint32_t m;           /* compact: how many columns */
    uint64_t hash;        /* compact: colset_hash of the list */
    const uint32_t *cols; /* compact, encoding: the list (m entries): the items'
                           * vectors are n long and gathered through it; NULL:
                           * they are m long already */
    bool wide;            /* compact: the answer's vectors are all n long (the
                           * reduction tree adds answers of different groups) */
} tronmsg_layout_t;

typedef struct tronmsg_req {
    uint32_t n, folds;
    size_t count;
    size_t nshards;
    tronmsg_shard_t *shards;
    uint32_t *group; /* ngroup shards, ascending */
    size_t ngroup;
    bool compact;
    uint32_t m; /* length of FUN, GRAD and HV vectors (n unless compact) */
    uint64_t hash;
    bool wide;             /* compact, but answer in all n columns */
    tronmsg_item_t *items; /* vectors m long (PRED: n*cls) */
    double *store;         /* owns what items point at */
} tronmsg_req_t;

/* One answer. Pointers are borrowed when encoding; owned by the result (in one
 * store) after decoding. */
typedef struct tronmsg_ans {
    uint32_t cls, fold, op, flags;
    double f;             /* FUN, FUNGRAD; COUNT, PRED with STAT (see TRONMSG_F_STAT) */
    const double *g;      /* GRAD, FUNGRAD: m */
    const double *diag;   /* GRAD, FUNGRAD: m */
    const double *hv;     /* HV: m */
    uint64_t rows;        /* COUNT, PRED */
    uint64_t correct;     /* PRED */
    const uint64_t *pos;  /* COUNT: cls entries */
    const uint64_t *cols; /* COUNT with COLUMNS: (n + 63) / 64 words */
    const char *text;     /* PRED: text_len bytes, not NUL-terminated */
    size_t text_len;
    const uint64_t *cells; /* PRED with CELLS: ncells x (truth, pred, count) */
    size_t ncells;
} tronmsg_ans_t;

typedef struct tronmsg_res {
    uint32_t n, m;
    size_t count;
    tronmsg_ans_t *ans;
    void *store;
} tronmsg_res_t;

/* Encodes a request into a new blob (caller unrefs). NULL on ENOMEM or on an
 * item that breaks the rules above (err says which). */
blob_t *tronmsg_encode_req(uint32_t n, uint32_t folds, const tronmsg_layout_t *lay,
                           const tronmsg_item_t *items, size_t count, char *err, size_t errlen);

/* Decodes untrusted bytes into *out (caller calls tronmsg_req_free). 0, or -1
 * with a reason in err and *out zeroed. */
int tronmsg_decode_req(const void *buf, size_t len, tronmsg_req_t *out, char *err, size_t errlen);
void tronmsg_req_free(tronmsg_req_t *r);

/* Same for results; m is the length of the GRAD and HV vectors. */
blob_t *tronmsg_encode_res(uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count,
                           char *err, size_t errlen);
int tronmsg_decode_res(const void *buf, size_t len, tronmsg_res_t *out, char *err, size_t errlen);
/* A result built in place, for answers that are all FUN, FUNGRAD, GRAD or
 * HV (a Newton round's): a new blob of the final size (caller unrefs) whose
 * vectors are zeros, with vec[i] pointing at answer i's in it (g then diag,
 * or hv; 8-byte aligned; NULL for FUN), so the sums are formed where they
 * are sent from. Then tronmsg_res_seal() with the same answers (their f
 * set) writes the rest; the bytes equal tronmsg_encode_res()'s. NULL on
 * another op, a bad size or no memory (err says which). */
blob_t *tronmsg_res_begin(uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count,
                          double **vec, char *err, size_t errlen);
void tronmsg_res_seal(blob_t *b, uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count);
/* The same, but GRAD and HV vectors that lie 8-byte aligned in buf on a
 * little-endian host point into buf instead of a copy: out is valid only
 * while buf is (the master sums a large answer without copying it). */
int tronmsg_decode_res_view(const void *buf, size_t len, tronmsg_res_t *out, char *err,
                            size_t errlen);
void tronmsg_res_free(tronmsg_res_t *r);

#endif
