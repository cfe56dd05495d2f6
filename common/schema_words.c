/* schema_words: free-text columns of the schema (bag of words): the
 * detection rule, the vocabulary fitted from merged document frequencies,
 * and the features of one field; see schema.h "free text". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema_priv.h"
#include "common/text.h"

int schema_free_text(const summary_t *all, size_t col, char *why, size_t whylen) {
    uint32_t n, distinct, longv;
    summary_sample(all, col, &n, &distinct, &longv);
    snprintf(why, whylen, "%u of %u sampled values distinct, %u of 3 words or more", distinct, n,
             longv);
    return n >= SCHEMA_DETECT_MIN && 2 * (uint64_t)distinct > n && 2 * (uint64_t)longv >= n;
}

int schema_words_idf(schema_col_t *c) {
    size_t n = c->vocab ? strset_count(c->vocab) : 0;
    free(c->idf);
    c->idf = malloc((n ? n : 1) * sizeof *c->idf);
    if (!c->idf) return -1;
    for (size_t k = 0; k < n; k++)
        c->idf[k] = log((1.0 + (double)c->docs) / (1.0 + (double)c->df[k])) + 1.0;
    return 0;
}

typedef struct cand {
    const char *t;
    size_t l;
    uint64_t df;
    uint64_t key; /* the first 8 bytes, big-endian, zero-padded */
} cand_t;

/* Byte order of two terms. Keys that differ order the terms as their bytes
 * do (a shorter term that is a prefix of the other pads with zeros, which
 * sort first); equal keys fall back to the bytes. */
static int cmp_bytes(const cand_t *x, const cand_t *y) {
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    int c = memcmp(x->t, y->t, x->l < y->l ? x->l : y->l);
    if (c) return c;
    return (x->l > y->l) - (x->l < y->l);
}

/* Most frequent first; equal counts in byte order. */
static int cmp_df(const void *a, const void *b) {
    const cand_t *x = a, *y = b;
    if (x->df != y->df) return x->df > y->df ? -1 : 1;
    return cmp_bytes(x, y);
}

static int cmp_term(const void *a, const void *b) {
    return cmp_bytes(a, b);
}

typedef struct words_cands {
    cand_t *cand;
    size_t n;
    uint64_t min_df;
} words_cands_t;

/* The terms in at least min_df rows are candidates. */
static int words_cand(void *arg, const char *t, size_t len, uint64_t df) {
    words_cands_t *wc = arg;
    if (df < wc->min_df) return 0;
    uint64_t key = 0;
    for (size_t i = 0; i < 8; i++)
        key = key << 8 | (i < len ? (unsigned char)t[i] : 0);
    wc->cand[wc->n++] = (cand_t){t, len, df, key};
    return 0;
}

int schema_fit_words(schema_col_t *c, const summary_col_t *u, uint64_t rows,
                     const schema_textopts_t *to, const char *file, char *err, size_t errlen) {
    c->kind = SCHEMA_WORDS;
    c->ngram = to->ngram == 2 ? 2 : 1;
    c->tfidf = to->tfidf ? 1 : 0;
    c->hash_bits = to->hash_bits;
    c->docs = rows;
    if (to->hash_bits > 0) return 0;
    size_t nt = u->terms ? summary_nterms(u) : 0;
    if (!u->terms) {
        snprintf(err, errlen, "%s: column \"%s\": the summary has no term counts", file, c->name);
        return -1;
    }
    words_cands_t wc = {malloc((nt ? nt : 1) * sizeof *wc.cand), 0, (uint64_t)to->min_df};
    cand_t *cand = wc.cand;
    if (!cand) goto oom;
    summary_each_term(u, words_cand, &wc);
    size_t nc = wc.n;
    if (nc == 0) {
        snprintf(err, errlen,
                 "%s: text column \"%s\": empty vocabulary: none of its %zu distinct terms is in "
                 "at least data.min_df=%d rows",
                 file, c->name, nt, to->min_df);
        free(cand);
        return -1;
    }
    /* the most frequent max_features; when all of them are kept, their
     * order by frequency is not needed */
    if (nc > (size_t)to->max_features) {
        qsort(cand, nc, sizeof *cand, cmp_df);
        nc = (size_t)to->max_features;
    }
    qsort(cand, nc, sizeof *cand, cmp_term);
    c->vocab = strset_new();
    c->df = malloc(nc * sizeof *c->df);
    if (!c->vocab || !c->df) goto oom;
    for (size_t k = 0; k < nc; k++) {
        if (strset_add(c->vocab, cand[k].t, cand[k].l, NULL) < 0) goto oom;
        c->df[k] = cand[k].df;
    }
    free(cand);
    cand = NULL;
    if (schema_words_idf(c) != 0) goto oom;
    return 0;
oom:
    free(cand);
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
}

