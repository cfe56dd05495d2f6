#include "master/writer.h"

#include "common/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "ncwriter1"

enum { CH_NONE = 0, CH_HELD, CH_SPOOLED, CH_WRITTEN };

typedef struct chunk {
    uint8_t state;
    void *mem;         /* CH_HELD */
    uint64_t off, len; /* CH_SPOOLED: bytes of the spool */
    char *meta;        /* CH_HELD: to journal when written; else from an earlier run */
} chunk_t;

struct writer {
    char *final_path, *part_path, *spool_path, *journal_path;
    int part_fd, spool_fd, journal_fd;
    uint32_t nchunks, next, resumed;
    chunk_t *ch;
    uint64_t out_end, spool_end;
    size_t mem_budget;
    writer_stats_t st;
    bool committed;
    bool stream; /* part_fd is the caller's stream; no journal, spool made when needed */
};

static char *side_path(const char *final_path, const char *suffix) {
    const char *slash = strrchr(final_path, '/');
    size_t dirlen = slash ? (size_t)(slash - final_path) + 1 : 0;
    const char *base = final_path + dirlen;
    size_t n = dirlen + 1 + strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%.*s.%s%s", (int)dirlen, final_path, base, suffix);
    return p;
}

/* One journal record per write() call: a killed process leaves either the
 * whole line or, at worst, a torn last line that the reader discards. */
static int journal(writer_t *w, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int journal(writer_t *w, char *err, size_t errlen, const char *fmt, ...) {
    char small[512], *line = small;
    if (w->stream) return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) goto fail;
    if ((size_t)n >= sizeof small) {
        line = malloc((size_t)n + 1);
        if (!line) goto fail;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    int rc = fd_write_all(w->journal_fd, line, (size_t)n);
    if (line != small) free(line);
    if (rc == 0) return 0;
fail:
    snprintf(err, errlen, "%s: cannot write: %s", w->journal_path, strerror(errno));
    return -1;
}

static bool meta_ok(const char *m) {
    if (!m) return true;
    size_t n = strlen(m);
    if (n == 0 || n > WRITER_MAX_META) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] <= ' ' || (unsigned char)m[i] >= 0x7f) return false;
    return true;
}

/* Appends chunk bytes to the output and journals them as written. */
static int emit(writer_t *w, uint32_t idx, const void *data, size_t len, const char *meta,
                char *err, size_t errlen) {
    if (fd_write_all(w->part_fd, data, len) < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", w->part_path, strerror(errno));
        return -1;
    }
    w->out_end += len;
    w->st.out_bytes = w->out_end;
    return journal(w, err, errlen, "O %" PRIu32 " %" PRIu64 " %s\n", idx, w->out_end,
                   meta ? meta : "-");
}

static int emit_from_spool(writer_t *w, uint32_t idx, char *err, size_t errlen) {
    chunk_t *c = &w->ch[idx];
    char buf[65536];
    uint64_t done = 0;
    while (done < c->len) {
        size_t want = c->len - done < sizeof buf ? (size_t)(c->len - done) : sizeof buf;
        ssize_t n = pread(w->spool_fd, buf, want, (off_t)(c->off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(err, errlen, "%s: cannot read back chunk %u: %s", w->spool_path, idx,
                     n < 0 ? strerror(errno) : "file is short");
            return -1;
        }
        if (fd_write_all(w->part_fd, buf, (size_t)n) < 0) {
            snprintf(err, errlen, "%s: cannot write: %s", w->part_path, strerror(errno));
            return -1;
        }
        done += (uint64_t)n;
    }
    w->out_end += c->len;
    w->st.out_bytes = w->out_end;
    /* The meta went to the journal with the spool record. */
    return journal(w, err, errlen, "O %" PRIu32 " %" PRIu64 " -\n", idx, w->out_end);
}

/* Writes out every stored chunk that is next in line. */
static int drain(writer_t *w, char *err, size_t errlen) {
    while (w->next < w->nchunks) {
        chunk_t *c = &w->ch[w->next];
        if (c->state == CH_HELD) {
            if (emit(w, w->next, c->mem, (size_t)c->len, c->meta, err, errlen) < 0) return -1;
            free(c->mem);
            free(c->meta);
            c->mem = NULL;
            c->meta = NULL;
            w->st.held--;
            w->st.held_bytes -= (size_t)c->len;
        } else if (c->state == CH_SPOOLED) {
            if (emit_from_spool(w, w->next, err, errlen) < 0) return -1;
            w->st.spooled--;
        } else {
            break;
        }
        c->state = CH_WRITTEN;
        w->st.written++;
        w->next++;
    }
    return 0;
}

static char *read_file(const char *path, size_t *len) {
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) < 0 || sb.st_size < 0 || (uint64_t)sb.st_size > (1u << 30)) goto out;
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) goto out;
    *len = fread(buf, 1, (size_t)sb.st_size, f);
    buf[*len] = 0;
