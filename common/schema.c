/* schema: see schema.h. */
#include "common/schema.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csvread.h"
#include "common/schema_priv.h"
#include "common/suggest.h"
#include "common/strset.h"

void schema_destroy(schema_t **ps) {
    if (!ps || !*ps) return;
    schema_t *s = *ps;
    for (size_t i = 0; s->cols && i < s->ncols; i++) {
        free(s->cols[i].name);
        strset_destroy(&s->cols[i].vocab);
        free(s->cols[i].df);
        free(s->cols[i].idf);
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

schema_t *schema_alloc(data_format_t format, size_t ncols) {
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

int schema_parse_scale(const char *scale) {
    if (!scale || strcmp(scale, "standard") == 0) return SCALE_STANDARD;
    if (strcmp(scale, "minmax") == 0) return SCALE_MINMAX;
    if (strcmp(scale, "none") == 0) return SCALE_NONE;
    return -1;
}

/* Fills shift, mul and impute of a numeric column from its statistics. */
void schema_transform(schema_col_t *c, int scale) {
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
int schema_layout(schema_t *s) {
    long long next = 1;
    for (int words = 0; words < 2; words++)
        for (size_t i = 0; i < s->ncols; i++) {
            schema_col_t *c = &s->cols[i];
            if ((c->kind == SCHEMA_WORDS) != words) continue;
            if (c->kind == SCHEMA_NUMERIC)
                c->width = 1;
            else if (c->kind == SCHEMA_TEXT)
                c->width = (int)strset_count(c->vocab) + c->has_missing + c->has_other;
            else if (c->kind == SCHEMA_WORDS)
                c->width = c->hash_bits > 0 ? 1 << c->hash_bits : (int)strset_count(c->vocab);
            else
                c->width = 0;
            c->index = c->width ? (int)next : 0;
            next += c->width;
            if (next > INT_MAX - 2) return -1;
        }
    s->n_features = (int)(next - 1);
    return 0;
}

/* Column i of the schema from its summary: its kind and, for a text column,
 * the vocabulary, for a numeric one the statistics and the transform.
 * -1 when out of memory. */
static int schema_fit_column(schema_col_t *c, size_t i, const summary_t *all, int scale) {
    const summary_col_t *u = &all->cols[i];
    if (i == all->label_col) {
        c->kind = SCHEMA_LABEL;
    } else if (i == all->id_col) {
        c->kind = SCHEMA_ID;
    } else if (u->text > 0) {
        c->kind = SCHEMA_TEXT;
        c->vocab = strset_new();
        if (!c->vocab) return -1;
        for (size_t k = 0; k < strset_count(u->vocab); k++) {
            size_t l;
            const char *t = strset_get(u->vocab, k, &l);
            if (strset_add(c->vocab, t, l, NULL) < 0) return -1;
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
        schema_transform(c, scale);
    }
    return 0;
}

schema_t *schema_fit(const summary_t *all, const datasrc_t *src, const char *scale, char *err,
                     size_t errlen) {
    return schema_fit_text(all, src, scale, NULL, err, errlen);
}

/* True when name is one of the '\n'-ended names of list. */
static int schema_in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0) return 1;
        p = nl ? nl + 1 : p + l;
    }
    return 0;
}

/* Every column of s (names taken over, one by one) from the summary: its
 * name, kind and what the kind needs. -1 with err set. */
static int schema_fit_columns(schema_t *s, char **names, const summary_t *all, const datasrc_t *src,
                              int sc, const schema_textopts_t *to, const char *file, char *err,
                              size_t errlen) {
    for (size_t i = 0; i < s->ncols; i++) {
        schema_col_t *c = &s->cols[i];
        int added;
        if (strset_add(s->colnames, names[i], strlen(names[i]), &added) < 0) goto oom;
        if (!added) {
            snprintf(err, errlen, "%s:1:%zu: duplicate column name \"%s\"", file, i + 1, names[i]);
            return -1;
        }
        c->name = names[i];
        names[i] = NULL;
        if (i != all->label_col && i != all->id_col && schema_in_list(src->text, c->name)) {
            if (schema_fit_words(c, &all->cols[i], all->rows, to, file, err, errlen) != 0)
                return -1;
        } else if (schema_fit_column(c, i, all, sc) != 0) {
            goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
}

schema_t *schema_fit_text(const summary_t *all, const datasrc_t *src, const char *scale,
                          const schema_textopts_t *to, char *err, size_t errlen) {
    schema_t *s = NULL;
    const schema_textopts_t defaults = SCHEMA_TEXTOPTS_DEFAULT;
    if (!to) to = &defaults;
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
    if (schema_fit_columns(s, names, all, src, sc, to, file, err, errlen) != 0) goto fail;
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
        if (at[k] >= 0 && (kind == SCHEMA_NUMERIC || kind == SCHEMA_TEXT || kind == SCHEMA_WORDS)) {
            /* Twice would be ambiguous: which of the two did the user mean? */
            snprintf(err, errlen, "%s:1:%zu: column \"%s\" appears twice (also column %ld)", file,
                     j + 1, names[j], at[k] + 1);
            goto out;
        }
        if (at[k] < 0) at[k] = (long)j;
    }
    for (size_t i = 0; i < s->ncols; i++) {
        const schema_col_t *c = &s->cols[i];
        if (c->kind != SCHEMA_NUMERIC && c->kind != SCHEMA_TEXT && c->kind != SCHEMA_WORDS)
            continue;
        if (at[i] < 0) {
            const char *close = suggest_closest(names, n, c->name);
            snprintf(err, errlen, "%s:1: no column \"%s\", which the model was trained with%s%s%s",
                     file, c->name, close ? " (did you mean \"" : "", close ? close : "",
                     close ? "\"?)" : "");
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
