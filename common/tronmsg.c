#include "common/tronmsg.h"

#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_HEAD 16 /* cls, fold, op, flags */

/* Number of request doubles an item carries; -1 for an unknown op. */
static long req_doubles(uint32_t op, uint32_t cls, uint32_t n)
{
    switch (op) {
    case TRONMSG_FUN:
    case TRONMSG_GRAD: return (long)n;
    case TRONMSG_HV: return 2L * (long)n;
    case TRONMSG_PRED: return (long)n * (long)cls;
    case TRONMSG_COUNT: return 0;
    default: return -1;
    }
}

static int check_item(uint32_t op, uint32_t cls, uint32_t n, char *err, size_t errlen)
{
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

static uint8_t *put_vec(uint8_t *p, const double *v, size_t k)
{
    for (size_t i = 0; i < k; i++, p += 8)
        proto_put_f64(p, v[i]);
    return p;
}

blob_t *tronmsg_encode_req(uint32_t n, uint32_t folds, const tronmsg_shard_t *shards,
                           size_t nshards, const tronmsg_item_t *items, size_t count, char *err,
                           size_t errlen)
{
    if (n == 0 || n > TRONMSG_MAX_N || count > UINT32_MAX || nshards > UINT32_MAX ||
        (nshards && !shards)) {
        snprintf(err, errlen, "tron message: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 20 + 16 * nshards;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        if (check_item(it->op, it->cls, n, err, errlen) < 0)
            return NULL;
        long k = req_doubles(it->op, it->cls, n);
        if ((k > 0 && !it->w) || (it->op == TRONMSG_HV && !it->s)) {
            snprintf(err, errlen, "tron message: item %zu lacks its vector", i);
            return NULL;
        }
        len += ITEM_HEAD + 8 + (size_t)k * 8;
    }
    blob_t *b = blob_new(len);
    if (!b) {
        snprintf(err, errlen, "out of memory for a %zu-byte tron request", len);
        return NULL;
    }
    uint8_t *p = b->data;
    proto_put_u32(p, TRONMSG_REQ_MAGIC);
    proto_put_u32(p + 4, n);
    proto_put_u32(p + 8, folds);
    proto_put_u32(p + 12, (uint32_t)count);
    proto_put_u32(p + 16, (uint32_t)nshards);
    p += 20;
    for (size_t i = 0; i < nshards; i++, p += 16) {
        proto_put_u64(p, shards[i].first_row);
        proto_put_u64(p + 8, shards[i].first_line);
    }
    for (size_t i = 0; i < count; i++) {
        const tronmsg_item_t *it = &items[i];
        proto_put_u32(p, it->cls);
        proto_put_u32(p + 4, it->fold);
        proto_put_u32(p + 8, it->op);
        proto_put_u32(p + 12, it->flags);
        proto_put_u64(p + 16, it->point);
        p += ITEM_HEAD + 8;
        if (it->op == TRONMSG_HV) {
            p = put_vec(p, it->w, n);
            p = put_vec(p, it->s, n);
        } else if (it->op != TRONMSG_COUNT) {
            p = put_vec(p, it->w, (size_t)req_doubles(it->op, it->cls, n));
        }
    }
    return b;
}

static void get_vec(double *dst, const uint8_t *p, size_t k)
{
    for (size_t i = 0; i < k; i++, p += 8)
        dst[i] = proto_get_f64(p);
}

int tronmsg_decode_req(const void *buf, size_t len, tronmsg_req_t *out, char *err, size_t errlen)
{
    const uint8_t *p = buf;
    memset(out, 0, sizeof *out);
    if (!buf || len < 20 || proto_get_u32(p) != TRONMSG_REQ_MAGIC) {
        snprintf(err, errlen, "tron request: bad magic or %zu bytes is too short", len);
        return -1;
    }
    uint32_t n = proto_get_u32(p + 4), folds = proto_get_u32(p + 8);
    uint32_t count = proto_get_u32(p + 12), nshards = proto_get_u32(p + 16);
    if (n == 0 || n > TRONMSG_MAX_N) {
        snprintf(err, errlen, "tron request: n=%u out of range", n);
        return -1;
    }
    if ((size_t)nshards > (len - 20) / 16) {
        snprintf(err, errlen, "tron request: %u shards cannot fit in %zu bytes", nshards, len);
        return -1;
    }
    size_t items_at = 20 + 16 * (size_t)nshards;
    /* Each item takes at least 24 bytes, which bounds count by what arrived. */
    if ((size_t)count > (len - items_at) / (ITEM_HEAD + 8)) {
        snprintf(err, errlen, "tron request: %u items cannot fit in %zu bytes", count, len);
        return -1;
    }
    /* First pass: validate the layout and size the store. */
    size_t off = items_at, ndoubles = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < ITEM_HEAD + 8) {
            snprintf(err, errlen, "tron request: item %u truncated", i);
            return -1;
        }
        uint32_t cls = proto_get_u32(p + off), op = proto_get_u32(p + off + 8);
        if (check_item(op, cls, n, err, errlen) < 0)
            return -1;
        off += ITEM_HEAD + 8;
        size_t k = (size_t)req_doubles(op, cls, n);
        if (k > (len - off) / 8) {
            snprintf(err, errlen, "tron request: item %u vector truncated", i);
            return -1;
        }
        off += k * 8;
        ndoubles += k;
    }
    if (off != len) {
        snprintf(err, errlen, "tron request: %zu trailing bytes", len - off);
        return -1;
    }
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
        out->shards[i].first_row = proto_get_u64(p + 20 + 16 * (size_t)i);
        out->shards[i].first_line = proto_get_u64(p + 28 + 16 * (size_t)i);
    }
    off = items_at;
    double *d = out->store;
    for (uint32_t i = 0; i < count; i++) {
        tronmsg_item_t *it = &out->items[i];
        it->cls = proto_get_u32(p + off);
        it->fold = proto_get_u32(p + off + 4);
        it->op = proto_get_u32(p + off + 8);
        it->flags = proto_get_u32(p + off + 12);
        it->point = proto_get_u64(p + off + 16);
        off += ITEM_HEAD + 8;
        size_t k = (size_t)req_doubles(it->op, it->cls, n);
        if (k) {
            get_vec(d, p + off, k);
            it->w = d;
            if (it->op == TRONMSG_HV)
                it->s = d + n;
            d += k;
            off += k * 8;
        }
    }
    return 0;
}

