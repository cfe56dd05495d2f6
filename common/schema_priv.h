/* schema_priv: what summary.c, schema_field.c, schema.c and schema_json.c
 * share and nothing else may use: the layout of a summary and of a schema,
 * the double-double sums, and the internal steps that more than one of them
 * takes. The public manual is schema.h (and summary.h); this header only
 * says what each shared piece guarantees.
 */
#ifndef NC_SCHEMA_PRIV_H
#define NC_SCHEMA_PRIV_H

#include <stdint.h>
#include <string.h>

#include "common/schema.h"
#include "common/strset.h"

#define SCHEMA_NONE UINT32_MAX /* no label or id column (libsvm summaries) */

/* --- double-double sums: order of additions barely matters --- */

typedef struct dd {
    double hi, lo;
} dd_t;

static inline void dd_add(dd_t *a, double x) {
    double s = a->hi + x;
    double bb = s - a->hi;
    double e = (a->hi - (s - bb)) + (x - bb);
    a->hi = s;
    a->lo += e;
}

static inline void dd_merge(dd_t *a, const dd_t *b) {
    dd_add(a, b->hi);
    a->lo += b->lo;
}

static inline double dd_value(const dd_t *a) {
    return a->hi + a->lo;
}

/* --- the summary (summary.c) --- */

typedef struct summary_col {
    uint64_t count;   /* numeric values */
    uint64_t missing; /* missing values */
    uint64_t text;    /* values that are neither */
    double min, max;
    dd_t sum, sq;
    strset_t *vocab; /* distinct non-missing texts, first appearance, <= cap */
    /* detection sample (datasrc_t.detect): hash of the value, low bit set
     * for 3 words or more; allocated on the first text value */
    uint64_t *sample;
    uint32_t nsample, samplecap;
    /* free text (datasrc_t.text): terms, each with its summary_term_t. A
     * decoded summary keeps its terms as they came (packed: npacked terms,
     * each a varint length, the bytes, a varint df; checked by the decoder),
     * with terms empty, until a merge into it needs the table: on the
     * master, most decoded summaries are only merged from, and a packed
     * term is 10 bytes where a table entry is 60. */
    int words;
    strset_t *terms;
    uint8_t *packed;
    size_t packed_len;
    uint32_t npacked;
} summary_col_t;

/* The value a summary's term carries in summary_col_t.terms. */
typedef struct summary_term {
    uint64_t df;   /* rows the term occurs in */
    uint64_t last; /* building only: the line that counted the term last */
} summary_term_t;

/* Calls fn for each term of a summary column (packed or not) with its
 * bytes (borrowed for the call) and df; a non-zero return stops the walk
 * and is returned. */
typedef int (*summary_term_fn)(void *arg, const char *t, size_t len, uint64_t df);
int summary_each_term(const summary_col_t *c, summary_term_fn fn, void *arg);
/* Terms of a summary column, packed or not. */
size_t summary_nterms(const summary_col_t *c);

struct summary {
    data_format_t format;
    int ngram;  /* building only */
    int detect; /* building only: sample the text columns */
    uint64_t rows;
    uint32_t ncols, label_col, id_col;
    uint32_t max_index;
    strset_t *labels;
    uint64_t *label_counts;
    size_t label_cap;
    summary_col_t *cols;
};

/* Index of the column named name in names[0..n), or -1 (also for NULL). */
long schema_name_index(char **names, size_t n, const char *name);

/* --- the rules for one field (schema_field.c) --- */

enum { FIELD_NUMBER, FIELD_MISSING, FIELD_TEXT };

/* True when no byte of t has its high bit set: the common case, 8 bytes a
 * step. Inline, as the text key below: both run once per field. */
static inline int schema_ascii(const char *t, size_t len) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, t + i, 8);
        if (w & UINT64_C(0x8080808080808080)) return 0;
    }
    for (; i < len; i++)
        if ((unsigned char)t[i] & 0x80) return 0;
    return 1;
}
/* 0, or -1 with "FILE:LINE:COL: not valid UTF-8 ..." in err. */
int schema_check_utf8(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                      char *err, size_t errlen);
/* The message of a number schema_classify() refuses (rc from
 * csvread_number: 0 out of range, else not finite); returns -1. */
int schema_bad_number(int rc, const char *file, uint64_t line, size_t col, const char *t,
                      size_t len, char *err, size_t errlen);
/* FIELD_NUMBER (*x set), FIELD_MISSING or FIELD_TEXT; -1 with err set for a
 * number that is not finite or beyond SCHEMA_NUM_MAX, or, with check_text,
 * text that is not UTF-8. */
int schema_classify(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                    double *x, int check_text, char *err, size_t errlen);
/* How much of a text value identifies its category: all of it up to
 * SCHEMA_TEXT_MAX bytes, else the longest prefix of at most that many bytes
 * that ends on a character boundary (the text is valid UTF-8). */
static inline size_t schema_text_key(const char *t, size_t len) {
    if (len <= SCHEMA_TEXT_MAX) return len;
    size_t k = SCHEMA_TEXT_MAX;
    while (k > 0 && ((unsigned char)t[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* --- the fitted schema (schema.c) --- */

enum { SCALE_STANDARD, SCALE_MINMAX, SCALE_NONE };

typedef struct schema_col {
    char *name;
    schema_kind_t kind;
    int index; /* first feature index, 0 for label and id */
    int width;
    /* numeric */
    uint64_t count, missing;
    double mean, std, min, max;
    double shift, mul, impute; /* impute: the transformed value of a missing field */
    /* text (one-hot): vocab; words (free text): vocab = the terms */
    strset_t *vocab;
    int has_missing, has_other;
    /* words */
    int ngram, tfidf, hash_bits;
    uint64_t docs; /* training rows: N of the idf */
    uint64_t *df;  /* per term */
    double *idf;   /* per term; NULL with the hashing trick */
} schema_col_t;

struct schema {
    data_format_t format;
    int scale;
    char *label_name, *id_name;
    size_t ncols;
    schema_col_t *cols;
    strset_t *colnames;
    strset_t *labels;
    uint64_t *label_counts;
    int *label_values;
    int label_ints; /* every label is an integer */
    int n_features;
    uint64_t rows;
};

/* An empty schema of ncols columns (label lists allocated, columns zeroed);
 * NULL when out of memory. */
schema_t *schema_alloc(data_format_t format, size_t ncols);
/* SCALE_* of a scale name (NULL: standard), or -1. */
int schema_parse_scale(const char *scale);
/* Fills shift, mul and impute of a numeric column from its statistics. */
void schema_transform(schema_col_t *c, int scale);
/* Column c (name set) as a free-text column from its merged summary u:
 * the vocabulary (or the hashing trick) and the idf. -1 with err set. */
int schema_fit_words(schema_col_t *c, const summary_col_t *u, uint64_t rows,
                     const schema_textopts_t *to, const char *file, char *err, size_t errlen);
/* Fills c->idf from c->df and c->docs; -1 when out of memory. */
int schema_words_idf(schema_col_t *c);
/* Assigns feature indices in column order, free-text columns last, and
 * n_features; -1 when they overflow an int. */
int schema_layout(schema_t *s);

#endif
