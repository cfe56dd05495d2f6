#include "common/exportmsg.h"

#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int exportmsg_enc_init(exportmsg_enc_t *e, uint64_t first_row) {
    memset(e, 0, sizeof *e);
    buf_put_u64(&e->out, first_row);
    buf_put_u64(&e->out, 0); /* rows and unlabelled: set by finish */
    buf_put_u64(&e->out, 0);
    return e->out.failed ? -1 : 0;
}

/* An int, " IDX:", or a value: at most 32 bytes of text each. */
static void put_text(buf_t *b, const char *tmp, int n) {
    if (n > 0 && n < 64) buf_put(b, tmp, (size_t)n);
}

int exportmsg_enc_row(exportmsg_enc_t *e, int label, const struct feature_node *x, int unlabelled) {
    buf_t *b = &e->out;
    char tmp[64];
    put_text(b, tmp, snprintf(tmp, sizeof tmp, "%d", label));
    for (const struct feature_node *f = x; f && f->index != -1; f++) {
        if (f->value == 0.0) continue;
        /* %.17g: strtod gives back the same double. */
        put_text(b, tmp, snprintf(tmp, sizeof tmp, " %d:%.17g", f->index, f->value));
    }
    buf_put_u8(b, '\n');
    if (b->failed) return -1;
    e->rows++;
    e->unlabelled += unlabelled != 0;
    return 0;
}

blob_t *exportmsg_enc_finish(exportmsg_enc_t *e) {
    if (e->out.failed || e->out.len < EXPORTMSG_HEAD) return NULL;
    proto_put_u64(e->out.p + 8, e->rows);
    proto_put_u64(e->out.p + 16, e->unlabelled);
    size_t len;
    uint8_t *p = buf_detach(&e->out, &len);
    blob_t *out = p ? blob_wrap(p, len) : NULL;
    if (!out) free(p);
    e->rows = e->unlabelled = 0;
    return out;
}

void exportmsg_enc_free(exportmsg_enc_t *e) {
    buf_free(&e->out);
}

int exportmsg_open(exportmsg_t *m, const void *data, size_t len, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (!data || len < EXPORTMSG_HEAD) {
        snprintf(err, errlen, "export result of %zu bytes is too short", len);
        return -1;
    }
    const uint8_t *p = data;
    m->first_row = proto_get_u64(p);
    m->rows = proto_get_u64(p + 8);
    m->unlabelled = proto_get_u64(p + 16);
    m->text = (const char *)p + EXPORTMSG_HEAD;
    m->text_len = len - EXPORTMSG_HEAD;
    if (m->unlabelled > m->rows) {
        snprintf(err, errlen, "export result counts more unlabelled rows than rows");
        return -1;
    }
    /* A line is at least "0\n": the row count is bounded by the bytes. */
    if (m->rows > m->text_len / 2 + 1) {
        snprintf(err, errlen, "export result claims %llu rows in %zu bytes",
                 (unsigned long long)m->rows, m->text_len);
        return -1;
    }
    uint64_t lines = 0;
    for (size_t i = 0; i < m->text_len; i++) {
        char c = m->text[i];
        if (c == '\n') {
            lines++;
        } else if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
                     c == ':' || c == ' ')) {
            snprintf(err, errlen, "export result has a byte 0x%02x that no libsvm line holds",
                     (unsigned)(unsigned char)c);
            return -1;
        }
    }
    if (lines != m->rows || (m->text_len && m->text[m->text_len - 1] != '\n')) {
        snprintf(err, errlen, "export result has %llu lines for %llu rows",
                 (unsigned long long)lines, (unsigned long long)m->rows);
        return -1;
    }
    return 0;
}
