/* schema: see schema.h. */
#include "common/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/csvread.h"
#include "common/jsonx.h"
#include "common/strset.h"
#include "common/svmread.h"
#include "common/utf8.h"

#define SCHEMA_NONE UINT32_MAX

/* --- double-double sums: order of additions barely matters --- */

typedef struct dd {
    double hi, lo;
} dd_t;

static void dd_add(dd_t *a, double x) {
    double s = a->hi + x;
    double bb = s - a->hi;
    double e = (a->hi - (s - bb)) + (x - bb);
    a->hi = s;
    a->lo += e;
}

static void dd_merge(dd_t *a, const dd_t *b) {
    dd_add(a, b->hi);
    a->lo += b->lo;
}

static double dd_value(const dd_t *a) {
    return a->hi + a->lo;
}

/* --- summaries --- */

typedef struct summary_col {
    uint64_t count;   /* numeric values */
    uint64_t missing; /* missing values */
    uint64_t text;    /* values that are neither */
    double min, max;
    dd_t sum, sq;
    strset_t *vocab; /* distinct non-missing texts, first appearance, <= cap */
} summary_col_t;

struct summary {
    data_format_t format;
    uint64_t rows;
    uint32_t ncols, label_col, id_col;
    uint32_t max_index;
    strset_t *labels;
    uint64_t *label_counts;
    size_t label_cap;
    summary_col_t *cols;
};

static summary_t *summary_new(data_format_t format, uint32_t ncols) {
    summary_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->format = format;
    s->ncols = ncols;
    s->label_col = s->id_col = SCHEMA_NONE;
    s->labels = strset_new();
    if (!s->labels) goto fail;
    if (ncols) {
        s->cols = calloc(ncols, sizeof *s->cols);
        if (!s->cols) goto fail;
        for (uint32_t i = 0; i < ncols; i++) {
            s->cols[i].vocab = strset_new();
            if (!s->cols[i].vocab) goto fail;
        }
    }
    return s;
fail:
    summary_destroy(&s);
    return NULL;
}

void summary_destroy(summary_t **ps) {
    if (!ps || !*ps) return;
    summary_t *s = *ps;
    if (s->cols)
        for (uint32_t i = 0; i < s->ncols; i++)
            strset_destroy(&s->cols[i].vocab);
    free(s->cols);
    strset_destroy(&s->labels);
    free(s->label_counts);
    free(s);
    *ps = NULL;
}

uint64_t summary_rows(const summary_t *s) {
    return s->rows;
}

/* Counts count rows of a label; -1 when out of memory or too many labels. */
static int summary_add_label(summary_t *s, const char *text, size_t len, uint64_t count) {
    int added;
    long k = strset_add(s->labels, text, len, &added);
    if (k < 0 || (size_t)k >= SCHEMA_MAX_LABELS) return -1;
    if ((size_t)k >= s->label_cap) {
        size_t ncap = s->label_cap ? s->label_cap * 2 : 16;
        uint64_t *nc = realloc(s->label_counts, ncap * sizeof *nc);
        if (!nc) return -1;
        memset(nc + s->label_cap, 0, (ncap - s->label_cap) * sizeof *nc);
        s->label_counts = nc;
        s->label_cap = ncap;
    }
    s->label_counts[k] += count;
    return 0;
}

/* Writes "FILE:1: no column "x" (columns: a, b, ...)" into err. */
static void schema_no_column(const char *file, const char *what, const char *name, char **names,
                             size_t n, char *err, size_t errlen) {
    int w = snprintf(err, errlen, "%s:1: no %s column \"%s\" (columns:", file, what, name);
    for (size_t i = 0; i < n && w >= 0 && (size_t)w < errlen; i++)
        w += snprintf(err + w, errlen - (size_t)w, "%s %s", i ? "," : "", names[i]);
    if (w >= 0 && (size_t)w < errlen) snprintf(err + w, errlen - (size_t)w, ")");
}

static long schema_name_index(char **names, size_t n, const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return (long)i;
    return -1;
}

/* --- the rules for one field, shared by training and testing --- */