out:
    fclose(f);
    return buf;
}

static uint64_t file_size(int fd) {
    struct stat sb;
    return fstat(fd, &sb) == 0 && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
}

/* What a journal replay has established so far. */
typedef struct {
    uint64_t part_size, spool_size; /* the files as found */
    uint64_t out_end;               /* output bytes confirmed by the last O (or the B) record */
    uint32_t next;                  /* next chunk to write */
    bool have_base;
    size_t good; /* journal bytes up to the last sound record */
} replay_t;

/* Checks the journal's first line against this run (magic, chunk count,
 * key). Returns the length of the header with its line end, 0 when it does
 * not fit. */
static size_t resume_header(const writer_t *w, const char *key, const char *text) {
    const char *nl = strchr(text, '\n');
    char want[512];
    snprintf(want, sizeof want, "%s %" PRIu32 " %s", JOURNAL_MAGIC, w->nchunks, key);
    if (!nl || (size_t)(nl - text) != strlen(want) || memcmp(text, want, strlen(want)) != 0)
        return 0;
    return (size_t)(nl - text) + 1;
}

/* Replays the records after the header into w's chunk table and r, up to
 * the first torn or inconsistent one. Returns 0, or -1 on ENOMEM. */
static int resume_replay(writer_t *w, char *text, replay_t *r) {
    char *line, *nl;
    for (line = text + r->good; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = 0;
        uint32_t idx;
        uint64_t a, b;
        int used = 0;
        const char *m = NULL;
        if (sscanf(line, "B %" SCNu64 "%n", &a, &used) == 1 && line[used] == 0) {
            if (r->have_base || a > r->part_size) break;
            r->have_base = true;
            r->out_end = a;
        } else if (sscanf(line, "O %" SCNu32 " %" SCNu64 " %n", &idx, &a, &used) == 2 && used > 0) {
            m = line + used;
            if (!r->have_base || idx != r->next || idx >= w->nchunks || a < r->out_end ||
                a > r->part_size || !meta_ok(m))
                break;
            chunk_t *c = &w->ch[idx];
            if (c->state == CH_SPOOLED) w->st.spooled--;
            c->state = CH_WRITTEN;
            w->st.written++;
            r->out_end = a;
            r->next++;
        } else if (sscanf(line, "S %" SCNu32 " %" SCNu64 " %" SCNu64 " %n", &idx, &a, &b, &used) ==
                       3 &&
                   used > 0) {
            m = line + used;
            if (!r->have_base || idx >= w->nchunks || w->ch[idx].state != CH_NONE ||
                a > r->spool_size || b > r->spool_size - a || !meta_ok(m))
                break;
            chunk_t *c = &w->ch[idx];
            c->state = CH_SPOOLED;
            c->off = a;
            c->len = b;
            w->st.spooled++;
        } else {
            break;
        }
        if (m && strcmp(m, "-") != 0) {
            free(w->ch[idx].meta);
            if (!(w->ch[idx].meta = strdup(m))) return -1;
        }
        r->good = (size_t)(nl - text) + 1;
    }
    return 0;
}

/* Cuts the output file back to the last confirmed byte and the journal to
 * its last sound record. Returns the journal opened for appending, or -1. */
