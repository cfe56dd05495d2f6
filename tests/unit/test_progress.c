/* progress: the shown fraction never goes back, the ETA only when it means
 * something, and the lines a terminal and a log get. */
#include "master/progress.h"

#include "common/config.h"
#include "tests/unit/freeport.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zmq.h>

#include <cmocka.h>

static void test_advance_never_back(void **state) {
    (void)state;
    /* what the round-by-round figures did: 0 %, 50 %, 0 % again (a new round) */
    double seq[] = {0, 0.5, 0, 0.25, 0.75, 0.5, 1.0, 0};
    double shown = 0, last = 0;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        shown = progress_advance(shown, seq[i]);
        assert_true(shown >= last);
        last = shown;
    }
    assert_true(shown == 1.0);
    assert_true(progress_advance(0.3, 7.0) == 1.0);       /* capped */
    assert_true(progress_advance(0.3, 0.0 / 0.0) == 0.3); /* NaN: no move */
}

static void test_eta_only_when_meaningful(void **state) {
    (void)state;
    assert_true(progress_eta(0, 10) < 0);    /* nothing done: no ETA, not "~0s" */
    assert_true(progress_eta(0.01, 10) < 0); /* too early to tell */
    assert_true(progress_eta(0.5, 1) < 0);   /* too soon */
    assert_true(progress_eta(1, 10) < 0);    /* done */
    assert_true(progress_eta(0.9, 5) < 0);   /* under a second left: no "ETA 0s" */
    assert_true(progress_eta(0.5, 10) == 10);
    assert_true(progress_eta(0.25, 3) == 9);
}

static void test_format(void **state) {
    (void)state;
    char line[256];
    progress_view_t t = {.phase = "training",
                         .frac = 0.25,
                         .newton = true,
                         .iter = 5,
                         .cg = 312,
                         .tasks_done = 1,
                         .tasks_total = 2,
                         .workers = 2,
                         .eta = 9.2};
    progress_format(&t, true, line, sizeof line);
    assert_string_equal(line, "training   [#####...............]  25% iteration 5, 312 CG steps, 2 "
                              "workers, ETA 9s");
    progress_format(&t, false, line, sizeof line);
    assert_string_equal(line, "training: 25% iteration 5, 312 CG steps, 2 workers, ETA 9s");
    progress_view_t r = {.phase = "predicting",
                         .frac = 0.5,
                         .rows_done = 1000,
                         .rows_total = 2000,
                         .tasks_done = 1,
                         .tasks_total = 2,
                         .rate = 51234,
                         .workers = 1,
                         .eta = -1};
    progress_format(&r, false, line, sizeof line);
    assert_string_equal(line, "predicting: 50% 1000/2000 rows, 51234 rows/s, 1 worker");
    char tiny[12];
    progress_format(&r, true, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* Ticks p and returns the job_progress event it published, parsed (the
 * caller puts it). Ticks again while the subscription is on its way: PUB
 * drops what no subscriber has asked for yet. */
static json_object *tick(progress_t *p, void *sub) {
    char buf[4096];
    int n = -1;
    for (int i = 0; i < 100 && n < 0; i++) {
        progress_tick(p);
        n = zmq_recv(sub, buf, sizeof buf - 1, 0);
    }
    assert_true(n > 0);
    buf[n] = 0;
    json_object *o = json_tokener_parse(buf), *data = NULL;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "data", &data));
    json_object_get(data);
    json_object_put(o);
    return data;
}

static double num(json_object *o, const char *key) {
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_double(v);
}

/* A real tick on a real scheduler: the job_progress event carries the
 * phase's share, which stays put when training reports less, and the Newton
 * figures. */
static void test_tick_event(void **state) {
    (void)state;
    char err[256];
    config_t cfg;
    config_defaults(&cfg);
    snprintf(cfg.master.ip, sizeof cfg.master.ip, "127.0.0.1");
    cfg.master.task_port = free_port();
    cfg.master.result_port = free_port();
    cfg.master.heartbeat_port = free_port();
    volatile sig_atomic_t stop = 0;
    void *zctx = zmq_ctx_new();
    events_t *ev = events_new(zctx, "inproc://test-progress", err, sizeof err);
    assert_non_null(ev);
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    int ms = 100;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(sub, "inproc://test-progress"), 0);
    sched_t *s = sched_new(zctx, &cfg, ev, &stop, err, sizeof err);
    assert_non_null(s);
    progress_t p;
    progress_init(&p, s, ev, 9, true);
    progress_phase(&p, "training");
    progress_newton(&p, 3, 42, 0.4);
    json_object *d = tick(&p, sub);
    assert_true(num(d, "phase_done") == 0.4);
    assert_true(num(d, "newton_iter") == 3);
    assert_true(num(d, "cg_steps") == 42);
    json_object_put(d);
    progress_newton(&p, 4, 50, 0.3); /* |g| grew for a step: the bar stays */
    d = tick(&p, sub);
    assert_true(num(d, "phase_done") == 0.4);
    assert_true(num(d, "newton_iter") == 4);
    json_object_put(d);
    progress_phase(&p, "predicting"); /* a new phase starts from 0 */
    d = tick(&p, sub);
    assert_true(num(d, "phase_done") == 0);
    assert_false(json_object_object_get_ex(d, "newton_iter", NULL));
    json_object_put(d);
    progress_finish(&p);
    sched_destroy(&s);
    zmq_close(sub);
    events_destroy(&ev);
    zmq_ctx_term(zctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advance_never_back),
        cmocka_unit_test(test_eta_only_when_meaningful),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_tick_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
