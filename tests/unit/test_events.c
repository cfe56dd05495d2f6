/* Unit tests for common/events (the table of event names and fields) and
 * dashboard/jobsum (the job summary's one builder): every name looks up to
 * its id, and a job summary has the same fields in the same order whether it
 * comes from the live state (dashstate) or from the history file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/events.h"
#include "dashboard/dashstate.h"
#include "dashboard/history.h"
#include "dashboard/jobsum.h"

static void test_lookup(void **state) {
    (void)state;
    for (int i = 0; i < EV_COUNT; i++) {
        const event_def_t *d = events_def((event_id_t)i);
        assert_non_null(d);
        assert_string_equal(events_name((event_id_t)i), d->name);
        assert_int_equal(events_lookup(d->name), i);
        assert_non_null(d->fields);
    }
    assert_int_equal(events_lookup("no_such_event"), EV_UNKNOWN);
    assert_int_equal(events_lookup(NULL), EV_UNKNOWN);
    assert_null(events_def(EV_COUNT));
    assert_string_equal(events_name(EV_UNKNOWN), "?");
}

/* Every event that belongs to a job names it job_id, never id (only a
 * worker's own events and a job summary say id). */
static void test_job_id_one_name(void **state) {
    (void)state;
    for (int i = 0; i < EV_COUNT; i++) {
        const event_def_t *d = events_def((event_id_t)i);
        bool has_job_id = false, has_id = false;
        for (const event_field_t *f = d->fields; f->name; f++) {
            has_id |= strcmp(f->name, "id") == 0;
            has_job_id |= strcmp(f->name, "job_id") == 0;
        }
        if (strncmp(d->name, "job_", 4) == 0 || strncmp(d->name, "task_", 5) == 0 ||
            i == EV_ITERATION)
            assert_true(has_job_id && !has_id);
    }
}

/* The keys of o (and of o.outputs) as "a,b,outputs.c,...". */
static void keys_of(json_object *o, char *out, size_t len) {
    out[0] = '\0';
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "outputs") == 0 && val) {
            json_object_object_foreach(val, k2, v2) {
                (void)v2;
                snprintf(out + strlen(out), len - strlen(out), "outputs.%s,", k2);
            }
        }
        snprintf(out + strlen(out), len - strlen(out), "%s,", key);
    }
}

static json_object *J(const char *text) {
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    return o;
}

/* One job seen live and the same job read back from history give the same
 * summary fields, in the same order (jobsum.h). */
static void test_summary_same_keys(void **state) {
    (void)state;
    char dir[] = "/tmp/nc_events_XXXXXX", path[64], err[256] = "", live[1024], stored[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/h.db", dir);
    history_t *h = history_open(path, 0, false, err, sizeof err);
    assert_non_null(h);
    dashstate_t *s = dashstate_new(1000, 3);
    assert_non_null(s);
    static const char *const evs[][2] = {
        {"job_started", "{\"job_id\":7,\"mode\":\"test\",\"data\":\"t.csv\",\"total_tasks\":2,"
                        "\"rows_total\":10,\"workers\":1}"},
        {"job_done", "{\"job_id\":7,\"state\":\"done\",\"duration_s\":1.5,\"accuracy\":0.9,"
                     "\"outputs\":{\"submission\":\"p.csv\"},\"error\":null}"}};
    for (size_t i = 0; i < 2; i++) {
        json_object *d = J(evs[i][1]);
        json_object_put(dashstate_apply(s, evs[i][0], 100 + (int64_t)i, d));
        assert_int_equal(history_record(h, evs[i][0], 100 + (int64_t)i, d, err, sizeof err), 0);
        json_object_put(d);
    }
    assert_int_equal(history_flush(h, err, sizeof err), 0);
    json_object *a = dashstate_jobs(s), *b = history_jobs(h, 10, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    keys_of(json_object_array_get_idx(a, 0), live, sizeof live);
    keys_of(json_object_array_get_idx(b, 0), stored, sizeof stored);
    assert_string_equal(live, stored);
    /* a test job's predictions file survives in history (outputs.submission) */
    json_object *outs = NULL, *sub = NULL;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(b, 0), "outputs", &outs));
    assert_true(json_object_object_get_ex(outs, "submission", &sub));
    assert_string_equal(json_object_get_string(sub), "p.csv");
    json_object *one = history_job(h, 7, err, sizeof err);
    assert_non_null(one);
    json_object *fresh = jobsum_new(7);
    keys_of(fresh, live, sizeof live);
    json_object_object_del(one, "iterations");
    json_object_object_del(one, "timeline");
    json_object_object_del(one, "failed");
    json_object_object_del(one, "events");
    json_object_object_del(one, "metrics"); /* a detail, as the four above */
    json_object_object_del(one, "params");  /* the run's options: a detail too */
    keys_of(one, stored, sizeof stored);
    assert_string_equal(live, stored);
    json_object_put(fresh);
    json_object_put(one);
    json_object_put(a);
    json_object_put(b);
    dashstate_destroy(&s);
    history_close(&h);
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    rmdir(dir);
}

/* A job event reaches browsers as the summary plus job_id. */
static void test_job_event_has_job_id(void **state) {
    (void)state;
    json_object *sum = jobsum_new(42), *v = NULL;
    assert_non_null(sum);
    assert_int_equal(jobsum_set(sum, "outputs.model", json_object_new_string("m.txt")), 0);
    assert_int_equal(jobsum_set(sum, "no_such_field", json_object_new_int(1)), -1);
    json_object *ev = jobsum_event(sum);
    assert_non_null(ev);
    assert_true(json_object_object_get_ex(ev, "job_id", &v));
    assert_int_equal(json_object_get_int64(v), 42);
    assert_true(json_object_object_get_ex(ev, "id", &v));
    assert_int_equal(json_object_get_int64(v), 42);
    json_object_put(ev);
    json_object_put(sum);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_job_id_one_name),
        cmocka_unit_test(test_summary_same_keys),
        cmocka_unit_test(test_job_event_has_job_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
