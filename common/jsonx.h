/* jsonx: reading JSON that came from a file or a peer, over json-c.
 *
 * Every JSON document NetCompute reads (job contexts, schema files, worker
 * frames, the configuration) is one object. jsonx_parse_object() parses
 * exactly one: bounded in size and nesting, nothing after it but (when
 * allowed) blanks, and the top level an object; its error names the
 * position as LINE:COL (1-based, counted in bytes) where json-c stopped.
 *
 * The typed getters read one field of an object and say what is wrong in
 * err: "missing 'k'", "'k' is not an integer", "'k' is out of range
 * [lo, hi]". They return 0 (found, *out set), JSONX_ABSENT (the key is not
 * there; *out untouched, err says it is missing) or -1 (wrong type or out
 * of range; *out untouched), so that a required field reads
 *     if (jsonx_get_int(o, "n", 0, 10, &n, why, sizeof why) != 0) fail;
 * and an optional one tests < 0 only. err may be NULL (or errlen 0) when
 * the caller has its own message. Nothing here allocates except the parse:
 * strings and arrays returned are borrowed from the object.
 */
#ifndef NC_JSONX_H
#define NC_JSONX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONX_ABSENT 1

typedef struct jsonx_limits {
    size_t max_len;      /* bytes; 0: up to INT_MAX (json-c's own limit) */
    int max_depth;       /* nesting; 0: json-c's default (32) */
    bool trailing_space; /* blanks (space, tab, CR, LF) may follow the object */
} jsonx_limits_t;

/* Parses text[0..len) (need not be NUL-terminated) as exactly one JSON
 * object within lim (NULL: the defaults above). Returns the object (caller
 * owns it: json_object_put), or NULL with one of these in err:
 *   "LINE:COL: invalid JSON: what json-c says" (or "unexpected end of file")
 *   "LINE:COL: unexpected text after the JSON object"
 *   "the top level must be a JSON object"
 *   "N bytes of JSON, more than M" / "empty JSON text" / "out of memory" */
json_object *jsonx_parse_object(const char *text, size_t len, const jsonx_limits_t *lim, char *err,
                                size_t errlen);

/* A string field: *out borrowed (NUL-terminated, may hold NULs inside),
 * *len its length (len may be NULL). */
int jsonx_get_string(json_object *o, const char *key, const char **out, size_t *len, char *err,
                     size_t errlen);

/* An integer field (a JSON integer, not 1.0) within [lo, hi]. */
int jsonx_get_int(json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out, char *err,
                  size_t errlen);

/* A number field (integer or not), finite and within [lo, hi]. */
int jsonx_get_double(json_object *o, const char *key, double lo, double hi, double *out, char *err,
                     size_t errlen);

/* A boolean field (true or false, nothing else). */
int jsonx_get_bool(json_object *o, const char *key, bool *out, char *err, size_t errlen);

/* An array field: *out borrowed. */
int jsonx_get_array(json_object *o, const char *key, json_object **out, char *err, size_t errlen);

#endif
