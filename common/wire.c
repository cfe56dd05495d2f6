#include "common/wire.h"

#include <errno.h>

int wire_recv(void *sock, wire_msg_t *m, int flags) {
    m->n = 0;
    m->too_many = false;
    for (;;) {
        zmq_msg_t *f;
        zmq_msg_t spare;
        f = m->n < WIRE_MAX_FRAMES ? &m->f[m->n] : &spare;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, sock, m->n == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(f);
            wire_close(m);
            errno = e;
            return -1;
        }
        int more = zmq_msg_more(f);
        if (f == &spare) {
            m->too_many = true;
            zmq_msg_close(f);
        } else {
            m->n++;
        }
        if (!more) break;
    }
    return m->n;
}

void wire_close(wire_msg_t *m) {
    for (int i = 0; i < m->n; i++)
        zmq_msg_close(&m->f[i]);
    m->n = 0;
}

int wire_send_header(void *sock, const proto_header_t *h, int more) {
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(h, buf);
    return zmq_send(sock, buf, sizeof buf, more) < 0 ? -1 : 0;
}

int wire_send_bytes(void *sock, const void *data, size_t len, int more) {
    return zmq_send(sock, data, len, more) < 0 ? -1 : 0;
}

int wire_socket_defaults(void *sock, long long max_msg_bytes) {
    int linger = 0;
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0) return -1;
    if (max_msg_bytes > 0) {
        int64_t mx = max_msg_bytes;
        if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &mx, sizeof mx) != 0) return -1;
    }
    return 0;
}
