/* colset: the feature columns a set of rows touches, as a bitmap, and the
 * sorted list of columns a union of such bitmaps holds.
 *
 * Exact training sends a worker only the coordinates of w and s that its
 * shards' rows can touch, and gets back only those coordinates of the
 * gradient and H*s (the others are zero for those rows). Both sides derive
 * the list the same way, from the same bitmaps: bit j of a shard's bitmap
 * is set when some row of the shard has a node with index j + 1 (the bias
 * node included). The master learns each shard's bitmap once, from the
 * worker that parsed it; a request names its list by length and hash, so a
 * worker whose own union differs refuses rather than answering for the
 * wrong coordinates.
 */
#ifndef NC_COLSET_H
#define NC_COLSET_H

#include "common/dataset.h"

#include <stddef.h>
#include <stdint.h>

/* 64-bit words of a bitmap over n columns. */
static inline size_t colset_words(size_t n) {
    return (n + 63) / 64;
}

/* Sets in bits (colset_words(d->n) words, zeroed by the caller or holding
 * earlier rows) the columns d's rows touch; indices outside 1..d->n are
 * ignored. */
void colset_mark(uint64_t *bits, const dataset_t *d);

/* dst |= src over words words. */
void colset_or(uint64_t *dst, const uint64_t *src, size_t words);

/* Columns set in bits (n columns), ascending, into cols (room for n; NULL
 * only counts). Returns how many. */
size_t colset_list(const uint64_t *bits, size_t n, uint32_t *cols);

/* How many columns are set in bits (n columns; bits past n ignored), in
 * n/64 steps: what colset_list() would return, without the list. */
size_t colset_count(const uint64_t *bits, size_t n);

/* The hash a request names its column list by: of the bitmap the list
 * comes from (n columns; the bits past n are ignored), one 64-bit word at
 * a time, so it costs n/64 steps, not m. */
uint64_t colset_hash(const uint64_t *bits, size_t n);

#endif
