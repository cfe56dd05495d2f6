/* Unit tests for worker/reduce (a worker's side of the reduction tree) on a
 * real tree port: a child's part that comes before its node waits for it, a
 * second part from the same child and a part from a node that is not a
 * child are dropped, the sum adds own part then children by node number,
 * a node that waits past its deadline sends what it has, naming only the
 * nodes it holds, and parts waiting for nodes that never come hold at most
 * 64 MB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/treemsg.h"
#include "common/tronmsg.h"
#include "tests/unit/freeport.h"
#include "worker/reduce.h"

#define N 4

static struct {
    void *zctx, *push;
    config_t cfg;
    reduce_t *r;
} F;

static int setup(void **state) {
    char err[256], ep[64];
    (void)state;
    memset(&F, 0, sizeof F);
    config_defaults(&F.cfg);
    F.cfg.master.task_port = free_port();
    F.cfg.worker.tree_port = 0; /* any free port (the default, -1, opens none) */
    F.zctx = zmq_ctx_new();
    F.r = reduce_new(F.zctx, &F.cfg, err, sizeof err);
    if (!F.r) {
        fprintf(stderr, "reduce_new: %s\n", err);
        return -1;
    }
    F.push = zmq_socket(F.zctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(F.push, ZMQ_LINGER, &linger, sizeof linger);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", reduce_port(F.r));
    return zmq_connect(F.push, ep);
}

static int teardown(void **state) {
    (void)state;
    zmq_close(F.push);
    reduce_destroy(&F.r);
    zmq_ctx_term(F.zctx);
    return 0;
}

/* A plain answer: one HV item, hv[j] = base * (j + 1) over all N columns. */
static blob_t *answer(double base) {
    char err[256];
    double hv[N];
    for (int j = 0; j < N; j++)
        hv[j] = base * (j + 1);
    tronmsg_ans_t a = {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .hv = hv};
    blob_t *b = tronmsg_encode_res(N, N, &a, 1, err, sizeof err);
    assert_non_null(b);
    return b;
}

/* Sends child from's part (covering from alone) for node to of round. */
static void send_part(uint64_t round, uint32_t to, uint32_t from, uint32_t nodes, double base) {
    char err[256];
    blob_t *a = answer(base);
    blob_t *p =
        treemsg_encode_part(round, to, from, nodes, &from, 1, a->data, a->len, 2, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(zmq_send(F.push, p->data, p->len, 0), (int)p->len);
    blob_unref(&p);
    blob_unref(&a);
}

/* Lets the tree port take what was sent (polls it for a second: loopback
 * delivers in far less, and nothing here depends on how fast). */
static void settle(void) {
    for (int i = 0; i < 100; i++) {
        zmq_pollitem_t it = {reduce_socket(F.r), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 10) > 0) reduce_recv(F.r);
    }
}

static exec_task_t *own_task(double base) {
    exec_task_t *t = exec_task_new();
    assert_non_null(t);
    t->result = answer(base);
    return t;
}

static void check_sum(exec_task_t *t, uint64_t round, size_t ncover, double want_base) {
    char err[256];
    treemsg_part_t p;
    assert_non_null(t);
    assert_int_equal(treemsg_decode_part(t->result->data, t->result->len, 2, &p, err, sizeof err),
                     0);
    assert_int_equal(p.round, round);
    assert_int_equal(p.to, TREEMSG_MASTER);
    assert_int_equal(p.ncover, ncover);
    for (size_t i = 0; i < ncover; i++)
        assert_int_equal(p.cover[i], i);
    treemsg_cols_t c;
    assert_int_equal(treemsg_decode_cols(p.res, p.res_len, &c, err, sizeof err), 0);
    assert_true(c.all);
    for (int j = 0; j < N; j++)
        assert_true(c.res.ans[0].hv[j] == want_base * (j + 1));
    treemsg_cols_free(&c);
    treemsg_part_free(&p);
}

