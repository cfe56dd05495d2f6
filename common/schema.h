/* schema: how rows of a data file become liblinear features, fitted across
 * the cluster.
 *
 * Training runs in two passes. First every worker summarises its shards and
 * the master merges the summaries (summary.h). Then schema_fit() turns the
 * merged summary into the schema: which column is the label and the id,
 * which are numeric (scaled) and which are text (one-hot), the label list,
 * and the 1-based feature index of every feature. The code: schema_field.c
 * holds the rules of one field (both passes and testing apply them),
 * schema.c the fit and its application to fields, schema_json.c the schema
 * file (JSON), summary.c the first pass.
 *
 * Rules (DESIGN.md "Data"):
 *   - A column that is text (not missing, not a decimal number) in any row is
 *     text. Missing values are empty, NA, NaN, ? (see csvread_is_missing).
 *   - Numeric: x -> (x - shift) * mul; standard: shift = mean, mul = 1/std
 *     (population std); minmax: shift = min, mul = 1/(max-min); none: 0 and 1;
 *     a constant column maps to 0. Missing -> the training mean, transformed.
 *   - Text: one feature per vocabulary value (first appearance order), then
 *     one for "missing" when training saw missing values, then one "other"
 *     slot when the vocabulary is full (values past the cap share it). A value
 *     not seen in training contributes nothing (or "other" when that exists).
 *     A value longer than SCHEMA_TEXT_MAX bytes is known by its first
 *     SCHEMA_TEXT_MAX bytes (cut back to a whole character), in training and
 *     testing alike, so no field can make the schema large.
 *   - Data errors, train and test alike (schema_check_field): a number that
 *     is not finite (inf, 1e999), beyond +-1e100, or whose scaled value
 *     overflows; text, a label or a header name that is not valid UTF-8; a
 *     label longer than SCHEMA_TEXT_MAX bytes. "inf" is such a number in any
 *     feature column, text columns too: there is no column it can silently
 *     turn into one-hot text.
 *   - Labels in first appearance order, except that a two-class problem whose
 *     labels are -1 then +1 puts +1 first (liblinear's rule). When every label
 *     is an integer, that integer is what liblinear's model file records.
 *   - libsvm data is not transformed: the schema is the label list and
 *     n_features = the largest index seen.
 *
 * Messages are "FILE:LINE[:COL]: what". All decoders of summaries and schema
 * JSON treat their input as hostile. Ownership: the caller owns every object
 * returned and frees it with the matching destroy; strings passed in are
 * borrowed for the call.
 */
#ifndef NC_SCHEMA_H
#define NC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/csvread.h"
#include "common/split.h"
#include "common/summary.h"

#define SCHEMA_VOCAB_CAP 1000   /* distinct texts one-hot encoded per column */
#define SCHEMA_MAX_LABELS 65536 /* classes */
#define SCHEMA_MAX_COLS 1000000
#define SCHEMA_TEXT_MAX 256  /* bytes of a text value that name its category */
#define SCHEMA_NUM_MAX 1e100 /* larger numbers are a data error */

typedef struct schema schema_t;

/* --- free text (bag of words) ---
 *
 * A column named in data.text (datasrc_t.text) is free text: every
 * non-missing value is cut into terms (common/text.h) and becomes a sparse
 * vector over the column's vocabulary, fitted in training from the merged
 * document frequencies (summary.h): the terms in at least min_df training
 * rows, at most max_features of them, the most frequent first (ties by term
 * bytes, so the result does not depend on anything but the file). Feature
 * order: the kept terms sorted by their bytes. With hash_bits > 0 there is no
 * vocabulary: a term's feature is text_hash(term) of 2^hash_bits; distinct
 * terms may share one (a collision adds their counts).
 * Weights: tfidf: (1 + ln tf) * idf, idf = ln((1 + N) / (1 + df)) + 1 (N the
 * training rows, df the term's; 1 with the hashing trick), and the column's
 * vector is scaled to unit L2 norm; without tfidf, the raw counts tf. A
 * term training never kept contributes nothing. Free-text features take the
 * indices after every other feature, column after column. */

