#include "master/train_exact.h"

#include "master/train_classes.h"

#include "common/clock.h"
#include "common/colset.h"
#include "common/hash.h"
#include "common/model.h"
#include "common/log.h"
#include "common/proto.h"
#include "master/journal.h"
#include "common/tron.h"
#include "common/treemsg.h"

#include <math.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define JOURNAL_COST_FACTOR 20

/* One trained function: a class, on all rows or on a cross-validation fold. */
typedef struct tclass {
    int cls;
    uint32_t fold;
    tron_t *tr;
    bool done;
    uint64_t fun_id, grad_id;
    int passes_seen;
    int64_t last_ms;
    long pos, rows;
} tclass_t;

/* One group's columns (group_columns): m, or -1 when vectors travel whole;
 * the hash of its bitmap; map[0..m-1], where its j-th listed column sits
 * in TRON's vectors (its place among the active columns, or the column). */
typedef struct gcols {
    uint32_t *ids; /* the group's shards */
    size_t nids;
    long m;
    uint64_t hash;
    uint32_t *map;
} gcols_t;

#define GCOLS_MAX 64 /* groups remembered; beyond, the oldest is made again */

/* The exact strategy's working state. */
typedef struct exact {
    trainer_t *t;
    int nf, ncl;           /* folds (0 = none); functions: nr_w * (1 + nf) */
    tclass_t *cl;          /* [ncl]: the classes on all rows, then fold by fold */
    tronmsg_item_t *items; /* the round's requests */
    size_t count;
    int *item_of;  /* [ncl]: the class's item this round, -1 none */
    int *class_of; /* [count]: the function an item asks for */
    /* the round's sums over the answers (each answer added as it arrives) */
    double *fsum;      /* [count]: FUN */
    double **vsum;     /* [count]: GRAD g, HV hv: the class's tron_sums() */
    double **dsum;     /* [count]: GRAD diag */
    uint64_t *rows;    /* [count]: COUNT, PRED */
    uint64_t *correct; /* [count]: PRED */
    uint64_t *pos;     /* [count * nr_w]: COUNT */
    double *stat;      /* [count]: COUNT, PRED with TRONMSG_F_STAT: max |x|^2, log loss sum */
    /* columns: each shard's (from its COUNT answer), and scratch for a group's */
    size_t words;    /* colset_words(n) */
    uint64_t *bits;  /* [nshards * words] */
    bool *has_bits;  /* [nshards] */
    uint64_t *ubits; /* [words]: a group's union */
    uint32_t *cols;  /* [n]: a group's list */
    /* TRON runs on the na columns some row touches (a column no row touches
     * keeps w = 0 and adds exact zeros to every sum: the same iterates): */
    int na;          /* active columns (t->n when every column is) */
    uint32_t *act;   /* [n]: a column's place among them, NULL: all active */
    uint32_t *glob;  /* [na]: the column of each */
    uint32_t *acols; /* [n]: a group's list as places among the active */
    /* The column lists of the groups seen (a group's shards do not change
     * from round to round): group_columns() makes each once, not twice a
     * round (body and answer) over all n bits. */
    struct gcols *gc;
    size_t ngc, gc_next;  /* gc_next: the next to make again when all are used (the oldest) */
    bool tree;            /* cluster.reduce tree: answers come widened to all n */
    tronmsg_shard_t *tab; /* [nshards]: the shard table every request carries */
    journal_t *j;
    journal_class_t *loaded; /* [nr_w]: classes read back by --resume */
    uint64_t id_base, next_id;
    int rounds;            /* TRON rounds */
    bool want_xnorm;       /* search: the count round asks the largest |x|^2 */
    double max_xx;         /* its answer */
    bool search;           /* search: the functions on all rows do not run */
    int search_done;       /* search: C values done (the progress line) */
    double search_total;   /* search: C values at most */
    bool unsaved;          /* a class advanced since the last restart point */
    int64_t last_store_ms; /* when it was saved */
} exact_t;

/* ---- requests and answers ---- */

static tronmsg_shard_t *shard_table(trainer_t *t) {
    tronmsg_shard_t *tab = malloc((t->sp.nshards ? t->sp.nshards : 1) * sizeof *tab);
    for (size_t i = 0; tab && i < t->sp.nshards; i++)
        tab[i] = (tronmsg_shard_t){t->sp.shards[i].first_row, t->sp.shards[i].first_line};
    return tab;
}

blob_t *train_exact_request(trainer_t *t, const tronmsg_item_t *items, size_t count) {
    tronmsg_shard_t *tab = shard_table(t);
    if (!tab) {
        trainer_fail(t, "out of memory");
        return NULL;
    }
    tronmsg_layout_t lay = {.shards = tab, .nshards = t->sp.nshards};
    blob_t *body = tronmsg_encode_req((uint32_t)t->n, (uint32_t)t->folds, &lay, items, count,
                                      t->err, sizeof t->err);
    free(tab);
    return body;
}

int train_exact_answer(trainer_t *t, uint32_t shard, const void *data, size_t len,
                       const char *worker, const tronmsg_item_t *items, size_t count,
                       tronmsg_res_t *out) {
    char err[512];
    if (tronmsg_decode_res_view(data, len, out, err, sizeof err) < 0) {
        snprintf(t->err, sizeof t->err, "worker %s sent a bad tron result: %s", worker, err);
        return -1;
    }
    if (out->n != (uint32_t)t->n || out->count != count) {
        snprintf(t->err, sizeof t->err, "worker %s answered %zu items of %u, want %zu of %u",
                 worker, out->count, out->n, count, (uint32_t)t->n);
        tronmsg_res_free(out);
        return -1;
    }
    for (size_t q = 0; q < count; q++) {
        const tronmsg_ans_t *a = &out->ans[q];
        if (a->op != items[q].op || a->cls != items[q].cls || a->fold != items[q].fold) {
            snprintf(t->err, sizeof t->err, "shard %u: answer %zu does not match its request",
                     shard, q);
            tronmsg_res_free(out);
            return -1;
        }
    }
    return 0;
}

