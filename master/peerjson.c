#include "master/peerjson.h"

#include "common/jsonx.h"
#include "common/proto.h"

#include <float.h>
#include <stdint.h>

json_object *peerjson_parse(const void *data, size_t len) {
    /* Nesting depth 16: our frames are flat. */
    const jsonx_limits_t lim = {.max_len = PROTO_MAX_JSON, .max_depth = 16};
    return jsonx_parse_object(data, len, &lim, NULL, 0);
}

void peerjson_str(json_object *o, const char *key, char *out, size_t outlen) {
    const char *v;
    size_t len;
    if (jsonx_get_string(o, key, &v, &len, NULL, 0) == 0) proto_clean_text(v, len, out, outlen);
}

int peerjson_int(json_object *o, const char *key, int lo, int hi, int dflt) {
    /* Any integer is clamped, however large: json-c saturates at int64. */
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    int64_t x = json_object_get_int64(v);
    return x < lo ? lo : x > hi ? hi : (int)x;
}

json_object *peerjson_number(json_object *o, const char *key, double lo, double hi) {
    double d;
    if (jsonx_get_double(o, key, -DBL_MAX, DBL_MAX, &d, NULL, 0) != 0) return NULL;
    d = d < lo ? lo : d > hi ? hi : d;
    return json_object_new_double(d);
}

void peerjson_heartbeat(json_object *hb, json_object *o) {
    json_object_object_add(o, "cpu", peerjson_number(hb, "cpu", 0, 100));
    json_object_object_add(o, "mem", peerjson_number(hb, "mem", 0, 100));
    json_object_object_add(o, "load", peerjson_number(hb, "load", 0, 1e6));
    json_object_object_add(o, "battery", peerjson_number(hb, "battery", 0, 100));
    json_object *ac;
    json_object_object_add(o, "ac",
                           json_object_object_get_ex(hb, "ac", &ac) &&
                                   json_object_is_type(ac, json_type_boolean)
                               ? json_object_new_boolean(json_object_get_boolean(ac))
                               : NULL);
    char state[16] = "idle", reason[128] = "";
    peerjson_str(hb, "state", state, sizeof state);
    peerjson_str(hb, "reason", reason, sizeof reason);
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "reason", json_object_new_string(reason));
    int cur = peerjson_int(hb, "current_task", -1, INT32_MAX, -1);
    json_object_object_add(o, "current_task", cur < 0 ? NULL : json_object_new_int(cur));
    json_object_object_add(o, "rows_per_s", peerjson_number(hb, "rows_per_s", 0, 1e12));
}
