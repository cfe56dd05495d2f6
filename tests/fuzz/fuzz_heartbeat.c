/* libFuzzer target: the JSON frames a worker sends the master (READY and
 * HEARTBEAT), read as master/sched.c reads them. Whatever the bytes, what
 * comes out must be JSON that a browser can parse: finite numbers in range,
 * printable strings of bounded length. */
#include "master/peerjson.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_string(json_object *o, const char *key, size_t maxlen) {
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) return;
    const char *s = json_object_get_string(v);
    size_t n = strlen(s);
    if (n > maxlen) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) abort();
}

static void check_number(json_object *o, const char *key, double lo, double hi) {
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL) return;
    double d = json_object_get_double(v);
    if (!isfinite(d) || d < lo || d > hi) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_object *in = peerjson_parse(data, size);
    if (!in) return 0;
    /* READY */
    char name[65] = "x", host[65] = "";
    peerjson_str(in, "name", name, sizeof name);
    peerjson_str(in, "host", host, sizeof host);
    int cores = peerjson_int(in, "cores", 1, 4096, 1);
    if (cores < 1 || cores > 4096 || strlen(name) > 64 || strlen(host) > 64) abort();
    /* HEARTBEAT */
    json_object *out = json_object_new_object();
    peerjson_heartbeat(in, out);
    check_number(out, "cpu", 0, 100);
    check_number(out, "mem", 0, 100);
    check_number(out, "battery", 0, 100);
    check_number(out, "load", 0, 1e6);
    check_number(out, "rows_per_s", 0, 1e12);
    check_string(out, "state", 15);
    check_string(out, "reason", 127);
    json_object *ac;
    if (json_object_object_get_ex(out, "ac", &ac) && ac &&
        !json_object_is_type(ac, json_type_boolean))
        abort();
    json_object_put(out);
    json_object_put(in);
    return 0;
}
