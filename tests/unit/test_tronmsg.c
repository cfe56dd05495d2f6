/* Unit tests for common/tronmsg: OP_TRON body and result codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/proto.h"
#include "common/tronmsg.h"

#define N 5

static const double W[N] = {0.5, -1.25, 3e-300, 1e300, -0.0};
static const double S[N] = {1, 2, 3, 4, 5};
static const double W2[2 * N] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static blob_t *sample_req(void) {
    char err[128];
    tronmsg_item_t it[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUN, .point = 7, .w = W},
        {.cls = 1, .fold = 2, .op = TRONMSG_GRAD, .flags = TRONMSG_F_POINT, .point = 8, .w = W},
        {.cls = 2,
         .fold = TRONMSG_ALL_ROWS,
         .op = TRONMSG_HV,
         .flags = TRONMSG_F_POINT,
         .point = 0x123456789ull,
         .w = W,
         .s = S},
        {.cls = 3, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_COUNT},
        {.cls = 2, .fold = 1, .op = TRONMSG_PRED, .flags = TRONMSG_F_TEXT, .w = W2},
        {.cls = 4, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .point = 9, .w = S},
    };
    tronmsg_shard_t sh[2] = {{0, 2}, {1000, 1003}};
    tronmsg_layout_t lay = {.shards = sh, .nshards = 2};
    blob_t *b = tronmsg_encode_req(N, 3, &lay, it, 6, err, sizeof err);
    assert_non_null(b);
    return b;
}

static void test_req_round_trip(void **state) {
    (void)state;
    char err[128];
    blob_t *b = sample_req();
    tronmsg_req_t r;
    assert_int_equal(tronmsg_decode_req(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.n, N);
    assert_int_equal(r.folds, 3);
    assert_int_equal(r.count, 6);
    assert_int_equal(r.nshards, 2);
    assert_int_equal(r.shards[1].first_row, 1000);
    assert_int_equal(r.shards[1].first_line, 1003);
    assert_int_equal(r.ngroup, 0);
    assert_false(r.compact);
    assert_int_equal(r.m, N);
    assert_int_equal(r.items[0].op, TRONMSG_FUN);
    assert_int_equal(r.items[0].point, 7);
    assert_memory_equal(r.items[0].w, W, sizeof W);
    assert_null(r.items[0].s);
    assert_int_equal(r.items[1].fold, 2);
    assert_int_equal(r.items[1].cls, 1);
    assert_int_equal(r.items[2].point, 0x123456789ull);
    assert_memory_equal(r.items[2].w, W, sizeof W);
    assert_memory_equal(r.items[2].s, S, sizeof S);
    assert_int_equal(r.items[3].op, TRONMSG_COUNT);
    assert_null(r.items[3].w);
    assert_int_equal(r.items[4].flags, TRONMSG_F_TEXT);
    assert_memory_equal(r.items[4].w, W2, sizeof W2);
    assert_int_equal(r.items[5].op, TRONMSG_FUNGRAD);
    assert_int_equal(r.items[5].point, 9);
    assert_memory_equal(r.items[5].w, S, sizeof S); /* always carries its point */
    assert_null(r.items[5].s);
    tronmsg_req_free(&r);
    blob_unref(&b);
}

static void test_req_truncated_and_garbage(void **state) {
    (void)state;
    char err[128];
    blob_t *b = sample_req();
    tronmsg_req_t r;
    for (size_t cut = 0; cut < b->len; cut++) {
        assert_int_equal(tronmsg_decode_req(b->data, cut, &r, err, sizeof err), -1);
        assert_null(r.items);
    }
    /* trailing byte */
    uint8_t *big = malloc(b->len + 1);
    assert_non_null(big);
    memcpy(big, b->data, b->len);
    big[b->len] = 0;
    assert_int_equal(tronmsg_decode_req(big, b->len + 1, &r, err, sizeof err), -1);
    /* unknown op in item 0 */
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 20 + 32 + 20 + 8, 99);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    /* huge count must not allocate */
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 12, 0xffffffffu);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    /* huge shard count */
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 16, 0x10000000u);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    /* n = 0 and n huge */
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 4, 0);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    proto_put_u32(big + 4, 0xffffffffu);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    /* a PRED with a huge class count cannot claim more doubles than arrived */
    memcpy(big, b->data, b->len);
    proto_put_u32(big, 0x12345678u);
    assert_int_equal(tronmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    /* random bytes */
    srand(7);
    for (int t = 0; t < 2000; t++) {
        size_t len = (size_t)(rand() % 200);
        uint8_t buf[200];
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rand();
        if (len >= 4 && (t & 1)) proto_put_u32(buf, TRONMSG_REQ_MAGIC);
        if (tronmsg_decode_req(buf, len, &r, err, sizeof err) == 0) tronmsg_req_free(&r);
    }
    free(big);
    blob_unref(&b);
}

