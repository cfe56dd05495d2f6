#include "master/journal.h"

#include "common/log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One class's newest state, copied from the caller. */
typedef struct slot {
    char *key;
    journal_class_t c; /* c.w points to buf */
    double *buf;
    size_t cap; /* doubles in buf */
} slot_t;

typedef struct batch {
    slot_t *s;
    size_t n, cap; /* slots in use; slots allocated (buffers kept for reuse) */
} batch_t;

struct journal {
    sqlite3 *db;
    pthread_t thr;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the writer: work or stop */
    pthread_cond_t idle; /* load, forget: nothing queued or being written */
    batch_t queued;      /* saved, not yet taken by the writer (under lock) */
    batch_t writing;     /* the writer's own while busy */
    bool busy, stop;
    char failed[256]; /* the writer's last failure, told by the next save */
    int64_t cost_us;  /* the writer's CPU time for its last batch */
};

static int64_t thread_cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *const SCHEMA_SQL =
    "CREATE TABLE IF NOT EXISTS train_journal ("
    " job_key TEXT NOT NULL, class INTEGER NOT NULL, iter INTEGER NOT NULL,"
    " delta REAL NOT NULL, gnorm0 REAL NOT NULL, done INTEGER NOT NULL,"
    " w BLOB NOT NULL, PRIMARY KEY (job_key, class))";

