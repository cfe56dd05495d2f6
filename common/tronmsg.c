#include "common/tronmsg.h"

#include "common/buf.h"
#include "common/colset.h"
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_HEAD 16 /* cls, fold, op, flags */

/* Whether a FUN, FUNGRAD, GRAD or HV item carries its point w (m doubles):
 * FUN and FUNGRAD always, GRAD and HV with flag POINT. The encoder, the
 * decoder and the size count all follow this rule (HV's s comes first, then
 * w). */
static bool carries_point(uint32_t op, uint32_t flags) {
    return op == TRONMSG_FUN || op == TRONMSG_FUNGRAD ||
           ((op == TRONMSG_GRAD || op == TRONMSG_HV) && (flags & TRONMSG_F_POINT));
}

/* The ops that name a class's vector (not COUNT, PRED). */
static bool vector_op(uint32_t op) {
    return op == TRONMSG_FUN || op == TRONMSG_GRAD || op == TRONMSG_HV || op == TRONMSG_FUNGRAD;
}

/* Number of request doubles an item carries (m: the FUN/GRAD/HV vector
 * length); -1 for an unknown op. */

static long req_doubles(uint32_t op, uint32_t cls, uint32_t flags, uint32_t n, uint32_t m) {
    long k = (op == TRONMSG_HV ? (long)m : 0) + (carries_point(op, flags) ? (long)m : 0);
    switch (op) {
    case TRONMSG_FUN:
    case TRONMSG_GRAD:
    case TRONMSG_HV:
    case TRONMSG_FUNGRAD:
        return k;
    case TRONMSG_PRED:
        return (long)n * (long)cls;
    case TRONMSG_COUNT:
        return 0;
    default:
        return -1;
    }
}

static int check_item(uint32_t op, uint32_t cls, uint32_t n, char *err, size_t errlen) {
    if (req_doubles(op, cls, 0, n, n) < 0) {
        snprintf(err, errlen, "tron message: unknown item op %u", op);
        return -1;
    }
    if ((op == TRONMSG_PRED || op == TRONMSG_COUNT) && (cls == 0 || cls > TRONMSG_MAX_CLS)) {
        snprintf(err, errlen, "tron message: %u classes out of range", cls);
        return -1;
    }
    if (vector_op(op) && cls >= TRONMSG_MAX_CLS) {
        snprintf(err, errlen, "tron message: class %u out of range", cls);
        return -1;
    }
    return 0;
}

/* Vectors are long: written in place rather than a put per double (one
 * copy where the host is little-endian, as the wire is). */
static void put_vec(buf_t *b, const double *v, size_t k) {
    uint8_t *p = buf_extend(b, 8 * k);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (p && k) memcpy(p, v, 8 * k);
#else
    for (size_t i = 0; p && i < k; i++, p += 8)
        proto_put_f64(p, v[i]);
#endif
}

/* v[cols[0..m-1]]: the compact form of an n-long vector. */
static void put_gather(buf_t *b, const double *v, const uint32_t *cols, size_t m) {
    uint8_t *p = buf_extend(b, 8 * m);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (size_t i = 0; p && i < m; i++)
        memcpy(p + 8 * i, &v[cols[i]], 8);
#else
    for (size_t i = 0; p && i < m; i++, p += 8)
        proto_put_f64(p, v[cols[i]]);
#endif
}

/* A FUN/GRAD/HV vector in the request's layout. */
static void put_item_vec(buf_t *b, const double *v, const tronmsg_layout_t *lay, uint32_t m) {
    if (lay->compact && lay->cols)
        put_gather(b, v, lay->cols, m);
    else
        put_vec(b, v, m);
}

/* The layout's rules: a group within the table, ascending; a compact m
 * within n; a full layout with m = n. */
static int check_layout(uint32_t n, const tronmsg_layout_t *lay, char *err, size_t errlen) {
    if (lay->nshards > UINT32_MAX || (lay->nshards && !lay->shards) || lay->ngroup > lay->nshards ||
        (lay->ngroup && !lay->group)) {
        snprintf(err, errlen, "tron message: bad shard table or group");
        return -1;
    }
    for (size_t i = 0; i < lay->ngroup; i++)
        if (lay->group[i] >= lay->nshards || (i > 0 && lay->group[i] <= lay->group[i - 1])) {
            snprintf(err, errlen, "tron message: group shard %u out of order or range",
                     lay->group[i]);
            return -1;
        }
    if (lay->compact ? lay->m > n : false) {
        snprintf(err, errlen, "tron message: %u columns of %u", lay->m, n);
        return -1;
    }
    return 0;
}