static blob_t *sample_res(void) {
    char err[128];
    static const uint64_t pos[3] = {10, 20, 30};
    tronmsg_ans_t a[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUN, .f = 123.5},
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_GRAD, .g = W, .diag = S},
        {.cls = 2, .fold = 0, .op = TRONMSG_HV, .hv = S},
        {.cls = 3, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_COUNT, .rows = 99, .pos = pos},
        {.cls = 3,
         .fold = TRONMSG_ALL_ROWS,
         .op = TRONMSG_PRED,
         .rows = 2,
         .correct = 1,
         .text = "1,a,a\n2,b,a\n",
         .text_len = 12},
        {.cls = 3, .fold = 1, .op = TRONMSG_PRED, .rows = 5, .correct = 5},
        {.cls = 4, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .f = -2.5, .g = S, .diag = W},
    };
    blob_t *b = tronmsg_encode_res(N, N, a, 7, err, sizeof err);
    assert_non_null(b);
    return b;
}

static void test_res_round_trip(void **state) {
    (void)state;
    char err[128];
    blob_t *b = sample_res();
    tronmsg_res_t r;
    assert_int_equal(tronmsg_decode_res(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.n, N);
    assert_int_equal(r.count, 7);
    assert_true(r.ans[0].f == 123.5);
    assert_memory_equal(r.ans[1].g, W, sizeof W);
    assert_memory_equal(r.ans[1].diag, S, sizeof S);
    assert_memory_equal(r.ans[2].hv, S, sizeof S);
    assert_int_equal(r.ans[2].fold, 0);
    assert_int_equal(r.ans[3].rows, 99);
    assert_int_equal(r.ans[3].pos[2], 30);
    assert_int_equal(r.ans[4].text_len, 12);
    assert_memory_equal(r.ans[4].text, "1,a,a\n2,b,a\n", 12);
    assert_int_equal(r.ans[4].correct, 1);
    assert_int_equal(r.ans[5].rows, 5);
    assert_int_equal(r.ans[5].text_len, 0);
    assert_int_equal(r.ans[6].op, TRONMSG_FUNGRAD);
    assert_true(r.ans[6].f == -2.5);
    assert_memory_equal(r.ans[6].g, S, sizeof S);
    assert_memory_equal(r.ans[6].diag, W, sizeof W);
    tronmsg_res_free(&r);
    blob_unref(&b);
}

/* COUNT and PRED with TRONMSG_F_STAT carry one more double (the largest
 * squared row norm, the log loss sum) after everything else, with and
 * without columns or cells; every shorter cut is refused. */
static void test_res_stat(void **state) {
    (void)state;
    char err[128];
    static const uint64_t pos[2] = {4, 5};
    static const uint64_t cols[1] = {0x5};
    static const uint64_t cells[6] = {0, 0, 3, 1, 0, 2};
    tronmsg_ans_t a[] = {
        {.cls = 2,
         .fold = TRONMSG_ALL_ROWS,
         .op = TRONMSG_COUNT,
         .flags = TRONMSG_F_STAT,
         .rows = 9,
         .pos = pos,
         .f = 37.5},
        {.cls = 2,
         .fold = TRONMSG_ALL_ROWS,
         .op = TRONMSG_COUNT,
         .flags = TRONMSG_F_STAT | TRONMSG_F_COLUMNS,
         .rows = 9,
         .pos = pos,
         .cols = cols,
         .f = 2},
        {.cls = 2,
         .fold = 0,
         .op = TRONMSG_PRED,
         .flags = TRONMSG_F_STAT | TRONMSG_F_CELLS,
         .rows = 5,
         .correct = 3,
         .cells = cells,
         .ncells = 2,
         .f = 12.25},
        {.cls = 2,
         .fold = 1,
         .op = TRONMSG_PRED,
         .flags = TRONMSG_F_STAT,
         .rows = 4,
         .correct = 4,
         .text = "ab",
         .text_len = 2,
         .f = 0.5},
    };
    blob_t *b = tronmsg_encode_res(N, N, a, 4, err, sizeof err);
    assert_non_null(b);
    tronmsg_res_t r;
    assert_int_equal(tronmsg_decode_res(b->data, b->len, &r, err, sizeof err), 0);
    assert_true(r.ans[0].f == 37.5);
    assert_int_equal(r.ans[0].pos[1], 5);
    assert_true(r.ans[1].f == 2);
    assert_int_equal(r.ans[1].cols[0], 0x5);
    assert_true(r.ans[2].f == 12.25);
    assert_int_equal(r.ans[2].ncells, 2);
    assert_int_equal(r.ans[2].cells[5], 2);
    assert_true(r.ans[3].f == 0.5);
    assert_memory_equal(r.ans[3].text, "ab", 2);
    tronmsg_res_free(&r);
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(tronmsg_decode_res(b->data, cut, &r, err, sizeof err), -1);
    blob_unref(&b);
}

static void test_res_truncated_and_garbage(void **state) {
    (void)state;
    char err[128];
    blob_t *b = sample_res();
    tronmsg_res_t r;
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(tronmsg_decode_res(b->data, cut, &r, err, sizeof err), -1);
    uint8_t *big = malloc(b->len + 3);
    assert_non_null(big);
    memcpy(big, b->data, b->len);
    memset(big + b->len, 0, 3);
    assert_int_equal(tronmsg_decode_res(big, b->len + 3, &r, err, sizeof err), -1);
    /* a text length past the end */
    /* answer 4 text_len: before its 12 text bytes, answer 5 (16 + 24 bytes)
     * and answer 6 (16 + 8 + 16 N) */
    size_t text_len_at = b->len - (24 + 16 * N) - 40 - 12 - 8;
    memcpy(big, b->data, b->len);
    assert_int_equal(proto_get_u64(big + text_len_at), 12);
    proto_put_u64(big + text_len_at, UINT64_MAX);
    assert_int_equal(tronmsg_decode_res(big, b->len, &r, err, sizeof err), -1);
    srand(11);
    for (int t = 0; t < 2000; t++) {
        size_t len = (size_t)(rand() % 200);
        uint8_t buf[200];
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(rand() % 4); /* small values: plausible counts */
        if (len >= 4) proto_put_u32(buf, TRONMSG_RES_MAGIC);
        if (tronmsg_decode_res(buf, len, &r, err, sizeof err) == 0) tronmsg_res_free(&r);
    }
    free(big);
    blob_unref(&b);
}

static void test_encode_rejects(void **state) {
    (void)state;
    char err[128];
    tronmsg_item_t bad[] = {{.cls = 0, .op = TRONMSG_FUN, .w = NULL}};
    assert_null(tronmsg_encode_req(N, 0, NULL, bad, 1, err, sizeof err));
    tronmsg_item_t hv[] = {{.cls = 0, .op = TRONMSG_HV, .w = W, .s = NULL}};
    assert_null(tronmsg_encode_req(N, 0, NULL, hv, 1, err, sizeof err));
    tronmsg_item_t hvp[] = {{.cls = 0, .op = TRONMSG_HV, .flags = TRONMSG_F_POINT, .s = S}};
    assert_null(tronmsg_encode_req(N, 0, NULL, hvp, 1, err, sizeof err));
    tronmsg_item_t unk[] = {{.cls = 0, .op = 42, .w = W}};
    assert_null(tronmsg_encode_req(N, 0, NULL, unk, 1, err, sizeof err));
    assert_null(tronmsg_encode_req(0, 0, NULL, NULL, 0, err, sizeof err));
    /* a group out of order or outside the table; compact wider than n */
    tronmsg_shard_t sh[3] = {{0, 1}, {5, 6}, {9, 10}};
    uint32_t unordered[2] = {2, 1}, outside[1] = {3};
    tronmsg_layout_t bad_group = {.shards = sh, .nshards = 3, .group = unordered, .ngroup = 2};
    assert_null(tronmsg_encode_req(N, 0, &bad_group, NULL, 0, err, sizeof err));
    bad_group.group = outside;
    bad_group.ngroup = 1;
    assert_null(tronmsg_encode_req(N, 0, &bad_group, NULL, 0, err, sizeof err));
    tronmsg_layout_t wide = {.compact = true, .m = N + 1};
    assert_null(tronmsg_encode_req(N, 0, &wide, NULL, 0, err, sizeof err));
    blob_t *empty = tronmsg_encode_req(N, 0, NULL, NULL, 0, err, sizeof err);
    assert_non_null(empty);
    tronmsg_req_t r;
    assert_int_equal(tronmsg_decode_req(empty->data, empty->len, &r, err, sizeof err), 0);
    assert_int_equal(r.count, 0);
    tronmsg_req_free(&r);
    blob_unref(&empty);
}

/* A compact request over a group: vectors gathered through the column
 * list, GRAD and HV without their point, the group and layout read back. */
static void test_req_compact_group(void **state) {
    (void)state;
    char err[128];
    static const uint32_t cols[3] = {0, 3, 4};
    uint32_t group[2] = {1, 2};
    tronmsg_shard_t sh[3] = {{0, 1}, {5, 6}, {9, 10}};
    tronmsg_item_t it[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUN, .point = 3, .w = W},
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_GRAD, .point = 3, .w = W},
        {.cls = 2, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .point = 2, .w = W, .s = S},
    };
    tronmsg_layout_t lay = {.shards = sh,
                            .nshards = 3,
                            .group = group,
                            .ngroup = 2,
                            .compact = true,
                            .m = 3,
                            .hash = 0xfeedull,
                            .cols = cols};
    blob_t *b = tronmsg_encode_req(N, 0, &lay, it, 3, err, sizeof err);
    assert_non_null(b);
    tronmsg_req_t r;
    assert_int_equal(tronmsg_decode_req(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.ngroup, 2);
    assert_int_equal(r.group[0], 1);
    assert_int_equal(r.group[1], 2);
    assert_true(r.compact);
    assert_int_equal(r.m, 3);
    assert_int_equal(r.hash, 0xfeedull);
    double wc[3] = {W[0], W[3], W[4]}, sc[3] = {S[0], S[3], S[4]};
    assert_memory_equal(r.items[0].w, wc, sizeof wc);
    assert_null(r.items[1].w); /* GRAD without POINT carries nothing */
    assert_null(r.items[2].w);
    assert_memory_equal(r.items[2].s, sc, sizeof sc);
    /* the decoded (already compact) vectors encode to the same bytes */
    tronmsg_layout_t again = lay;
    again.cols = NULL;
    blob_t *b2 = tronmsg_encode_req(N, 0, &again, r.items, r.count, err, sizeof err);
    assert_non_null(b2);
    assert_int_equal(b2->len, b->len);
    assert_memory_equal(b2->data, b->data, b->len);
    blob_unref(&b2);
    tronmsg_req_free(&r);
    /* a group naming shards out of order, or m past n, is refused */
    uint8_t *bad = malloc(b->len);
    assert_non_null(bad);
    size_t group_at = 20 + 3 * 16 + 4;
    memcpy(bad, b->data, b->len);
    proto_put_u32(bad + group_at, 2);
    proto_put_u32(bad + group_at + 4, 1);
    assert_int_equal(tronmsg_decode_req(bad, b->len, &r, err, sizeof err), -1);
    memcpy(bad, b->data, b->len);
    proto_put_u32(bad + group_at + 8, N + 1); /* m */
    assert_int_equal(tronmsg_decode_req(bad, b->len, &r, err, sizeof err), -1);
    memcpy(bad, b->data, b->len);
    proto_put_u32(bad + group_at + 12, 0); /* not compact, but m != n */
    assert_int_equal(tronmsg_decode_req(bad, b->len, &r, err, sizeof err), -1);
    free(bad);
    blob_unref(&b);
}

