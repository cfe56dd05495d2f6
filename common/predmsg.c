#include "common/predmsg.h"

#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int enc_reserve(predmsg_enc_t *e, size_t more) {
    if (more > SIZE_MAX / 2 - e->len) return -1;
    if (e->len + more <= e->cap) return 0;
    size_t cap = e->cap ? e->cap : 256;
    while (cap < e->len + more)
        cap *= 2;
    uint8_t *nb = realloc(e->buf, cap);
    if (!nb) return -1;
    e->buf = nb;
    e->cap = cap;
    return 0;
}

int predmsg_enc_init(predmsg_enc_t *e, uint32_t nr_class, bool prob, uint64_t first_row,
                     size_t rows_hint) {
    memset(e, 0, sizeof *e);
    if (nr_class < 1 || nr_class > PREDMSG_MAX_CLASS) return -1;
    e->nr_class = nr_class;
    e->prob = prob;
    size_t per_row = 8 + 2 + 16 + (prob ? 8 * (size_t)nr_class : 0);
    size_t want = PREDMSG_HEADER;
    if (rows_hint > 0 && rows_hint < (SIZE_MAX / 4) / per_row) want += rows_hint * per_row;
    if (enc_reserve(e, want) < 0) return -1;
    uint8_t *h = e->buf;
    h[0] = 'P';
    h[1] = 'M';
    h[2] = PREDMSG_VERSION;
    h[3] = prob ? PREDMSG_F_PROB : 0;
    proto_put_u32(h + 4, nr_class);
    proto_put_u64(h + 8, first_row);
    proto_put_u32(h + 16, 0);
    proto_put_u32(h + 20, 0);
    e->len = PREDMSG_HEADER;
    return 0;
}

int predmsg_enc_add(predmsg_enc_t *e, int32_t pred, int32_t truth, const double *prob,
                    const char *id, size_t idlen) {
    if (!e->buf || pred < 0 || (uint32_t)pred >= e->nr_class || truth < -1 || e->rows == UINT32_MAX)
        return -1;
    if (idlen > PREDMSG_MAX_ID) idlen = PREDMSG_MAX_ID;
    size_t need = 8 + (e->prob ? 8 * (size_t)e->nr_class : 0) + 2 + idlen;
    if (enc_reserve(e, need) < 0) return -1;
    uint8_t *p = e->buf + e->len;
    proto_put_u32(p, (uint32_t)pred);
    proto_put_u32(p + 4, (uint32_t)truth);
    p += 8;
    if (e->prob) {
        for (uint32_t k = 0; k < e->nr_class; k++, p += 8)
            proto_put_f64(p, prob[k]);
    }
    p[0] = (uint8_t)(idlen & 0xff);
    p[1] = (uint8_t)(idlen >> 8);
    if (idlen) memcpy(p + 2, id, idlen);
    e->len += need;
    e->rows++;
    return 0;
}

blob_t *predmsg_enc_finish(predmsg_enc_t *e) {
    if (!e->buf) return NULL;
    proto_put_u32(e->buf + 16, e->rows);
    blob_t *b = blob_wrap(e->buf, e->len);
    if (!b) free(e->buf);
    memset(e, 0, sizeof *e);
    return b;
}

void predmsg_enc_free(predmsg_enc_t *e) {
    free(e->buf);
    memset(e, 0, sizeof *e);
}

int predmsg_open(predmsg_t *m, const void *buf, size_t len, uint32_t max_truth, char *err,
                 size_t errlen) {
    const uint8_t *b = buf;
    memset(m, 0, sizeof *m);
    if (!b || len < PREDMSG_HEADER) {
        snprintf(err, errlen, "prediction result: %zu bytes, shorter than its header", len);
        return -1;
    }
    if (b[0] != 'P' || b[1] != 'M' || b[2] != PREDMSG_VERSION || (b[3] & ~PREDMSG_F_PROB)) {
        snprintf(err, errlen, "prediction result: bad magic, version or flags");
        return -1;
    }
    uint32_t nr_class = proto_get_u32(b + 4);
    uint32_t rows = proto_get_u32(b + 16);
    if (nr_class < 1 || nr_class > PREDMSG_MAX_CLASS || proto_get_u32(b + 20) != 0) {
        snprintf(err, errlen, "prediction result: class count %u out of range", nr_class);
        return -1;
    }
    bool prob = b[3] & PREDMSG_F_PROB;
    size_t fixed = 8 + (prob ? 8 * (size_t)nr_class : 0) + 2;
    const uint8_t *p = b + PREDMSG_HEADER, *end = b + len;
    /* Walk every row once so that predmsg_next() never reads out of bounds. */
    for (uint32_t i = 0; i < rows; i++) {
        if ((size_t)(end - p) < fixed) {
            snprintf(err, errlen, "prediction result: truncated at row %u of %u", i, rows);
            return -1;
        }
        int32_t pred = (int32_t)proto_get_u32(p);
        int32_t truth = (int32_t)proto_get_u32(p + 4);
        if (pred < 0 || (uint32_t)pred >= nr_class || truth < -1 ||
            (truth >= 0 && (uint32_t)truth >= max_truth)) {
            snprintf(err, errlen, "prediction result: row %u: class %d or label %d out of range", i,
                     pred, truth);
            return -1;
        }
        size_t idlen = (size_t)p[fixed - 2] | ((size_t)p[fixed - 1] << 8);
        if (idlen > PREDMSG_MAX_ID || (size_t)(end - p) - fixed < idlen) {
            snprintf(err, errlen, "prediction result: row %u: bad id length %zu", i, idlen);
            return -1;
        }
        p += fixed + idlen;
    }
    if (p != end) {
        snprintf(err, errlen, "prediction result: %zu trailing bytes", (size_t)(end - p));
        return -1;
    }
    m->nr_class = nr_class;
    m->rows = rows;
    m->prob = prob;
    m->first_row = proto_get_u64(b + 8);
    m->pos = b + PREDMSG_HEADER;
    m->end = end;
    m->left = rows;
    return 0;
}

int predmsg_next(predmsg_t *m, predmsg_row_t *row) {
    if (m->left == 0) return 0;
    const uint8_t *p = m->pos;
    row->pred = (int32_t)proto_get_u32(p);
    row->truth = (int32_t)proto_get_u32(p + 4);
    p += 8;
    row->prob = m->prob ? p : NULL;
    if (m->prob) p += 8 * (size_t)m->nr_class;
    row->idlen = (size_t)p[0] | ((size_t)p[1] << 8);
    row->id = row->idlen ? (const char *)(p + 2) : NULL;
    m->pos = p + 2 + row->idlen;
    m->left--;
    return 1;
}

double predmsg_prob(const predmsg_row_t *row, uint32_t k) {
    return proto_get_f64(row->prob + 8 * (size_t)k);
}

blob_t *predmsg_req_encode(const predmsg_req_t *r) {
    blob_t *b = blob_new(PREDMSG_REQ_SIZE);
    if (b) {
        proto_put_u64(b->data, r->first_row);
        proto_put_u64((uint8_t *)b->data + 8, r->first_line);
    }
    return b;
}

int predmsg_req_decode(const void *buf, size_t len, predmsg_req_t *r) {
    if (!buf || len != PREDMSG_REQ_SIZE) return -1;
    r->first_row = proto_get_u64(buf);
    r->first_line = proto_get_u64((const uint8_t *)buf + 8);
    return r->first_line == 0 ? -1 : 0;
}