/* True when no byte has its high bit set: the common case, 8 bytes a step. */
static int schema_ascii(const char *t, size_t len) {
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

static int schema_check_utf8(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                             char *err, size_t errlen) {
    size_t bad;
    if (schema_ascii(t, len) || utf8_check(t, len, &bad)) return 0;
    snprintf(err, errlen,
             "%s:%llu:%zu: not valid UTF-8 (byte 0x%02X at offset %zu of the field); convert the "
             "file to UTF-8, e.g. iconv -f latin1 -t utf-8",
             file, (unsigned long long)line, col + 1, (unsigned char)t[bad], bad);
    return -1;
}

/* Shows at most 40 bytes of a field in a message (numbers only: ASCII). */
static int schema_shown(size_t len) {
    return (int)(len < 40 ? len : 40);
}

enum { FIELD_NUMBER, FIELD_MISSING, FIELD_TEXT };

/* The message of a number that schema_classify() refuses; returns -1. */
static int schema_bad_number(int rc, const char *file, uint64_t line, size_t col, const char *t,
                             size_t len, char *err, size_t errlen) {
    if (rc == 0)
        snprintf(err, errlen, "%s:%llu:%zu: number out of range (more than 1e100): %.*s%s", file,
                 (unsigned long long)line, col + 1, schema_shown(len), t, len > 40 ? "..." : "");
    else
        snprintf(err, errlen,
                 "%s:%llu:%zu: not a finite number: %.*s%s (write an empty field or NA for a "
                 "missing value)",
                 file, (unsigned long long)line, col + 1, schema_shown(len), t,
                 len > 40 ? "..." : "");
    return -1;
}

/* What a feature field is: FIELD_NUMBER (*x set), FIELD_MISSING or
 * FIELD_TEXT; -1 with err set when it is a number that is not finite or out
 * of range (bounded so that sums of squares over any row count stay finite),
 * or, when check_text is set, text that is not UTF-8. */
static int schema_classify(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                           double *x, int check_text, char *err, size_t errlen) {
    if (csvread_is_missing(t, len)) return FIELD_MISSING;
    int rc = csvread_number(t, len, x);
    if (rc == 0 && fabs(*x) <= SCHEMA_NUM_MAX) return FIELD_NUMBER;
    if (rc != -1) return schema_bad_number(rc, file, line, col, t, len, err, errlen);
    if (check_text && schema_check_utf8(file, line, col, t, len, err, errlen) != 0) return -1;
    return FIELD_TEXT;
}

int schema_check_field(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen) {
    double x;
    return schema_classify(file, line, col, text, len, &x, 1, err, errlen) < 0 ? -1 : 0;
}

int schema_check_label(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen) {
    if (len > SCHEMA_TEXT_MAX) {
        snprintf(err, errlen, "%s:%llu:%zu: label longer than %d bytes (%zu)", file,
                 (unsigned long long)line, col + 1, SCHEMA_TEXT_MAX, len);
        return -1;
    }
    return schema_check_utf8(file, line, col, text, len, err, errlen);
}

/* How much of a text value identifies its category: all of it up to
 * SCHEMA_TEXT_MAX bytes, else the longest prefix of at most that many bytes
 * that ends on a character boundary (the text is valid UTF-8). */
static size_t schema_text_key(const char *t, size_t len) {
    if (len <= SCHEMA_TEXT_MAX) return len;
    size_t k = SCHEMA_TEXT_MAX;
    while (k > 0 && ((unsigned char)t[k] & 0xC0) == 0x80)
        k--;
    return k;
}

int schema_numeric_slow(const schema_numeric_t *n, const char *text, size_t len, double *value,
                        const char *file, uint64_t line, size_t col, char *err, size_t errlen) {
    double x;
    int kind = schema_classify(file, line, col, text, len, &x, 1, err, errlen);
    if (kind < 0) return -1;
    if (kind != FIELD_NUMBER) {
        /* Text where training saw numbers counts as missing. */
        *value = n->impute;
        return 0;
    }
    double v = (x - n->shift) * n->mul;
    if (!isfinite(v)) {
        snprintf(err, errlen,
                 "%s:%llu:%zu: %.*s%s is out of range for this column once scaled "
                 "((x - %.17g) * %.17g is not finite)",
                 file, (unsigned long long)line, col + 1, schema_shown(len), text,
                 len > 40 ? "..." : "", n->shift, n->mul);
        return -1;
    }
    *value = v;
    return 0;
}

typedef struct sum_ctx {
    summary_t *s;
    const char *file;
    const char *label_name;
    int label_missing;
} sum_ctx_t;

static int sum_field(void *vctx, size_t col, const char *text, size_t len, uint64_t line, char *err,
                     size_t errlen) {
    sum_ctx_t *c = vctx;
    summary_t *s = c->s;
    if (col == s->label_col) {
        if (csvread_is_missing(text, len)) {
            snprintf(err, errlen, "%s:%llu:%zu: missing label in column \"%s\"", c->file,
                     (unsigned long long)line, col + 1, c->label_name);
            return -1;
        }
        if (schema_check_label(c->file, line, col, text, len, err, errlen) != 0) return -1;
        if (summary_add_label(s, text, len, 1) != 0) {
            snprintf(err, errlen, "%s:%llu:%zu: more than %d distinct labels (or out of memory)",
                     c->file, (unsigned long long)line, col + 1, SCHEMA_MAX_LABELS);
            return -1;
        }
        return 0;
    }
    if (col == s->id_col) return 0;
    summary_col_t *sc = &s->cols[col];
    double x;
    /* schema_classify() inline, as this is the pass over every field; text
     * is checked for UTF-8 below, only when new to the vocabulary: a value
     * seen before was checked then. */
    int kind = FIELD_TEXT;
    unsigned char c0 = len ? (unsigned char)text[0] : 0;
    if (((c0 >= '0' && c0 <= '9') || c0 == '-' || c0 == '.') &&
        csvread_number_fast(text, len, &x) == 0 && fabs(x) <= SCHEMA_NUM_MAX) {
        kind = FIELD_NUMBER; /* most fields: plain decimals, no missing marker */
    } else if (csvread_is_missing(text, len)) {
        kind = FIELD_MISSING;
    } else {
        int rc = csvread_number(text, len, &x);
        if (rc == 0 && fabs(x) <= SCHEMA_NUM_MAX)
            kind = FIELD_NUMBER;
        else if (rc != -1)
            return schema_bad_number(rc, c->file, line, col, text, len, err, errlen);
    }
    if (kind == FIELD_MISSING) {
        sc->missing++;
        return 0;
    }
    if (kind == FIELD_NUMBER) {
        if (sc->count == 0 || x < sc->min) sc->min = x;
        if (sc->count == 0 || x > sc->max) sc->max = x;
        sc->count++;
        dd_add(&sc->sum, x);
        dd_add(&sc->sq, x * x);
    } else {
        sc->text++;
    }
    /* Numbers are kept too: the column turns text if any later row is text. */
    size_t key = schema_text_key(text, len);
    int fresh = 1; /* text not known to be valid */
    if (strset_count(sc->vocab) < SCHEMA_VOCAB_CAP &&
        strset_add(sc->vocab, text, key, &fresh) < 0) {
        snprintf(err, errlen, "%s:%llu: out of memory", c->file, (unsigned long long)line);
        return -1;
    }
    /* An invalid value may have just been added: the summary is dropped. */
    if (kind == FIELD_TEXT && (fresh || key != len) &&
        schema_check_utf8(c->file, line, col, text, len, err, errlen) != 0)
        return -1;
    return 0;
}

/* The CSV schema pass buffers a block of rows, each column's texts in a
 * buffer of their own, and then summarises the block one column at a time.
 * Row by row, every field would look up its column's value set, a random
 * access into megabytes of tables (a cache and TLB miss a field, most of
 * the pass's time on wide files); column by column, a set stays in cache for
 * the whole block and the texts stream in. Each column still sees its values
 * in row order, so the summary is the same bit for bit, and an error is
 * reported for the first bad field in file order. */
#define SUM_BLOCK_ROWS 2048
#define SUM_BLOCK_FIELDS ((size_t)2 << 20) /* fewer rows a block for wide files */
#define SUM_BLOCK_TEXT ((size_t)16 << 20)  /* flush earlier past this much text */

typedef struct sum_colbuf {
    char *text; /* the column's fields of the block, back to back */
    size_t len, cap;
} sum_colbuf_t;

typedef struct sum_block {
    sum_ctx_t *c;
    size_t ncols;
    sum_colbuf_t *col;
    uint32_t *flen; /* flen[col * maxrows + row]: field length */
    uint64_t line[SUM_BLOCK_ROWS];
    size_t rows, maxrows;
    size_t text; /* bytes buffered in all columns */
} sum_block_t;

/* A block for a shard of len bytes: no more rows than the shard can hold (a
 * row of n fields takes at least n bytes), nor than SUM_BLOCK_FIELDS fields. */
static int sum_block_init(sum_block_t *b, sum_ctx_t *c, size_t ncols, size_t len) {
    size_t nc = ncols ? ncols : 1;
    *b = (sum_block_t){.c = c, .ncols = ncols, .maxrows = SUM_BLOCK_FIELDS / nc};
    if (b->maxrows > len / nc + 1) b->maxrows = len / nc + 1;
    if (b->maxrows > SUM_BLOCK_ROWS) b->maxrows = SUM_BLOCK_ROWS;
    if (b->maxrows < 1) b->maxrows = 1;
    b->col = calloc(nc, sizeof *b->col);
    b->flen = malloc(nc * b->maxrows * sizeof *b->flen);
    return b->col && b->flen ? 0 : -1;
}

static void sum_block_free(sum_block_t *b) {
    for (size_t i = 0; b->col && i < b->ncols; i++)
        free(b->col[i].text);
    free(b->col);
    free(b->flen);
    *b = (sum_block_t){0};
}

/* Summarises the buffered rows and empties the block. */
static int sum_flush(sum_block_t *b, char *err, size_t errlen) {
    /* Row of the first bad field so far. Columns go in order, so a later
     * column can only beat it with an earlier row. */
    size_t bad_row = SIZE_MAX;
    for (size_t col = 0; col < b->ncols; col++) {
        const uint32_t *fl = &b->flen[col * b->maxrows];
        const char *t = b->col[col].text;
        for (size_t r = 0; r < b->rows && r < bad_row; t += fl[r], r++)
            if (sum_field(b->c, col, t, fl[r], b->line[r], err, errlen) != 0) {
                bad_row = r;
                break;
            }
        b->col[col].len = 0;
    }
    b->c->s->rows += b->rows;
    b->rows = 0;
    b->text = 0;
    return bad_row == SIZE_MAX ? 0 : -1;
}

static int sum_block_field(void *vctx, size_t col, const char *text, size_t len, uint64_t line,
                           char *err, size_t errlen) {
    sum_block_t *b = vctx;
    sum_colbuf_t *cb = &b->col[col];
    if (len > UINT32_MAX) {
        snprintf(err, errlen, "%s:%llu:%zu: field too long", b->c->file, (unsigned long long)line,
                 col + 1);
        return -1;
    }
    if (len > cb->cap - cb->len) {
        /* Room for a block of short fields at once; wide files have short
         * blocks, so this stays small when there are many columns. */
        size_t ncap = cb->cap ? cb->cap : b->maxrows * 8;
        while (ncap - cb->len < len)
            ncap *= 2;
        char *nt = realloc(cb->text, ncap);
        if (!nt) {
            snprintf(err, errlen, "%s:%llu: out of memory", b->c->file, (unsigned long long)line);
            return -1;
        }
        cb->text = nt;
        cb->cap = ncap;
    }
    if (len) memcpy(cb->text + cb->len, text, len);
    cb->len += len;
    b->text += len;
    b->flen[col * b->maxrows + b->rows] = (uint32_t)len;
    b->line[b->rows] = line;
    return 0;
}

static int sum_block_record(void *vctx, size_t nfields, uint64_t line, char *err, size_t errlen) {
    sum_block_t *b = vctx;
    if (++b->rows == b->maxrows || b->text >= SUM_BLOCK_TEXT) return sum_flush(b, err, errlen);
    return 0;
}

static int sum_svm_row(void *vctx, int label, const struct feature_node *x, size_t n, uint64_t line,
                       char *err, size_t errlen) {
    sum_ctx_t *c = vctx;
    char txt[16];
    int tl = snprintf(txt, sizeof txt, "%d", label);
    if (summary_add_label(c->s, txt, (size_t)tl, 1) != 0) {
        snprintf(err, errlen, "%s:%llu: more than %d distinct labels (or out of memory)", c->file,
                 (unsigned long long)line, SCHEMA_MAX_LABELS);
        return -1;
    }
    if (n && (uint32_t)x[n - 1].index > c->s->max_index) c->s->max_index = (uint32_t)x[n - 1].index;
    c->s->rows++;
    return 0;
}

summary_t *summary_from_shard(const datasrc_t *src, const char *bytes, size_t len,
                              uint64_t first_row, uint64_t first_line, char *err, size_t errlen) {
    (void)first_row;
    summary_t *s = NULL;
    char **names = NULL;
    size_t n = 0;
    const char *file = src->file ? src->file : "data";
    sum_ctx_t c = {.file = file, .label_name = src->label};
    sum_block_t blk = {0};
    if (src->format == DATA_LIBSVM) {
        s = summary_new(DATA_LIBSVM, 0);
        if (!s) {
            snprintf(err, errlen, "%s: out of memory", file);
            goto fail;
        }
        c.s = s;
        if (svmread_parse(file, bytes, len, first_line, sum_svm_row, &c, err, errlen) != 0)
            goto fail;
        return s;
    }
    if (csvread_header(file, src->header, src->header_len, &names, &n, err, errlen) != 0) goto fail;
    if (n > SCHEMA_MAX_COLS) {
        snprintf(err, errlen, "%s:1: more than %d columns", file, SCHEMA_MAX_COLS);
        goto fail;
    }
    long lc = schema_name_index(names, n, src->label);
    if (lc < 0) {
        schema_no_column(file, "label", src->label ? src->label : "", names, n, err, errlen);
        goto fail;
    }
    long ic = src->id ? schema_name_index(names, n, src->id) : -1;
    s = summary_new(DATA_CSV, (uint32_t)n);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto fail;
    }
    s->label_col = (uint32_t)lc;
    s->id_col = ic >= 0 ? (uint32_t)ic : SCHEMA_NONE;
    c.s = s;
    if (sum_block_init(&blk, &c, n, len) != 0) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto fail;
    }
    csvread_cb_t cb = {.field = sum_block_field, .record = sum_block_record};
    if (csvread_parse(file, bytes, len, first_line, n, &cb, &blk, err, errlen) != 0) {
        /* A buffered row before the one csvread stopped at may hold an
         * earlier error: that one is reported. The row csvread stopped at
         * may be half buffered; it is not summarised. */
        sum_flush(&blk, err, errlen);
        goto fail;
    }
    if (sum_flush(&blk, err, errlen) != 0) goto fail;
    sum_block_free(&blk);
    csvread_names_free(names, n);
    return s;
