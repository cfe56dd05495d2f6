#include "worker/probe.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_CONNECT_MS 1000
#define PROBE_BANNER_MS 300 /* peers that speak first (ZeroMQ, SSH, SMTP) do so at once */
#define PROBE_REPLY_MS 1000
#define PROBE_BYTES 256

/* The first line of buf as printable ASCII, at most 60 characters. */
static void printable_line(const unsigned char *buf, size_t n, char *out, size_t outlen) {
    size_t k = 0;
    for (size_t i = 0; i < n && buf[i] != '\r' && buf[i] != '\n' && k + 1 < outlen && k < 60; i++)
        out[k++] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '.';
    out[k] = 0;
}

void probe_describe(const unsigned char *buf, size_t n, int closed, char *out, size_t outlen) {
    char line[64];
    if (n == 0) {
        snprintf(out, outlen, "%s",
                 closed ? "a service that closes the connection without a word"
                        : "a service that accepts connections and says nothing (not a ZeroMQ "
                          "peer, or a stopped process)");
        return;
    }
    if (buf[0] == 0xff && (n < 10 || buf[9] == 0x7f)) {
        snprintf(out, outlen,
                 "a ZeroMQ peer that refused our handshake (another kind of socket, "
                 "CurveZMQ on one side only, or keys that do not match)");
        return;
    }
    printable_line(buf, n, line, sizeof line);
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
        snprintf(out, outlen, "an HTTP server (\"%s\"), perhaps the dashboard", line);
    else
        snprintf(out, outlen, "a service that is not ZeroMQ (it sent \"%s\")", line);
}

/* Reads what arrives within ms into buf at *n; sets *closed at end of stream. */
static void read_for(int fd, unsigned char *buf, size_t *n, int *closed, int64_t ms) {
    int64_t deadline = clock_now_ms() + ms;
    while (*n < PROBE_BYTES && !*closed) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = clock_until(deadline);
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) return;
        ssize_t r = recv(fd, buf + *n, PROBE_BYTES - *n, MSG_DONTWAIT);
        if (r > 0)
            *n += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
            *closed = 1;
    }
}

int probe_peer(const char *host, int port, char *out, size_t outlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char service[16];
    unsigned char buf[PROBE_BYTES];
    size_t n = 0;
    int closed = 0, fd = -1, rc = -1;
    snprintf(service, sizeof service, "%d", port);
    int g = getaddrinfo(host, service, &hints, &ai);
    if (g != 0) {
        snprintf(out, outlen, "cannot resolve %s: %s", host, gai_strerror(g));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(out, outlen, "socket: %s", strerror(errno));
        goto out;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        snprintf(out, outlen, "%s", strerror(errno));
        goto out;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, PROBE_CONNECT_MS) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        snprintf(out, outlen, "%s", soerr ? strerror(soerr) : "connection timed out");
        goto out;
    }
    read_for(fd, buf, &n, &closed, PROBE_BANNER_MS);
    if (n == 0 && !closed) {
        static const char req[] = "HEAD / HTTP/1.0\r\n\r\n";
        if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)(sizeof req - 1))
            read_for(fd, buf, &n, &closed, PROBE_REPLY_MS);
    }
    probe_describe(buf, n, closed, out, outlen);
    rc = 0;
out:
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return rc;
}
