/* Unit tests for dashboard/datafiles: which files GET /api/files lists
 * (regular CSV and libsvm files under the root, no link, no hidden name, not
 * the runs folder) and the label and id suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard/datafiles.h"

static void put(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_suggest(void **state) {
    (void)state;
    char *a[] = {"pixel1", "Label", "ID"}, *b[] = {"x", "customer_id", "target"}, *c[] = {"a", "b"};
    assert_string_equal(datafiles_suggest_label(a, 3), "Label");
    assert_string_equal(datafiles_suggest_id(a, 3), "ID");
    assert_string_equal(datafiles_suggest_label(b, 3), "target");
    assert_string_equal(datafiles_suggest_id(b, 3), "customer_id");
    assert_null(datafiles_suggest_label(c, 2));
    assert_null(datafiles_suggest_id(c, 2));
}

static void test_list(void **state) {
    (void)state;
    char root[] = "/tmp/nc-datafiles.XXXXXX", sub[600], runs[600], hid[600], link[600], out[600];
    assert_non_null(mkdtemp(root));
    snprintf(sub, sizeof sub, "%s/sub", root);
    snprintf(runs, sizeof runs, "%s/runs", root);
    snprintf(hid, sizeof hid, "%s/.hidden", root);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mkdir(runs, 0700), 0);
    assert_int_equal(mkdir(hid, 0700), 0);
    put(root, "b.csv",
        "\xEF\xBB\xBF"
        "id,\"a,b\",class\n1,2,3\n");
    put(root, "a.SVM", "1 1:1\n");
    put(root, "notes.txt", "x\n");
    put(root, ".staged.csv", "a\n1\n");
    put(sub, "c.csv", "x,y\n");
    put(runs, "r.csv", "x,y\n");
    put(hid, "h.csv", "x,y\n");
    snprintf(out, sizeof out, "%s.outside.csv", root);
    put("/tmp", strrchr(out, '/') + 1, "secret,columns\n");
    snprintf(link, sizeof link, "%s/leak.csv", root);
    assert_int_equal(symlink(out, link), 0);

    bool truncated = true;
    char err[256];
    json_object *a = datafiles_list(root, runs, 100, &truncated, err, sizeof err);
    assert_non_null(a);
    assert_false(truncated);
    assert_int_equal(json_object_array_length(a), 3);
    const char *want[] = {"a.SVM", "b.csv", "sub/c.csv"};
    for (size_t i = 0; i < 3; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        assert_string_equal(json_object_get_string(json_object_object_get(e, "path")), want[i]);
    }
    json_object *b = json_object_array_get_idx(a, 1);
    assert_string_equal(json_object_get_string(json_object_object_get(b, "format")), "csv");
    assert_string_equal(json_object_to_json_string_ext(json_object_object_get(b, "columns"),
                                                       JSON_C_TO_STRING_PLAIN),
                        "[\"id\",\"a,b\",\"class\"]");
    assert_string_equal(json_object_get_string(json_object_object_get(b, "label_suggest")),
                        "class");
    assert_null(json_object_object_get(json_object_array_get_idx(a, 0), "columns"));
    json_object_put(a);

    a = datafiles_list(root, runs, 2, &truncated, err, sizeof err);
    assert_non_null(a);
    assert_true(truncated);
    assert_int_equal(json_object_array_length(a), 2);
    json_object_put(a);

    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, out);
    assert_int_equal(system(cmd), 0);
}

/* Headers read in 4 KiB steps: a quoted line end across a step boundary
 * stays in its field, the data after the header is not the header's, and a
 * header longer than 256 KiB is an error. */
static void test_header_steps(void **state) {
    (void)state;
    char root[] = "/tmp/nc-datafiles.XXXXXX";
    assert_non_null(mkdtemp(root));
    size_t len = 300 * 1024;
    char *text = malloc(len + 64);
    assert_non_null(text);
    /* "x" + 4090 a's + a line end + "y" quoted, then a long field, then label */
    size_t n = 0;
    text[n++] = '"';
    text[n++] = 'x';
    memset(text + n, 'a', 4090);
    n += 4090;
    text[n++] = '\n';
    memcpy(text + n, "y\",", 3);
    n += 3;
    memset(text + n, 'c', 900);
    n += 900;
    strcpy(text + n, ",label\n1,2,3\n");
    put(root, "long.csv", text);
    memset(text, 'h', len); /* no line end in 300 KiB */
    text[len] = 0;
    put(root, "huge.csv", text);
    free(text);

    bool truncated;
    char err[256];
    json_object *a = datafiles_list(root, NULL, 100, &truncated, err, sizeof err);
    assert_non_null(a);
    assert_int_equal(json_object_array_length(a), 2);
    json_object *huge = json_object_array_get_idx(a, 0), *lng = json_object_array_get_idx(a, 1);
    assert_string_equal(json_object_get_string(json_object_object_get(huge, "error")),
                        "cannot read the CSV header");
    assert_null(json_object_object_get(lng, "error"));
    assert_int_equal(json_object_get_int(json_object_object_get(lng, "columns_total")), 3);
    json_object *cols = json_object_object_get(lng, "columns");
    const char *first = json_object_get_string(json_object_array_get_idx(cols, 0));
    assert_int_equal(strlen(first), 4093); /* x, 4090 a's, the line end, y */
    assert_true(first[4091] == '\n' && first[4092] == 'y');
    assert_int_equal(strlen(json_object_get_string(json_object_array_get_idx(cols, 1))), 900);
    assert_string_equal(json_object_get_string(json_object_object_get(lng, "label_suggest")),
                        "label");
    json_object_put(a);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_suggest), cmocka_unit_test(test_list),
                                       cmocka_unit_test(test_header_steps)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
