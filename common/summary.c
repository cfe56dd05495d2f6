/* summary: see summary.h. */
#include "common/summary.h"

#include "common/sortint.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/csvread.h"
#include "common/schema_priv.h"
#include "common/strset.h"
#include "common/svmread.h"
#include "common/text.h"
#include "common/hash.h"
#include "common/suggest.h"
#include "common/utf8.h"

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
        for (uint32_t i = 0; i < s->ncols; i++) {
            summary_col_t *c = &s->cols[i];
            strset_destroy(&c->vocab);
            strset_destroy(&c->terms);
            free(c->sample);
            free(c->packed);
        }
    free(s->cols);
    strset_destroy(&s->labels);
    free(s->label_counts);
    free(s);
    *ps = NULL;
}

uint64_t summary_rows(const summary_t *s) {
    return s->rows;
}

void summary_sample(const summary_t *s, size_t col, uint32_t *sampled, uint32_t *distinct,
                    uint32_t *long_values) {
    const summary_col_t *c = &s->cols[col];
    uint64_t v[SUMMARY_SAMPLE];
    uint32_t n = c->nsample, d = 0, l = 0;
    if (n) {
        memcpy(v, c->sample, n * sizeof *v);
        sort_u64(v, n);
    }
    for (uint32_t k = 0; k < n; k++) {
        if (k == 0 || v[k] != v[k - 1]) d++;
        l += (uint32_t)(v[k] & 1);
    }
    *sampled = n;
    *distinct = d;
    *long_values = l;
}

/* Makes column c a free-text column (terms counted); -1 when out of memory. */
static int summary_words(summary_col_t *c) {
    c->words = 1;
    if (!c->terms) c->terms = strset_new_vals(sizeof(summary_term_t));
    return c->terms ? 0 : -1;
}

/* Terms are counted a few terms after the tokenizer hands them over: each
 * term's table slot is prefetched when it arrives, its record SUM_AHEAD / 2
 * terms later, and it is counted SUM_AHEAD terms later, in order. A
 * column's term table is megabytes, so nearly every rare term misses the
 * cache; this way the misses of consecutive terms overlap. */
#define SUM_RING 32  /* terms in flight at most; a power of two */
#define SUM_AHEAD 16 /* < SUM_RING */

typedef struct sum_batch {
    summary_col_t *c;  /* whose terms are in flight */
    uint64_t line;     /* of the field being tokenized */
    size_t next, done; /* terms handed over, terms counted */
    uint32_t len[SUM_RING], hash[SUM_RING];
    uint64_t lines[SUM_RING];
    char bytes[SUM_RING][TEXT_TERM_MAX];
} sum_batch_t;

/* Counts term i of the ring; -1 when out of memory. */
static int sum_batch_count(sum_batch_t *b, size_t i) {
    size_t r = i & (SUM_RING - 1);
    summary_term_t *v = strset_add_hashed(b->c->terms, b->bytes[r], b->len[r], b->hash[r], NULL);
    if (!v) return -1;
    /* once per row: the stamp is the row's line, never 0 */
    v->df += v->last != b->lines[r];
    v->last = b->lines[r];
    return 0;
}

/* Counts every term in flight; -1 when out of memory. */
static int sum_batch_flush(sum_batch_t *b) {
    for (size_t i = b->done; i < b->next; i++)
        strset_prefetch_rec(b->c->terms, b->hash[i & (SUM_RING - 1)]);
    for (; b->done < b->next; b->done++)
        if (sum_batch_count(b, b->done) != 0) return -1;
    return 0;
}

/* memcpy() of a term without a library call for the short ones (most
 * words): two overlapping loads cover 4 to 16 bytes; no byte outside the
 * term is read. */
static inline void sum_copy(char *dst, const char *src, size_t len) {
    uint64_t a, z;
    uint32_t c, y;
    if (len >= 8 && len <= 16) {
        memcpy(&a, src, 8);
        memcpy(&z, src + len - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + len - 8, &z, 8);
    } else if (len >= 4 && len < 8) {
        memcpy(&c, src, 4);
        memcpy(&y, src + len - 4, 4);
        memcpy(dst, &c, 4);
        memcpy(dst + len - 4, &y, 4);
    } else if (len < 4) {
        for (size_t k = 0; k < len; k++)
            dst[k] = src[k];
    } else {
        memcpy(dst, src, len);
    }
}