/* x->ubits = the columns shards ids[0..n-1] touch (ids NULL: shards 0..n-1);
 * false when a shard's set is unknown. */
static bool shards_union(exact_t *x, const uint32_t *ids, size_t n) {
    memset(x->ubits, 0, x->words * sizeof *x->ubits);
    for (size_t i = 0; i < n; i++) {
        size_t s = ids ? ids[i] : i;
        if (!x->has_bits[s]) return false;
        colset_or(x->ubits, x->bits + s * x->words, x->words);
    }
    return true;
}

static void gcols_free(gcols_t *g) {
    free(g->ids);
    free(g->map);
    memset(g, 0, sizeof *g);
}

/* The columns group[0..n-1] touches (NULL when out of memory): m is -1
 * when the group touches every column or a shard's set is unknown (then
 * vectors travel whole). Made once per group and kept in x->gc; the
 * shards' sets do not change after the count round. */
static const gcols_t *group_columns(trainer_t *t, exact_t *x, const uint32_t *group, size_t n) {
    for (size_t i = 0; i < x->ngc; i++)
        if (x->gc[i].nids == n && memcmp(x->gc[i].ids, group, n * sizeof *group) == 0)
            return &x->gc[i];
    if (!x->gc && !(x->gc = calloc(GCOLS_MAX, sizeof *x->gc))) return NULL;
    gcols_t *g = &x->gc[x->ngc < GCOLS_MAX ? x->ngc++ : x->gc_next++ % GCOLS_MAX];
    gcols_free(g);
    g->m = -1;
    g->ids = malloc((n ? n : 1) * sizeof *g->ids);
    if (!g->ids) return NULL;
    memcpy(g->ids, group, n * sizeof *group);
    g->nids = n;
    if (!shards_union(x, group, n)) return g;
    size_t m = colset_list(x->ubits, (size_t)t->n, x->cols);
    if (m >= (size_t)t->n) return g;
    if (!(g->map = malloc((m + 1) * sizeof *g->map))) {
        g->nids = 0; /* never found again */
        return NULL;
    }
    for (size_t j = 0; j < m; j++)
        g->map[j] = x->act ? x->act[x->cols[j]] : x->cols[j];
    g->m = (long)m;
    g->hash = colset_hash(x->ubits, (size_t)t->n);
    return g;
}

/* The grouped round's body for a group (sched_body_fn): the round's items,
 * their vectors restricted to the group's columns; GRAD and HV carry their
 * point only when full. */
static blob_t *group_body(void *arg, const uint32_t *group, size_t n, bool full) {
    exact_t *x = arg;
    trainer_t *t = x->t;
    const gcols_t *g = group_columns(t, x, group, n);
    if (!g) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return NULL;
    }
    long m = g->m;
    tronmsg_layout_t lay = {.shards = x->tab,
                            .nshards = t->sp.nshards,
                            .group = group,
                            .ngroup = n,
                            .compact = m >= 0,
                            .m = m >= 0 ? (uint32_t)m : 0,
                            .hash = m >= 0 ? g->hash : 0,
                            .cols = m >= 0 ? g->map : NULL,
                            .wide = x->tree};
    for (size_t q = 0; q < x->count; q++) {
        tronmsg_item_t *it = &x->items[q];
        if (it->op == TRONMSG_GRAD || it->op == TRONMSG_HV) it->flags = full ? TRONMSG_F_POINT : 0;
    }
    return tronmsg_encode_req((uint32_t)t->n, (uint32_t)t->folds, &lay, x->items, x->count, t->err,
                              sizeof t->err);
}

/* Adds one decoded answer into the round's sums; cols (m of them) map its
 * vectors, NULL when they are whole. */
static void add_answer(trainer_t *t, exact_t *x, const tronmsg_res_t *res, const uint32_t *cols) {
    size_t m = res->m;
    for (size_t q = 0; q < x->count; q++) {
        const tronmsg_ans_t *a = &res->ans[q];
        double *v = x->vsum[q], *dg = x->dsum[q];
        switch (a->op) {
        case TRONMSG_FUN:
            x->fsum[q] += a->f;
            break;
        case TRONMSG_FUNGRAD:
            x->fsum[q] += a->f;
            /* fall through */
        case TRONMSG_GRAD:
            for (size_t j = 0; j < m; j++) {
                size_t c = cols ? cols[j] : j;
                v[c] += a->g[j];
                dg[c] += a->diag[j];
            }
            break;
        case TRONMSG_HV:
            for (size_t j = 0; j < m; j++)
                v[cols ? cols[j] : j] += a->hv[j];
            break;
        case TRONMSG_COUNT:
            x->rows[q] += a->rows;
            for (int k = 0; k < t->nr_w; k++)
                x->pos[q * (size_t)t->nr_w + (size_t)k] += a->pos[k];
            if ((a->flags & TRONMSG_F_STAT) && a->f > x->stat[q]) x->stat[q] = a->f;
            break;
        case TRONMSG_PRED:
            x->rows[q] += a->rows;
            x->correct[q] += a->correct;
            if (a->flags & TRONMSG_F_STAT) x->stat[q] += a->f;
            break;
        }
    }
}

/* Adds an answer whose vectors hold all n columns. */
static void add_wide(trainer_t *t, exact_t *x, const tronmsg_res_t *res) {
    if (!x->act) {
        add_answer(t, x, res, NULL);
        return;
    }
    for (size_t q = 0; q < x->count; q++) {
        const tronmsg_ans_t *a = &res->ans[q];
        double *v = x->vsum[q], *dg = x->dsum[q];
        if (a->op == TRONMSG_FUN || a->op == TRONMSG_FUNGRAD) x->fsum[q] += a->f;
        for (int j = 0; j < x->na; j++) {
            size_t c = x->glob[j];
            if (a->op == TRONMSG_HV) v[j] += a->hv[c];
            if (a->op == TRONMSG_GRAD || a->op == TRONMSG_FUNGRAD) {
                v[j] += a->g[c];
                dg[j] += a->diag[c];
            }
        }
    }
}

