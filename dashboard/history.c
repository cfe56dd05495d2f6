/* history: SQLite store of jobs, tasks, samples, events and iterations. See history.h. */
#include "common/errbuf.h"
#include "common/events.h"
#include "dashboard/history.h"
#include "dashboard/jobsum.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HISTORY_BUSY_MS 2000 /* the master's journal may hold the write lock briefly */
#define HISTORY_MAX_POINTS 20000
#define HISTORY_MAX_PENDING 200000 /* events held between flushes; past it new ones are dropped */

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_SAMPLE,
    ST_EVENT,
    ST_TASK,
    ST_ITER,
    ST_JOB_START,
    ST_JOB_QUEUED,
    ST_JOB_PROGRESS,
    ST_JOB_DONE,
    ST_JOB_ENSURE,
    ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_SAMPLE] = "INSERT INTO samples(ts, worker, cpu, mem, rows_per_s, load, state, battery) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_EVENT] = "INSERT INTO events(ts, job_id, name, data) VALUES (?1, ?2, ?3, ?4)",
    [ST_TASK] = "INSERT INTO tasks(job_id, task_id, shard, worker, attempt, start_ms, end_ms, "
                "rows, result, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_ITER] = "INSERT INTO iterations(job_id, class, iter, f, gnorm, cg, secs) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_JOB_START] = "INSERT INTO jobs(id, mode, data, state, started_ms, total_tasks, done_tasks, "
                     "rows_total, rows_done, workers) VALUES (?1, ?2, ?3, 'running', ?4, ?5, 0, "
                     "?6, 0, ?7) ON CONFLICT(id) DO UPDATE SET mode = excluded.mode, "
                     "data = excluded.data, state = 'running', started_ms = excluded.started_ms, "
                     "ended_ms = NULL, duration_s = NULL, total_tasks = excluded.total_tasks, "
                     "done_tasks = 0, rows_total = excluded.rows_total, rows_done = 0, "
                     "workers = excluded.workers, accuracy = NULL, model = NULL, "
                     "submission = NULL, error = NULL, metrics = NULL",
    [ST_JOB_QUEUED] = "INSERT OR IGNORE INTO jobs(id, mode, data, state, started_ms) "
                      "VALUES (?1, ?2, ?3, 'queued', ?4)",
    [ST_JOB_PROGRESS] = "UPDATE jobs SET done_tasks = ?2, total_tasks = ?3, rows_done = ?4, "
                        "rows_total = ?5, workers = ?6 WHERE id = ?1",
    [ST_JOB_DONE] = "UPDATE jobs SET state = ?2, ended_ms = ?3, duration_s = ?4, accuracy = ?5, "
                    "model = ?6, submission = ?7, error = ?8, metrics = ?9, "
                    "done_tasks = CASE WHEN ?2 = 'done' THEN total_tasks ELSE done_tasks END, "
                    "rows_done = CASE WHEN ?2 = 'done' THEN rows_total ELSE rows_done END "
                    "WHERE id = ?1",
    /* progress or the end of a job whose start we missed (the dashboard came up late) */
    [ST_JOB_ENSURE] =
        "INSERT OR IGNORE INTO jobs(id, state, started_ms) VALUES (?1, 'running', ?2)",
};

/* An event waiting for the next flush: a private copy of its data, so the
 * master's event objects are never read from here after history_record(). */
typedef struct pending {
    event_id_t ev;
    int64_t ts;
    json_object *data;
} pending_t;

struct history {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool readonly;
    int retention_days;
    pending_t *pend;
    size_t npend, cap;
    unsigned long dropped; /* events refused because too many were pending */
};

static void drop_pending(history_t *h);

/* Migrations: entry i turns version i into version i + 1. Append only: a
 * shipped step is never edited, because files in the field already ran it. */
