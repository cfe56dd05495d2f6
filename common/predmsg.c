#include "common/predmsg.h"

#include "common/buf.h"
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int predmsg_enc_init(predmsg_enc_t *e, uint32_t nr_class, bool prob, uint64_t first_row,
                     size_t rows_hint) {
    memset(e, 0, sizeof *e);
    if (nr_class < 1 || nr_class > PREDMSG_MAX_CLASS) return -1;
    e->nr_class = nr_class;
    e->prob = prob;
    size_t per_row = 8 + 2 + 16 + (prob ? 8 * (size_t)nr_class : 0);
    size_t want = PREDMSG_HEADER;
    if (rows_hint > 0 && rows_hint < (SIZE_MAX / 4) / per_row) want += rows_hint * per_row;
    if (buf_grow(&e->out, want) < 0) return -1;
    buf_put(&e->out, "PM", 2);
    buf_put_u8(&e->out, PREDMSG_VERSION);
    buf_put_u8(&e->out, prob ? PREDMSG_F_PROB : 0);
    buf_put_u32(&e->out, nr_class);
    buf_put_u64(&e->out, first_row);
    buf_put_u32(&e->out, 0); /* rows, set by predmsg_enc_finish */
    buf_put_u32(&e->out, 0);
    return 0;
}

int predmsg_enc_add(predmsg_enc_t *e, int32_t pred, int32_t truth, const double *prob,
                    const char *id, size_t idlen) {
    if (!e->out.p || pred < 0 || (uint32_t)pred >= e->nr_class || truth < -1 ||
        e->rows == UINT32_MAX)
        return -1;
    if (idlen > PREDMSG_MAX_ID) idlen = PREDMSG_MAX_ID;
    size_t need = 8 + (e->prob ? 8 * (size_t)e->nr_class : 0) + 2 + idlen;
    if (buf_grow(&e->out, need) < 0) return -1;
    buf_put_u32(&e->out, (uint32_t)pred);
    buf_put_u32(&e->out, (uint32_t)truth);
    if (e->prob) {
        for (uint32_t k = 0; k < e->nr_class; k++)
            buf_put_f64(&e->out, prob[k]);
    }
    buf_put_u16(&e->out, (uint16_t)idlen);
    buf_put(&e->out, id, idlen);
    e->rows++;
    return 0;
}

blob_t *predmsg_enc_finish(predmsg_enc_t *e) {
    if (!e->out.p) return NULL;
    buf_set_u32(&e->out, 16, e->rows);
    size_t len;
    uint8_t *p = buf_detach(&e->out, &len);
    blob_t *b = p ? blob_wrap(p, len) : NULL;
    if (!b) free(p);
    memset(e, 0, sizeof *e);
    return b;
}

void predmsg_enc_free(predmsg_enc_t *e) {
    buf_free(&e->out);
    memset(e, 0, sizeof *e);
}

/* Reads one row's fixed part and id; the caller checks r->bad. */
static void predmsg_read_row(bufrd_t *r, uint32_t nr_class, bool prob, predmsg_row_t *row) {
    row->pred = (int32_t)bufrd_u32(r);
    row->truth = (int32_t)bufrd_u32(r);
    row->prob = prob ? bufrd_take(r, 8 * (size_t)nr_class) : NULL;
    row->idlen = bufrd_u16(r);
    row->id = NULL;
    if (row->idlen > PREDMSG_MAX_ID)
        r->bad = true;
    else if (row->idlen)
        row->id = (const char *)bufrd_take(r, row->idlen);
}

int predmsg_open(predmsg_t *m, const void *buf, size_t len, uint32_t max_truth, char *err,
                 size_t errlen) {
    memset(m, 0, sizeof *m);
    bufrd_t r = bufrd_init(buf, len);
    const uint8_t *magic = bufrd_take(&r, 4);
    uint32_t nr_class = bufrd_u32(&r);
    uint64_t first_row = bufrd_u64(&r);
    uint32_t rows = bufrd_u32(&r), reserved = bufrd_u32(&r);
    if (r.bad) {
        snprintf(err, errlen, "prediction result: %zu bytes, shorter than its header", len);
        return -1;
    }
    if (magic[0] != 'P' || magic[1] != 'M' || magic[2] != PREDMSG_VERSION ||
        (magic[3] & ~PREDMSG_F_PROB)) {
        snprintf(err, errlen, "prediction result: bad magic, version or flags");
        return -1;
    }
    if (nr_class < 1 || nr_class > PREDMSG_MAX_CLASS || reserved != 0) {
        snprintf(err, errlen, "prediction result: class count %u out of range", nr_class);
        return -1;
    }
    bool prob = magic[3] & PREDMSG_F_PROB;
    bufrd_t rows_at = r;
    /* Walk every row once so that predmsg_next() never meets a bad row. */
    for (uint32_t i = 0; i < rows; i++) {
        predmsg_row_t row;
        size_t fixed = 8 + (prob ? 8 * (size_t)nr_class : 0) + 2;
        if (bufrd_left(&r) < fixed) {
            snprintf(err, errlen, "prediction result: truncated at row %u of %u", i, rows);
            return -1;
        }
        predmsg_read_row(&r, nr_class, prob, &row);
        if (row.pred < 0 || (uint32_t)row.pred >= nr_class || row.truth < -1 ||
            (row.truth >= 0 && (uint32_t)row.truth >= max_truth)) {
            snprintf(err, errlen, "prediction result: row %u: class %d or label %d out of range", i,
                     row.pred, row.truth);
            return -1;
        }
        if (r.bad) {
            snprintf(err, errlen, "prediction result: row %u: bad id length %zu", i, row.idlen);
            return -1;
        }
    }
    if (bufrd_left(&r) != 0) {
        snprintf(err, errlen, "prediction result: %zu trailing bytes", bufrd_left(&r));
        return -1;
    }
    m->nr_class = nr_class;
    m->rows = rows;
    m->prob = prob;
    m->first_row = first_row;
    m->rd = rows_at;
    m->left = rows;
    return 0;
}

int predmsg_next(predmsg_t *m, predmsg_row_t *row) {
    if (m->left == 0) return 0;
    predmsg_read_row(&m->rd, m->nr_class, m->prob, row);
    m->left--;
    return 1;
}

double predmsg_prob(const predmsg_row_t *row, uint32_t k) {
    return proto_get_f64(row->prob + 8 * (size_t)k);
}

blob_t *predmsg_req_encode(const predmsg_req_t *r) {
    buf_t b = {0};
    buf_put_u64(&b, r->first_row);
    buf_put_u64(&b, r->first_line);
    size_t len;
    uint8_t *p = buf_detach(&b, &len);
    blob_t *out = p ? blob_wrap(p, len) : NULL;
    if (!out) free(p);
    return out;
}

int predmsg_req_decode(const void *buf, size_t len, predmsg_req_t *r) {
    bufrd_t rd = bufrd_init(buf, len);
    r->first_row = bufrd_u64(&rd);
    r->first_line = bufrd_u64(&rd);
    return !bufrd_done(&rd) || r->first_line == 0 ? -1 : 0;
}