void tronmsg_req_free(tronmsg_req_t *r)
{
    if (!r)
        return;
    free(r->items);
    free(r->store);
    free(r->shards);
    memset(r, 0, sizeof *r);
}

/* Bytes of an answer's payload after its 16-byte head; -1 for an unknown op. */
static long ans_bytes(const tronmsg_ans_t *a, uint32_t n)
{
    switch (a->op) {
    case TRONMSG_FUN: return 8;
    case TRONMSG_GRAD: return 16L * (long)n;
    case TRONMSG_HV: return 8L * (long)n;
    case TRONMSG_COUNT: return 8 + 8L * (long)a->cls;
    case TRONMSG_PRED: return 24 + (long)a->text_len;
    default: return -1;
    }
}

blob_t *tronmsg_encode_res(uint32_t n, const tronmsg_ans_t *ans, size_t count, char *err,
                           size_t errlen)
{
    if (n == 0 || n > TRONMSG_MAX_N || count > UINT32_MAX) {
        snprintf(err, errlen, "tron result: bad size n=%u count=%zu", n, count);
        return NULL;
    }
    size_t len = 12;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        if (check_item(a->op, a->cls, n, err, errlen) < 0)
            return NULL;
        if ((a->op == TRONMSG_GRAD && (!a->g || !a->diag)) || (a->op == TRONMSG_HV && !a->hv) ||
            (a->op == TRONMSG_COUNT && !a->pos) || (a->op == TRONMSG_PRED && a->text_len && !a->text)) {
            snprintf(err, errlen, "tron result: answer %zu lacks its data", i);
            return NULL;
        }
        len += ITEM_HEAD + (size_t)ans_bytes(a, n);
    }
    blob_t *b = blob_new(len);
    if (!b) {
        snprintf(err, errlen, "out of memory for a %zu-byte tron result", len);
        return NULL;
    }
    uint8_t *p = b->data;
    proto_put_u32(p, TRONMSG_RES_MAGIC);
    proto_put_u32(p + 4, n);
    proto_put_u32(p + 8, (uint32_t)count);
    p += 12;
    for (size_t i = 0; i < count; i++) {
        const tronmsg_ans_t *a = &ans[i];
        proto_put_u32(p, a->cls);
        proto_put_u32(p + 4, a->fold);
        proto_put_u32(p + 8, a->op);
        proto_put_u32(p + 12, a->flags);
        p += ITEM_HEAD;
        switch (a->op) {
        case TRONMSG_FUN:
            proto_put_f64(p, a->f);
            p += 8;
            break;
        case TRONMSG_GRAD:
            p = put_vec(p, a->g, n);
            p = put_vec(p, a->diag, n);
            break;
        case TRONMSG_HV: p = put_vec(p, a->hv, n); break;
        case TRONMSG_COUNT:
            proto_put_u64(p, a->rows);
            p += 8;
            for (uint32_t k = 0; k < a->cls; k++, p += 8)
                proto_put_u64(p, a->pos[k]);
            break;
        case TRONMSG_PRED:
            proto_put_u64(p, a->rows);
            proto_put_u64(p + 8, a->correct);
            proto_put_u64(p + 16, a->text_len);
            p += 24;
            if (a->text_len)
                memcpy(p, a->text, a->text_len);
            p += a->text_len;
            break;
        }
    }
    return b;
}

