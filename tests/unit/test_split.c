/* Tests for common/split: shard boundaries, header handling, errors, and
 * agreement with csvread on random quoted CSV across tiny read buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/csvread.h"
#include "common/split.h"

static char *write_tmp(const char *data, size_t len, const char *suffix) {
    char tmpl[] = "/tmp/nc_split_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    char *path = malloc(strlen(tmpl) + strlen(suffix) + 1);
    assert_non_null(path);
    sprintf(path, "%s%s", tmpl, suffix);
    if (*suffix) assert_int_equal(rename(tmpl, path), 0);
    return path;
}

static int split_str(const char *data, size_t rows, size_t max_bytes, split_t *s, char *err) {
    char *p = write_tmp(data, strlen(data), "");
    int rc = split_file(p, DATA_CSV, rows, max_bytes, s, err, 256);
    unlink(p);
    free(p);
    return rc;
}

static void test_basic(void **state) {
    (void)state;
    const char *d = "id,x,label\n1,2,a\n2,3,b\n3,4,a\n4,5,b\n5,6,c\n";
    split_t s;
    char err[256];
    assert_int_equal(split_str(d, 2, 0, &s, err), 0);
    assert_string_equal(s.header, "id,x,label");
    assert_int_equal(s.header_len, 10);
    assert_int_equal(s.rows, 5);
    assert_int_equal(s.nshards, 3);
    assert_int_equal(s.shards[0].offset, 11);
    assert_int_equal(s.shards[0].rows, 2);
    assert_int_equal(s.shards[0].first_line, 2);
    assert_int_equal(s.shards[1].first_row, 2);
    assert_int_equal(s.shards[1].first_line, 4);
    assert_int_equal(s.shards[2].rows, 1);
    assert_int_equal(s.shards[2].offset + s.shards[2].length, strlen(d));
    assert_memory_equal(d + s.shards[1].offset, "3,4,a\n4,5,b\n", s.shards[1].length);
    split_free(&s);
}

static void test_bom_crlf_blank_noeol(void **state) {
    (void)state;
    const char *d = "\xEF\xBB\xBF\"a\",b\r\n\r\n1,2\r\n  \r\n3,4\r\n\n5,6";
    split_t s;
    char err[256];
    assert_int_equal(split_str(d, 1, 0, &s, err), 0);
    assert_string_equal(s.header, "\"a\",b");
    assert_int_equal(s.rows, 3);
    assert_int_equal(s.nshards, 3);
    assert_int_equal(s.shards[0].first_line, 3);
    assert_int_equal(s.shards[1].first_line, 5);
    assert_int_equal(s.shards[2].first_line, 7);
    /* shards start on their first row; blank lines stay with the shard before */
    assert_memory_equal(d + s.shards[1].offset, "3,4", 3);
    assert_memory_equal(d + s.shards[2].offset, "5,6", 3);
    assert_int_equal(s.shards[2].length, 3);
    split_free(&s);
}

static void test_quoted_newlines(void **state) {
    (void)state;
    const char *d = "a,b\n\"x\ny\",1\n2,\"p\"\"\n,q\"\n3,\"\"\n4,ab\"c\n5,6\n";
    split_t s;
    char err[256];
    assert_int_equal(split_str(d, 1, 0, &s, err), 0);
    assert_int_equal(s.rows, 5);
    assert_int_equal(s.shards[1].first_line, 4);
    assert_int_equal(s.shards[2].first_line, 6);
    assert_int_equal(s.shards[3].first_line, 7); /* mid-field quote is text */
    assert_int_equal(s.shards[4].first_line, 8);
    split_free(&s);
}

static void test_max_bytes(void **state) {
    (void)state;
    const char *d = "a\n111\n222\n333\n444\n";
    split_t s;
    char err[256];
    assert_int_equal(split_str(d, 100, 8, &s, err), 0);
    assert_int_equal(s.nshards, 2);
    assert_int_equal(s.shards[0].rows, 2);
    assert_int_equal(s.shards[0].length, 8);
    split_free(&s);
    assert_int_equal(split_str(d, 100, 2, &s, err), 0);
    assert_int_equal(s.nshards, 4); /* a row longer than the cap is its own shard */
    split_free(&s);
}