void schema_words_free(schema_words_t *w) {
    free(w->index);
    free(w->value);
    *w = (schema_words_t){0};
}

typedef struct words_scan {
    const schema_col_t *c;
    schema_words_t *w;
} words_scan_t;

/* One term: its feature (slot within the column) appended, value 1. */
static int words_term(void *arg, const char *term, size_t len) {
    words_scan_t *ws = arg;
    const schema_col_t *c = ws->c;
    schema_words_t *w = ws->w;
    long slot;
    if (c->hash_bits > 0) {
        slot = (long)text_hash(term, len, c->hash_bits);
    } else {
        slot = strset_find(c->vocab, term, len);
        if (slot < 0) return 0; /* not in the vocabulary: ignored */
    }
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        int *ni = realloc(w->index, ncap * sizeof *ni);
        if (!ni) return -1;
        w->index = ni;
        double *nv = realloc(w->value, ncap * sizeof *nv);
        if (!nv) return -1;
        w->value = nv;
        w->cap = ncap;
    }
    w->index[w->n] = (int)slot;
    w->value[w->n++] = 1.0;
    return 0;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Counts runs of equal slots into (slot, tf) pairs, then weighs them and
 * turns slots into feature indices. */
static void words_weigh(const schema_col_t *c, schema_words_t *w) {
    if (w->n == 0) return;
    if (w->n > 32) {
        qsort(w->index, w->n, sizeof *w->index, cmp_int);
    } else { /* a short field: insertion sort, no call per comparison */
        for (size_t i = 1; i < w->n; i++) {
            int v = w->index[i];
            size_t j = i;
            for (; j > 0 && w->index[j - 1] > v; j--)
                w->index[j] = w->index[j - 1];
            w->index[j] = v;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (m && w->index[m - 1] == w->index[i]) {
            w->value[m - 1] += 1.0;
        } else {
            w->index[m] = w->index[i];
            w->value[m++] = 1.0;
        }
    }
    w->n = m;
    if (!c->tfidf) {
        for (size_t i = 0; i < m; i++)
            w->index[i] += c->index;
        return;
    }
    double sq = 0;
    for (size_t i = 0; i < m; i++) {
        double idf = c->idf ? c->idf[w->index[i]] : 1.0;
        w->value[i] = (1.0 + log(w->value[i])) * idf;
        sq += w->value[i] * w->value[i];
    }
    double norm = sqrt(sq);
    for (size_t i = 0; i < m; i++) {
        w->value[i] /= norm;
        w->index[i] += c->index;
    }
}

long schema_words_field(const schema_t *s, size_t col, const char *text, size_t len,
                        schema_words_t *w, const char *file, uint64_t line, size_t fcol, char *err,
                        size_t errlen) {
    const schema_col_t *c = &s->cols[col];
    double x;
    w->n = 0;
    int kind = schema_classify(file, line, fcol, text, len, &x, 1, err, errlen);
    if (kind < 0) return -1;
    if (kind == FIELD_MISSING || c->kind != SCHEMA_WORDS) return 0;
    words_scan_t ws = {c, w};
    if (text_terms(text, len, c->ngram, words_term, &ws) < 0) {
        snprintf(err, errlen, "%s:%llu: out of memory", file, (unsigned long long)line);
        return -1;
    }
    words_weigh(c, w);
    return (long)w->n;
}