typedef struct schema_textopts {
    int ngram;        /* 1 or 2 */
    int min_df;       /* >= 1 */
    int max_features; /* >= 1 */
    int hash_bits;    /* 0: vocabulary; 1..TEXT_HASH_BITS_MAX: hashing trick */
    int tfidf;        /* 1: tf-idf, sublinear tf, L2 rows; 0: raw counts */
} schema_textopts_t;

/* The defaults of config.json: words, min_df 2, 262144 terms, tf-idf. */
#define SCHEMA_TEXTOPTS_DEFAULT ((schema_textopts_t){1, 2, 262144, 0, 1})

/* The detection rule: column col of a merged summary made with detection on
 * is free text when its sample (summary_sample) holds at least
 * SCHEMA_DETECT_MIN values, more than half of them distinct, and at least
 * half of them of 3 words or more (the median value has 3 words). Returns 1
 * or 0 and writes the figures into why ("N of M sampled values distinct,
 * K of 3 words or more"). */
#define SCHEMA_DETECT_MIN 20
int schema_free_text(const summary_t *all, size_t col, char *why, size_t whylen);

/* A free-text field's features, in ascending index order; the arrays grow
 * as needed and are the caller's (schema_words_free). */
typedef struct schema_words {
    int *index;
    double *value;
    size_t n, cap;
} schema_words_t;

/* The features of a free-text column's field (col: schema column; fcol:
 * file column, for messages) with schema_check_field()'s rules: returns
 * their count (into w), 0 for a missing value, or -1 with err set. */
long schema_words_field(const schema_t *s, size_t col, const char *text, size_t len,
                        schema_words_t *w, const char *file, uint64_t line, size_t fcol, char *err,
                        size_t errlen);
void schema_words_free(schema_words_t *w);

/* --- the fitted schema --- */

/* scale: "standard" | "minmax" | "none" (NULL = standard; ignored for libsvm).
 * Fails on a single class ("only one class"), duplicate column names, or a
 * summary that does not match src. */
schema_t *schema_fit(const summary_t *all, const datasrc_t *src, const char *scale, char *err,
                     size_t errlen);
/* schema_fit() with the free-text options (NULL: SCHEMA_TEXTOPTS_DEFAULT).
 * The columns named in src->text are free text; their summary must carry
 * term counts unless to->hash_bits. A free-text column whose vocabulary is
 * empty (no term in min_df rows) is an error saying so. */
schema_t *schema_fit_text(const summary_t *all, const datasrc_t *src, const char *scale,
                          const schema_textopts_t *to, char *err, size_t errlen);
/* JSON text of the schema (malloc'd, caller frees); NULL when out of memory. */
char *schema_to_json(const schema_t *s);
/* Parses schema JSON from an untrusted source; validates everything and
 * recomputes the feature index map (stored indices must agree). */
schema_t *schema_from_json(const char *json, size_t len, char *err, size_t errlen);
/* Writes path atomically (temporary file in the same folder, then rename). */
int schema_save(const schema_t *s, const char *path, char *err, size_t errlen);
schema_t *schema_load(const char *path, char *err, size_t errlen);
/* Test mode: the file's header must hold every feature column once (the
 * label and the id may be absent). The error names the first missing or
 * repeated column. */
int schema_check_source(const schema_t *s, const datasrc_t *src, char *err, size_t errlen);
/* Schema for a liblinear-train model used on libsvm test data. labels: the
 * model's label line; NULL when out of memory. */
schema_t *schema_for_libsvm(int nr_feature, const int *labels, int nr_class);
void schema_destroy(schema_t **s);

data_format_t schema_format(const schema_t *s);
int schema_nr_class(const schema_t *s);
const char *schema_label_name(const schema_t *s, int idx); /* original label text */
/* The int written on the model's "label" line: the label itself when every
 * label is an integer, else idx. */
int schema_label_value(const schema_t *s, int idx);
uint64_t schema_label_count(const schema_t *s, int idx); /* training rows */
int schema_n_features(const schema_t *s);                /* without bias */
uint64_t schema_rows(const schema_t *s);                 /* training rows */

/* --- applying the schema to one field (used by dataset.c) --- */

