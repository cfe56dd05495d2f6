/* blob: a reference-counted byte buffer that can be sent without copying.
 *
 * A blob is shared by every task that sends it (the weight vector of a
 * training round goes to every shard) and by ZeroMQ while a message is in
 * flight: blob_send() hands ZeroMQ a reference that its I/O thread releases,
 * hence the atomic count. The creator owns one reference; blob_unref() frees
 * the buffer when the last reference goes.
 */
#ifndef NC_BLOB_H
#define NC_BLOB_H

#include <stddef.h>

typedef struct blob {
    void *data;
    size_t len;
    int refs;   /* atomic */
    void *zmsg; /* a zmq_msg_t the bytes belong to (blob_take_msg), or NULL: malloc'd */
} blob_t;

/* New blob of len bytes (uninitialised) with one reference; NULL on ENOMEM. */
blob_t *blob_new(size_t len);
/* Takes ownership of data (from malloc) as a blob with one reference. */
blob_t *blob_wrap(void *data, size_t len);
/* The bytes of a finished buffer (common/buf.h) as a blob: the buffer's
 * memory is taken over, b is left empty. NULL when b failed or memory ran
 * out, with "out of memory for a WHAT" in err. */
struct buf;
blob_t *blob_from_buf(struct buf *b, const char *what, char *err, size_t errlen);
/* Takes over a received ZeroMQ message (zmq_msg_t *) as a blob with one
 * reference, without copying its bytes: msg is left empty (a message of
 * size 0). NULL on ENOMEM, msg untouched. */
blob_t *blob_take_msg(void *msg);
/* Copies len bytes into a new blob. */
blob_t *blob_copy(const void *data, size_t len);
blob_t *blob_ref(blob_t *b);
/* Releases one reference and sets *b to NULL; frees on the last one. */
void blob_unref(blob_t **b);

/* Sends the blob as one frame without copying (flags as zmq_send). */
int blob_send(blob_t *b, void *sock, int flags);

#endif
