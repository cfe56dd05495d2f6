/* probe: what is listening on a TCP port that failed the ZeroMQ handshake.
 *
 * When the worker's task socket reaches something that is not a NetCompute
 * master (the dashboard's HTTP port, an SSH server, a stopped process whose
 * kernel still accepts connections), ZeroMQ only says the handshake failed.
 * probe_peer() opens one plain TCP connection of its own and describes the
 * peer in a short phrase for the log: it waits a moment for a banner (ZeroMQ
 * and SSH peers speak first), else sends one "HEAD / HTTP/1.0" request and
 * reads the answer. It blocks for at most about two seconds and is meant to
 * run once per run of failures, not per attempt.
 */
#ifndef NC_WORKER_PROBE_H
#define NC_WORKER_PROBE_H

#include <stddef.h>

/* Writes a phrase such as `an HTTP server ("HTTP/1.1 404 Not Found")` into
 * out (outlen bytes, always NUL-terminated; text from the peer is reduced to
 * printable ASCII). Returns 0, or -1 when no connection could be made (out
 * then says why). */
int probe_peer(const char *host, int port, char *out, size_t outlen);

/* The classification alone, on bytes already read (closed: the peer closed
 * the connection after them). For tests. */
void probe_describe(const unsigned char *buf, size_t n, int closed, char *out, size_t outlen);

#endif