fail:
    sum_block_free(&blk);
    csvread_names_free(names, n);
    summary_destroy(&s);
    return NULL;
}

int summary_merge(summary_t *into, const summary_t *from) {
    if (into->format != from->format || into->ncols != from->ncols ||
        into->label_col != from->label_col || into->id_col != from->id_col)
        return -1;
    into->rows += from->rows;
    if (from->max_index > into->max_index) into->max_index = from->max_index;
    for (size_t k = 0; k < strset_count(from->labels); k++) {
        size_t l;
        const char *t = strset_get(from->labels, k, &l);
        if (summary_add_label(into, t, l, from->label_counts[k]) != 0) return -1;
    }
    for (uint32_t i = 0; i < into->ncols; i++) {
        summary_col_t *a = &into->cols[i];
        const summary_col_t *b = &from->cols[i];
        if (b->count) {
            if (a->count == 0 || b->min < a->min) a->min = b->min;
            if (a->count == 0 || b->max > a->max) a->max = b->max;
        }
        a->count += b->count;
        a->missing += b->missing;
        a->text += b->text;
        dd_merge(&a->sum, &b->sum);
        dd_merge(&a->sq, &b->sq);
        /* The first CAP distinct values of the concatenation are ours followed
         * by from's new ones in from's order: from kept its first CAP. */
        for (size_t k = 0; k < strset_count(b->vocab) && strset_count(a->vocab) < SCHEMA_VOCAB_CAP;
             k++) {
            size_t l;
            const char *t = strset_get(b->vocab, k, &l);
            if (strset_add(a->vocab, t, l, NULL) < 0) return -1;
        }
    }
    return 0;
}

/* --- summary wire format ---
 *   "NCS1" u8 format u8[3] 0 | u64 rows | u32 ncols label_col id_col max_index
 *   u32 nlabels, each: u32 len, bytes, u64 count
 *   per column: u64 count missing text | f64 min max sum.hi sum.lo sq.hi sq.lo
 *               | u32 nvocab, each: u32 len, bytes
 */

static void wb_strset(buf_t *w, const strset_t *ss, const uint64_t *counts) {
    buf_put_u32(w, (uint32_t)strset_count(ss));
    for (size_t k = 0; k < strset_count(ss); k++) {
        size_t l;
        const char *t = strset_get(ss, k, &l);
        buf_put_u32(w, (uint32_t)l);
        buf_put(w, t, l);
        if (counts) buf_put_u64(w, counts[k]);
    }
}