static int resume_truncate(const writer_t *w, int pfd, const replay_t *r) {
    if (ftruncate(pfd, (off_t)r->out_end) < 0 || lseek(pfd, (off_t)r->out_end, SEEK_SET) < 0)
        return -1;
    int jfd = open(w->journal_path, O_RDWR);
    if (jfd < 0) return -1;
    if (ftruncate(jfd, (off_t)r->good) < 0 || lseek(jfd, 0, SEEK_END) < 0) {
        close(jfd);
        return -1;
    }
    return jfd;
}

/* Writes the header (hlen bytes, may be 0) at the start of the output: the
 * temporary file, or the stream itself. */
static int write_header(writer_t *w, const char *header, size_t hlen, char *err, size_t errlen) {
    if (hlen && fd_write_all(w->part_fd, header, hlen) < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", w->part_path, strerror(errno));
        return -1;
    }
    w->out_end = w->st.out_bytes = hlen;
    return 0;
}

/* Reads an earlier run's journal. Returns 1 when it was taken over (state
 * restored, files positioned), 0 when it does not fit (start afresh), -1 on
 * ENOMEM. The files it describes are ours, but a torn or inconsistent record
 * still just ends the replay: what follows it is computed again. */
static int resume_load(writer_t *w, const char *key) {
    size_t len = 0;
    int rc = 0;
    char *text = read_file(w->journal_path, &len);
    if (!text) return 0;
    int pfd = open(w->part_path, O_RDWR);
    int sfd = open(w->spool_path, O_RDWR);
    if (pfd < 0 || sfd < 0) goto out;
    replay_t r = {.part_size = file_size(pfd), .spool_size = file_size(sfd)};
    if (!(r.good = resume_header(w, key, text))) goto out;
    if (resume_replay(w, text, &r) < 0) {
        rc = -1;
        goto out;
    }
    if (!r.have_base) goto out;
    for (uint32_t i = 0; i < w->nchunks; i++)
        if (w->ch[i].state != CH_NONE) w->resumed++;
    int jfd = resume_truncate(w, pfd, &r);
    if (jfd < 0) goto out;
    w->part_fd = pfd;
    w->spool_fd = sfd;
    w->journal_fd = jfd;
    pfd = sfd = -1;
    w->out_end = r.out_end;
    w->spool_end = r.spool_size;
    w->next = r.next;
    w->st.out_bytes = r.out_end;
    rc = 1;
out:
    if (pfd >= 0) close(pfd);
    if (sfd >= 0) close(sfd);
    free(text);
    if (rc != 1) {
        /* Forget anything half-restored before starting afresh. */
        for (uint32_t i = 0; i < w->nchunks; i++) {
            free(w->ch[i].meta);
            memset(&w->ch[i], 0, sizeof w->ch[i]);
        }
        memset(&w->st, 0, sizeof w->st);
        w->resumed = 0;
        w->next = 0;
    }
    return rc;
}