static void test_errors(void **state) {
    (void)state;
    split_t s;
    char err[256];
    assert_int_equal(split_file("/nonexistent/x.csv", DATA_CSV, 10, 0, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.csv: cannot open"));
    assert_int_equal(split_str("", 10, 0, &s, err), -1);
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(split_str("\xEF\xBB\xBF\n \n", 10, 0, &s, err), -1);
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(split_str("a,b\n\n", 10, 0, &s, err), -1);
    assert_non_null(strstr(err, ":1: header only"));
    assert_int_equal(split_str("a,b\n1,2\n3,\"x\n\n4,5\n", 10, 0, &s, err), -1);
    assert_non_null(strstr(err, ":3: unterminated quote"));
    char nul[] = "a,b\n1,2\n33,x\0y\n";
    char *p = write_tmp(nul, sizeof nul - 1, "");
    assert_int_equal(split_file(p, DATA_CSV, 10, 0, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3:5: NUL byte"));
    unlink(p);
    free(p);
    assert_null(s.shards);
}

static void test_detect_and_libsvm(void **state) {
    (void)state;
    assert_int_equal(split_detect_format("a/b.SVM", "auto"), DATA_LIBSVM);
    assert_int_equal(split_detect_format("a/b.libsvm", NULL), DATA_LIBSVM);
    assert_int_equal(split_detect_format("a/b.csv", "auto"), DATA_CSV);
    assert_int_equal(split_detect_format("a/b.csv", "libsvm"), DATA_LIBSVM);
    assert_int_equal(split_detect_format("a/b.svm", "csv"), DATA_CSV);
    const char *d = "1 1:2 3:4\n-1 2:1\n\"1 5:1\n+1 1:1";
    char *p = write_tmp(d, strlen(d), ".svm");
    split_t s;
    char err[256];
    assert_int_equal(split_file(p, DATA_LIBSVM, 3, 0, &s, err, sizeof err), 0);
    assert_null(s.header);
    assert_int_equal(s.rows, 4);
    assert_int_equal(s.nshards, 2);
    assert_int_equal(s.shards[1].first_line, 4);
    assert_int_equal(s.shards[1].offset, strlen(d) - 6);
    split_free(&s);
    unlink(p);
    free(p);
}

/* Random CSV with quotes, embedded newlines and blank lines; every shard must
 * parse in csvread to exactly its row count, starting on its first line. */
typedef struct count_ctx {
    size_t rows;
    uint64_t first_line;
} count_ctx_t;

/* split_refine: a file of fewer shards than pieces is cut again so that each
 * piece gets rows; enough shards, or fewer rows than pieces, leave it alone.
 * split_balance: a count that is not a multiple of pieces, or uneven shards,
 * are cut again into the next multiple; a balanced split, one piece, or fewer
 * rows than pieces, leave it alone. */
static void test_refine(void **state) {
    (void)state;
    const char *csv = "id,label,x\n1,a,1\n2,b,2\n3,a,3\n4,b,4\n5,a,5\n6,b,6\n7,a,7\n";
    char *p = write_tmp(csv, strlen(csv), "");
    char err[256];
    split_t s = {0};
    assert_int_equal(split_file(p, DATA_CSV, 100, 0, &s, err, sizeof err), 0);
    assert_int_equal(s.nshards, 1);
    assert_int_equal(split_refine(&s, p, DATA_CSV, 3, 0, err, sizeof err), 1);
    assert_int_equal(s.nshards, 3); /* ceil(7 / 3) = 3 rows: 3 + 3 + 1 */
    uint64_t rows = 0;
    for (size_t i = 0; i < s.nshards; i++) {
        assert_int_equal(s.shards[i].first_row, rows);
        rows += s.shards[i].rows;
    }
    assert_int_equal(rows, 7);
    assert_non_null(s.header);
    assert_int_equal(split_refine(&s, p, DATA_CSV, 3, 0, err, sizeof err), 0);
    assert_int_equal(split_refine(&s, p, DATA_CSV, 8, 0, err, sizeof err), 0); /* 7 rows < 8 */
    assert_int_equal(s.nshards, 3);
    assert_int_equal(split_refine(&s, p, DATA_CSV, 2, 0, err, sizeof err), 0); /* enough */
    assert_int_equal(split_balance(&s, p, DATA_CSV, 1, 0, err, sizeof err), 0);
    /* 3 shards over 2 slots would give one slot twice the rows: 4 of 2 rows */
    assert_int_equal(split_balance(&s, p, DATA_CSV, 2, 0, err, sizeof err), 1);
    assert_int_equal(s.nshards, 4);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(s.shards[i].rows, 2);
    assert_int_equal(split_balance(&s, p, DATA_CSV, 2, 0, err, sizeof err), 0);
    split_free(&s);
    assert_int_equal(split_file(p, DATA_CSV, 5, 0, &s, err, sizeof err), 0);
    assert_int_equal(s.nshards, 2); /* 5 + 2 */
    assert_int_equal(split_refine(&s, p, DATA_CSV, 2, 0, err, sizeof err), 0);
    assert_int_equal(split_balance(&s, p, DATA_CSV, 2, 0, err, sizeof err), 1);
    assert_int_equal(s.nshards, 2); /* 4 + 3 */
    assert_int_equal(s.shards[0].rows, 4);
    split_free(&s);
    unlink(p);
    free(p);
}

static int count_record(void *ctx, size_t nf, uint64_t line, char *err, size_t errlen) {
    count_ctx_t *c = ctx;
    if (c->rows++ == 0) c->first_line = line;
    return 0;
}

static void test_random_vs_csvread(void **state) {
    (void)state;
    srand(12345);
    const char *pieces[] = {"1", "ab",   "\"q,\"", "\"x\ny\"", "\"a\"\"b\"", " 7 ",
                            "",  "\"\"", "c\"d",   "\"e\"  ",  "\"\r\n\""};
    for (int iter = 0; iter < 40; iter++) {
        size_t cap = 1 << 16, len = 0;
        char *d = malloc(cap);
        assert_non_null(d);
        len += (size_t)sprintf(d, "%sa,b,c\n", iter % 3 == 0 ? "\xEF\xBB\xBF" : "");
        int nrows = 1 + rand() % 60;
        for (int r = 0; r < nrows; r++) {
            for (int f = 0; f < 3; f++) {
                const char *pc = pieces[rand() % 11];
                len += (size_t)sprintf(d + len, "%s%s", f ? "," : "", pc);
            }
            len += (size_t)sprintf(d + len, "%s", rand() % 4 == 0 ? "\r\n" : "\n");
            if (rand() % 8 == 0) len += (size_t)sprintf(d + len, "\n");
        }
        if (rand() % 2 && d[len - 1] == '\n') len--; /* no line end at EOF */
        char *p = write_tmp(d, len, "");
        split_t s;
        char err[256];
        size_t bufsize = 4 + (size_t)(rand() % 40);
        size_t per = 1 + (size_t)(rand() % 7);
        assert_int_equal(split_file_buffered(p, DATA_CSV, per, 0, bufsize, &s, err, sizeof err), 0);
        assert_string_equal(s.header, "a,b,c");
        assert_int_equal(s.rows, nrows);
        csvread_cb_t cb = {.record = count_record};
        uint64_t total = 0;
        for (size_t k = 0; k < s.nshards; k++) {
            count_ctx_t c = {0};
            int rc = csvread_parse("t", d + s.shards[k].offset, s.shards[k].length,
                                   s.shards[k].first_line, 3, &cb, &c, err, sizeof err);
            if (rc != 0) fail_msg("iter %d shard %zu: %s", iter, k, err);
            assert_int_equal(c.rows, s.shards[k].rows);
            assert_int_equal(c.first_line, s.shards[k].first_line);
            assert_int_equal(s.shards[k].first_row, total);
            total += c.rows;
        }
        if (s.nshards)
            assert_int_equal(s.shards[s.nshards - 1].offset + s.shards[s.nshards - 1].length, len);
        split_free(&s);
        unlink(p);
        free(p);
        free(d);
    }
}

/* A data error's shard: by its line, for the master to check the shards
 * before it. */
static void test_shard_of_error(void **state) {
    (void)state;
    split_t s;
    char err[256];
    assert_int_equal(split_str("a,b\n1,2\n3,4\n\n5,6\n7,8\n9,0\n", 2, 0, &s, err), 0);
    assert_int_equal(s.nshards, 3); /* lines 2-3, 5-6, 7 */
    assert_int_equal(s.shards[1].first_line, 5);
    const char *f = "d.csv"; /* the name the job gave workers */
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:2:1: bad"), 0);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:4: blank?"), 0);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:5: Wrong input format"), 1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:6:3: x"), 1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:7: x"), 2);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:700: x"), 2);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:1: header"), -1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv: out of memory"), -1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:12x: x"), -1);
    assert_int_equal(split_shard_of_error(&s, f, "e.csv:5: x"), -1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv.bak:5: x"), -1);
    assert_int_equal(split_shard_of_error(&s, f, "d.csv:99999999999999999999999: x"), -1);
    split_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_bom_crlf_blank_noeol),
        cmocka_unit_test(test_quoted_newlines),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_detect_and_libsvm),
        cmocka_unit_test(test_random_vs_csvread),
        cmocka_unit_test(test_refine),
        cmocka_unit_test(test_shard_of_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
