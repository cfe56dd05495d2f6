/* libFuzzer target: the OP_EXPORT result codec, which the master decodes.
 * exportmsg_open validates everything: when it accepts, the text must be
 * exactly rows lines of the allowed bytes; rows made from the input by the
 * encoder must always open again with the same counts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "common/exportmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    exportmsg_t m;
    if (exportmsg_open(&m, data, size, err, sizeof err) == 0) {
        uint64_t lines = 0;
        for (size_t i = 0; i < m.text_len; i++)
            lines += m.text[i] == '\n';
        if (lines != m.rows || m.unlabelled > m.rows ||
            (m.text_len && m.text[m.text_len - 1] != '\n') || memchr(m.text, 0, m.text_len))
            abort();
    }
    /* Rows from the input's bytes: index steps and values, any double. */
    exportmsg_enc_t e;
    if (exportmsg_enc_init(&e, size) != 0) abort();
    struct feature_node x[9];
    uint64_t rows = 0, unl = 0;
    for (size_t off = 0; off + 8 <= size && rows < 64; off += 8, rows++) {
        int n = 0, idx = 0;
        for (size_t k = 0; k + 8 <= size - off && n < 8; k += 8, n++) {
            double v;
            memcpy(&v, data + off + k, sizeof v);
            if (v != v || v - v != 0) v = 1.5; /* a dataset holds finite values only */
            idx += 1 + data[off + k] % 7;
            x[n] = (struct feature_node){idx, v};
        }
        x[n] = (struct feature_node){-1, 0};
        int u = data[off] & 1;
        unl += u;
        if (exportmsg_enc_row(&e, (int)(int8_t)data[off + 1], x, u) != 0) abort();
    }
    blob_t *b = exportmsg_enc_finish(&e);
    if (!b) abort();
    if (exportmsg_open(&m, b->data, b->len, err, sizeof err) != 0 || m.rows != rows ||
        m.unlabelled != unl || m.first_row != size)
        abort();
    blob_unref(&b);
    exportmsg_enc_free(&e);
    return 0;
}