static const char *const migrations[HISTORY_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY, mode TEXT, data TEXT, state TEXT,"
    " started_ms INTEGER, ended_ms INTEGER, duration_s REAL, total_tasks INTEGER,"
    " done_tasks INTEGER, rows_total INTEGER, rows_done INTEGER, accuracy REAL, model TEXT,"
    " submission TEXT, error TEXT);"
    "CREATE TABLE IF NOT EXISTS tasks(job_id INTEGER, task_id INTEGER, shard INTEGER,"
    " worker TEXT, attempt INTEGER, start_ms INTEGER, end_ms INTEGER, rows INTEGER,"
    " result TEXT, error TEXT);"
    "CREATE TABLE IF NOT EXISTS samples(ts INTEGER, worker TEXT, cpu REAL, mem REAL,"
    " rows_per_s REAL, load REAL, state TEXT);"
    "CREATE TABLE IF NOT EXISTS events(ts INTEGER, job_id INTEGER, name TEXT, data TEXT);"
    "CREATE TABLE IF NOT EXISTS iterations(job_id INTEGER, class INTEGER, iter INTEGER,"
    " f REAL, gnorm REAL, cg INTEGER, secs REAL);",
    /* 1 -> 2: battery in samples, worker count per job, indexes for the page's queries */
    "ALTER TABLE samples ADD COLUMN battery REAL;"
    "ALTER TABLE jobs ADD COLUMN workers INTEGER;"
    "CREATE INDEX IF NOT EXISTS samples_ts ON samples(ts);"
    "CREATE INDEX IF NOT EXISTS samples_worker_ts ON samples(worker, ts);"
    "CREATE INDEX IF NOT EXISTS tasks_job ON tasks(job_id);"
    "CREATE INDEX IF NOT EXISTS iterations_job ON iterations(job_id);"
    "CREATE INDEX IF NOT EXISTS events_job_ts ON events(job_id, ts);",
    /* 2 -> 3: a job's metrics (common/metrics.h), JSON text */
    "ALTER TABLE jobs ADD COLUMN metrics TEXT;",
    /* 3 -> 4: runs. A job's id becomes its run id, 1, 2, ... in the order the
     * jobs started (they were Unix times); its effective options as JSON; the
     * counter that hands out the next id (never reused, even once the newest
     * runs are deleted). */
    "ALTER TABLE jobs ADD COLUMN params TEXT;"
    "CREATE TEMP TABLE run_ids AS SELECT id AS old,"
    " ROW_NUMBER() OVER (ORDER BY started_ms, id) AS new FROM jobs;"
    "UPDATE jobs SET id = -(SELECT new FROM run_ids WHERE old = jobs.id);"
    "UPDATE jobs SET id = -id;"
    "UPDATE tasks SET job_id = (SELECT new FROM run_ids WHERE old = tasks.job_id)"
    " WHERE job_id IN (SELECT old FROM run_ids);"
    "UPDATE events SET job_id = (SELECT new FROM run_ids WHERE old = events.job_id)"
    " WHERE job_id IN (SELECT old FROM run_ids);"
    "UPDATE iterations SET job_id = (SELECT new FROM run_ids WHERE old = iterations.job_id)"
    " WHERE job_id IN (SELECT old FROM run_ids);"
    "DROP TABLE run_ids;"
    "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER);"
    "INSERT OR REPLACE INTO counters VALUES ('run', (SELECT COALESCE(MAX(id), 0) FROM jobs));",
};

/* mkdir -p of the directory part of path */
static int make_parent_dirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof(buf)) return errbuf_set(err, errlen, "history path too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errbuf_set(err, errlen, "cannot create directory %s for history: %s", buf,
                              strerror(errno));
        buf[i] = '/';
    }
    return 0;
}

static int user_version(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen) {
    char *msg = NULL;
    int v = user_version(db);
    if (v < 0)
        return errbuf_set(err, errlen, "%s: cannot read schema version: %s", path,
                          sqlite3_errmsg(db));
    if (v > HISTORY_SCHEMA_VERSION)
        return errbuf_set(err, errlen, "%s has history schema %d, newer than this program's %d",
                          path, v, HISTORY_SCHEMA_VERSION);
    for (; v < HISTORY_SCHEMA_VERSION; v++) {
        char sql[64];
        /* user_version cannot be bound; v is our own integer */
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) goto fail;
        /* another connection (the dashboard's, a second master) may have
         * migrated while we waited for the lock */
        int now = user_version(db);
        if (now > v) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            v = now - 1;
            continue;
        }
        if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        fail:
            errbuf_set(err, errlen, "%s: migrating history schema %d -> %d: %s", path, v, v + 1,
                       msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

history_t *history_open(const char *path, int retention_days, bool readonly, char *err,
                        size_t errlen) {
    history_t *h = calloc(1, sizeof(*h));
    char *msg = NULL;
    if (!h) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    h->readonly = readonly;
    h->retention_days = retention_days;
    if (!readonly && make_parent_dirs(path, err, errlen) != 0) goto fail;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (readonly ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, "cannot open history %s: %s", path,
                   h->db ? sqlite3_errmsg(h->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(h->db, HISTORY_BUSY_MS);
    if (!readonly) {
        if (sqlite3_exec(h->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL,
                         NULL, &msg) != SQLITE_OK) {
            errbuf_set(err, errlen, "history %s: %s", path, msg ? msg : sqlite3_errmsg(h->db));
            sqlite3_free(msg);
            goto fail;
        }
        if (migrate(h->db, path, err, errlen) != 0) goto fail;
        for (int i = 0; i < ST_COUNT; i++) {
            if (sqlite3_prepare_v2(h->db, st_sql[i], -1, &h->st[i], NULL) != SQLITE_OK) {
                errbuf_set(err, errlen, "history %s: preparing statement: %s", path,
                           sqlite3_errmsg(h->db));
                goto fail;
            }
        }
    }
    return h;
fail:
    history_close(&h);
    return NULL;
}

void history_close(history_t **hp) {
    history_t *h = hp ? *hp : NULL;
    if (!h) return;
    if (h->npend) history_flush(h, NULL, 0);
    drop_pending(h);
    free(h->pend);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(h->st[i]);
    sqlite3_close(h->db);
    free(h);
    *hp = NULL;
}

int history_schema_version(history_t *h) {
    return user_version(h->db);
}

/* Runs a prepared statement that returns no rows and resets it. */
static int run(history_t *h, sqlite3_stmt *st, char *err, size_t errlen) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return errbuf_set(err, errlen, "history write: %s", sqlite3_errmsg(h->db));
    return 0;
}

/* Field readers: missing or wrong-typed fields become SQL NULL. */
static json_object *field(json_object *o, const char *key) {
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v)) return NULL;
    return v;
}