blob_t *tronmsg_encode_req(uint32_t n, uint32_t folds, const tronmsg_layout_t *lay,
                           const tronmsg_item_t *items, size_t count, char *err, size_t errlen) {
    static const tronmsg_layout_t none = {0};
    if (!lay) lay = &none;
    if (n == 0 || n > TRONMSG_MAX_N || count > UINT32_MAX) {
        snprintf(err, errlen, "tron message: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    if (check_layout(n, lay, err, errlen) < 0) return NULL;
    uint32_t m = lay->compact ? lay->m : n;
    size_t len = 20 + 16 * lay->nshards + 4 + 4 * lay->ngroup + 16;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        if (check_item(it->op, it->cls, n, err, errlen) < 0) return NULL;
        long k = req_doubles(it->op, it->cls, it->flags, n, m);
        bool needs_w = it->op == TRONMSG_PRED || carries_point(it->op, it->flags);
        bool has_len = m > 0 || it->op == TRONMSG_PRED;
        if (has_len && ((needs_w && !it->w) || (it->op == TRONMSG_HV && !it->s))) {
            snprintf(err, errlen, "tron message: item %zu lacks its vector", i);
            return NULL;
        }
        len += ITEM_HEAD + 8 + (size_t)k * 8;
    }
    buf_t b = {0};
    buf_grow(&b, len);
    buf_put_u32(&b, TRONMSG_REQ_MAGIC);
    buf_put_u32(&b, n);
    buf_put_u32(&b, folds);
    buf_put_u32(&b, (uint32_t)count);
    buf_put_u32(&b, (uint32_t)lay->nshards);
    for (size_t i = 0; i < lay->nshards; i++) {
        buf_put_u64(&b, lay->shards[i].first_row);
        buf_put_u64(&b, lay->shards[i].first_line);
    }
    buf_put_u32(&b, (uint32_t)lay->ngroup);
    for (size_t i = 0; i < lay->ngroup; i++)
        buf_put_u32(&b, lay->group[i]);
    buf_put_u32(&b, m);
    buf_put_u32(&b, lay->compact ? (lay->wide ? 2 : 1) : 0);
    buf_put_u64(&b, lay->compact ? lay->hash : 0);
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        buf_put_u32(&b, it->cls);
        buf_put_u32(&b, it->fold);
        buf_put_u32(&b, it->op);
        buf_put_u32(&b, it->flags);
        buf_put_u64(&b, it->point);
        if (it->op == TRONMSG_HV && m) put_item_vec(&b, it->s, lay, m);
        if (m && carries_point(it->op, it->flags)) put_item_vec(&b, it->w, lay, m);
        if (it->op == TRONMSG_PRED) put_vec(&b, it->w, (size_t)n * it->cls);
    }
    return blob_from_buf(&b, "tron request", err, errlen);
}

/* Reads k doubles into dst; a short reader leaves dst alone and turns bad. */
static void get_vec(bufrd_t *r, double *dst, size_t k) {
    const uint8_t *p = bufrd_take(r, 8 * k);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (p && k) memcpy(dst, p, 8 * k);
#else
    for (size_t i = 0; p && i < k; i++, p += 8)
        dst[i] = proto_get_f64(p);
#endif
}

/* First pass over a request's items: checks every item and that the
 * message ends with the last one; *ndoubles gets the doubles they carry. */
