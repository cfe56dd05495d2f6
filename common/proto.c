#include "common/proto.h"

#include <string.h>

void proto_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void proto_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void proto_put_f64(uint8_t *p, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    proto_put_u64(p, bits);
}

uint32_t proto_get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t proto_get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

double proto_get_f64(const uint8_t *p) {
    uint64_t bits = proto_get_u64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static uint16_t get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void proto_header_encode(const proto_header_t *h, uint8_t out[PROTO_HEADER_SIZE]) {
    out[0] = 'N';
    out[1] = 'C';
    out[2] = PROTO_VERSION;
    out[3] = h->type;
    put_u16(out + 4, h->op);
    put_u16(out + 6, h->flags);
    proto_put_u32(out + 8, h->job_id);
    proto_put_u32(out + 12, h->task_id);
    proto_put_u32(out + 16, h->attempt);
    proto_put_u32(out + 20, h->shard);
    proto_put_u64(out + 24, h->lease);
}

static bool known_type(uint8_t t) {
    switch (t) {
    case MSG_READY:
    case MSG_HANDBACK:
    case MSG_BYE:
    case MSG_TASK:
    case MSG_CANCEL:
    case MSG_PING:
    case MSG_RESET:
    case MSG_RESULT:
    case MSG_FAIL:
    case MSG_HEARTBEAT:
        return true;
    }
    return false;
}

int proto_header_decode(const void *buf, size_t len, proto_header_t *h, const char **why) {
    const uint8_t *p = buf;
    const char *dummy;
    if (!why) why = &dummy;
    if (len != PROTO_HEADER_SIZE) {
        *why = "header size";
        return -1;
    }
    if (p[0] != 'N' || p[1] != 'C') {
        *why = "magic";
        return -1;
    }
    if (p[2] != PROTO_VERSION) {
        *why = "protocol version: master and worker of different releases";
        return -1;
    }
    if (!known_type(p[3])) {
        *why = "type";
        return -1;
    }
    h->type = p[3];
    h->op = get_u16(p + 4);
    h->flags = get_u16(p + 6);
    h->job_id = proto_get_u32(p + 8);
    h->task_id = proto_get_u32(p + 12);
    h->attempt = proto_get_u32(p + 16);
    h->shard = proto_get_u32(p + 20);
    h->lease = proto_get_u64(p + 24);
    if ((h->type == MSG_TASK || h->type == MSG_RESULT) && (h->op < OP_NOOP || h->op >= OP_MAX)) {
        *why = "op";
        return -1;
    }
    if (h->flags & ~(PROTO_F_CONTEXT | PROTO_F_SHARD | PROTO_F_TREE)) {
        *why = "flags";
        return -1;
    }
    return 0;
}

bool proto_type_from_worker_tasks(uint8_t type) {
    return type == MSG_READY || type == MSG_HANDBACK || type == MSG_BYE;
}

bool proto_type_from_master(uint8_t type) {
    return type == MSG_TASK || type == MSG_CANCEL || type == MSG_PING || type == MSG_RESET;
}

void proto_frames_allowed(uint8_t type, uint16_t flags, int *min, int *max) {
    switch (type) {
    case MSG_READY:
        *min = *max = 2;
        return;
    case MSG_TASK: {
        int n =
            2 + !!(flags & PROTO_F_CONTEXT) + !!(flags & PROTO_F_SHARD) + !!(flags & PROTO_F_TREE);
        *min = *max = n;
        return;
    }
    case MSG_RESULT:
    case MSG_FAIL:
    case MSG_HEARTBEAT:
        *min = *max = 3;
        return;
    default:
        *min = *max = 1;
        return;
    }
}

bool proto_valid_id(const void *s, size_t len) {
    const unsigned char *p = s;
    if (len == 0 || len > PROTO_MAX_ID) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void proto_clean_text(const char *in, size_t inlen, char *out, size_t outlen) {
    size_t j = 0;
    if (outlen == 0) return;
    for (size_t i = 0; i < inlen && j + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[j] = 0;
}
