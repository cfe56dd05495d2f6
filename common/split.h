/* split: find shard boundaries in a data file without holding the file.
 *
 * The master calls split_file() once per job. It streams the file through a
 * fixed 4 MB buffer and records, for every shard, the byte range and the row
 * and line numbers of its first row; memory is the shard array and the CSV
 * header only, whatever the file size. Row boundaries are those csvread (CSV)
 * and liblinear (libsvm) see:
 *   CSV     records end at an LF outside quotes (a quoted field holding
 *           newlines never splits); CR, space and tab are blanks; blank lines
 *           are not rows and stay with the shard before them, so every shard
 *           begins at the first byte of its first row. A UTF-8 BOM is skipped
 *           and the first record is the header (returned raw, without the BOM
 *           and the line end). Quotes open a field only at its start, as in
 *           libcsv's lenient mode.
 *   libsvm  every line is a row (an empty line is a row liblinear rejects).
 * Quote scanning uses memchr for '"' and '\n' and looks at single bytes only
 * in rows that contain a quote.
 *
 * Errors ("FILE[:LINE[:COL]]: what", exit-3 material): missing or unreadable
 * file, empty file, header only (no data rows), unterminated quote at end of
 * file (names the line where the quoted field began), NUL byte.
 */
#ifndef NC_SPLIT_H
#define NC_SPLIT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DATA_CSV = 0, DATA_LIBSVM = 1 } data_format_t;

typedef struct shard_range {
    uint64_t offset, length; /* bytes in the file */
    uint64_t first_row;      /* 0-based data-row number of its first row */
    uint64_t first_line;     /* 1-based physical file line of its first row */
    uint32_t rows;
} shard_range_t;

typedef struct split {
    data_format_t format;
    char *header; /* raw CSV header record, no line end, NUL-terminated; NULL for libsvm */
    size_t header_len;
    shard_range_t *shards;
    size_t nshards;
    uint64_t rows, bytes; /* data rows; file size */
} split_t;

/* config_format is "auto" | "csv" | "libsvm" (NULL = auto); auto means libsvm
 * for names ending in .svm, .libsvm or .svmlight (any case), else CSV. */
data_format_t split_detect_format(const char *path, const char *config_format);

/* Splits path into shards of shard_rows rows (the last may be smaller; 0 means
 * no row limit). max_bytes > 0 also caps a shard's bytes: a row that would take
 * a non-empty shard past it starts the next shard (a single row longer than
 * max_bytes is a shard of its own). On success *out is filled (free with
 * split_free); on failure *out is empty and err holds one line. */
int split_file(const char *path, data_format_t format, size_t shard_rows, size_t max_bytes,
               split_t *out, char *err, size_t errlen);

/* split_file() with a read buffer of bufsize bytes (tests use tiny buffers to
 * put every state of the scanner across a buffer boundary). */
int split_file_buffered(const char *path, data_format_t format, size_t shard_rows, size_t max_bytes,
                        size_t bufsize, split_t *out, char *err, size_t errlen);

/* Makes sure a split has at least `pieces` shards when the file has that many
 * rows, so that every slot of the cluster gets work (prediction): when it has
 * fewer, the file is split again with ceil(rows / pieces) rows per shard (and
 * the same max_bytes). Returns 1 when it re-split, 0 when sp was fine, -1 with
 * err set (sp is then empty). The header pointer changes when it re-splits. */
int split_refine(split_t *sp, const char *path, data_format_t format, uint64_t pieces,
                 size_t max_bytes, char *err, size_t errlen);

/* Balances a split over `pieces` slots of the cluster, so that the exact
 * strategy, whose rounds wait for the slowest slot, gives each slot the same
 * share of rows: the shard count should be the next multiple of pieces at or
 * above the current count, each shard of at most ceil(rows / count) rows.
 * When it is not so, the file is split again that way (with the same
 * max_bytes, which may still add shards). One piece, or fewer rows than
 * pieces, leave it alone. Returns as split_refine(). */
int split_balance(split_t *sp, const char *path, data_format_t format, uint64_t pieces,
                  size_t max_bytes, char *err, size_t errlen);

/* Frees what split_file() allocated and zeroes *s. Safe on a zeroed split_t. */
void split_free(split_t *s);

/* The shard a data error names: err begins "FILE:LINE" with file exactly as
 * the job named the data, as every reader's message does. Returns the index
 * of the shard holding line LINE, or -1 when err names no line of file. The
 * master uses it to find the shards before a reported error, which must be
 * checked too: the first bad line in the file is the one reported. */
long split_shard_of_error(const split_t *sp, const char *file, const char *err);

#endif
