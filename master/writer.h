/* writer: an ordered, atomic, resumable output file built from chunks that
 * arrive in any order.
 *
 * A prediction job, and the training job's submission, produce one chunk of
 * text per shard (its output lines), in whatever order workers finish. The writer appends chunk 0,
 * 1, 2, ... to a temporary file beside the target as soon as each is next in line. A chunk that
 * arrives early is kept in memory while the early chunks held total at most mem_budget bytes, and
 * appended to a spool file otherwise, so memory stays bounded whatever the file's size; it is
 * copied from the spool when its turn comes. writer_commit() renames the temporary file over the
 * target once every chunk is in: the target never holds a partial file.
 *
 * Files, for a target DIR/NAME: DIR/.NAME.part (the output so far),
 * DIR/.NAME.spool (early chunks), DIR/.NAME.journal (one line per chunk
 * stored: where it is and the caller's meta text). The journal makes the
 * writer resumable after the process is killed: writer_open() with resume
 * set reads it back when its key matches, truncates the temporary file to the
 * last journalled chunk, and reports the chunks already stored (with their
 * meta) so that only the others are computed again. Chunks that were held in
 * memory when the process died are simply not stored. Nothing here needs
 * fsync except the commit (a killed process loses no written data).
 *
 * Stream mode (writer_open_stream): the target is a stream that must not be
 * replaced (a device, a FIFO, standard output; see master/outputs.h). Chunks
 * go to the caller's descriptor in order as each becomes next in line, the
 * early ones held in memory within mem_budget and the rest in an anonymous
 * spool file in $TMPDIR (or /tmp), unlinked as soon as it is made. There is
 * no temporary output and no journal: bytes that reached a stream cannot be
 * taken back, so a stream is never resumed, and a failed job leaves in the
 * stream what was written before the failure. writer_commit() only checks
 * that every chunk is in; writer_close() never closes the descriptor.
 *
 * Functions that can fail return 0/-1 (or NULL) with a one-line reason in err.
 */
#ifndef NC_WRITER_H
#define NC_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WRITER_MAX_META 65536 /* bytes of one chunk's meta text */

typedef struct writer writer_t;

/* Opens a writer for nchunks chunks (>= 1) of final_path. header (may be
 * NULL) is written before chunk 0. key names the job (one token without
 * spaces: a hash of its inputs and options); with resume, an existing journal
 * with the same key and chunk count is continued, anything else starts
 * afresh. mem_budget bounds the bytes of early chunks held in memory. */
writer_t *writer_open(const char *final_path, uint32_t nchunks, const char *header, const char *key,
                      bool resume, size_t mem_budget, char *err, size_t errlen);

/* Stream mode: writes header (may be NULL) at once, then the chunks in order
 * to fd (borrowed: the caller closes it). name is the stream's name for
 * errors. No key, no resume: writer_resumed() is 0 and writer_meta() NULL. */
writer_t *writer_open_stream(int fd, const char *name, uint32_t nchunks, const char *header,
                             size_t mem_budget, char *err, size_t errlen);

/* Stores chunk idx (copied). meta is a token without whitespace (or NULL),
 * given back by writer_meta() after a resume. Fails on an index out of range,
 * a chunk stored twice, or an I/O error. */
int writer_put(writer_t *w, uint32_t idx, const void *data, size_t len, const char *meta, char *err,
               size_t errlen);

/* True when chunk idx is stored (written, spooled, held, or journalled by an
 * earlier run that this one resumed). */
bool writer_has(const writer_t *w, uint32_t idx);

/* The meta text journalled for chunk idx by an earlier run (borrowed), or
 * NULL when the chunk was not stored by an earlier run. */
const char *writer_meta(const writer_t *w, uint32_t idx);

/* Chunks stored by earlier runs that this one resumed. */
uint32_t writer_resumed(const writer_t *w);

/* Figures for logs and tests. */
typedef struct writer_stats {
    uint32_t written, held, spooled; /* chunks: in the output, in memory, in the spool */
    size_t held_bytes, peak_held_bytes;
    uint64_t spool_bytes; /* bytes ever written to the spool */
    uint64_t out_bytes;   /* bytes of the temporary output so far */
} writer_stats_t;
void writer_get_stats(const writer_t *w, writer_stats_t *out);

/* Checks that every chunk is in, flushes to disk and renames the temporary
 * file to final_path; removes the spool and the journal. On failure nothing
 * is left under final_path by this writer. Stream mode: only the check. */
int writer_commit(writer_t *w, char *err, size_t errlen);

/* Closes and frees the writer (NULL-safe, sets *w NULL). Unless committed:
 * with keep, chunks held in memory are spooled and the temporary files stay
 * for a later resume; without, they are removed. */
void writer_close(writer_t **w, bool keep);

#endif
