/* Unit tests for common/treemsg (the reduction tree): the heap's shape, the
 * NODE and PART codecs and their rules, and the sum of partial results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/proto.h"
#include "common/treemsg.h"
#include "common/tronmsg.h"

/* Every node but the root has one parent, which lists it among its
 * children; the root's subtree is everything; heights are the levels. */
static void test_heap_shape(void **state) {
    (void)state;
    for (uint32_t nodes = 1; nodes <= 40; nodes++) {
        uint32_t seen[40] = {0};
        for (uint32_t i = 0; i < nodes; i++) {
            uint32_t first, k = treemsg_children(i, nodes, 2, &first);
            assert_true(k <= 2);
            for (uint32_t c = first; c < first + k; c++) {
                assert_true(c < nodes);
                assert_int_equal(treemsg_parent(c, 2), i);
                assert_true(treemsg_in_subtree(c, i, 2));
                seen[c]++;
            }
            assert_true(treemsg_in_subtree(i, 0, 2));
        }
        for (uint32_t i = 1; i < nodes; i++)
            assert_int_equal(seen[i], 1);
        assert_int_equal(seen[0], 0);
    }
    assert_int_equal(treemsg_height(0, 1, 2), 0);
    assert_int_equal(treemsg_height(0, 2, 2), 1);
    assert_int_equal(treemsg_height(0, 4, 2), 2);
    assert_int_equal(treemsg_height(0, 8, 2), 3);
    assert_int_equal(treemsg_height(1, 8, 2), 2);
    assert_int_equal(treemsg_height(3, 8, 2), 1);
    assert_int_equal(treemsg_height(7, 8, 2), 0);
    assert_false(treemsg_in_subtree(2, 1, 2));
    assert_false(treemsg_in_subtree(5, 1, 2)); /* 5 is below 2 */
    assert_true(treemsg_in_subtree(9, 1, 2));  /* 9 -> 4 -> 1 */
}

static void test_node_round_trip_and_rules(void **state) {
    (void)state;
    char err[256];
    treemsg_node_t n = {
        .round = 0x1122334455667788ull, .node = 3, .nodes = 7, .fanin = 2, .wait_ms = 250};
    strcpy(n.parent_ep, "tcp://10.0.0.2:40001");
    strcpy(n.parent_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    blob_t *b = treemsg_encode_node(&n, err, sizeof err);
    assert_non_null(b);
    treemsg_node_t d;
    assert_int_equal(treemsg_decode_node(b->data, b->len, &d, err, sizeof err), 0);
    assert_memory_equal(&d, &n, sizeof d);
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(treemsg_decode_node(b->data, cut, &d, err, sizeof err), -1);
    uint8_t *big = calloc(b->len + 1, 1);
    memcpy(big, b->data, b->len);
    assert_int_equal(treemsg_decode_node(big, b->len + 1, &d, err, sizeof err), -1);
    proto_put_u32(big + 12, 7); /* node = nodes */
    assert_int_equal(treemsg_decode_node(big, b->len, &d, err, sizeof err), -1);
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 20, 1); /* fan-in 1 */
    assert_int_equal(treemsg_decode_node(big, b->len, &d, err, sizeof err), -1);
    memcpy(big, b->data, b->len);
    big[29] = '\n'; /* a control character in the endpoint */
    assert_int_equal(treemsg_decode_node(big, b->len, &d, err, sizeof err), -1);
    free(big);
    blob_unref(&b);
    /* the root has no parent; a node below it must have one; keys are 40 */
    n.node = 0;
    assert_null(treemsg_encode_node(&n, err, sizeof err));
    n.parent_ep[0] = 0;
    n.parent_key[0] = 0;
    assert_non_null(b = treemsg_encode_node(&n, err, sizeof err));
    blob_unref(&b);
    n.node = 1;
    assert_null(treemsg_encode_node(&n, err, sizeof err));
    strcpy(n.parent_ep, "tcp://h:1");
    strcpy(n.parent_key, "short");
    assert_null(treemsg_encode_node(&n, err, sizeof err));
}

