/* split: see split.h.
 *
 * The CSV scanner mirrors libcsv's four states (row not begun, field not
 * begun, field begun, quoted field might have ended) with csvread's blanks
 * (space, tab, CR) and LF as the only record end. A row without any quote is
 * skipped in one memchr; only rows holding a quote walk the state machine. */
#include "common/split.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SPLIT_BUF (4u << 20)
#define SPLIT_MAX_HEADER (16u << 20)

enum { ST_ROW_NOT_BEGUN, ST_FIELD_NOT_BEGUN, ST_FIELD_BEGUN, ST_MIGHT_HAVE_ENDED };

typedef struct split_scan {
    const char *path;
    data_format_t format;
    uint64_t shard_rows;
    uint64_t max_bytes;
    split_t *out;
    size_t cap; /* allocated shards */

    int state, quoted, spaces;
    uint64_t line;       /* 1-based line of the current position */
    uint64_t line_start; /* file offset where the current line begins */
    uint64_t row_start, row_line;
    uint64_t quote_line; /* line on which the open quoted field began */

    int have_header; /* CSV: header record seen */
    size_t hdr_from; /* buffer index where unsaved header bytes begin */
    size_t hdr_cap;
    char *err;
    size_t errlen;
} split_scan_t;

data_format_t split_detect_format(const char *path, const char *config_format) {
    if (config_format && strcmp(config_format, "libsvm") == 0) return DATA_LIBSVM;
    if (config_format && strcmp(config_format, "csv") == 0) return DATA_CSV;
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && (strcasecmp(dot, ".svm") == 0 || strcasecmp(dot, ".libsvm") == 0 ||
                strcasecmp(dot, ".svmlight") == 0))
        return DATA_LIBSVM;
    return DATA_CSV;
}

void split_free(split_t *s) {
    if (!s) return;
    free(s->header);
    free(s->shards);
    memset(s, 0, sizeof *s);
}

static int split_hdr_append(split_scan_t *sc, const char *p, size_t n) {
    split_t *o = sc->out;
    if (o->header_len + n + 1 > SPLIT_MAX_HEADER) {
        snprintf(sc->err, sc->errlen, "%s:%llu: header row longer than %u MB", sc->path,
                 (unsigned long long)sc->row_line, SPLIT_MAX_HEADER >> 20);
        return -1;
    }
    if (o->header_len + n + 1 > sc->hdr_cap) {
        size_t ncap = sc->hdr_cap ? sc->hdr_cap : 4096;
        while (o->header_len + n + 1 > ncap)
            ncap *= 2;
        char *nh = realloc(o->header, ncap);
        if (!nh) {
            snprintf(sc->err, sc->errlen, "%s: out of memory", sc->path);
            return -1;
        }
        o->header = nh;
        sc->hdr_cap = ncap;
    }
    memcpy(o->header + o->header_len, p, n);
    o->header_len += n;
    o->header[o->header_len] = '\0';
    return 0;
}

/* A row [row_start, end) ended; buf/i locate the end in the current buffer
 * (the header needs the bytes). */
static int split_row_end(split_scan_t *sc, uint64_t end, const char *buf, size_t i) {
    split_t *o = sc->out;
    if (sc->format == DATA_CSV && !sc->have_header) {
        if (split_hdr_append(sc, buf + sc->hdr_from, i - sc->hdr_from) != 0) return -1;
        sc->have_header = 1;
        /* Drop the line end: LF and the CRs before it. */
        while (o->header_len &&
               (o->header[o->header_len - 1] == '\n' || o->header[o->header_len - 1] == '\r'))
            o->header[--o->header_len] = '\0';
        return 0;
    }
    shard_range_t *cur = o->nshards ? &o->shards[o->nshards - 1] : NULL;
    if (!cur || cur->rows >= sc->shard_rows ||
        (sc->max_bytes && cur->rows && end - cur->offset > sc->max_bytes)) {
        if (o->nshards == sc->cap) {
            size_t ncap = sc->cap ? sc->cap * 2 : 64;
            shard_range_t *ns = realloc(o->shards, ncap * sizeof *ns);
            if (!ns) {
                snprintf(sc->err, sc->errlen, "%s: out of memory", sc->path);
                return -1;
            }
            o->shards = ns;
            sc->cap = ncap;
        }
        if (o->nshards)
            o->shards[o->nshards - 1].length = sc->row_start - o->shards[o->nshards - 1].offset;
        cur = &o->shards[o->nshards++];
        cur->offset = sc->row_start;
        cur->length = 0;
        cur->first_row = o->rows;
        cur->first_line = sc->row_line;
        cur->rows = 0;
    }
    cur->rows++;
    o->rows++;
    return 0;
}

