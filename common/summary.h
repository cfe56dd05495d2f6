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
 * Free-text columns (datasrc_t.text): every non-missing value is cut into
 * terms (common/text.h) and each term counts once per row it occurs in (its
 * document frequency, df). The counts are exact: a shard's table holds each
 * distinct term of the shard once, so it is bounded by the shard's bytes
 * (cluster.shard_mb), and the merge adds them, so the merged table is the
 * same whatever the shard layout. With detection on (datasrc_t.detect), a
 * column keeps a sample of its first SUMMARY_SAMPLE text values (in file
 * order; merging keeps the first of the concatenation), each as a 64-bit
 * hash of the value whose low bit says "3 words or more".
 *
 * Wire format (summary_encode/summary_decode, little-endian, common/buf.h):
 *   "NCS3" u8 format u8[3] 0 | u64 rows | u32 ncols label_col id_col max_index
 *   u32 nlabels, each: u32 len, bytes, u64 count
 *   per column: u64 count missing text | f64 min max sum.hi sum.lo sq.hi sq.lo
 *               | u32 nvocab, each: u32 len, bytes
 *               | u32 nsample, each: u64
 *               | u8 words (0 no, 1 free text without counts, 2 with counts)
 *               | when 2: u32 nterms, each: varint len, bytes, varint df
 * (a varint: 7 bits a byte, lowest first, the high bit set on all but the
 * last byte; at most 10 bytes).
 * The decoder treats its input as hostile. A decoded summary keeps its term
 * lists as they came (about 10 bytes a term, checked) and builds a term
 * table only when another summary is merged into it, so the master can
 * hold every shard's summary of a round at once. Ownership: the caller owns every
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
    /* Free-text columns (CSV): the names in data.text, each ended by '\n'
     * (NULL or "" for none). A summary counts their terms' document
     * frequencies when count_terms (not with the hashing trick). detect:
     * also sample every other column's text values for the detection of
     * free text (schema_free_text). ngram: 1 or 2 (0 reads as 1). */
    const char *text;
    int detect, count_terms, ngram;
} datasrc_t;

typedef struct summary summary_t;

#define SUMMARY_SAMPLE 1000 /* text values per column sampled for detection */

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
/* Detection sample of column col: values sampled, how many distinct, how
 * many of 3 words or more. */
void summary_sample(const summary_t *s, size_t col, uint32_t *sampled, uint32_t *distinct,
                    uint32_t *long_values);
void summary_destroy(summary_t **s);

#endif
