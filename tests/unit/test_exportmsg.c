/* Unit tests for common/exportmsg: the OP_EXPORT result codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exportmsg.h"
#include "common/proto.h"

/* Values a decimal with 15 digits would not give back exactly. */
static const double awkward[] = {0.1,   -1.0 / 3.0, 2.2250738585072014e-308,
                                 1e100, -7.5e-300,  0.30000000000000004};

static blob_t *sample(void) {
    exportmsg_enc_t e;
    assert_int_equal(exportmsg_enc_init(&e, 1000), 0);
    struct feature_node r0[] = {
        {1, awkward[0]}, {3, 0.0}, {4, awkward[1]}, {7, awkward[2]}, {-1, 0}};
    struct feature_node r1[] = {{-1, 0}};
    struct feature_node r2[] = {{2, awkward[3]}, {5, awkward[4]}, {9, awkward[5]}, {-1, 0}};
    assert_int_equal(exportmsg_enc_row(&e, -1, r0, 0), 0);
    assert_int_equal(exportmsg_enc_row(&e, 0, r1, 1), 0);
    assert_int_equal(exportmsg_enc_row(&e, 65535, r2, 0), 0);
    blob_t *b = exportmsg_enc_finish(&e);
    assert_non_null(b);
    exportmsg_enc_free(&e);
    return b;
}

static void test_round_trip(void **state) {
    (void)state;
    char err[256];
    blob_t *b = sample();
    exportmsg_t m;
    assert_int_equal(exportmsg_open(&m, b->data, b->len, err, sizeof err), 0);
    assert_int_equal(m.first_row, 1000);
    assert_int_equal(m.rows, 3);
    assert_int_equal(m.unlabelled, 1);
    char *text = strndup(m.text, m.text_len);
    assert_non_null(text);
    /* Zero values are left out; an empty row is its label alone. */
    char *l0 = strtok(text, "\n"), *l1 = strtok(NULL, "\n"), *l2 = strtok(NULL, "\n");
    assert_non_null(l2);
    assert_null(strtok(NULL, "\n"));
    assert_string_equal(l1, "0");
    assert_null(strstr(l0, " 3:"));
    /* Every value reads back as the same double, as liblinear's strtod reads it. */
    int idx[2][3] = {{1, 4, 7}, {2, 5, 9}};
    const double *want[2] = {awkward, awkward + 3};
    char *lines[2] = {l0, l2};
    int labels[2] = {-1, 65535};
    for (int l = 0; l < 2; l++) {
        char *p = lines[l], *end;
        assert_int_equal(strtol(p, &end, 10), labels[l]);
        p = end;
        for (int k = 0; k < 3; k++) {
            assert_int_equal(*p, ' ');
            assert_int_equal(strtol(p + 1, &end, 10), idx[l][k]);
            assert_int_equal(*end, ':');
            double v = strtod(end + 1, &p);
            assert_memory_equal(&v, &want[l][k], sizeof v);
        }
        assert_int_equal(*p, 0);
    }
    free(text);
    blob_unref(&b);
}

/* A copy of the sample with one byte at off replaced by c (off < 0: none),
 * cut to len bytes (0: whole). Returns what exportmsg_open says. */
static int open_altered(long off, char c, size_t len) {
    blob_t *b = sample();
    char err[256];
    exportmsg_t m;
    if (off >= 0) ((char *)b->data)[off] = c;
    int rc = exportmsg_open(&m, b->data, len ? len : b->len, err, sizeof err);
    blob_unref(&b);
    return rc;
}

static void test_hostile(void **state) {
    (void)state;
    char err[256];
    exportmsg_t m;
    blob_t *b = sample();
    size_t len = b->len;
    long text0 = EXPORTMSG_HEAD;
    assert_int_equal(open_altered(-1, 0, 0), 0);
    assert_int_equal(exportmsg_open(&m, NULL, 0, err, sizeof err), -1);
    assert_int_equal(open_altered(-1, 0, EXPORTMSG_HEAD - 1), -1);
    assert_int_equal(open_altered(-1, 0, len - 1), -1);        /* last line cut */
    assert_int_equal(open_altered(text0, 'n', 0), -1);         /* "nan" */
    assert_int_equal(open_altered(text0, 0, 0), -1);           /* NUL */
    assert_int_equal(open_altered(text0, '#', 0), -1);         /* a comment would hide a row */
    assert_int_equal(open_altered((long)len - 1, ' ', 0), -1); /* 2 lines for 3 rows */
    assert_int_equal(open_altered(8, 4, 0), -1);               /* 4 rows claimed */
    assert_int_equal(open_altered(16, 9, 0), -1);              /* more unlabelled than rows */
    assert_int_equal(open_altered(15, 1, 0), -1);              /* a huge row count */
    /* An empty shard is a valid message. */
    exportmsg_enc_t e;
    assert_int_equal(exportmsg_enc_init(&e, 5), 0);
    blob_t *empty = exportmsg_enc_finish(&e);
    assert_non_null(empty);
    assert_int_equal(exportmsg_open(&m, empty->data, empty->len, err, sizeof err), 0);
    assert_int_equal(m.rows, 0);
    blob_unref(&empty);
    blob_unref(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