writer_t *writer_open(const char *final_path, uint32_t nchunks, const char *header, const char *key,
                      bool resume, size_t mem_budget, char *err, size_t errlen) {
    writer_t *w = NULL;
    if (nchunks < 1 || !key || !*key || strlen(key) > 400 || !meta_ok(key)) {
        snprintf(err, errlen, "writer: bad chunk count or key");
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (!w) goto nomem;
    w->part_fd = w->spool_fd = w->journal_fd = -1;
    w->nchunks = nchunks;
    w->mem_budget = mem_budget;
    w->final_path = strdup(final_path);
    w->part_path = side_path(final_path, ".part");
    w->spool_path = side_path(final_path, ".spool");
    w->journal_path = side_path(final_path, ".journal");
    w->ch = calloc(nchunks, sizeof *w->ch);
    if (!w->final_path || !w->part_path || !w->spool_path || !w->journal_path || !w->ch) goto nomem;

    if (resume) {
        int rc = resume_load(w, key);
        if (rc < 0) goto nomem;
        if (rc == 1) {
            /* A chunk spooled right before the kill may be next in line. */
            if (drain(w, err, errlen) < 0) goto fail;
            return w;
        }
    }
    const char *bad = w->part_path;
    w->part_fd = open(w->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->part_fd >= 0) {
        bad = w->spool_path;
        w->spool_fd = open(w->spool_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (w->spool_fd >= 0) {
        bad = w->journal_path;
        w->journal_fd = open(w->journal_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (w->journal_fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", bad, strerror(errno));
        goto fail;
    }
    size_t hlen = header ? strlen(header) : 0;
    if (write_header(w, header, hlen, err, errlen) < 0) goto fail;
    if (journal(w, err, errlen, "%s %" PRIu32 " %s\nB %zu\n", JOURNAL_MAGIC, nchunks, key, hlen) <
        0)
        goto fail;
    return w;
nomem:
    snprintf(err, errlen, "writer: out of memory");
fail:
    writer_close(&w, false);
    return NULL;
}

/* A stream's spool: an anonymous file in $TMPDIR (or /tmp), made when the
 * first chunk does not fit in memory; nothing to resume, nothing left behind. */
static int stream_spool(writer_t *w, char *err, size_t errlen) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/nc-spool.XXXXXX", dir && *dir ? dir : "/tmp");
    w->spool_fd = mkostemp(path, O_CLOEXEC);
    if (w->spool_fd < 0) {
        snprintf(err, errlen, "%s: cannot create a spool file: %s", path, strerror(errno));
        return -1;
    }
    unlink(path);
    /* Kept for error messages only: close() never unlinks a stream's files. */
    if (!(w->spool_path = strdup(path))) {
        snprintf(err, errlen, "writer: out of memory");
        return -1;
    }
    return 0;
}

writer_t *writer_open_stream(int fd, const char *name, uint32_t nchunks, const char *header,
                             size_t mem_budget, char *err, size_t errlen) {
    writer_t *w = NULL;
    if (nchunks < 1 || fd < 0) {
        snprintf(err, errlen, "writer: bad chunk count or descriptor");
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (!w) goto nomem;
    w->stream = true;
    w->part_fd = fd;
    w->spool_fd = w->journal_fd = -1;
    w->nchunks = nchunks;
    w->mem_budget = mem_budget;
    w->final_path = strdup(name);
    w->part_path = strdup(name);
    w->ch = calloc(nchunks, sizeof *w->ch);
    if (!w->final_path || !w->part_path || !w->ch) goto nomem;
    if (write_header(w, header, header ? strlen(header) : 0, err, errlen) < 0) goto fail;
    return w;
nomem:
    snprintf(err, errlen, "writer: out of memory");
fail:
    writer_close(&w, false);
    return NULL;
}

int writer_put(writer_t *w, uint32_t idx, const void *data, size_t len, const char *meta, char *err,
               size_t errlen) {
    if (idx >= w->nchunks) {
        snprintf(err, errlen, "writer: chunk %u out of range (%u chunks)", idx, w->nchunks);
        return -1;
    }
    chunk_t *c = &w->ch[idx];
    if (c->state != CH_NONE) {
        snprintf(err, errlen, "writer: chunk %u stored twice", idx);
        return -1;
    }
    if (!meta_ok(meta)) {
        snprintf(err, errlen, "writer: chunk %u: bad meta text", idx);
        return -1;
    }
    if (idx == w->next) {
        if (emit(w, idx, data, len, meta, err, errlen) < 0) return -1;
        c->state = CH_WRITTEN;
        w->st.written++;
        w->next++;
    } else if (w->st.held_bytes + len <= w->mem_budget) {
        c->mem = malloc(len ? len : 1);
        c->meta = meta ? strdup(meta) : NULL;
        if (!c->mem || (meta && !c->meta)) {
            free(c->mem);
            free(c->meta);
            c->mem = NULL;
            c->meta = NULL;
            snprintf(err, errlen, "writer: out of memory");
            return -1;
        }
        memcpy(c->mem, data, len);
        c->len = len;
        c->state = CH_HELD;
        w->st.held++;
        w->st.held_bytes += len;
        if (w->st.held_bytes > w->st.peak_held_bytes) w->st.peak_held_bytes = w->st.held_bytes;
        /* A held chunk is not journalled: a resumed run recomputes it. */
        return 0;
    } else {
        if (w->spool_fd < 0 && stream_spool(w, err, errlen) < 0) return -1;
        if (fd_pwrite_all(w->spool_fd, data, len, w->spool_end) < 0) {
            snprintf(err, errlen, "%s: cannot write: %s", w->spool_path, strerror(errno));
            return -1;
        }
        c->off = w->spool_end;
        c->len = len;
        c->state = CH_SPOOLED;
        w->spool_end += len;
        w->st.spool_bytes += len;
        w->st.spooled++;
        return journal(w, err, errlen, "S %" PRIu32 " %" PRIu64 " %" PRIu64 " %s\n", idx, c->off,
                       c->len, meta ? meta : "-");
    }
    return drain(w, err, errlen);
}

bool writer_has(const writer_t *w, uint32_t idx) {
    return idx < w->nchunks && w->ch[idx].state != CH_NONE;
}

const char *writer_meta(const writer_t *w, uint32_t idx) {
    if (idx >= w->nchunks || w->ch[idx].state == CH_HELD) return NULL;
    return w->ch[idx].meta;
}

uint32_t writer_resumed(const writer_t *w) {
    return w->resumed;
}

void writer_get_stats(const writer_t *w, writer_stats_t *out) {
    *out = w->st;
}

int writer_commit(writer_t *w, char *err, size_t errlen) {
    if (w->next != w->nchunks) {
        snprintf(err, errlen, "writer: %s: chunk %u of %u is missing", w->final_path, w->next,
                 w->nchunks);
        return -1;
    }
    if (w->stream) {
        /* Every byte is in the stream already; the stream is the caller's. */
        w->committed = true;
        return 0;
    }
    if (fsync(w->part_fd) < 0 || close(w->part_fd) < 0) {
        w->part_fd = -1;
        snprintf(err, errlen, "%s: cannot write: %s", w->part_path, strerror(errno));
        return -1;
    }
    w->part_fd = -1;
    if (rename(w->part_path, w->final_path) < 0) {
        snprintf(err, errlen, "%s: cannot rename to %s: %s", w->part_path, w->final_path,
                 strerror(errno));
        return -1;
    }
    /* The rename is durable once the directory is on disk. */
    char *dir = strdup(w->final_path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        if (slash) slash[slash == dir ? 1 : 0] = 0;
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    w->committed = true;
    unlink(w->spool_path);
    unlink(w->journal_path);
    return 0;
}

void writer_close(writer_t **wp, bool keep) {
    writer_t *w = wp ? *wp : NULL;
    if (!w) return;
    if (keep && !w->committed && w->spool_fd >= 0 && w->journal_fd >= 0) {
        /* Chunks held in memory would die with us: spool them so that the
         * resumed run finds them. Best effort: a failure just loses them. */
        char err[256];
        for (uint32_t i = 0; i < w->nchunks; i++) {
            chunk_t *c = &w->ch[i];
            if (c->state != CH_HELD) continue;
            if (fd_pwrite_all(w->spool_fd, c->mem, (size_t)c->len, w->spool_end) < 0 ||
                journal(w, err, sizeof err, "S %" PRIu32 " %" PRIu64 " %" PRIu64 " %s\n", i,
                        w->spool_end, c->len, c->meta ? c->meta : "-") < 0)
                break;
            w->spool_end += c->len;
        }
    }
    if (w->part_fd >= 0 && !w->stream) close(w->part_fd);
    if (w->spool_fd >= 0) close(w->spool_fd);
    if (w->journal_fd >= 0) close(w->journal_fd);
    /* A stream is never unlinked (its part_path is the stream's own name). */
    if (!w->committed && !keep && !w->stream) {
        if (w->part_path) unlink(w->part_path);
        if (w->spool_path) unlink(w->spool_path);
        if (w->journal_path) unlink(w->journal_path);
    }
    for (uint32_t i = 0; w->ch && i < w->nchunks; i++) {
        free(w->ch[i].mem);
        free(w->ch[i].meta);
    }
    free(w->ch);
    free(w->final_path);
    free(w->part_path);
    free(w->spool_path);
    free(w->journal_path);
    free(w);
    *wp = NULL;
}