/* Results with m < n, and a COUNT that carries its column bitmap. */
static void test_res_compact_columns(void **state) {
    (void)state;
    char err[128];
    static const uint64_t pos[2] = {4, 5};
    static const uint64_t bits[1] = {0x19};
    tronmsg_ans_t a[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_GRAD, .g = W, .diag = S},
        {.cls = 2,
         .fold = TRONMSG_ALL_ROWS,
         .op = TRONMSG_COUNT,
         .flags = TRONMSG_F_COLUMNS,
         .rows = 9,
         .pos = pos,
         .cols = bits},
    };
    blob_t *b = tronmsg_encode_res(N, 2, a, 2, err, sizeof err);
    assert_non_null(b);
    tronmsg_res_t r;
    assert_int_equal(tronmsg_decode_res(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.m, 2);
    assert_memory_equal(r.ans[0].g, W, 2 * sizeof(double));
    assert_memory_equal(r.ans[0].diag, S, 2 * sizeof(double));
    assert_int_equal(r.ans[1].cols[0], 0x19);
    assert_int_equal(r.ans[1].pos[1], 5);
    tronmsg_res_free(&r);
    /* m past n is refused */
    uint8_t *bad = malloc(b->len);
    assert_non_null(bad);
    memcpy(bad, b->data, b->len);
    proto_put_u32(bad + 8, N + 1);
    assert_int_equal(tronmsg_decode_res(bad, b->len, &r, err, sizeof err), -1);
    free(bad);
    blob_unref(&b);
    assert_null(tronmsg_encode_res(N, N + 1, a, 1, err, sizeof err));
}

