#include "common/tronmsg.h"

#include "common/buf.h"
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_HEAD 16 /* cls, fold, op, flags */

/* Number of request doubles an item carries; -1 for an unknown op. */
static long req_doubles(uint32_t op, uint32_t cls, uint32_t n) {
    switch (op) {
    case TRONMSG_FUN:
    case TRONMSG_GRAD:
        return (long)n;
    case TRONMSG_HV:
        return 2L * (long)n;
    case TRONMSG_PRED:
        return (long)n * (long)cls;
    case TRONMSG_COUNT:
        return 0;
    default:
        return -1;
    }
}

static int check_item(uint32_t op, uint32_t cls, uint32_t n, char *err, size_t errlen) {
    if (req_doubles(op, cls, n) < 0) {
        snprintf(err, errlen, "tron message: unknown item op %u", op);
        return -1;
    }
    if ((op == TRONMSG_PRED || op == TRONMSG_COUNT) && (cls == 0 || cls > TRONMSG_MAX_CLS)) {
        snprintf(err, errlen, "tron message: %u classes out of range", cls);
        return -1;
    }
    if ((op == TRONMSG_FUN || op == TRONMSG_GRAD || op == TRONMSG_HV) && cls >= TRONMSG_MAX_CLS) {
        snprintf(err, errlen, "tron message: class %u out of range", cls);
        return -1;
    }
    return 0;
}

/* Vectors are long: written in place rather than a put per double. */
static void put_vec(buf_t *b, const double *v, size_t k) {
    uint8_t *p = buf_extend(b, 8 * k);
    for (size_t i = 0; p && i < k; i++, p += 8)
        proto_put_f64(p, v[i]);
}

/* The blob of a finished message, or NULL (with err) when b failed. */
static blob_t *finish(buf_t *b, const char *what, char *err, size_t errlen) {
    size_t len;
    uint8_t *p = buf_detach(b, &len);
    blob_t *out = p ? blob_wrap(p, len) : NULL;
    if (!out) {
        free(p);
        snprintf(err, errlen, "out of memory for a %s", what);
    }
    return out;
}