/* A tree round's answer (a sum up the tree, or one worker's): vectors over
 * the columns it names (common/treemsg.h). */
static int take_cols(trainer_t *t, exact_t *x, const void *data, size_t len, const char *worker) {
    char err[512];
    treemsg_cols_t in;
    if (treemsg_decode_cols(data, len, &in, err, sizeof err) < 0) {
        snprintf(t->err, sizeof t->err, "worker %s sent a bad tree answer: %s", worker, err);
        return -1;
    }
    int rc = -1;
    if (in.n != (uint32_t)t->n || in.res.count != x->count) {
        snprintf(t->err, sizeof t->err, "worker %s answered %zu items of %u, want %zu of %u",
                 worker, in.res.count, in.n, x->count, (uint32_t)t->n);
        goto out;
    }
    for (size_t q = 0; q < x->count; q++) {
        const tronmsg_ans_t *a = &in.res.ans[q];
        if (a->op != x->items[q].op || a->cls != x->items[q].cls || a->fold != x->items[q].fold) {
            snprintf(t->err, sizeof t->err, "worker %s: answer %zu does not match its request",
                     worker, q);
            goto out;
        }
    }
    if (in.all) {
        add_wide(t, x, &in.res);
        rc = 0;
        goto out;
    }
    /* a column outside the active set holds exact zeros (no row touches it) */
    for (uint32_t j = 0; x->act && j < in.k; j++)
        x->acols[j] = x->act[in.cols[j]];
    for (size_t q = 0; q < x->count; q++) {
        const tronmsg_ans_t *a = &in.res.ans[q];
        double *v = x->vsum[q], *dg = x->dsum[q];
        if (a->op == TRONMSG_FUN || a->op == TRONMSG_FUNGRAD) x->fsum[q] += a->f;
        for (uint32_t j = 0; j < in.k; j++) {
            uint32_t c = x->act ? x->acols[j] : in.cols[j];
            if (c == UINT32_MAX) continue;
            if (a->op == TRONMSG_HV) v[c] += a->hv[j];
            if (a->op == TRONMSG_GRAD || a->op == TRONMSG_FUNGRAD) {
                v[c] += a->g[j];
                dg[c] += a->diag[j];
            }
        }
    }
    rc = 0;
out:
    treemsg_cols_free(&in);
    return rc;
}

/* The grouped round's sink: each answer is decoded and added as it
 * arrives, so the master holds the round's sums only. */
static int take_group(void *arg, const uint32_t *group, size_t n, const void *data, size_t len,
                      const char *worker) {
    exact_t *x = arg;
    trainer_t *t = x->t;
    tronmsg_res_t res;
    if (x->tree && len >= 4 && proto_get_u32(data) == TREEMSG_COLS_MAGIC)
        return take_cols(t, x, data, len, worker);
    if (train_exact_answer(t, group[0], data, len, worker, x->items, x->count, &res) < 0) return -1;
    const gcols_t *g = group_columns(t, x, group, n);
    if (!g) {
        snprintf(t->err, sizeof t->err, "out of memory");
        tronmsg_res_free(&res);
        return -1;
    }
    long m = g->m;
    if (x->tree && res.m == (uint32_t)t->n) {
        /* a tree's sum, or a widened answer: all n columns, of which TRON
         * runs on the active ones (the others are exact zeros) */
        add_wide(t, x, &res);
        tronmsg_res_free(&res);
        return 0;
    }
    if (res.m != (m >= 0 ? (uint32_t)m : (uint32_t)t->n)) {
        snprintf(t->err, sizeof t->err, "worker %s answered %u columns for shards %u.., want %ld",
                 worker, res.m, group[0], m >= 0 ? m : (long)t->n);
        tronmsg_res_free(&res);
        return -1;
    }
    add_answer(t, x, &res, m >= 0 ? g->map : NULL);
    tronmsg_res_free(&res);
    return 0;
}

/* A single-shard round's sink (COUNT, PRED): also keeps the shard's
 * columns from its COUNT answer. */
static int take_shard(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    exact_t *x = arg;
    trainer_t *t = x->t;
    tronmsg_res_t res;
    if (train_exact_answer(t, shard, data, len, worker, x->items, x->count, &res) < 0) return -1;
    for (size_t q = 0; q < x->count; q++)
        if (res.ans[q].op == TRONMSG_COUNT && (res.ans[q].flags & TRONMSG_F_COLUMNS)) {
            memcpy(x->bits + (size_t)shard * x->words, res.ans[q].cols, x->words * sizeof *x->bits);
            x->has_bits[shard] = true;
        }
    add_answer(t, x, &res, NULL);
    tronmsg_res_free(&res);
    return 0;
}

/* Zeroes the round's sums; each GRAD, FUNGRAD and HV item's vectors are
 * summed where its class's tron will read them (tron_sums). */
static void clear_sums(trainer_t *t, exact_t *x) {
    size_t n = (size_t)x->na;
    memset(x->fsum, 0, x->count * sizeof *x->fsum);
    memset(x->rows, 0, x->count * sizeof *x->rows);
    memset(x->correct, 0, x->count * sizeof *x->correct);
    memset(x->stat, 0, x->count * sizeof *x->stat);
    memset(x->pos, 0, x->count * (size_t)t->nr_w * sizeof *x->pos);
    for (size_t q = 0; q < x->count; q++) {
        x->vsum[q] = x->dsum[q] = NULL;
        uint32_t op = x->items[q].op;
        if (op != TRONMSG_GRAD && op != TRONMSG_HV && op != TRONMSG_FUNGRAD) continue;
        x->vsum[q] = tron_sums(x->cl[x->class_of[q]].tr, &x->dsum[q]);
        memset(x->vsum[q], 0, n * sizeof *x->vsum[q]);
        if (x->dsum[q]) memset(x->dsum[q], 0, n * sizeof *x->dsum[q]);
    }
}

/* Sends x->items: grouped (FUN, GRAD, HV: one task per worker slot) or one
 * task per shard (COUNT, PRED); the answers are summed in x's sums. */