int tronmsg_decode_res(const void *buf, size_t len, tronmsg_res_t *out, char *err, size_t errlen)
{
    const uint8_t *p = buf;
    memset(out, 0, sizeof *out);
    if (!buf || len < 12 || proto_get_u32(p) != TRONMSG_RES_MAGIC) {
        snprintf(err, errlen, "tron result: bad magic or %zu bytes is too short", len);
        return -1;
    }
    uint32_t n = proto_get_u32(p + 4), count = proto_get_u32(p + 8);
    if (n == 0 || n > TRONMSG_MAX_N) {
        snprintf(err, errlen, "tron result: n=%u out of range", n);
        return -1;
    }
    if ((size_t)count > (len - 12) / ITEM_HEAD) {
        snprintf(err, errlen, "tron result: %u answers cannot fit in %zu bytes", count, len);
        return -1;
    }
    /* First pass: validate and size the store (doubles, u64s and text bytes
     * all fit in the received length, so the store is at most len bytes). */
    size_t off = 12;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < ITEM_HEAD) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
        tronmsg_ans_t a = {.cls = proto_get_u32(p + off), .op = proto_get_u32(p + off + 8)};
        if (check_item(a.op, a.cls, n, err, errlen) < 0)
            return -1;
        off += ITEM_HEAD;
        if (a.op == TRONMSG_PRED) {
            if (len - off < 24) {
                snprintf(err, errlen, "tron result: answer %u truncated", i);
                return -1;
            }
            uint64_t tl = proto_get_u64(p + off + 16);
            if (tl > len - off - 24) {
                snprintf(err, errlen, "tron result: answer %u text truncated", i);
                return -1;
            }
            a.text_len = (size_t)tl;
        }
        size_t k = (size_t)ans_bytes(&a, n);
        if (k > len - off) {
            snprintf(err, errlen, "tron result: answer %u truncated", i);
            return -1;
        }
        off += k;
    }
    if (off != len) {
        snprintf(err, errlen, "tron result: %zu trailing bytes", len - off);
        return -1;
    }
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
    off = 12;
    uint8_t *st = out->store;
    for (uint32_t i = 0; i < count; i++) {
        tronmsg_ans_t *a = &out->ans[i];
        a->cls = proto_get_u32(p + off);
        a->fold = proto_get_u32(p + off + 4);
        a->op = proto_get_u32(p + off + 8);
        a->flags = proto_get_u32(p + off + 12);
        off += ITEM_HEAD;
        switch (a->op) {
        case TRONMSG_FUN:
            a->f = proto_get_f64(p + off);
            off += 8;
            break;
        case TRONMSG_GRAD: {
            double *g = (double *)(void *)st;
            get_vec(g, p + off, 2 * (size_t)n);
            a->g = g;
            a->diag = g + n;
            st += 16 * (size_t)n;
            off += 16 * (size_t)n;
            break;
        }
        case TRONMSG_HV: {
            double *h = (double *)(void *)st;
            get_vec(h, p + off, n);
            a->hv = h;
            st += 8 * (size_t)n;
            off += 8 * (size_t)n;
            break;
        }
        case TRONMSG_COUNT: {
            uint64_t *pos = (uint64_t *)(void *)st;
            a->rows = proto_get_u64(p + off);
            off += 8;
            for (uint32_t k = 0; k < a->cls; k++, off += 8)
                pos[k] = proto_get_u64(p + off);
            a->pos = pos;
            st += 8 * (size_t)a->cls;
            break;
        }
        case TRONMSG_PRED: {
            a->rows = proto_get_u64(p + off);
            a->correct = proto_get_u64(p + off + 8);
            a->text_len = (size_t)proto_get_u64(p + off + 16);
            off += 24;
            memcpy(st, p + off, a->text_len);
            a->text = (const char *)st;
            st += (a->text_len + 7) & ~(size_t)7;
            off += a->text_len;
            break;
        }
        }
    }
    return 0;
}

void tronmsg_res_free(tronmsg_res_t *r)
{
    if (!r)
        return;
    free(r->ans);
    free(r->store);
    memset(r, 0, sizeof *r);
}
