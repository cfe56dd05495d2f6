/* dataset: builders of dataset_t (see dataset.h).
 *
 * Rows are appended to one growable array of feature_node (the arena, a
 * bigbuf: no copies as it grows, huge pages) and ids to one growable byte
 * buffer; both are addressed by offset while growing and turned into pointers
 * at the end, so a shard costs a handful of allocations whatever its size.
 * CSV fields go through a plan worked out once per shard from the header and
 * the schema (schema_file_columns: what each file column is, and a numeric
 * column's scaling), so that a numeric field costs a number parse and a store. */
#include "common/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bigbuf.h"
#include "common/csvread.h"
#include "common/schema.h"
#include "common/svmread.h"

typedef struct dataset_store {
    bigbuf_t nodes;
    char *ids;
} dataset_store_t;

void dataset_destroy(dataset_t **pd) {
    if (!pd || !*pd) return;
    dataset_t *d = *pd;
    dataset_store_t *st = d->storage;
    if (st) {
        bigbuf_free(&st->nodes);
        free(st->ids);
        free(st);
    }
    free(d->x);
    free(d->y);
    free(d->ids);
    free(d);
    *pd = NULL;
}

typedef struct ds_build {
    const schema_t *s;
    const char *file;
    double bias;
    int n_features;
    /* nodes */
    bigbuf_t arena;
    struct feature_node *nodes; /* arena.p */
    size_t nn, ncap;
    size_t row_begin; /* node offset where the current row begins */
    int sorted;       /* current row's indices ascending so far */
    /* rows */
    size_t *row_off;
    int *y;
    size_t *id_off;
    size_t rows, rcap;
    /* ids */
    char *ids;
    size_t idlen, idcap;
    /* CSV: what to do with each file column */
    schema_filecol_t *plan;
    long id_col; /* file column holding the id, or -1 */
    int has_id;
    int cur_y;
    size_t cur_id;
    int oom;
    schema_words_t words; /* a free-text field's features */
} ds_build_t;

/* Room for at least n nodes in the arena. */
static int ds_reserve(ds_build_t *b, size_t n) {
    if (n > SIZE_MAX / sizeof *b->nodes || bigbuf_reserve(&b->arena, n * sizeof *b->nodes) != 0)
        return -1;
    b->nodes = b->arena.p;
    b->ncap = b->arena.cap / sizeof *b->nodes;
    return 0;
}

static inline int ds_node(ds_build_t *b, int index, double value) {
    if (b->nn == b->ncap && ds_reserve(b, b->nn + 1) != 0) return -1;
    if (b->nn > b->row_begin && b->nodes[b->nn - 1].index >= index) b->sorted = 0;
    b->nodes[b->nn].index = index;
    b->nodes[b->nn].value = value;
    b->nn++;
    return 0;
}

static int ds_cmp_node(const void *a, const void *b) {
    int ia = ((const struct feature_node *)a)->index, ib = ((const struct feature_node *)b)->index;
    return (ia > ib) - (ia < ib);
}

/* Ends the current row: order, bias, terminator, y and id. */
static int ds_row_end(ds_build_t *b, int y, size_t id_off) {
    if (!b->sorted)
        qsort(b->nodes + b->row_begin, b->nn - b->row_begin, sizeof *b->nodes, ds_cmp_node);
    if (b->bias >= 0 && ds_node(b, b->n_features + 1, b->bias) != 0) return -1;
    if (ds_node(b, -1, 0.0) != 0) return -1;
    if (b->rows == b->rcap) {
        size_t ncap = b->rcap ? b->rcap * 2 : 1024;
        size_t *no = realloc(b->row_off, ncap * sizeof *no);
        if (!no) return -1;
        b->row_off = no;
        int *ny = realloc(b->y, ncap * sizeof *ny);
        if (!ny) return -1;
        b->y = ny;
        size_t *ni = realloc(b->id_off, ncap * sizeof *ni);
        if (!ni) return -1;
        b->id_off = ni;
        b->rcap = ncap;
    }
    b->row_off[b->rows] = b->row_begin;
    b->y[b->rows] = y;
    b->id_off[b->rows] = id_off;
    b->rows++;
    b->row_begin = b->nn;
    b->sorted = 1;
    return 0;
}

