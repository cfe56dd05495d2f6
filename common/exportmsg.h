/* exportmsg: the body of an OP_EXPORT result — one shard's rows as libsvm
 * text, the fitted features of `bin/master export`.
 *
 * The task body is the OP_PREDICT request (predmsg_req_t: where the shard's
 * rows sit in the file). The worker parses its shard as training does
 * (dataset_from_shard, no bias node) and writes each row as one line
 *     LABEL IDX:VAL IDX:VAL ...\n
 * with ascending 1-based indices and every value as "%.17g", which strtod
 * (liblinear's reader) turns back into the same double; zero values are not
 * in the row. LABEL is the int the model file records for the row's label
 * (schema_label_value), or 0 for a row without one.
 *
 * Wire form: u64 first_row, u64 rows, u64 unlabelled (rows written with
 * label 0 for want of a known label: the file has no label column, the
 * label is missing, or training never saw it), then the text. The master treats it as hostile:
 * exportmsg_open() checks the sizes, that the text is exactly rows lines,
 * each ending in '\n', and that it holds only the bytes such lines are made
 * of (digits, '-', '+', '.', 'e', ':', ' ', '\n'), so that no answer can
 * add, drop or merge lines of the output (the order of its rows is the
 * master's), nor put a NaN, a comment or other bytes in it.
 */
#ifndef NC_EXPORTMSG_H
#define NC_EXPORTMSG_H

#include <linear.h>
#include <stddef.h>
#include <stdint.h>

#include "common/blob.h"
#include "common/buf.h"

#define EXPORTMSG_HEAD 24

/* Encoder: a growable buffer with the header in front. */
typedef struct exportmsg_enc {
    buf_t out;
    uint64_t rows, unlabelled;
} exportmsg_enc_t;

/* Starts a message for the shard whose first row is first_row. 0, or -1 on
 * ENOMEM. */
int exportmsg_enc_init(exportmsg_enc_t *e, uint64_t first_row);
/* Appends one row: label, then the nodes of x up to the index -1 end (their
 * indices ascending, as a dataset's are; zero values are skipped).
 * unlabelled counts the row as one written with 0 for want of a label.
 * 0, or -1 on ENOMEM. */
int exportmsg_enc_row(exportmsg_enc_t *e, int label, const struct feature_node *x, int unlabelled);
/* The finished message as a blob (one reference; the encoder is emptied),
 * or NULL on ENOMEM. */
blob_t *exportmsg_enc_finish(exportmsg_enc_t *e);
void exportmsg_enc_free(exportmsg_enc_t *e);

/* A received message, borrowed from the caller's bytes. */
typedef struct exportmsg {
    uint64_t first_row, rows, unlabelled;
    const char *text; /* rows lines, each ending in '\n' */
    size_t text_len;
} exportmsg_t;

/* Checks and opens a result. 0, or -1 with a reason in err. */
int exportmsg_open(exportmsg_t *m, const void *data, size_t len, char *err, size_t errlen);

#endif