/* The viewing decoder: aligned vectors point into the message, a message at
 * an odd address is copied; both read the same numbers. */
static void test_res_view(void **state) {
    (void)state;
    char err[128];
    blob_t *b = sample_res();
    uint64_t *aligned = malloc(b->len + 16);
    assert_non_null(aligned);
    memcpy(aligned, b->data, b->len);
    tronmsg_res_t v, c;
    assert_int_equal(tronmsg_decode_res_view(aligned, b->len, &v, err, sizeof err), 0);
    assert_int_equal(tronmsg_decode_res(b->data, b->len, &c, err, sizeof err), 0);
    const uint8_t *lo = (const uint8_t *)aligned, *hi = lo + b->len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    assert_true((const uint8_t *)v.ans[1].g >= lo && (const uint8_t *)v.ans[1].g < hi);
    assert_true((const uint8_t *)v.ans[2].hv >= lo && (const uint8_t *)v.ans[2].hv < hi);
#endif
    assert_true(v.ans[6].f == c.ans[6].f);
    assert_memory_equal(v.ans[6].g, c.ans[6].g, N * sizeof(double));
    assert_memory_equal(v.ans[6].diag, c.ans[6].diag, N * sizeof(double));
    assert_memory_equal(v.ans[1].g, c.ans[1].g, N * sizeof(double));
    assert_memory_equal(v.ans[1].diag, c.ans[1].diag, N * sizeof(double));
    assert_memory_equal(v.ans[2].hv, c.ans[2].hv, N * sizeof(double));
    assert_memory_equal(v.ans[4].text, c.ans[4].text, c.ans[4].text_len);
    tronmsg_res_free(&v);
    uint8_t *odd = (uint8_t *)aligned + 1;
    memmove(odd, b->data, b->len);
    assert_int_equal(tronmsg_decode_res_view(odd, b->len, &v, err, sizeof err), 0);
    assert_false((const uint8_t *)v.ans[1].g >= odd && (const uint8_t *)v.ans[1].g < odd + b->len);
    assert_memory_equal(v.ans[1].g, c.ans[1].g, N * sizeof(double));
    assert_memory_equal(v.ans[2].hv, c.ans[2].hv, N * sizeof(double));
    tronmsg_res_free(&v);
    tronmsg_res_free(&c);
    blob_unref(&b);
    /* a FUNGRAD's vectors, after its f, are borrowed too */
    tronmsg_ans_t fg = {
        .cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .f = 4, .g = W, .diag = S};
    b = tronmsg_encode_res(N, N, &fg, 1, err, sizeof err);
    assert_non_null(b);
    memcpy(aligned, b->data, b->len);
    assert_int_equal(tronmsg_decode_res_view(aligned, b->len, &v, err, sizeof err), 0);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    lo = (const uint8_t *)aligned, hi = lo + b->len;
    assert_true((const uint8_t *)v.ans[0].g >= lo && (const uint8_t *)v.ans[0].g < hi);
#endif
    assert_true(v.ans[0].f == 4);
    assert_memory_equal(v.ans[0].g, W, sizeof W);
    assert_memory_equal(v.ans[0].diag, S, sizeof S);
    tronmsg_res_free(&v);
    free(aligned);
    blob_unref(&b);
}