int summary_encode(const summary_t *s, char **buf, size_t *len) {
    buf_t w = {0};
    unsigned char head[8] = {'N', 'C', 'S', '1', (unsigned char)s->format, 0, 0, 0};
    buf_put(&w, head, 8);
    buf_put_u64(&w, s->rows);
    buf_put_u32(&w, s->ncols);
    buf_put_u32(&w, s->label_col);
    buf_put_u32(&w, s->id_col);
    buf_put_u32(&w, s->max_index);
    wb_strset(&w, s->labels, s->label_counts);
    for (uint32_t i = 0; i < s->ncols; i++) {
        const summary_col_t *c = &s->cols[i];
        buf_put_u64(&w, c->count);
        buf_put_u64(&w, c->missing);
        buf_put_u64(&w, c->text);
        buf_put_f64(&w, c->min);
        buf_put_f64(&w, c->max);
        buf_put_f64(&w, c->sum.hi);
        buf_put_f64(&w, c->sum.lo);
        buf_put_f64(&w, c->sq.hi);
        buf_put_f64(&w, c->sq.lo);
        wb_strset(&w, c->vocab, NULL);
    }
    uint8_t *p = buf_detach(&w, len);
    if (!p) return -1;
    *buf = (char *)p;
    return 0;
}

/* A summary's doubles are finite: anything else marks the input bad. */
static double rb_f64(bufrd_t *r) {
    double d = bufrd_f64(r);
    if (!isfinite(d)) r->bad = true;
    return d;
}

/* Reads a string list into ss (which must be empty); duplicates are invalid. */
static int rb_strset(bufrd_t *r, strset_t *ss, size_t max, summary_t *lab) {
    uint32_t n = bufrd_u32(r);
    if (r->bad || n > max) return -1;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t l = bufrd_u32(r);
        const unsigned char *t = l <= SCHEMA_TEXT_MAX ? bufrd_take(r, l) : NULL;
        if (!t || !utf8_check((const char *)t, l, NULL)) return -1;
        if (lab) {
            uint64_t cnt = bufrd_u64(r);
            size_t before = strset_count(lab->labels);
            if (r->bad || summary_add_label(lab, (const char *)t, l, cnt) != 0 ||
                strset_count(lab->labels) != before + 1)
                return -1;
        } else {
            int added;
            if (strset_add(ss, (const char *)t, l, &added) < 0 || !added) return -1;
        }
    }
    return 0;
}

summary_t *summary_decode(const void *buf, size_t len, char *err, size_t errlen) {
    bufrd_t r = bufrd_init(buf, len);
    summary_t *s = NULL;
    const unsigned char *head = bufrd_take(&r, 8);
    if (!head || memcmp(head, "NCS1", 4) != 0 || head[4] > DATA_LIBSVM) {
        snprintf(err, errlen, "summary: bad magic or format");
        goto fail;
    }
    uint64_t rows = bufrd_u64(&r);
    uint32_t ncols = bufrd_u32(&r), label_col = bufrd_u32(&r), id_col = bufrd_u32(&r);
    uint32_t max_index = bufrd_u32(&r);
    data_format_t fmt = head[4];
    /* Each column takes at least 76 bytes: bound ncols by what was received. */
    if (r.bad || ncols > SCHEMA_MAX_COLS || ncols > bufrd_left(&r) / 76 ||
        (fmt == DATA_LIBSVM && (ncols || label_col != SCHEMA_NONE || id_col != SCHEMA_NONE)) ||
        (fmt == DATA_CSV && (label_col >= ncols || (id_col != SCHEMA_NONE && id_col >= ncols) ||
                             id_col == label_col || max_index)) ||
        max_index > INT_MAX - 2) {
        snprintf(err, errlen, "summary: bad header fields");
        goto fail;
    }
    s = summary_new(fmt, ncols);
    if (!s) {
        snprintf(err, errlen, "summary: out of memory");
        goto fail;
    }
    s->rows = rows;
    s->label_col = label_col;
    s->id_col = id_col;
    s->max_index = max_index;
    if (rb_strset(&r, NULL, SCHEMA_MAX_LABELS, s) != 0) {
        snprintf(err, errlen, "summary: bad label list");
        goto fail;
    }
    uint64_t total = 0;
    for (size_t k = 0; k < strset_count(s->labels); k++) {
        if (s->label_counts[k] > rows - total) {
            snprintf(err, errlen, "summary: label counts exceed rows");
            goto fail;
        }
        total += s->label_counts[k];
    }
    if (total != rows) {
        snprintf(err, errlen, "summary: label counts do not add up to rows");
        goto fail;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        summary_col_t *c = &s->cols[i];
        c->count = bufrd_u64(&r);
        c->missing = bufrd_u64(&r);
        c->text = bufrd_u64(&r);
        c->min = rb_f64(&r);
        c->max = rb_f64(&r);
        c->sum.hi = rb_f64(&r);
        c->sum.lo = rb_f64(&r);
        c->sq.hi = rb_f64(&r);
        c->sq.lo = rb_f64(&r);
        if (r.bad || c->count > rows || c->missing > rows - c->count ||
            c->text > rows - c->count - c->missing || c->min > c->max ||
            rb_strset(&r, c->vocab, SCHEMA_VOCAB_CAP, NULL) != 0 ||
            (strset_count(c->vocab) > 0) != (c->count + c->text > 0)) {
            snprintf(err, errlen, "summary: bad column %u", i + 1);
            goto fail;
        }
    }
    if (bufrd_left(&r) != 0) {
        snprintf(err, errlen, "summary: %zu trailing bytes", bufrd_left(&r));
        goto fail;
    }
    return s;
fail:
    summary_destroy(&s);
    return NULL;
}

/* --- the schema --- */

enum { SCALE_STANDARD, SCALE_MINMAX, SCALE_NONE };
static const char *const scale_names[] = {"standard", "minmax", "none"};
static const char *const kind_names[] = {"label", "id", "numeric", "text"};