static int sum_term(void *arg, const char *term, size_t len) {
    sum_batch_t *b = arg;
    size_t i = b->next++, r = i & (SUM_RING - 1);
    sum_copy(b->bytes[r], term, len);
    b->len[r] = (uint32_t)len;
    b->hash[r] = strset_hash(term, len);
    b->lines[r] = b->line;
    strset_t *terms = b->c->terms;
    strset_prefetch(terms, b->hash[r]);
    if (i - b->done >= SUM_AHEAD / 2)
        strset_prefetch_rec(terms, b->hash[(i - SUM_AHEAD / 2) & (SUM_RING - 1)]);
    if (i - b->done >= SUM_AHEAD) return sum_batch_count(b, b->done++);
    return 0;
}

/* The free-text part of a non-missing field: its terms' df, and the
 * detection sample. -1 when out of memory. */
static int sum_text(summary_t *s, sum_batch_t *b, summary_col_t *sc, int kind, const char *text,
                    size_t len, uint64_t line) {
    if (sc->terms) {
        if (b->c != sc && sum_batch_flush(b) != 0) return -1;
        b->c = sc;
        b->line = line;
        if (text_terms(text, len, s->ngram, sum_term, b) < 0) return -1;
    }
    if (kind == FIELD_TEXT && s->detect && !sc->words && sc->nsample < SUMMARY_SAMPLE) {
        /* allocated on a column's first text value: numeric columns, most
         * columns of a wide file, never need one */
        if (!sc->sample) {
            if (!(sc->sample = malloc(SUMMARY_SAMPLE * sizeof *sc->sample))) return -1;
            sc->samplecap = SUMMARY_SAMPLE;
        }
        long words = text_terms(text, len, 1, NULL, NULL);
        sc->sample[sc->nsample++] = (hash_fnv1a(text, len) & ~UINT64_C(1)) | (words >= 3);
    }
    return 0;
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

long schema_name_index(char **names, size_t n, const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return (long)i;
    return -1;
}

typedef struct sum_ctx {
    summary_t *s;
    const char *file;
    const char *label_name;
    int label_missing;
    sum_batch_t batch;
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
    if ((sc->terms || (s->detect && kind == FIELD_TEXT)) &&
        sum_text(s, &c->batch, sc, kind, text, len, line) != 0) {
        snprintf(err, errlen, "%s:%llu: out of memory", c->file, (unsigned long long)line);
        return -1;
    }
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
        if (sum_batch_flush(&b->c->batch) != 0 && bad_row == SIZE_MAX) {
            snprintf(err, errlen, "%s: out of memory", b->c->file);
            bad_row = 0;
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

/* Marks the columns named in src->text as free text (their terms counted
 * when src->count_terms) and notes whether the others are sampled for
 * detection. A name that is not a column, or that is the label or the id, is
 * an error. */
static int summary_text_columns(summary_t *s, const datasrc_t *src, char **names, size_t n,
                                const char *file, char *err, size_t errlen) {
    for (const char *p = src->text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        long k = -1;
        for (size_t i = 0; i < n && k < 0; i++)
            if (strlen(names[i]) == l && memcmp(names[i], p, l) == 0) k = (long)i;
        if (k < 0 || (uint32_t)k == s->label_col || (uint32_t)k == s->id_col) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(l < sizeof name - 1 ? l : sizeof name - 1),
                     p);
            if (k < 0)
                suggest_no_column(file, "text", name, names, n, err, errlen);
            else
                snprintf(err, errlen, "%s:1: text column \"%s\" is the %s column", file, name,
                         (uint32_t)k == s->label_col ? "label" : "id");
            return -1;
        }
        if (src->count_terms && summary_words(&s->cols[k]) != 0) goto oom;
        s->cols[k].words = 1;
        p = nl ? nl + 1 : p + l;
    }
    s->detect = src->detect != 0;
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
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
        suggest_no_column(file, "label", src->label ? src->label : "", names, n, err, errlen);
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
    s->ngram = src->ngram == 2 ? 2 : 1;
    if (summary_text_columns(s, src, names, n, file, err, errlen) != 0) goto fail;
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

/* The next packed term at p (checked by the decoder): its bytes, length and
 * df; returns the byte after it. */
static const uint8_t *packed_next(const uint8_t *p, const char **t, size_t *len, uint64_t *df) {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80)) break;
    }
    *t = (const char *)p;
    *len = (size_t)v;
    p += v;
    v = 0;
    for (unsigned shift = 0;; shift += 7) {
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80)) break;
    }
    *df = v;
    return p;
}

