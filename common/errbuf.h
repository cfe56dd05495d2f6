/* errbuf: filling the one-line error buffers that NetCompute functions take.
 *
 * errbuf_set(err, errlen, fmt, ...) formats into err (NULL or errlen 0: does
 * nothing) and returns -1, so that a failing path reads
 *     return errbuf_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
 */
#ifndef NC_ERRBUF_H
#define NC_ERRBUF_H

#include <stddef.h>

int errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