static int tron_round(trainer_t *t, exact_t *x, bool grouped) {
    clear_sums(t, x);
    sched_round_t r = {.op = OP_TRON};
    if (grouped) {
        r.group_body = group_body;
        r.group_sink = take_group;
        r.group_arg = x;
        r.tree_fanin = x->tree ? 2 : 0;
        r.tree_wait_ms = (uint32_t)t->cfg->cluster.reduce_wait_ms;
    } else {
        r.body = train_exact_request(t, x->items, x->count);
        r.sink = take_shard;
        r.sink_arg = x;
        if (!r.body) return EXIT_JOB_FAILED;
    }
    int status = trainer_round(t, &r);
    sched_round_free(&r);
    blob_unref(&r.body);
    return status;
}

/* ---- count round ---- */

/* Rows and positives per class (and fold), which set liblinear's per-class
 * tolerance; it also makes every worker parse its shards, so the read time
 * is measured apart from the Newton rounds. */
static int count_round(trainer_t *t, exact_t *x) {
    int64_t t_read = clock_now_ms();
    x->count = 0;
    x->items[x->count++] = (tronmsg_item_t){.cls = (uint32_t)t->nr_w,
                                            .fold = TRONMSG_ALL_ROWS,
                                            .op = TRONMSG_COUNT,
                                            .flags = x->want_xnorm ? TRONMSG_F_STAT : 0};
    for (int f = 0; f < x->nf; f++)
        x->items[x->count++] =
            (tronmsg_item_t){.cls = (uint32_t)t->nr_w, .fold = (uint32_t)f, .op = TRONMSG_COUNT};
    progress_phase(&t->prog, "loading");
    int status = tron_round(t, x, false);
    if (status != 0) return status;
    for (size_t q = 0; q < x->count; q++)
        for (int k = 0; k < t->nr_w; k++) {
            tclass_t *c = &x->cl[(int)q * t->nr_w + k];
            c->rows += (long)x->rows[q];
            c->pos += (long)x->pos[q * (size_t)t->nr_w + (size_t)k];
        }
    x->max_xx = x->stat[0];
    t->secs_read = (double)(clock_now_ms() - t_read) / 1000.0;
    log_info("shards loaded on the workers in %.2f s (%ld rows)", t->secs_read, x->cl[0].rows);
    return 0;
}

/* ---- active columns ---- */

/* The columns some row of the data touches (every shard told its own in the
 * count round): TRON runs on those alone. */
static int active_columns(trainer_t *t, exact_t *x) {
    size_t n = (size_t)t->n;
    x->na = t->n;
    if (!shards_union(x, NULL, t->sp.nshards)) return 0;
    size_t na = colset_count(x->ubits, n);
    if (na == n) return 0;
    x->act = malloc(n * sizeof *x->act);
    x->glob = malloc((na + 1) * sizeof *x->glob);
    x->acols = malloc(n * sizeof *x->acols);
    if (!x->act || !x->glob || !x->acols) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    colset_list(x->ubits, n, x->glob);
    memset(x->act, 0xff, n * sizeof *x->act);
    for (size_t j = 0; j < na; j++)
        x->act[x->glob[j]] = (uint32_t)j;
    x->na = (int)na;
    log_info("%zu of %zu columns occur in the data; TRON runs on those", na, n);
    return 0;
}

/* ---- journal resume ---- */

static void journal_key(trainer_t *t) {
    struct stat st;
    char abs[CONFIG_PATH];
    const char *path = t->cfg->data.train;
    if (!realpath(path, abs)) snprintf(abs, sizeof abs, "%s", path);
    long long size = 0, mtime = 0;
    if (stat(path, &st) == 0) {
        size = (long long)st.st_size;
        mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
    /* Everything that changes the optimum; not the shard layout, which only
     * changes the order of additions. */
    const config_t *cfg = t->cfg;
    /* the free-text settings change the features; the column list goes in
     * as a hash (it may be long) */
    uint64_t text = hash_fnv1a(cfg->data.text, strlen(cfg->data.text));
    snprintf(t->journal_key, sizeof t->journal_key,
             "%s|%lld|%lld|s=%d|C=%.17g|e=%.17g|B=%.17g|label=%s|id=%s|scale=%s|fmt=%d|cv=%d|"
             "text=%d:%016llx|ng=%d|df=%d|mf=%d|hb=%d|tfidf=%d",
             abs, size, mtime, t->solver, cfg->model.C, cfg->model.eps, cfg->model.bias,
             cfg->data.label, cfg->data.id, cfg->data.scale, (int)t->sp.format, t->folds,
             (int)cfg->data.text_set, (unsigned long long)text, cfg->data.ngram, cfg->data.min_df,
             cfg->data.max_features, cfg->data.hash_bits, (int)cfg->data.tfidf);
}

/* Opens the journal (when there is a history database) and, with --resume,
 * reads back the classes an earlier run of the same job journaled. A journal
 * that cannot be used only costs the restart point. */
static void journal_resume(trainer_t *t, exact_t *x) {
    char err[512];
    if (t->cfg->history.db[0] && !(x->j = journal_open(t->cfg->history.db, err, sizeof err)))
        log_warn("%s; training goes on without a restart point", err);
    journal_key(t);
    if (!x->j || !t->ctx->opts->resume) return;
    int nloaded = journal_load(x->j, t->journal_key, t->nr_w, t->n, x->loaded, err, sizeof err);
    if (nloaded < 0)
        log_warn("%s; starting over", err);
    else if (nloaded == 0)
        log_info("resume: no journal for this data and these parameters; starting over");
    else
        log_info("resume: continuing %d class(es) from the journal", nloaded);
}

/* Journals the classes trained on all rows. */
static void journal_store(trainer_t *t, exact_t *x) {
    if (!x->j) return;
    journal_class_t *jc = calloc((size_t)x->ncl, sizeof *jc);
    int m = 0;
    if (!jc) return;
    for (int i = 0; i < x->ncl; i++) {
        const tclass_t *c = &x->cl[i];
        if (c->fold != TRONMSG_ALL_ROWS) continue;
        tron_state_t st;
        tron_state(c->tr, &st);
        jc[m++] = (journal_class_t){.cls = c->cls,
                                    .iter = st.iter,
                                    .delta = st.delta,
                                    .gnorm0 = st.gnorm0,
                                    .done = c->done,
                                    .n = t->n,
                                    .w = tron_weights(c->tr),
                                    .at = x->act ? x->glob : NULL,
                                    .nw = x->na};
    }
    char err[512] = "";
    if (journal_save(x->j, t->journal_key, jc, (size_t)m, err, sizeof err) < 0)
        log_every(7, LOG_WARN, "%s (training goes on without a restart point)", err);
    free(jc);
}

/* ---- TRON setup ---- */

static uint64_t random_u32(void) {
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint32_t)clock_now_us();
    return r;
}

