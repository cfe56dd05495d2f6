/* fdio: whole writes to a file descriptor.
 *
 * write(2) may write less than asked, or fail with EINTR; a stream the
 * process inherited (stdout) may be non-blocking and fail with EAGAIN. These
 * functions loop until every byte is written, waiting in poll(2) for a
 * non-blocking descriptor to take more, and fail only on a real error (errno
 * set, as write(2) left it).
 */
#ifndef NC_FDIO_H
#define NC_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* Writes len bytes of buf at the descriptor's offset. 0, or -1 with errno. */
int fd_write_all(int fd, const void *buf, size_t len);

/* Writes len bytes of buf at file offset off (pwrite: the descriptor's own
 * offset does not move). 0, or -1 with errno. */
int fd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif
