/* jobctx: the job context the master sends to workers with their first task.
 *
 * Everything a worker needs besides the shard bytes: where the rows come from
 * (format, file name for messages, CSV header, label and id columns), the
 * training parameters (solver, bias, C), the fitted schema (JSON, once fitted)
 * and the model weights (for prediction). The scheduler treats it as opaque
 * bytes and resends it when its version changes.
 *
 * Class-parallel training (worker/op_classes.c) also sends the data rows
 * themselves: every row of the file, as its bytes, so that each worker holds
 * all of them once.
 *
 * Wire form: u32 LE length of a JSON object, the JSON, then nr_w *
 * (nr_feature + (bias >= 0)) little-endian doubles when has_model, then
 * data_len bytes of rows when the JSON says data_len. Decoding validates
 * every field and the exact length; a hostile context is rejected, never
 * trusted.
 */
#ifndef NC_JOBCTX_H
#define NC_JOBCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOBCTX_CSV 0
#define JOBCTX_LIBSVM 1

typedef struct jobctx {
    int format;   /* JOBCTX_CSV or JOBCTX_LIBSVM */
    char *file;   /* input file name, for error messages */
    char *header; /* CSV header record (raw), NULL for libsvm */
    size_t header_len;
    char *label, *id; /* column names */
    int solver;
    double C, bias;
    /* first pass: free-text columns ('\n'-ended names, NULL for none), the
     * detection of others, term counting, 1 or 2 (datasrc_t) */
    char *text;
    bool text_detect, count_terms;
    int ngram;
    char *schema_json; /* NULL until fitted */
    size_t schema_len;
    bool has_model;
    int nr_class, nr_feature, nr_w;
    int *labels;    /* nr_class entries when has_model */
    double *w;      /* nr_w * (nr_feature + (bias >= 0)) entries when has_model */
    bool want_prob; /* prediction: also return class probabilities */
    /* Rows of the file (data_len bytes starting at its first data line,
     * data_first_line, as a shard's bytes are), or NULL. Not copied when
     * decoding: it points into the buffer decoded, and lives as long as it. */
    const char *data;
    size_t data_len;
    uint64_t data_first_line;
} jobctx_t;

/* Encodes c; *buf is malloc'd (caller frees). 0 or -1 (ENOMEM). */
int jobctx_encode(const jobctx_t *c, void **buf, size_t *len);

/* Decodes untrusted bytes (data, when present, points into buf). NULL with
 * a reason in err. */
jobctx_t *jobctx_decode(const void *buf, size_t len, char *err, size_t errlen);

/* Frees every owned field and c itself; sets *c to NULL. Also right for a
 * jobctx_t built by hand with malloc'd fields. */
void jobctx_destroy(jobctx_t **c);

#endif