/* SCHEMA_TEXT: one-hot categories; SCHEMA_WORDS: free text (bag of words) */
typedef enum { SCHEMA_LABEL, SCHEMA_ID, SCHEMA_NUMERIC, SCHEMA_TEXT, SCHEMA_WORDS } schema_kind_t;

size_t schema_ncols(const schema_t *s);
/* Schema column named name (exact bytes), or -1. */
long schema_column_find(const schema_t *s, const char *name, size_t len);
schema_kind_t schema_column_kind(const schema_t *s, size_t col);
const char *schema_column_name(const schema_t *s, size_t col);
/* Label index of the label text (csv) or -1 when training never saw it. */
int schema_label_find(const schema_t *s, const char *text, size_t len);
/* Label index of an int label (libsvm) or -1. */
int schema_label_find_int(const schema_t *s, int value);
/* Feature of a numeric or text column's field: returns 1 and sets *index and
 * *value when the field gives a non-zero feature, else 0. It checks nothing:
 * readers apply schema_check_field() (or schema_numeric_field()) first. */
int schema_encode(const schema_t *s, size_t col, const char *text, size_t len, int *index,
                  double *value);

/* schema_encode() of a text column's field (col: schema column; fcol: file
 * column, for messages) with schema_check_field()'s rules: returns 1 or 0
 * as schema_encode(), or -1 with err set. */
int schema_text_field(const schema_t *s, size_t col, const char *text, size_t len, int *index,
                      double *value, const char *file, uint64_t line, size_t fcol, char *err,
                      size_t errlen);

/* A numeric column's encoding, for readers that encode many rows without a
 * call per field: the feature index and the value of a field, which is
 * (x - shift) * mul for a number x and impute for a missing value or text.
 * A value of 0 gives no feature (sparse rows). */
typedef struct schema_numeric {
    int index;
    double shift, mul, impute;
} schema_numeric_t;

/* Returns 1 and fills *out when column col is numeric, else 0. */
int schema_numeric(const schema_t *s, size_t col, schema_numeric_t *out);

/* How a file's columns map onto the schema, for readers that encode many
 * rows: per file column, its schema column (sc, or -1 for a column the
 * schema does not use and for a later copy of a name: the first wins), its
 * kind, and for a numeric column its encoding (numeric = 1). Returns an array
 * of n that the caller frees, or NULL when out of memory. */
typedef struct schema_filecol {
    long sc;
    schema_kind_t kind; /* meaningful when sc >= 0 */
    int numeric;
    schema_numeric_t num;
} schema_filecol_t;

schema_filecol_t *schema_file_columns(const schema_t *s, char *const *names, size_t n);

/* The rules of a feature field (a numeric or text column), the same in
 * training and testing so that a value means one thing in both: a number
 * that is not finite (inf, -Infinity, 1e999: see csvread_number) or beyond
 * +-SCHEMA_NUM_MAX, or text that is not valid UTF-8, is a data error. col is
 * the 0-based file column; err gets "FILE:LINE:COL: what". Return 0 or -1. */
int schema_check_field(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen);
/* A label must be valid UTF-8 and at most SCHEMA_TEXT_MAX bytes. */
int schema_check_label(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen);

/* The value of a numeric column's field, as schema_encode() gives it, with
 * schema_check_field()'s rules and one more: a number whose scaled value
 * (x - shift) * mul is not finite is an error. Returns 0 and sets *value
 * (impute for a missing value or text), or -1 with err set. */
int schema_numeric_slow(const schema_numeric_t *n, const char *text, size_t len, double *value,
                        const char *file, uint64_t line, size_t col, char *err, size_t errlen);
static inline int schema_numeric_field(const schema_numeric_t *n, const char *text, size_t len,
                                       double *value, const char *file, uint64_t line, size_t col,
                                       char *err, size_t errlen) {
    double x;
    if (csvread_number_fast(text, len, &x) == 0 && x >= -SCHEMA_NUM_MAX && x <= SCHEMA_NUM_MAX) {
        double v = (x - n->shift) * n->mul;
        if (v - v == 0.0) { /* finite */
            *value = v;
            return 0;
        }
    }
    return schema_numeric_slow(n, text, len, value, file, line, col, err, errlen);
}

#endif
