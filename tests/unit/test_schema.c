/* Tests for common/schema and dataset_from_shard: fitting rules, JSON and
 * wire round trips, the merge law, bad input, and rows through the schema. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "common/dataset.h"
#include "common/schema.h"
#include "common/text.h"

static datasrc_t csvsrc(const char *header) {
    datasrc_t s = {.format = DATA_CSV,
                   .file = "t.csv",
                   .header = header,
                   .header_len = strlen(header),
                   .label = "label",
                   .id = "id"};
    return s;
}

static schema_t *fit(const char *header, const char *rows, const char *scale, char *err) {
    datasrc_t src = csvsrc(header);
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, 512);
    if (!sm) return NULL;
    schema_t *s = schema_fit(sm, &src, scale, err, 512);
    summary_destroy(&sm);
    return s;
}

static void test_fit_rules(void **state) {
    (void)state;
    char err[512];
    const char *h = "id,x,color,label,const";
    const char *rows = "r1,1,red,spam,5\n"
                       "r2,3,blue,ham,5\n"
                       "r3,NA,,spam,5\n"
                       "r4,5,red,eggs,5\n";
    schema_t *s = fit(h, rows, "standard", err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(schema_nr_class(s), 3);
    assert_string_equal(schema_label_name(s, 0), "spam");
    assert_string_equal(schema_label_name(s, 2), "eggs");
    assert_int_equal(schema_label_value(s, 2), 2); /* text labels: the index */
    assert_int_equal(schema_label_count(s, 0), 2);
    /* x: 1 feature; color: red, blue, missing = 3; const: 1 */
    assert_int_equal(schema_n_features(s), 5);
    assert_int_equal(schema_column_kind(s, 0), SCHEMA_ID);
    assert_int_equal(schema_column_kind(s, 2), SCHEMA_TEXT);
    int idx;
    double v;
    /* mean 3, population std sqrt(8/3) */
    assert_int_equal(schema_encode(s, 1, "5", 1, &idx, &v), 1);
    assert_int_equal(idx, 1);
    assert_true(fabs(v - 2.0 / sqrt(8.0 / 3.0)) < 1e-12);
    assert_int_equal(schema_encode(s, 1, "NA", 2, &idx, &v), 0); /* imputed mean -> 0 */
    assert_int_equal(schema_encode(s, 2, "blue", 4, &idx, &v), 1);
    assert_int_equal(idx, 3);
    assert_int_equal(schema_encode(s, 2, "", 0, &idx, &v), 1);
    assert_int_equal(idx, 4);
    assert_int_equal(schema_encode(s, 2, "green", 5, &idx, &v), 0); /* unseen: ignored */
    assert_int_equal(schema_encode(s, 4, "5", 1, &idx, &v), 0);     /* constant -> 0 */
    assert_int_equal(schema_encode(s, 4, "9", 1, &idx, &v), 0);
    schema_destroy(&s);

    s = fit(h, rows, "minmax", err);
    assert_non_null(s);
    assert_int_equal(schema_encode(s, 1, "NA", 2, &idx, &v), 1);
    assert_true(fabs(v - 0.5) < 1e-15);
    schema_destroy(&s);
    s = fit(h, rows, "none", err);
    assert_int_equal(schema_encode(s, 1, "2.5", 3, &idx, &v), 1);
    assert_true(v == 2.5);
    schema_destroy(&s);
    assert_null(fit(h, rows, "zscore", err));
    assert_non_null(strstr(err, "standard, minmax or none"));
}

static void test_label_order(void **state) {
    (void)state;
    char err[512];
    schema_t *s = fit("x,label", "1,-1\n2,+1\n3,-1\n", NULL, err);
    assert_non_null(s);
    assert_int_equal(schema_label_value(s, 0), 1); /* +1 first, as liblinear */
    assert_int_equal(schema_label_value(s, 1), -1);
    assert_string_equal(schema_label_name(s, 0), "+1");
    assert_int_equal(schema_label_count(s, 1), 2);
    schema_destroy(&s);
    s = fit("x,label", "1,7\n2,3\n3,5\n", NULL, err);
    assert_int_equal(schema_label_value(s, 0), 7);
    assert_int_equal(schema_label_value(s, 2), 5);
    schema_destroy(&s);
    s = fit("x,label", "1,1\n2,+1\n3,0\n", NULL, err); /* same int twice: use indices */
    assert_int_equal(schema_nr_class(s), 3);
    assert_int_equal(schema_label_value(s, 1), 1);
    assert_int_equal(schema_label_value(s, 2), 2);
    schema_destroy(&s);
}

static void test_bad_input(void **state) {
    (void)state;
    char err[512];
    datasrc_t src = csvsrc("a,b,c");
    src.label = "y";
    assert_null(summary_from_shard(&src, "1,2,3\n", 6, 0, 2, err, sizeof err));
    assert_string_equal(err, "t.csv:1: no label column \"y\" (the header has 3 columns: a, b, c)");
    assert_null(fit("x,label", "1,a\n2,a\n", NULL, err));
    assert_non_null(strstr(err, "only one class"));
    assert_null(fit("x,x,label", "1,1,a\n2,2,b\n", NULL, err));
    assert_non_null(strstr(err, "duplicate column name \"x\""));
    assert_null(fit("x,label", "1,a\n2,\n", NULL, err));
    assert_string_equal(err, "t.csv:3:2: missing label in column \"label\"");
    assert_null(fit("x,label", "1,a\n2,b,3\n", NULL, err));
    assert_string_equal(err, "t.csv:3: too many fields: 3, the header has 2");
    assert_null(fit("x,label", "1,a\n-1e200,b\n", NULL, err));
    assert_non_null(strstr(err, "t.csv:3:1: number out of range"));
    assert_null(fit("x,label", "1,a\n\"2,b\n", NULL, err));
    assert_non_null(strstr(err, "t.csv:3: unterminated quote"));
}