static int ds_id(ds_build_t *b, const char *t, size_t l) {
    if (l + 1 > b->idcap - b->idlen) {
        size_t ncap = b->idcap ? b->idcap : 4096;
        while (l + 1 > ncap - b->idlen)
            ncap *= 2;
        char *ni = realloc(b->ids, ncap);
        if (!ni) return -1;
        b->ids = ni;
        b->idcap = ncap;
    }
    b->cur_id = b->idlen;
    memcpy(b->ids + b->idlen, t, l);
    b->ids[b->idlen + l] = '\0';
    b->idlen += l + 1;
    return 0;
}

static int ds_oom(ds_build_t *b, uint64_t line, char *err, size_t errlen) {
    snprintf(err, errlen, "%s:%llu: out of memory", b->file, (unsigned long long)line);
    return -1;
}

static int ds_csv_field(void *ctx, size_t col, const char *text, size_t len, uint64_t line,
                        char *err, size_t errlen) {
    ds_build_t *b = ctx;
    const schema_filecol_t *c = &b->plan[col];
    if ((long)col == b->id_col && ds_id(b, text, len) != 0) return ds_oom(b, line, err, errlen);
    if (c->numeric) {
        double v;
        if (schema_numeric_field(&c->num, text, len, &v, b->file, line, col, err, errlen) != 0)
            return -1;
        if (v != 0.0 && ds_node(b, c->num.index, v) != 0) return ds_oom(b, line, err, errlen);
    } else if (c->sc < 0) {
        return 0;
    } else if (c->kind == SCHEMA_LABEL) {
        if (!csvread_is_missing(text, len) &&
            schema_check_label(b->file, line, col, text, len, err, errlen) != 0)
            return -1;
        b->cur_y = schema_label_find(b->s, text, len);
    } else if (c->kind == SCHEMA_TEXT) {
        int index;
        double value;
        int got = schema_text_field(b->s, (size_t)c->sc, text, len, &index, &value, b->file, line,
                                    col, err, errlen);
        if (got < 0) return -1;
        if (got && ds_node(b, index, value) != 0) return ds_oom(b, line, err, errlen);
    } else if (c->kind == SCHEMA_WORDS) {
        long n = schema_words_field(b->s, (size_t)c->sc, text, len, &b->words, b->file, line, col,
                                    err, errlen);
        if (n < 0) return -1;
        for (long i = 0; i < n; i++)
            if (ds_node(b, b->words.index[i], b->words.value[i]) != 0)
                return ds_oom(b, line, err, errlen);
    }
    return 0;
}

static int ds_csv_record(void *ctx, size_t nfields, uint64_t line, char *err, size_t errlen) {
    ds_build_t *b = ctx;
    if (ds_row_end(b, b->cur_y, b->cur_id) != 0) return ds_oom(b, line, err, errlen);
    b->cur_y = -1;
    b->cur_id = 0;
    return 0;
}

static int ds_svm_row(void *ctx, int label, const struct feature_node *x, size_t n, uint64_t line,
                      char *err, size_t errlen) {
    ds_build_t *b = ctx;
    for (size_t i = 0; i < n; i++) {
        if (x[i].index > b->n_features) break; /* ascending: the rest are past it too */
        if (ds_node(b, x[i].index, x[i].value) != 0) return ds_oom(b, line, err, errlen);
    }
    if (ds_row_end(b, schema_label_find_int(b->s, label), 0) != 0)
        return ds_oom(b, line, err, errlen);
    return 0;
}

/* The CSV half of the parse: map the file's columns onto the schema, find
 * the id column, then read every record into b. */
