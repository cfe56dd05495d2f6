/* libFuzzer target: the reduction tree's codec, every direction of untrusted
 * bytes: a NODE frame a worker decodes (first byte 0 mod 3), a PART a parent
 * or the master decodes (1 mod 3; what decodes must encode again to the same
 * bytes), and the sum of two answers a parent adds (2 mod 3: the rest split
 * in two at the second byte, each decoded as a COLS payload or a plain
 * tronmsg result; what adds must decode again). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "common/treemsg.h"
#include "common/tronmsg.h"

static void node(const uint8_t *p, size_t len) {
    char err[512];
    treemsg_node_t n;
    if (treemsg_decode_node(p, len, &n, err, sizeof err) != 0) return;
    blob_t *b = treemsg_encode_node(&n, err, sizeof err);
    if (!b || b->len != len || memcmp(b->data, p, len) != 0) abort();
    blob_unref(&b);
}

static void part(const uint8_t *p, size_t len) {
    char err[512];
    treemsg_part_t t;
    if (treemsg_decode_part(p, len, 2, &t, err, sizeof err) != 0) return;
    blob_t *b = treemsg_encode_part(t.round, t.to, t.from, t.nodes, t.cover, t.ncover, t.res,
                                    t.res_len, 2, err, sizeof err);
    if (!b || b->len != len || memcmp(b->data, p, len) != 0) abort();
    blob_unref(&b);
    treemsg_part_free(&t);
}

static void sum(const uint8_t *p, size_t len) {
    char err[512];
    if (len < 1) return;
    size_t cut = p[0] < len - 1 ? p[0] : len - 1;
    treemsg_cols_t c[2];
    if (treemsg_decode_cols(p + 1, cut, &c[0], err, sizeof err) != 0) return;
    if (treemsg_decode_cols(p + 1 + cut, len - 1 - cut, &c[1], err, sizeof err) == 0) {
        blob_t *b = treemsg_add(c, 2, err, sizeof err);
        treemsg_cols_t back;
        /* a sum decodes, over no more columns than the model has */
        if (b &&
            (treemsg_decode_cols(b->data, b->len, &back, err, sizeof err) != 0 || back.n != c[0].n))
            abort();
        if (b) treemsg_cols_free(&back);
        blob_unref(&b);
        treemsg_cols_free(&c[1]);
    }
    treemsg_cols_free(&c[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    switch (data[0] % 3) {
    case 0:
        node(data + 1, size - 1);
        break;
    case 1:
        part(data + 1, size - 1);
        break;
    default:
        sum(data + 1, size - 1);
        break;
    }
    return 0;
}