typedef struct schema_col {
    char *name;
    schema_kind_t kind;
    int index; /* first feature index, 0 for label and id */
    int width;
    /* numeric */
    uint64_t count, missing;
    double mean, std, min, max;
    double shift, mul, impute; /* impute: the transformed value of a missing field */
    /* text */
    strset_t *vocab;
    int has_missing, has_other;
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

void schema_destroy(schema_t **ps) {
    if (!ps || !*ps) return;
    schema_t *s = *ps;
    for (size_t i = 0; s->cols && i < s->ncols; i++) {
        free(s->cols[i].name);
        strset_destroy(&s->cols[i].vocab);
    }
    free(s->cols);
    strset_destroy(&s->colnames);
    strset_destroy(&s->labels);
    free(s->label_counts);
    free(s->label_values);
    free(s->label_name);
    free(s->id_name);
    free(s);
    *ps = NULL;
}

static schema_t *schema_alloc(data_format_t format, size_t ncols) {
    schema_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->format = format;
    s->ncols = ncols;
    s->labels = strset_new();
    s->colnames = strset_new();
    if (!s->labels || !s->colnames) goto fail;
    if (ncols && !(s->cols = calloc(ncols, sizeof *s->cols))) goto fail;
    return s;
fail:
    schema_destroy(&s);
    return NULL;
}

/* Parses a decimal integer label that fits an int; -1 otherwise. */
static int schema_int_label(const char *t, size_t l, int *out) {
    size_t i = 0;
    if (i < l && (t[i] == '+' || t[i] == '-')) i++;
    if (i == l || l - i > 10) return -1;
    long long v = 0;
    for (size_t k = i; k < l; k++) {
        if (t[k] < '0' || t[k] > '9') return -1;
        v = v * 10 + (t[k] - '0');
    }
    if (t[0] == '-') v = -v;
    if (v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

/* Label values, integer detection and liblinear's +1/-1 order, from the
 * labels in first-appearance order (names, counts). */
static int schema_set_labels(schema_t *s, const strset_t *names, const uint64_t *counts) {
    size_t n = strset_count(names);
    int *vals = malloc((n ? n : 1) * sizeof *vals);
    size_t order[2] = {0, 1};
    if (!vals) return -1;
    int ints = 1;
    for (size_t k = 0; k < n && ints; k++) {
        size_t l;
        const char *t = strset_get(names, k, &l);
        if (schema_int_label(t, l, &vals[k]) != 0) ints = 0;
        for (size_t j = 0; ints && j < k; j++)
            if (vals[j] == vals[k]) ints = 0; /* "1" and "+1": distinct texts, same int */
    }
    int swap = ints && n == 2 && vals[0] == -1 && vals[1] == 1;
    if (swap) {
        order[0] = 1;
        order[1] = 0;
    }
    s->label_counts = malloc((n ? n : 1) * sizeof *s->label_counts);
    s->label_values = malloc((n ? n : 1) * sizeof *s->label_values);
    if (!s->label_counts || !s->label_values) {
        free(vals);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        size_t src = n == 2 ? order[k] : k;
        size_t l;
        const char *t = strset_get(names, src, &l);
        if (strset_add(s->labels, t, l, NULL) < 0) {
            free(vals);
            return -1;
        }
        s->label_counts[k] = counts ? counts[src] : 0;
        s->label_values[k] = ints ? vals[src] : (int)k;
    }
    s->label_ints = ints;
    free(vals);
    return 0;
}

static int schema_parse_scale(const char *scale) {
    if (!scale || strcmp(scale, "standard") == 0) return SCALE_STANDARD;
    if (strcmp(scale, "minmax") == 0) return SCALE_MINMAX;
    if (strcmp(scale, "none") == 0) return SCALE_NONE;
    return -1;
}

/* Fills shift, mul and impute of a numeric column from its statistics. */
static void schema_transform(schema_col_t *c, int scale) {
    int constant = c->count == 0 || c->min == c->max;
    switch (scale) {
    case SCALE_STANDARD:
        c->shift = c->mean;
        c->mul = constant || c->std <= 0 ? 0.0 : 1.0 / c->std;
        break;
    case SCALE_MINMAX:
        c->shift = c->min;
        c->mul = constant ? 0.0 : 1.0 / (c->max - c->min);
        break;
    default:
        c->shift = 0.0;
        c->mul = 1.0;
        break;
    }
    c->impute = (c->mean - c->shift) * c->mul;
}

/* Assigns feature indices in column order; -1 when they overflow an int. */
static int schema_layout(schema_t *s) {
    long long next = 1;
    for (size_t i = 0; i < s->ncols; i++) {
        schema_col_t *c = &s->cols[i];
        if (c->kind == SCHEMA_NUMERIC)
            c->width = 1;
        else if (c->kind == SCHEMA_TEXT)
            c->width = (int)strset_count(c->vocab) + c->has_missing + c->has_other;
        else
            c->width = 0;
        c->index = c->width ? (int)next : 0;
        next += c->width;
        if (next > INT_MAX - 2) return -1;
    }
    s->n_features = (int)(next - 1);
    return 0;
}

schema_t *schema_fit(const summary_t *all, const datasrc_t *src, const char *scale, char *err,
                     size_t errlen) {
    schema_t *s = NULL;
    char **names = NULL;
    size_t n = 0;
    const char *file = src->file ? src->file : "data";
    int sc = schema_parse_scale(scale);
    if (sc < 0) {
        snprintf(err, errlen, "data.scale must be standard, minmax or none, not \"%s\"", scale);
        goto fail;
    }
    if (all->format != src->format) {
        snprintf(err, errlen, "%s: summary format does not match the data source", file);
        goto fail;
    }
    size_t nl = strset_count(all->labels);
    if (nl < 2) {
        const char *only = nl ? strset_get(all->labels, 0, NULL) : "";
        if (src->format == DATA_CSV)
            snprintf(err, errlen,
                     "%s: label column \"%s\" has only one class (\"%s\"): nothing "
                     "to learn",
                     file, src->label ? src->label : "", only);
        else
            snprintf(err, errlen, "%s: only one class (%s): nothing to learn", file, only);
        goto fail;
    }
    if (src->format == DATA_LIBSVM) {
        s = schema_alloc(DATA_LIBSVM, 0);
        if (!s || schema_set_labels(s, all->labels, all->label_counts) != 0) {
            snprintf(err, errlen, "%s: out of memory", file);
            goto fail;
        }
        s->scale = SCALE_NONE;
        s->n_features = (int)all->max_index;
        s->rows = all->rows;
        return s;
    }
    if (csvread_header(file, src->header, src->header_len, &names, &n, err, errlen) != 0) goto fail;
    if (n != all->ncols || schema_name_index(names, n, src->label) != (long)all->label_col) {
        snprintf(err, errlen, "%s: summary does not match the header", file);
        goto fail;
    }
    s = schema_alloc(DATA_CSV, n);
    if (!s) goto oom;
    s->scale = sc;
    s->rows = all->rows;
    s->label_name = strdup(src->label);
    s->id_name = src->id ? strdup(src->id) : NULL;
    if (!s->label_name || (src->id && !s->id_name)) goto oom;
    if (schema_set_labels(s, all->labels, all->label_counts) != 0) goto oom;
    for (size_t i = 0; i < n; i++) {
        schema_col_t *c = &s->cols[i];
        const summary_col_t *u = &all->cols[i];
        int added;
        if (strset_add(s->colnames, names[i], strlen(names[i]), &added) < 0) goto oom;
        if (!added) {
            snprintf(err, errlen, "%s:1:%zu: duplicate column name \"%s\"", file, i + 1, names[i]);
            goto fail;
        }
        c->name = names[i];
        names[i] = NULL;
        if (i == all->label_col) {
            c->kind = SCHEMA_LABEL;
        } else if (i == all->id_col) {
            c->kind = SCHEMA_ID;
        } else if (u->text > 0) {
            c->kind = SCHEMA_TEXT;
            c->vocab = strset_new();
            if (!c->vocab) goto oom;
            for (size_t k = 0; k < strset_count(u->vocab); k++) {
                size_t l;
                const char *t = strset_get(u->vocab, k, &l);
                if (strset_add(c->vocab, t, l, NULL) < 0) goto oom;
            }
            c->has_missing = u->missing > 0;
            c->has_other = strset_count(u->vocab) >= SCHEMA_VOCAB_CAP;
        } else {
            c->kind = SCHEMA_NUMERIC;
            c->count = u->count;
            c->missing = u->missing;
            if (u->count) {
                double cnt = (double)u->count;
                c->mean = dd_value(&u->sum) / cnt;
                double var = dd_value(&u->sq) / cnt - c->mean * c->mean;
                c->std = u->min == u->max || !(var > 0) ? 0.0 : sqrt(var);
                c->min = u->min;
                c->max = u->max;
            }
            schema_transform(c, sc);
        }
    }
    if (schema_layout(s) != 0) {
        snprintf(err, errlen, "%s: too many features", file);
        goto fail;
    }
    csvread_names_free(names, n);
    return s;
oom:
    snprintf(err, errlen, "%s: out of memory", file);
fail:
    csvread_names_free(names, n);
    schema_destroy(&s);
    return NULL;
}

schema_t *schema_for_libsvm(int nr_feature, const int *labels, int nr_class) {
    if (nr_feature < 0 || nr_class < 0 || (nr_class && !labels)) return NULL;
    schema_t *s = schema_alloc(DATA_LIBSVM, 0);
    if (!s) return NULL;
    s->scale = SCALE_NONE;
    s->n_features = nr_feature;
    s->label_ints = 1;
    s->label_counts = calloc((size_t)nr_class + 1, sizeof *s->label_counts);
    s->label_values = calloc((size_t)nr_class + 1, sizeof *s->label_values);
    if (!s->label_counts || !s->label_values) goto fail;
    for (int k = 0; k < nr_class; k++) {
        char txt[16];
        int l = snprintf(txt, sizeof txt, "%d", labels[k]);
        int added;
        /* The model's order is kept as it is: it already is liblinear's. */
        if (strset_add(s->labels, txt, (size_t)l, &added) < 0 || !added) goto fail;
        s->label_values[k] = labels[k];
    }
    return s;
fail:
    schema_destroy(&s);
    return NULL;
}

/* --- JSON --- */

static json_object *schema_json_str(const char *t, size_t l) {
    return json_object_new_string_len(t, (int)l);
}

char *schema_to_json(const schema_t *s) {
    json_object *o = json_object_new_object();
    char *out = NULL;
    if (!o) return NULL;
    json_object_object_add(o, "netcompute_schema", json_object_new_int(1));
    json_object_object_add(o, "format",
                           json_object_new_string(s->format == DATA_LIBSVM ? "libsvm" : "csv"));
    json_object_object_add(o, "rows", json_object_new_int64((int64_t)s->rows));
    json_object_object_add(o, "n_features", json_object_new_int(s->n_features));
    json_object *labels = json_object_new_array();
    json_object_object_add(o, "labels", labels);
    for (size_t k = 0; labels && k < strset_count(s->labels); k++) {
        size_t l;
        const char *t = strset_get(s->labels, k, &l);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "name", schema_json_str(t, l));
        json_object_object_add(e, "value", json_object_new_int(s->label_values[k]));
        json_object_object_add(e, "count", json_object_new_int64((int64_t)s->label_counts[k]));
        json_object_array_add(labels, e);
    }
    if (s->format == DATA_CSV) {
        json_object_object_add(o, "scale", json_object_new_string(scale_names[s->scale]));
        json_object_object_add(o, "label", json_object_new_string(s->label_name));
        if (s->id_name) json_object_object_add(o, "id", json_object_new_string(s->id_name));
        json_object *cols = json_object_new_array();
        json_object_object_add(o, "columns", cols);
        for (size_t i = 0; cols && i < s->ncols; i++) {
            const schema_col_t *c = &s->cols[i];
            json_object *e = json_object_new_object();
            json_object_object_add(e, "name", json_object_new_string(c->name));
            json_object_object_add(e, "kind", json_object_new_string(kind_names[c->kind]));
            if (c->kind == SCHEMA_NUMERIC) {
                json_object_object_add(e, "index", json_object_new_int(c->index));
                json_object_object_add(e, "count", json_object_new_int64((int64_t)c->count));
                json_object_object_add(e, "missing", json_object_new_int64((int64_t)c->missing));
                json_object_object_add(e, "mean", json_object_new_double(c->mean));
                json_object_object_add(e, "std", json_object_new_double(c->std));
                json_object_object_add(e, "min", json_object_new_double(c->min));
                json_object_object_add(e, "max", json_object_new_double(c->max));
            } else if (c->kind == SCHEMA_TEXT) {
                json_object_object_add(e, "index", json_object_new_int(c->index));
                json_object *v = json_object_new_array();
                json_object_object_add(e, "values", v);
                for (size_t k = 0; v && k < strset_count(c->vocab); k++) {
                    size_t l;
                    const char *t = strset_get(c->vocab, k, &l);
                    json_object_array_add(v, schema_json_str(t, l));
                }
                json_object_object_add(e, "missing", json_object_new_boolean(c->has_missing));
                json_object_object_add(e, "other", json_object_new_boolean(c->has_other));
            }
            json_object_array_add(cols, e);
        }
    }
    const char *txt = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (txt) out = strdup(txt);
    json_object_put(o);
    return out;
}

/* The typed getters of jsonx without their messages: schema errors name
 * the part of the schema that is wrong instead. */
static json_object *jget(json_object *o, const char *key, json_type t) {
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t)) return NULL;
    return v;
}

