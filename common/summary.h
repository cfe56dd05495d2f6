/* summary: the first pass of fitting a schema (schema.h), one summary per
 * shard, merged on the master.
 *
 * summary_from_shard() scans one shard's rows: per column the count,
 * missing count, min, max, sum and sum of squares of numeric values and the
 * first SCHEMA_VOCAB_CAP distinct texts, each by its first SCHEMA_TEXT_MAX
 * bytes; the labels in first-appearance order with counts. It applies the
 * field rules of schema.h (schema_check_field, schema_check_label), so bad
 * data fails here, in the first pass. The master merges the summaries in
 * shard order (summary_merge): counts, min, max and vocabularies merge
 * exactly, and sums are kept as double-double pairs so that the order of
 * additions does not change the rounded result; merging k shard summaries
 * gives the same schema as one summary of the whole file.
 *
 * Wire format (summary_encode/summary_decode, little-endian, common/buf.h):
 *   "NCS1" u8 format u8[3] 0 | u64 rows | u32 ncols label_col id_col max_index
 *   u32 nlabels, each: u32 len, bytes, u64 count
 *   per column: u64 count missing text | f64 min max sum.hi sum.lo sq.hi sq.lo
 *               | u32 nvocab, each: u32 len, bytes
 * The decoder treats its input as hostile. Ownership: the caller owns every
 * summary returned and frees it with summary_destroy(); strings passed in
 * are borrowed for the call.
 */
#ifndef NC_SUMMARY_H
#define NC_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "common/split.h"

/* The data source a job sends to workers. */
typedef struct datasrc {
    data_format_t format;
    const char *file;   /* name used in messages */
    const char *header; /* CSV header record (split_t.header); ignored for libsvm */
    size_t header_len;
    const char *label; /* column names; id may be NULL or absent from the file */
    const char *id;
} datasrc_t;

typedef struct summary summary_t;

/* Summarises one shard's bytes (whole rows, no header) whose first row is data
 * row first_row on file line first_line. Fails on bad data (unknown label
 * column, field count, quoting, NUL, missing label, the field rules of
 * schema_check_field and schema_check_label, libsvm format errors), naming
 * the first bad field of the shard. */
summary_t *summary_from_shard(const datasrc_t *src, const char *bytes, size_t len,
                              uint64_t first_row, uint64_t first_line, char *err, size_t errlen);
/* Adds from (a later shard) into into. -1 when they describe different files
 * (format, columns) or memory runs out; into is unusable after a failure. */
int summary_merge(summary_t *into, const summary_t *from);
/* Serialises for the wire (little-endian binary); *buf is malloc'd. */
int summary_encode(const summary_t *s, char **buf, size_t *len);
/* Parses an encoded summary from an untrusted peer; validates everything
 * (texts too: valid UTF-8, at most SCHEMA_TEXT_MAX bytes). */
summary_t *summary_decode(const void *buf, size_t len, char *err, size_t errlen);
uint64_t summary_rows(const summary_t *s);
void summary_destroy(summary_t **s);

#endif
