/* libFuzzer target: the OP_PREDICT codec. The task body a worker decodes
 * (predmsg_req_decode, the first 16 bytes) and the result the master decodes
 * (predmsg_open/next over the rest, max_truth from byte 16). predmsg_open
 * validates everything, so predmsg_next must then read every row; re-encoding
 * the rows must give a message that opens again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "common/predmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    predmsg_req_t q;
    if (predmsg_req_decode(data, size < PREDMSG_REQ_SIZE ? size : PREDMSG_REQ_SIZE, &q) == 0) {
        blob_t *b = predmsg_req_encode(&q);
        if (!b || b->len != PREDMSG_REQ_SIZE || memcmp(b->data, data, PREDMSG_REQ_SIZE) != 0)
            abort();
        blob_unref(&b);
    }
    if (size < PREDMSG_REQ_SIZE + 1) return 0;
    uint32_t max_truth = data[PREDMSG_REQ_SIZE];
    const uint8_t *p = data + PREDMSG_REQ_SIZE + 1;
    size_t len = size - PREDMSG_REQ_SIZE - 1;
    char err[512];
    predmsg_t m;
    if (predmsg_open(&m, p, len, max_truth, err, sizeof err) != 0) return 0;
    predmsg_enc_t e;
    if (predmsg_enc_init(&e, m.nr_class, m.prob, m.first_row, 0) != 0) abort();
    double *prob = calloc(m.nr_class ? m.nr_class : 1, sizeof *prob);
    if (!prob) abort();
    predmsg_row_t row;
    uint32_t n = 0;
    while (predmsg_next(&m, &row) == 1) {
        n++;
        if (row.prob)
            for (uint32_t k = 0; k < m.nr_class; k++)
                prob[k] = predmsg_prob(&row, k);
        if (predmsg_enc_add(&e, row.pred, row.truth, row.prob ? prob : NULL, row.id, row.idlen) !=
            0)
            abort();
    }
    if (n != m.rows) abort();
    free(prob);
    blob_t *b = predmsg_enc_finish(&e);
    if (!b) abort();
    predmsg_t again;
    if (predmsg_open(&again, b->data, b->len, max_truth, err, sizeof err) != 0 || again.rows != n)
        abort();
    blob_unref(&b);
    return 0;
}
