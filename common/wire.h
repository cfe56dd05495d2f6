/* wire: sending and receiving whole multipart messages.
 *
 * wire_recv() reads every frame of one message into a bounded array: a peer
 * that sends more than WIRE_MAX_FRAMES frames gets its extra frames read and
 * discarded (msg->too_many set), so it can never make us allocate per frame.
 * Frames are zmq_msg_t values: data stays in ZeroMQ's buffers, no copy.
 */
#ifndef NC_WIRE_H
#define NC_WIRE_H

#include "common/blob.h"
#include "common/proto.h"

#include <stdbool.h>
#include <zmq.h>

#define WIRE_MAX_FRAMES (PROTO_MAX_FRAMES + 1) /* + ROUTER identity */

typedef struct wire_msg {
    int n;
    bool too_many;
    zmq_msg_t f[WIRE_MAX_FRAMES];
} wire_msg_t;

/* Receives one whole message (flags: 0 or ZMQ_DONTWAIT). Returns the frame
 * count, or -1 with errno (EAGAIN when nothing is waiting). On success the
 * caller must wire_close() the message. */
int wire_recv(void *sock, wire_msg_t *m, int flags);
void wire_close(wire_msg_t *m);

static inline const void *wire_data(wire_msg_t *m, int i) {
    return zmq_msg_data(&m->f[i]);
}
static inline size_t wire_size(wire_msg_t *m, int i) {
    return zmq_msg_size(&m->f[i]);
}

/* Each sends one frame; more = ZMQ_SNDMORE for all but the last. */
int wire_send_header(void *sock, const proto_header_t *h, int more);
int wire_send_bytes(void *sock, const void *data, size_t len, int more);

/* Sets the options every NetCompute socket gets: linger, max message size
 * (bytes, 0 = none) for sockets that read from peers. */
int wire_socket_defaults(void *sock, long long max_msg_bytes);

#endif
