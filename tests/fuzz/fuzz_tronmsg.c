/* libFuzzer target: the OP_TRON codec, both directions of untrusted bytes:
 * the request a worker decodes and the result the master decodes. The first
 * byte picks which (even: request, odd: result). What decodes must re-encode
 * and decode again to the same shape. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "common/tronmsg.h"

static void request(const uint8_t *data, size_t size) {
    char err[512];
    tronmsg_req_t r, again;
    if (tronmsg_decode_req(data, size, &r, err, sizeof err) != 0) return;
    /* the decoded vectors are m long already: cols stays NULL */
    tronmsg_layout_t lay = {.shards = r.shards,
                            .nshards = r.nshards,
                            .group = r.group,
                            .ngroup = r.ngroup,
                            .compact = r.compact,
                            .m = r.m,
                            .hash = r.hash,
                            .wide = r.wide};
    blob_t *b = tronmsg_encode_req(r.n, r.folds, &lay, r.items, r.count, err, sizeof err);
    if (!b) abort();
    if (tronmsg_decode_req(b->data, b->len, &again, err, sizeof err) != 0) abort();
    if (again.count != r.count || again.n != r.n || again.nshards != r.nshards ||
        again.ngroup != r.ngroup || again.m != r.m || again.hash != r.hash ||
        again.wide != r.wide || b->len != size)
        abort();
    tronmsg_req_free(&again);
    blob_unref(&b);
    tronmsg_req_free(&r);
}

static void result(const uint8_t *data, size_t size) {
    char err[512];
    tronmsg_res_t r, again;
    if (tronmsg_decode_res(data, size, &r, err, sizeof err) != 0) return;
    /* the viewing decoder accepts the same bytes and reads the same numbers */
    tronmsg_res_t v;
    if (tronmsg_decode_res_view(data, size, &v, err, sizeof err) != 0 || v.count != r.count)
        abort();
    for (size_t i = 0; i < r.count; i++) {
        const tronmsg_ans_t *a = &r.ans[i], *b = &v.ans[i];
        size_t k = a->op == 2 ? 2 * (size_t)r.m : a->op == 3 ? r.m : 0;
        const double *x = a->op == 2 ? a->g : a->hv, *y = b->op == 2 ? b->g : b->hv;
        if (k && (memcmp(x, y, 8 * (a->op == 2 ? r.m : k)) != 0)) abort();
    }
    tronmsg_res_free(&v);
    blob_t *b = tronmsg_encode_res(r.n, r.m, r.ans, r.count, err, sizeof err);
    if (!b) abort();
    if (tronmsg_decode_res(b->data, b->len, &again, err, sizeof err) != 0) abort();
    if (again.count != r.count || again.n != r.n || again.m != r.m || b->len != size) abort();
    tronmsg_res_free(&again);
    blob_unref(&b);
    tronmsg_res_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 1)
        result(data + 1, size - 1);
    else
        request(data + 1, size - 1);
    return 0;
}
