/* predmsg: the body of an OP_PREDICT result — one shard's predictions.
 *
 * Layout (integers little-endian, doubles IEEE 754 little-endian):
 *   0  'P' 'M'   magic
 *   2  u8        version (PREDMSG_VERSION)
 *   3  u8        flags: PREDMSG_F_PROB when every row carries probabilities
 *   4  u32       nr_class (1..PREDMSG_MAX_CLASS)
 *   8  u64       first_row: 0-based number of the shard's first data row
 *   16 u32       rows
 *   20 u32       0 (reserved)
 *   then per row:
 *      i32       predicted class: index into the model's labels (0..nr_class-1)
 *      i32       true label index, or -1 when the row has no label
 *      f64 x nr_class   probabilities, only with PREDMSG_F_PROB
 *      u16       id length (0 = no id column: the row number stands in)
 *      bytes     id text (at most PREDMSG_MAX_ID bytes)
 *
 * The body comes from the network: predmsg_open() checks the whole buffer
 * (header, every row's bounds, index ranges, exact length) before anything is
 * read from it, so predmsg_next() cannot fail afterwards.
 */
#ifndef NC_PREDMSG_H
#define NC_PREDMSG_H

#include "common/blob.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREDMSG_VERSION 1
#define PREDMSG_HEADER 24
#define PREDMSG_F_PROB 0x1
#define PREDMSG_MAX_CLASS 100000
#define PREDMSG_MAX_ID 4096

/* The OP_PREDICT task body: where the shard's rows sit in the file, for row
 * numbers (the id of a file without an id column) and error messages. */
#define PREDMSG_REQ_SIZE 16
typedef struct predmsg_req {
    uint64_t first_row;  /* 0-based data row of the shard's first row */
    uint64_t first_line; /* 1-based file line of the shard's first row */
} predmsg_req_t;

/* New blob holding the body (one reference); NULL on ENOMEM. */
blob_t *predmsg_req_encode(const predmsg_req_t *r);
/* 0, or -1 when the body has the wrong size or a line number of 0. */
int predmsg_req_decode(const void *buf, size_t len, predmsg_req_t *r);

/* Encoder: a growable buffer; rows are appended one by one. */
typedef struct predmsg_enc {
    buf_t out; /* the message so far; out.p is NULL when not started */
    uint32_t nr_class, rows;
    bool prob;
} predmsg_enc_t;

/* Starts a message. rows_hint sizes the first allocation (0 is fine).
 * 0, or -1 on ENOMEM or nr_class out of range. */
int predmsg_enc_init(predmsg_enc_t *e, uint32_t nr_class, bool prob, uint64_t first_row,
                     size_t rows_hint);

/* Appends a row. prob has nr_class entries when the message has
 * probabilities (ignored otherwise). An id longer than PREDMSG_MAX_ID is
 * truncated. 0, or -1 on ENOMEM, pred out of range or too many rows. */
int predmsg_enc_add(predmsg_enc_t *e, int32_t pred, int32_t truth, const double *prob,
                    const char *id, size_t idlen);

/* Hands the finished message over as a blob (one reference, owned by the
 * caller) and leaves e empty. NULL on ENOMEM (e is freed either way). */
blob_t *predmsg_enc_finish(predmsg_enc_t *e);

/* Frees an unfinished message. */
void predmsg_enc_free(predmsg_enc_t *e);

/* Decoder over a borrowed buffer. */
typedef struct predmsg {
    uint32_t nr_class, rows;
    bool prob;
    uint64_t first_row;
    bufrd_t rd;    /* at the next row */
    uint32_t left; /* rows not yet read */
} predmsg_t;

typedef struct predmsg_row {
    int32_t pred, truth;
    const uint8_t *prob; /* nr_class LE doubles (read with predmsg_prob), or NULL */
    const char *id;      /* borrowed, not NUL-terminated; NULL when idlen is 0 */
    size_t idlen;
} predmsg_row_t;

/* Validates buf entirely (see above). max_truth bounds the true label index
 * (truth must be -1 or < max_truth). 0, or -1 with a reason in err. */
int predmsg_open(predmsg_t *m, const void *buf, size_t len, uint32_t max_truth, char *err,
                 size_t errlen);

/* Reads the next row; returns 1, or 0 when every row has been read. */
int predmsg_next(predmsg_t *m, predmsg_row_t *row);

/* Probability k of a row (k < nr_class; the row must have probabilities). */
double predmsg_prob(const predmsg_row_t *row, uint32_t k);

#endif
