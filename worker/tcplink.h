/* tcplink: what the kernel knows about the worker's task connection.
 *
 * ZeroMQ hands a message over only when its last byte has arrived, so a
 * master that is sending a large message (a shard, or the rows of a class
 * split: hundreds of MB over a 100 Mbit/s link take many seconds) looks
 * silent to the worker for as long as the transfer lasts, although bytes
 * arrive all the time; its PINGs wait behind the message. The worker's
 * liveness check asks this module instead of calling such a master lost.
 *
 * The descriptor is the one the DEALER's monitor names in
 * ZMQ_EVENT_CONNECTED (owned by ZeroMQ's I/O thread; only read here). It may
 * have been closed and its number reused since: an answer counts only when
 * the descriptor is still connected to the peer it had when it connected.
 */
#ifndef NC_TCPLINK_H
#define NC_TCPLINK_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct tcplink_peer {
    struct sockaddr_storage addr; /* the peer's address and port */
    socklen_t len;                /* 0: unknown */
} tcplink_peer_t;

/* Records fd's peer (at CONNECTED); len 0 when it has none. */
void tcplink_peer(int fd, tcplink_peer_t *p);

/* Milliseconds since data last arrived on fd, a TCP connection to peer p;
 * -1 when fd is not (or no longer) such a connection or the kernel does not
 * say. */
int64_t tcplink_idle_ms(int fd, const tcplink_peer_t *p);

#endif
