/* fdio: whole writes to a file descriptor (see fdio.h). */
#include "common/fdio.h"

#include <errno.h>
#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

/* After a write that failed with errno: true when writing again may work
 * (interrupted, or a non-blocking descriptor that is full and now has
 * room). */
static int again(int fd) {
    if (errno == EINTR) return 1;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return 0;
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    return poll(&pfd, 1, -1) >= 0 || errno == EINTR;
}

int fd_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (again(fd)) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (again(fd)) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}
