/* schema_json: the schema as a JSON file (save, load, and the text
 * between); see schema.h. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/jsonx.h"
#include "common/schema_priv.h"
#include "common/strset.h"
#include "common/text.h"

static const char *const scale_names[] = {"standard", "minmax", "none"};
static const char *const kind_names[] = {"label", "id", "numeric", "text", "words"};

static json_object *schema_json_str(const char *t, size_t l) {
    return json_object_new_string_len(t, (int)l);
}

/* A free-text column: its options, N, and the vocabulary with each term's
 * df (the idf is recomputed on load). */
static void words_to_json(json_object *e, const schema_col_t *c) {
    json_object_object_add(e, "index", json_object_new_int(c->index));
    json_object_object_add(e, "ngram", json_object_new_int(c->ngram));
    json_object_object_add(e, "tfidf", json_object_new_boolean(c->tfidf));
    json_object_object_add(e, "hash_bits", json_object_new_int(c->hash_bits));
    json_object_object_add(e, "docs", json_object_new_int64((int64_t)c->docs));
    json_object *terms = json_object_new_array();
    json_object *df = json_object_new_array();
    json_object_object_add(e, "terms", terms);
    json_object_object_add(e, "df", df);
    for (size_t k = 0; c->vocab && terms && df && k < strset_count(c->vocab); k++) {
        size_t l;
        const char *t = strset_get(c->vocab, k, &l);
        json_object_array_add(terms, schema_json_str(t, l));
        json_object_array_add(df, json_object_new_int64((int64_t)c->df[k]));
    }
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
            } else if (c->kind == SCHEMA_WORDS) {
                words_to_json(e, c);
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

/* The label list of a schema file into s; 0, or -1 with err set. */
static int from_json_labels(schema_t *s, json_object *labels, char *err, size_t errlen) {
    size_t nl = json_object_array_length(labels);
    if (nl > SCHEMA_MAX_LABELS) {
        snprintf(err, errlen, "schema: too many labels");
        return -1;
    }
    s->label_counts = calloc(nl + 1, sizeof *s->label_counts);
    s->label_values = calloc(nl + 1, sizeof *s->label_values);
    if (!s->label_counts || !s->label_values) {
        snprintf(err, errlen, "schema: out of memory");
        return -1;
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
            return -1;
        }
        s->label_values[k] = (int)val;
        s->label_counts[k] = (uint64_t)cnt;
    }
    return 0;
}

/* A numeric column's index and statistics (c->name is set). */
static int from_json_numeric(schema_col_t *c, json_object *e, int scale, int64_t *index, char *err,
                             size_t errlen) {
    int64_t cnt, miss;
    c->kind = SCHEMA_NUMERIC;
    if (jint(e, "index", 1, INT_MAX, index) != 0 || jint(e, "count", 0, INT64_MAX, &cnt) != 0 ||
        jint(e, "missing", 0, INT64_MAX, &miss) != 0 || jnum(e, "mean", &c->mean) != 0 ||
        jnum(e, "std", &c->std) != 0 || jnum(e, "min", &c->min) != 0 ||
        jnum(e, "max", &c->max) != 0 || c->std < 0 || c->min > c->max) {
        snprintf(err, errlen, "schema: column \"%s\": bad numeric statistics", c->name);
        return -1;
    }
    c->count = (uint64_t)cnt;
    c->missing = (uint64_t)miss;
    schema_transform(c, scale);
    if (!isfinite(c->mul) || !isfinite(c->impute)) {
        snprintf(err, errlen, "schema: column \"%s\": statistics out of range", c->name);
        return -1;
    }
    return 0;
}

