/* bigbuf: a growable buffer for big arrays, in a memory mapping of its own.
 *
 * A worker parses each shard into one array of liblinear nodes, tens or
 * hundreds of MB, and keeps it for the whole job. Giving that array its own
 * mapping does three things malloc does not promise: growing it never copies
 * (mremap moves page tables, not bytes), the kernel is asked for transparent
 * huge pages (madvise MADV_HUGEPAGE, which Debian's default "madvise" policy
 * needs), so filling it takes one page fault per 2 MB instead of one per 4 KB,
 * and freeing it hands the memory straight back to the system.
 *
 * A zeroed bigbuf_t is empty and valid. Contents are kept across
 * bigbuf_reserve() and bigbuf_trim(), though the address may change.
 */
#ifndef NC_BIGBUF_H
#define NC_BIGBUF_H

#include <stddef.h>

typedef struct bigbuf {
    void *p;    /* NULL while empty */
    size_t cap; /* bytes mapped */
} bigbuf_t;

/* Makes room for at least need bytes (at least doubling the capacity when it
 * grows). Returns 0, or -1 with errno ENOMEM and the buffer unchanged. */
int bigbuf_reserve(bigbuf_t *b, size_t need);

/* Returns the pages past the first used bytes to the system; the buffer
 * keeps at least one page. Never fails (a refused shrink keeps the pages). */
void bigbuf_trim(bigbuf_t *b, size_t used);

/* Unmaps the buffer and leaves it empty. */
void bigbuf_free(bigbuf_t *b);

#endif