/* CURVE clusters: a node carries its children's keys, one per child. */
static void test_node_child_keys(void **state) {
    (void)state;
    char err[256];
    treemsg_node_t n = {.round = 9, .node = 1, .nodes = 7, .fanin = 2, .wait_ms = 10};
    strcpy(n.parent_ep, "tcp://10.0.0.2:40001");
    strcpy(n.parent_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    n.nchild_keys = 2; /* node 1's children: 3 and 4 */
    memset(n.child_key[0], 'a', TREEMSG_KEY_LEN);
    memset(n.child_key[1], 'b', TREEMSG_KEY_LEN);
    blob_t *b = treemsg_encode_node(&n, err, sizeof err);
    assert_non_null(b);
    treemsg_node_t d;
    assert_int_equal(treemsg_decode_node(b->data, b->len, &d, err, sizeof err), 0);
    assert_memory_equal(&d, &n, sizeof d);
    uint8_t *c = malloc(b->len);
    memcpy(c, b->data, b->len);
    c[b->len - 1] = 0x01; /* a control character in a child key */
    assert_int_equal(treemsg_decode_node(c, b->len, &d, err, sizeof err), -1);
    memcpy(c, b->data, b->len);
    c[b->len - 2 * TREEMSG_KEY_LEN - 1] = 1; /* one key said, two sent */
    assert_int_equal(treemsg_decode_node(c, b->len, &d, err, sizeof err), -1);
    free(c);
    blob_unref(&b);
    n.nchild_keys = 1; /* not one per child */
    assert_null(treemsg_encode_node(&n, err, sizeof err));
    n.nchild_keys = 2;
    n.child_key[1][5] = 0; /* a short key */
    assert_null(treemsg_encode_node(&n, err, sizeof err));
}

static void test_part_round_trip_and_rules(void **state) {
    (void)state;
    char err[256];
    uint32_t cover[] = {1, 3, 4, 9};
    blob_t *b = treemsg_encode_part(42, 0, 1, 10, cover, 4, "xyz", 3, 2, err, sizeof err);
    assert_non_null(b);
    treemsg_part_t p;
    assert_int_equal(treemsg_decode_part(b->data, b->len, 2, &p, err, sizeof err), 0);
    assert_int_equal(p.round, 42);
    assert_int_equal(p.to, 0);
    assert_int_equal(p.from, 1);
    assert_int_equal(p.nodes, 10);
    assert_int_equal(p.ncover, 4);
    assert_memory_equal(p.cover, cover, sizeof cover);
    assert_int_equal(p.res_len, 3);
    assert_memory_equal(p.res, "xyz", 3);
    treemsg_part_free(&p);
    /* cut inside the head or the cover */
    for (size_t cut = 0; cut < 28 + 16; cut++)
        assert_int_equal(treemsg_decode_part(b->data, cut, 2, &p, err, sizeof err), -1);
    blob_unref(&b);
    /* covers that would count a part twice or take another subtree's */
    uint32_t twice[] = {1, 3, 3}, other[] = {1, 2}, unsorted[] = {3, 1}, noself[] = {3, 4};
    assert_null(treemsg_encode_part(1, 0, 1, 10, twice, 3, "", 0, 2, err, sizeof err));
    assert_null(treemsg_encode_part(1, 0, 1, 10, other, 2, "", 0, 2, err, sizeof err));
    assert_null(treemsg_encode_part(1, 0, 1, 10, unsorted, 2, "", 0, 2, err, sizeof err));
    assert_null(treemsg_encode_part(1, 0, 1, 10, noself, 2, "", 0, 2, err, sizeof err));
    /* to the wrong parent; the root sends to the master only */
    assert_null(treemsg_encode_part(1, 2, 1, 10, cover, 4, "", 0, 2, err, sizeof err));
    uint32_t root[] = {0};
    assert_null(treemsg_encode_part(1, 0, 0, 10, root, 1, "", 0, 2, err, sizeof err));
    assert_non_null(
        b = treemsg_encode_part(1, TREEMSG_MASTER, 0, 10, root, 1, "", 0, 2, err, sizeof err));
    /* on the wire too: a node past the tree */
    uint8_t *w = malloc(b->len);
    memcpy(w, b->data, b->len);
    proto_put_u32(w + 28, 10);
    assert_int_equal(treemsg_decode_part(w, b->len, 2, &p, err, sizeof err), -1);
    /* a count larger than what arrived */
    memcpy(w, b->data, b->len);
    proto_put_u32(w + 24, 0xffffffffu);
    assert_int_equal(treemsg_decode_part(w, b->len, 2, &p, err, sizeof err), -1);
    free(w);
    blob_unref(&b);
}

/* An answer with one FUNGRAD and one HV item over the columns cols[0..2]
 * of n = 6 (cols NULL: a plain answer over all 6). */
static void answer(treemsg_cols_t *out, const uint32_t *cols, double f, double base) {
    char err[256];
    double g[6], d[6], hv[6];
    uint32_t m = cols ? 3 : 6;
    for (uint32_t j = 0; j < m; j++)
        g[j] = base + j, d[j] = 1 + j, hv[j] = base * (j + 1);
    tronmsg_ans_t a[2] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .f = f, .g = g, .diag = d},
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .hv = hv}};
    blob_t *r = tronmsg_encode_res(6, m, a, 2, err, sizeof err), *b = r;
    assert_non_null(r);
    if (cols)
        assert_non_null(b = treemsg_encode_cols(6, cols, 3, r->data, r->len, err, sizeof err));
    assert_int_equal(treemsg_decode_cols(b->data, b->len, out, err, sizeof err), 0);
    if (b != r) blob_unref(&b);
    blob_unref(&r);
}