static void split_row_begin(split_scan_t *sc, size_t i) {
    sc->row_start = sc->line_start;
    sc->row_line = sc->line;
    if (!sc->have_header) sc->hdr_from = i;
}

/* Reports the first NUL byte of the buffer (off = file offset of buf[0]). */
static int split_nul(split_scan_t *sc, const char *buf, size_t n, uint64_t off) {
    const char *z = memchr(buf, '\0', n);
    if (!z) return 0;
    uint64_t line = sc->line; /* the line of buf[0] */
    uint64_t ls = sc->line_start;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(z - p))) != NULL; p++) {
        line++;
        ls = off + (uint64_t)(p + 1 - buf);
    }
    uint64_t at = off + (uint64_t)(z - buf);
    snprintf(sc->err, sc->errlen, "%s:%llu:%llu: NUL byte in the data (is this a text file?)",
             sc->path, (unsigned long long)line, (unsigned long long)(at - ls + 1));
    return -1;
}

/* Scans one buffer of CSV; off is the file offset of buf[0].
 *
 * Kept as one piece on purpose: this loop is the splitter's hot path. Moving
 * the per-byte state machine (the switch) into its own static function, which
 * the compiler still inlined, made the scan cost 9% more instructions on
 * quoted CSV and 0.5% more on plain CSV (callgrind over bin/data_bench), so
 * the fast path, the state machine and the row end stay together here. */
static int split_csv_chunk(split_scan_t *sc, const char *buf, size_t n, uint64_t off) {
    size_t i = 0;
    size_t nextq = 0; /* index of the next quote at or after i, n if none */
    int qvalid = 0;
    while (i < n) {
        if (sc->state == ST_ROW_NOT_BEGUN) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '\n') {
                i++;
                sc->line++;
                sc->line_start = off + i;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
                continue;
            }
            split_row_begin(sc, i);
            const char *nl = memchr(buf + i, '\n', n - i);
            if (!qvalid || nextq < i) {
                const char *q = memchr(buf + i, '"', n - i);
                nextq = q ? (size_t)(q - buf) : n;
                qvalid = 1;
            }
            if (nl && nextq > (size_t)(nl - buf)) {
                i = (size_t)(nl - buf) + 1;
                sc->line++;
                sc->line_start = off + i;
                if (split_row_end(sc, off + i, buf, i) != 0) return -1;
                continue;
            }
            sc->state = ST_FIELD_NOT_BEGUN; /* c is read again below */
        }
        unsigned char c = (unsigned char)buf[i++];
        int row_end = 0;
        switch (sc->state) {
        case ST_FIELD_NOT_BEGUN:
            if (c == ' ' || c == '\t' || c == '\r' || c == ',') break;
            if (c == '\n') {
                row_end = 1;
            } else if (c == '"') {
                sc->state = ST_FIELD_BEGUN;
                sc->quoted = 1;
                sc->quote_line = sc->line;
            } else {
                sc->state = ST_FIELD_BEGUN;
                sc->quoted = 0;
            }
            break;
        case ST_FIELD_BEGUN:
            if (sc->quoted) {
                if (c == '"') {
                    sc->state = ST_MIGHT_HAVE_ENDED;
                    sc->spaces = 0;
                } else if (c == '\n') {
                    sc->line++;
                    sc->line_start = off + i;
                }
            } else if (c == ',') {
                sc->state = ST_FIELD_NOT_BEGUN;
            } else if (c == '\n') {
                row_end = 1;
            }
            break;
        case ST_MIGHT_HAVE_ENDED:
            if (c == ',') {
                sc->state = ST_FIELD_NOT_BEGUN;
            } else if (c == '\n') {
                row_end = 1;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                sc->spaces++;
            } else if (c == '"') {
                if (sc->spaces)
                    sc->spaces = 0; /* libcsv keeps it as text and stays here */
                else
                    sc->state = ST_FIELD_BEGUN; /* "" is a literal quote */
            } else {
                sc->state = ST_FIELD_BEGUN; /* lenient: the quote was text */
                sc->spaces = 0;
            }
            break;
        default:
            break;
        }
        if (row_end) {
            sc->state = ST_ROW_NOT_BEGUN;
            sc->quoted = 0;
            sc->line++;
            sc->line_start = off + i;
            if (split_row_end(sc, off + i, buf, i) != 0) return -1;
        }
    }
    /* Keep the header bytes of a header row that continues in the next buffer. */
    if (sc->format == DATA_CSV && !sc->have_header && sc->state != ST_ROW_NOT_BEGUN) {
        if (split_hdr_append(sc, buf + sc->hdr_from, n - sc->hdr_from) != 0) return -1;
        sc->hdr_from = 0;
    }
    return 0;
}