static int req_items_check(bufrd_t r, uint32_t n, uint32_t m, uint32_t count, size_t *ndoubles,
                           char *err, size_t errlen) {
    *ndoubles = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (bufrd_left(&r) < ITEM_HEAD + 8) {
            snprintf(err, errlen, "tron request: item %u truncated", i);
            return -1;
        }
        uint32_t cls = bufrd_u32(&r);
        bufrd_u32(&r); /* fold */
        uint32_t op = bufrd_u32(&r);
        uint32_t flags = bufrd_u32(&r);
        bufrd_take(&r, 8); /* point */
        if (check_item(op, cls, n, err, errlen) < 0) return -1;
        size_t k = (size_t)req_doubles(op, cls, flags, n, m);
        if (k > bufrd_left(&r) / 8) {
            snprintf(err, errlen, "tron request: item %u vector truncated", i);
            return -1;
        }
        bufrd_take(&r, k * 8);
        *ndoubles += k;
    }
    if (bufrd_left(&r) != 0) {
        snprintf(err, errlen, "tron request: %zu trailing bytes", bufrd_left(&r));
        return -1;
    }
    return 0;
}

/* The group and the column layout, after the shard table; checked. */
static int req_layout(bufrd_t *r, tronmsg_req_t *out, bufrd_t *group_at, char *err, size_t errlen) {
    uint32_t ngroup = bufrd_u32(r);
    if (r->bad || (size_t)ngroup > out->nshards || (size_t)ngroup > bufrd_left(r) / 4) {
        snprintf(err, errlen, "tron request: bad group of %u shards", ngroup);
        return -1;
    }
    *group_at = *r;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < ngroup; i++) {
        uint32_t g = bufrd_u32(r);
        if (g >= out->nshards || (i > 0 && g <= prev)) {
            snprintf(err, errlen, "tron request: group shard %u out of order or range", g);
            return -1;
        }
        prev = g;
    }
    out->ngroup = ngroup;
    out->m = bufrd_u32(r);
    uint32_t compact = bufrd_u32(r);
    out->hash = bufrd_u64(r);
    if (r->bad || compact > 2 || out->m > out->n || (!compact && (out->m != out->n || out->hash))) {
        snprintf(err, errlen, "tron request: bad column layout (m=%u of %u, compact %u)", out->m,
                 out->n, compact);
        return -1;
    }
    out->compact = compact >= 1;
    out->wide = compact == 2;
    return 0;
}

/* Reads the items (checked by req_items_check) into out->items/out->store. */
static void req_items_read(bufrd_t *r, tronmsg_req_t *out) {
    double *d = out->store;
    uint32_t n = out->n, m = out->m;
    for (size_t i = 0; i < out->count; i++) {
        tronmsg_item_t *it = &out->items[i];
        it->cls = bufrd_u32(r);
        it->fold = bufrd_u32(r);
        it->op = bufrd_u32(r);
        it->flags = bufrd_u32(r);
        it->point = bufrd_u64(r);
        if (it->op == TRONMSG_HV) {
            get_vec(r, d, m);
            it->s = d;
            d += m;
        }
        size_t k = 0;
        if (carries_point(it->op, it->flags))
            k = m;
        else if (it->op == TRONMSG_PRED)
            k = (size_t)n * it->cls;
        if (k) {
            get_vec(r, d, k);
            it->w = d;
            d += k;
        }
    }
}

int tronmsg_decode_req(const void *buf, size_t len, tronmsg_req_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t magic = bufrd_u32(&r), n = bufrd_u32(&r), folds = bufrd_u32(&r);
    uint32_t count = bufrd_u32(&r), nshards = bufrd_u32(&r);
    if (r.bad || magic != TRONMSG_REQ_MAGIC) {
        snprintf(err, errlen, "tron request: bad magic or %zu bytes is too short", len);
        return -1;
    }
    if (n == 0 || n > TRONMSG_MAX_N) {
        snprintf(err, errlen, "tron request: n=%u out of range", n);
        return -1;
    }
    if ((size_t)nshards > bufrd_left(&r) / 16) {
        snprintf(err, errlen, "tron request: %u shards cannot fit in %zu bytes", nshards, len);
        return -1;
    }
    bufrd_t shards_at = r, group_at;
    bufrd_take(&r, 16 * (size_t)nshards);
    tronmsg_req_t lay = {.n = n, .nshards = nshards};
    if (req_layout(&r, &lay, &group_at, err, errlen) < 0) return -1;
    /* Each item takes at least 24 bytes, which bounds count by what arrived. */
    if ((size_t)count > bufrd_left(&r) / (ITEM_HEAD + 8)) {
        snprintf(err, errlen, "tron request: %u items cannot fit in %zu bytes", count, len);
        return -1;
    }
    size_t ndoubles;
    if (req_items_check(r, n, lay.m, count, &ndoubles, err, errlen) < 0) return -1;
    *out = lay;
    out->folds = folds;
    out->count = count;
    out->items = calloc(count ? count : 1, sizeof *out->items);
    out->store = malloc((ndoubles ? ndoubles : 1) * sizeof(double));
    out->shards = calloc(nshards ? nshards : 1, sizeof *out->shards);
    out->group = calloc(lay.ngroup ? lay.ngroup : 1, sizeof *out->group);
    if (!out->items || !out->store || !out->shards || !out->group) {
        tronmsg_req_free(out);
        snprintf(err, errlen, "out of memory for a tron request");
        return -1;
    }
    for (uint32_t i = 0; i < nshards; i++) {
        out->shards[i].first_row = bufrd_u64(&shards_at);
        out->shards[i].first_line = bufrd_u64(&shards_at);
    }
    for (size_t i = 0; i < out->ngroup; i++)
        out->group[i] = bufrd_u32(&group_at);
    req_items_read(&r, out);
    return 0;
}

