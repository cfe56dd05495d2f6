/* buf: see buf.h. */
#include "common/buf.h"

#include "common/proto.h"

#include <stdlib.h>
#include <string.h>

int buf_grow(buf_t *b, size_t more) {
    if (b->failed) return -1;
    if (more <= b->cap - b->len) return 0;
    if (more > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *np = realloc(b->p, cap);
    if (!np) {
        b->failed = true;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

uint8_t *buf_extend(buf_t *b, size_t n) {
    if (buf_grow(b, n ? n : 1) != 0) /* so that p is never NULL here */
        return NULL;
    uint8_t *q = b->p + b->len;
    b->len += n;
    return q;
}

void buf_put(buf_t *b, const void *d, size_t n) {
    uint8_t *q = buf_extend(b, n);
    if (q && n) memcpy(q, d, n);
}

void buf_put_u8(buf_t *b, uint8_t v) {
    buf_put(b, &v, 1);
}

void buf_put_u16(buf_t *b, uint16_t v) {
    uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    buf_put(b, t, 2);
}

void buf_put_u32(buf_t *b, uint32_t v) {
    uint8_t t[4];
    proto_put_u32(t, v);
    buf_put(b, t, 4);
}

void buf_put_u64(buf_t *b, uint64_t v) {
    uint8_t t[8];
    proto_put_u64(t, v);
    buf_put(b, t, 8);
}

void buf_put_f64(buf_t *b, double v) {
    uint8_t t[8];
    proto_put_f64(t, v);
    buf_put(b, t, 8);
}

void buf_set_u32(buf_t *b, size_t at, uint32_t v) {
    if (!b->failed && at <= b->len && b->len - at >= 4) proto_put_u32(b->p + at, v);
}

uint8_t *buf_detach(buf_t *b, size_t *len) {
    uint8_t *p = b->failed ? NULL : b->p;
    *len = p ? b->len : 0;
    if (!p) free(b->p);
    *b = (buf_t){0};
    return p;
}

void buf_free(buf_t *b) {
    free(b->p);
    *b = (buf_t){0};
}

const uint8_t *bufrd_take(bufrd_t *r, size_t n) {
    if (r->bad || n > r->len - r->pos) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return q;
}

uint8_t bufrd_u8(bufrd_t *r) {
    const uint8_t *q = bufrd_take(r, 1);
    return q ? q[0] : 0;
}

uint16_t bufrd_u16(bufrd_t *r) {
    const uint8_t *q = bufrd_take(r, 2);
    return q ? (uint16_t)(q[0] | (q[1] << 8)) : 0;
}

uint32_t bufrd_u32(bufrd_t *r) {
    const uint8_t *q = bufrd_take(r, 4);
    return q ? proto_get_u32(q) : 0;
}

uint64_t bufrd_u64(bufrd_t *r) {
    const uint8_t *q = bufrd_take(r, 8);
    return q ? proto_get_u64(q) : 0;
}

double bufrd_f64(bufrd_t *r) {
    const uint8_t *q = bufrd_take(r, 8);
    return q ? proto_get_f64(q) : 0.0;
}