static int split_svm_chunk(split_scan_t *sc, const char *buf, size_t n, uint64_t off) {
    size_t i = 0;
    while (i < n) {
        if (sc->state == ST_ROW_NOT_BEGUN) {
            split_row_begin(sc, i);
            sc->state = ST_FIELD_BEGUN;
        }
        const char *nl = memchr(buf + i, '\n', n - i);
        if (!nl) break;
        i = (size_t)(nl - buf) + 1;
        sc->state = ST_ROW_NOT_BEGUN;
        sc->line++;
        sc->line_start = off + i;
        if (split_row_end(sc, off + i, buf, i) != 0) return -1;
    }
    return 0;
}

int split_file(const char *path, data_format_t format, size_t shard_rows, size_t max_bytes,
               split_t *out, char *err, size_t errlen) {
    return split_file_buffered(path, format, shard_rows, max_bytes, SPLIT_BUF, out, err, errlen);
}

/* Reads the whole file through buf and scans each buffer; *off ends as the
 * file's size. */
static int split_read_all(split_scan_t *sc, int fd, char *buf, size_t bufsize, uint64_t *off) {
    int first = 1;
    for (;;) {
        ssize_t got = read(fd, buf, bufsize);
        if (got < 0) {
            if (errno == EINTR) continue;
            snprintf(sc->err, sc->errlen, "%s: read error: %s", sc->path, strerror(errno));
            return -1;
        }
        if (got == 0) break;
        size_t n = (size_t)got, skip = 0;
        if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            skip = 3; /* the BOM is not part of the first line */
            sc->line_start = 3;
        }
        first = 0;
        if (split_nul(sc, buf + skip, n - skip, *off + skip) != 0) return -1;
        int r = sc->format == DATA_LIBSVM ? split_svm_chunk(sc, buf + skip, n - skip, *off + skip)
                                          : split_csv_chunk(sc, buf + skip, n - skip, *off + skip);
        if (r != 0) return -1;
        *off += n;
    }
    return 0;
}

/* After the last buffer (off = file size): closes the last row and shard and
 * refuses a file with an open quote, no header or no rows. */
