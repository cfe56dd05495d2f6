#include "common/jobctx.h"

#include "common/buf.h"
#include "common/jsonx.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASSES 100000
#define MAX_FEATURES 100000000

static void add_str(json_object *o, const char *k, const char *v, size_t len) {
    if (v) json_object_object_add(o, k, json_object_new_string_len(v, (int)len));
}

int jobctx_encode(const jobctx_t *c, void **bufp, size_t *lenp) {
    int rc = -1;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "format", json_object_new_int(c->format));
    add_str(o, "file", c->file, c->file ? strlen(c->file) : 0);
    add_str(o, "header", c->header, c->header_len);
    add_str(o, "label", c->label, c->label ? strlen(c->label) : 0);
    add_str(o, "id", c->id, c->id ? strlen(c->id) : 0);
    json_object_object_add(o, "solver", json_object_new_int(c->solver));
    json_object_object_add(o, "C", json_object_new_double(c->C));
    json_object_object_add(o, "bias", json_object_new_double(c->bias));
    add_str(o, "schema", c->schema_json, c->schema_len);
    add_str(o, "text", c->text, c->text ? strlen(c->text) : 0);
    json_object_object_add(o, "text_detect", json_object_new_boolean(c->text_detect));
    json_object_object_add(o, "count_terms", json_object_new_boolean(c->count_terms));
    json_object_object_add(o, "ngram", json_object_new_int(c->ngram == 2 ? 2 : 1));
    json_object_object_add(o, "want_prob", json_object_new_boolean(c->want_prob));
    if (c->data) {
        json_object_object_add(o, "data_len", json_object_new_int64((int64_t)c->data_len));
        json_object_object_add(o, "data_first_line",
                               json_object_new_int64((int64_t)c->data_first_line));
    }
    size_t nw = 0;
    if (c->has_model) {
        json_object_object_add(o, "nr_class", json_object_new_int(c->nr_class));
        json_object_object_add(o, "nr_feature", json_object_new_int(c->nr_feature));
        json_object_object_add(o, "nr_w", json_object_new_int(c->nr_w));
        json_object *labels = json_object_new_array();
        for (int i = 0; i < c->nr_class; i++)
            json_object_array_add(labels, json_object_new_int(c->labels[i]));
        json_object_object_add(o, "labels", labels);
        nw = (size_t)c->nr_w * ((size_t)c->nr_feature + (c->bias >= 0));
    }
    size_t jlen;
    const char *js = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &jlen);
    buf_t b = {0};
    buf_grow(&b, 4 + jlen + nw * 8 + (c->data ? c->data_len : 0));
    buf_put_u32(&b, (uint32_t)jlen);
    buf_put(&b, js, jlen);
    for (size_t i = 0; i < nw; i++)
        buf_put_f64(&b, c->w[i]);
    if (c->data) buf_put(&b, c->data, c->data_len);
    uint8_t *buf = buf_detach(&b, lenp);
    if (!buf) goto out;
    *bufp = buf;
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

/* Copies the string field k into *out (malloc'd, NUL-terminated); an absent
 * optional field leaves *out NULL. */
static int get_str(json_object *o, const char *k, bool required, char **out, size_t *outlen,
                   char *err, size_t errlen) {
    const char *v;
    size_t len;
    char why[128];
    *out = NULL;
    int rc = jsonx_get_string(o, k, &v, &len, why, sizeof why);
    if (rc == JSONX_ABSENT && !required) return 0;
    if (rc != 0) {
        snprintf(err, errlen, "job context: %s", why);
        return -1;
    }
    *out = malloc(len + 1);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(*out, v, len);
    (*out)[len] = 0;
    if (outlen) *outlen = len;
    return 0;
}

static int get_num(json_object *o, const char *k, double lo, double hi, double *out, char *err,
                   size_t errlen) {
    char why[128];
    if (jsonx_get_double(o, k, lo, hi, out, why, sizeof why) != 0) {
        snprintf(err, errlen, "job context: %s", why);
        return -1;
    }
    return 0;
}

/* The model part of a context (present when it has labels): sizes and the
 * label list. -1 with err set, or with err empty when out of memory. */
static int decode_model(json_object *o, json_object *labels, jobctx_t *c, char *err,
                        size_t errlen) {
    double d;
    c->has_model = true;
    if (get_num(o, "nr_class", 1, MAX_CLASSES, &d, err, errlen) < 0) return -1;
    c->nr_class = (int)d;
    if (get_num(o, "nr_feature", 0, MAX_FEATURES, &d, err, errlen) < 0) return -1;
    c->nr_feature = (int)d;
    if (get_num(o, "nr_w", 1, MAX_CLASSES, &d, err, errlen) < 0) return -1;
    c->nr_w = (int)d;
    if (!json_object_is_type(labels, json_type_array) ||
        json_object_array_length(labels) != (size_t)c->nr_class) {
        snprintf(err, errlen, "job context: labels do not match nr_class");
        return -1;
    }
    c->labels = malloc((size_t)c->nr_class * sizeof *c->labels);
    if (!c->labels) return -1;
    for (int i = 0; i < c->nr_class; i++) {
        json_object *l = json_object_array_get_idx(labels, (size_t)i);
        if (!json_object_is_type(l, json_type_int)) {
            snprintf(err, errlen, "job context: label %d is not an integer", i);
            return -1;
        }
        c->labels[i] = json_object_get_int(l);
    }
    return 0;
}

