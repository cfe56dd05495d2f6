/* tcplink: what the kernel knows about the task connection (tcplink.h). */
#include "worker/tcplink.h"

#include <stddef.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int64_t tcplink_idle_ms(int fd, int peer_port) {
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) return -1;
    int port = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
               : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                          : -1;
    if (port != peer_port) return -1;
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0 ||
        tl < offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof ti.tcpi_last_data_recv)
        return -1;
    return ti.tcpi_last_data_recv;
}