static int split_finish(split_scan_t *sc, uint64_t off, const char *buf) {
    split_t *out = sc->out;
    out->bytes = off;
    if (sc->state == ST_FIELD_BEGUN && sc->quoted) {
        snprintf(sc->err, sc->errlen,
                 "%s:%llu: unterminated quote: the quoted field that begins here "
                 "never ends",
                 sc->path, (unsigned long long)sc->quote_line);
        return -1;
    }
    if (sc->state != ST_ROW_NOT_BEGUN) {
        /* Last row without a line end. */
        sc->hdr_from = 0; /* header bytes were saved at the end of the last buffer */
        if (split_row_end(sc, off, buf, 0) != 0) return -1;
    }
    if (out->nshards)
        out->shards[out->nshards - 1].length = off - out->shards[out->nshards - 1].offset;
    if (sc->format == DATA_CSV && !sc->have_header) {
        snprintf(sc->err, sc->errlen,
                 "%s: empty file (a CSV file needs a header row and data rows)", sc->path);
        return -1;
    }
    if (out->rows == 0) {
        if (sc->format == DATA_CSV)
            snprintf(sc->err, sc->errlen, "%s:%llu: header only, no data rows", sc->path,
                     (unsigned long long)sc->row_line);
        else
            snprintf(sc->err, sc->errlen, "%s: empty file", sc->path);
        return -1;
    }
    return 0;
}

int split_file_buffered(const char *path, data_format_t format, size_t shard_rows, size_t max_bytes,
                        size_t bufsize, split_t *out, char *err, size_t errlen) {
    int rc = -1;
    int fd = -1;
    char *buf = NULL;
    memset(out, 0, sizeof *out);
    split_scan_t sc = {.path = path,
                       .format = format,
                       .out = out,
                       .err = err,
                       .errlen = errlen,
                       .line = 1,
                       .state = ST_ROW_NOT_BEGUN};
    sc.shard_rows = shard_rows ? (uint64_t)shard_rows : UINT32_MAX;
    if (sc.shard_rows > UINT32_MAX) sc.shard_rows = UINT32_MAX;
    sc.max_bytes = max_bytes;
    out->format = format;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    if (bufsize < 4) bufsize = 4;
    buf = malloc(bufsize);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    uint64_t off = 0;
    if (split_read_all(&sc, fd, buf, bufsize, &off) != 0) goto out;
    if (split_finish(&sc, off, buf) != 0) goto out;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    free(buf);
    if (rc != 0) split_free(out);
    return rc;
}

int split_refine(split_t *sp, const char *path, data_format_t format, uint64_t pieces,
                 size_t max_bytes, char *err, size_t errlen) {
    if (pieces == 0 || sp->nshards >= pieces || sp->rows < pieces) return 0;
    size_t rows = (size_t)((sp->rows + pieces - 1) / pieces);
    split_free(sp);
    return split_file(path, format, rows, max_bytes, sp, err, errlen) < 0 ? -1 : 1;
}

int split_balance(split_t *sp, const char *path, data_format_t format, uint64_t pieces,
                  size_t max_bytes, char *err, size_t errlen) {
    if (pieces <= 1 || sp->rows < pieces) return 0;
    /* A multiple of pieces, at least as many shards as now. */
    uint64_t want = (sp->nshards + pieces - 1) / pieces * pieces;
    if (want == 0) want = pieces;
    uint64_t rows = (sp->rows + want - 1) / want;
    bool even = sp->nshards == want;
    for (size_t i = 0; even && i < sp->nshards; i++)
        if (sp->shards[i].rows > rows) even = false;
    if (even) return 0;
    split_free(sp);
    return split_file(path, format, (size_t)rows, max_bytes, sp, err, errlen) < 0 ? -1 : 1;
}

long split_shard_of_error(const split_t *sp, const char *file, const char *err) {
    size_t fl = strlen(file);
    if (!sp->nshards || strncmp(err, file, fl) != 0 || err[fl] != ':') return -1;
    const char *p = err + fl + 1;
    uint64_t line = 0;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (line > (UINT64_MAX - 9) / 10) return -1;
        line = line * 10 + (uint64_t)(*p - '0');
    }
    if (*p != ':' || line < sp->shards[0].first_line) return -1;
    /* The last shard that begins at or before the line. */
    size_t lo = 0, hi = sp->nshards;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (sp->shards[mid].first_line <= line)
            lo = mid;
        else
            hi = mid;
    }
    return (long)lo;
}