static int ds_parse_csv(ds_build_t *b, const datasrc_t *src, const char *bytes, size_t len,
                        uint64_t first_line, char *err, size_t errlen) {
    char **names = NULL;
    size_t ncols = 0;
    int rc = -1;
    if (csvread_header(b->file, src->header, src->header_len, &names, &ncols, err, errlen) != 0)
        goto out;
    b->plan = schema_file_columns(b->s, names, ncols);
    if (!b->plan) {
        ds_oom(b, first_line, err, errlen);
        goto out;
    }
    /* The id column of this job's source, whether or not the training
     * file had one. */
    for (size_t i = 0; i < ncols && b->id_col < 0; i++)
        if ((src->id && strcmp(names[i], src->id) == 0) ||
            (b->plan[i].sc >= 0 && b->plan[i].kind == SCHEMA_ID)) {
            b->id_col = (long)i;
            b->has_id = 1;
        }
    csvread_cb_t cb = {.field = ds_csv_field, .record = ds_csv_record};
    if (csvread_parse(b->file, bytes, len, first_line, ncols, &cb, b, err, errlen) != 0) goto out;
    rc = 0;
out:
    csvread_names_free(names, ncols);
    return rc;
}

/* Moves what b built (arena, ids, labels) into a new dataset_t; b keeps only
 * what it still owns, which the caller frees either way. */
static int ds_assemble(ds_build_t *b, uint64_t first_row, uint64_t first_line, double bias,
                       dataset_t **out, char *err, size_t errlen) {
    dataset_t *d = calloc(1, sizeof *d);
    dataset_store_t *st = calloc(1, sizeof *st);
    int rc = -1;
    if (!d || !st || !(d->x = malloc((b->rows ? b->rows : 1) * sizeof *d->x))) {
        ds_oom(b, first_line, err, errlen);
        goto out;
    }
    d->storage = st;
    bigbuf_trim(&b->arena, b->nn * sizeof *b->nodes);
    st->nodes = b->arena;
    b->arena = (bigbuf_t){0};
    b->nodes = NULL;
    st->ids = b->ids;
    b->ids = NULL;
    st = NULL;
    for (size_t i = 0; i < b->rows; i++)
        d->x[i] = (struct feature_node *)((dataset_store_t *)d->storage)->nodes.p + b->row_off[i];
    d->y = b->y;
    b->y = NULL;
    if (!d->y && !(d->y = malloc(sizeof *d->y))) {
        ds_oom(b, first_line, err, errlen);
        goto out;
    }
    if (b->has_id) {
        d->ids = malloc((b->rows ? b->rows : 1) * sizeof *d->ids);
        if (!d->ids) {
            ds_oom(b, first_line, err, errlen);
            goto out;
        }
        for (size_t i = 0; i < b->rows; i++)
            d->ids[i] = ((dataset_store_t *)d->storage)->ids + b->id_off[i];
    }
    d->rows = b->rows;
    d->bias = bias >= 0 ? bias : -1;
    d->n = b->n_features + (bias >= 0 ? 1 : 0);
    d->first_row = first_row;
    *out = d;
    d = NULL;
    rc = 0;
out:
    free(st);
    dataset_destroy(&d);
    return rc;
}

int dataset_from_shard(const schema_t *s, const datasrc_t *src, const char *bytes, size_t len,
                       uint64_t first_row, uint64_t first_line, double bias, dataset_t **out,
                       char *err, size_t errlen) {
    ds_build_t b = {.s = s, .bias = bias, .sorted = 1, .cur_y = -1, .id_col = -1};
    int rc = -1;
    b.file = src->file ? src->file : "data";
    b.n_features = schema_n_features(s);
    *out = NULL;
    if (schema_check_source(s, src, err, errlen) != 0) goto out;
    /* A first guess that fits most data (16-byte nodes for fields of 8 bytes
     * or more, sparse rows with zeros left out); the arena doubles if not. */
    if (ds_reserve(&b, len / 8 + 64) != 0) {
        ds_oom(&b, first_line, err, errlen);
        goto out;
    }
    if (src->format == DATA_LIBSVM) {
        if (svmread_parse(b.file, bytes, len, first_line, ds_svm_row, &b, err, errlen) != 0)
            goto out;
    } else if (ds_parse_csv(&b, src, bytes, len, first_line, err, errlen) != 0) {
        goto out;
    }
    rc = ds_assemble(&b, first_row, first_line, bias, out, err, errlen);
out:
    free(b.plan);
    schema_words_free(&b.words);
    bigbuf_free(&b.arena);
    free(b.row_off);
    free(b.y);
    free(b.id_off);
    free(b.ids);
    return rc;
}