int summary_each_term(const summary_col_t *c, summary_term_fn fn, void *arg) {
    const uint8_t *p = c->packed;
    for (uint32_t k = 0; k < c->npacked; k++) {
        const char *t;
        size_t l;
        uint64_t df;
        p = packed_next(p, &t, &l, &df);
        int rc = fn(arg, t, l, df);
        if (rc) return rc;
    }
    for (size_t k = 0; c->terms && k < strset_count(c->terms); k++) {
        size_t l;
        const char *t = strset_get(c->terms, k, &l);
        int rc = fn(arg, t, l, ((const summary_term_t *)strset_val(c->terms, k))->df);
        if (rc) return rc;
    }
    return 0;
}

size_t summary_nterms(const summary_col_t *c) {
    return c->npacked + (c->terms ? strset_count(c->terms) : 0);
}

/* Puts a decoded column's packed terms into its table (a merge is about to
 * add to it); -1 when out of memory. */
static int summary_unpack(summary_col_t *c) {
    const uint8_t *p = c->packed;
    if (strset_reserve(c->terms, c->npacked) != 0) return -1;
    for (uint32_t k = 0; k < c->npacked; k++) {
        const char *t;
        size_t l;
        uint64_t df;
        p = packed_next(p, &t, &l, &df);
        summary_term_t *v = strset_add_val(c->terms, t, l, NULL);
        if (!v) return -1;
        v->df += df;
    }
    free(c->packed);
    c->packed = NULL;
    c->packed_len = 0;
    c->npacked = 0;
    return 0;
}

/* Adds b's packed terms to a's table, in order. Each term is read
 * SUM_AHEAD terms before it is added: its slot in a is prefetched then and
 * its record halfway, so that the cache misses of a's table overlap. */
static int summary_merge_packed(summary_col_t *a, const summary_col_t *b) {
    struct {
        const char *t;
        size_t len;
        uint64_t df;
        unsigned hash;
    } ring[SUM_RING];
    const uint8_t *p = b->packed;
    size_t n = b->npacked;
    for (size_t k = 0; k < n + SUM_AHEAD; k++) {
        if (k < n) {
            size_t r = k & (SUM_RING - 1);
            p = packed_next(p, &ring[r].t, &ring[r].len, &ring[r].df);
            ring[r].hash = strset_hash(ring[r].t, ring[r].len);
            strset_prefetch(a->terms, ring[r].hash);
        }
        if (k >= SUM_AHEAD / 2 && k - SUM_AHEAD / 2 < n)
            strset_prefetch_rec(a->terms, ring[(k - SUM_AHEAD / 2) & (SUM_RING - 1)].hash);
        if (k >= SUM_AHEAD) {
            size_t r = (k - SUM_AHEAD) & (SUM_RING - 1);
            summary_term_t *v =
                strset_add_hashed(a->terms, ring[r].t, ring[r].len, ring[r].hash, NULL);
            if (!v) return -1;
            v->df += ring[r].df;
        }
    }
    return 0;
}

/* The sample of the concatenation is ours, then from's first values; terms
 * add their df. */