static void bind_int(sqlite3_stmt *st, int i, json_object *v) {
    if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        sqlite3_bind_int64(st, i, json_object_get_int64(v));
    else if (v && json_object_is_type(v, json_type_boolean))
        sqlite3_bind_int64(st, i, json_object_get_boolean(v));
    else
        sqlite3_bind_null(st, i);
}

static void bind_double(sqlite3_stmt *st, int i, json_object *v) {
    if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        sqlite3_bind_double(st, i, json_object_get_double(v));
    else
        sqlite3_bind_null(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, json_object *v) {
    if (v && json_object_is_type(v, json_type_string))
        sqlite3_bind_text(st, i, json_object_get_string(v), json_object_get_string_len(v),
                          SQLITE_TRANSIENT);
    else if (v && !json_object_is_type(v, json_type_null))
        sqlite3_bind_text(st, i, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), -1,
                          SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int record_event(history_t *h, event_id_t ev, int64_t ts, json_object *data, char *err,
                        size_t errlen) {
    sqlite3_stmt *st = h->st[ST_EVENT];
    sqlite3_bind_int64(st, 1, ts);
    bind_int(st, 2, field(data, "job_id"));
    sqlite3_bind_text(st, 3, events_name(ev), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4,
                      data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "{}",
                      -1, SQLITE_TRANSIENT);
    return run(h, st, err, errlen);
}

/* How an event is stored: the columns of its statement, bound in order from
 * the event's fields (common/events.h), its ts or a constant. */
typedef enum { B_INT = 1, B_DOUBLE, B_TEXT, B_TS, B_CONST } bind_kind_t;

typedef struct {
    bind_kind_t kind;
    const char *field; /* "key" or "object.key"; the text itself for B_CONST */
} bind_t;

#define S_ROW 0x1    /* run `st` with `cols` */
#define S_ENSURE 0x2 /* first make sure the job has a row (ST_JOB_ENSURE) */
#define S_LOG 0x4    /* then add the event to the events table */

typedef struct {
    unsigned flags;
    int st;
    bind_t cols[10]; /* ends at the first kind 0 */
} store_t;

static const store_t stores[EV_COUNT] = {
    [EV_WORKER_STATS] = {S_ROW,
                         ST_SAMPLE,
                         {{B_TS, NULL},
                          {B_TEXT, "name"},
                          {B_DOUBLE, "cpu"},
                          {B_DOUBLE, "mem"},
                          {B_DOUBLE, "rows_per_s"},
                          {B_DOUBLE, "load"},
                          {B_TEXT, "state"},
                          {B_DOUBLE, "battery"}}},
    [EV_TASK_DONE] = {S_ROW,
                      ST_TASK,
                      {{B_INT, "job_id"},
                       {B_INT, "task_id"},
                       {B_INT, "shard"},
                       {B_TEXT, "worker"},
                       {B_INT, "attempt"},
                       {B_INT, "start_ms"},
                       {B_INT, "end_ms"},
                       {B_INT, "rows"},
                       {B_CONST, "done"},
                       {B_TEXT, "error"}}},
    [EV_TASK_FAILED] = {S_ROW | S_LOG,
                        ST_TASK,
                        {{B_INT, "job_id"},
                         {B_INT, "task_id"},
                         {B_INT, "shard"},
                         {B_TEXT, "worker"},
                         {B_INT, "attempt"},
                         {B_INT, "ts"},
                         {B_INT, "ts"},
                         {B_INT, "rows"},
                         {B_CONST, "failed"},
                         {B_TEXT, "error"}}},
    [EV_ITERATION] = {S_ROW,
                      ST_ITER,
                      {{B_INT, "job_id"},
                       {B_INT, "class"},
                       {B_INT, "iter"},
                       {B_DOUBLE, "f"},
                       {B_DOUBLE, "gnorm"},
                       {B_INT, "cg"},
                       {B_DOUBLE, "secs"}}},
    [EV_JOB_QUEUED] = {S_ROW,
                       ST_JOB_QUEUED,
                       {{B_INT, "job_id"}, {B_TEXT, "mode"}, {B_TEXT, "data"}, {B_TS, NULL}}},
    [EV_JOB_STARTED] = {S_ROW | S_LOG,
                        ST_JOB_START,
                        {{B_INT, "job_id"},
                         {B_TEXT, "mode"},
                         {B_TEXT, "data"},
                         {B_TS, NULL},
                         {B_INT, "total_tasks"},
                         {B_INT, "rows_total"},
                         {B_INT, "workers"}}},
    [EV_JOB_PROGRESS] = {S_ENSURE | S_ROW,
                         ST_JOB_PROGRESS,
                         {{B_INT, "job_id"},
                          {B_INT, "done_tasks"},
                          {B_INT, "total_tasks"},
                          {B_INT, "rows_done"},
                          {B_INT, "rows_total"},
                          {B_INT, "workers"}}},
    [EV_JOB_DONE] = {S_ENSURE | S_ROW | S_LOG,
                     ST_JOB_DONE,
                     {{B_INT, "job_id"},
                      {B_TEXT, "state"},
                      {B_TS, NULL},
                      {B_DOUBLE, "duration_s"},
                      {B_DOUBLE, "accuracy"},
                      {B_TEXT, "outputs.model"},
                      {B_TEXT, "outputs.submission"},
                      {B_TEXT, "error"},
                      {B_TEXT, "metrics"}}},
    [EV_WORKER_JOINED] = {S_LOG, 0, {{0, NULL}}},
    [EV_WORKER_LEFT] = {S_LOG, 0, {{0, NULL}}},
};

/* data[name], or data[object][key] for "object.key"; NULL when missing. */
static json_object *lookup(json_object *data, const char *name) {
    char obj[32];
    const char *dot = strchr(name, '.');
    if (!dot || (size_t)(dot - name) >= sizeof obj) return field(data, name);
    memcpy(obj, name, (size_t)(dot - name));
    obj[dot - name] = '\0';
    return field(field(data, obj), dot + 1);
}

static void bind_col(sqlite3_stmt *st, int i, const bind_t *b, int64_t ts, json_object *data) {
    switch (b->kind) {
    case B_INT:
        bind_int(st, i, lookup(data, b->field));
        break;
    case B_DOUBLE:
        bind_double(st, i, lookup(data, b->field));
        break;
    case B_TEXT:
        bind_text(st, i, lookup(data, b->field));
        break;
    case B_TS:
        sqlite3_bind_int64(st, i, ts);
        break;
    case B_CONST:
        sqlite3_bind_text(st, i, b->field, -1, SQLITE_STATIC);
        break;
    }
}

/* Writes one event with the prepared statements (inside the flush's
 * transaction), as its entry in stores[] says. */
static int apply_event(history_t *h, event_id_t ev, int64_t ts, json_object *data, char *err,
                       size_t errlen) {
    const store_t *s = ev >= 0 && ev < EV_COUNT ? &stores[ev] : NULL;
    if (!s || !s->flags) return 0;
    if (s->flags & S_ENSURE) {
        /* progress or the end of a job whose start we missed (the dashboard came up late) */
        sqlite3_stmt *st = h->st[ST_JOB_ENSURE];
        bind_int(st, 1, field(data, "job_id"));
        sqlite3_bind_int64(st, 2, ts);
        if (run(h, st, err, errlen) != 0) return -1;
    }
    if (s->flags & S_ROW) {
        sqlite3_stmt *st = h->st[s->st];
        for (int i = 0; i < (int)(sizeof s->cols / sizeof s->cols[0]) && s->cols[i].kind; i++)
            bind_col(st, i + 1, &s->cols[i], ts, data);
        if (run(h, st, err, errlen) != 0) return -1;
    }
    return (s->flags & S_LOG) ? record_event(h, ev, ts, data, err, errlen) : 0;
}

int history_record(history_t *h, const char *event, int64_t ts, json_object *data, char *err,
                   size_t errlen) {
    pending_t *p;
    if (!event || !data || !json_object_is_type(data, json_type_object))
        return errbuf_set(err, errlen, "history: event without a data object");
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    event_id_t ev = events_lookup(event);
    if (ev == EV_UNKNOWN) return 0;
    if (h->npend == h->cap) {
        if (h->cap >= HISTORY_MAX_PENDING) {
            h->dropped++;
            return errbuf_set(err, errlen, "history: %zu events wait for the disk; %lu dropped",
                              h->npend, h->dropped);
        }
        size_t cap = h->cap ? h->cap * 2 : 256;
        pending_t *np = realloc(h->pend, cap * sizeof *np);
        if (!np) return errbuf_set(err, errlen, "history: out of memory");
        h->pend = np;
        h->cap = cap;
    }
    p = &h->pend[h->npend];
    p->data = NULL;
    if (json_object_deep_copy(data, &p->data, NULL) != 0)
        return errbuf_set(err, errlen, "history: out of memory copying an event");
    p->ev = ev;
    p->ts = ts;
    h->npend++;
    return 0;
}

static void drop_pending(history_t *h) {
    for (size_t i = 0; i < h->npend; i++)
        json_object_put(h->pend[i].data);
    h->npend = 0;
}

/* One short write transaction for everything recorded since the last flush:
 * the write lock is held for the time the statements take, never between
 * flushes, so the master's journal (same file) does not wait on us. */
int history_flush(history_t *h, char *err, size_t errlen) {
    char first[256] = "";
    if (h->npend == 0) return 0;
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (run(h, h->st[ST_BEGIN], err, errlen) != 0)
        return -1; /* busy past the timeout: the events stay pending for the next flush */
    for (size_t i = 0; i < h->npend; i++) {
        char e[256];
        if (apply_event(h, h->pend[i].ev, h->pend[i].ts, h->pend[i].data, e, sizeof e) != 0 &&
            !first[0])
            snprintf(first, sizeof first, "%s", e);
    }
    if (run(h, h->st[ST_COMMIT], err, errlen) != 0) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return -1; /* kept for the next flush */
    }
    drop_pending(h);
    if (first[0]) return errbuf_set(err, errlen, "%s", first);
    return 0;
}

long history_prune(history_t *h, int64_t now_ms, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (h->retention_days <= 0) return 0;
    if (history_flush(h, err, errlen) != 0) return -1;
    if (sqlite3_prepare_v2(h->db, "DELETE FROM samples WHERE ts < ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        errbuf_set(err, errlen, "history prune: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, now_ms - (int64_t)h->retention_days * 86400000LL);
    if (sqlite3_step(st) != SQLITE_DONE) {
        errbuf_set(err, errlen, "history prune: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    n = sqlite3_changes(h->db);
out:
    sqlite3_finalize(st);
    return n;
}

/* Column readers for the JSON answers: SQL NULL stays JSON null. */
static json_object *col_json(sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_object_new_int64(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_object_new_double(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_object_new_string_len((const char *)sqlite3_column_text(st, i),
                                          sqlite3_column_bytes(st, i));
    default:
        return NULL;
    }
}

#define JOB_COLUMNS                                                                                \
    "id, mode, data, state, started_ms, ended_ms, duration_s, total_tasks, done_tasks, "           \
    "rows_total, rows_done, accuracy, model, submission, error, workers"

/* The summary fields of JOB_COLUMNS, column by column. */
static const char *const job_fields[] = {"id",
                                         "mode",
                                         "data",
                                         "state",
                                         "started_ms",
                                         "ended_ms",
                                         "duration_s",
                                         "total_tasks",
                                         "done_tasks",
                                         "rows_total",
                                         "rows_done",
                                         "accuracy",
                                         "outputs.model",
                                         "outputs.submission",
                                         "error",
                                         "workers"};

static json_object *job_row(sqlite3_stmt *st) {
    json_object *o = jobsum_new(sqlite3_column_int64(st, 0));
    for (int i = 0; o && i < (int)(sizeof(job_fields) / sizeof(job_fields[0])); i++)
        if (jobsum_set(o, job_fields[i], col_json(st, i)) != 0) {
            json_object_put(o);
            return NULL;
        }
    if (o) jobsum_derive(o);
    return o;
}

json_object *history_jobs(history_t *h, int limit, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    json_object *arr = json_object_new_array();
    int rc;
    if (!arr) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v2(h->db, "SELECT " JOB_COLUMNS " FROM jobs ORDER BY id DESC LIMIT ?1", -1,
                           &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *o = job_row(st);
        if (!o || json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) goto fail;
    sqlite3_finalize(st);
    return arr;
fail:
    errbuf_set(err, errlen, "history jobs: %s", sqlite3_errmsg(h->db));
    sqlite3_finalize(st);
    json_object_put(arr);
    return NULL;
}

/* Runs a query bound to one job id and turns each row into an object with the given keys. */
static json_object *rows_as_objects(history_t *h, const char *sql, int64_t id,
                                    const char *const *keys, int nkeys, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    json_object *arr = json_object_new_array();
    int rc;
    if (!arr || sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) goto fail;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *o = json_object_new_object();
        if (!o || json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            goto fail;
        }
        for (int i = 0; i < nkeys; i++) {
            if (strcmp(keys[i], "data") == 0 && sqlite3_column_type(st, i) == SQLITE_TEXT)
                json_object_object_add(
                    o, keys[i], json_tokener_parse((const char *)sqlite3_column_text(st, i)));
            else
                json_object_object_add(o, keys[i], col_json(st, i));
        }
    }
    if (rc != SQLITE_DONE) goto fail;
    sqlite3_finalize(st);
    return arr;
fail:
    errbuf_set(err, errlen, "history job: %s", sqlite3_errmsg(h->db));
    sqlite3_finalize(st);
    json_object_put(arr);
    return NULL;
}

/* A JSON column of the job's row (sql selects it by ?1), parsed; NULL when
 * it has none (err empty) or on an error (err set). Text that is not JSON
 * (a hand-edited database) reads as none. */
static json_object *job_json_column(history_t *h, const char *sql, int64_t id, char *err,
                                    size_t errlen) {
    sqlite3_stmt *st = NULL;
    json_object *o = NULL;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, "history job: %s", sqlite3_errmsg(h->db));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
        o = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return o;
}

json_object *history_job(history_t *h, int64_t id, char *err, size_t errlen) {
    static const char *const iter_keys[] = {"class", "iter", "f", "gnorm", "cg", "secs"};
    static const char *const task_keys[] = {"task_id",  "shard",  "worker", "attempt",
                                            "start_ms", "end_ms", "rows"};
    static const char *const fail_keys[] = {"task_id", "worker", "attempt", "error", "ts"};
    static const char *const event_keys[] = {"ts", "event", "data"};
    sqlite3_stmt *st = NULL;
    json_object *job = NULL, *part;
    int rc;
    if (err && errlen) err[0] = '\0';
    if (sqlite3_prepare_v2(h->db, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, "history job: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) goto out;
    if (rc != SQLITE_ROW || !(job = job_row(st))) {
        errbuf_set(err, errlen, "history job: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    part =
        rows_as_objects(h,
                        "SELECT class, iter, f, gnorm, cg, secs FROM iterations WHERE job_id = ?1"
                        " ORDER BY class, iter LIMIT 100000",
                        id, iter_keys, 6, err, errlen);
    if (!part) goto fail;
    json_object_object_add(job, "iterations", part);
    part =
        rows_as_objects(h,
                        "SELECT task_id, shard, worker, attempt, start_ms, end_ms, rows FROM tasks"
                        " WHERE job_id = ?1 AND result = 'done' ORDER BY start_ms LIMIT 100000",
                        id, task_keys, 7, err, errlen);
    if (!part) goto fail;
    json_object_object_add(job, "timeline", part);
    part = rows_as_objects(h,
                           "SELECT task_id, worker, attempt, error, end_ms FROM tasks"
                           " WHERE job_id = ?1 AND result = 'failed' ORDER BY end_ms LIMIT 10000",
                           id, fail_keys, 5, err, errlen);
    if (!part) goto fail;
    json_object_object_add(job, "failed", part);
    part = rows_as_objects(h,
                           "SELECT ts, name, data FROM events WHERE job_id = ?1 ORDER BY ts"
                           " LIMIT 10000",
                           id, event_keys, 3, err, errlen);
    if (!part) goto fail;
    json_object_object_add(job, "events", part);
    part = job_json_column(h, "SELECT metrics FROM jobs WHERE id = ?1", id, err, errlen);
    if (!part && err && err[0]) goto fail;
    json_object_object_add(job, "metrics", part);
    part = job_json_column(h, "SELECT params FROM jobs WHERE id = ?1", id, err, errlen);
    if (!part && err && err[0]) goto fail;
    json_object_object_add(job, "params", part);
    goto out;
fail:
    json_object_put(job);
    job = NULL;
out:
    sqlite3_finalize(st);
    return job;
}

json_object *history_series(history_t *h, const char *metric, const char *worker, int64_t since_ms,
                            int64_t step_ms, char *err, size_t errlen) {
    const char *col;
    sqlite3_stmt *st = NULL;
    json_object *res = NULL, *points = NULL;
    char sql[512];
    int rc;
    if (strcmp(metric, "cpu") == 0)
        col = "cpu";
    else if (strcmp(metric, "mem") == 0)
        col = "mem";
    else if (strcmp(metric, "rows") == 0)
        col = "rows_per_s";
    else {
        errbuf_set(err, errlen, "unknown metric '%.32s' (cpu, mem or rows)", metric);
        return NULL;
    }
    if (step_ms < 1000) step_ms = 1000;
    /* col comes from the whitelist above, never from the request */
    if (worker)
        snprintf(sql, sizeof(sql),
                 "SELECT (ts / ?2) * ?2 AS b, avg(%s) FROM samples WHERE ts >= ?1 AND worker = ?3"
                 " AND %s IS NOT NULL GROUP BY b ORDER BY b LIMIT %d",
                 col, col, HISTORY_MAX_POINTS);
    else if (strcmp(col, "rows_per_s") == 0)
        /* cluster throughput: each worker's mean rate in the bucket, summed over workers */
        snprintf(sql, sizeof(sql),
                 "SELECT b, sum(v) FROM (SELECT (ts / ?2) * ?2 AS b, avg(rows_per_s) AS v"
                 " FROM samples WHERE ts >= ?1 AND rows_per_s IS NOT NULL GROUP BY b, worker)"
                 " GROUP BY b ORDER BY b LIMIT %d",
                 HISTORY_MAX_POINTS);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT (ts / ?2) * ?2 AS b, avg(%s) FROM samples WHERE ts >= ?1"
                 " AND %s IS NOT NULL GROUP BY b ORDER BY b LIMIT %d",
                 col, col, HISTORY_MAX_POINTS);
    res = json_object_new_object();
    points = json_object_new_array();
    if (!res || !points) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) goto sqlfail;
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, step_ms);
    if (worker) sqlite3_bind_text(st, 3, worker, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *pt = json_object_new_array_ext(2);
        if (!pt || json_object_array_add(points, pt) != 0) {
            json_object_put(pt);
            errbuf_set(err, errlen, "out of memory");
            goto fail;
        }
        json_object_array_add(pt, json_object_new_int64(sqlite3_column_int64(st, 0)));
        json_object_array_add(pt, json_object_new_double(sqlite3_column_double(st, 1)));
    }
    if (rc != SQLITE_DONE) goto sqlfail;
    json_object_object_add(res, "metric", json_object_new_string(metric));
    json_object_object_add(res, "worker", worker ? json_object_new_string(worker) : NULL);
    json_object_object_add(res, "since", json_object_new_int64(since_ms));
    json_object_object_add(res, "step", json_object_new_int64(step_ms));
    json_object_object_add(res, "points", points);
    sqlite3_finalize(st);
    return res;
sqlfail:
    errbuf_set(err, errlen, "history series: %s", sqlite3_errmsg(h->db));
fail:
    sqlite3_finalize(st);
    json_object_put(points);
    json_object_put(res);
    return NULL;
}

/* ---------- runs ---------- */

/* Runs sql (no rows) with its parameters bound by the caller's binder. */
static int exec_one(history_t *h, sqlite3_stmt *st, char *err, size_t errlen) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return errbuf_set(err, errlen, "history: %s", sqlite3_errmsg(h->db));
    return 0;
}

int64_t history_run_new(history_t *h, const char *mode, const char *data, const char *state,
                        json_object *params, int64_t ts, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int64_t id = -1;
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (run(h, h->st[ST_BEGIN], err, errlen) != 0) return -1;
    /* the counter, but never below a row that is there (a file written by
     * hand or by an older master that kept its counter elsewhere) */
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO counters(name, value) VALUES ('run',"
                           " (SELECT COALESCE(MAX(id), 0) FROM jobs) + 1)"
                           " ON CONFLICT(name) DO UPDATE SET value ="
                           " MAX(value, (SELECT COALESCE(MAX(id), 0) FROM jobs)) + 1"
                           " RETURNING value",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        errbuf_set(err, errlen, "history: new run id: %s", sqlite3_errmsg(h->db));
        goto fail;
    }
    id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO jobs(id, mode, data, state, started_ms, params)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, "history: %s", sqlite3_errmsg(h->db));
        goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, mode, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, data, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, ts);
    if (params)
        sqlite3_bind_text(st, 6, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN), -1,
                          SQLITE_TRANSIENT);
    if (exec_one(h, st, err, errlen) != 0) goto fail;
    sqlite3_finalize(st);
    if (run(h, h->st[ST_COMMIT], err, errlen) != 0) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return id;
fail:
    sqlite3_finalize(st);
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int history_run_started(history_t *h, int64_t id, int64_t ts, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (sqlite3_prepare_v2(h->db,
                           "UPDATE jobs SET state = 'running', started_ms = ?2 WHERE id = ?1", -1,
                           &st, NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, "history: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ts);
    rc = exec_one(h, st, err, errlen);
    if (rc == 0 && sqlite3_changes(h->db) == 0)
        rc = errbuf_set(err, errlen, "history: no run %lld", (long long)id);
out:
    sqlite3_finalize(st);
    return rc;
}

int history_run_done(history_t *h, int64_t id, int64_t ts, json_object *done, char *err,
                     size_t errlen) {
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (run(h, h->st[ST_BEGIN], err, errlen) != 0) return -1;
    json_object *d = json_object_new_object();
    if (!d) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return errbuf_set(err, errlen, "out of memory");
    }
    json_object_object_foreach(done, key, val) {
        json_object_object_add(d, key, json_object_get(val));
    }
    json_object_object_add(d, "job_id", json_object_new_int64(id));
    /* the job's totals (its job_started), which the end's counts refer to */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h->db,
                                "UPDATE jobs SET total_tasks = COALESCE(?2, total_tasks),"
                                " rows_total = COALESCE(?3, rows_total),"
                                " workers = COALESCE(?4, workers) WHERE id = ?1",
                                -1, &st, NULL) == SQLITE_OK
                 ? 0
                 : errbuf_set(err, errlen, "history: %s", sqlite3_errmsg(h->db));
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        bind_int(st, 2, field(d, "total_tasks"));
        bind_int(st, 3, field(d, "rows_total"));
        bind_int(st, 4, field(d, "workers"));
        rc = exec_one(h, st, err, errlen);
    }
    sqlite3_finalize(st);
    if (rc == 0) rc = apply_event(h, EV_JOB_DONE, ts, d, err, errlen);
    json_object_put(d);
    if (rc != 0 || run(h, h->st[ST_COMMIT], err, errlen) != 0) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int history_run_delete(history_t *h, int64_t id, char *err, size_t errlen) {
    static const char *const sql[] = {
        "DELETE FROM jobs WHERE id = ?1", "DELETE FROM tasks WHERE job_id = ?1",
        "DELETE FROM events WHERE job_id = ?1", "DELETE FROM iterations WHERE job_id = ?1"};
    if (h->readonly) return errbuf_set(err, errlen, "history opened readonly");
    if (run(h, h->st[ST_BEGIN], err, errlen) != 0) return -1;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(h->db, sql[i], -1, &st, NULL) == SQLITE_OK ? 0 : -1;
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, id);
            rc = exec_one(h, st, err, errlen);
        } else {
            errbuf_set(err, errlen, "history: %s", sqlite3_errmsg(h->db));
        }
        sqlite3_finalize(st);
        if (rc != 0) {
            sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (run(h, h->st[ST_COMMIT], err, errlen) != 0) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* A JSON text column parsed; NULL for SQL NULL or text that is not JSON. */
static json_object *col_parsed(sqlite3_stmt *st, int i) {
    if (sqlite3_column_type(st, i) != SQLITE_TEXT) return NULL;
    return json_tokener_parse((const char *)sqlite3_column_text(st, i));
}

/* The runs, newest first (limit of them), or run id alone when id > 0. */
static json_object *runs_query(history_t *h, int64_t id, int limit, char *err, size_t errlen) {
    static const char *const keys[] = {"id",         "mode",     "data",       "state",
                                       "started_ms", "ended_ms", "duration_s", "accuracy",
                                       "error",      "workers",  "params",     "metrics"};
    sqlite3_stmt *st = NULL;
    json_object *arr = json_object_new_array();
    int rc;
    if (!arr || sqlite3_prepare_v2(h->db,
                                   "SELECT id, mode, data, state, started_ms, ended_ms, duration_s,"
                                   " accuracy, error, workers, params, metrics FROM jobs"
                                   " WHERE ?2 <= 0 OR id = ?2 ORDER BY id DESC LIMIT ?1",
                                   -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int(st, 1, limit);
    sqlite3_bind_int64(st, 2, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *o = json_object_new_object();
        if (!o || json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            goto fail;
        }
        for (int i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++)
            json_object_object_add(o, keys[i], i >= 10 ? col_parsed(st, i) : col_json(st, i));
    }
    if (rc != SQLITE_DONE) goto fail;
    sqlite3_finalize(st);
    return arr;
fail:
    errbuf_set(err, errlen, "history runs: %s", h ? sqlite3_errmsg(h->db) : "out of memory");
    sqlite3_finalize(st);
    json_object_put(arr);
    return NULL;
}

json_object *history_runs(history_t *h, int limit, char *err, size_t errlen) {
    return runs_query(h, 0, limit, err, errlen);
}

json_object *history_run(history_t *h, int64_t id, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (id <= 0) return NULL;
    json_object *arr = runs_query(h, id, 1, err, errlen);
    json_object *o = arr && json_object_array_length(arr) == 1
                         ? json_object_get(json_object_array_get_idx(arr, 0))
                         : NULL;
    json_object_put(arr);
    return o;
}

json_object *history_runs_end_pending(history_t *h, int64_t ts, const char *reason, char *err,
                                      size_t errlen) {
    sqlite3_stmt *st = NULL;
    json_object *ids = json_object_new_array();
    if (!ids) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    if (h->readonly) goto fail;
    if (sqlite3_prepare_v2(h->db,
                           "UPDATE jobs SET state = 'failed', error = ?2, ended_ms = ?1"
                           " WHERE state IN ('queued', 'running') RETURNING id",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, ts);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_array_add(ids, json_object_new_int64(sqlite3_column_int64(st, 0)));
    if (rc != SQLITE_DONE) goto fail;
    sqlite3_finalize(st);
    return ids;
fail:
    errbuf_set(err, errlen, "history: %s", h->readonly ? "opened readonly" : sqlite3_errmsg(h->db));
    sqlite3_finalize(st);
    json_object_put(ids);
    return NULL;
}