/* Compares two JSON values; numbers within 1e-12 relative. */
static int json_close(json_object *a, json_object *b) {
    json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if ((ta == json_type_double || ta == json_type_int) &&
        (tb == json_type_double || tb == json_type_int)) {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return fabs(x - y) <= 1e-12 * fmax(1.0, fmax(fabs(x), fabs(y)));
    }
    if (ta != tb) return 0;
    if (ta == json_type_object) {
        if (json_object_object_length(a) != json_object_object_length(b)) return 0;
        json_object_object_foreach(a, k, v) {
            json_object *w;
            if (!json_object_object_get_ex(b, k, &w) || !json_close(v, w)) return 0;
        }
        return 1;
    }
    if (ta == json_type_array) {
        if (json_object_array_length(a) != json_object_array_length(b)) return 0;
        for (size_t i = 0; i < json_object_array_length(a); i++)
            if (!json_close(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return 0;
        return 1;
    }
    return strcmp(json_object_to_json_string(a), json_object_to_json_string(b)) == 0;
}

static char *random_csv(int rows, size_t **row_off) {
    size_t cap = 256 + (size_t)rows * 128, len = 0;
    char *d = malloc(cap);
    *row_off = malloc(((size_t)rows + 1) * sizeof **row_off);
    assert_true(d && *row_off);
    const char *words[] = {"a", "b", "\"c,d\"", "NA", "", "e", "7"};
    for (int r = 0; r < rows; r++) {
        (*row_off)[r] = len;
        double x = (rand() % 20000 - 10000) / 37.0;
        int mixed = rand() % 50 == 0;
        len += (size_t)snprintf(d + len, cap - len, "%d,%.17g,%s,%s,%s,%d\n", r, x,
                                rand() % 10 == 0 ? "?" : "3.25", words[rand() % 7],
                                mixed ? "word" : (rand() % 3 ? "1.5" : "-2"),
                                rand() % 3 == 0 ? 1 : (rand() % 2 ? -1 : 4));
    }
    (*row_off)[rows] = len;
    return d;
}

static void test_merge_law(void **state) {
    (void)state;
    char err[512];
    const char *h = "id,x,m,t,mix,label";
    datasrc_t src = csvsrc(h);
    srand(2024);
    for (int iter = 0; iter < 30; iter++) {
        /* Some draws span several of the schema pass's blocks of rows. */
        int rows = 5 + rand() % (iter % 4 == 0 ? 7000 : 300);
        size_t *off;
        char *d = random_csv(rows, &off);
        summary_t *whole = summary_from_shard(&src, d, off[rows], 0, 2, err, sizeof err);
        if (!whole) fail_msg("%s", err);
        /* k shards at random row boundaries, each sent over the wire */
        int k = 1 + rand() % 8;
        int cuts[10];
        cuts[0] = 0;
        for (int i = 1; i < k; i++)
            cuts[i] = rand() % (rows + 1);
        cuts[k] = rows;
        for (int i = 1; i < k; i++) /* sort */
            for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
                int t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        summary_t *merged = NULL;
        for (int i = 0; i < k; i++) {
            summary_t *part =
                summary_from_shard(&src, d + off[cuts[i]], off[cuts[i + 1]] - off[cuts[i]],
                                   (uint64_t)cuts[i], 2 + (uint64_t)cuts[i], err, sizeof err);
            assert_non_null(part);
            char *wire;
            size_t wl;
            assert_int_equal(summary_encode(part, &wire, &wl), 0);
            summary_destroy(&part);
            part = summary_decode(wire, wl, err, sizeof err);
            if (!part) fail_msg("decode: %s", err);
            free(wire);
            if (!merged)
                merged = part;
            else {
                assert_int_equal(summary_merge(merged, part), 0);
                summary_destroy(&part);
            }
        }
        assert_int_equal(summary_rows(merged), rows);
        schema_t *a = schema_fit(whole, &src, "standard", err, sizeof err);
        schema_t *b = schema_fit(merged, &src, "standard", err, sizeof err);
        if (!a || !b) {
            /* a single-class draw fails both ways alike */
            assert_true(!a && !b);
        } else {
            char *ja = schema_to_json(a), *jb = schema_to_json(b);
            json_object *oa = json_tokener_parse(ja), *ob = json_tokener_parse(jb);
            if (!json_close(oa, ob)) fail_msg("iter %d k %d:\n%s\n---\n%s", iter, k, ja, jb);
            json_object_put(oa);
            json_object_put(ob);
            free(ja);
            free(jb);
        }
        schema_destroy(&a);
        schema_destroy(&b);
        summary_destroy(&whole);
        summary_destroy(&merged);
        free(d);
        free(off);
    }
}

/* The schema pass summarises blocks of rows column by column; errors must
 * still name the first bad field in file order, across columns and blocks. */
static void test_first_error_in_file_order(void **state) {
    (void)state;
    const char *h = "a,b,label";
    datasrc_t src = {.format = DATA_CSV,
                     .file = "t.csv",
                     .header = h,
                     .header_len = strlen(h),
                     .label = "label"};
    char err[512];
    enum { ROWS = 5000 };
    size_t cap = ROWS * 32;
    char *d = malloc(cap);
    assert_non_null(d);
    /* bad[k] = {row, column}: out-of-range numbers (a, b) or a missing label */
    static const int cases[][4] = {
        {4100, 1, 4101, 0}, /* later row, earlier column: the row wins */
        {4100, 1, 4100, 0}, /* same row: the earlier column wins */
        {10, 2, 3000, 0},   /* a missing label in the first block */
        {2047, 0, 2048, 1}, /* either side of a block boundary */
    };
    static const char *const want[] = {"t.csv:4102:2: number out of range",
                                       "t.csv:4102:1: number out of range",
                                       "t.csv:12:3: missing label", "t.csv:2049:1: number"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = 0;
        for (int r = 0; r < ROWS; r++) {
            const char *f[3] = {"1", "2", r % 2 ? "x" : "y"};
            for (int k = 0; k < 2; k++)
                if (cases[c][2 * k] == r)
                    f[cases[c][2 * k + 1]] = cases[c][2 * k + 1] == 2 ? "" : "1e200";
            len += (size_t)snprintf(d + len, cap - len, "%s,%s,%s\n", f[0], f[1], f[2]);
        }
        assert_null(summary_from_shard(&src, d, len, 0, 2, err, sizeof err));
        if (strncmp(err, want[c], strlen(want[c])) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", c, err, want[c]);
    }
    /* csvread stops at a short row in a later block; an earlier bad number in
     * the rows buffered before it is the one reported. */
    size_t len = 0;
    for (int r = 0; r < 3000; r++)
        len += (size_t)snprintf(d + len, cap - len, "%s\n",
                                r == 2100   ? "1e200,2,x"
                                : r == 2200 ? "1,2"
                                            : "1,2,x");
    assert_null(summary_from_shard(&src, d, len, 0, 2, err, sizeof err));
    assert_non_null(strstr(err, "t.csv:2102:1: number out of range"));
    free(d);
}

/* A wide file: the schema pass takes fewer rows a block, and the summary of
 * the whole still equals the merge of two parts cut at a random row. */
static void test_wide_merge(void **state) {
    (void)state;
    enum { COLS = 1200, ROWS = 4000 };
    char err[512];
    size_t hcap = COLS * 8 + 16, cap = (size_t)ROWS * COLS * 4 + 16;
    char *h = malloc(hcap), *d = malloc(cap);
    size_t *off = malloc((ROWS + 1) * sizeof *off);
    assert_true(h && d && off);
    size_t hl = 0, len = 0;
    for (int c = 0; c < COLS; c++)
        hl += (size_t)snprintf(h + hl, hcap - hl, "c%d,", c);
    snprintf(h + hl, hcap - hl, "label");
    srand(5);
    for (int r = 0; r < ROWS; r++) {
        off[r] = len;
        for (int c = 0; c < COLS; c++) {
            int v = rand() % 7;
            /* column 3 turns text late, column 5 has missing values */
            if (c == 3 && r == 3500)
                len += (size_t)snprintf(d + len, cap - len, "late,");
            else if (c == 5 && v == 0)
                len += (size_t)snprintf(d + len, cap - len, "NA,");
            else
                len += (size_t)snprintf(d + len, cap - len, "%d,", v);
        }
        len += (size_t)snprintf(d + len, cap - len, "%s\n", r % 3 ? "a" : "b");
    }
    off[ROWS] = len;
    datasrc_t src = {.format = DATA_CSV,
                     .file = "w.csv",
                     .header = h,
                     .header_len = strlen(h),
                     .label = "label"};
    summary_t *whole = summary_from_shard(&src, d, len, 0, 2, err, sizeof err);
    if (!whole) fail_msg("%s", err);
    int cut = 1 + rand() % (ROWS - 1);
    summary_t *a = summary_from_shard(&src, d, off[cut], 0, 2, err, sizeof err);
    summary_t *b = summary_from_shard(&src, d + off[cut], len - off[cut], (uint64_t)cut,
                                      2 + (uint64_t)cut, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(summary_merge(a, b), 0);
    schema_t *sw = schema_fit(whole, &src, "standard", err, sizeof err);
    schema_t *sm = schema_fit(a, &src, "standard", err, sizeof err);
    assert_non_null(sw);
    assert_non_null(sm);
    assert_int_equal(schema_column_kind(sw, 3), SCHEMA_TEXT);
    char *jw = schema_to_json(sw), *jm = schema_to_json(sm);
    assert_string_equal(jw, jm);
    free(jw);
    free(jm);
    schema_destroy(&sw);
    schema_destroy(&sm);
    summary_destroy(&whole);
    summary_destroy(&a);
    summary_destroy(&b);
    free(h);
    free(d);
    free(off);
}

static void test_vocab_cap_merge(void **state) {
    (void)state;
    char err[512];
    datasrc_t src = csvsrc("t,label");
    size_t cap = 64 * 3000, len = 0;
    char *d = malloc(cap);
    size_t mid = 0;
    for (int r = 0; r < 2500; r++) {
        if (r == 1200) mid = len;
        len += (size_t)snprintf(d + len, cap - len, "v%d,%d\n", (r * 7919) % 1300, r % 2);
    }
    summary_t *whole = summary_from_shard(&src, d, len, 0, 2, err, sizeof err);
    summary_t *a = summary_from_shard(&src, d, mid, 0, 2, err, sizeof err);
    summary_t *b = summary_from_shard(&src, d + mid, len - mid, 1200, 1202, err, sizeof err);
    assert_true(whole && a && b);
    assert_int_equal(summary_merge(a, b), 0);
    schema_t *s1 = schema_fit(whole, &src, NULL, err, sizeof err);
    schema_t *s2 = schema_fit(a, &src, NULL, err, sizeof err);
    char *j1 = schema_to_json(s1), *j2 = schema_to_json(s2);
    assert_string_equal(j1, j2);
    assert_int_equal(schema_n_features(s1), SCHEMA_VOCAB_CAP + 1); /* + "other" */
    free(j1);
    free(j2);
    schema_destroy(&s1);
    schema_destroy(&s2);
    summary_destroy(&whole);
    summary_destroy(&a);
    summary_destroy(&b);
    free(d);
}

static void test_json_roundtrip_and_save(void **state) {
    (void)state;
    char err[512];
    schema_t *s =
        fit("id,x,color,label", "1,0.1,\"r\"\"ed\",a\n2,0.3,blue,b\n3,,NA,a\n", NULL, err);
    assert_non_null(s);
    char *j = schema_to_json(s);
    schema_t *t = schema_from_json(j, strlen(j), err, sizeof err);
    if (!t) fail_msg("%s\n%s", err, j);
    char *j2 = schema_to_json(t);
    assert_string_equal(j, j2);
    char path[] = "/tmp/nc_schema_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(schema_save(s, path, err, sizeof err), 0);
    schema_t *u = schema_load(path, err, sizeof err);
    assert_non_null(u);
    char *j3 = schema_to_json(u);
    assert_string_equal(j, j3);
    unlink(path);
    /* tampering is caught */
    char *bad = strdup(j);
    char *p = strstr(bad, "\"index\": 1");
    assert_non_null(p);
    p[9] = '2';
    assert_null(schema_from_json(bad, strlen(bad), err, sizeof err));
    assert_non_null(strstr(err, "indices"));
    for (size_t cut = 0; cut < strlen(j); cut += 7)
        assert_null(schema_from_json(j, cut, err, sizeof err));
    assert_null(schema_load("/nonexistent/s.json", err, sizeof err));
    free(bad);
    free(j);
    free(j2);
    free(j3);
    schema_destroy(&s);
    schema_destroy(&t);
    schema_destroy(&u);
}

static void test_summary_decode_hostile(void **state) {
    (void)state;
    char err[512];
    datasrc_t src = csvsrc("id,x,t,label");
    const char *rows = "1,2,a,x\n2,3,b,y\n";
    summary_t *s = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, sizeof err);
    char *w;
    size_t wl;
    assert_int_equal(summary_encode(s, &w, &wl), 0);
    for (size_t cut = 0; cut < wl; cut++)
        assert_null(summary_decode(w, cut, err, sizeof err));
    srand(99);
    for (int i = 0; i < 2000; i++) {
        char *m = malloc(wl);
        memcpy(m, w, wl);
        m[rand() % wl] ^= (char)(1 << (rand() % 8));
        summary_t *x = summary_decode(m, wl, err, sizeof err);
        summary_destroy(&x); /* accepted or not, never a crash */
        free(m);
    }
    summary_t *ok = summary_decode(w, wl, err, sizeof err);
    assert_non_null(ok);
    summary_destroy(&ok);
    /* a vocabulary value that is not UTF-8 (the reader never makes one) is
     * refused, so that it cannot reach the schema JSON from a peer */
    char *vb = memmem(w, wl,
                      "\x01\x00\x00\x00"
                      "a",
                      5);
    assert_non_null(vb);
    vb[4] = (char)0xE9;
    assert_null(summary_decode(w, wl, err, sizeof err));
    free(w);
    summary_destroy(&s);
}

static void test_dataset_csv(void **state) {
    (void)state;
    char err[512];
    schema_t *s = fit("id,x,color,label", "a,1,red,yes\nb,3,blue,no\n", "none", err);
    assert_non_null(s);
    /* test file: columns reordered, extra column, no label */
    datasrc_t src = csvsrc("color,extra,x,id");
    const char *rows = "blue,9,0,k1\ngreen,9,2.5,k2\nred,9,NA,k3\n";
    dataset_t *d;
    assert_int_equal(
        dataset_from_shard(s, &src, rows, strlen(rows), 10, 12, 1.0, &d, err, sizeof err), 0);
    assert_int_equal(d->rows, 3);
    assert_int_equal(d->n, 4); /* x, red, blue + bias */
    assert_int_equal(d->first_row, 10);
    assert_int_equal(d->y[0], -1);
    assert_string_equal(d->ids[2], "k3");
    /* row 0: x=0 (not stored), blue -> 3, bias 4 */
    assert_int_equal(d->x[0][0].index, 3);
    assert_int_equal(d->x[0][1].index, 4);
    assert_int_equal(d->x[0][2].index, -1);
    /* row 1: x=2.5, green unseen */
    assert_int_equal(d->x[1][0].index, 1);
    assert_true(d->x[1][0].value == 2.5);
    assert_int_equal(d->x[1][1].index, 4);
    /* row 2: x missing -> mean 2; red -> 2 (sorted after x) */
    assert_int_equal(d->x[2][0].index, 1);
    assert_true(d->x[2][0].value == 2.0);
    assert_int_equal(d->x[2][1].index, 2);
    dataset_destroy(&d);
    assert_null(d);
    /* with labels, no bias, no id column */
    datasrc_t src2 = csvsrc("x,color,label");
    rows = "1,red,no\n2,red,maybe\n";
    assert_int_equal(
        dataset_from_shard(s, &src2, rows, strlen(rows), 0, 2, -1, &d, err, sizeof err), 0);
    assert_int_equal(d->y[0], 1);
    assert_int_equal(d->y[1], -1);
    assert_null(d->ids);
    assert_int_equal(d->n, 3);
    assert_int_equal(d->x[0][2].index, -1);
    dataset_destroy(&d);
    /* a missing feature column is named */
    datasrc_t src3 = csvsrc("x,label");
    assert_int_equal(schema_check_source(s, &src3, err, sizeof err), -1);
    assert_string_equal(err, "t.csv:1: no column \"color\", which the model was trained with");
    assert_int_equal(dataset_from_shard(s, &src3, "1,a\n", 4, 0, 2, 1, &d, err, sizeof err), -1);
    /* so is a feature column given twice; an unused one may repeat */
    datasrc_t src4 = csvsrc("x,color,label,x,junk,junk");
    assert_int_equal(schema_check_source(s, &src4, err, sizeof err), -1);
    assert_string_equal(err, "t.csv:1:4: column \"x\" appears twice (also column 1)");
    datasrc_t src5 = csvsrc("x,color,label,junk,junk");
    assert_int_equal(schema_check_source(s, &src5, err, sizeof err), 0);
    schema_destroy(&s);
}

static void test_libsvm(void **state) {
    (void)state;
    char err[512];
    datasrc_t src = {.format = DATA_LIBSVM, .file = "t.svm"};
    const char *rows = "-1 1:0.5 3:1\n+1 2:2\n-1 7:1\n";
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 1, err, sizeof err);
    assert_non_null(sm);
    schema_t *s = schema_fit(sm, &src, "standard", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(schema_n_features(s), 7);
    assert_int_equal(schema_label_value(s, 0), 1); /* +1 first */
    assert_int_equal(schema_label_count(s, 1), 2);
    char *j = schema_to_json(s);
    schema_t *t = schema_from_json(j, strlen(j), err, sizeof err);
    assert_non_null(t);
    assert_int_equal(schema_n_features(t), 7);
    free(j);
    dataset_t *d;
    const char *test = "1 1:3 9:1\n5 2:1\n";
    assert_int_equal(dataset_from_shard(t, &src, test, strlen(test), 0, 1, 1, &d, err, sizeof err),
                     0);
    assert_int_equal(d->n, 8);
    assert_int_equal(d->y[0], 0);
    assert_int_equal(d->y[1], -1);
    assert_true(d->x[0][0].value == 3.0);
    assert_int_equal(d->x[0][1].index, 8); /* 9 > n_features dropped; bias */
    dataset_destroy(&d);
    assert_int_equal(dataset_from_shard(t, &src, "x 1:1\n", 6, 0, 4, 1, &d, err, sizeof err), -1);
    assert_string_equal(err, "t.svm:4: Wrong input format at line 4: the label is not a number");
    datasrc_t csv = csvsrc("a,label");
    assert_int_equal(schema_check_source(t, &csv, err, sizeof err), -1);
    summary_destroy(&sm);
    schema_destroy(&s);
    schema_destroy(&t);
    int labels[] = {3, 1, 2};
    s = schema_for_libsvm(10, labels, 3);
    assert_int_equal(schema_nr_class(s), 3);
    assert_int_equal(schema_label_value(s, 0), 3);
    assert_string_equal(schema_label_name(s, 2), "2");
    assert_int_equal(schema_label_find_int(s, 1), 1);
    schema_destroy(&s);
    sm = summary_from_shard(&src, "1 1:1\n1 2:1\n", 12, 0, 1, err, sizeof err);
    assert_null(schema_fit(sm, &src, NULL, err, sizeof err));
    assert_non_null(strstr(err, "only one class"));
    summary_destroy(&sm);
}

/* Training: a number that is not finite is an error naming its cell, in a
 * column of numbers and in a column of text alike, never a one-hot value. */
static void test_nonfinite_train(void **state) {
    (void)state;
    char err[512];
    const char *bad[] = {"inf", "-inf", "+Infinity", "INF", "1e999", "-1e999", "-nan"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char rows[128];
        snprintf(rows, sizeof rows, "1,2,a\n3,%s,b\n5,6,a\n", bad[i]);
        assert_null(fit("x,y,label", rows, NULL, err));
        char want[256];
        snprintf(want, sizeof want,
                 "t.csv:3:2: not a finite number: %s (write an empty field or NA for a missing "
                 "value)",
                 bad[i]);
        assert_string_equal(err, want);
        snprintf(rows, sizeof rows, "1,red,a\n3,%s,b\n5,blue,a\n", bad[i]);
        assert_null(fit("x,y,label", rows, NULL, err));
        assert_string_equal(err, want);
    }
    /* the missing markers stay missing */
    schema_t *s = fit("x,y,label", "1,nan,a\n3,NaN,b\n5,6,a\n", NULL, err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(schema_column_kind(s, 1), SCHEMA_NUMERIC);
    schema_destroy(&s);
    /* a 10 MB integer overflows: an error of one short line */
    size_t big = (size_t)10 << 20;
    char *rows = malloc(big + 64);
    assert_non_null(rows);
    strcpy(rows, "1,a\n");
    memset(rows + 4, '7', big);
    strcpy(rows + 4 + big, ",b\n");
    assert_null(fit("x,label", rows, NULL, err));
    assert_non_null(strstr(err, "t.csv:3:1: not a finite number: 7777"));
    assert_true(strlen(err) < 200);
    free(rows);
}

/* Testing applies the same rules, and a number whose scaled value overflows
 * is an error too, instead of a nan prediction. */
static void test_nonfinite_test(void **state) {
    (void)state;
    char err[512];
    schema_t *s = fit("x,color,label", "1,red,a\n3,blue,b\n", "standard", err);
    assert_non_null(s);
    datasrc_t src = csvsrc("x,color,label");
    dataset_t *d = NULL;
    const char *cases[][2] = {
        {"1,red,a\n2,blue,b\ninf,red,a\n",
         "t.csv:4:1: not a finite number: inf (write an empty field or NA for a missing value)"},
        {"1,red,a\n-1e308,blue,b\n", "t.csv:3:1: number out of range (more than 1e100): -1e308"},
        {"1,red,a\n1,1e999,b\n",
         "t.csv:3:2: not a finite number: 1e999 (write an empty field or NA for a missing value)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *rows = cases[i][0];
        assert_int_equal(
            dataset_from_shard(s, &src, rows, strlen(rows), 0, 2, 1.0, &d, err, sizeof err), -1);
        assert_null(d);
        assert_string_equal(err, cases[i][1]);
    }
    schema_destroy(&s);
    /* a tiny spread: 1e10 is in range but overflows once scaled */
    s = fit("x,label", "0,a\n1e-300,b\n", "minmax", err);
    assert_non_null(s);
    datasrc_t src2 = csvsrc("x,label");
    assert_int_equal(dataset_from_shard(s, &src2, "1e10,a\n", 7, 0, 2, 1.0, &d, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "t.csv:2:1: 1e10 is out of range for this column once scaled"));
    schema_numeric_t num;
    assert_int_equal(schema_numeric(s, 0, &num), 1);
    double v;
    assert_int_equal(schema_numeric_field(&num, "1e10", 4, &v, "f", 9, 0, err, sizeof err), -1);
    assert_int_equal(schema_numeric_field(&num, "0", 1, &v, "f", 9, 0, err, sizeof err), 0);
    assert_int_equal(schema_numeric_field(&num, "zz", 2, &v, "f", 9, 0, err, sizeof err), 0);
    assert_true(v == num.impute);
    schema_destroy(&s);
}

/* Text that is not UTF-8 never reaches the schema JSON: an error names the
 * cell (or the header column) and the byte. */
static void test_not_utf8(void **state) {
    (void)state;
    char err[512];
    assert_null(fit("x,city,label", "1,Paris,a\n2,B\xe9ziers,b\n", NULL, err));
    assert_string_equal(err, "t.csv:3:2: not valid UTF-8 (byte 0xE9 at offset 1 of the field); "
                             "convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8");
    assert_null(fit("x,city,label", "1,Paris,a\n2,Nice,\xe9t\xe9\n", NULL, err));
    assert_non_null(strstr(err, "t.csv:3:3: not valid UTF-8 (byte 0xE9 at offset 0"));
    assert_null(fit("x,ann\xe9\x65,label", "1,2,a\n2,3,b\n", NULL, err));
    assert_non_null(strstr(err, "t.csv:1:2: not valid UTF-8 (byte 0xE9 at offset 3"));
    /* valid UTF-8 is kept as it is, and the JSON reads back */
    schema_t *s = fit("x,city,label", "1,B\xc3\xa9ziers,a\n2,Nice,b\n", NULL, err);
    if (!s) fail_msg("%s", err);
    char *json = schema_to_json(s);
    assert_non_null(json);
    schema_t *back = schema_from_json(json, strlen(json), err, sizeof err);
    assert_non_null(back);
    schema_destroy(&back);
    free(json);
    /* testing: the same rule */
    datasrc_t src = csvsrc("x,city,label");
    dataset_t *d = NULL;
    const char *rows = "1,Nice,a\n2,N\xeemes,b\n";
    assert_int_equal(
        dataset_from_shard(s, &src, rows, strlen(rows), 0, 2, 1.0, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.csv:3:2: not valid UTF-8 (byte 0xEE at offset 1"));
    schema_destroy(&s);
}

/* A long field cannot make a long schema: text values are known by their
 * first SCHEMA_TEXT_MAX bytes, in training and testing alike. */
static void test_long_text(void **state) {
    (void)state;
    char err[512];
    size_t big = (size_t)10 << 20;
    char *rows = malloc(big + 64);
    assert_non_null(rows);
    strcpy(rows, "1,red,a\n2,");
    size_t at = strlen(rows);
    memset(rows + at, 'q', big);
    rows[at + SCHEMA_TEXT_MAX - 1] = 'Z';
    strcpy(rows + at + big, ",b\n");
    schema_t *s = fit("x,color,label", rows, NULL, err);
    if (!s) fail_msg("%s", err);
    char *json = schema_to_json(s);
    assert_non_null(json);
    assert_true(strlen(json) < 4096);
    free(json);
    assert_int_equal(schema_n_features(s), 3);
    int idx;
    double v;
    const char *field = rows + at;
    assert_int_equal(schema_encode(s, 1, field, big, &idx, &v), 1);
    assert_int_equal(idx, 3);
    /* the same first bytes: the same category; a change within them: not */
    assert_int_equal(schema_encode(s, 1, field, SCHEMA_TEXT_MAX + 1, &idx, &v), 1);
    assert_int_equal(schema_encode(s, 1, field, SCHEMA_TEXT_MAX - 1, &idx, &v), 0);
    schema_destroy(&s);
    free(rows);
    /* a cut never splits a character: "x" then 2-byte characters, one of
     * them across the limit (bytes 255-256) */
    char crow[2 * SCHEMA_TEXT_MAX];
    size_t cl = (size_t)sprintf(crow, "1,red,a\n2,x");
    size_t f0 = cl - 1;
    for (int k = 0; k < 129; k++) {
        crow[cl++] = (char)0xC3;
        crow[cl++] = (char)0xA9;
    }
    cl += (size_t)sprintf(crow + cl, ",b\n");
    s = fit("x,color,label", crow, NULL, err);
    if (!s) fail_msg("%s", err);
    json = schema_to_json(s);
    assert_non_null(json);
    schema_t *back = schema_from_json(json, strlen(json), err, sizeof err);
    if (!back) fail_msg("%s", err);
    schema_destroy(&back);
    free(json);
    /* the key is 255 bytes: any text with those first 255 bytes matches */
    assert_int_equal(schema_encode(s, 1, crow + f0, SCHEMA_TEXT_MAX - 1, &idx, &v), 1);
    assert_int_equal(idx, 3);
    schema_destroy(&s);
    /* labels are not cut (two would merge): too long is an error */
    char lrows[SCHEMA_TEXT_MAX + 64];
    memset(lrows, 0, sizeof lrows);
    strcpy(lrows, "1,a\n2,");
    memset(lrows + 6, 'L', SCHEMA_TEXT_MAX + 1);
    strcat(lrows, "\n");
    assert_null(fit("x,label", lrows, NULL, err));
    assert_non_null(strstr(err, "t.csv:3:2: label longer than 256 bytes (257)"));
}

/* Wide files: every column maps, the first copy of a name wins, and a
 * feature column given twice is named (hash lookups: 100k columns here). */
static void test_wide_file_columns(void **state) {
    (void)state;
    char err[512];
    const size_t n = 100000;
    size_t cap = n * 8 + 64;
    char *h = malloc(cap), *r1 = malloc(cap), *r2 = malloc(cap);
    assert_true(h && r1 && r2);
    size_t hl = 0, l1 = 0, l2 = 0;
    hl += (size_t)sprintf(h + hl, "label");
    l1 += (size_t)sprintf(r1 + l1, "a");
    l2 += (size_t)sprintf(r2 + l2, "b");
    for (size_t i = 0; i < n; i++) {
        hl += (size_t)sprintf(h + hl, ",c%zu", i);
        l1 += (size_t)sprintf(r1 + l1, ",%zu", i % 7);
        l2 += (size_t)sprintf(r2 + l2, ",%zu", i % 5);
    }
    char *rows = malloc(l1 + l2 + 3);
    assert_non_null(rows);
    sprintf(rows, "%s\n%s\n", r1, r2);
    schema_t *s = fit(h, rows, NULL, err);
    if (!s) fail_msg("%s", err);
    char **names = malloc((n + 2) * sizeof *names);
    assert_non_null(names);
    char nm[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(nm, sizeof nm, "c%zu", n - 1 - i); /* reversed */
        names[i] = strdup(nm);
    }
    names[n] = strdup("c5");
    names[n + 1] = strdup("label");
    schema_filecol_t *fc = schema_file_columns(s, names, n + 2);
    assert_non_null(fc);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fc[i].sc, (long)(n - i)); /* schema column 0 is the label */
    assert_int_equal(fc[n].sc, -1);                /* second "c5" */
    assert_int_equal(fc[n + 1].sc, 0);
    free(fc);
    /* the same names as a test file header: fine; with c5 twice: named */
    char *th = malloc(cap);
    assert_non_null(th);
    size_t tl = 0;
    for (size_t i = 0; i < n + 2; i++)
        tl += (size_t)sprintf(th + tl, "%s%s", i ? "," : "", names[i]);
    datasrc_t src = csvsrc(th);
    assert_int_equal(schema_check_source(s, &src, err, sizeof err), -1);
    assert_string_equal(err, "t.csv:1:100001: column \"c5\" appears twice (also column 99995)");
    src.header_len = strlen(th) - strlen(",c5,label");
    assert_int_equal(schema_check_source(s, &src, err, sizeof err), 0);
    for (size_t i = 0; i < n + 2; i++)
        free(names[i]);
    free(names);
    free(th);
    free(rows);
    free(h);
    free(r1);
    free(r2);
    schema_destroy(&s);
}

/* --- free text (bag of words) --- */

static datasrc_t textsrc(const char *header, const char *text) {
    datasrc_t s = csvsrc(header);
    s.text = text;
    s.count_terms = 1;
    s.ngram = 1;
    return s;
}

/* The terms (key "terms") or df (key "df") of schema column col, joined by '|'. */
static const char *words_list(const schema_t *s, size_t col, const char *key) {
    static char out[1024];
    char *j = schema_to_json(s);
    json_object *o = json_tokener_parse(j), *cols, *arr;
    assert_true(json_object_object_get_ex(o, "columns", &cols));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(cols, col), key, &arr));
    out[0] = 0;
    for (size_t k = 0; k < json_object_array_length(arr); k++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", k ? "|" : "",
                 json_object_get_string(json_object_array_get_idx(arr, k)));
    json_object_put(o);
    free(j);
    return out;
}

static schema_t *fit_words(const char *h, const char *rows, const schema_textopts_t *to,
                           char *err) {
    datasrc_t src = textsrc(h, "t\n");
    src.ngram = to ? to->ngram : 1;
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, 512);
    if (!sm) return NULL;
    schema_t *s = schema_fit_text(sm, &src, "standard", to, err, 512);
    summary_destroy(&sm);
    return s;
}

static void test_words_fit(void **state) {
    (void)state;
    char err[512];
    /* df: the 4, cat 3, dog 2 (counted once per row), zebra 1 (< min_df) */
    const char *h = "id,t,x,label";
    const char *rows = "1,The cat the cat,1,a\n"
                       "2,the dog,2,b\n"
                       "3,\"cat, dog; THE zebra\",3,a\n"
                       "4,the cat,4,b\n"
                       "5,NA,5,a\n";
    schema_t *s = fit_words(h, rows, NULL, err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(schema_column_kind(s, 1), SCHEMA_WORDS);
    /* x is feature 1; the terms follow in byte order: cat 2, dog 3, the 4 */
    assert_int_equal(schema_n_features(s), 4);
    assert_string_equal(words_list(s, 1, "terms"), "cat|dog|the");
    assert_string_equal(words_list(s, 1, "df"), "3|2|4");
    schema_words_t w = {0};
    /* "the cat the cat mouse": tf the 2, cat 2; mouse unseen */
    const char *f = "The cat the cat mouse";
    assert_int_equal(schema_words_field(s, 1, f, strlen(f), &w, "f", 1, 1, err, sizeof err), 2);
    double idf_cat = log(6.0 / 4.0) + 1, idf_the = log(6.0 / 5.0) + 1;
    double a = (1 + log(2.0)) * idf_cat, b = (1 + log(2.0)) * idf_the, n = sqrt(a * a + b * b);
    assert_int_equal(w.index[0], 2);
    assert_int_equal(w.index[1], 4);
    assert_true(fabs(w.value[0] - a / n) < 1e-12);
    assert_true(fabs(w.value[1] - b / n) < 1e-12);
    assert_int_equal(schema_words_field(s, 1, "NA", 2, &w, "f", 1, 1, err, sizeof err), 0);
    assert_int_equal(schema_words_field(s, 1, "mouse!", 6, &w, "f", 1, 1, err, sizeof err), 0);
    assert_int_equal(schema_words_field(s, 1, "a\xff", 2, &w, "f", 7, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "f:7:2: not valid UTF-8"));
    schema_destroy(&s);

    /* raw counts; max_features 2 keeps the two most frequent: the, cat */
    schema_textopts_t to = SCHEMA_TEXTOPTS_DEFAULT;
    to.tfidf = 0;
    to.max_features = 2;
    s = fit_words(h, rows, &to, err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(schema_n_features(s), 3);
    assert_int_equal(schema_words_field(s, 1, f, strlen(f), &w, "f", 1, 1, err, sizeof err), 2);
    assert_int_equal(w.index[0], 2); /* cat */
    assert_true(w.value[0] == 2.0 && w.value[1] == 2.0);
    schema_destroy(&s);

    /* a tie at the cut is broken by the term's bytes: dog (2) beats zebra (2) */
    const char *tie = "1,zebra dog cat,1,a\n2,zebra dog cat cat,2,b\n3,cat,3,a\n";
    to = SCHEMA_TEXTOPTS_DEFAULT;
    to.max_features = 2;
    s = fit_words(h, tie, &to, err);
    if (!s) fail_msg("%s", err);
    assert_string_equal(words_list(s, 1, "terms"), "cat|dog");
    schema_destroy(&s);

    /* every term below min_df: an error that says so */
    to = SCHEMA_TEXTOPTS_DEFAULT;
    to.min_df = 5;
    assert_null(fit_words(h, rows, &to, err));
    assert_non_null(strstr(err, "text column \"t\": empty vocabulary"));
    assert_non_null(strstr(err, "data.min_df=5"));
    schema_words_free(&w);
}

static void test_words_bigrams_hashing(void **state) {
    (void)state;
    char err[512];
    const char *h = "id,t,x,label";
    const char *rows = "1,new york city,1,a\n2,new york,2,b\n3,york new,3,a\n";
    schema_textopts_t to = SCHEMA_TEXTOPTS_DEFAULT;
    to.ngram = 2;
    schema_t *s = fit_words(h, rows, &to, err);
    if (!s) fail_msg("%s", err);
    assert_string_equal(words_list(s, 1, "terms"), "new|new york|york");
    schema_destroy(&s);
    /* hashing: 2^4 features after x, no vocabulary, idf 1 */
    to = SCHEMA_TEXTOPTS_DEFAULT;
    to.hash_bits = 4;
    datasrc_t src = textsrc(h, "t\n");
    src.count_terms = 0;
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, sizeof err);
    assert_non_null(sm);
    s = schema_fit_text(sm, &src, "standard", &to, err, sizeof err);
    summary_destroy(&sm);
    if (!s) fail_msg("%s", err);
    assert_int_equal(schema_n_features(s), 17);
    schema_words_t w = {0};
    long n = schema_words_field(s, 1, "york york", 9, &w, "f", 1, 1, err, sizeof err);
    assert_int_equal(n, 1);
    assert_int_equal(w.index[0], 2 + (int)text_hash("york", 4, 4));
    assert_true(fabs(w.value[0] - 1.0) < 1e-12); /* one feature, L2-normalised */
    char *j = schema_to_json(s);
    schema_t *t = schema_from_json(j, strlen(j), err, sizeof err);
    if (!t) fail_msg("%s", err);
    assert_int_equal(schema_words_field(t, 1, "york york", 9, &w, "f", 1, 1, err, sizeof err), 1);
    assert_int_equal(w.index[0], 2 + (int)text_hash("york", 4, 4));
    free(j);
    schema_destroy(&t);
    schema_destroy(&s);
    schema_words_free(&w);
}

/* Random rows of free text from a small word list (so terms repeat and
 * some fall below min_df), with missing values. */
static char *random_text_csv(int rows, size_t **row_off) {
    static const char *words[] = {"alpha", "Beta", "gamma", "delta", "\xc3\x89t\xc3\xa9",
                                  "it's",  "x1",   "y2",    "zz",    "q",
                                  "long",  "short"};
    size_t cap = (size_t)rows * 200 + 64, len = 0;
    char *d = malloc(cap);
    *row_off = malloc(((size_t)rows + 1) * sizeof **row_off);
    for (int r = 0; r < rows; r++) {
        (*row_off)[r] = len;
        len += (size_t)snprintf(d + len, cap - len, "%d,\"", r);
        int nw = rand() % 9;
        if (rand() % 10 == 0) len += (size_t)snprintf(d + len, cap - len, "NA");
        for (int k = 0; nw && k < nw; k++)
            len += (size_t)snprintf(d + len, cap - len, "%s%s", k ? (rand() % 2 ? " " : ", ") : "",
                                    words[rand() % (rand() % 2 ? 12 : 4)]);
        len +=
            (size_t)snprintf(d + len, cap - len, "\",%d,%s\n", rand() % 5, rand() % 2 ? "a" : "b");
    }
    (*row_off)[rows] = len;
    return d;
}

/* The fitted vocabulary does not depend on the shard layout: k shards at
 * random row boundaries, each through the wire codec, merged in order, give
 * the schema of one summary of the whole file, byte for byte. */
static void test_words_merge_law(void **state) {
    (void)state;
    char err[512];
    const char *h = "id,t,x,label";
    srand(77);
    for (int iter = 0; iter < 20; iter++) {
        int rows = 3 + rand() % 400;
        size_t *off;
        char *d = random_text_csv(rows, &off);
        datasrc_t src = textsrc(h, "t\n");
        src.ngram = 1 + iter % 2;
        schema_textopts_t to = SCHEMA_TEXTOPTS_DEFAULT;
        to.ngram = src.ngram;
        to.max_features = 1 + rand() % 20;
        summary_t *whole = summary_from_shard(&src, d, off[rows], 0, 2, err, sizeof err);
        if (!whole) fail_msg("%s", err);
        int k = 1 + rand() % 6, cuts[8] = {0};
        for (int i = 1; i < k; i++)
            cuts[i] = rand() % (rows + 1);
        cuts[k] = rows;
        for (int i = 1; i < k; i++)
            for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
                int t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        summary_t *merged = NULL;
        for (int i = 0; i < k; i++) {
            summary_t *part =
                summary_from_shard(&src, d + off[cuts[i]], off[cuts[i + 1]] - off[cuts[i]],
                                   (uint64_t)cuts[i], 2 + (uint64_t)cuts[i], err, sizeof err);
            assert_non_null(part);
            char *wire;
            size_t wl;
            assert_int_equal(summary_encode(part, &wire, &wl), 0);
            summary_destroy(&part);
            part = summary_decode(wire, wl, err, sizeof err);
            if (!part) fail_msg("decode: %s", err);
            free(wire);
            if (!merged) {
                merged = part;
            } else {
                assert_int_equal(summary_merge(merged, part), 0);
                summary_destroy(&part);
            }
        }
        char ea[512], eb[512];
        schema_t *a = schema_fit_text(whole, &src, "standard", &to, ea, sizeof ea);
        schema_t *b = schema_fit_text(merged, &src, "standard", &to, eb, sizeof eb);
        if (!a || !b) {
            assert_true(!a && !b);
            assert_string_equal(ea, eb);
        } else {
            char *ja = schema_to_json(a), *jb = schema_to_json(b);
            assert_string_equal(ja, jb);
            /* and the file round trip keeps it */
            schema_t *c = schema_from_json(ja, strlen(ja), err, sizeof err);
            if (!c) fail_msg("%s", err);
            char *jc = schema_to_json(c);
            assert_string_equal(ja, jc);
            /* rows encoded through the reloaded schema are the same */
            dataset_t *da = NULL, *dc = NULL;
            assert_int_equal(
                dataset_from_shard(a, &src, d, off[rows], 0, 2, 1.0, &da, err, sizeof err), 0);
            assert_int_equal(
                dataset_from_shard(c, &src, d, off[rows], 0, 2, 1.0, &dc, err, sizeof err), 0);
            for (size_t r = 0; r < da->rows; r++) {
                const struct feature_node *p = da->x[r], *q = dc->x[r];
                for (; p->index != -1; p++, q++) {
                    assert_int_equal(p->index, q->index);
                    assert_true(p->value == q->value);
                    if (p[1].index != -1) assert_true(p->index < p[1].index);
                }
                assert_int_equal(q->index, -1);
            }
            dataset_destroy(&da);
            dataset_destroy(&dc);
            free(ja);
            free(jb);
            free(jc);
            schema_destroy(&c);
        }
        schema_destroy(&a);
        schema_destroy(&b);
        summary_destroy(&whole);
        summary_destroy(&merged);
        free(d);
        free(off);
    }
}

/* Detection samples merge like one pass; the rule takes a column of
 * distinct sentences and leaves categories alone. */
static void test_words_detection(void **state) {
    (void)state;
    char err[512];
    const char *h = "id,t,c,label";
    char rows[8192];
    size_t len = 0;
    for (int r = 0; r < 40; r++)
        len += (size_t)snprintf(rows + len, sizeof rows - len, "%d,this is row %d of text,%s,%s\n",
                                r, r, r % 3 ? "red car" : "blue big car", r % 2 ? "a" : "b");
    datasrc_t src = csvsrc(h);
    src.detect = 1;
    summary_t *whole = summary_from_shard(&src, rows, len, 0, 2, err, sizeof err);
    assert_non_null(whole);
    const char *mid = strstr(rows, "\n17,") + 1;
    summary_t *p1 = summary_from_shard(&src, rows, (size_t)(mid - rows), 0, 2, err, sizeof err);
    summary_t *p2 =
        summary_from_shard(&src, mid, len - (size_t)(mid - rows), 17, 19, err, sizeof err);
    assert_non_null(p1);
    assert_non_null(p2);
    char *wire;
    size_t wl;
    assert_int_equal(summary_encode(p2, &wire, &wl), 0);
    summary_destroy(&p2);
    p2 = summary_decode(wire, wl, err, sizeof err);
    if (!p2) fail_msg("%s", err);
    free(wire);
    assert_int_equal(summary_merge(p1, p2), 0);
    char why[160], why2[160];
    assert_int_equal(schema_free_text(whole, 1, why, sizeof why), 1);
    assert_int_equal(schema_free_text(p1, 1, why2, sizeof why2), 1);
    assert_string_equal(why, "40 of 40 sampled values distinct, 40 of 3 words or more");
    assert_string_equal(why, why2);
    assert_int_equal(schema_free_text(whole, 2, why, sizeof why), 0); /* 2 distinct values */
    assert_string_equal(why, "2 of 40 sampled values distinct, 14 of 3 words or more");
    summary_destroy(&whole);
    summary_destroy(&p1);
    summary_destroy(&p2);
}

/* The decoder refuses what a hostile peer could send in the free-text part:
 * a df beyond the rows, a term twice, a truncation anywhere. */
static void test_words_decode_hostile(void **state) {
    (void)state;
    char err[512];
    const char *rows = "1,b a,1,x\n2,a,2,y\n";
    datasrc_t src = textsrc("id,t,n,label", "t\n");
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, sizeof err);
    assert_non_null(sm);
    char *wire;
    size_t wl;
    assert_int_equal(summary_encode(sm, &wire, &wl), 0);
    summary_destroy(&sm);
    for (size_t cut = 0; cut < wl; cut++)
        assert_null(summary_decode(wire, cut, err, sizeof err));
    /* the terms are "b" (df 1) then "a" (df 2), each as varint length,
     * bytes, varint df: find "a" and its df */
    char *a = NULL;
    for (size_t i = 0; i + 3 <= wl; i++)
        if (wire[i] == 1 && wire[i + 1] == 'a' && wire[i + 2] == 2) a = wire + i;
    assert_non_null(a);
    a[2] = 3; /* df 3 > 2 rows */
    assert_null(summary_decode(wire, wl, err, sizeof err));
    assert_non_null(strstr(err, "free-text part of column 2"));
    a[2] = 2;
    a[1] = 'b'; /* "b" twice */
    assert_null(summary_decode(wire, wl, err, sizeof err));
    assert_non_null(strstr(err, "free-text part of column 2"));
    a[2] = (char)0x82; /* a varint that does not end */
    assert_null(summary_decode(wire, wl, err, sizeof err));
    a[2] = 2;
    a[1] = 'a';
    summary_t *ok = summary_decode(wire, wl, err, sizeof err);
    if (!ok) fail_msg("%s", err);
    summary_destroy(&ok);
    free(wire);
}

/* Bigrams of two 64-byte words are 129-byte terms, whose length takes two
 * varint bytes: they survive the wire, a merge of packed terms and a fit,
 * and one sent twice is refused. */
static void test_words_long_terms_wire(void **state) {
    (void)state;
    char err[512], x[65], y[65], z[65], rows[512];
    memset(x, 'x', 64), memset(y, 'y', 64), memset(z, 'z', 64);
    x[64] = y[64] = z[64] = 0;
    snprintf(rows, sizeof rows, "%s %s,p\n%s %s,q\n", x, y, x, z);
    datasrc_t src = textsrc("t,label", "t\n");
    src.ngram = 2;
    summary_t *sm = summary_from_shard(&src, rows, strlen(rows), 0, 2, err, sizeof err);
    if (!sm) fail_msg("%s", err);
    char *wire;
    size_t wl;
    assert_int_equal(summary_encode(sm, &wire, &wl), 0);
    summary_destroy(&sm);
    /* decoded twice and merged: packed terms into packed terms */
    summary_t *a = summary_decode(wire, wl, err, sizeof err), *b = NULL;
    if (!a) fail_msg("%s", err);
    b = summary_decode(wire, wl, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(summary_merge(a, b), 0);
    summary_destroy(&b);
    schema_textopts_t to = SCHEMA_TEXTOPTS_DEFAULT;
    to.ngram = 2;
    schema_t *s = schema_fit_text(a, &src, "none", &to, err, sizeof err);
    if (!s) fail_msg("%s", err);
    /* each term of the two rows is now in 2 of 4 rows: all 5 kept */
    assert_int_equal(schema_n_features(s), 5);
    schema_destroy(&s);
    summary_destroy(&a);
    /* the bigram "x z" becomes a second "x y" */
    char *xz = NULL;
    for (size_t i = 0; i + 131 <= wl; i++)
        if ((unsigned char)wire[i] == 0x81 && wire[i + 1] == 1 && wire[i + 2] == 'x' &&
            wire[i + 67] == 'z')
            xz = wire + i;
    assert_non_null(xz);
    memset(xz + 67, 'y', 64);
    assert_null(summary_decode(wire, wl, err, sizeof err));
    assert_non_null(strstr(err, "free-text part of column 1"));
    free(wire);
}

/* A schema file's free-text column is checked like the rest: a term twice,
 * a df beyond the rows, terms beside the hashing trick, a bad ngram and an
 * empty term are refused. */
static void test_words_json_hostile(void **state) {
    (void)state;
    char err[512];
    schema_t *s = fit_words("id,t,x,label", "1,a b,1,p\n2,a b,2,q\n", NULL, err);
    if (!s) fail_msg("%s", err);
    char *j = schema_to_json(s);
    schema_destroy(&s);
    /* the good file loads */
    s = schema_from_json(j, strlen(j), err, sizeof err);
    if (!s) fail_msg("%s", err);
    schema_destroy(&s);
    static const struct {
        const char *from, *to;
    } bad[] = {
        {"\"b\"", "\"a\""},                       /* a term twice */
        {"\"docs\": 2", "\"docs\": 1"},           /* df 2 > 1 row */
        {"\"hash_bits\": 0", "\"hash_bits\": 3"}, /* terms with hashing */
        {"\"ngram\": 1", "\"ngram\": 3"},
        {"\"b\"", "\"\""}, /* an empty term */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *p = strstr(j, bad[k].from);
        assert_non_null(p);
        size_t fl = strlen(bad[k].from), tl = strlen(bad[k].to), jl = strlen(j);
        char *m = malloc(jl + tl + 1);
        memcpy(m, j, (size_t)(p - j));
        memcpy(m + (p - j), bad[k].to, tl);
        strcpy(m + (p - j) + tl, p + fl);
        schema_t *t = schema_from_json(m, strlen(m), err, sizeof err);
        if (t) fail_msg("case %zu accepted:\n%s", k, m);
        assert_non_null(strstr(err, "column \"t\""));
        free(m);
    }
    free(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_rules),
        cmocka_unit_test(test_label_order),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_merge_law),
        cmocka_unit_test(test_first_error_in_file_order),
        cmocka_unit_test(test_wide_merge),
        cmocka_unit_test(test_vocab_cap_merge),
        cmocka_unit_test(test_json_roundtrip_and_save),
        cmocka_unit_test(test_summary_decode_hostile),
        cmocka_unit_test(test_dataset_csv),
        cmocka_unit_test(test_libsvm),
        cmocka_unit_test(test_nonfinite_train),
        cmocka_unit_test(test_nonfinite_test),
        cmocka_unit_test(test_not_utf8),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_wide_file_columns),
        cmocka_unit_test(test_words_fit),
        cmocka_unit_test(test_words_bigrams_hashing),
        cmocka_unit_test(test_words_merge_law),
        cmocka_unit_test(test_words_detection),
        cmocka_unit_test(test_words_decode_hostile),
        cmocka_unit_test(test_words_long_terms_wire),
        cmocka_unit_test(test_words_json_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