void tronmsg_req_free(tronmsg_req_t *r) {
    if (!r) return;
    free(r->items);
    free(r->store);
    free(r->shards);
    free(r->group);
    memset(r, 0, sizeof *r);
}

/* Bytes of an answer's payload after its 16-byte head; -1 for an unknown op. */
static long ans_bytes(const tronmsg_ans_t *a, uint32_t n, uint32_t m) {
    switch (a->op) {
    case TRONMSG_FUN:
        return 8;
    case TRONMSG_GRAD:
        return 16L * (long)m;
    case TRONMSG_FUNGRAD:
        return 8 + 16L * (long)m;
    case TRONMSG_HV:
        return 8L * (long)m;
    case TRONMSG_COUNT:
        return 8 + 8L * (long)a->cls +
               ((a->flags & TRONMSG_F_COLUMNS) ? 8L * (long)colset_words(n) : 0) +
               ((a->flags & TRONMSG_F_STAT) ? 8 : 0);
    case TRONMSG_PRED:
        return 24 + (long)a->text_len +
               ((a->flags & TRONMSG_F_CELLS) ? 8 + 16L * (long)a->ncells : 0) +
               ((a->flags & TRONMSG_F_STAT) ? 8 : 0);
    default:
        return -1;
    }
}

blob_t *tronmsg_encode_res(uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count,
                           char *err, size_t errlen) {
    if (n == 0 || n > TRONMSG_MAX_N || m > n || count > UINT32_MAX) {
        snprintf(err, errlen, "tron result: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 12;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        if (check_item(a->op, a->cls, n, err, errlen) < 0) return NULL;
        if (((a->op == TRONMSG_GRAD || a->op == TRONMSG_FUNGRAD) && (!a->g || !a->diag)) ||
            (a->op == TRONMSG_HV && !a->hv) ||
            (a->op == TRONMSG_COUNT && (!a->pos || ((a->flags & TRONMSG_F_COLUMNS) && !a->cols))) ||
            (a->op == TRONMSG_PRED && a->text_len && !a->text) ||
            (a->op == TRONMSG_PRED && (a->flags & TRONMSG_F_CELLS) && a->ncells && !a->cells)) {
            snprintf(err, errlen, "tron result: answer %zu lacks its data", i);
            return NULL;
        }
        len += ITEM_HEAD + (size_t)ans_bytes(a, n, m);
    }
    buf_t b = {0};
    buf_grow(&b, len);
    buf_put_u32(&b, TRONMSG_RES_MAGIC);
    buf_put_u32(&b, n);
    buf_put_u32(&b, m);
    buf_put_u32(&b, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        buf_put_u32(&b, a->cls);
        buf_put_u32(&b, a->fold);
        buf_put_u32(&b, a->op);
        buf_put_u32(&b, a->flags);
        switch (a->op) {
        case TRONMSG_FUN:
            buf_put_f64(&b, a->f);
            break;
        case TRONMSG_FUNGRAD:
            buf_put_f64(&b, a->f);
            /* fall through */
        case TRONMSG_GRAD:
            put_vec(&b, a->g, m);
            put_vec(&b, a->diag, m);
            break;
        case TRONMSG_HV:
            put_vec(&b, a->hv, m);
            break;
        case TRONMSG_COUNT:
            buf_put_u64(&b, a->rows);
            for (uint32_t k = 0; k < a->cls; k++)
                buf_put_u64(&b, a->pos[k]);
            for (size_t k = 0; (a->flags & TRONMSG_F_COLUMNS) && k < colset_words(n); k++)
                buf_put_u64(&b, a->cols[k]);
            if (a->flags & TRONMSG_F_STAT) buf_put_f64(&b, a->f);
            break;
        case TRONMSG_PRED:
            buf_put_u64(&b, a->rows);
            buf_put_u64(&b, a->correct);
            buf_put_u64(&b, a->text_len);
            buf_put(&b, a->text, a->text_len);
            if (a->flags & TRONMSG_F_CELLS) {
                buf_put_u64(&b, a->ncells);
                for (size_t c = 0; c < a->ncells; c++) {
                    buf_put_u32(&b, (uint32_t)a->cells[3 * c]);
                    buf_put_u32(&b, (uint32_t)a->cells[3 * c + 1]);
                    buf_put_u64(&b, a->cells[3 * c + 2]);
                }
            }
            if (a->flags & TRONMSG_F_STAT) buf_put_f64(&b, a->f);
            break;
        }
    }
    return blob_from_buf(&b, "tron result", err, errlen);
}

/* The layout of a Newton answer in a result: f first (FUN, FUNGRAD), then
 * its vector doubles (g and diag, or hv), as ans_bytes() counts them. */
static bool has_f(uint32_t op) {
    return op == TRONMSG_FUN || op == TRONMSG_FUNGRAD;
}

static size_t vec_doubles(uint32_t op, uint32_t m) {
    return op == TRONMSG_HV ? m : op == TRONMSG_FUN ? 0 : 2 * (size_t)m;
}

blob_t *tronmsg_res_begin(uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count,
                          double **vec, char *err, size_t errlen) {
    if (n == 0 || n > TRONMSG_MAX_N || m > n || count > UINT32_MAX) {
        snprintf(err, errlen, "tron result: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 16;
    for (size_t i = 0; i < count; i++) {
        if (!vector_op(ans[i].op) || check_item(ans[i].op, ans[i].cls, n, err, errlen) < 0) {
            snprintf(err, errlen, "tron result: answer %zu is not built in place", i);
            return NULL;
        }
        len += ITEM_HEAD + (size_t)ans_bytes(&ans[i], n, m);
    }
    blob_t *b = blob_new(len);
    if (!b) {
        snprintf(err, errlen, "out of memory for a tron result");
        return NULL;
    }
    uint8_t *p = (uint8_t *)b->data + 16;
    for (size_t i = 0; i < count; i++) {
        uint32_t op = ans[i].op;
        size_t nv = vec_doubles(op, m);
        p += ITEM_HEAD + (has_f(op) ? 8 : 0);
        /* malloc'd blob, and every field before is a multiple of 8 bytes */
        vec[i] = nv ? (double *)(void *)p : NULL;
        if (nv) memset(p, 0, 8 * nv);
        p += 8 * nv;
    }
    return b;
}

void tronmsg_res_seal(blob_t *b, uint32_t n, uint32_t m, const tronmsg_ans_t *ans, size_t count) {
    uint8_t *p = b->data;
    proto_put_u32(p, TRONMSG_RES_MAGIC);
    proto_put_u32(p + 4, n);
    proto_put_u32(p + 8, m);
    proto_put_u32(p + 12, (uint32_t)count);
    p += 16;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        proto_put_u32(p, a->cls);
        proto_put_u32(p + 4, a->fold);
        proto_put_u32(p + 8, a->op);
        proto_put_u32(p + 12, a->flags);
        p += ITEM_HEAD;
        if (has_f(a->op)) {
            proto_put_f64(p, a->f);
            p += 8;
        }
        size_t nv = vec_doubles(a->op, m);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        for (size_t k = 0; k < nv; k++) { /* the wire is little-endian */
            double v;
            memcpy(&v, p + 8 * k, 8);
            proto_put_f64(p + 8 * k, v);
        }
#endif
        p += 8 * nv;
    }
}

/* Whether the vectors of a GRAD, FUNGRAD or HV answer whose payload starts
 * at the reader's position can be used in place (borrowed): a little-endian
 * host and an 8-byte aligned address (FUNGRAD's come after its f). */
static bool can_borrow(const bufrd_t *r, bool borrow, uint32_t op) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    size_t at = op == TRONMSG_FUNGRAD ? 8 : 0;
    return borrow && (op == TRONMSG_GRAD || op == TRONMSG_HV || op == TRONMSG_FUNGRAD) &&
           ((uintptr_t)(r->p + r->pos + at) % sizeof(double)) == 0;
#else
    (void)r, (void)borrow, (void)op;
    return false;
#endif
}

/* First pass over a result's answers: checks every answer and that the
 * message ends with the last one. */

static int res_answers_check(bufrd_t r, uint32_t n, uint32_t m, uint32_t count, bool borrow,
                             size_t *store, char *err, size_t errlen) {
    *store = 8;
    for (uint32_t i = 0; i < count; i++) {
        if (bufrd_left(&r) < ITEM_HEAD) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
        tronmsg_ans_t a = {.cls = bufrd_u32(&r)};
        bufrd_u32(&r); /* fold */
        a.op = bufrd_u32(&r);
        a.flags = bufrd_u32(&r);
        if (check_item(a.op, a.cls, n, err, errlen) < 0) return -1;
        if (a.op == TRONMSG_PRED) {
            if (bufrd_left(&r) < 24) {
                snprintf(err, errlen, "tron result: answer %u truncated", i);
                return -1;
            }
            bufrd_t at_len = r;
            bufrd_take(&at_len, 16);
            uint64_t tl = bufrd_u64(&at_len);
            if (tl > bufrd_left(&r) - 24) {
                snprintf(err, errlen, "tron result: answer %u text truncated", i);
                return -1;
            }
            a.text_len = (size_t)tl;
            if (a.flags & TRONMSG_F_CELLS) {
                size_t after = bufrd_left(&r) - 24 - a.text_len;
                bufrd_take(&at_len, a.text_len);
                uint64_t nc = after >= 8 ? bufrd_u64(&at_len) : 0;
                if (after < 8 || nc > (after - 8) / 16) {
                    snprintf(err, errlen, "tron result: answer %u cells truncated", i);
                    return -1;
                }
                a.ncells = (size_t)nc;
                *store += 8 * a.ncells; /* kept as three u64s a cell, sent in 16 bytes */
            }
        }
        size_t k = (size_t)ans_bytes(&a, n, m);
        if (k > bufrd_left(&r)) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
        if (!can_borrow(&r, borrow, a.op)) *store += k + 8;
        bufrd_take(&r, k);
    }
    if (bufrd_left(&r) != 0) {
        snprintf(err, errlen, "tron result: %zu trailing bytes", bufrd_left(&r));
        return -1;
    }
    return 0;
}

/* Reads the payload of answer a (whose head was read) into the store at
 * *st, which res_answers_check() has sized; advances *st. */
static void res_payload(bufrd_t *r, tronmsg_ans_t *a, uint32_t n, uint32_t m, bool borrow,
                        uint8_t **st) {
    if (can_borrow(r, borrow, a->op)) {
        if (a->op == TRONMSG_FUNGRAD) a->f = bufrd_f64(r);
        const double *v = (const double *)(const void *)bufrd_take(
            r, 8 * (size_t)m * (a->op == TRONMSG_HV ? 1 : 2));
        if (a->op == TRONMSG_HV)
            a->hv = v;
        else
            a->g = v, a->diag = v + m;
        return;
    }
    switch (a->op) {
    case TRONMSG_FUN:
        a->f = bufrd_f64(r);
        break;
    case TRONMSG_FUNGRAD:
        a->f = bufrd_f64(r);
        /* fall through */
    case TRONMSG_GRAD: {
        double *g = (double *)(void *)*st;
        get_vec(r, g, 2 * (size_t)m);
        a->g = g;
        a->diag = g + m;
        *st += 16 * (size_t)m;
        break;
    }
    case TRONMSG_HV: {
        double *h = (double *)(void *)*st;
        get_vec(r, h, m);
        a->hv = h;
        *st += 8 * (size_t)m;
        break;
    }
    case TRONMSG_COUNT: {
        uint64_t *pos = (uint64_t *)(void *)*st;
        a->rows = bufrd_u64(r);
        for (uint32_t k = 0; k < a->cls; k++)
            pos[k] = bufrd_u64(r);
        a->pos = pos;
        *st += 8 * (size_t)a->cls;
        if (a->flags & TRONMSG_F_COLUMNS) {
            uint64_t *cols = (uint64_t *)(void *)*st;
            for (size_t k = 0; k < colset_words(n); k++)
                cols[k] = bufrd_u64(r);
            a->cols = cols;
            *st += 8 * colset_words(n);
        }
        if (a->flags & TRONMSG_F_STAT) a->f = bufrd_f64(r);
        break;
    }
    case TRONMSG_PRED: {
        a->rows = bufrd_u64(r);
        a->correct = bufrd_u64(r);
        a->text_len = (size_t)bufrd_u64(r);
        const uint8_t *t = bufrd_take(r, a->text_len);
        if (t && a->text_len) memcpy(*st, t, a->text_len);
        a->text = (const char *)*st;
        *st += (a->text_len + 7) & ~(size_t)7;
        if (a->flags & TRONMSG_F_CELLS) {
            a->ncells = (size_t)bufrd_u64(r);
            uint64_t *cells = (uint64_t *)(void *)*st;
            for (size_t c = 0; c < a->ncells; c++) {
                cells[3 * c] = bufrd_u32(r);
                cells[3 * c + 1] = bufrd_u32(r);
                cells[3 * c + 2] = bufrd_u64(r);
            }
            a->cells = cells;
            *st += 24 * a->ncells;
        }
        if (a->flags & TRONMSG_F_STAT) a->f = bufrd_f64(r);
        break;
    }
    }
}

static int decode_res(const void *buf, size_t len, bool borrow, tronmsg_res_t *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t magic = bufrd_u32(&r), n = bufrd_u32(&r), m = bufrd_u32(&r), count = bufrd_u32(&r);
    if (r.bad || magic != TRONMSG_RES_MAGIC) {
        snprintf(err, errlen, "tron result: bad magic or %zu bytes is too short", len);
        return -1;
    }
    if (n == 0 || n > TRONMSG_MAX_N || m > n) {
        snprintf(err, errlen, "tron result: n=%u m=%u out of range", n, m);
        return -1;
    }
    if ((size_t)count > bufrd_left(&r) / ITEM_HEAD) {
        snprintf(err, errlen, "tron result: %u answers cannot fit in %zu bytes", count, len);
        return -1;
    }
    /* Doubles, u64s and text bytes all fit in the received length, so the
     * store is at most len bytes (plus alignment). */
    size_t store;
    if (res_answers_check(r, n, m, count, borrow, &store, err, errlen) < 0) return -1;
    out->ans = calloc(count ? count : 1, sizeof *out->ans);
    /* 8-byte aligned store big enough for every payload not borrowed */
    out->store = malloc(store);
    if (!out->ans || !out->store) {
        tronmsg_res_free(out);
        snprintf(err, errlen, "out of memory for a tron result");
        return -1;
    }
    out->n = n;
    out->m = m;
    out->count = count;
    uint8_t *st = out->store;
    for (uint32_t i = 0; i < count; i++) {
        tronmsg_ans_t *a = &out->ans[i];
        a->cls = bufrd_u32(&r);
        a->fold = bufrd_u32(&r);
        a->op = bufrd_u32(&r);
        a->flags = bufrd_u32(&r);
        res_payload(&r, a, n, m, borrow, &st);
    }
    return 0;
}

int tronmsg_decode_res(const void *buf, size_t len, tronmsg_res_t *out, char *err, size_t errlen) {
    return decode_res(buf, len, false, out, err, errlen);
}

int tronmsg_decode_res_view(const void *buf, size_t len, tronmsg_res_t *out, char *err,
                            size_t errlen) {
    return decode_res(buf, len, true, out, err, errlen);
}

void tronmsg_res_free(tronmsg_res_t *r) {
    if (!r) return;
    free(r->ans);
    free(r->store);
    memset(r, 0, sizeof *r);
}
