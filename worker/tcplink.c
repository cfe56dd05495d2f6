/* tcplink: what the kernel knows about the task connection (tcplink.h). */
#include "worker/tcplink.h"

#include <stddef.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

void tcplink_peer(int fd, tcplink_peer_t *p) {
    p->len = sizeof p->addr;
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&p->addr, &p->len) != 0) p->len = 0;
}

int64_t tcplink_idle_ms(int fd, const tcplink_peer_t *p) {
    if (fd < 0 || p->len == 0) return -1;
    tcplink_peer_t now;
    tcplink_peer(fd, &now);
    if (now.len != p->len || memcmp(&now.addr, &p->addr, p->len) != 0) return -1;
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0 ||
        tl < offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof ti.tcpi_last_data_recv)
        return -1;
    return ti.tcpi_last_data_recv;
}