/* What follows the JSON: the model's weights and the rows, as the JSON
 * says (sizes checked against the bytes left in r). -1 with err set, or
 * with err empty when out of memory. */
static int decode_tail(json_object *o, bufrd_t *r, size_t len, jobctx_t *c, char *err,
                       size_t errlen) {
    json_object *v;
    double d, fl;
    size_t nw = 0, data_len = 0;
    bool has_data = json_object_object_get_ex(o, "data_len", &v);
    if (json_object_object_get_ex(o, "labels", &v)) {
        if (decode_model(o, v, c, err, errlen) < 0) return -1;
        nw = (size_t)c->nr_w * ((size_t)c->nr_feature + (c->bias >= 0));
    }
    if (has_data) {
        if (get_num(o, "data_len", 0, (double)len, &d, err, errlen) < 0 ||
            get_num(o, "data_first_line", 1, 1e18, &fl, err, errlen) < 0)
            return -1;
        data_len = (size_t)d;
        c->data_first_line = (uint64_t)fl;
    }
    if (bufrd_left(r) / 8 < nw || bufrd_left(r) - nw * 8 != data_len) {
        snprintf(err, errlen, "job context: %zu bytes after the JSON, expected %zu", bufrd_left(r),
                 nw * 8 + data_len);
        return -1;
    }
    if (nw) {
        if (!(c->w = malloc(nw * sizeof *c->w))) return -1;
        for (size_t i = 0; i < nw; i++)
            c->w[i] = bufrd_f64(r);
    }
    if (has_data) {
        c->data = (const char *)bufrd_take(r, data_len);
        c->data_len = data_len;
        if (!c->data) c->data = ""; /* no rows: an empty file's */
    }
    return 0;
}

jobctx_t *jobctx_decode(const void *bufv, size_t len, char *err, size_t errlen) {
    json_object *o = NULL;
    jobctx_t *c = calloc(1, sizeof *c);
    double d;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bufrd_t r = bufrd_init(bufv, len);
    size_t jlen = bufrd_u32(&r);
    const char *json = (const char *)bufrd_take(&r, jlen);
    if (!json) {
        snprintf(err, errlen, "job context: truncated");
        goto fail;
    }
    char why[256];
    o = jsonx_parse_object(json, jlen, NULL, why, sizeof why);
    if (!o) {
        snprintf(err, errlen, "job context: %s", why);
        goto fail;
    }
    if (get_num(o, "format", 0, 1, &d, err, errlen) < 0) goto fail;
    c->format = (int)d;
    if (get_str(o, "file", true, &c->file, NULL, err, errlen) < 0 ||
        get_str(o, "header", false, &c->header, &c->header_len, err, errlen) < 0 ||
        get_str(o, "label", false, &c->label, NULL, err, errlen) < 0 ||
        get_str(o, "id", false, &c->id, NULL, err, errlen) < 0 ||
        get_str(o, "schema", false, &c->schema_json, &c->schema_len, err, errlen) < 0 ||
        get_str(o, "text", false, &c->text, NULL, err, errlen) < 0)
        goto fail;
    if (json_object_object_get_ex(o, "ngram", NULL)) {
        if (get_num(o, "ngram", 1, 2, &d, err, errlen) < 0) goto fail;
        c->ngram = (int)d;
    }
    if (get_num(o, "solver", 0, 100, &d, err, errlen) < 0) goto fail;
    c->solver = (int)d;
    if (get_num(o, "C", 0, 1e300, &c->C, err, errlen) < 0 ||
        get_num(o, "bias", -1e300, 1e300, &c->bias, err, errlen) < 0)
        goto fail;
    json_object *v;
    c->want_prob = json_object_object_get_ex(o, "want_prob", &v) && json_object_get_boolean(v);
    c->text_detect = json_object_object_get_ex(o, "text_detect", &v) && json_object_get_boolean(v);
    c->count_terms = json_object_object_get_ex(o, "count_terms", &v) && json_object_get_boolean(v);
    if (decode_tail(o, &r, len, c, err, errlen) < 0) goto fail;
    json_object_put(o);
    return c;
fail:
    if (!err[0]) snprintf(err, errlen, "job context: out of memory");
    json_object_put(o);
    jobctx_destroy(&c);
    return NULL;
}

void jobctx_destroy(jobctx_t **cp) {
    jobctx_t *c = *cp;
    if (!c) return;
    free(c->file);
    free(c->header);
    free(c->label);
    free(c->text);
    free(c->id);
    free(c->schema_json);
    free(c->labels);
    free(c->w);
    free(c);
    *cp = NULL;
}