static int jint(json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    return jsonx_get_int(o, key, lo, hi, out, NULL, 0) == 0 ? 0 : -1;
}

static int jnum(json_object *o, const char *key, double *out) {
    return jsonx_get_double(o, key, -INFINITY, INFINITY, out, NULL, 0) == 0 ? 0 : -1;
}

static char *jstrdup(json_object *o, const char *key) {
    const char *t;
    size_t l;
    if (jsonx_get_string(o, key, &t, &l, NULL, 0) != 0 || memchr(t, '\0', l)) return NULL;
    return strdup(t);
}

schema_t *schema_from_json(const char *json, size_t len, char *err, size_t errlen) {
    schema_t *s = NULL;
    const jsonx_limits_t lim = {.max_depth = 64, .trailing_space = true};
    char why[256];
    json_object *o = jsonx_parse_object(json, len, &lim, why, sizeof why);
    if (!o) {
        snprintf(err, errlen, "schema: %s", why);
        goto fail;
    }
    int64_t ver, nfeat, rows;
    json_object *fmt = jget(o, "format", json_type_string);
    json_object *labels = jget(o, "labels", json_type_array);
    if (jint(o, "netcompute_schema", 1, 1, &ver) != 0 || !fmt || !labels ||
        jint(o, "n_features", 0, INT_MAX - 2, &nfeat) != 0 ||
        jint(o, "rows", 0, INT64_MAX, &rows) != 0) {
        snprintf(err, errlen,
                 "schema: missing or bad netcompute_schema, format, labels, "
                 "n_features or rows");
        goto fail;
    }
    const char *fs = json_object_get_string(fmt);
    data_format_t format;
    if (strcmp(fs, "csv") == 0)
        format = DATA_CSV;
    else if (strcmp(fs, "libsvm") == 0)
        format = DATA_LIBSVM;
    else {
        snprintf(err, errlen, "schema: unknown format");
        goto fail;
    }
    json_object *cols = format == DATA_CSV ? jget(o, "columns", json_type_array) : NULL;
    size_t ncols = cols ? json_object_array_length(cols) : 0;
    if (format == DATA_CSV && (!cols || ncols > SCHEMA_MAX_COLS)) {
        snprintf(err, errlen, "schema: missing or bad columns");
        goto fail;
    }
    s = schema_alloc(format, ncols);
    if (!s) {
        snprintf(err, errlen, "schema: out of memory");
        goto fail;
    }
    s->rows = (uint64_t)rows;
    size_t nl = json_object_array_length(labels);
    if (nl > SCHEMA_MAX_LABELS) {
        snprintf(err, errlen, "schema: too many labels");
        goto fail;
    }
    s->label_counts = calloc(nl + 1, sizeof *s->label_counts);
    s->label_values = calloc(nl + 1, sizeof *s->label_values);
    if (!s->label_counts || !s->label_values) {
        snprintf(err, errlen, "schema: out of memory");
        goto fail;
    }
    for (size_t k = 0; k < nl; k++) {
        json_object *e = json_object_array_get_idx(labels, k);
        json_object *nm = jget(e, "name", json_type_string);
        int64_t val, cnt;
        int added;
        if (!nm || jint(e, "value", INT_MIN, INT_MAX, &val) != 0 ||
            jint(e, "count", 0, INT64_MAX, &cnt) != 0 ||
            strset_add(s->labels, json_object_get_string(nm),
                       (size_t)json_object_get_string_len(nm), &added) < 0 ||
            !added) {
            snprintf(err, errlen, "schema: bad label %zu", k + 1);
            goto fail;
        }
        s->label_values[k] = (int)val;
        s->label_counts[k] = (uint64_t)cnt;
    }
    if (format == DATA_LIBSVM) {
        s->scale = SCALE_NONE;
        s->n_features = (int)nfeat;
        json_object_put(o);
        return s;
    }
    json_object *scale = jget(o, "scale", json_type_string);
    s->label_name = jstrdup(o, "label");
    json_object *idv;
    if (json_object_object_get_ex(o, "id", &idv)) {
        s->id_name = jstrdup(o, "id");
        if (!s->id_name) {
            snprintf(err, errlen, "schema: bad id");
            goto fail;
        }
    }
    if (!scale || (s->scale = schema_parse_scale(json_object_get_string(scale))) < 0 ||
        !s->label_name) {
        snprintf(err, errlen, "schema: missing or bad scale or label");
        goto fail;
    }
    int nlabelcols = 0;
    for (size_t i = 0; i < ncols; i++) {
        schema_col_t *c = &s->cols[i];
        json_object *e = json_object_array_get_idx(cols, i);
        json_object *kind = jget(e, "kind", json_type_string);
        int added;
        c->name = jstrdup(e, "name");
        if (!c->name || !kind || strset_add(s->colnames, c->name, strlen(c->name), &added) < 0 ||
            !added) {
            snprintf(err, errlen, "schema: column %zu: bad or duplicate name, or no kind", i + 1);
            goto fail;
        }
        const char *ks = json_object_get_string(kind);
        int64_t index = 0;
        if (strcmp(ks, "label") == 0) {
            c->kind = SCHEMA_LABEL;
            nlabelcols++;
            if (strcmp(c->name, s->label_name) != 0) {
                snprintf(err, errlen, "schema: label column name mismatch");
                goto fail;
            }
        } else if (strcmp(ks, "id") == 0) {
            c->kind = SCHEMA_ID;
            if (!s->id_name || strcmp(c->name, s->id_name) != 0) {
                snprintf(err, errlen, "schema: id column name mismatch");
                goto fail;
            }
        } else if (strcmp(ks, "numeric") == 0) {
            int64_t cnt, miss;
            c->kind = SCHEMA_NUMERIC;
            if (jint(e, "index", 1, INT_MAX, &index) != 0 ||
                jint(e, "count", 0, INT64_MAX, &cnt) != 0 ||
                jint(e, "missing", 0, INT64_MAX, &miss) != 0 || jnum(e, "mean", &c->mean) != 0 ||
                jnum(e, "std", &c->std) != 0 || jnum(e, "min", &c->min) != 0 ||
                jnum(e, "max", &c->max) != 0 || c->std < 0 || c->min > c->max) {
                snprintf(err, errlen, "schema: column \"%s\": bad numeric statistics", c->name);
                goto fail;
            }
            c->count = (uint64_t)cnt;
            c->missing = (uint64_t)miss;
            schema_transform(c, s->scale);
            if (!isfinite(c->mul) || !isfinite(c->impute)) {
                snprintf(err, errlen, "schema: column \"%s\": statistics out of range", c->name);
                goto fail;
            }
        } else if (strcmp(ks, "text") == 0) {
            c->kind = SCHEMA_TEXT;
            json_object *v = jget(e, "values", json_type_array);
            json_object *hm = jget(e, "missing", json_type_boolean);
            json_object *ho = jget(e, "other", json_type_boolean);
            c->vocab = strset_new();
            if (!v || !hm || !ho || !c->vocab || jint(e, "index", 1, INT_MAX, &index) != 0 ||
                json_object_array_length(v) > SCHEMA_VOCAB_CAP) {
                snprintf(err, errlen, "schema: column \"%s\": bad text column", c->name);
                goto fail;
            }
            for (size_t k = 0; k < json_object_array_length(v); k++) {
                json_object *t = json_object_array_get_idx(v, k);
                if (!json_object_is_type(t, json_type_string) ||
                    strset_add(c->vocab, json_object_get_string(t),
                               (size_t)json_object_get_string_len(t), &added) < 0 ||
                    !added) {
                    snprintf(err, errlen, "schema: column \"%s\": bad value %zu", c->name, k + 1);
                    goto fail;
                }
            }
            c->has_missing = json_object_get_boolean(hm);
            c->has_other = json_object_get_boolean(ho);
        } else {
            snprintf(err, errlen, "schema: column \"%s\": unknown kind", c->name);
            goto fail;
        }
        c->index = (int)index;
    }
    if (nlabelcols != 1) {
        snprintf(err, errlen, "schema: needs exactly one label column");
        goto fail;
    }
    /* Recompute the index map; the stored one must agree. */
    int *stored = malloc((ncols + 1) * sizeof *stored);
    if (!stored) {
        snprintf(err, errlen, "schema: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ncols; i++)
        stored[i] = s->cols[i].index;
    int bad = schema_layout(s) != 0 || s->n_features != nfeat;
    for (size_t i = 0; !bad && i < ncols; i++)
        bad = stored[i] != s->cols[i].index;
    free(stored);
    if (bad) {
        snprintf(err, errlen, "schema: feature indices or n_features do not match the columns");
        goto fail;
    }
    json_object_put(o);
    return s;
fail:
    json_object_put(o);
    schema_destroy(&s);
    return NULL;
}

int schema_save(const schema_t *s, const char *path, char *err, size_t errlen) {
    char *json = schema_to_json(s);
    char *tmp = NULL;
    int fd = -1, rc = -1;
    if (!json) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    size_t pl = strlen(path);
    tmp = malloc(pl + 16);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
        goto out;
    }
    size_t len = strlen(json), done = 0;
    while (done < len) {
        ssize_t w = write(fd, json + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
            goto out;
        }
        done += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (rc != 0 && tmp && tmp[0]) unlink(tmp);
    free(tmp);
    free(json);
    return rc;
}

schema_t *schema_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    schema_t *s = NULL;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= (256u << 20)) {
                snprintf(err, errlen, "%s: larger than 256 MB", path);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    char sub[512];
    s = schema_from_json(buf, len, sub, sizeof sub);
    if (!s) snprintf(err, errlen, "%s: %s", path, sub);
out:
    fclose(f);
    free(buf);
    return s;
}

int schema_check_source(const schema_t *s, const datasrc_t *src, char *err, size_t errlen) {
    const char *file = src->file ? src->file : "data";
    char **names = NULL;
    size_t n = 0;
    int rc = -1;
    if (s->format != src->format) {
        snprintf(err, errlen, "%s: the model was trained on %s data but this file is %s", file,
                 s->format == DATA_CSV ? "CSV" : "libsvm",
                 src->format == DATA_CSV ? "CSV" : "libsvm");
        return -1;
    }
    if (s->format == DATA_LIBSVM) return 0;
    if (csvread_header(file, src->header, src->header_len, &names, &n, err, errlen) != 0) return -1;
    /* at[k]: the first file column holding schema column k, or -1. One hash
     * lookup a file column: wide files have as many columns as rows. */
    long *at = malloc((s->ncols ? s->ncols : 1) * sizeof *at);
    if (!at) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto out;
    }
    for (size_t k = 0; k < s->ncols; k++)
        at[k] = -1;
    for (size_t j = 0; j < n; j++) {
        long k = schema_column_find(s, names[j], strlen(names[j]));
        if (k < 0) continue;
        schema_kind_t kind = s->cols[k].kind;
        if (at[k] >= 0 && (kind == SCHEMA_NUMERIC || kind == SCHEMA_TEXT)) {
            /* Twice would be ambiguous: which of the two did the user mean? */
            snprintf(err, errlen, "%s:1:%zu: column \"%s\" appears twice (also column %ld)", file,
                     j + 1, names[j], at[k] + 1);
            goto out;
        }
        if (at[k] < 0) at[k] = (long)j;
    }
    for (size_t i = 0; i < s->ncols; i++) {
        const schema_col_t *c = &s->cols[i];
        if (c->kind != SCHEMA_NUMERIC && c->kind != SCHEMA_TEXT) continue;
        if (at[i] < 0) {
            snprintf(err, errlen, "%s:1: no column \"%s\", which the model was trained with", file,
                     c->name);
            goto out;
        }
    }
    rc = 0;
out:
    free(at);
    csvread_names_free(names, n);
    return rc;
}

