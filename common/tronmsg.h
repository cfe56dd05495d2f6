/* tronmsg: the body and result of an OP_TRON task (exact training).
 *
 * One OP_TRON task asks one shard for several things in one pass over its
 * rows: for each active one-vs-rest class (and cross-validation fold) one of
 *   FUN   loss sum at w                          -> one double
 *   GRAD  loss gradient and diagonal sums at w   -> g[n], diag[n]
 *   HV    loss part of H*s at the gradient point -> hv[n]
 *   COUNT rows and positives per class           -> rows, pos[nr_w]
 *   PRED  predictions with the full model w      -> rows, correct, text
 * The request also carries the job's shard table (first data row and first
 * file line of every shard) so that one body serves every shard of a round
 * and a worker that receives a shard for the first time knows its place in
 * the file (row numbers for ids and folds, line numbers for messages).
 * Every FUN, GRAD and HV item names its point (an id the master never reuses
 * within a job) and carries the point's w, so a worker that lacks the cached
 * margins or D for that point (a shard moved after a worker died) can rebuild
 * them from the message alone.
 *
 * Request wire form (little-endian):
 *   u32 magic TRONMSG_REQ_MAGIC, u32 n, u32 folds, u32 count, u32 nshards,
 *   nshards * (u64 first_row, u64 first_line), then per item
 *   u32 cls, u32 fold, u32 op, u32 flags, u64 point, then the doubles:
 *   FUN, GRAD: w[n]; HV: w[n], s[n]; PRED: w[n*cls] (liblinear layout, cls =
 *   nr_w); COUNT: none (cls = nr_w).
 * Result wire form:
 *   u32 magic TRONMSG_RES_MAGIC, u32 n, u32 count, then per item
 *   u32 cls, u32 fold, u32 op, u32 flags, then FUN: f64; GRAD: g[n], diag[n];
 *   HV: hv[n]; COUNT: u64 rows, u64 pos[cls]; PRED: u64 rows, u64 correct,
 *   u64 text_len, text bytes.
 *
 * Decoders take untrusted bytes: every length is checked against what was
 * received before anything is read or allocated, unknown ops and trailing
 * bytes are rejected. Decoded vectors live in one allocation owned by the
 * decoded message.
 */
#ifndef NC_TRONMSG_H
#define NC_TRONMSG_H

#include "common/blob.h"

#include <stddef.h>
#include <stdint.h>

#define TRONMSG_REQ_MAGIC 0x3154434eu /* "NCT1" */
#define TRONMSG_RES_MAGIC 0x3152434eu /* "NCR1" */
#define TRONMSG_ALL_ROWS 0xffffffffu  /* fold: train on every row */
#define TRONMSG_MAX_N (1u << 26)      /* variables per vector */
#define TRONMSG_MAX_CLS 65536u

/* PRED flag: also return "id,label,predicted" lines for the submission file. */
#define TRONMSG_F_TEXT 0x1

typedef enum {
    TRONMSG_FUN = 1,
    TRONMSG_GRAD = 2,
    TRONMSG_HV = 3,
    TRONMSG_COUNT = 4,
    TRONMSG_PRED = 5
} tronmsg_op_t;

/* fold semantics: for FUN/GRAD/HV/COUNT, TRONMSG_ALL_ROWS means every row and
 * f < folds means the rows whose file row number r has r % folds != f (the
 * training part of fold f); for PRED, f < folds means the rows with
 * r % folds == f (the held-out part) and TRONMSG_ALL_ROWS means every row. */
typedef struct tronmsg_item {
    uint32_t cls, fold, op, flags;
    uint64_t point;  /* FUN/GRAD: the point of w; HV: the gradient point */
    const double *w; /* FUN, GRAD, HV: n doubles; PRED: n*cls; COUNT: NULL */
    const double *s; /* HV: n doubles; otherwise NULL */
} tronmsg_item_t;

typedef struct tronmsg_shard {
    uint64_t first_row, first_line;
} tronmsg_shard_t;

typedef struct tronmsg_req {
    uint32_t n, folds;
    size_t count;
    size_t nshards;
    tronmsg_shard_t *shards;
    tronmsg_item_t *items;
    double *store; /* owns what items point at */
} tronmsg_req_t;

/* One answer. Pointers are borrowed when encoding; owned by the result (in one
 * store) after decoding. */
typedef struct tronmsg_ans {
    uint32_t cls, fold, op, flags;
    double f;            /* FUN */
    const double *g;     /* GRAD: n */
    const double *diag;  /* GRAD: n */
    const double *hv;    /* HV: n */
    uint64_t rows;       /* COUNT, PRED */
    uint64_t correct;    /* PRED */
    const uint64_t *pos; /* COUNT: cls entries */
    const char *text;    /* PRED: text_len bytes, not NUL-terminated */
    size_t text_len;
} tronmsg_ans_t;

typedef struct tronmsg_res {
    uint32_t n;
    size_t count;
    tronmsg_ans_t *ans;
    void *store;
} tronmsg_res_t;

/* Encodes a request into a new blob (caller unrefs). NULL on ENOMEM or on an
 * item that breaks the rules above (err says which). */
blob_t *tronmsg_encode_req(uint32_t n, uint32_t folds, const tronmsg_shard_t *shards,
                           size_t nshards, const tronmsg_item_t *items, size_t count, char *err,
                           size_t errlen);

/* Decodes untrusted bytes into *out (caller calls tronmsg_req_free). 0, or -1
 * with a reason in err and *out zeroed. */
int tronmsg_decode_req(const void *buf, size_t len, tronmsg_req_t *out, char *err, size_t errlen);
void tronmsg_req_free(tronmsg_req_t *r);

/* Same for results. */
blob_t *tronmsg_encode_res(uint32_t n, const tronmsg_ans_t *ans, size_t count, char *err,
                           size_t errlen);
int tronmsg_decode_res(const void *buf, size_t len, tronmsg_res_t *out, char *err, size_t errlen);
void tronmsg_res_free(tronmsg_res_t *r);

#endif