/* A Newton round's result built in place (begin, fill the vectors, seal)
 * has the bytes tronmsg_encode_res() gives; an answer that is not a
 * vector op is refused. */
static void test_res_in_place(void **state) {
    (void)state;
    char err[128];
    tronmsg_ans_t a[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .f = -2.5, .g = S, .diag = W},
        {.cls = 1, .fold = 3, .op = TRONMSG_HV, .hv = W},
        {.cls = 2, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUN, .f = 7},
        {.cls = 3, .fold = 1, .op = TRONMSG_GRAD, .g = W, .diag = S},
    };
    blob_t *want = tronmsg_encode_res(N + 2, N, a, 4, err, sizeof err);
    assert_non_null(want);
    tronmsg_ans_t b[4];
    double *vec[4];
    for (int i = 0; i < 4; i++)
        b[i] = (tronmsg_ans_t){.cls = a[i].cls, .fold = a[i].fold, .op = a[i].op};
    blob_t *got = tronmsg_res_begin(N + 2, N, b, 4, vec, err, sizeof err);
    assert_non_null(got);
    assert_int_equal(got->len, want->len);
    assert_null(vec[2]);
    for (int j = 0; j < N; j++) {
        assert_true(vec[0][j] == 0 && vec[0][N + j] == 0 && vec[1][j] == 0);
        assert_int_equal((uintptr_t)&vec[3][j] % sizeof(double), 0);
    }
    memcpy(vec[0], S, sizeof S), memcpy(vec[0] + N, W, sizeof W);
    memcpy(vec[1], W, sizeof W);
    memcpy(vec[3], W, sizeof W), memcpy(vec[3] + N, S, sizeof S);
    b[0].f = -2.5, b[2].f = 7;
    tronmsg_res_seal(got, N + 2, N, b, 4);
    assert_memory_equal(got->data, want->data, want->len);
    blob_unref(&got);
    blob_unref(&want);
    tronmsg_ans_t count = {.cls = 2, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_COUNT};
    assert_null(tronmsg_res_begin(N, N, &count, 1, vec, err, sizeof err));
}

