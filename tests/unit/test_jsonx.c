/* Tests for common/jsonx: exactly one object (table of texts and the error
 * each gives, with its LINE:COL), the size and depth bounds, the typed
 * getters' answers and messages, and a property: no proper prefix of an
 * object parses, in a copy exactly that long so that ASan sees overreads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/jsonx.h"

static void test_parse_table(void **state) {
    (void)state;
    static const struct {
        const char *text;
        bool trailing_space;
        const char *err; /* NULL: parses */
    } cases[] = {
        {"{}", false, NULL},
        {"{\"a\": [1, {\"b\": null}]}", false, NULL},
        {"{}x", false, "1:3: unexpected text after the JSON object"},
        {"{} \n\t", true, NULL},
        {"{}\n x", true, "2:2: unexpected text after the JSON object"},
        {"{}{}", true, "1:3: unexpected text after the JSON object"},
        {"{\"a\": 1", false, "1:8: invalid JSON: unexpected end of file"},
        {"{\n  \"a\": tru }", false, "2:11: invalid JSON: "},
        {"[1, 2]", false, "the top level must be a JSON object"},
        {"\"s\"", false, "the top level must be a JSON object"},
        {"null ", false, "the top level must be a JSON object"},
        {"", false, "empty JSON text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        jsonx_limits_t lim = {.trailing_space = cases[i].trailing_space};
        json_object *o =
            jsonx_parse_object(cases[i].text, strlen(cases[i].text), &lim, err, sizeof err);
        if (!cases[i].err) {
            assert_non_null(o);
            assert_string_equal(err, "");
        } else {
            assert_null(o);
            assert_memory_equal(err, cases[i].err, strlen(cases[i].err));
        }
        json_object_put(o);
    }
}

static void test_limits(void **state) {
    (void)state;
    char err[256];
    const char *t = "{\"a\": {\"b\": {\"c\": 1}}}";
    jsonx_limits_t lim = {.max_len = strlen(t)};
    json_object *o = jsonx_parse_object(t, strlen(t), &lim, err, sizeof err);
    assert_non_null(o);
    json_object_put(o);
    lim.max_len = strlen(t) - 1;
    assert_null(jsonx_parse_object(t, strlen(t), &lim, err, sizeof err));
    assert_string_equal(err, "22 bytes of JSON, more than 21");
    /* json-c counts the depth so that three nested objects need 4. */
    lim = (jsonx_limits_t){.max_depth = 3};
    assert_null(jsonx_parse_object(t, strlen(t), &lim, err, sizeof err));
    assert_string_equal(err, "1:19: invalid JSON: nesting too deep");
    lim.max_depth = 4;
    o = jsonx_parse_object(t, strlen(t), &lim, NULL, 0);
    assert_non_null(o);
    json_object_put(o);
    /* Not NUL-terminated: only len bytes are read. */
    char raw[4] = {'{', '}', 'x', 'y'};
    o = jsonx_parse_object(raw, 2, NULL, err, sizeof err);
    assert_non_null(o);
    json_object_put(o);
}

static void test_getters(void **state) {
    (void)state;
    const char *t = "{\"s\": \"h\\u0000i\", \"i\": 7, \"big\": 99999999999999999999, \"d\": 2.5,"
                    " \"b\": true, \"a\": [1], \"n\": null}";
    char err[256];
    json_object *o = jsonx_parse_object(t, strlen(t), NULL, err, sizeof err);
    assert_non_null(o);
    const char *s;
    size_t len;
    assert_int_equal(jsonx_get_string(o, "s", &s, &len, err, sizeof err), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "h\0i", 3);
    assert_int_equal(jsonx_get_string(o, "x", &s, &len, err, sizeof err), JSONX_ABSENT);
    assert_string_equal(err, "missing 'x'");
    assert_int_equal(jsonx_get_string(o, "i", &s, NULL, err, sizeof err), -1);
    assert_string_equal(err, "'i' is not a string");
    int64_t i = -5;
    assert_int_equal(jsonx_get_int(o, "i", 0, 7, &i, err, sizeof err), 0);
    assert_int_equal(i, 7);
    assert_int_equal(jsonx_get_int(o, "i", 0, 6, &i, err, sizeof err), -1);
    assert_string_equal(err, "'i' is out of range [0, 6]");
    assert_int_equal(jsonx_get_int(o, "big", 0, 1000000, &i, err, sizeof err), -1);
    assert_int_equal(jsonx_get_int(o, "d", 0, 10, &i, err, sizeof err), -1);
    assert_string_equal(err, "'d' is not an integer");
    assert_int_equal(i, 7);
    double d;
    assert_int_equal(jsonx_get_double(o, "d", 0, 3, &d, err, sizeof err), 0);
    assert_true(d == 2.5);
    assert_int_equal(jsonx_get_double(o, "i", 0, 10, &d, err, sizeof err), 0); /* ints count */
    assert_true(d == 7.0);
    assert_int_equal(jsonx_get_double(o, "d", 3, 4, &d, err, sizeof err), -1);
    assert_int_equal(jsonx_get_double(o, "n", 0, 1, &d, err, sizeof err), -1);
    assert_string_equal(err, "'n' is not a number");
    bool b = false;
    assert_int_equal(jsonx_get_bool(o, "b", &b, err, sizeof err), 0);
    assert_true(b);
    assert_int_equal(jsonx_get_bool(o, "i", &b, err, sizeof err), -1);
    assert_string_equal(err, "'i' is not true or false");
    json_object *a = NULL;
    assert_int_equal(jsonx_get_array(o, "a", &a, NULL, 0), 0);
    assert_int_equal(json_object_array_length(a), 1);
    assert_int_equal(jsonx_get_array(o, "s", &a, err, sizeof err), -1);
    assert_int_equal(jsonx_get_array(NULL, "a", &a, err, sizeof err), JSONX_ABSENT);
    json_object_put(o);
}

static void test_prefixes_never_parse(void **state) {
    (void)state;
    const char *t = "{\"name\": \"x\\\"y\", \"v\": [1, 2.5e3, -0, {\"k\": false}],"
                    " \"u\": \"\\u00e9\"}";
    size_t len = strlen(t);
    for (size_t cut = 0; cut < len; cut++) {
        char *c = malloc(cut ? cut : 1);
        assert_non_null(c);
        memcpy(c, t, cut);
        char err[256] = "";
        json_object *o = jsonx_parse_object(c, cut, NULL, err, sizeof err);
        assert_null(o);
        assert_true(err[0] != '\0');
        free(c);
    }
    json_object *o = jsonx_parse_object(t, len, NULL, NULL, 0);
    assert_non_null(o);
    json_object_put(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_prefixes_never_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
