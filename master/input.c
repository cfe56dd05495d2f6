#include "master/input.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An anonymous pipe (`cat x | master --data /dev/stdin`) as opposed to a named
 * FIFO: the kernel names its descriptor "pipe:[inode]". */
static bool is_anonymous_pipe(int fd) {
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return false;
    target[n] = 0;
    return strncmp(target, "pipe:", 5) == 0;
}

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

static const char *tmp_dir(void) {
    const char *d = getenv("TMPDIR");
    return d && d[0] ? d : "/tmp";
}

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The temporary file is named after path ("/dev/stdin" -> netcompute-stdin-
 * XXXXXX), so that error messages naming it are recognisable, and keeps a
 * short extension (".svm", ".csv") for data.format "auto". */
static int make_temp(const char *path, char *tmp, size_t tmplen) {
    const char *dir = tmp_dir();
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *ext = strrchr(base, '.');
    char stem[33];
    size_t k = 0;
    if (!ext || strlen(ext) > 10 || strlen(ext) < 2) ext = "";
    for (const char *c = ext + (ext[0] != 0); *c; c++)
        if (!name_char(*c) || *c == '-' || *c == '_') ext = "";
    for (const char *c = base; *c && c != ext && k + 1 < sizeof stem; c++)
        stem[k++] = name_char(*c) ? *c : '_';
    stem[k] = 0;
    int n = snprintf(tmp, tmplen, "%s/netcompute-%s-XXXXXX%s", dir, k ? stem : "input", ext);
    if (n < 0 || (size_t)n >= tmplen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkostemps(tmp, (int)strlen(ext), O_CLOEXEC);
}

/* A named FIFO: waits until a writer has sent data or come and gone. Polling
 * a FIFO opened O_NONBLOCK reports neither POLLIN nor POLLHUP before the
 * first writer, so this never mistakes "no writer yet" for end of file. */
static int wait_for_writer(int fd, const char *path, volatile sig_atomic_t *stop) {
    bool told = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, told ? 1000 : 0);
        if (rc > 0) return 0;
        if (rc < 0 && errno != EINTR) return -1;
        if (*stop) return INPUT_ESTOP;
        if (!told) {
            log_info("waiting for a writer on FIFO %s", path);
            told = true;
        }
    }
}

#define COPY_BUF (1 << 16)

/* Copies in to out until end of file: 0, -1 read failed or *stop, -2 write
 * failed (errno set). */
static int copy_all(int in, int out, volatile sig_atomic_t *stop, uint64_t *bytes, bool *stopped) {
    char buf[COPY_BUF];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno != EINTR) return -1;
            if (*stop) {
                *stopped = true;
                return -1;
            }
            continue;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return -2;
            off += w;
        }
        *bytes += (uint64_t)n;
        if (*stop) {
            *stopped = true;
            return -1;
        }
    }
}

/* What fd is: INPUT_REGULAR (read in place), INPUT_COPIED (a pipe or FIFO,
 * to be copied), or an error (INPUT_EUSAGE, INPUT_EFAIL) with err filled. */
static int classify(int fd, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return INPUT_EFAIL;
    }
    if (S_ISREG(st.st_mode)) return INPUT_REGULAR;
    if (!S_ISFIFO(st.st_mode)) {
        snprintf(err, errlen, "%s: is %s; --data takes a regular file, a pipe or a FIFO", path,
                 kind_of(st.st_mode));
        return INPUT_EUSAGE;
    }
    return INPUT_COPIED;
}

/* Waits for a writer on a named FIFO, then makes reads blocking: 0, or
 * INPUT_ESTOP / INPUT_EFAIL with err filled. */
static int open_stream(int fd, const char *path, bool pipe, volatile sig_atomic_t *stop, char *err,
                       size_t errlen) {
    if (!pipe) {
        int w = wait_for_writer(fd, path, stop);
        if (w == INPUT_ESTOP) {
            snprintf(err, errlen, "%s: stopped while waiting for a writer on the FIFO", path);
            return INPUT_ESTOP;
        }
        if (w < 0) {
            snprintf(err, errlen, "%s: cannot wait for the FIFO: %s", path, strerror(errno));
            return INPUT_EFAIL;
        }
    }
    /* From here on a read waits for data and returns 0 only at end of file. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return INPUT_EFAIL;
    }
    return 0;
}

/* Copies fd to a new temporary file named in tmp: 0, or INPUT_ESTOP /
 * INPUT_EFAIL with err filled; tmp may then name a partial copy, which the
 * caller removes. */
static int copy_to_temp(int fd, const char *path, volatile sig_atomic_t *stop, char *tmp,
                        size_t tmplen, uint64_t *bytes, char *err, size_t errlen) {
    int rc = INPUT_EFAIL;
    int out = make_temp(path, tmp, tmplen);
    if (out < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary copy in %s: %s", path, tmp_dir(),
                 strerror(errno));
        tmp[0] = 0;
        goto out;
    }
    bool stopped = false;
    int c = copy_all(fd, out, stop, bytes, &stopped);
    if (c < 0) {
        if (stopped) {
            snprintf(err, errlen, "%s: stopped while reading it (%llu bytes read)", path,
                     (unsigned long long)*bytes);
            rc = INPUT_ESTOP;
        } else {
            if (c == -2)
                snprintf(err, errlen, "%s: cannot copy it to %s: %s", path, tmp, strerror(errno));
            else
                snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        }
        goto out;
    }
    if (close(out) < 0) {
        out = -1;
        snprintf(err, errlen, "%s: cannot copy it to %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    out = -1;
    rc = 0;
out:
    if (out >= 0) close(out);
    return rc;
}

int input_prepare(const char *path, volatile sig_atomic_t *stop, char *tmp, size_t tmplen,
                  char *err, size_t errlen) {
    int rc;
    tmp[0] = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENXIO) { /* a UNIX socket */
            snprintf(err, errlen, "%s: is a socket, not a data file", path);
            return INPUT_EUSAGE;
        }
        return INPUT_REGULAR; /* missing or unreadable: the split says which */
    }
    rc = classify(fd, path, err, errlen);
    if (rc != INPUT_COPIED) goto out;
    bool pipe = is_anonymous_pipe(fd);
    rc = open_stream(fd, path, pipe, stop, err, errlen);
    if (rc < 0) goto out;
    uint64_t bytes = 0;
    rc = copy_to_temp(fd, path, stop, tmp, tmplen, &bytes, err, errlen);
    if (rc < 0) goto out;
    log_info("%s is a %s: copied %llu bytes to %s (removed at exit), read from there", path,
             pipe ? "pipe" : "FIFO", (unsigned long long)bytes, tmp);
    rc = INPUT_COPIED;
out:
    if (rc < 0 && tmp[0]) {
        unlink(tmp);
        tmp[0] = 0;
    }
    close(fd);
    return rc;
}