static int summary_merge_text(summary_col_t *a, const summary_col_t *b) {
    if (a->words != b->words || (a->terms != NULL) != (b->terms != NULL)) return -1;
    if (b->nsample && a->nsample < SUMMARY_SAMPLE && a->samplecap < SUMMARY_SAMPLE) {
        /* a decoded sample has room for its own values only */
        uint64_t *ns = realloc(a->sample, SUMMARY_SAMPLE * sizeof *ns);
        if (!ns) return -1;
        a->sample = ns;
        a->samplecap = SUMMARY_SAMPLE;
    }
    for (uint32_t k = 0; k < b->nsample && a->nsample < SUMMARY_SAMPLE; k++)
        a->sample[a->nsample++] = b->sample[k];
    if (a->npacked && summary_unpack(a) != 0) return -1;
    if (b->npacked) return summary_merge_packed(a, b);
    /* a's table is megabytes: start loading a slot 16 terms ahead and its
     * record 8 ahead, so that the cache misses overlap */
    size_t nb = b->terms ? strset_count(b->terms) : 0;
    for (size_t k = 0; k < nb && k < 8; k++)
        strset_prefetch(a->terms, strset_hash_at(b->terms, k));
    for (size_t k = 0; k < nb; k++) {
        if (k + 16 < nb) strset_prefetch(a->terms, strset_hash_at(b->terms, k + 16));
        if (k + 8 < nb) strset_prefetch_rec(a->terms, strset_hash_at(b->terms, k + 8));
        summary_term_t *v = strset_add_from(a->terms, b->terms, k, NULL);
        if (!v) return -1;
        v->df += ((const summary_term_t *)strset_val(b->terms, k))->df;
    }
    return 0;
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
        if (summary_merge_text(a, b) != 0) return -1;
    }
    return 0;
}

/* --- summary wire format: see summary.h --- */

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

/* Bytes of v as a varint: 7 bits a byte, low first, high bit = more. */
static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *varint_put(uint8_t *q, uint64_t v) {
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q++ = (uint8_t)v;
    return q;
}

/* A varint of at most 10 bytes whose value fits in 64 bits; bad set
 * otherwise. */
static uint64_t rb_varint(bufrd_t *r) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && r->pos < r->len; shift += 7) {
        uint8_t b = r->p[r->pos++];
        if (shift == 63 && b > 1) break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = true;
    return 0;
}

/* The term list: most terms are short and rare, so lengths and counts go
 * as varints (10 bytes a term instead of 20 on text). */
static void wb_terms(buf_t *w, const summary_col_t *c) {
    const strset_t *ss = c->terms;
    if (c->npacked) { /* as they came */
        buf_put_u32(w, c->npacked);
        buf_put(w, c->packed, c->packed_len);
        return;
    }
    size_t n = strset_count(ss), total = 0;
    buf_put_u32(w, (uint32_t)n);
    for (size_t k = 0; k < n; k++) {
        size_t l;
        strset_get(ss, k, &l);
        total += varint_len(l) + l + varint_len(((const summary_term_t *)strset_val(ss, k))->df);
    }
    uint8_t *q = buf_extend(w, total);
    for (size_t k = 0; q && k < n; k++) {
        size_t l;
        const char *t = strset_get(ss, k, &l);
        q = varint_put(q, l);
        memcpy(q, t, l);
        q = varint_put(q + l, ((const summary_term_t *)strset_val(ss, k))->df);
    }
}