/* --- accessors and the applier --- */

data_format_t schema_format(const schema_t *s) {
    return s->format;
}

int schema_nr_class(const schema_t *s) {
    return (int)strset_count(s->labels);
}

const char *schema_label_name(const schema_t *s, int idx) {
    if (idx < 0 || (size_t)idx >= strset_count(s->labels)) return NULL;
    return strset_get(s->labels, (size_t)idx, NULL);
}

int schema_label_value(const schema_t *s, int idx) {
    if (idx < 0 || (size_t)idx >= strset_count(s->labels)) return idx;
    return s->label_values[idx];
}

uint64_t schema_label_count(const schema_t *s, int idx) {
    if (idx < 0 || (size_t)idx >= strset_count(s->labels)) return 0;
    return s->label_counts[idx];
}

int schema_n_features(const schema_t *s) {
    return s->n_features;
}

uint64_t schema_rows(const schema_t *s) {
    return s->rows;
}

size_t schema_ncols(const schema_t *s) {
    return s->ncols;
}

long schema_column_find(const schema_t *s, const char *name, size_t len) {
    return strset_find(s->colnames, name, len);
}

schema_kind_t schema_column_kind(const schema_t *s, size_t col) {
    return s->cols[col].kind;
}

const char *schema_column_name(const schema_t *s, size_t col) {
    return s->cols[col].name;
}