/* A text column's index, vocabulary and missing/other slots. */
static int from_json_text(schema_col_t *c, json_object *e, int64_t *index, char *err,
                          size_t errlen) {
    c->kind = SCHEMA_TEXT;
    json_object *v = jget(e, "values", json_type_array);
    json_object *hm = jget(e, "missing", json_type_boolean);
    json_object *ho = jget(e, "other", json_type_boolean);
    c->vocab = strset_new();
    if (!v || !hm || !ho || !c->vocab || jint(e, "index", 1, INT_MAX, index) != 0 ||
        json_object_array_length(v) > SCHEMA_VOCAB_CAP) {
        snprintf(err, errlen, "schema: column \"%s\": bad text column", c->name);
        return -1;
    }
    for (size_t k = 0; k < json_object_array_length(v); k++) {
        json_object *t = json_object_array_get_idx(v, k);
        int added;
        if (!json_object_is_type(t, json_type_string) ||
            strset_add(c->vocab, json_object_get_string(t), (size_t)json_object_get_string_len(t),
                       &added) < 0 ||
            !added) {
            snprintf(err, errlen, "schema: column \"%s\": bad value %zu", c->name, k + 1);
            return -1;
        }
    }
    c->has_missing = json_object_get_boolean(hm);
    c->has_other = json_object_get_boolean(ho);
    return 0;
}

/* A free-text column: options, N, terms (1..TEXT_TERM_MAX bytes, distinct,
 * in byte order) with their df (1..N); none with the hashing trick. */
