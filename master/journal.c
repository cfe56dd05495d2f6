#include "master/journal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct journal {
    sqlite3 *db;
};

static const char *const SCHEMA_SQL =
    "CREATE TABLE IF NOT EXISTS train_journal ("
    " job_key TEXT NOT NULL, class INTEGER NOT NULL, iter INTEGER NOT NULL,"
    " delta REAL NOT NULL, gnorm0 REAL NOT NULL, done INTEGER NOT NULL,"
    " w BLOB NOT NULL, PRIMARY KEY (job_key, class))";

journal_t *journal_open(const char *path, char *err, size_t errlen) {
    journal_t *j = calloc(1, sizeof *j);
    char *msg = NULL;
    if (!j) {
        snprintf(err, errlen, "out of memory opening the journal");
        return NULL;
    }
    if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the training journal: %s", path,
                 j->db ? sqlite3_errmsg(j->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(j->db, 5000);
    /* NORMAL in WAL mode: a commit survives a killed process (what --resume is for)
     * without an fsync per Newton iteration */
    if (sqlite3_exec(j->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
                     &msg) != SQLITE_OK)
        goto sqlfail;
    if (sqlite3_exec(j->db, SCHEMA_SQL, NULL, NULL, &msg) != SQLITE_OK) goto sqlfail;
    return j;
sqlfail:
    snprintf(err, errlen, "%s: training journal: %s", path, msg ? msg : "error");
    sqlite3_free(msg);
fail:
    journal_close(&j);
    return NULL;
}

void journal_close(journal_t **j) {
    if (!j || !*j) return;
    sqlite3_close((*j)->db);
    free(*j);
    *j = NULL;
}

int journal_save(journal_t *j, const char *key, const journal_class_t *cls, size_t count, char *err,
                 size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    err[0] = 0;
    if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto out;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT OR REPLACE INTO train_journal"
                           " (job_key, class, iter, delta, gnorm0, done, w)"
                           " VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto rollback;
    for (size_t i = 0; i < count; i++) {
        const journal_class_t *c = &cls[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, c->cls);
        sqlite3_bind_int(st, 3, c->iter);
        sqlite3_bind_double(st, 4, c->delta);
        sqlite3_bind_double(st, 5, c->gnorm0);
        sqlite3_bind_int(st, 6, c->done ? 1 : 0);
        /* native doubles: the journal is read back by the same build on the same machine */
        sqlite3_bind_blob(st, 7, c->w, (int)((size_t)c->n * sizeof(double)), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    }
    if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto rollback;
    rc = 0;
    goto out;
rollback:
    snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
    sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (rc < 0 && !err[0]) snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
    sqlite3_finalize(st);
    return rc;
}

int journal_load(journal_t *j, const char *key, int nr_w, int n, journal_class_t *out, char *err,
                 size_t errlen) {
    sqlite3_stmt *st = NULL;
    int found = 0;
    memset(out, 0, sizeof *out * (size_t)nr_w);
    if (sqlite3_prepare_v2(j->db,
                           "SELECT class, iter, delta, gnorm0, done, w FROM train_journal"
                           " WHERE job_key = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = sqlite3_column_int(st, 0);
        const void *blob = sqlite3_column_blob(st, 5);
        int bytes = sqlite3_column_bytes(st, 5);
        if (k < 0 || k >= nr_w || out[k].w || (size_t)bytes != (size_t)n * sizeof(double) ||
            !blob) {
            snprintf(err, errlen, "training journal: row for class %d does not fit this job", k);
            goto fail;
        }
        double *w = malloc((size_t)bytes);
        if (!w) {
            snprintf(err, errlen, "out of memory reading the training journal");
            goto fail;
        }
        memcpy(w, blob, (size_t)bytes);
        out[k] = (journal_class_t){.cls = k,
                                   .iter = sqlite3_column_int(st, 1),
                                   .delta = sqlite3_column_double(st, 2),
                                   .gnorm0 = sqlite3_column_double(st, 3),
                                   .done = sqlite3_column_int(st, 4) != 0,
                                   .n = n,
                                   .w = w};
        found++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
        goto fail;
    }
    sqlite3_finalize(st);
    return found;
fail:
    sqlite3_finalize(st);
    journal_free_loaded(out, nr_w);
    return -1;
}

void journal_free_loaded(journal_class_t *out, int nr_w) {
    for (int k = 0; k < nr_w; k++) {
        free((void *)out[k].w);
        out[k].w = NULL;
    }
}

int journal_forget(journal_t *j, const char *key, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(j->db, "DELETE FROM train_journal WHERE job_key = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) rc = 0;
    }
    if (rc < 0) snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
    sqlite3_finalize(st);
    return rc;
}
