/* Unit tests for dashboard/dashstate (issue 18): what the page and REST are
 * told about a job while it runs and once it ends: a progress that never goes
 * back within a phase, no "ETA 0", training and test accuracy apart,
 * duration_ms, the cancelled state; and cores counted once per host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dashboard/dashstate.h"

/* Applies event name with data (JSON text); returns what browsers get. */
static json_object *apply(dashstate_t *s, const char *name, const char *json) {
    json_object *d = json_tokener_parse(json);
    assert_non_null(d);
    const char *ev = dashstate_public_event(s, name, d);
    json_object *out = ev ? dashstate_apply(s, ev, 1000, d) : NULL;
    json_object_put(d);
    return out;
}

static json_object *job(dashstate_t *s, int64_t id) {
    json_object *all = dashstate_jobs(s), *found = NULL;
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *j = json_object_array_get_idx(all, i);
        if (json_object_get_int64(json_object_object_get(j, "id")) == id)
            found = json_object_get(j);
    }
    json_object_put(all);
    assert_non_null(found);
    return found;
}

static double num(json_object *o, const char *path) {
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    char *dot = strchr(key, '.');
    if (dot) {
        *dot = 0;
        o = json_object_object_get(o, key);
        return json_object_get_double(json_object_object_get(o, dot + 1));
    }
    return json_object_get_double(json_object_object_get(o, key));
}

static void test_progress_forward(void **state) {
    (void)state;
    dashstate_t *s = dashstate_new(1000, 3);
    json_object_put(apply(s, "job_started",
                          "{\"job_id\":1,\"mode\":\"train\",\"data\":\"d\",\"total_tasks\":4,"
                          "\"rows_total\":400,\"workers\":2}"));
    json_object_put(apply(s, "job_progress",
                          "{\"job_id\":1,\"phase\":\"loading\",\"done_tasks\":3,\"total_tasks\":4,"
                          "\"rows_done\":300,\"rows_total\":400,\"rate_rows_s\":10,\"eta_s\":null,"
                          "\"workers\":2,\"phase_done\":0.75}"));
    /* a second pass in the same phase starts from 0 rows: shown as before */
    json_object_put(apply(s, "job_progress",
                          "{\"job_id\":1,\"phase\":\"loading\",\"done_tasks\":1,\"total_tasks\":4,"
                          "\"rows_done\":100,\"rows_total\":400,\"rate_rows_s\":10,\"eta_s\":3,"
                          "\"workers\":2,\"phase_done\":0.75}"));
    json_object *j = job(s, 1);
    assert_string_equal(json_object_get_string(
                            json_object_object_get(json_object_object_get(j, "progress"), "unit")),
                        "rows");
    assert_int_equal((int)num(j, "progress.done"), 300);
    assert_int_equal((int)num(j, "progress.total"), 400);
    json_object_put(j);
    /* training: the Newton iteration, no total, no rows/s */
    json_object_put(apply(s, "job_progress",
                          "{\"job_id\":1,\"phase\":\"training\",\"done_tasks\":0,\"total_tasks\":2,"
                          "\"rows_done\":0,\"rows_total\":400,\"rate_rows_s\":null,\"eta_s\":5,"
                          "\"workers\":2,\"phase_done\":0.4,\"newton_iter\":3,\"cg_steps\":40}"));
    j = job(s, 1);
    json_object *p = json_object_object_get(j, "progress");
    assert_string_equal(json_object_get_string(json_object_object_get(p, "unit")), "iterations");
    assert_int_equal(json_object_get_int(json_object_object_get(p, "done")), 3);
    assert_null(json_object_object_get(p, "total"));
    assert_int_equal(json_object_get_int(json_object_object_get(p, "cg_steps")), 40);
    assert_null(json_object_object_get(j, "rate_rows_s"));
    json_object_put(j);
    json_object_put(apply(s, "job_done",
                          "{\"job_id\":1,\"state\":\"done\",\"duration_s\":0.2345,\"accuracy\":0.9,"
                          "\"outputs\":{},\"error\":null}"));
    j = job(s, 1);
    assert_null(json_object_object_get(j, "eta_s")); /* never "ETA 0" */
    assert_true(num(j, "train_accuracy") == 0.9);
    assert_null(json_object_object_get(j, "test_accuracy"));
    assert_int_equal(json_object_get_int(json_object_object_get(j, "duration_ms")), 235);
    assert_true(num(j, "progress.fraction") == 1.0);
    json_object_put(j);
    json_object *st = dashstate_update_stats(s, 2000);
    assert_null(json_object_object_get(st, "estimated_completion"));
    json_object_put(st);
    dashstate_destroy(&s);
}

