#include "master/peerjson.h"

#include "common/proto.h"

#include <math.h>
#include <stdint.h>

json_object *peerjson_parse(const void *data, size_t len)
{
    if (len == 0 || len > PROTO_MAX_JSON)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(16); /* nesting depth: our frames are flat */
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, data, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        (size_t)json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

void peerjson_str(json_object *o, const char *key, char *out, size_t outlen)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        proto_clean_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), out,
                         outlen);
}

int peerjson_int(json_object *o, const char *key, int lo, int hi, int dflt)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    int64_t x = json_object_get_int64(v);
    return x < lo ? lo : x > hi ? hi : (int)x;
}

json_object *peerjson_number(json_object *o, const char *key, double lo, double hi)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return NULL;
    double d = json_object_get_double(v);
    if (!isfinite(d))
        return NULL;
    d = d < lo ? lo : d > hi ? hi : d;
    return json_object_new_double(d);
}

void peerjson_heartbeat(json_object *hb, json_object *o)
{
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