/* Writes the batch in one transaction; 0, or -1 with err. */
static int write_batch(sqlite3 *db, const batch_t *b, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    err[0] = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto out;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO train_journal"
                           " (job_key, class, iter, delta, gnorm0, done, w)"
                           " VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto rollback;
    for (size_t i = 0; i < b->n; i++) {
        const journal_class_t *c = &b->s[i].c;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, b->s[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, c->cls);
        sqlite3_bind_int(st, 3, c->iter);
        sqlite3_bind_double(st, 4, c->delta);
        sqlite3_bind_double(st, 5, c->gnorm0);
        sqlite3_bind_int(st, 6, c->done ? 1 : 0);
        /* native doubles: the journal is read back by the same build on the same machine */
        sqlite3_bind_blob(st, 7, c->w, (int)((size_t)c->n * sizeof(double)), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto rollback;
    rc = 0;
    goto out;
rollback:
    snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (rc < 0 && !err[0]) snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* The writer thread: takes what is queued (the queue's and its own batches
 * swap, buffers and all), writes it without the lock, and repeats; drains the
 * queue before it stops. */
static void *writer_main(void *arg) {
    journal_t *j = arg;
    char err[256];
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->stop && j->queued.n == 0)
            pthread_cond_wait(&j->wake, &j->lock);
        if (j->queued.n == 0) break; /* stopping, nothing left */
        batch_t b = j->writing;
        j->writing = j->queued;
        j->queued = b;
        j->queued.n = 0;
        j->busy = true;
        pthread_mutex_unlock(&j->lock);
        int64_t t0 = thread_cpu_us();
        int rc = write_batch(j->db, &j->writing, err, sizeof err);
        int64_t spent = thread_cpu_us() - t0;
        pthread_mutex_lock(&j->lock);
        j->cost_us = spent;
        if (rc < 0) snprintf(j->failed, sizeof j->failed, "%s", err);
        j->writing.n = 0;
        j->busy = false;
        pthread_cond_broadcast(&j->idle);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static void batch_free(batch_t *b) {
    for (size_t i = 0; i < b->cap; i++) {
        free(b->s[i].key);
        free(b->s[i].buf);
    }
    free(b->s);
    memset(b, 0, sizeof *b);
}

journal_t *journal_open(const char *path, char *err, size_t errlen) {
    journal_t *j = calloc(1, sizeof *j);
    char *msg = NULL;
    if (!j) {
        snprintf(err, errlen, "out of memory opening the journal");
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    pthread_cond_init(&j->idle, NULL);
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
    if (pthread_create(&j->thr, NULL, writer_main, j) != 0) {
        snprintf(err, errlen, "%s: cannot start the training journal's writer", path);
        goto fail;
    }
    j->running = true;
    return j;
sqlfail:
    snprintf(err, errlen, "%s: training journal: %s", path, msg ? msg : "error");
    sqlite3_free(msg);
fail:
    journal_close(&j);
    return NULL;
}

int64_t journal_write_cost_ms(journal_t *j) {
    pthread_mutex_lock(&j->lock);
    int64_t ms = j->cost_us / 1000;
    pthread_mutex_unlock(&j->lock);
    return ms;
}

void journal_close(journal_t **jp) {
    journal_t *j = jp ? *jp : NULL;
    if (!j) return;
    if (j->running) {
        pthread_mutex_lock(&j->lock);
        j->stop = true;
        pthread_cond_signal(&j->wake);
        pthread_mutex_unlock(&j->lock);
        pthread_join(j->thr, NULL);
        if (j->failed[0]) log_warn("%s (the last restart point may be missing)", j->failed);
    }
    sqlite3_close(j->db);
    batch_free(&j->queued);
    batch_free(&j->writing);
    pthread_cond_destroy(&j->idle);
    pthread_cond_destroy(&j->wake);
    pthread_mutex_destroy(&j->lock);
    free(j);
    *jp = NULL;
}

/* The queued slot for (key, cls), or the next free one (not yet counted in
 * b->n: *fresh says so); NULL when out of memory. */
static slot_t *find_slot(batch_t *b, const char *key, int cls, bool *fresh) {
    for (size_t i = 0; i < b->n; i++)
        if (b->s[i].c.cls == cls && strcmp(b->s[i].key, key) == 0) {
            *fresh = false;
            return &b->s[i];
        }
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4;
        slot_t *s = realloc(b->s, cap * sizeof *s);
        if (!s) return NULL;
        memset(s + b->cap, 0, (cap - b->cap) * sizeof *s);
        b->s = s;
        b->cap = cap;
    }
    slot_t *s = &b->s[b->n];
    if (!s->key || strcmp(s->key, key) != 0) {
        free(s->key);
        if (!(s->key = strdup(key))) return NULL;
    }
    *fresh = true;
    return s;
}

/* Copies c into the queue, replacing an older state of the same class (the
 * caller's weights move on as soon as we return). */
static int queue_class(journal_t *j, const char *key, const journal_class_t *c) {
    size_t n = c->n > 0 ? (size_t)c->n : 0;
    bool fresh;
    slot_t *s = find_slot(&j->queued, key, c->cls, &fresh);
    if (!s) return -1;
    if (s->cap < n) {
        double *buf = realloc(s->buf, n * sizeof *buf);
        if (!buf) return -1; /* a queued older state stays as it was */
        s->buf = buf;
        s->cap = n;
    }
    if (c->at) {
        memset(s->buf, 0, n * sizeof *s->buf);
        for (int k = 0; k < c->nw; k++)
            if ((size_t)c->at[k] < n) s->buf[c->at[k]] = c->w[k];
    } else if (n) {
        memcpy(s->buf, c->w, n * sizeof *s->buf);
    }
    s->c = *c;
    s->c.w = s->buf;
    s->c.at = NULL;
    if (fresh) j->queued.n++;
    return 0;
}

int journal_save(journal_t *j, const char *key, const journal_class_t *cls, size_t count, char *err,
                 size_t errlen) {
    int rc = 0;
    err[0] = 0;
    pthread_mutex_lock(&j->lock);
    for (size_t i = 0; i < count && rc == 0; i++)
        if (queue_class(j, key, &cls[i]) != 0) {
            snprintf(err, errlen, "training journal: out of memory");
            rc = -1;
        }
    if (rc == 0 && j->failed[0]) {
        snprintf(err, errlen, "%s", j->failed);
        j->failed[0] = 0;
        rc = -1;
    }
    if (j->queued.n) pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* Takes the lock once every save made so far is written; the writer cannot
 * start another batch until the caller unlocks. */
static void lock_idle(journal_t *j) {
    pthread_mutex_lock(&j->lock);
    while (j->queued.n || j->busy)
        pthread_cond_wait(&j->idle, &j->lock);
}

static int load_rows(journal_t *j, const char *key, int nr_w, int n, journal_class_t *out,
                     char *err, size_t errlen) {
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

int journal_load(journal_t *j, const char *key, int nr_w, int n, journal_class_t *out, char *err,
                 size_t errlen) {
    lock_idle(j);
    int rc = load_rows(j, key, nr_w, n, out, err, errlen);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int journal_forget(journal_t *j, const char *key, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    lock_idle(j);
    int rc = -1;
    if (sqlite3_prepare_v2(j->db, "DELETE FROM train_journal WHERE job_key = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) rc = 0;
    }
    if (rc < 0) snprintf(err, errlen, "training journal: %s", sqlite3_errmsg(j->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->lock);
    return rc;
}