/* A state machine per function: resumed from the journal when it has the
 * class, fresh otherwise. */
static int tron_setup(trainer_t *t, exact_t *x) {
    x->id_base = random_u32() << 32;
    x->next_id = 1;
    for (int i = 0; i < x->ncl; i++) {
        tclass_t *c = &x->cl[i];
        double eps = tron_class_eps(t->cfg->model.eps, c->pos, c->rows - c->pos, c->rows);
        const journal_class_t *jl =
            c->fold == TRONMSG_ALL_ROWS && x->loaded[c->cls].w ? &x->loaded[c->cls] : NULL;
        if (jl && jl->iter >= 1) {
            tron_state_t st = {.iter = jl->iter, .delta = jl->delta, .gnorm0 = jl->gnorm0};
            /* the journal holds all n columns; TRON the active ones (the
             * loaded copy is ours: compacted in place, glob[j] >= j) */
            double *w = (double *)jl->w;
            for (int j = 0; x->act && j < x->na; j++)
                w[j] = w[x->glob[j]];
            c->tr =
                tron_resume(x->na, t->cfg->model.C, eps, tron_eps_cg(0), TRON_OUTER_MAX, w, &st);
            /* A finished class still needs its weights: a resumed tron
             * re-checks the stop rule at once. */
        } else {
            c->tr = tron_new(x->na, t->cfg->model.C, eps, tron_eps_cg(0), TRON_OUTER_MAX, NULL);
        }
        if (!c->tr) {
            trainer_fail(t, "cannot start TRON (out of memory?)");
            return EXIT_JOB_FAILED;
        }
        c->last_ms = clock_now_ms();
    }
    return 0;
}

/* ---- Newton loop ---- */

