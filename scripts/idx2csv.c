/* idx2csv: converts an IDX image/label pair (MNIST, Fashion-MNIST) into the
 * CSV that NetCompute reads, and optionally into the same rows in libsvm form.
 *
 *   bin/idx2csv --images F --labels F --out F [--libsvm F]
 *               [--offset N] [--limit N] [--id-offset N]
 *
 * Inputs are raw (uncompressed) IDX files: images idx3-ubyte (magic 0x803),
 * labels idx1-ubyte (magic 0x801). No zlib: the caller decompresses, e.g.
 * `--images <(gzip -dc train-images-idx3-ubyte.gz)`; either input may be "-"
 * for standard input, and pipes are read strictly sequentially.
 *
 * CSV: header `id,label,p0,...,p<R*C-1>`, then one row per image, the id being
 * id_offset + 1, id_offset + 2, ... for the rows written, the label as an
 * integer and every pixel as pixel/255 printed with "%.6g" ("0" and "1" at the
 * ends). The libsvm file holds the very same text for every non-zero value
 * (`label idx:val`, index = pixel number + 1), so liblinear-train on it sees
 * exactly the numbers our cluster parses from the CSV with scaling "none".
 *
 * --offset N skips the first N images, --limit N writes at most N rows.
 * Exit status: 0 ok, 1 cannot write an output, 2 bad usage, 3 bad input (the
 * message names the file and what is wrong with it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define MAX_PIXELS (1u << 20) /* a sanity bound on rows*cols per image */

enum { EXIT_USAGE = 2, EXIT_INPUT = 3 };

static const char usage_text[] =
    "usage: idx2csv --images FILE --labels FILE --out FILE [--libsvm FILE]\n"
    "               [--offset N] [--limit N] [--id-offset N]\n"
    "  Converts IDX images (idx3-ubyte) and labels (idx1-ubyte), uncompressed\n"
    "  (pipe .gz files through `gzip -dc`; \"-\" reads standard input), into CSV\n"
    "  id,label,p0..pN with pixels scaled to [0,1], and optionally the same rows\n"
    "  in libsvm form. --out - writes the CSV to standard output.\n";

/* One open IDX input: the stream, its name for messages, and its geometry. */
typedef struct idx_in {
    const char *path;
    FILE *f;
    uint32_t count;      /* items the header announces */
    uint32_t item_bytes; /* bytes per item: rows*cols for images, 1 for labels */
    uint32_t rows, cols; /* image geometry (1 x 1 for labels) */
} idx_in_t;

static int read_be32(FILE *f, uint32_t *v) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* Opens path ("-" = stdin) and checks the header against the expected magic
 * and, for a regular file, the file size against the header. Prints one line
 * and returns -1 on any problem. */
