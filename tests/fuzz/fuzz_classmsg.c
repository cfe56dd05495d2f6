/* libFuzzer target: the OP_CLASSES codec, both directions of untrusted bytes:
 * the request a worker decodes (first byte even) and the result the master
 * decodes (odd). What decodes must encode again to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "common/classmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        classmsg_res_t r;
        if (classmsg_decode_res(p, len, &r, err, sizeof err) != 0) return 0;
        blob_t *b = classmsg_encode_res(r.n, r.ans, r.count, err, sizeof err);
        if (!b || b->len != len || memcmp(b->data, p, len) != 0) abort();
        blob_unref(&b);
        classmsg_res_free(&r);
    } else {
        classmsg_req_t r;
        if (classmsg_decode_req(p, len, &r, err, sizeof err) != 0) return 0;
        blob_t *b = classmsg_encode_req(r.n, r.cls, r.count, err, sizeof err);
        if (!b || b->len != len || memcmp(b->data, p, len) != 0) abort();
        blob_unref(&b);
        classmsg_req_free(&r);
    }
    return 0;
}
