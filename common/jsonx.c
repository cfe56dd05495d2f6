/* jsonx: see jsonx.h. */
#include "common/jsonx.h"

#include "common/errbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* 1-based line and column of byte off of text. */
static void jsonx_position(const char *text, size_t off, size_t *line, size_t *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Checks what json-c left after a parse; 0 or -1 with err set. */
static int jsonx_check_end(const char *text, size_t len, json_tokener *tok, json_object *o,
                           bool trailing_space, char *err, size_t errlen) {
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok), line, col;
    if (jerr != json_tokener_success) {
        jsonx_position(text, end < len ? end : len, &line, &col);
        return errbuf_set(err, errlen, "%zu:%zu: invalid JSON: %s", line, col,
                          jerr == json_tokener_continue ? "unexpected end of file"
                                                        : json_tokener_error_desc(jerr));
    }
    while (trailing_space && end < len && strchr(" \t\r\n", text[end]) && text[end])
        end++;
    if (end < len) {
        jsonx_position(text, end, &line, &col);
        return errbuf_set(err, errlen, "%zu:%zu: unexpected text after the JSON object", line, col);
    }
    if (!json_object_is_type(o, json_type_object))
        return errbuf_set(err, errlen, "the top level must be a JSON object");
    return 0;
}

json_object *jsonx_parse_object(const char *text, size_t len, const jsonx_limits_t *lim, char *err,
                                size_t errlen) {
    static const jsonx_limits_t dflt = {0};
    if (!lim) lim = &dflt;
    size_t max = lim->max_len && lim->max_len < INT_MAX ? lim->max_len : INT_MAX;
    if (len == 0 || !text) {
        errbuf_set(err, errlen, "empty JSON text");
        return NULL;
    }
    if (len > max) {
        errbuf_set(err, errlen, "%zu bytes of JSON, more than %zu", len, max);
        return NULL;
    }
    json_tokener *tok =
        lim->max_depth > 0 ? json_tokener_new_ex(lim->max_depth) : json_tokener_new();
    if (!tok) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    if (jsonx_check_end(text, len, tok, o, lim->trailing_space, err, errlen) != 0) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* The field key of o when it has type t: 0, JSONX_ABSENT or -1, with err. */
static int jsonx_field(json_object *o, const char *key, json_type t, const char *what,
                       json_object **v, char *err, size_t errlen) {
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, v)) {
        errbuf_set(err, errlen, "missing '%s'", key);
        return JSONX_ABSENT;
    }
    bool ok = json_object_is_type(*v, t) ||
              (t == json_type_double && json_object_is_type(*v, json_type_int));
    if (!ok) return errbuf_set(err, errlen, "'%s' is not %s", key, what);
    return 0;
}

int jsonx_get_string(json_object *o, const char *key, const char **out, size_t *len, char *err,
                     size_t errlen) {
    json_object *v;
    int rc = jsonx_field(o, key, json_type_string, "a string", &v, err, errlen);
    if (rc != 0) return rc;
    *out = json_object_get_string(v);
    if (len) *len = (size_t)json_object_get_string_len(v);
    return 0;
}

int jsonx_get_int(json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out, char *err,
                  size_t errlen) {
    json_object *v;
    int rc = jsonx_field(o, key, json_type_int, "an integer", &v, err, errlen);
    if (rc != 0) return rc;
    /* json-c clamps an integer beyond int64 to INT64_MIN/INT64_MAX (without
     * setting errno), so a bound short of those refuses it. */
    int64_t x = json_object_get_int64(v);
    if (x < lo || x > hi)
        return errbuf_set(err, errlen, "'%s' is out of range [%" PRId64 ", %" PRId64 "]", key, lo,
                          hi);
    *out = x;
    return 0;
}

int jsonx_get_double(json_object *o, const char *key, double lo, double hi, double *out, char *err,
                     size_t errlen) {
    json_object *v;
    int rc = jsonx_field(o, key, json_type_double, "a number", &v, err, errlen);
    if (rc != 0) return rc;
    double d = json_object_get_double(v);
    if (!isfinite(d) || d < lo || d > hi)
        return errbuf_set(err, errlen, "'%s' is out of range [%g, %g]", key, lo, hi);
    *out = d;
    return 0;
}

int jsonx_get_bool(json_object *o, const char *key, bool *out, char *err, size_t errlen) {
    json_object *v;
    int rc = jsonx_field(o, key, json_type_boolean, "true or false", &v, err, errlen);
    if (rc == 0) *out = json_object_get_boolean(v);
    return rc;
}

int jsonx_get_array(json_object *o, const char *key, json_object **out, char *err, size_t errlen) {
    json_object *v;
    int rc = jsonx_field(o, key, json_type_array, "an array", &v, err, errlen);
    if (rc == 0) *out = v;
    return rc;
}