static int idx_open(idx_in_t *in, const char *path, uint32_t magic) {
    memset(in, 0, sizeof *in);
    int is_stdin = strcmp(path, "-") == 0;
    in->path = is_stdin ? "standard input" : path;
    in->f = is_stdin ? stdin : fopen(path, "rb");
    if (!in->f) {
        fprintf(stderr, "idx2csv: %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    uint32_t got;
    if (read_be32(in->f, &got) != 0) {
        fprintf(stderr, "idx2csv: %s: too short for an IDX header\n", in->path);
        return -1;
    }
    if (got != magic) {
        fprintf(stderr,
                "idx2csv: %s: magic number 0x%08" PRIx32 ", expected 0x%08" PRIx32 " (%s)%s\n",
                in->path, got, magic,
                magic == IDX_IMAGES_MAGIC ? "idx3-ubyte images" : "idx1-ubyte labels",
                got >> 16 == 0x1f8b ? "; it is gzip-compressed: pipe it through gzip -dc" : "");
        return -1;
    }
    uint64_t header = 8;
    in->rows = in->cols = 1;
    if (read_be32(in->f, &in->count) != 0) {
        fprintf(stderr, "idx2csv: %s: too short for an IDX header\n", in->path);
        return -1;
    }
    if (magic == IDX_IMAGES_MAGIC) {
        header = 16;
        if (read_be32(in->f, &in->rows) != 0 || read_be32(in->f, &in->cols) != 0) {
            fprintf(stderr, "idx2csv: %s: too short for an idx3 header\n", in->path);
            return -1;
        }
        if (in->rows == 0 || in->cols == 0 || (uint64_t)in->rows * in->cols > MAX_PIXELS) {
            fprintf(stderr, "idx2csv: %s: image size %" PRIu32 "x%" PRIu32 " is out of range\n",
                    in->path, in->rows, in->cols);
            return -1;
        }
    }
    in->item_bytes = in->rows * in->cols;

    struct stat st;
    if (fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode)) {
        uint64_t want = header + (uint64_t)in->count * in->item_bytes;
        if ((uint64_t)st.st_size != want) {
            fprintf(stderr,
                    "idx2csv: %s: file has %lld bytes but its header announces %" PRIu32
                    " items of %" PRIu32 " bytes (%" PRIu64 " bytes)\n",
                    path, (long long)st.st_size, in->count, in->item_bytes, want);
            return -1;
        }
    }
    return 0;
}

/* Reads exactly one item into buf; -1 (with a message) when the input ends early. */
static int idx_read(idx_in_t *in, unsigned char *buf, uint64_t index) {
    if (fread(buf, 1, in->item_bytes, in->f) == in->item_bytes) return 0;
    fprintf(stderr,
            "idx2csv: %s: truncated: item %" PRIu64 " of %" PRIu32 " is missing or incomplete\n",
            in->path, index + 1, in->count);
    return -1;
}

static void idx_close(idx_in_t *in) {
    if (in->f && in->f != stdin) fclose(in->f);
    in->f = NULL;
}

/* Parses a non-negative decimal count; -1 when it is not one. */
static int parse_count(const char *s, uint64_t *v) {
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *v = x;
    return 0;
}

/* The 256 possible pixel texts, "%.6g" of pixel/255, with their lengths. */
static char pix_text[256][16];
static size_t pix_len[256];

static void pix_init(void) {
    for (int p = 0; p < 256; p++) {
        snprintf(pix_text[p], sizeof pix_text[p], "%.6g", p / 255.0);
        pix_len[p] = strlen(pix_text[p]);
    }
}

/* Appends the decimal digits of v to *pp. */
static void put_u64(char **pp, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *(*pp)++ = tmp[--n];
}

static int write_all(FILE *f, const char *path, const char *buf, size_t len) {
    if (fwrite(buf, 1, len, f) == len) return 0;
    fprintf(stderr, "idx2csv: %s: write failed: %s\n", path, strerror(errno));
    return -1;
}

int main(int argc, char **argv) {
    const char *images = NULL, *labels = NULL, *out = NULL, *svm = NULL;
    uint64_t offset = 0, limit = UINT64_MAX, id_offset = 0;
    int rc = EXIT_USAGE;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int bad_number = 0;
        if (!val) {
            fprintf(stderr, "idx2csv: option '%s' needs a value or is unknown; see --help\n", a);
            return EXIT_USAGE;
        }
        if (strcmp(a, "--images") == 0)
            images = val;
        else if (strcmp(a, "--labels") == 0)
            labels = val;
        else if (strcmp(a, "--out") == 0)
            out = val;
        else if (strcmp(a, "--libsvm") == 0)
            svm = val;
        else if (strcmp(a, "--offset") == 0)
            bad_number = parse_count(val, &offset);
        else if (strcmp(a, "--limit") == 0)
            bad_number = parse_count(val, &limit);
        else if (strcmp(a, "--id-offset") == 0)
            bad_number = parse_count(val, &id_offset);
        else {
            fprintf(stderr, "idx2csv: unknown option '%s'; see --help\n", a);
            return EXIT_USAGE;
        }
        if (bad_number) {
            fprintf(stderr, "idx2csv: %s wants a non-negative whole number, not '%s'\n", a, val);
            return EXIT_USAGE;
        }
        i++;
    }
    if (!images || !labels || !out) {
        fprintf(stderr, "idx2csv: --images, --labels and --out are required; see --help\n");
        return EXIT_USAGE;
    }
    if (strcmp(images, "-") == 0 && strcmp(labels, "-") == 0) {
        fprintf(stderr, "idx2csv: only one of --images and --labels can be standard input\n");
        return EXIT_USAGE;
    }

    idx_in_t img = {0}, lab = {0};
    FILE *fcsv = NULL, *fsvm = NULL;
    unsigned char *pixels = NULL;
    char *line = NULL;
    rc = EXIT_INPUT;
    if (idx_open(&img, images, IDX_IMAGES_MAGIC) != 0 ||
        idx_open(&lab, labels, IDX_LABELS_MAGIC) != 0)
        goto out;
    if (img.count != lab.count) {
        fprintf(stderr, "idx2csv: %s: has %" PRIu32 " labels but %s has %" PRIu32 " images\n",
                lab.path, lab.count, img.path, img.count);
        goto out;
    }
    if (offset > img.count) {
        fprintf(stderr, "idx2csv: %s: --offset %" PRIu64 " is past its %" PRIu32 " images\n",
                img.path, offset, img.count);
        rc = EXIT_USAGE;
        goto out;
    }
    uint64_t n = img.count - offset;
    if (limit < n) n = limit;

    rc = 1;
    const size_t npix = img.item_bytes;
    /* widest row: id, label, and per pixel ",0.00392157" or " 784:0.00392157" */
    const size_t line_cap = 64 + npix * (16 + 12);
    pixels = malloc(npix);
    line = malloc(line_cap);
    if (!pixels || !line) {
        fprintf(stderr, "idx2csv: out of memory for %zu-pixel images\n", npix);
        goto out;
    }
    fcsv = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    if (!fcsv) {
        fprintf(stderr, "idx2csv: %s: cannot create: %s\n", out, strerror(errno));
        goto out;
    }
    if (svm && !(fsvm = fopen(svm, "wb"))) {
        fprintf(stderr, "idx2csv: %s: cannot create: %s\n", svm, strerror(errno));
        goto out;
    }
    pix_init();

    char *p = line;
    p += sprintf(p, "id,label");
    for (size_t k = 0; k < npix; k++) {
        *p++ = ',';
        *p++ = 'p';
        put_u64(&p, k);
    }
    *p++ = '\n';
    if (write_all(fcsv, out, line, (size_t)(p - line)) != 0) goto out;

    unsigned char label;
    for (uint64_t i = 0; i < offset; i++) {
        if (idx_read(&img, pixels, i) != 0 || idx_read(&lab, &label, i) != 0) {
            rc = EXIT_INPUT;
            goto out;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        if (idx_read(&img, pixels, offset + i) != 0 || idx_read(&lab, &label, offset + i) != 0) {
            rc = EXIT_INPUT;
            goto out;
        }
        p = line;
        put_u64(&p, id_offset + i + 1);
        *p++ = ',';
        put_u64(&p, label);
        for (size_t k = 0; k < npix; k++) {
            *p++ = ',';
            memcpy(p, pix_text[pixels[k]], pix_len[pixels[k]]);
            p += pix_len[pixels[k]];
        }
        *p++ = '\n';
        if (write_all(fcsv, out, line, (size_t)(p - line)) != 0) goto out;
        if (fsvm) {
            p = line;
            put_u64(&p, label);
            for (size_t k = 0; k < npix; k++) {
                if (!pixels[k]) continue;
                *p++ = ' ';
                put_u64(&p, k + 1);
                *p++ = ':';
                memcpy(p, pix_text[pixels[k]], pix_len[pixels[k]]);
                p += pix_len[pixels[k]];
            }
            *p++ = '\n';
            if (write_all(fsvm, svm, line, (size_t)(p - line)) != 0) goto out;
        }
    }
    /* A pipe read to the end must end where the header says; a regular file
     * was already checked by size. */
    if (offset + n == img.count) {
        if (fgetc(img.f) != EOF) {
            fprintf(stderr,
                    "idx2csv: %s: data continues past the %" PRIu32
                    " images its header announces\n",
                    img.path, img.count);
            rc = EXIT_INPUT;
            goto out;
        }
        if (fgetc(lab.f) != EOF) {
            fprintf(stderr,
                    "idx2csv: %s: data continues past the %" PRIu32
                    " labels its header announces\n",
                    lab.path, lab.count);
            rc = EXIT_INPUT;
            goto out;
        }
    }
    rc = 0;
out:
    if (fcsv && fcsv != stdout && fclose(fcsv) != 0 && rc == 0) {
        fprintf(stderr, "idx2csv: %s: write failed: %s\n", out, strerror(errno));
        rc = 1;
    } else if (fcsv == stdout && fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "idx2csv: standard output: write failed: %s\n", strerror(errno));
        rc = 1;
    }
    if (fsvm && fclose(fsvm) != 0 && rc == 0) {
        fprintf(stderr, "idx2csv: %s: write failed: %s\n", svm, strerror(errno));
        rc = 1;
    }
    idx_close(&img);
    idx_close(&lab);
    free(pixels);
    free(line);
    return rc;
}