int schema_label_find(const schema_t *s, const char *text, size_t len) {
    return (int)strset_find(s->labels, text, len);
}

int schema_label_find_int(const schema_t *s, int value) {
    int n = (int)strset_count(s->labels);
    for (int k = 0; k < n; k++)
        if (s->label_values[k] == value) return k;
    return -1;
}

int schema_numeric(const schema_t *s, size_t col, schema_numeric_t *out) {
    const schema_col_t *c = &s->cols[col];
    if (c->kind != SCHEMA_NUMERIC) return 0;
    *out = (schema_numeric_t){
        .index = c->index, .shift = c->shift, .mul = c->mul, .impute = c->impute};
    return 1;
}

schema_filecol_t *schema_file_columns(const schema_t *s, char *const *names, size_t n) {
    schema_filecol_t *fc = calloc(n ? n : 1, sizeof *fc);
    /* taken[k]: schema column k already has its file column (the first). */
    unsigned char *taken = calloc(s->ncols ? s->ncols : 1, 1);
    if (!fc || !taken) {
        free(fc);
        free(taken);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        long k = schema_column_find(s, names[i], strlen(names[i]));
        if (k >= 0 && taken[k]) k = -1;
        fc[i].sc = k;
        if (k < 0) continue;
        taken[k] = 1;
        fc[i].kind = s->cols[k].kind;
        fc[i].numeric = schema_numeric(s, (size_t)k, &fc[i].num);
    }
    free(taken);
    return fc;
}

int schema_text_field(const schema_t *s, size_t col, const char *text, size_t len, int *index,
                      double *value, const char *file, uint64_t line, size_t fcol, char *err,
                      size_t errlen) {
    double x;
    int kind = schema_classify(file, line, fcol, text, len, &x, 0, err, errlen);
    if (kind < 0) return -1;
    const schema_col_t *c = &s->cols[col];
    if (c->kind != SCHEMA_TEXT || kind == FIELD_MISSING || kind == FIELD_NUMBER ||
        schema_ascii(text, len))
        return schema_encode(s, col, text, len, index, value);
    /* Not ASCII: a vocabulary value was checked in training; anything else
     * is checked now. */
    size_t key = schema_text_key(text, len);
    long k = strset_find(c->vocab, text, key);
    if ((k < 0 || key != len) && schema_check_utf8(file, line, fcol, text, len, err, errlen) != 0)
        return -1;
    int nv = (int)strset_count(c->vocab);
    if (k >= 0)
        *index = c->index + (int)k;
    else if (c->has_other)
        *index = c->index + nv + c->has_missing;
    else
        return 0;
    *value = 1.0;
    return 1;
}

int schema_encode(const schema_t *s, size_t col, const char *text, size_t len, int *index,
                  double *value) {
    const schema_col_t *c = &s->cols[col];
    schema_numeric_t num;
    if (schema_numeric(s, col, &num)) {
        /* Text where training saw numbers counts as missing. */
        double x, v = num.impute;
        if (csvread_number(text, len, &x) == 0) v = (x - num.shift) * num.mul;
        if (v == 0.0) return 0;
        *index = c->index;
        *value = v;
        return 1;
    }
    if (c->kind != SCHEMA_TEXT) return 0;
    int nv = (int)strset_count(c->vocab);
    int slot;
    if (csvread_is_missing(text, len)) {
        if (!c->has_missing) return 0;
        slot = nv;
    } else {
        long k = strset_find(c->vocab, text, schema_text_key(text, len));
        if (k >= 0)
            slot = (int)k;
        else if (c->has_other)
            slot = nv + c->has_missing;
        else
            return 0;
    }
    *index = c->index + slot;
    *value = 1.0;
    return 1;
}