/* Answers over different columns add over their union, input by input. */
static void test_add_over_the_union(void **state) {
    (void)state;
    char err[256];
    const uint32_t c0[3] = {0, 2, 5}, c1[3] = {1, 2, 3};
    treemsg_cols_t in[3];
    answer(&in[0], c0, 1.5, 1);
    answer(&in[1], c1, 0.25, 10);
    blob_t *s = treemsg_add(in, 2, err, sizeof err);
    assert_non_null(s);
    treemsg_cols_t t;
    assert_int_equal(treemsg_decode_cols(s->data, s->len, &t, err, sizeof err), 0);
    assert_false(t.all);
    assert_int_equal(t.k, 5);
    const uint32_t u[5] = {0, 1, 2, 3, 5};
    assert_memory_equal(t.cols, u, sizeof u);
    assert_true(t.res.ans[0].f == 0.0 + 1.5 + 0.25);
    /* column 2: in[0]'s second, in[1]'s second */
    assert_true(t.res.ans[0].g[2] == (0.0 + 2) + 11);
    assert_true(t.res.ans[0].g[4] == 0.0 + 3); /* column 5: in[0] only */
    assert_true(t.res.ans[0].diag[1] == 1);    /* column 1: in[1]'s first */
    assert_true(t.res.ans[1].hv[3] == 30);     /* column 3: in[1]'s third */
    treemsg_cols_free(&t);
    /* the same inputs in the same order: the same bytes */
    blob_t *s2 = treemsg_add(in, 2, err, sizeof err);
    assert_int_equal(s2->len, s->len);
    assert_memory_equal(s2->data, s->data, s->len);
    blob_unref(&s2);
    blob_unref(&s);
    /* with a plain answer the sum holds every column */
    answer(&in[2], NULL, 1e-17, 0.5);
    assert_non_null(s = treemsg_add(in, 3, err, sizeof err));
    assert_int_equal(treemsg_decode_cols(s->data, s->len, &t, err, sizeof err), 0);
    assert_true(t.all);
    assert_int_equal(t.k, 6);
    assert_true(t.res.ans[0].g[5] == (0.0 + 3) + 5.5);
    assert_true(t.res.ans[1].hv[4] == 0.0 + 2.5);
    treemsg_cols_free(&t);
    blob_unref(&s);
    /* answers that do not line up do not add */
    in[1].res.ans[1].cls = 2;
    assert_null(treemsg_add(in, 2, err, sizeof err));
    in[1].res.ans[1].cls = 1;
    in[0].res.ans[0].op = TRONMSG_COUNT;
    assert_null(treemsg_add(in, 2, err, sizeof err));
    assert_null(treemsg_add(in, 0, err, sizeof err));
    for (int i = 0; i < 3; i++)
        treemsg_cols_free(&in[i]);
}

/* COLS decoding: columns in order, below n, as many as the vectors hold. */
static void test_cols_rules(void **state) {
    (void)state;
    char err[256];
    const uint32_t bad[3] = {0, 5, 5}, past[3] = {0, 1, 6};
    double v[3] = {1, 2, 3};
    tronmsg_ans_t a = {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .hv = v};
    blob_t *r = tronmsg_encode_res(6, 3, &a, 1, err, sizeof err);
    assert_null(treemsg_encode_cols(6, bad, 3, r->data, r->len, err, sizeof err));
    assert_null(treemsg_encode_cols(6, past, 3, r->data, r->len, err, sizeof err));
    const uint32_t two[2] = {0, 1};
    blob_t *b = treemsg_encode_cols(6, two, 2, r->data, r->len, err, sizeof err);
    treemsg_cols_t c;
    assert_non_null(b); /* the encoder does not read res: the decoder checks m */
    assert_int_equal(treemsg_decode_cols(b->data, b->len, &c, err, sizeof err), -1);
    blob_unref(&b);
    /* a plain answer over fewer columns than n names none: refused */
    assert_int_equal(treemsg_decode_cols(r->data, r->len, &c, err, sizeof err), -1);
    for (size_t cut = 0; cut < 12; cut++)
        assert_int_equal(treemsg_decode_cols(r->data, cut, &c, err, sizeof err), -1);
    blob_unref(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_shape),         cmocka_unit_test(test_node_round_trip_and_rules),
        cmocka_unit_test(test_node_child_keys),    cmocka_unit_test(test_part_round_trip_and_rules),
        cmocka_unit_test(test_add_over_the_union), cmocka_unit_test(test_cols_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