static void publish_iteration(trainer_t *t, const tclass_t *c, const tron_iter_info_t *info,
                              double secs) {
    /* one line per class and iteration: -v only (the dashboard has them all) */
    if (c->fold == TRONMSG_ALL_ROWS)
        log_debug("iter %d class %d f=%.6e |g|=%.6e CG=%d time=%.3f%s", info->iter, c->cls, info->f,
                  info->gnorm, info->cg_iter, secs, info->accepted ? "" : " (rejected)");
    else
        log_debug("cv fold %u iter %d class %d f=%.6e |g|=%.6e CG=%d time=%.3f", c->fold,
                  info->iter, c->cls, info->f, info->gnorm, info->cg_iter, secs);
    if (c->fold != TRONMSG_ALL_ROWS) return;
    json_object *js = json_object_new_object();
    if (!js) return;
    json_object_object_add(js, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(js, "class", json_object_new_int(t->label_values[c->cls]));
    json_object_object_add(js, "iter", json_object_new_int(info->iter));
    json_object_object_add(js, "f", json_object_new_double(info->f));
    json_object_object_add(js, "gnorm", json_object_new_double(info->gnorm));
    json_object_object_add(js, "cg", json_object_new_int(info->cg_iter));
    json_object_object_add(js, "secs", json_object_new_double(secs));
    events_publish(t->ctx->ev, EV_ITERATION, js);
}

/* This round's requests: what each unfinished function asks for next. */
static void next_items(exact_t *x) {
    x->count = 0;
    for (int i = 0; i < x->ncl; i++) {
        tclass_t *c = &x->cl[i];
        x->item_of[i] = -1;
        if (c->done) continue;
        const double *vec = NULL;
        tron_op_t op = tron_next(c->tr, &vec);
        tronmsg_item_t it = {.cls = (uint32_t)c->cls, .fold = c->fold};
        switch (op) {
        case TRON_DONE:
            c->done = true;
            continue;
        case TRON_FUN:
            /* with the gradient at the same point: no GRAD round after an
             * accepted step (a rejected one wastes the gradient pass) */
            c->fun_id = x->id_base | x->next_id++;
            it.op = TRONMSG_FUNGRAD, it.point = c->fun_id, it.w = vec;
            break;
        case TRON_GRAD:
            c->grad_id = c->fun_id;
            it.op = TRONMSG_GRAD, it.point = c->fun_id, it.w = vec;
            break;
        case TRON_HV:
            it.op = TRONMSG_HV, it.point = c->grad_id, it.w = tron_weights(c->tr), it.s = vec;
            break;
        }
        x->item_of[i] = (int)x->count;
        x->class_of[x->count] = i;
        x->items[x->count++] = it;
    }
}

/* Feeds item q's sum over the workers to c. (The answers were added in the
 * order they arrived: the last bits of a sum may differ between runs with
 * several workers, as with any parallel reduction.) */
static int feed_sum(trainer_t *t, exact_t *x, tclass_t *c, int q) {
    int rc;
    switch (x->items[q].op) {
    case TRONMSG_FUN:
        return tron_feed_fun(c->tr, x->fsum[q]);
    case TRONMSG_FUNGRAD:
        /* the HV items that follow name the gradient's point */
        if ((rc = tron_feed_fun_grad(c->tr, x->fsum[q])) == 1) c->grad_id = c->fun_id;
        return rc < 0 ? -1 : 0;
    case TRONMSG_GRAD:
        return tron_feed_grad(c->tr, x->vsum[q], x->dsum[q]);
    case TRONMSG_HV:
        return tron_feed_hv(c->tr, x->vsum[q]);
    }
    return -1;
}

/* Feeds the round's answers to their functions; *advanced is set when a
 * class on all rows took a step or finished (worth journaling). */
static int feed_round(trainer_t *t, exact_t *x, bool *advanced) {
    *advanced = false;
    for (int i = 0; i < x->ncl; i++) {
        tclass_t *c = &x->cl[i];
        if (x->item_of[i] < 0) continue;
        if (feed_sum(t, x, c, x->item_of[i]) < 0) {
            trainer_fail(t, "internal error: TRON refused an answer");
            return EXIT_JOB_FAILED;
        }
        tron_iter_info_t info;
        int passes = tron_iteration_info(c->tr, &info);
        if (passes > c->passes_seen) {
            int64_t now = clock_now_ms();
            c->passes_seen = passes;
            publish_iteration(t, c, &info, (double)(now - c->last_ms) / 1000.0);
            c->last_ms = now;
            *advanced = *advanced || (info.accepted && c->fold == TRONMSG_ALL_ROWS);
        }
        if (tron_next(c->tr, NULL) == TRON_DONE) {
            c->done = true;
            *advanced = *advanced || c->fold == TRONMSG_ALL_ROWS;
        }
    }
    return 0;
}

/* Rounds until every function is done. */
/* The master's traffic during the Newton rounds, for the log and make bench. */
static void log_traffic(const exact_t *x, const sched_counters_t *c0, const sched_counters_t *c1) {
    double sent = (double)(c1->bytes_sent - c0->bytes_sent) / 1e6;
    double recv = (double)(c1->bytes_received - c0->bytes_received) / 1e6;
    long cg = 0;
    for (int i = 0; i < x->ncl; i++)
        if (x->cl[i].tr) cg += tron_cg_total(x->cl[i].tr);
    uint64_t msgs = c1->msgs_received - c0->msgs_received;
    log_info("traffic: %.1f MB sent to workers, %.1f MB received in %d rounds (%.2f MB a round), "
             "%ld CG steps, %.1f messages received a round",
             sent, recv, x->rounds, x->rounds ? (sent + recv) / x->rounds : 0.0, cg,
             x->rounds ? (double)msgs / x->rounds : 0.0);
    if (x->tree)
        log_info("reduction tree: %llu of %d rounds summed by the workers, %llu part(s) asked "
                 "for directly",
                 (unsigned long long)(c1->tree_rounds - c0->tree_rounds), x->rounds,
                 (unsigned long long)(c1->tree_direct - c0->tree_direct));
}

/* The training phase's progress: the furthest Newton iteration, the CG
 * steps so far, and the mean share of the way to the stopping rules. */
static void report_newton(trainer_t *t, const exact_t *x) {
    int iter = 0;
    long cg = 0;
    double frac = 0;
    for (int i = 0; i < x->ncl; i++) {
        tron_iter_info_t info;
        if (!x->cl[i].tr) { /* search: the functions on all rows */
            frac += 1.0;
            continue;
        }
        if (tron_iteration_info(x->cl[i].tr, &info) > 0 && info.iter > iter) iter = info.iter;
        cg += tron_cg_total(x->cl[i].tr);
        frac += x->cl[i].done ? 1.0 : tron_progress(x->cl[i].tr);
    }
    /* before the first pass ends, the first iteration is the one running */
    double f = x->ncl ? frac / x->ncl : 0;
    /* a search's one phase: the share of its C values done */
    if (x->search) f = (x->search_done + f) / x->search_total;
    progress_newton(&t->prog, iter > 0 ? iter : 1, cg, f);
}

static int newton_loop(trainer_t *t, exact_t *x) {
    if (!x->search) progress_phase(&t->prog, "training");
    int64_t t_tron = clock_now_ms();
    sched_counters_t c0, c1;
    sched_get_counters(t->s, &c0);
    for (;;) {
        next_items(x);
        if (x->count == 0) break;
        bool advanced;
        int status = tron_round(t, x, true);
        x->rounds++;
        if (status == 0) status = feed_round(t, x, &advanced);
        if (status != 0) return status;
        report_newton(t, x);
        /* A restart point after each step, but no more often than 20
         * times what the last one cost the journal's thread (each is a copy
         * of the model written to SQLite: on a busy PC that CPU is the
         * workers'), so at most ~5 % of the job; and when a signal stops it. */
        x->unsaved = x->unsaved || advanced;
        int64_t now = clock_now_ms();
        int64_t every = x->j ? JOURNAL_COST_FACTOR * journal_write_cost_ms(x->j) : 0;
        if (x->unsaved && (now - x->last_store_ms >= every || *t->ctx->stop)) {
            journal_store(t, x);
            x->unsaved = false;
            x->last_store_ms = now;
        }
        if (*t->ctx->stop) {
            trainer_fail(t, "stopped by signal");
            return EXIT_JOB_FAILED;
        }
    }
    t->secs_tron = (double)(clock_now_ms() - t_tron) / 1000.0;
    sched_get_counters(t->s, &c1);
    log_traffic(x, &c0, &c1);
    return 0;
}

/* ---- model assembly ---- */

/* Functions first..first+nr_w-1 as one model, liblinear layout. */
static void gather_weights(const trainer_t *t, const exact_t *x, int first, double *w) {
    if (x->act) memset(w, 0, (size_t)t->n * (size_t)t->nr_w * sizeof *w);
    for (int k = 0; k < t->nr_w; k++) {
        const double *wk = tron_weights(x->cl[first + k].tr);
        for (int j = 0; j < x->na; j++) {
            size_t v = x->act ? x->glob[j] : (size_t)j;
            w[v * (size_t)t->nr_w + (size_t)k] = wk[j];
        }
    }
}

static int assemble_model(trainer_t *t, exact_t *x) {
    t->w = malloc((size_t)t->n * (size_t)t->nr_w * sizeof *t->w);
    if (!t->w) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    gather_weights(t, x, 0, t->w);
    long cg = 0;
    for (int k = 0; k < t->nr_w; k++)
        cg += tron_cg_total(x->cl[k].tr);
    log_info("TRON finished in %.2f s: %ld CG steps over %d class(es)", t->secs_tron, cg, t->nr_w);
    return 0;
}

/* ---- cross-validation ---- */

/* Held-out predictions of every fold's model: t->cv_accuracy. */
static int cross_validate(trainer_t *t, exact_t *x) {
    size_t nwv = (size_t)t->n * (size_t)t->nr_w;
    double *wf = malloc(nwv * (size_t)x->nf * sizeof *wf);
    if (!wf) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    x->count = 0;
    for (int f = 0; f < x->nf; f++) {
        gather_weights(t, x, (f + 1) * t->nr_w, wf + (size_t)f * nwv);
        x->items[x->count++] = (tronmsg_item_t){.cls = (uint32_t)t->nr_w,
                                                .fold = (uint32_t)f,
                                                .op = TRONMSG_PRED,
                                                .flags = x->search ? TRONMSG_F_STAT : 0,
                                                .w = wf + (size_t)f * nwv};
    }
    if (!x->search) progress_phase(&t->prog, "cross-validation");
    int status = tron_round(t, x, false);
    free(wf);
    if (status != 0) return status;
    uint64_t rows = 0, correct = 0;
    double loss = 0;
    for (size_t q = 0; q < x->count; q++) {
        rows += x->rows[q];
        correct += x->correct[q];
        loss += x->stat[q];
        if (t->cv_folds)
            t->cv_folds[q] = x->rows[q] ? (double)x->correct[q] / (double)x->rows[q] : -1;
    }
    t->cv_accuracy = rows ? (double)correct / (double)rows : -1;
    t->cv_log_loss = rows && t->solver == 0 ? loss / (double)rows : -1;
    return 0;
}

/* ---- the strategy ---- */

static int exact_init(trainer_t *t, exact_t *x) {
    x->nf = t->folds > 0 ? t->folds : 0;
    x->ncl = t->nr_w * (1 + x->nf);
    x->cl = calloc((size_t)x->ncl, sizeof *x->cl);
    x->items = calloc((size_t)x->ncl + (size_t)x->nf + 1, sizeof *x->items);
    x->item_of = calloc((size_t)x->ncl, sizeof *x->item_of);
    x->loaded = calloc((size_t)t->nr_w, sizeof *x->loaded);
    size_t nq = (size_t)x->ncl + (size_t)x->nf + 1, nsh = t->sp.nshards ? t->sp.nshards : 1;
    x->fsum = calloc(nq, sizeof *x->fsum);
    x->vsum = calloc(nq, sizeof *x->vsum);
    x->dsum = calloc(nq, sizeof *x->dsum);
    x->class_of = calloc(nq, sizeof *x->class_of);
    x->rows = calloc(nq, sizeof *x->rows);
    x->correct = calloc(nq, sizeof *x->correct);
    x->pos = calloc(nq * (size_t)t->nr_w, sizeof *x->pos);
    x->stat = calloc(nq, sizeof *x->stat);
    x->words = colset_words((size_t)t->n);
    x->bits = calloc(nsh * x->words + 1, sizeof *x->bits);
    x->has_bits = calloc(nsh, sizeof *x->has_bits);
    x->ubits = calloc(x->words + 1, sizeof *x->ubits);
    x->cols = calloc((size_t)t->n + 1, sizeof *x->cols);
    x->tab = shard_table(t);
    x->tree = strcmp(t->cfg->cluster.reduce, "tree") == 0;
    if (!x->cl || !x->items || !x->item_of || !x->loaded || !x->fsum || !x->vsum || !x->dsum ||
        !x->class_of || !x->rows || !x->correct || !x->pos || !x->stat || !x->bits ||
        !x->has_bits || !x->ubits || !x->cols || !x->tab) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    for (int i = 0; i < x->ncl; i++) {
        x->cl[i].cls = i % t->nr_w;
        x->cl[i].fold = i < t->nr_w ? TRONMSG_ALL_ROWS : (uint32_t)(i / t->nr_w - 1);
    }
    return 0;
}

static void exact_free(trainer_t *t, exact_t *x) {
    free(x->fsum);
    free(x->vsum);
    free(x->dsum);
    free(x->class_of);
    free(x->rows);
    free(x->correct);
    free(x->pos);
    free(x->stat);
    free(x->bits);
    free(x->has_bits);
    free(x->ubits);
    free(x->cols);
    free(x->act);
    free(x->glob);
    free(x->acols);
    for (size_t i = 0; i < x->ngc; i++)
        gcols_free(&x->gc[i]);
    free(x->gc);
    free(x->tab);
    for (int i = 0; x->cl && i < x->ncl; i++)
        tron_destroy(&x->cl[i].tr);
    free(x->cl);
    free(x->items);
    free(x->item_of);
    if (x->loaded) journal_free_loaded(x->loaded, t->nr_w);
    free(x->loaded);
    journal_close(&x->j);
}

/* The class split (master/train_classes.h) when it is chosen: *ran says
 * whether it ran. Needs the count round's counts. */
static int split_classes(trainer_t *t, exact_t *x, bool *ran) {
    long *rows = malloc((size_t)t->nr_w * sizeof *rows),
         *pos = malloc((size_t)t->nr_w * sizeof *pos);
    int status = 0;
    *ran = false;
    if (!rows || !pos) {
        trainer_fail(t, "out of memory");
        status = EXIT_JOB_FAILED;
    }
    for (int k = 0; status == 0 && k < t->nr_w; k++)
        rows[k] = x->cl[k].rows, pos[k] = x->cl[k].pos;
    class_counts_t cc = {.rows = rows, .pos = pos, .active_columns = x->na};
    if (status == 0 && train_classes_chosen(t, &cc)) {
        *ran = true;
        status = train_classes(t, &cc);
    }
    free(rows);
    free(pos);
    return status;
}

int train_exact(trainer_t *t) {
    exact_t x = {.t = t};
    bool by_classes = false;
    int status = exact_init(t, &x);
    if (status == 0) status = count_round(t, &x);
    if (status == 0) status = active_columns(t, &x);
    if (status == 0) status = split_classes(t, &x, &by_classes);
    if (status == 0 && !by_classes) {
        journal_resume(t, &x);
        status = tron_setup(t, &x);
    }
    if (status == 0 && !by_classes) status = newton_loop(t, &x);
    if (status == 0 && !by_classes) status = assemble_model(t, &x);
    if (status == 0 && x.nf > 0) status = cross_validate(t, &x);
    /* (no store here: the last Newton round journaled every class as done) */
    exact_free(t, &x);
    return status;
}

/* ---- search ---- */

/* Copies every fold's weights into prev ([nf * nr_w * na], fold by fold) to
 * warm-start the next C; whether some fold's weights moved by more than
 * 1e-15 from what prev held (liblinear's test: the norm over all of a
 * fold's classes). */
static bool keep_fold_weights(trainer_t *t, exact_t *x, double *prev) {
    bool moved = false;
    size_t na = (size_t)x->na;
    for (int f = 0; f < x->nf; f++) {
        double d2 = 0;
        for (int k = 0; k < t->nr_w; k++) {
            int i = (f + 1) * t->nr_w + k;
            const double *w = tron_weights(x->cl[i].tr);
            double *p = prev + (size_t)(i - t->nr_w) * na;
            for (size_t j = 0; j < na; j++) {
                double d = w[j] - p[j];
                d2 += d * d;
                p[j] = w[j];
            }
        }
        moved = moved || sqrt(d2) > 1e-15;
    }
    return moved;
}

/* A fresh TRON for every (class, fold) at C, from prev when warm (liblinear's
 * init_sol, with its CG tolerance); the functions on all rows stay idle. */
static int search_setup(trainer_t *t, exact_t *x, double C, const double *prev, bool warm) {
    size_t na = (size_t)x->na;
    for (int i = 0; i < x->ncl; i++) {
        tclass_t *c = &x->cl[i];
        tron_destroy(&c->tr);
        c->done = i < t->nr_w;
        c->passes_seen = 0;
        c->last_ms = clock_now_ms();
        if (c->done) continue;
        double eps = tron_class_eps(t->cfg->model.eps, c->pos, c->rows - c->pos, c->rows);
        c->tr = tron_new(x->na, C, eps, tron_eps_cg(warm), TRON_OUTER_MAX,
                         warm ? prev + (size_t)(i - t->nr_w) * na : NULL);
        if (!c->tr) {
            trainer_fail(t, "cannot start TRON (out of memory?)");
            return EXIT_JOB_FAILED;
        }
    }
    return 0;
}

/* Trains every fold at C (all in lockstep, one pass over each shard a
 * round) and scores them on their held-out rows: one result. */
static int search_one(trainer_t *t, exact_t *x, double C, double *prev, bool warm, bool *moved,
                      search_result_t *r) {
    int64_t t0 = clock_now_ms();
    double *folds = calloc((size_t)x->nf, sizeof *folds);
    if (!folds) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    t->cv_folds = folds;
    int status = search_setup(t, x, C, prev, warm);
    if (status == 0) status = newton_loop(t, x);
    if (status == 0) status = cross_validate(t, x);
    t->cv_folds = NULL;
    if (status != 0) {
        free(folds);
        return status;
    }
    *moved = keep_fold_weights(t, x, prev);
    *r = (search_result_t){.solver = t->solver,
                           .c = C,
                           .accuracy = t->cv_accuracy,
                           .log_loss = t->cv_log_loss,
                           .secs = (double)(clock_now_ms() - t0) / 1000.0,
                           .fold_accuracy = folds};
    long cg = 0;
    for (int i = t->nr_w; i < x->ncl; i++)
        cg += tron_cg_total(x->cl[i].tr);
    char loss[48] = "";
    if (r->log_loss >= 0) snprintf(loss, sizeof loss, ", log loss %.5f", r->log_loss);
    log_info("search: %s C=%g: CV accuracy %.4f%%%s, %ld CG steps, %.2f s",
             model_solver_name(t->solver), C, 100.0 * r->accuracy, loss, cg, r->secs);
    return 0;
}

int train_exact_search(trainer_t *t, const double *clist, int nc, search_result_t *res, int cap,
                       int *nres) {
    exact_t x = {.t = t, .want_xnorm = nc == 0, .search = true};
    double *prev = NULL;
    int status = exact_init(t, &x);
    if (status == 0) status = count_round(t, &x);
    if (status == 0) status = active_columns(t, &x);
    if (status != 0) goto out;
    x.id_base = random_u32() << 32;
    x.next_id = 1;
    prev = calloc((size_t)x.nf * (size_t)t->nr_w * (size_t)x.na + 1, sizeof *prev);
    if (!prev) {
        trainer_fail(t, "out of memory");
        status = EXIT_JOB_FAILED;
        goto out;
    }
    search_path_t path = {0};
    if (nc == 0) {
        double c0 = search_start_c(t->solver, (double)x.cl[0].rows, x.max_xx);
        if (!(c0 > 0)) {
            trainer_fail(t, "search: every row is zero; no start C (give --C-list)");
            status = EXIT_BAD_DATA;
            goto out;
        }
        search_path_init(&path, c0);
        log_info("search: liblinear's C path from C=%g (%ld rows, largest |x|^2 %g) up to %g", c0,
                 x.cl[0].rows, x.max_xx, SEARCH_MAX_PATH_C);
    }
    /* the path ends at 1024 at the latest */
    x.search_total = nc > 0 ? nc : floor(log2(SEARCH_MAX_PATH_C / path.c)) + 1;
    progress_phase(&t->prog, "search");
    for (int k = 0; *nres < cap; k++) {
        if (nc > 0 && k >= nc) break;
        x.search_done = k;
        double C = nc > 0 ? clist[k] : path.c;
        bool moved = false;
        status = search_one(t, &x, C, prev, k > 0, &moved, &res[*nres]);
        if (status != 0) goto out;
        (*nres)++;
        if (nc == 0 && !search_path_next(&path, moved)) break;
    }
out:
    free(prev);
    exact_free(t, &x);
    return status;
}
