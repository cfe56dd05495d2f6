/* Unit tests for dashboard/history: schema, migration, batched writes,
 * retention and reading back. Each test uses its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard/history.h"

typedef struct {
    char dir[256];
    char path[512];
} tmp_t;

static int setup(void **state) {
    tmp_t *t = calloc(1, sizeof(*t));
    if (!t) return -1;
    strcpy(t->dir, "/tmp/nc_hist_XXXXXX");
    if (!mkdtemp(t->dir)) return -1;
    /* a sub-directory that does not exist yet: history_open must create it */
    snprintf(t->path, sizeof(t->path), "%s/sub/dir/h.db", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state) {
    tmp_t *t = *state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    if (system(cmd) != 0) return -1;
    free(t);
    return 0;
}

static json_object *J(const char *text) {
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    return o;
}

static void record(history_t *h, const char *ev, int64_t ts, const char *json) {
    char err[256] = "";
    json_object *o = J(json);
    if (history_record(h, ev, ts, o, err, sizeof(err)) != 0)
        fail_msg("history_record %s: %s", ev, err);
    json_object_put(o);
}

static long count(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_fresh_schema(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *h = history_open(t->path, 7, false, err, sizeof(err));
    if (!h) fail_msg("%s", err);
    assert_int_equal(history_schema_version(h), HISTORY_SCHEMA_VERSION);
    history_close(&h);
    assert_null(h);
    assert_int_equal(count(t->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name IN ('jobs','tasks','samples','events','iterations')"),
                     5);
    /* WAL survives in the file header */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* reopening an up-to-date file is a no-op */
    h = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(h);
    history_close(&h);
}

static void test_migration_from_v1(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    snprintf(t->path, sizeof(t->path), "%s/v1.db", t->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    /* the version-1 schema as shipped, with one row of data */
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE jobs(id INTEGER PRIMARY KEY, mode TEXT, data TEXT, state TEXT,"
                     " started_ms INTEGER, ended_ms INTEGER, duration_s REAL, total_tasks INTEGER,"
                     " done_tasks INTEGER, rows_total INTEGER, rows_done INTEGER, accuracy REAL,"
                     " model TEXT, submission TEXT, error TEXT);"
                     "CREATE TABLE tasks(job_id INTEGER, task_id INTEGER, shard INTEGER,"
                     " worker TEXT, attempt INTEGER, start_ms INTEGER, end_ms INTEGER,"
                     " rows INTEGER, result TEXT, error TEXT);"
                     "CREATE TABLE samples(ts INTEGER, worker TEXT, cpu REAL, mem REAL,"
                     " rows_per_s REAL, load REAL, state TEXT);"
                     "CREATE TABLE events(ts INTEGER, job_id INTEGER, name TEXT, data TEXT);"
                     "CREATE TABLE iterations(job_id INTEGER, class INTEGER, iter INTEGER,"
                     " f REAL, gnorm REAL, cg INTEGER, secs REAL);"
                     "INSERT INTO jobs(id, mode, state, accuracy, started_ms)"
                     " VALUES (1764000041, 'train', 'done', 0.9, 2000);"
                     "INSERT INTO jobs(id, mode, state, started_ms) VALUES (1764000007, 'test', "
                     "'done', 1000);"
                     "INSERT INTO tasks(job_id, task_id) VALUES (1764000041, 3);"
                     "INSERT INTO iterations(job_id, iter) VALUES (1764000041, 5);"
                     "INSERT INTO events(job_id, name) VALUES (1764000007, 'job_done');"
                     "INSERT INTO events(job_id, name) VALUES (NULL, 'worker_joined');"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    history_t *h = history_open(t->path, 7, false, err, sizeof(err));
    if (!h) fail_msg("%s", err);
    assert_int_equal(history_schema_version(h), HISTORY_SCHEMA_VERSION);
    /* the v2 and v3 columns are usable and old data is intact */
    record(h, "worker_stats", 1000, "{\"name\":\"w1\",\"cpu\":10,\"mem\":20,\"battery\":55}");
    assert_int_equal(history_flush(h, err, sizeof(err)), 0);
    json_object *jobs = history_jobs(h, 10, err, sizeof(err));
    assert_non_null(jobs);
    assert_int_equal(json_object_array_length(jobs), 2);
    json_object *v;
    /* v4: the Unix-time ids became run ids in start order, everywhere */
    assert_true(json_object_object_get_ex(json_object_array_get_idx(jobs, 0), "id", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(jobs, 0), "accuracy", &v));
    assert_true(json_object_get_double(v) == 0.9);
    json_object_put(jobs);
    /* and the next run follows them */
    assert_int_equal(history_run_new(h, "train", "d.csv", "running", NULL, 3000, err, sizeof err),
                     3);
    history_close(&h);
    assert_int_equal(count(t->path, "SELECT job_id FROM tasks WHERE task_id = 3"), 2);
    assert_int_equal(count(t->path, "SELECT job_id FROM iterations WHERE iter = 5"), 2);
    assert_int_equal(count(t->path, "SELECT job_id FROM events WHERE name = 'job_done'"), 1);
    assert_int_equal(count(t->path, "SELECT count(*) FROM events WHERE job_id IS NULL"), 1);
    assert_int_equal(count(t->path, "SELECT battery FROM samples"), 55);
    assert_int_equal(count(t->path, "SELECT count(*) FROM jobs WHERE metrics IS NULL"), 3);
    assert_int_equal(count(t->path, "SELECT count(*) FROM sqlite_master WHERE name = 'samples_ts'"),
                     1);
}

static void test_refuses_newer_schema(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    snprintf(t->path, sizeof(t->path), "%s/new.db", t->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(history_open(t->path, 7, false, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
}

static void test_batched_writes(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *w = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(w);
    history_t *r = history_open(t->path, 7, true, err, sizeof(err));
    assert_non_null(r);
    record(w, "job_started", 5000,
           "{\"job_id\":3,\"mode\":\"train\",\"data\":\"d.csv\",\"total_tasks\":4,"
           "\"rows_total\":400,\"workers\":2}");
    /* not committed yet: the reader must not see it */
    json_object *jobs = history_jobs(r, 10, err, sizeof(err));
    assert_non_null(jobs);
    assert_int_equal(json_object_array_length(jobs), 0);
    json_object_put(jobs);
    assert_int_equal(history_flush(w, err, sizeof(err)), 0);
    jobs = history_jobs(r, 10, err, sizeof(err));
    assert_int_equal(json_object_array_length(jobs), 1);
    json_object_put(jobs);
    /* the reader cannot write */
    json_object *o = J("{\"name\":\"w\"}");
    assert_int_equal(history_record(r, "worker_stats", 1, o, err, sizeof(err)), -1);
    json_object_put(o);
    history_close(&r);
    history_close(&w);
}

/* The master's journal shares the file: between flushes the history must not
 * hold the write lock, or every journal write waits for the busy timeout (the
 * demo ran 6x slower with the dashboard on). Another connection with no busy
 * timeout at all must get the lock while events are pending. */
static void test_no_lock_between_flushes(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *w = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(w);
    record(w, "worker_stats", 1000, "{\"name\":\"w1\",\"cpu\":10,\"mem\":20}");
    record(w, "job_started", 1000, "{\"job_id\":9,\"mode\":\"train\",\"total_tasks\":1}");
    sqlite3 *other;
    assert_int_equal(sqlite3_open(t->path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 0);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "CREATE TABLE IF NOT EXISTS j(x)", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(history_flush(w, err, sizeof(err)), 0);
    history_close(&w);
    assert_int_equal(count(t->path, "SELECT count(*) FROM samples"), 1);
    assert_int_equal(count(t->path, "SELECT count(*) FROM jobs WHERE id = 9"), 1);
}

/* A flush that finds the database locked past its timeout keeps its events
 * and writes them on the next call: nothing is lost. */
static void test_flush_retries_when_busy(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *w = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(w);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(t->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    record(w, "worker_stats", 1000, "{\"name\":\"w1\",\"cpu\":10,\"mem\":20}");
    assert_int_equal(history_flush(w, err, sizeof(err)), -1);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(history_flush(w, err, sizeof(err)), 0);
    history_close(&w);
    assert_int_equal(count(t->path, "SELECT count(*) FROM samples"), 1);
}

static void test_job_read_back(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *h = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(h);
    record(h, "job_started", 1000,
           "{\"job_id\":7,\"mode\":\"train\",\"data\":\"x.csv\",\"total_tasks\":2,"
           "\"rows_total\":200,\"workers\":2}");
    record(h, "task_done", 1500,
           "{\"job_id\":7,\"task_id\":1,\"shard\":0,\"worker\":\"a\",\"attempt\":1,"
           "\"start_ms\":1100,\"end_ms\":1400,\"rows\":100}");
    record(h, "task_failed", 1600,
           "{\"job_id\":7,\"task_id\":2,\"worker\":\"b\",\"attempt\":1,\"error\":\"lost\","
           "\"ts\":1600}");
    record(h, "task_done", 1900,
           "{\"job_id\":7,\"task_id\":2,\"shard\":1,\"worker\":\"a\",\"attempt\":2,"
           "\"start_ms\":1650,\"end_ms\":1900,\"rows\":100}");
    record(h, "iteration", 1950,
           "{\"job_id\":7,\"class\":0,\"iter\":1,\"f\":69.3,\"gnorm\":12.5,\"cg\":3,\"secs\":0.1}");
    record(h, "job_progress", 1960,
           "{\"job_id\":7,\"done_tasks\":2,\"total_tasks\":2,\"rows_done\":200,"
           "\"rows_total\":200,\"workers\":2}");
    record(h, "job_done", 2000,
           "{\"job_id\":7,\"state\":\"done\",\"duration_s\":1.0,\"accuracy\":0.875,"
           "\"outputs\":{\"model\":\"m.txt\",\"submission\":\"s.csv\"},\"error\":null,"
           "\"metrics\":{\"rows\":8,\"macro_f1\":0.5,\"classes\":[{\"label\":\"a\"}]}}");
    record(h, "counters", 2000, "{\"rows_processed\":5}"); /* ignored, not an error */
    assert_int_equal(history_flush(h, err, sizeof(err)), 0);

    json_object *job = history_job(h, 7, err, sizeof(err));
    if (!job) fail_msg("%s", err);
    json_object *v, *arr;
    assert_true(json_object_object_get_ex(job, "state", &v));
    assert_string_equal(json_object_get_string(v), "done");
    assert_true(json_object_object_get_ex(job, "accuracy", &v));
    assert_true(json_object_get_double(v) == 0.875);
    assert_true(json_object_object_get_ex(job, "duration_s", &v));
    assert_true(json_object_get_double(v) == 1.0);
    assert_true(json_object_object_get_ex(job, "outputs", &v));
    assert_true(json_object_object_get_ex(v, "model", &v));
    assert_string_equal(json_object_get_string(v), "m.txt");
    assert_true(json_object_object_get_ex(job, "done_tasks", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(job, "timeline", &arr));
    assert_int_equal(json_object_array_length(arr), 2);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 1), "attempt", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(job, "failed", &arr));
    assert_int_equal(json_object_array_length(arr), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "error", &v));
    assert_string_equal(json_object_get_string(v), "lost");
    assert_true(json_object_object_get_ex(job, "iterations", &arr));
    assert_int_equal(json_object_array_length(arr), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "gnorm", &v));
    assert_true(json_object_get_double(v) == 12.5);
    assert_true(json_object_object_get_ex(job, "events", &arr));
    assert_int_equal(json_object_array_length(arr), 3); /* started, task_failed, done */
    assert_true(json_object_object_get_ex(job, "metrics", &v));
    assert_true(json_object_object_get_ex(v, "macro_f1", &arr));
    assert_true(json_object_get_double(arr) == 0.5);
    assert_true(json_object_object_get_ex(v, "classes", &arr));
    assert_int_equal(json_object_array_length(arr), 1);
    json_object_put(job);

    err[0] = 'x';
    assert_null(history_job(h, 8, err, sizeof(err)));
    assert_string_equal(err, ""); /* not found is not an error */

    /* a job that ends without a start we saw still gets a row */
    record(h, "job_done", 3000, "{\"job_id\":9,\"state\":\"failed\",\"error\":\"no workers\"}");
    assert_int_equal(history_flush(h, err, sizeof(err)), 0);
    json_object *jobs = history_jobs(h, 10, err, sizeof(err));
    assert_int_equal(json_object_array_length(jobs), 2);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(jobs, 0), "error", &v));
    assert_string_equal(json_object_get_string(v), "no workers");
    json_object_put(jobs);
    history_close(&h);
}

static void test_series_and_retention(void **state) {
    tmp_t *t = *state;
    char err[256] = "";
    history_t *h = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(h);
    int64_t now = 100LL * 86400000LL;
    int64_t old = now - 8LL * 86400000LL;
    record(h, "worker_stats", old, "{\"name\":\"a\",\"cpu\":99,\"mem\":99,\"rows_per_s\":9}");
    record(h, "worker_stats", now, "{\"name\":\"a\",\"cpu\":20,\"mem\":40,\"rows_per_s\":100}");
    record(h, "worker_stats", now + 10, "{\"name\":\"b\",\"cpu\":60,\"mem\":20,\"rows_per_s\":50}");
    assert_int_equal(history_flush(h, err, sizeof(err)), 0);

    json_object *s = history_series(h, "cpu", NULL, now - 60000, 5000, err, sizeof(err));
    assert_non_null(s);
    json_object *pts, *v;
    assert_true(json_object_object_get_ex(s, "points", &pts));
    assert_int_equal(json_object_array_length(pts), 1);
    v = json_object_array_get_idx(json_object_array_get_idx(pts, 0), 1);
    assert_true(json_object_get_double(v) == 40.0); /* mean of 20 and 60 */
    json_object_put(s);

    s = history_series(h, "rows", NULL, now - 60000, 5000, err, sizeof(err));
    json_object_object_get_ex(s, "points", &pts);
    v = json_object_array_get_idx(json_object_array_get_idx(pts, 0), 1);
    assert_true(json_object_get_double(v) == 150.0); /* sum over workers */
    json_object_put(s);

    s = history_series(h, "mem", "b", 0, 1000, err, sizeof(err));
    json_object_object_get_ex(s, "points", &pts);
    assert_int_equal(json_object_array_length(pts), 1);
    json_object_put(s);

    assert_null(history_series(h, "cpu; DROP TABLE samples", NULL, 0, 1000, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown metric"));

    assert_int_equal(history_prune(h, now, err, sizeof(err)), 1);
    s = history_series(h, "cpu", "a", 0, 1000, err, sizeof(err));
    json_object_object_get_ex(s, "points", &pts);
    assert_int_equal(json_object_array_length(pts), 1);
    json_object_put(s);
    history_close(&h);
}

/* Run ids: 1, 2, 3 in a fresh file; never reused after the newest run is
 * deleted; continued after a reopen; a second file starts at 1 again. */
static void test_run_ids(void **state) {
    tmp_t *t = *state;
    char err[256] = "", other[600];
    history_t *h = history_open(t->path, 7, false, err, sizeof(err));
    if (!h) fail_msg("%s", err);
    json_object *params = J("{\"C\":2,\"solver\":\"L2R_LR\"}");
    assert_int_equal(history_run_new(h, "train", "a.csv", "running", params, 1000, err, sizeof err),
                     1);
    assert_int_equal(history_run_new(h, "test", "b.csv", "queued", NULL, 2000, err, sizeof err), 2);
    assert_int_equal(history_run_new(h, "test", "b.csv", "queued", NULL, 3000, err, sizeof err), 3);
    assert_int_equal(history_run_delete(h, 3, err, sizeof err), 0);
    assert_int_equal(history_run_new(h, "test", "b.csv", "queued", NULL, 4000, err, sizeof err), 4);
    /* a run's end, as its job_done says, and its params read back */
    json_object *done = J("{\"state\":\"done\",\"duration_s\":1.5,\"accuracy\":0.75,"
                          "\"metrics\":{\"accuracy\":0.75,\"macro_f1\":0.5},\"error\":null}");
    assert_int_equal(history_run_started(h, 2, 2500, err, sizeof err), 0);
    assert_int_equal(history_run_started(h, 99, 2500, err, sizeof err), -1); /* not a run */
    assert_int_equal(history_run_done(h, 2, 2600, done, err, sizeof err), 0);
    json_object *r = history_run(h, 2, err, sizeof err), *v, *m;
    assert_non_null(r);
    assert_true(json_object_object_get_ex(r, "state", &v));
    assert_string_equal(json_object_get_string(v), "done");
    assert_true(json_object_object_get_ex(r, "metrics", &m));
    assert_true(json_object_object_get_ex(m, "macro_f1", &v));
    assert_true(json_object_get_double(v) == 0.5);
    json_object_put(r);
    r = history_run(h, 1, err, sizeof err);
    assert_true(json_object_object_get_ex(r, "params", &m));
    assert_true(json_object_object_get_ex(m, "C", &v));
    assert_int_equal(json_object_get_int(v), 2);
    json_object_put(r);
    assert_null(history_run(h, 3, err, sizeof err));
    assert_string_equal(err, "");
    json_object *list = history_runs(h, 10, err, sizeof err);
    assert_int_equal(json_object_array_length(list), 3); /* 4, 2, 1 */
    assert_true(json_object_object_get_ex(json_object_array_get_idx(list, 0), "id", &v));
    assert_int_equal(json_object_get_int(v), 4);
    json_object_put(list);
    json_object_put(done);
    json_object_put(params);
    history_close(&h);
    h = history_open(t->path, 7, false, err, sizeof(err));
    assert_non_null(h);
    assert_int_equal(history_run_new(h, "train", "a.csv", "running", NULL, 5000, err, sizeof err),
                     5);
    history_close(&h);
    snprintf(other, sizeof other, "%s/other.db", t->dir);
    h = history_open(other, 7, false, err, sizeof(err));
    assert_non_null(h);
    assert_int_equal(history_run_new(h, "train", "a.csv", "running", NULL, 5000, err, sizeof err),
                     1);
    history_close(&h);
}

static void test_unwritable_path(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(history_open("/proc/nonexistent/dir/h.db", 7, false, err, sizeof(err)));
    assert_true(err[0] != '\0');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batched_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_lock_between_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_retries_when_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_and_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_ids, setup, teardown),
        cmocka_unit_test(test_unwritable_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