static void test_cancelled(void **state) {
    (void)state;
    dashstate_t *s = dashstate_new(1000, 3);
    json_object *req = json_tokener_parse("{\"mode\":\"test\",\"data\":\"t.csv\"}");
    json_object_put(dashstate_job_queued(s, 2, req, 500));
    json_object_put(dashstate_job_queued(s, 3, req, 600));
    json_object_put(req);
    assert_string_equal(dashstate_job_state(s, 2), "queued");
    /* a job cancelled while queued: serve.c's job_failed with state cancelled */
    json_object *out = apply(
        s, "job_failed", "{\"job_id\":2,\"mode\":\"test\",\"status\":125,\"state\":\"cancelled\"}");
    assert_non_null(out);
    assert_string_equal(json_object_get_string(json_object_object_get(out, "state")), "cancelled");
    assert_string_equal(json_object_get_string(json_object_object_get(out, "error")), "cancelled");
    json_object_put(out);
    assert_string_equal(dashstate_job_state(s, 2), "cancelled");
    assert_false(dashstate_job_pending(s, 2));
    /* a running job's driver says cancelled; serve's job_failed after it is dropped */
    json_object_put(apply(s, "job_started",
                          "{\"job_id\":3,\"mode\":\"test\",\"data\":\"t.csv\",\"total_tasks\":2,"
                          "\"rows_total\":10,\"workers\":1}"));
    json_object_put(
        apply(s, "job_done",
              "{\"job_id\":3,\"state\":\"cancelled\",\"duration_s\":1,\"accuracy\":null,"
              "\"outputs\":{},\"error\":\"cancelled\"}"));
    assert_null(apply(s, "job_failed",
                      "{\"job_id\":3,\"mode\":\"test\",\"status\":125,\"state\":\"cancelled\"}"));
    assert_string_equal(dashstate_job_state(s, 3), "cancelled");
    assert_null(dashstate_job_state(s, 99));
    dashstate_destroy(&s);
}

static void test_cores_once_per_host(void **state) {
    (void)state;
    dashstate_t *s = dashstate_new(1000, 3);
    json_object_put(
        apply(s, "worker_joined",
              "{\"id\":\"a\",\"name\":\"a\",\"host\":\"pc1\",\"cores\":2,\"slots\":1}"));
    json_object_put(
        apply(s, "worker_joined",
              "{\"id\":\"b\",\"name\":\"b\",\"host\":\"pc1\",\"cores\":2,\"slots\":1}"));
    json_object_put(
        apply(s, "worker_joined",
              "{\"id\":\"c\",\"name\":\"c\",\"host\":\"pc2\",\"cores\":8,\"slots\":8}"));
    json_object *st = dashstate_update_stats(s, 1000);
    assert_int_equal(json_object_get_int(json_object_object_get(st, "cores_total")), 10);
    assert_int_equal(json_object_get_int(json_object_object_get(st, "workers_count")), 3);
    json_object_put(st);
    dashstate_destroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_progress_forward),
                                       cmocka_unit_test(test_cancelled),
                                       cmocka_unit_test(test_cores_once_per_host)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