blob_t *tronmsg_encode_req(uint32_t n, uint32_t folds, const tronmsg_shard_t *shards,
                           size_t nshards, const tronmsg_item_t *items, size_t count, char *err,
                           size_t errlen) {
    if (n == 0 || n > TRONMSG_MAX_N || count > UINT32_MAX || nshards > UINT32_MAX ||
        (nshards && !shards)) {
        snprintf(err, errlen, "tron message: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 20 + 16 * nshards;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        if (check_item(it->op, it->cls, n, err, errlen) < 0) return NULL;
        long k = req_doubles(it->op, it->cls, n);
        if ((k > 0 && !it->w) || (it->op == TRONMSG_HV && !it->s)) {
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
    buf_put_u32(&b, (uint32_t)nshards);
    for (size_t i = 0; i < nshards; i++) {
        buf_put_u64(&b, shards[i].first_row);
        buf_put_u64(&b, shards[i].first_line);
    }
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        buf_put_u32(&b, it->cls);
        buf_put_u32(&b, it->fold);
        buf_put_u32(&b, it->op);
        buf_put_u32(&b, it->flags);
        buf_put_u64(&b, it->point);
        if (it->op == TRONMSG_HV) {
            put_vec(&b, it->w, n);
            put_vec(&b, it->s, n);
        } else if (it->op != TRONMSG_COUNT) {
            put_vec(&b, it->w, (size_t)req_doubles(it->op, it->cls, n));
        }
    }
    return finish(&b, "tron request", err, errlen);
}

/* Reads k doubles into dst; a short reader leaves dst alone and turns bad. */
static void get_vec(bufrd_t *r, double *dst, size_t k) {
    const uint8_t *p = bufrd_take(r, 8 * k);
    for (size_t i = 0; p && i < k; i++, p += 8)
        dst[i] = proto_get_f64(p);
}

/* First pass over a request's items: checks every item and that the
 * message ends with the last one; *ndoubles gets the doubles they carry. */
static int req_items_check(bufrd_t r, uint32_t n, uint32_t count, size_t *ndoubles, char *err,
                           size_t errlen) {
    *ndoubles = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (bufrd_left(&r) < ITEM_HEAD + 8) {
            snprintf(err, errlen, "tron request: item %u truncated", i);
            return -1;
        }
        uint32_t cls = bufrd_u32(&r);
        bufrd_u32(&r); /* fold */
        uint32_t op = bufrd_u32(&r);
        bufrd_take(&r, 12); /* flags, point */
        if (check_item(op, cls, n, err, errlen) < 0) return -1;
        size_t k = (size_t)req_doubles(op, cls, n);
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
    bufrd_t shards_at = r;
    bufrd_take(&r, 16 * (size_t)nshards);
    /* Each item takes at least 24 bytes, which bounds count by what arrived. */
    if ((size_t)count > bufrd_left(&r) / (ITEM_HEAD + 8)) {
        snprintf(err, errlen, "tron request: %u items cannot fit in %zu bytes", count, len);
        return -1;
    }
    size_t ndoubles;
    if (req_items_check(r, n, count, &ndoubles, err, errlen) < 0) return -1;
    out->items = calloc(count ? count : 1, sizeof *out->items);
    out->store = malloc((ndoubles ? ndoubles : 1) * sizeof(double));
    out->shards = calloc(nshards ? nshards : 1, sizeof *out->shards);
    if (!out->items || !out->store || !out->shards) {
        tronmsg_req_free(out);
        snprintf(err, errlen, "out of memory for a tron request");
        return -1;
    }
    out->n = n;
    out->folds = folds;
    out->count = count;
    out->nshards = nshards;
    for (uint32_t i = 0; i < nshards; i++) {
        out->shards[i].first_row = bufrd_u64(&shards_at);
        out->shards[i].first_line = bufrd_u64(&shards_at);
    }
    double *d = out->store;
    for (uint32_t i = 0; i < count; i++) {
        tronmsg_item_t *it = &out->items[i];
        it->cls = bufrd_u32(&r);
        it->fold = bufrd_u32(&r);
        it->op = bufrd_u32(&r);
        it->flags = bufrd_u32(&r);
        it->point = bufrd_u64(&r);
        size_t k = (size_t)req_doubles(it->op, it->cls, n);
        if (k) {
            get_vec(&r, d, k);
            it->w = d;
            if (it->op == TRONMSG_HV) it->s = d + n;
            d += k;
        }
    }
    return 0;
}

void tronmsg_req_free(tronmsg_req_t *r) {
    if (!r) return;
    free(r->items);
    free(r->store);
    free(r->shards);
    memset(r, 0, sizeof *r);
}

/* Bytes of an answer's payload after its 16-byte head; -1 for an unknown op. */
static long ans_bytes(const tronmsg_ans_t *a, uint32_t n) {
    switch (a->op) {
    case TRONMSG_FUN:
        return 8;
    case TRONMSG_GRAD:
        return 16L * (long)n;
    case TRONMSG_HV:
        return 8L * (long)n;
    case TRONMSG_COUNT:
        return 8 + 8L * (long)a->cls;
    case TRONMSG_PRED:
        return 24 + (long)a->text_len;
    default:
        return -1;
    }
}

blob_t *tronmsg_encode_res(uint32_t n, const tronmsg_ans_t *ans, size_t count, char *err,
                           size_t errlen) {
    if (n == 0 || n > TRONMSG_MAX_N || count > UINT32_MAX) {
        snprintf(err, errlen, "tron result: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 12;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        if (check_item(a->op, a->cls, n, err, errlen) < 0) return NULL;
        if ((a->op == TRONMSG_GRAD && (!a->g || !a->diag)) || (a->op == TRONMSG_HV && !a->hv) ||
            (a->op == TRONMSG_COUNT && !a->pos) ||
            (a->op == TRONMSG_PRED && a->text_len && !a->text)) {
            snprintf(err, errlen, "tron result: answer %zu lacks its data", i);
            return NULL;
        }
        len += ITEM_HEAD + (size_t)ans_bytes(a, n);
    }
    buf_t b = {0};
    buf_grow(&b, len);
    buf_put_u32(&b, TRONMSG_RES_MAGIC);
    buf_put_u32(&b, n);
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
        case TRONMSG_GRAD:
            put_vec(&b, a->g, n);
            put_vec(&b, a->diag, n);
            break;
        case TRONMSG_HV:
            put_vec(&b, a->hv, n);
            break;
        case TRONMSG_COUNT:
            buf_put_u64(&b, a->rows);
            for (uint32_t k = 0; k < a->cls; k++)
                buf_put_u64(&b, a->pos[k]);
            break;
        case TRONMSG_PRED:
            buf_put_u64(&b, a->rows);
            buf_put_u64(&b, a->correct);
            buf_put_u64(&b, a->text_len);
            buf_put(&b, a->text, a->text_len);
            break;
        }
    }
    return finish(&b, "tron result", err, errlen);
}

/* First pass over a result's answers: checks every answer and that the
 * message ends with the last one. */
static int res_answers_check(bufrd_t r, uint32_t n, uint32_t count, char *err, size_t errlen) {
    for (uint32_t i = 0; i < count; i++) {
        if (bufrd_left(&r) < ITEM_HEAD) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
        tronmsg_ans_t a = {.cls = bufrd_u32(&r)};
        bufrd_u32(&r); /* fold */
        a.op = bufrd_u32(&r);
        bufrd_u32(&r); /* flags */
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
        }
        size_t k = (size_t)ans_bytes(&a, n);
        if (k > bufrd_left(&r)) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
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
static void res_payload(bufrd_t *r, tronmsg_ans_t *a, uint32_t n, uint8_t **st) {
    switch (a->op) {
    case TRONMSG_FUN:
        a->f = bufrd_f64(r);
        break;
    case TRONMSG_GRAD: {
        double *g = (double *)(void *)*st;
        get_vec(r, g, 2 * (size_t)n);
        a->g = g;
        a->diag = g + n;
        *st += 16 * (size_t)n;
        break;
    }
    case TRONMSG_HV: {
        double *h = (double *)(void *)*st;
        get_vec(r, h, n);
        a->hv = h;
        *st += 8 * (size_t)n;
        break;
    }
    case TRONMSG_COUNT: {
        uint64_t *pos = (uint64_t *)(void *)*st;
        a->rows = bufrd_u64(r);
        for (uint32_t k = 0; k < a->cls; k++)
            pos[k] = bufrd_u64(r);
        a->pos = pos;
        *st += 8 * (size_t)a->cls;
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
        break;
    }
    }
}

int tronmsg_decode_res(const void *buf, size_t len, tronmsg_res_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t magic = bufrd_u32(&r), n = bufrd_u32(&r), count = bufrd_u32(&r);
    if (r.bad || magic != TRONMSG_RES_MAGIC) {
        snprintf(err, errlen, "tron result: bad magic or %zu bytes is too short", len);
        return -1;
    }
    if (n == 0 || n > TRONMSG_MAX_N) {
        snprintf(err, errlen, "tron result: n=%u out of range", n);
        return -1;
    }
    if ((size_t)count > bufrd_left(&r) / ITEM_HEAD) {
        snprintf(err, errlen, "tron result: %u answers cannot fit in %zu bytes", count, len);
        return -1;
    }
    /* Doubles, u64s and text bytes all fit in the received length, so the
     * store is at most len bytes (plus alignment). */
    if (res_answers_check(r, n, count, err, errlen) < 0) return -1;
    out->ans = calloc(count ? count : 1, sizeof *out->ans);
    /* 8-byte aligned store big enough for every payload */
    out->store = malloc(len + 8 * (size_t)count + 8);
    if (!out->ans || !out->store) {
        tronmsg_res_free(out);
        snprintf(err, errlen, "out of memory for a tron result");
        return -1;
    }
    out->n = n;
    out->count = count;
    uint8_t *st = out->store;
    for (uint32_t i = 0; i < count; i++) {
        tronmsg_ans_t *a = &out->ans[i];
        a->cls = bufrd_u32(&r);
        a->fold = bufrd_u32(&r);
        a->op = bufrd_u32(&r);
        a->flags = bufrd_u32(&r);
        res_payload(&r, a, n, &st);
    }
    return 0;
}

void tronmsg_res_free(tronmsg_res_t *r) {
    if (!r) return;
    free(r->ans);
    free(r->store);
    memset(r, 0, sizeof *r);
}