/* A PRED answer with its (truth, pred, count) cells: round trip, every cut
 * refused, and a cell count past the bytes refused. */
static void test_res_cells(void **state) {
    (void)state;
    char err[128];
    static const uint64_t cells[6] = {0, 0, 7, 2, 1, 3};
    tronmsg_ans_t a = {.cls = 3,
                       .fold = TRONMSG_ALL_ROWS,
                       .op = TRONMSG_PRED,
                       .flags = TRONMSG_F_TEXT | TRONMSG_F_CELLS,
                       .rows = 10,
                       .correct = 7,
                       .text = "abc",
                       .text_len = 3,
                       .cells = cells,
                       .ncells = 2};
    blob_t *b = tronmsg_encode_res(N, N, &a, 1, err, sizeof err);
    assert_non_null(b);
    tronmsg_res_t r;
    assert_int_equal(tronmsg_decode_res(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.ans[0].ncells, 2);
    assert_memory_equal(r.ans[0].cells, cells, sizeof cells);
    assert_memory_equal(r.ans[0].text, "abc", 3);
    tronmsg_res_free(&r);
    assert_int_equal(tronmsg_decode_res_view(b->data, b->len, &r, err, sizeof err), 0);
    assert_memory_equal(r.ans[0].cells, cells, sizeof cells);
    tronmsg_res_free(&r);
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(tronmsg_decode_res(b->data, cut, &r, err, sizeof err), -1);
    uint8_t *bad = malloc(b->len);
    memcpy(bad, b->data, b->len);
    proto_put_u64(bad + b->len - 2 * 16 - 8, 3); /* three cells in the bytes of two */
    assert_int_equal(tronmsg_decode_res(bad, b->len, &r, err, sizeof err), -1);
    free(bad);
    blob_unref(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_res_view),
        cmocka_unit_test(test_res_in_place),
        cmocka_unit_test(test_res_cells),
        cmocka_unit_test(test_req_compact_group),
        cmocka_unit_test(test_res_compact_columns),
        cmocka_unit_test(test_req_round_trip),
        cmocka_unit_test(test_req_truncated_and_garbage),
        cmocka_unit_test(test_res_round_trip),
        cmocka_unit_test(test_res_stat),
        cmocka_unit_test(test_res_truncated_and_garbage),
        cmocka_unit_test(test_encode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