static int from_json_words(schema_col_t *c, json_object *e, int64_t *index, char *err,
                           size_t errlen) {
    c->kind = SCHEMA_WORDS;
    int64_t ngram, bits, docs;
    json_object *tf = jget(e, "tfidf", json_type_boolean);
    json_object *terms = jget(e, "terms", json_type_array);
    json_object *df = jget(e, "df", json_type_array);
    size_t n = terms ? json_object_array_length(terms) : 0;
    if (!tf || !terms || !df || jint(e, "index", 1, INT_MAX, index) != 0 ||
        jint(e, "ngram", 1, 2, &ngram) != 0 ||
        jint(e, "hash_bits", 0, TEXT_HASH_BITS_MAX, &bits) != 0 ||
        jint(e, "docs", 0, INT64_MAX, &docs) != 0 || json_object_array_length(df) != n ||
        n > 16777216 || (bits > 0) != (n == 0)) {
        snprintf(err, errlen, "schema: column \"%s\": bad free-text column", c->name);
        return -1;
    }
    c->ngram = (int)ngram;
    c->hash_bits = (int)bits;
    c->docs = (uint64_t)docs;
    c->tfidf = json_object_get_boolean(tf);
    if (bits > 0) return 0;
    c->vocab = strset_new();
    c->df = malloc(n * sizeof *c->df);
    if (!c->vocab || !c->df) {
        snprintf(err, errlen, "schema: out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        json_object *t = json_object_array_get_idx(terms, k);
        json_object *d = json_object_array_get_idx(df, k);
        int added;
        size_t l = t && json_object_is_type(t, json_type_string)
                       ? (size_t)json_object_get_string_len(t)
                       : 0;
        int64_t dv = d && json_object_is_type(d, json_type_int) ? json_object_get_int64(d) : 0;
        if (l < 1 || l > TEXT_TERM_MAX || dv < 1 || (uint64_t)dv > c->docs ||
            strset_add(c->vocab, json_object_get_string(t), l, &added) < 0 || !added) {
            snprintf(err, errlen, "schema: column \"%s\": bad term %zu", c->name, k + 1);
            return -1;
        }
        c->df[k] = (uint64_t)dv;
    }
    if (schema_words_idf(c) != 0) {
        snprintf(err, errlen, "schema: out of memory");
        return -1;
    }
    return 0;
}

/* Column i of a CSV schema from its JSON object e; counts label columns. */
static int from_json_column(schema_t *s, size_t i, json_object *e, int *nlabelcols, char *err,
                            size_t errlen) {
    schema_col_t *c = &s->cols[i];
    json_object *kind = jget(e, "kind", json_type_string);
    int added;
    c->name = jstrdup(e, "name");
    if (!c->name || !kind || strset_add(s->colnames, c->name, strlen(c->name), &added) < 0 ||
        !added) {
        snprintf(err, errlen, "schema: column %zu: bad or duplicate name, or no kind", i + 1);
        return -1;
    }
    const char *ks = json_object_get_string(kind);
    int64_t index = 0;
    if (strcmp(ks, "label") == 0) {
        c->kind = SCHEMA_LABEL;
        ++*nlabelcols;
        if (strcmp(c->name, s->label_name) != 0) {
            snprintf(err, errlen, "schema: label column name mismatch");
            return -1;
        }
    } else if (strcmp(ks, "id") == 0) {
        c->kind = SCHEMA_ID;
        if (!s->id_name || strcmp(c->name, s->id_name) != 0) {
            snprintf(err, errlen, "schema: id column name mismatch");
            return -1;
        }
    } else if (strcmp(ks, "numeric") == 0) {
        if (from_json_numeric(c, e, s->scale, &index, err, errlen) != 0) return -1;
    } else if (strcmp(ks, "text") == 0) {
        if (from_json_text(c, e, &index, err, errlen) != 0) return -1;
    } else if (strcmp(ks, "words") == 0) {
        if (from_json_words(c, e, &index, err, errlen) != 0) return -1;
    } else {
        snprintf(err, errlen, "schema: column \"%s\": unknown kind", c->name);
        return -1;
    }
    c->index = (int)index;
    return 0;
}

/* Recomputes the index map; the stored one (and n_features) must agree. */
static int from_json_layout(schema_t *s, int64_t nfeat, char *err, size_t errlen) {
    int *stored = malloc((s->ncols + 1) * sizeof *stored);
    if (!stored) {
        snprintf(err, errlen, "schema: out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->ncols; i++)
        stored[i] = s->cols[i].index;
    int bad = schema_layout(s) != 0 || s->n_features != nfeat;
    for (size_t i = 0; !bad && i < s->ncols; i++)
        bad = stored[i] != s->cols[i].index;
    free(stored);
    if (bad) {
        snprintf(err, errlen, "schema: feature indices or n_features do not match the columns");
        return -1;
    }
    return 0;
}

/* The CSV part of a schema file: scale, label and id names, the columns. */
static int from_json_csv(schema_t *s, json_object *o, json_object *cols, int64_t nfeat, char *err,
                         size_t errlen) {
    json_object *scale = jget(o, "scale", json_type_string);
    s->label_name = jstrdup(o, "label");
    json_object *idv;
    if (json_object_object_get_ex(o, "id", &idv)) {
        s->id_name = jstrdup(o, "id");
        if (!s->id_name) {
            snprintf(err, errlen, "schema: bad id");
            return -1;
        }
    }
    if (!scale || (s->scale = schema_parse_scale(json_object_get_string(scale))) < 0 ||
        !s->label_name) {
        snprintf(err, errlen, "schema: missing or bad scale or label");
        return -1;
    }
    int nlabelcols = 0;
    for (size_t i = 0; i < s->ncols; i++)
        if (from_json_column(s, i, json_object_array_get_idx(cols, i), &nlabelcols, err, errlen) !=
            0)
            return -1;
    if (nlabelcols != 1) {
        snprintf(err, errlen, "schema: needs exactly one label column");
        return -1;
    }
    return from_json_layout(s, nfeat, err, errlen);
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
    if (from_json_labels(s, labels, err, errlen) != 0) goto fail;
    if (format == DATA_LIBSVM) {
        s->scale = SCALE_NONE;
        s->n_features = (int)nfeat;
    } else if (from_json_csv(s, o, cols, nfeat, err, errlen) != 0) {
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
    if (fd_write_all(fd, json, strlen(json)) != 0 || fd_write_all(fd, "\n", 1) != 0 ||
        fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
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