static void test_children_add_once(void **state) {
    (void)state;
    treemsg_node_t root = {.round = 77, .node = 0, .nodes = 3, .fanin = 2, .wait_ms = 600000};
    /* child 1 is early: its node is not here yet */
    send_part(77, 0, 1, 3, 10);
    settle();
    reduce_own(F.r, own_task(1), &root);
    assert_null(reduce_next(F.r, clock_now_ms()));
    uint64_t d0 = reduce_dropped(F.r);
    /* child 1 again; a part for node 0 from a tree of another size; another
     * round's part (kept as early: that round may still come) */
    send_part(77, 0, 1, 3, 1000);
    send_part(77, 0, 1, 4, 1000);
    send_part(78, 0, 2, 3, 1000);
    settle();
    assert_int_equal(reduce_dropped(F.r), d0 + 2);
    assert_null(reduce_next(F.r, clock_now_ms()));
    send_part(77, 0, 2, 3, 100);
    settle();
    exec_task_t *t = reduce_next(F.r, clock_now_ms());
    check_sum(t, 77, 3, 111); /* 1 + 10 + 100: own, child 1, child 2 */
    exec_task_free(&t);
    assert_null(reduce_next(F.r, clock_now_ms()));
}

static void test_deadline_sends_what_it_has(void **state) {
    (void)state;
    /* height 1: the node waits wait_ms after its own part (reduce_next is
     * told the time, so nothing here waits for it) */
    treemsg_node_t root = {.round = 5, .node = 0, .nodes = 3, .fanin = 2, .wait_ms = 5000};
    int64_t t0 = clock_now_ms();
    reduce_own(F.r, own_task(2), &root);
    send_part(5, 0, 1, 3, 30);
    settle();
    assert_null(reduce_next(F.r, t0));
    assert_true(reduce_deadline(F.r) <= clock_now_ms() + 5000);
    exec_task_t *t = reduce_next(F.r, clock_now_ms() + 5001);
    check_sum(t, 5, 2, 32); /* node 2 missing: cover {0, 1} */
    exec_task_free(&t);
    /* child 2 after its parent gave up: held as early, never added */
    send_part(5, 0, 2, 3, 7);
    settle();
    assert_null(reduce_next(F.r, clock_now_ms()));
}

/* A stranger floods the port with parts for nodes the worker never gets
 * (10 MB each): at most 64 MB of them wait, the rest are dropped as they
 * come, and a real child's part for a real node is still added. */
static void test_early_parts_bounded(void **state) {
    (void)state;
    char err[256];
    uint32_t n = 10u << 17; /* 10 MB of doubles */
    double *hv = calloc(n, sizeof *hv);
    assert_non_null(hv);
    tronmsg_ans_t a = {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .hv = hv};
    blob_t *big = tronmsg_encode_res(n, n, &a, 1, err, sizeof err);
    assert_non_null(big);
    uint64_t d0 = reduce_dropped(F.r);
    for (uint32_t i = 0; i < 12; i++) {
        uint32_t from = 1;
        blob_t *p = treemsg_encode_part(1000 + i, 0, from, 3, &from, 1, big->data, big->len, 2, err,
                                        sizeof err);
        assert_non_null(p);
        assert_int_equal(zmq_send(F.push, p->data, p->len, 0), (int)p->len);
        blob_unref(&p);
    }
    settle();
    /* 6 of them fit in 64 MB; the other 6 are dropped */
    assert_int_equal(reduce_dropped(F.r), d0 + 6);
    blob_unref(&big);
    free(hv);
    treemsg_node_t root = {.round = 9, .node = 0, .nodes = 2, .fanin = 2, .wait_ms = 600000};
    reduce_own(F.r, own_task(1), &root);
    send_part(9, 0, 1, 2, 10);
    settle();
    exec_task_t *t = reduce_next(F.r, clock_now_ms());
    check_sum(t, 9, 2, 11);
    exec_task_free(&t);
}

/* A node that names its children's keys (CURVE clusters) adds only parts
 * whose connection proved that key: a part on a plain connection, like one
 * from another worker claiming the child's place, is dropped, and the node
 * sends what it has when its time is up. */
static void test_child_key_checked(void **state) {
    (void)state;
    treemsg_node_t root = {.round = 31, .node = 0, .nodes = 2, .fanin = 2, .wait_ms = 5000};
    root.nchild_keys = 1;
    memset(root.child_key[0], 'k', TREEMSG_KEY_LEN);
    reduce_own(F.r, own_task(1), &root);
    uint64_t d0 = reduce_dropped(F.r);
    send_part(31, 0, 1, 2, 10);
    settle();
    assert_int_equal(reduce_dropped(F.r), d0 + 1);
    exec_task_t *t = reduce_next(F.r, clock_now_ms() + 5001);
    check_sum(t, 31, 1, 1); /* its own part alone */
    exec_task_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_children_add_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_sends_what_it_has, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_parts_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_key_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