int summary_encode(const summary_t *s, char **buf, size_t *len) {
    buf_t w = {0};
    unsigned char head[8] = {'N', 'C', 'S', '3', (unsigned char)s->format, 0, 0, 0};
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
        buf_put_u32(&w, c->nsample);
        for (uint32_t k = 0; k < c->nsample; k++)
            buf_put_u64(&w, c->sample[k]);
        unsigned char words = c->terms ? 2 : c->words ? 1 : 0;
        buf_put(&w, &words, 1);
        if (c->terms) wb_terms(&w, c);
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

/* Checks nt packed terms at r: 1..TEXT_TERM_MAX bytes of UTF-8 each, each
 * once, df 1..rows. The check for repeats is a table of its own, freed
 * here: the terms stay packed (see schema_priv.h). */
static int rb_terms(bufrd_t *r, uint32_t nt, uint64_t rows) {
    size_t tsize = 16;
    while (tsize < (size_t)nt * 2)
        tsize *= 2;
    /* slot: hash << 32 | (offset of the term in r + 1) */
    uint64_t *tab = nt ? calloc(tsize, sizeof *tab) : NULL;
    int rc = -1;
    if (nt && !tab) return -1;
    for (uint32_t k = 0; k < nt; k++) {
        size_t at = r->pos;
        uint64_t l = rb_varint(r);
        const unsigned char *t = l >= 1 && l <= TEXT_TERM_MAX ? bufrd_take(r, l) : NULL;
        uint64_t df = rb_varint(r);
        if (!t || r->bad || df < 1 || df > rows || !utf8_check((const char *)t, l, NULL) ||
            r->pos > UINT32_MAX)
            goto out;
        unsigned h = strset_hash((const char *)t, l);
        size_t i = h & (tsize - 1);
        for (; tab[i]; i = (i + 1) & (tsize - 1)) {
            if ((unsigned)(tab[i] >> 32) != h) continue;
            const char *u;
            size_t ul;
            uint64_t udf;
            packed_next(r->p + (tab[i] & 0xffffffffu) - 1, &u, &ul, &udf);
            if (ul == l && memcmp(u, t, l) == 0) goto out;
        }
        tab[i] = ((uint64_t)h << 32) | (uint64_t)(at + 1);
    }
    rc = 0;
out:
    free(tab);
    return rc;
}

/* A column's sample and terms: at most SUMMARY_SAMPLE values, no more than
 * rows; terms of 1..TEXT_TERM_MAX bytes of UTF-8, each once, df 1..rows. */
static int rb_text(bufrd_t *r, summary_col_t *c, uint64_t rows) {
    uint32_t n = bufrd_u32(r);
    if (r->bad || n > SUMMARY_SAMPLE || n > rows || n > bufrd_left(r) / 8) return -1;
    /* room for these only: a merge grows it (a shard's sample is ~90 bytes
     * on the wire, most of them never merged into) */
    if (n && !(c->sample = malloc(n * sizeof *c->sample))) return -1;
    c->samplecap = n;
    for (uint32_t k = 0; k < n; k++)
        c->sample[k] = bufrd_u64(r);
    c->nsample = n;
    const unsigned char *words = bufrd_take(r, 1);
    if (!words || *words > 2) return -1;
    c->words = *words > 0;
    if (*words < 2) return 0;
    if (summary_words(c) != 0) return -1;
    uint32_t nt = bufrd_u32(r);
    /* each term takes at least 3 bytes: bound the count by what is left */
    if (r->bad || nt > bufrd_left(r) / 3) return -1;
    size_t start = r->pos;
    if (rb_terms(r, nt, rows) != 0) return -1;
    if (nt && !(c->packed = malloc(r->pos - start))) return -1;
    if (nt) memcpy(c->packed, r->p + start, r->pos - start);
    c->packed_len = r->pos - start;
    c->npacked = nt;
    return 0;
}

summary_t *summary_decode(const void *buf, size_t len, char *err, size_t errlen) {
    bufrd_t r = bufrd_init(buf, len);
    summary_t *s = NULL;
    const unsigned char *head = bufrd_take(&r, 8);
    if (!head || memcmp(head, "NCS3", 4) != 0 || head[4] > DATA_LIBSVM) {
        snprintf(err, errlen, "summary: bad magic or format");
        goto fail;
    }
    uint64_t rows = bufrd_u64(&r);
    uint32_t ncols = bufrd_u32(&r), label_col = bufrd_u32(&r), id_col = bufrd_u32(&r);
    uint32_t max_index = bufrd_u32(&r);
    data_format_t fmt = head[4];
    /* Each column takes at least 81 bytes: bound ncols by what was received. */
    if (r.bad || ncols > SCHEMA_MAX_COLS || ncols > bufrd_left(&r) / 81 ||
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
        if (rb_text(&r, c, rows) != 0) {
            snprintf(err, errlen, "summary: bad free-text part of column %u", i + 1);
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
